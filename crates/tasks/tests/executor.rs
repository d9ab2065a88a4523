//! The executor over a real database with a scripted runner: assignment by tags,
//! waiting with a reason, two executors (two pools, as two processes) running 300
//! tasks exactly once each, lease takeover after a crash, cancellation, retries with
//! backoff, guard stops, and concurrency limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{FakeRunner, eventually, fast_executor};
use spgw_core::time::now_ms;
use spgw_store::Db;
use spgw_tasks::{Executor, NewTask, TaskStatus, runs, service};
use tokio_util::sync::CancellationToken;

struct Running {
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.stop.cancel();
        self.handle.await.unwrap();
    }
}

fn start(db: &Db, runner: &FakeRunner, name: &str, dir: &std::path::Path) -> Running {
    let ex = Executor::new(db.clone(), name, Arc::new(runner.clone()), fast_executor(dir));
    let stop = CancellationToken::new();
    let handle = tokio::spawn(ex.run(stop.clone()));
    Running { stop, handle }
}

async fn task(db: &Db, project: i64, title: &str, tags: &[&str]) -> i64 {
    let t = NewTask {
        project_id: project,
        title: title.into(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        ..NewTask::default()
    };
    service::create(db, t).await.unwrap().id
}

async fn status(db: &Db, id: i64) -> TaskStatus {
    service::get(db, id).await.unwrap().status
}

async fn assigns_by_tags_and_waits_with_a_reason(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let writer = common::agent(&t.db, p, "writer", &["docs", "blog"], 2).await;
    let coder = common::agent(&t.db, p, "coder", &["code"], 2).await;
    let docs = task(&t.db, p, "write docs", &["docs"]).await;
    let code = task(&t.db, p, "fix bug", &["CODE"]).await;
    let sales = task(&t.db, p, "sell", &["sales"]).await;
    let runner = FakeRunner::default();
    let ex = start(&t.db, &runner, "node-a", std::env::temp_dir().as_path());
    eventually(10, "docs and code tasks complete", || async {
        status(&t.db, docs).await == TaskStatus::Completed && status(&t.db, code).await == TaskStatus::Completed
    })
    .await;
    assert_eq!(service::get(&t.db, docs).await.unwrap().agent_id, Some(writer));
    assert_eq!(service::get(&t.db, code).await.unwrap().agent_id, Some(coder));
    let out = service::get(&t.db, docs).await.unwrap();
    assert_eq!(out.output.as_deref(), Some(format!("done: write docs by agent {writer}").as_str()));
    assert_eq!((out.tokens_used, out.attempts), (10, 1));
    let waiting = service::get(&t.db, sales).await.unwrap();
    assert_eq!(waiting.status, TaskStatus::Pending);
    assert!(waiting.status_reason.as_deref().unwrap().contains("[sales]"), "{:?}", waiting.status_reason);
    // An agent with the tag appears: the waiting task runs.
    let seller = common::agent(&t.db, p, "seller", &["sales"], 1).await;
    eventually(10, "the sales task completes", || async { status(&t.db, sales).await == TaskStatus::Completed }).await;
    assert_eq!(service::get(&t.db, sales).await.unwrap().agent_id, Some(seller));
    let history = runs::list(&t.db, docs, 10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].status.as_str(), history[0].worker.as_str()), ("completed", "node-a"));
    ex.stop().await;
}
both_backends!(assigns_by_tags_and_waits_with_a_reason, assigns_by_tags_and_waits_with_a_reason);

async fn two_executors_run_300_tasks_once_each(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    t.db.execute("UPDATE projects SET max_concurrent_tasks = 12 WHERE id = ?", &[p.into()]).await.unwrap();
    for i in 0..3 {
        common::agent(&t.db, p, &format!("a{i}"), &["batch"], 4).await;
    }
    let mut ids = Vec::new();
    for i in 0..300 {
        let title = if i % 10 == 0 { "sleep:20".to_string() } else { format!("job {i}") };
        ids.push(task(&t.db, p, &title, &["batch"]).await);
    }
    let runner = FakeRunner::default();
    let second = t.second_pool().await;
    let dir = std::env::temp_dir();
    let (a, b) = (start(&t.db, &runner, "node-a", &dir), start(&second, &runner, "node-b", &dir));
    eventually(120, "300 tasks complete", || async {
        let done =
            t.db.fetch_optional("SELECT COUNT(*) AS n FROM tasks WHERE status = 'completed'", &[])
                .await
                .unwrap()
                .and_then(|r| r.i64("n"));
        done == Some(300)
    })
    .await;
    a.stop().await;
    b.stop().await;
    for id in &ids {
        assert_eq!(runner.runs_of(*id), 1, "task {id} ran exactly once");
    }
    assert_eq!(runner.total_runs(), 300);
    let rows = t.db.fetch_all("SELECT worker, COUNT(*) AS n FROM task_runs GROUP BY worker", &[]).await.unwrap();
    let total: i64 = rows.iter().map(|r| r.i64("n").unwrap()).sum();
    assert_eq!(total, 300, "one run row per task");
    assert!(runner.max_running.load(Ordering::SeqCst) <= 12, "the project limit held across both executors");
}
both_backends!(two_executors_run_300_tasks_once_each, two_executors_run_300_tasks_once_each);

