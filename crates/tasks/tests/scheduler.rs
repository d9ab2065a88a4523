//! The scheduler over a real database: one-time, interval and cron schedules, the
//! ledger refusing a second firing of a slot, missed-run policies, overlap, `when`
//! conditions, and two schedulers (two pools) racing for the same slots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::json;
use spgw_core::time::now_ms;
use spgw_store::Db;
use spgw_tasks::{NewTask, Scheduler, SchedulerOptions, TaskFilter, TaskStatus, ledger, service};

fn scheduler(db: &Db, name: &str) -> Scheduler {
    Scheduler::new(db.clone(), name, SchedulerOptions { grace_ms: 2_000, ..SchedulerOptions::default() })
}

async fn occurrences(db: &Db, parent: i64) -> Vec<spgw_tasks::TaskRow> {
    let f = TaskFilter { parent_task_id: Some(parent), limit: Some(500), ..TaskFilter::default() };
    service::list(db, &f).await.unwrap().data
}

async fn ledger_rows(db: &Db, task: i64) -> Vec<ledger::Firing> {
    ledger::list(db, &ledger::task_key(task), 1000).await.unwrap()
}

async fn new_task(db: &Db, project: i64, title: &str, schedule: serde_json::Value) -> spgw_tasks::TaskRow {
    service::create(
        db,
        NewTask { project_id: project, title: title.into(), schedule: Some(schedule), ..NewTask::default() },
    )
    .await
    .unwrap()
}

async fn one_time_task_fires_once(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let at = now_ms() + 60_000;
    let task = new_task(&t.db, p, "later", json!({"at": spgw_core::time::to_rfc3339(at)})).await;
    assert_eq!(task.status, TaskStatus::Scheduled);
    assert_eq!(task.kind, "scheduled");
    assert_eq!(task.next_run_at, Some(at), "next run is visible");
    let s = scheduler(&t.db, "w1");
    assert_eq!(s.tick(at - 5_000).await.unwrap().fired, 0, "not due yet");
    let r = s.tick(at + 100).await.unwrap();
    assert_eq!(r.fired, 1);
    let fired = service::get(&t.db, task.id).await.unwrap();
    assert_eq!(fired.status, TaskStatus::Pending, "a one-time task runs itself");
    assert_eq!(fired.next_run_at, None);
    assert_eq!(s.tick(at + 200).await.unwrap(), Default::default(), "nothing left to fire");
    let rows = ledger_rows(&t.db, task.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].outcome.as_str(), rows[0].task_id), ("fired", Some(task.id)));
    // The ledger refuses a second row for the same slot.
    let mut tx = t.db.begin().await.unwrap();
    let slot = fired.schedule_slot.unwrap();
    let again = ledger::claim(&mut tx, &ledger::task_key(task.id), slot, ledger::Outcome::Fired, None, "w2").await;
    assert!(!again.unwrap(), "the same slot cannot be claimed twice");
}
both_backends!(one_time_task_fires_once, one_time_task_fires_once);

async fn interval_creates_occurrences(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let task = new_task(&t.db, p, "every 10 s", json!({"every_seconds": 10, "overlap": "allow"})).await;
    let first = task.next_run_at.unwrap();
    let s = scheduler(&t.db, "w1");
    for i in 0..3 {
        let r = s.tick(first + i * 10_000 + 50).await.unwrap();
        assert_eq!(r.fired, 1, "slot {i}");
    }
    let occ = occurrences(&t.db, task.id).await;
    assert_eq!(occ.len(), 3);
    let mut slots: Vec<i64> = occ.iter().map(|o| o.schedule_slot.unwrap()).collect();
    slots.sort();
    assert_eq!(slots, vec![first, first + 10_000, first + 20_000]);
    assert!(occ.iter().all(|o| o.status == TaskStatus::Pending && o.kind == "scheduled"));
    assert_eq!(occ[0].context.as_ref().unwrap()["schedule"]["task_id"], task.id);
    let recurring = service::get(&t.db, task.id).await.unwrap();
    assert_eq!(recurring.status, TaskStatus::Scheduled, "the recurring task stays scheduled");
    assert_eq!(recurring.next_run_at, Some(first + 30_000));
}
both_backends!(interval_creates_occurrences, interval_creates_occurrences);

async fn overlap_skip_waits_for_the_previous_run(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let task = new_task(&t.db, p, "every 10 s", json!({"every_seconds": 10})).await;
    let first = task.next_run_at.unwrap();
    let s = scheduler(&t.db, "w1");
    assert_eq!(s.tick(first + 10).await.unwrap().fired, 1);
    let r = s.tick(first + 10_010).await.unwrap();
    assert_eq!((r.fired, r.skipped), (0, 1), "the first occurrence is still pending");
    let rows = ledger_rows(&t.db, task.id).await;
    assert_eq!(rows[0].outcome, "skipped");
    assert!(rows[0].reason.as_deref().unwrap().contains("overlap"));
    // Once it ended, the next slot fires.
    let occ = occurrences(&t.db, task.id).await;
    service::finish(&t.db, occ[0].id, Some("ok".into()), TaskStatus::Completed).await.unwrap();
    assert_eq!(s.tick(first + 20_010).await.unwrap().fired, 1);
}
both_backends!(overlap_skip_waits_for_the_previous_run, overlap_skip_waits_for_the_previous_run);

