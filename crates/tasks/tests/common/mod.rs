//! Test support: a fresh database (SQLite file or MariaDB database) per test, seed
//! rows, and a scripted fake [`AgentRunner`] that counts runs.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::json;
use spgw_store::{Db, DbOptions};
use spgw_tasks::{AgentRunner, RunStatus, TaskJob, TaskOutcome};

/// Which database a test uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    MySql,
}

/// A fresh database, removed on drop.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    dir: Option<std::path::PathBuf>,
    mysql: Option<(String, String)>,
    pub db: Db,
}

fn opts(url: &str) -> DbOptions {
    DbOptions { url: url.to_string(), max_open: 16, max_idle: 1, connect_timeout: Duration::from_secs(10) }
}

fn mysql_server() -> String {
    match std::env::var("SPGW_TEST_MYSQL_URL") {
        Ok(u) => u,
        Err(_) if std::env::var("CI").is_ok() => panic!("CI is set but SPGW_TEST_MYSQL_URL is not"),
        Err(_) => "mysql://root@127.0.0.1:3306".to_string(),
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let tag = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("spgw-tasks-{tag}"));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}/t.db", dir.display());
                let db = Db::connect(&opts(&url)).await.unwrap();
                db.migrate().await.unwrap();
                TestDb { backend, url, dir: Some(dir), mysql: None, db }
            }
            Backend::MySql => {
                let server = mysql_server();
                let name = format!("spgw_tt_{tag}");
                let admin = Db::connect(&opts(&server)).await.expect("MariaDB reachable (SPGW_TEST_MYSQL_URL)");
                admin
                    .execute(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"), &[])
                    .await
                    .unwrap();
                admin.close().await;
                let url = format!("{}/{name}", server.trim_end_matches('/'));
                let db = Db::connect(&opts(&url)).await.unwrap();
                db.migrate().await.unwrap();
                TestDb { backend, url, dir: None, mysql: Some((server, name)), db }
            }
        }
    }

    /// Another pool on the same database: a second gateway process, as far as the database can tell.
    pub async fn second_pool(&self) -> Db {
        Db::connect(&opts(&self.url)).await.unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((server, name)) = self.mysql.take() {
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(db) = Db::connect(&opts(&server)).await {
                        let _ = db.execute(&format!("DROP DATABASE IF EXISTS {name}"), &[]).await;
                    }
                });
            })
            .join()
            .unwrap();
        }
    }
}

/// Runs the test body once per backend.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $body(common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn mysql() {
                $body(common::Backend::MySql).await;
            }
        }
    };
}

/// Inserts a user and a project; returns the project id.
pub async fn project(db: &Db, name: &str) -> i64 {
    let now = spgw_core::time::now_ms();
    let uid = spgw_store::repo::table::insert(
        db,
        "users",
        &[
            ("username", format!("u-{name}").into()),
            ("password_hash", "x".into()),
            ("role", "user".into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await
    .unwrap();
    spgw_store::repo::table::insert(
        db,
        "projects",
        &[("user_id", uid.into()), ("name", name.into()), ("created_at", now.into()), ("updated_at", now.into())],
    )
    .await
    .unwrap()
}

/// Inserts an enabled agent with job tags and a concurrency limit; returns its id.
pub async fn agent(db: &Db, project_id: i64, name: &str, tags: &[&str], max_concurrent: i64) -> i64 {
    let now = spgw_core::time::now_ms();
    spgw_store::repo::table::insert(
        db,
        "agents",
        &[
            ("project_id", project_id.into()),
            ("name", name.into()),
            ("job_tags", json!(tags).to_string().into()),
            ("max_concurrent_tasks", max_concurrent.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await
    .unwrap()
}

/// What the fake runner saw.
#[derive(Default)]
pub struct Seen {
    /// Runs per task id.
    pub runs: HashMap<i64, u32>,
    /// (task id, agent id, attempt) in start order.
    pub starts: Vec<(i64, i64, u32)>,
    pub cancelled: Vec<i64>,
}

/// A scripted runner. The task title picks the behaviour: `sleep:<ms>`, `fail`,
/// `fail-once`, `block`, `wait` (until cancelled); anything else completes at once.
#[derive(Clone, Default)]
pub struct FakeRunner {
    pub seen: Arc<Mutex<Seen>>,
    running: Arc<AtomicUsize>,
    pub max_running: Arc<AtomicUsize>,
}

impl FakeRunner {
    pub fn runs_of(&self, task_id: i64) -> u32 {
        self.seen.lock().unwrap().runs.get(&task_id).copied().unwrap_or(0)
    }

    pub fn total_runs(&self) -> u32 {
        self.seen.lock().unwrap().runs.values().sum()
    }
}

fn outcome(status: RunStatus, output: &str, error: Option<&str>) -> TaskOutcome {
    TaskOutcome {
        status,
        output: output.to_string(),
        error: error.map(str::to_owned),
        tokens: 10,
        cost_usd: 0.001,
        session_id: None,
    }
}

impl AgentRunner for FakeRunner {
    fn run(&self, job: TaskJob) -> BoxFuture<'static, TaskOutcome> {
        let me = self.clone();
        Box::pin(async move {
            {
                let mut s = me.seen.lock().unwrap();
                *s.runs.entry(job.task_id).or_default() += 1;
                s.starts.push((job.task_id, job.agent_id, job.attempt));
            }
            let now = me.running.fetch_add(1, Ordering::SeqCst) + 1;
            me.max_running.fetch_max(now, Ordering::SeqCst);
            let title = job.title.clone();
            let out = if let Some(ms) = title.strip_prefix("sleep:") {
                let ms: u64 = ms.split_whitespace().next().unwrap_or("0").parse().unwrap_or(0);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => outcome(RunStatus::Completed, &format!("slept {ms}"), None),
                    _ = job.cancel.cancelled() => outcome(RunStatus::Cancelled, "", Some("cancelled")),
                }
            } else if title.starts_with("wait") {
                job.cancel.cancelled().await;
                me.seen.lock().unwrap().cancelled.push(job.task_id);
                outcome(RunStatus::Cancelled, "partial", Some("cancelled"))
            } else if title.starts_with("fail-once") && job.attempt == 1 {
                outcome(RunStatus::Failed, "", Some("upstream 503"))
            } else if title.starts_with("fail-once") {
                outcome(RunStatus::Completed, "second time lucky", None)
            } else if title.starts_with("fail") {
                outcome(RunStatus::Failed, "", Some("upstream 503"))
            } else if title.starts_with("block") {
                outcome(RunStatus::Blocked, "loop", Some("max_tool_calls reached"))
            } else {
                outcome(RunStatus::Completed, &format!("done: {title} by agent {}", job.agent_id), None)
            };
            me.running.fetch_sub(1, Ordering::SeqCst);
            out
        })
    }
}

/// Executor options for tests: fast polling, a short lease.
pub fn fast_executor(data_dir: &std::path::Path) -> spgw_tasks::ExecutorOptions {
    spgw_tasks::ExecutorOptions {
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(3),
        heartbeat: Duration::from_millis(500),
        watch: Duration::from_millis(50),
        max_parallel: 32,
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_secs(1),
        data_dir: data_dir.to_path_buf(),
        grace: Duration::from_secs(2),
        stop_timeout: Duration::from_secs(2),
        ..Default::default()
    }
}

/// Waits until `check` holds (polling), or panics after `secs`.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}
