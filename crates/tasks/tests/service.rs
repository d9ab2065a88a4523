//! The task service the API and the skills call: validation, filters, views, tags,
//! spawning with inherited limits, finishing and cancelling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::json;
use spgw_tasks::{NewTask, TaskError, TaskFilter, TaskPatch, TaskStatus, service};

fn new(project: i64, title: &str, tags: &[&str]) -> NewTask {
    NewTask {
        project_id: project,
        title: title.into(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        ..NewTask::default()
    }
}

async fn create_validate_and_filter(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let q = common::project(&t.db, "q").await;
    let a = service::create(&t.db, new(p, "  Alpha ", &["docs", "Docs", "code"])).await.unwrap();
    assert_eq!((a.title.as_str(), a.kind.as_str(), a.status), ("Alpha", "external", TaskStatus::Pending));
    assert_eq!(a.tags, vec!["docs", "code"], "trimmed, deduplicated case-insensitively");
    assert_eq!(a.max_attempts, 3);
    service::create(&t.db, new(p, "Beta", &["code_review"])).await.unwrap();
    service::create(&t.db, new(q, "Gamma", &["docs"])).await.unwrap();
    for (bad, field) in [
        (NewTask { title: "".into(), ..new(p, "", &[]) }, "title"),
        (NewTask { schedule: Some(json!({"cron": "nope"})), ..new(p, "x", &[]) }, "schedule"),
        (NewTask { limits: Some(json!({"max_tokens": "lots"})), ..new(p, "x", &[]) }, "limits.max_tokens"),
        (NewTask { max_attempts: Some(0), ..new(p, "x", &[]) }, "max_attempts"),
        (new(p, "x", &["bad\"tag"]), "tags"),
    ] {
        match service::create(&t.db, bad).await {
            Err(TaskError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected an invalid {field}, got {other:?}"),
        }
    }
    assert!(matches!(service::create(&t.db, new(9999, "x", &[])).await, Err(TaskError::NotFound(_))));
    let by_tag =
        |tags: &[&str]| TaskFilter { tags_any: tags.iter().map(|s| s.to_string()).collect(), ..TaskFilter::default() };
    let titles = |page: spgw_tasks::TaskPage| page.data.into_iter().map(|t| t.title).collect::<Vec<_>>();
    assert_eq!(titles(service::list(&t.db, &by_tag(&["docs"])).await.unwrap()), vec!["Gamma", "Alpha"]);
    // `_` is not a wildcard: "code_review" does not match "code" and vice versa.
    assert_eq!(titles(service::list(&t.db, &by_tag(&["code"])).await.unwrap()), vec!["Alpha"]);
    let in_p = TaskFilter { project_id: Some(p), ..TaskFilter::default() };
    assert_eq!(service::list(&t.db, &in_p).await.unwrap().total, 2);
    let tags = service::tags(&t.db, None, None).await.unwrap();
    assert_eq!(tags[0].tag, "docs");
    assert_eq!(tags[0].count, 2);
    assert_eq!(service::tags(&t.db, Some(q), None).await.unwrap().len(), 1);
}
both_backends!(create_validate_and_filter, create_validate_and_filter);

async fn views_and_hidden_completed(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let old = service::create(&t.db, new(p, "old", &[])).await.unwrap();
    let fresh = service::create(&t.db, new(p, "fresh", &[])).await.unwrap();
    service::create(&t.db, NewTask { schedule: Some(json!({"every_seconds": 60})), ..new(p, "cron", &[]) })
        .await
        .unwrap();
    let gone = service::create(&t.db, new(p, "gone", &[])).await.unwrap();
    service::finish(&t.db, old.id, Some("x".into()), TaskStatus::Completed).await.unwrap();
    service::finish(&t.db, fresh.id, None, TaskStatus::Completed).await.unwrap();
    service::cancel(&t.db, gone.id).await.unwrap();
    let long_ago = spgw_core::time::now_ms() - 100 * 3_600_000;
    t.db.execute("UPDATE tasks SET finished_at = ? WHERE id = ?", &[long_ago.into(), old.id.into()]).await.unwrap();
    let view = |name: &str, hide: bool| {
        let mut f = TaskFilter {
            hide_completed_before: hide.then(|| spgw_core::time::now_ms() - 72 * 3_600_000),
            ..TaskFilter::default()
        };
        assert!(f.view(name), "{name}");
        f
    };
    let titles = |page: spgw_tasks::TaskPage| page.data.into_iter().map(|t| t.title).collect::<Vec<_>>();
    assert_eq!(titles(service::list(&t.db, &view("completed", true)).await.unwrap()), vec!["fresh"]);
    assert_eq!(titles(service::list(&t.db, &view("completed", false)).await.unwrap()), vec!["fresh", "old"]);
    service::create(&t.db, NewTask { schedule: Some(json!({"at": "2099-01-01T00:00:00Z"})), ..new(p, "once", &[]) })
        .await
        .unwrap();
    assert_eq!(titles(service::list(&t.db, &view("scheduled", true)).await.unwrap()), vec!["once", "cron"]);
    assert_eq!(titles(service::list(&t.db, &view("recurring", true)).await.unwrap()), vec!["cron"]);
    assert_eq!(titles(service::list(&t.db, &view("cancelled", true)).await.unwrap()), vec!["gone"]);
    assert_eq!(titles(service::list(&t.db, &view("all", true)).await.unwrap()), vec!["once", "cron", "fresh"]);
    assert!(!TaskFilter::default().view("nonsense"));
}
both_backends!(views_and_hidden_completed, views_and_hidden_completed);

async fn spawn_update_finish_cancel(backend: common::Backend) {
    let t = common::TestDb::new(backend).await;
    let p = common::project(&t.db, "p").await;
    let limits = json!({"max_tokens": 1000, "max_cost_usd": 1.0, "max_turns": 4});
    let parent = service::create(&t.db, NewTask { limits: Some(limits), ..new(p, "parent", &["ops"]) }).await.unwrap();
    t.db.execute("UPDATE tasks SET tokens_used = 300, cost_usd = 0.25 WHERE id = ?", &[parent.id.into()])
        .await
        .unwrap();
    let child =
        service::spawn(&t.db, parent.id, NewTask { title: "child".into(), ..NewTask::default() }).await.unwrap();
    assert_eq!((child.kind.as_str(), child.parent_task_id, child.project_id), ("spawned", Some(parent.id), p));
    assert_eq!(child.tags, vec!["ops"], "inherits the parent's tags");
    assert_eq!(child.limits, Some(json!({"max_turns": 4, "max_tokens": 700, "max_cost_usd": 0.75})));
    // Depth guard: a chain of spawns stops.
    let mut cur = child.id;
    let mut refused = false;
    for _ in 0..service::MAX_SPAWN_DEPTH + 1 {
        match service::spawn(&t.db, cur, NewTask { title: "deeper".into(), ..NewTask::default() }).await {
            Ok(c) => cur = c.id,
            Err(TaskError::Conflict(m)) => {
                assert!(m.contains("nest"), "{m}");
                refused = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(refused, "spawning cannot go on forever");
    let patched = service::update(
        &t.db,
        child.id,
        TaskPatch {
            title: Some("renamed".into()),
            schedule: Some(Some(json!({"every_seconds": 30}))),
            ..TaskPatch::default()
        },
    )
    .await
    .unwrap();
    assert_eq!((patched.title.as_str(), patched.status), ("renamed", TaskStatus::Scheduled));
    assert!(patched.next_run_at.is_some());
    let unscheduled =
        service::update(&t.db, child.id, TaskPatch { schedule: Some(None), ..TaskPatch::default() }).await.unwrap();
    assert_eq!((unscheduled.status, unscheduled.next_run_at), (TaskStatus::Pending, None));
    let done = service::finish(&t.db, child.id, Some("result".into()), TaskStatus::Completed).await.unwrap();
    assert_eq!((done.status, done.output.as_deref()), (TaskStatus::Completed, Some("result")));
    assert!(done.finished_at.is_some());
    let again =
        service::update(&t.db, child.id, TaskPatch { status: Some(TaskStatus::Pending), ..TaskPatch::default() })
            .await
            .unwrap();
    assert_eq!((again.status, again.attempts, again.finished_at), (TaskStatus::Pending, 0, None), "re-queued");
    let c = service::cancel(&t.db, parent.id).await.unwrap();
    assert_eq!(c.status, TaskStatus::Cancelled);
    assert_eq!(service::get(&t.db, child.id).await.unwrap().status, TaskStatus::Cancelled);
    assert!(matches!(
        service::finish(&t.db, parent.id, None, TaskStatus::Completed).await,
        Err(TaskError::Conflict(_))
    ));
    let listed = service::list(&t.db, &TaskFilter { project_id: Some(p), ..TaskFilter::default() }).await.unwrap();
    assert!(listed.data.iter().all(|t| t.id != parent.id), "cancelled tasks are not listed by default");
    let with = TaskFilter { project_id: Some(p), include_deleted: true, ..TaskFilter::default() };
    assert!(service::list(&t.db, &with).await.unwrap().data.iter().any(|t| t.id == parent.id));
}
both_backends!(spawn_update_finish_cancel, spawn_update_finish_cancel);