async fn cron_with_time_zone(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let task = new_task(&t.db, p, "9am Tokyo", json!({"cron": "0 9 * * *", "timezone": "Asia/Tokyo"})).await;
    let next = task.next_run_at.unwrap();
    // 09:00 in Tokyo is 00:00 UTC.
    assert_eq!(next % 86_400_000, 0, "next run {} is at midnight UTC", spgw_core::time::to_rfc3339(next));
    assert!(next > now_ms() && next <= now_ms() + 86_400_000);
    let s = scheduler(&t.db, "w1");
    assert_eq!(s.tick(next + 500).await.unwrap().fired, 1);
    assert_eq!(service::get(&t.db, task.id).await.unwrap().next_run_at, Some(next + 86_400_000));
}
both_backends!(cron_with_time_zone, cron_with_time_zone);

/// Simulates an outage: the stored next slot lies `missed` slots in the past.
async fn after_outage(db: &Db, project: i64, policy: &str) -> (spgw_tasks::TaskRow, spgw_tasks::scheduler::TickReport) {
    let task = new_task(db, project, policy, json!({"every_seconds": 60, "missed": policy, "overlap": "allow"})).await;
    let now = now_ms();
    let stale = now - 10 * 60_000 - 30_000; // 11 slots due, the latest 30 s late
    db.execute("UPDATE tasks SET next_run_at = ? WHERE id = ?", &[stale.into(), task.id.into()]).await.unwrap();
    let r = scheduler(db, "w1").tick(now).await.unwrap();
    let after = service::get(db, task.id).await.unwrap();
    assert_eq!(after.next_run_at, Some(stale + 11 * 60_000), "{policy}: the next slot is in the future");
    assert!(after.next_run_at.unwrap() > now);
    (task, r)
}

async fn missed_runs_follow_the_policy(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let (skip, r) = after_outage(&t.db, p, "skip").await;
    assert_eq!((r.fired, r.missed), (0, 11));
    assert!(occurrences(&t.db, skip.id).await.is_empty());
    let (once, r) = after_outage(&t.db, p, "run_once").await;
    assert_eq!((r.fired, r.missed), (1, 10));
    assert_eq!(occurrences(&t.db, once.id).await.len(), 1);
    let rows = ledger_rows(&t.db, once.id).await;
    assert_eq!(rows.len(), 11);
    assert_eq!(rows[0].outcome, "fired", "the latest slot is the catch-up run");
    assert!(rows[1..].iter().all(|r| r.outcome == "missed"));
    let (all, r) = after_outage(&t.db, p, "run_all").await;
    assert_eq!((r.fired, r.missed), (11, 0));
    assert_eq!(occurrences(&t.db, all.id).await.len(), 11);
    // A second tick (another process, or a restart) fires nothing more.
    let again = scheduler(&t.db, "w2").tick(now_ms()).await.unwrap();
    assert_eq!(again.fired, 0);
}
both_backends!(missed_runs_follow_the_policy, missed_runs_follow_the_policy);

async fn when_condition_skips_without_a_run(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let when = json!({"metric": "pending_tasks", "op": ">", "value": 0});
    let task = new_task(&t.db, p, "triage", json!({"every_seconds": 10, "when": when})).await;
    let first = task.next_run_at.unwrap();
    let s = scheduler(&t.db, "w1");
    let r = s.tick(first + 10).await.unwrap();
    assert_eq!((r.fired, r.skipped), (0, 1), "no pending task: nothing to do");
    assert!(ledger_rows(&t.db, task.id).await[0].reason.as_deref().unwrap().contains("nothing to do"));
    service::create(&t.db, NewTask { project_id: p, title: "work".into(), ..NewTask::default() }).await.unwrap();
    assert_eq!(s.tick(first + 10_010).await.unwrap().fired, 1, "a pending task: the slot fires");
}
both_backends!(when_condition_skips_without_a_run, when_condition_skips_without_a_run);

async fn two_schedulers_fire_each_slot_once(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(new_task(&t.db, p, &format!("t{i}"), json!({"every_seconds": 5, "overlap": "allow"})).await.id);
    }
    let second = t.second_pool().await;
    let (a, b) = (scheduler(&t.db, "node-a"), scheduler(&second, "node-b"));
    let base = now_ms() + 5_000;
    for step in 0..6 {
        let now = base + step * 5_000 + 100;
        let (ra, rb) = tokio::join!(a.tick(now), b.tick(now));
        let fired = ra.unwrap().fired + rb.unwrap().fired;
        assert_eq!(fired, 10, "step {step}: each of the 10 schedules fired exactly once");
    }
    for id in ids {
        let occ = occurrences(&t.db, id).await;
        let mut slots: Vec<i64> = occ.iter().map(|o| o.schedule_slot.unwrap()).collect();
        slots.dedup();
        assert_eq!((occ.len(), slots.len()), (6, 6), "task {id}: six distinct slots, no duplicates");
    }
}
both_backends!(two_schedulers_fire_each_slot_once, two_schedulers_fire_each_slot_once);
