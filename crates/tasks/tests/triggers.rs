//! Triggers over a real database: a condition with a cooldown fires once while it
//! stays true, scheduled triggers go through the ledger, webhooks fill the template,
//! and every firing is in the history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::json;
use spgw_core::MasterKey;
use spgw_core::time::now_ms;
use spgw_tasks::triggers::{self, NewTrigger, Source, TriggerEvaluator, TriggerOptions};
use spgw_tasks::{NewTask, TaskFilter, TaskStatus, service};

fn key() -> MasterKey {
    MasterKey::from_bytes(&[3u8; 32]).unwrap()
}

fn evaluator(db: &spgw_store::Db, name: &str) -> TriggerEvaluator {
    let opts = TriggerOptions { interval: std::time::Duration::from_millis(10), ..TriggerOptions::default() };
    TriggerEvaluator::new(db.clone(), name, opts)
}

async fn made_by(db: &spgw_store::Db, trigger: i64) -> Vec<spgw_tasks::TaskRow> {
    let f = TaskFilter { trigger_id: Some(trigger), limit: Some(100), ..TaskFilter::default() };
    service::list(db, &f).await.unwrap().data
}

async fn condition_with_cooldown_fires_once(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let (trig, secret) = triggers::create(
        &t.db,
        &key(),
        NewTrigger {
            project_id: p,
            name: "failures".into(),
            condition: Some(json!({"metric": "failed_tasks", "hours": 1, "op": ">=", "value": 2})),
            task_template: json!({"title": "Investigate {{metrics.0.observed}} failures", "tags": ["ops"]}),
            ..NewTrigger::default()
        },
    )
    .await
    .unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(trig.cooldown_seconds, triggers::DEFAULT_CONDITION_COOLDOWN_SECONDS);
    let (a, b) = (evaluator(&t.db, "a"), evaluator(&t.second_pool().await, "b"));
    assert_eq!(a.tick(now_ms()).await.unwrap(), 0, "no failures yet");
    for i in 0..2 {
        let f = service::create(&t.db, NewTask { project_id: p, title: format!("f{i}"), ..NewTask::default() })
            .await
            .unwrap();
        service::finish(&t.db, f.id, None, TaskStatus::Failed).await.unwrap();
    }
    let mut fired = 0;
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let (ra, rb) = tokio::join!(a.tick(now_ms()), b.tick(now_ms()));
        fired += ra.unwrap() + rb.unwrap();
    }
    assert_eq!(fired, 1, "the condition stays true, the cooldown holds it to one task");
    let tasks = made_by(&t.db, trig.id).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].title, "Investigate 2 failures");
    assert_eq!(tasks[0].context.as_ref().unwrap()["trigger"]["source"], "condition");
    let history = triggers::firings(&t.db, trig.id, 10, 0).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].outcome.as_str(), history[0].task_id), ("fired", Some(tasks[0].id)));
}
both_backends!(condition_with_cooldown_fires_once, condition_with_cooldown_fires_once);

async fn webhook_fills_the_template(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let (trig, _) = triggers::create(
        &t.db,
        &key(),
        NewTrigger {
            project_id: p,
            name: "github".into(),
            cooldown_seconds: Some(3600),
            task_template: json!({"title": "Review PR #{{payload.number}}: {{payload.title}}",
                "description": "From {{trigger.name}}", "tags": "{{payload.labels}}", "context": {"kind": "review"}}),
            ..NewTrigger::default()
        },
    )
    .await
    .unwrap();
    let payload = json!({"number": 7, "title": "Add tests", "labels": ["review", "rust"]});
    let r = triggers::fire_now(&t.db, &trig, Source::Webhook, payload.clone()).await.unwrap();
    assert!(r.fired);
    let task = service::get(&t.db, r.task_id.unwrap()).await.unwrap();
    assert_eq!(task.title, "Review PR #7: Add tests");
    assert_eq!(task.description.as_deref(), Some("From github"));
    assert_eq!(task.tags, vec!["review", "rust"]);
    assert_eq!(task.trigger_id, Some(trig.id));
    let ctx = task.context.unwrap();
    assert_eq!((ctx["kind"].clone(), ctx["payload"].clone()), (json!("review"), payload.clone()));
    let again = triggers::fire_now(&t.db, &trig, Source::Webhook, payload).await.unwrap();
    assert_eq!((again.fired, again.outcome), (false, "cooldown"));
    let history = triggers::firings(&t.db, trig.id, 10, 0).await.unwrap();
    let outcomes: Vec<&str> = history.iter().map(|h| h.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["cooldown", "fired"]);
    // A disabled trigger refuses.
    let off = triggers::update(&t.db, trig.id, triggers::TriggerPatch { enabled: Some(false), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(triggers::fire_now(&t.db, &off, Source::Manual, json!(null)).await.unwrap().outcome, "disabled");
    // Templates are checked when saved.
    let bad = triggers::create(
        &t.db,
        &key(),
        NewTrigger { project_id: p, name: "bad".into(), task_template: json!({"titel": "x"}), ..NewTrigger::default() },
    )
    .await;
    assert!(matches!(bad, Err(spgw_tasks::TaskError::Invalid { .. })), "{bad:?}");
}
both_backends!(webhook_fills_the_template, webhook_fills_the_template);

async fn scheduled_trigger_fires_each_slot_once(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let (trig, _) = triggers::create(
        &t.db,
        &key(),
        NewTrigger {
            project_id: p,
            name: "hourly".into(),
            schedule: Some(json!({"every_seconds": 3600})),
            task_template: json!({"title": "Hourly check at {{fired_at}}"}),
            ..NewTrigger::default()
        },
    )
    .await
    .unwrap();
    let slot = trig.next_run_at.unwrap();
    let (a, b) = (evaluator(&t.db, "a"), evaluator(&t.second_pool().await, "b"));
    let (ra, rb) = tokio::join!(a.tick(slot + 10), b.tick(slot + 10));
    assert_eq!(ra.unwrap() + rb.unwrap(), 1);
    assert_eq!(a.tick(slot + 20).await.unwrap(), 0);
    assert_eq!(triggers::get(&t.db, trig.id).await.unwrap().next_run_at, Some(slot + 3_600_000));
    assert_eq!(made_by(&t.db, trig.id).await.len(), 1);
    let rows = spgw_tasks::ledger::list(&t.db, &spgw_tasks::ledger::trigger_key(trig.id), 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome, "fired");
}
both_backends!(scheduled_trigger_fires_each_slot_once, scheduled_trigger_fires_each_slot_once);
