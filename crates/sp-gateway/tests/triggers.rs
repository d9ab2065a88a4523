//! Trigger endpoints over HTTP on both backends: CRUD and validation, the signed
//! webhook (payload fills the template; bad or missing signatures refused), the
//! cooldown, manual firing by the owner, a condition trigger firing once while its
//! condition stays true, and the firing history.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod agent_world;
mod common;

use std::time::Duration;

use agent_world::set;
use common::{Backend, Client, Server, assert_error};
use reqwest::Method;
use serde_json::{Value, json};

async fn webhook(c: &Client, id: i64, body: &[u8], signature: Option<&str>) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .post(format!("{}/api/v1/triggers/{id}/fire", c.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        rb = rb.header("X-Signature-256", s);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn trigger_endpoints_and_webhooks(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let project = agent_world::project(&admin, "Hooks").await;
    let bad = admin
        .post(
            "/api/v1/triggers",
            json!({"project_id": project, "name": "x", "task_template": {"title": "t", "colour": 1}}),
        )
        .await;
    assert_error(&bad, 422, "invalid_field");
    let bad = admin
        .post("/api/v1/triggers", json!({"project_id": project, "name": "x", "condition": {"metric": "moon"}, "task_template": {"title": "t"}}))
        .await;
    assert_error(&bad, 422, "invalid_field");
    let (s, trig) = admin
        .post(
            "/api/v1/triggers",
            json!({"project_id": project, "name": "github", "cooldown_seconds": 3600,
                   "task_template": {"title": "Review PR #{{payload.number}}", "description": "{{payload.title}}",
                                     "tags": "{{payload.labels}}"}}),
        )
        .await;
    assert_eq!(s, 201, "{trig}");
    let id = trig["id"].as_i64().unwrap();
    let secret = trig["webhook_secret"].as_str().unwrap().to_string();
    assert_eq!(trig["webhook_url"], format!("/api/v1/triggers/{id}/fire"));
    let (_, got) = admin.get(&format!("/api/v1/triggers/{id}")).await;
    assert!(got.get("webhook_secret").is_none(), "the secret is shown once: {got}");
    assert_error(
        &admin
            .post("/api/v1/triggers", json!({"project_id": project, "name": "github", "task_template": {"title": "t"}}))
            .await,
        409,
        "conflict",
    );

    let body = serde_json::to_vec(&json!({"number": 42, "title": "Faster builds", "labels": ["ci"]})).unwrap();
    let anon = server.anon();
    let (s, v) = webhook(&anon, id, &body, None).await;
    assert_eq!(s, 401, "no signature, no login: {v}");
    let (s, v) = webhook(&anon, id, &body, Some("sha256=00")).await;
    assert_eq!(s, 403, "{v}");
    let (s, v) = webhook(&anon, id, b"{\"number\": 1}", Some(&spgw_tasks::triggers::sign(&secret, &body))).await;
    assert_eq!(s, 403, "the signature covers the exact body: {v}");
    let (s, fired) = webhook(&anon, id, &body, Some(&spgw_tasks::triggers::sign(&secret, &body))).await;
    assert_eq!(s, 202, "{fired}");
    assert_eq!(fired["fired"], true);
    let (_, task) = admin.get(&format!("/api/v1/tasks/{}", fired["task_id"])).await;
    assert_eq!((task["title"].as_str(), task["description"].as_str()), (Some("Review PR #42"), Some("Faster builds")));
    assert_eq!((task["tags"].clone(), task["trigger_id"].as_i64()), (json!(["ci"]), Some(id)));
    assert_eq!(task["context"]["payload"]["number"], 42);
    // The cooldown refuses a second firing (kept in the history).
    let (s, again) = webhook(&anon, id, &body, Some(&spgw_tasks::triggers::sign(&secret, &body))).await;
    assert_eq!((s, again["fired"].clone(), again["outcome"].clone()), (200, json!(false), json!("cooldown")));
    let (_, hist) = admin.get(&format!("/api/v1/triggers/{id}/firings")).await;
    let outcomes: Vec<&str> = hist["data"].as_array().unwrap().iter().map(|f| f["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, vec!["cooldown", "fired"]);
    assert_eq!(hist["data"][1]["source"], "webhook");

    // PATCH, rotate, manual firing by the signed-in owner.
    let (s, p) =
        admin.patch(&format!("/api/v1/triggers/{id}"), json!({"cooldown_seconds": 0, "description": "PRs"})).await;
    assert_eq!((s, p["cooldown_seconds"].as_i64()), (200, Some(0)), "{p}");
    let (_, rotated) = admin.post(&format!("/api/v1/triggers/{id}/rotate-secret"), json!({})).await;
    let new_secret = rotated["webhook_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let (s, _) = webhook(&anon, id, &body, Some(&spgw_tasks::triggers::sign(&secret, &body))).await;
    assert_eq!(s, 403, "the old secret no longer works");
    let (s, manual) =
        admin.send(Method::POST, &format!("/api/v1/triggers/{id}/fire"), Some(json!({"number": 7}))).await;
    assert_eq!((s, manual["fired"].clone()), (202, json!(true)), "{manual}");
    let (_, list) = admin.get(&format!("/api/v1/triggers?project_id={project}&enabled=true")).await;
    assert_eq!(list["total"], 1);
    let (bob, _) = server.user(&admin, "bob").await;
    assert_error(&bob.get(&format!("/api/v1/triggers/{id}")).await, 404, "not_found");
    assert_error(
        &bob.send(Method::POST, &format!("/api/v1/triggers/{id}/fire"), Some(json!({}))).await,
        404,
        "not_found",
    );
    let (_, l) = bob.get("/api/v1/triggers").await;
    assert_eq!(l["total"], 0);
    let (s, _) = admin.put(&format!("/api/v1/triggers/{id}"), json!({"name": "gh"})).await;
    assert_eq!(s, 422, "PUT needs the template too");
    let (s, d) = admin.delete(&format!("/api/v1/triggers/{id}")).await;
    assert_eq!((s, d["deleted"].clone()), (200, json!(true)));
    assert_error(&admin.get(&format!("/api/v1/triggers/{id}")).await, 404, "not_found");
}

async fn condition_trigger_with_cooldown_fires_once(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let project = agent_world::project(&admin, "Watch").await;
    set(&admin, "tasks.trigger_interval_seconds", json!(0.2)).await;
    // Keep the created tasks where they are: nothing runs them.
    set(&admin, "tasks.executor_enabled", json!(false)).await;
    let (s, trig) = admin
        .post(
            "/api/v1/triggers",
            json!({"project_id": project, "name": "backlog",
                   "condition": {"metric": "pending_tasks", "older_than_minutes": 0, "op": ">=", "value": 2},
                   "task_template": {"title": "Backlog of {{metrics.0.observed}}: triage"}}),
        )
        .await;
    assert_eq!(s, 201, "{trig}");
    let id = trig["id"].as_i64().unwrap();
    assert_eq!(trig["cooldown_seconds"], 3600, "condition triggers default to an hour of cooldown");
    for i in 0..2 {
        let (s, _) = admin.post("/api/v1/tasks", json!({"project_id": project, "title": format!("todo {i}")})).await;
        assert_eq!(s, 201);
    }
    // The condition stays true for several evaluations; one task only.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, made) = admin.get(&format!("/api/v1/tasks?trigger_id={id}")).await;
    assert_eq!(made["total"], 1, "{made}");
    assert_eq!(made["data"][0]["title"], "Backlog of 2: triage");
    let (_, hist) = admin.get(&format!("/api/v1/triggers/{id}/firings")).await;
    assert_eq!(hist["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        (hist["data"][0]["source"].as_str(), hist["data"][0]["outcome"].as_str()),
        (Some("condition"), Some("fired"))
    );
    let (_, t) = admin.get(&format!("/api/v1/triggers/{id}")).await;
    assert!(t["last_fired_at"].is_string() && t["last_evaluated_at"].is_string(), "{t}");
}

async fn scheduled_trigger_creates_tasks(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let project = agent_world::project(&admin, "Ticks").await;
    set(&admin, "tasks.executor_enabled", json!(false)).await;
    let (s, trig) = admin
        .post(
            "/api/v1/triggers",
            json!({"project_id": project, "name": "every 2 s", "schedule": {"every_seconds": 2},
                   "task_template": {"title": "Tick at {{fired_at}}", "context": {"report": {"period": "monthly"}}}}),
        )
        .await;
    assert_eq!(s, 201, "{trig}");
    let id = trig["id"].as_i64().unwrap();
    assert!(trig["next_run_at"].is_string());
    tokio::time::sleep(Duration::from_millis(4_600)).await;
    let (_, made) = admin.get(&format!("/api/v1/tasks?trigger_id={id}")).await;
    let n = made["total"].as_i64().unwrap();
    assert!((1..=3).contains(&n), "two or so slots passed: {made}");
    assert_eq!(made["data"][0]["context"]["report"]["period"], "monthly", "the template's context reaches the task");
    assert_eq!(made["data"][0]["context"]["trigger"]["source"], "schedule");
}

both_backends!(
    trigger_endpoints_and_webhooks,
    condition_trigger_with_cooldown_fires_once,
    scheduled_trigger_creates_tasks
);
