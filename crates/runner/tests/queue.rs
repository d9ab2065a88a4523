//! The queue's invariants without SSH, on SQLite: concurrent claims take each
//! run once, tags restrict who claims, an expired lease re-queues once and then
//! fails, a stale runner's writes are refused, and log appends are idempotent
//! and capped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use spgw_core::MasterKey;
use spgw_runner::{NewRun, Outcome, RunStatus, RunnerError, Runs};
use spgw_store::repo::settings::Settings;
use spgw_store::{Db, DbOptions};

struct Env {
    runs: Runs,
    db: Db,
    codebase: spgw_runner::Codebase,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn env() -> Env {
    let dir = std::env::temp_dir().join(format!("spgw-queue-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/q.db", dir.display());
    let db = Db::connect(&DbOptions { url, max_open: 8, max_idle: 8, connect_timeout: Duration::from_secs(5) })
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let key = MasterKey::parse(&MasterKey::generate_text()).unwrap();
    let now = spgw_core::time::now_ms();
    db.execute(
        "INSERT INTO users (username, password_hash, role, created_at, updated_at) VALUES ('u', 'x', 'admin', ?, ?)",
        &[now.into(), now.into()],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO projects (user_id, name, created_at, updated_at) VALUES (1, 'p', ?, ?)",
        &[now.into(), now.into()],
    )
    .await
    .unwrap();
    let rc = json!({"runner": {"host": "127.0.0.1", "port": 1, "ssh_user": "u", "workspace_root": "/w"},
                    "commands": {"test": "sh test.sh"}});
    db.execute(
        "INSERT INTO codebases (project_id, name, enabled, runtime_config, created_at, updated_at) VALUES (1, 'c', 1, ?, ?, ?)",
        &[rc.to_string().into(), now.into(), now.into()],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO credentials (project_id, name, credential_type, secret_enc, secret_hint, created_at, updated_at) \
         VALUES (1, 'k', 'ssh_key', ?, '***', ?, ?)",
        &[key.encrypt("not really a key").into(), now.into(), now.into()],
    )
    .await
    .unwrap();
    let runs = Runs::new(db.clone(), key, Settings::with_max_age(db.clone(), Duration::ZERO));
    let codebase = runs.codebase(1).await.unwrap().unwrap();
    Env { runs, db, codebase, _dir: TempDir(dir) }
}

fn test_run(tags: &[&str]) -> NewRun {
    NewRun {
        kind: "test".into(),
        assigned_tags: Some(tags.iter().map(|t| t.to_string()).collect()),
        ..Default::default()
    }
}

async fn set(db: &Db, key: &str, value: i64) {
    db.execute(
        "INSERT INTO gateway_config (config_key, value, created_at, updated_at) VALUES (?, ?, 0, 0)",
        &[key.into(), value.to_string().into()],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_take_each_run_once() {
    let e = env().await;
    for _ in 0..5 {
        e.runs.queue(&e.codebase, &test_run(&[]), None).await.unwrap();
    }
    let mut claims = Vec::new();
    for i in 0..12 {
        let runs = e.runs.clone();
        claims.push(tokio::spawn(async move { runs.claim(&format!("r{i}"), &[]).await.unwrap().map(|j| j.run_id) }));
    }
    let mut won: Vec<i64> = Vec::new();
    for c in claims {
        won.extend(c.await.unwrap());
    }
    won.sort();
    assert_eq!(won, vec![1, 2, 3, 4, 5], "every run claimed exactly once");
    let job = e.runs.claim("late", &[]).await.unwrap();
    assert!(job.is_none());
}

#[tokio::test]
async fn tags_restrict_claims_and_jobs_carry_what_ssh_needs() {
    let e = env().await;
    let run = e.runs.queue(&e.codebase, &test_run(&["gpu"]), Some(1)).await.unwrap();
    assert_eq!(run.command, "sh test.sh");
    assert!(e.runs.claim("cpu-box", &["linux".into()]).await.unwrap().is_none());
    let job = e.runs.claim("gpu-box", &["gpu".into(), "linux".into()]).await.unwrap().unwrap();
    assert_eq!((job.run_id, job.attempt, job.workspace.as_str()), (run.id, 1, "/w/codebase-1"));
    assert_eq!(job.ssh.private_key, "not really a key");
    assert!(!format!("{job:?}").contains("not really a key"), "the key never prints");
    let run = e.runs.run(run.id).await.unwrap().unwrap();
    assert_eq!((run.status, run.runner_id.as_deref()), (RunStatus::Running, Some("gpu-box")));
}

#[tokio::test]
async fn an_expired_lease_requeues_once_then_fails() {
    let e = env().await;
    let run = e.runs.queue(&e.codebase, &test_run(&[]), None).await.unwrap();
    let expire = || async {
        e.db.execute("UPDATE codebase_runs SET lease_expires_at = 1 WHERE id = ?", &[run.id.into()]).await.unwrap();
        e.runs.recover_expired().await.unwrap()
    };
    e.runs.claim("a", &[]).await.unwrap().unwrap();
    assert_eq!(expire().await, 1);
    let r = e.runs.run(run.id).await.unwrap().unwrap();
    assert_eq!((r.status, r.attempts), (RunStatus::Queued, 1));
    assert!(r.error.unwrap().contains("runner a lost its lease"));
    // The stale runner's writes are refused from now on.
    assert!(matches!(e.runs.heartbeat(run.id, "a").await, Err(RunnerError::LeaseLost(_))));
    assert!(matches!(e.runs.append_log(run.id, "a", 99, "late").await, Err(RunnerError::LeaseLost(_))));
    let done = Outcome { status: RunStatus::Succeeded, exit_code: Some(0), error: None };
    assert!(matches!(e.runs.finish(run.id, "a", &done).await, Err(RunnerError::LeaseLost(_))));

    let job = e.runs.claim("b", &[]).await.unwrap().unwrap();
    assert_eq!(job.attempt, 2);
    assert_eq!(expire().await, 1);
    let r = e.runs.run(run.id).await.unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Failed, "no attempts left");
    assert!(r.error.unwrap().contains("runner b lost its lease (no heartbeat) on attempt 2"));
    let log = e.runs.read_log(run.id).await.unwrap();
    assert!(log.contains("queued again (attempt 2 of 2 next)") && log.contains("no attempts left"), "{log}");
}

#[tokio::test]
async fn a_pending_cancel_with_a_dead_runner_ends_cancelled() {
    let e = env().await;
    let run = e.runs.queue(&e.codebase, &test_run(&[]), None).await.unwrap();
    e.runs.claim("a", &[]).await.unwrap().unwrap();
    let r = e.runs.cancel(run.id).await.unwrap();
    assert!(r.cancel_requested && r.status == RunStatus::Running);
    assert!(e.runs.heartbeat(run.id, "a").await.unwrap().cancel_requested);
    e.db.execute("UPDATE codebase_runs SET lease_expires_at = 1 WHERE id = ?", &[run.id.into()]).await.unwrap();
    e.runs.recover_expired().await.unwrap();
    assert_eq!(e.runs.run(run.id).await.unwrap().unwrap().status, RunStatus::Cancelled);
}

#[tokio::test]
async fn log_appends_are_idempotent_ordered_and_capped() {
    let e = env().await;
    set(&e.db, "runner.max_log_bytes", 1024).await;
    let run = e.runs.queue(&e.codebase, &test_run(&[]), None).await.unwrap();
    let job = e.runs.claim("a", &[]).await.unwrap().unwrap();
    let s = job.next_seq;
    assert!(!e.runs.append_log(run.id, "a", s, "one\n").await.unwrap().truncated);
    assert!(!e.runs.append_log(run.id, "a", s, "one\n").await.unwrap().truncated, "a retried append");
    assert!(!e.runs.append_log(run.id, "a", s + 1, "two\n").await.unwrap().truncated);
    let log = e.runs.read_log(run.id).await.unwrap();
    assert!(log.ends_with("one\ntwo\n"), "{log}");
    assert_eq!(log.matches("one").count(), 1);
    let big = "é".repeat(600); // 1200 bytes
    assert!(e.runs.append_log(run.id, "a", s + 2, &big).await.unwrap().truncated);
    assert!(e.runs.append_log(run.id, "a", s + 3, "more").await.unwrap().truncated);
    let r = e.runs.run(run.id).await.unwrap().unwrap();
    assert!(r.log_truncated && r.log_bytes <= 1024, "{r:?}");
    let log = e.runs.read_log(run.id).await.unwrap();
    assert_eq!(log.matches("log truncated").count(), 1);
    assert!(!log.contains("more"));
}