async fn expired_lease_is_taken_over(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let a = common::agent(&t.db, p, "a", &[], 1).await;
    let id = task(&t.db, p, "survivor", &[]).await;
    // A process claimed it and died: running, attempt 1, lease expired a moment ago.
    let past = now_ms() - 1_000;
    t.db.execute(
        "UPDATE tasks SET status = 'running', agent_id = ?, lease_owner = 'dead-node', lease_expires_at = ?, \
         attempts = 1, started_at = ? WHERE id = ?",
        &[a.into(), past.into(), (past - 60_000).into(), id.into()],
    )
    .await
    .unwrap();
    t.db.execute(
        "INSERT INTO task_runs (task_id, attempt, agent_id, worker, status, started_at) VALUES (?, 1, ?, 'dead-node', 'running', ?)",
        &[id.into(), a.into(), (past - 60_000).into()],
    )
    .await
    .unwrap();
    let runner = FakeRunner::default();
    let ex = start(&t.db, &runner, "node-b", std::env::temp_dir().as_path());
    eventually(10, "the task is taken over and completes", || async {
        status(&t.db, id).await == TaskStatus::Completed
    })
    .await;
    ex.stop().await;
    assert_eq!(runner.runs_of(id), 1);
    let history = runs::list(&t.db, id, 10).await.unwrap();
    let statuses: Vec<(&str, i64, &str)> =
        history.iter().map(|r| (r.status.as_str(), r.attempt, r.worker.as_str())).collect();
    assert_eq!(statuses, vec![("completed", 2, "node-b"), ("lost", 1, "dead-node")]);
}
both_backends!(expired_lease_is_taken_over, expired_lease_is_taken_over);

async fn a_live_lease_is_not_taken(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let a = common::agent(&t.db, p, "a", &[], 1).await;
    let id = task(&t.db, p, "held", &[]).await;
    t.db.execute(
        "UPDATE tasks SET status = 'running', agent_id = ?, lease_owner = 'busy-node', lease_expires_at = ?, attempts = 1 WHERE id = ?",
        &[a.into(), (now_ms() + 60_000).into(), id.into()],
    )
    .await
    .unwrap();
    let runner = FakeRunner::default();
    let ex = start(&t.db, &runner, "node-b", std::env::temp_dir().as_path());
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    ex.stop().await;
    assert_eq!(runner.runs_of(id), 0, "a task under a live lease is left alone");
    assert_eq!(status(&t.db, id).await, TaskStatus::Running);
}
both_backends!(a_live_lease_is_not_taken, a_live_lease_is_not_taken);

async fn cancelling_stops_a_running_task(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    common::agent(&t.db, p, "a", &[], 1).await;
    let id = task(&t.db, p, "wait for cancel", &[]).await;
    let child = service::spawn(&t.db, id, NewTask { title: "child".into(), ..NewTask::default() }).await.unwrap();
    let runner = FakeRunner::default();
    let ex = start(&t.db, &runner, "node-a", std::env::temp_dir().as_path());
    eventually(10, "the task runs", || async { status(&t.db, id).await == TaskStatus::Running }).await;
    let cancelled = service::cancel(&t.db, id).await.unwrap();
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert!(cancelled.deleted_at.is_some(), "soft delete");
    eventually(5, "the runner saw the cancellation", || async { runner.seen.lock().unwrap().cancelled.contains(&id) })
        .await;
    eventually(5, "the run is recorded as cancelled", || async {
        runs::list(&t.db, id, 5).await.unwrap().first().is_some_and(|r| r.status == "cancelled")
    })
    .await;
    ex.stop().await;
    assert_eq!(status(&t.db, id).await, TaskStatus::Cancelled);
    assert_eq!(status(&t.db, child.id).await, TaskStatus::Cancelled, "unfinished children go with it");
    assert_eq!(service::get(&t.db, id).await.unwrap().tokens_used, 10, "the spend of the stopped run counts");
}
both_backends!(cancelling_stops_a_running_task, cancelling_stops_a_running_task);

async fn retries_with_backoff_then_fails(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    common::agent(&t.db, p, "a", &[], 2).await;
    let flaky = task(&t.db, p, "fail-once", &[]).await;
    let broken = service::create(
        &t.db,
        NewTask { project_id: p, title: "fail always".into(), max_attempts: Some(2), ..NewTask::default() },
    )
    .await
    .unwrap()
    .id;
    let guarded = task(&t.db, p, "block me", &[]).await;
    let runner = FakeRunner::default();
    let ex = start(&t.db, &runner, "node-a", std::env::temp_dir().as_path());
    eventually(15, "all three end", || async {
        status(&t.db, flaky).await == TaskStatus::Completed
            && status(&t.db, broken).await == TaskStatus::Failed
            && status(&t.db, guarded).await == TaskStatus::Failed
    })
    .await;
    ex.stop().await;
    assert_eq!(runner.runs_of(flaky), 2);
    let f = service::get(&t.db, flaky).await.unwrap();
    assert_eq!((f.attempts, f.output.as_deref()), (2, Some("second time lucky")));
    let history = runs::list(&t.db, flaky, 10).await.unwrap();
    assert_eq!(history.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(), vec!["completed", "failed"]);
    // The retry waited for its backoff after the first failure.
    let first_end = spgw_core::time::parse_rfc3339(history[1].finished_at.as_deref().unwrap()).unwrap();
    let second_start = spgw_core::time::parse_rfc3339(&history[0].started_at).unwrap();
    assert!(second_start - first_end >= 70, "backoff of ~100 ms, got {} ms", second_start - first_end);
    assert_eq!(runner.runs_of(broken), 2, "max_attempts = 2");
    assert_eq!(service::get(&t.db, broken).await.unwrap().error.as_deref(), Some("upstream 503"));
    assert_eq!(runner.runs_of(guarded), 1, "a guard stop is not retried");
    let g = service::get(&t.db, guarded).await.unwrap();
    assert!(g.status_reason.as_deref().unwrap().contains("max_tool_calls"), "{:?}", g.status_reason);
}
both_backends!(retries_with_backoff_then_fails, retries_with_backoff_then_fails);

async fn concurrency_limits_hold(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let q = common::project(&t.db, "q").await;
    common::agent(&t.db, p, "a", &["x"], 2).await;
    common::agent(&t.db, q, "b", &["x"], 5).await;
    t.db.execute("UPDATE projects SET max_concurrent_tasks = 1 WHERE id = ?", &[q.into()]).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(task(&t.db, p, "sleep:150", &["x"]).await);
    }
    let runner = FakeRunner::default();
    let ex = start(&t.db, &runner, "node-a", std::env::temp_dir().as_path());
    eventually(15, "p's tasks complete", || async {
        let mut all = true;
        for id in &ids {
            all &= status(&t.db, *id).await == TaskStatus::Completed;
        }
        all
    })
    .await;
    assert_eq!(runner.max_running.load(Ordering::SeqCst), 2, "agent a runs at most 2 at once");
    let runner_q = FakeRunner::default();
    ex.stop().await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(task(&t.db, q, "sleep:100", &["x"]).await);
    }
    let ex = start(&t.db, &runner_q, "node-a", std::env::temp_dir().as_path());
    eventually(15, "q's tasks complete", || async {
        let mut all = true;
        for id in &ids {
            all &= status(&t.db, *id).await == TaskStatus::Completed;
        }
        all
    })
    .await;
    ex.stop().await;
    assert_eq!(runner_q.max_running.load(Ordering::SeqCst), 1, "project q runs one task at a time");
}
both_backends!(concurrency_limits_hold, concurrency_limits_hold);

async fn shutdown_releases_unfinished_runs(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    common::agent(&t.db, p, "a", &[], 1).await;
    let id = task(&t.db, p, "wait forever", &[]).await;
    let runner = FakeRunner::default();
    let ex = start(&t.db, &runner, "node-a", std::env::temp_dir().as_path());
    eventually(10, "the task runs", || async { status(&t.db, id).await == TaskStatus::Running }).await;
    ex.stop().await; // grace 2 s, then release
    let after = service::get(&t.db, id).await.unwrap();
    assert_eq!(after.status, TaskStatus::Pending, "handed back to the queue");
    assert!(after.status_reason.as_deref().unwrap().contains("released"));
    assert_eq!(runs::list(&t.db, id, 5).await.unwrap()[0].status, "released");
    let other = FakeRunner::default();
    let ex = start(&t.db, &other, "node-b", std::env::temp_dir().as_path());
    eventually(10, "another node picks it up", || async { other.runs_of(id) == 1 }).await;
    service::cancel(&t.db, id).await.unwrap();
    ex.stop().await;
}
both_backends!(shutdown_releases_unfinished_runs, shutdown_releases_unfinished_runs);
