//! Task endpoints over HTTP on both backends: CRUD, filters, views, tags, spawn,
//! cancel, output download, attachments, hidden completed tasks and scoping; then
//! the executor with the real agent runtime behind a scripted mock model: a cron
//! task run end to end, a runaway tool loop stopped as failed, and missed slots
//! after a restart following the policy.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod agent_world;
mod common;

use std::time::Duration;

use agent_world::{World, grant, set, text, tool, world};
use common::{Backend, Client, Server, assert_error};
use serde_json::{Value, json};

async fn project(c: &Client, name: &str) -> i64 {
    agent_world::project(c, name).await
}

async fn create(c: &Client, body: Value) -> Value {
    let (s, t) = c.post("/api/v1/tasks", body).await;
    assert_eq!(s, 201, "{t}");
    t
}

fn titles(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect()
}

/// Polls `path` until `check` holds on its body.
async fn wait_for(c: &Client, path: &str, secs: u64, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (s, v) = c.get(path).await;
        if s == 200 && check(&v) {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}: last {s} {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn task_endpoints(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let p = project(&admin, "Ops").await;
    let cron = create(
        &admin,
        json!({"project_id": p, "title": "Weekly digest", "tags": ["digest"],
               "schedule": {"cron": "0 9 * * 1", "timezone": "Europe/Paris"}}),
    )
    .await;
    assert_eq!((cron["kind"].as_str(), cron["status"].as_str()), (Some("scheduled"), Some("scheduled")));
    let id = cron["id"].as_i64().unwrap();
    let (_, got) = admin.get(&format!("/api/v1/tasks/{id}")).await;
    let next: Vec<i64> = got["next_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| spgw_core::time::parse_rfc3339(t.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(next.len(), 5, "{got}");
    assert_eq!(got["next_run_at"], got["next_runs"][0]);
    assert!(next.windows(2).all(|w| (w[1] - w[0] - 7 * 86_400_000).abs() <= 3_600_000), "weekly: {next:?}");
    let bad =
        admin.post("/api/v1/tasks", json!({"project_id": p, "title": "x", "schedule": {"cron": "0 25 * * *"}})).await;
    assert_error(&bad, 422, "invalid_field");
    assert_eq!(bad.1["error"]["field"], "schedule");
    assert_error(
        &admin.post("/api/v1/tasks", json!({"project_id": p, "title": "x", "colour": 1})).await,
        422,
        "invalid_field",
    );

    let a = create(&admin, json!({"project_id": p, "title": "Alpha", "tags": ["docs", "urgent"], "description": "d"}))
        .await;
    let b = create(&admin, json!({"project_id": p, "title": "Beta", "tags": ["code"], "priority": 5})).await;
    let (aid, bid) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
    assert_eq!(a["kind"], "external");
    let (_, l) = admin.get(&format!("/api/v1/tasks?project_id={p}&status=pending&assigned_tags=docs,code")).await;
    assert_eq!(titles(&l), vec!["Beta", "Alpha"]);
    let (_, l) = admin.get(&format!("/api/v1/tasks?project_id={p}&assigned_tags=urgent")).await;
    assert_eq!(titles(&l), vec!["Alpha"]);
    assert_eq!((l["total"].as_i64(), l["total_capped"].as_bool()), (Some(1), Some(false)), "{l}");
    // Searches and tag filters look one row past the page instead of counting.
    let (_, l) = admin.get(&format!("/api/v1/tasks?project_id={p}&tags=docs,code&limit=1")).await;
    assert_eq!((l["total"].as_i64(), l["total_capped"].as_bool()), (Some(2), Some(true)), "{l}");
    let (_, l) = admin.get(&format!("/api/v1/tasks?project_id={p}&q=alp")).await;
    assert_eq!((titles(&l), l["total"].as_i64()), (vec!["Alpha".to_string()], Some(1)), "{l}");
    let (_, l) = admin.get(&format!("/api/v1/tasks?project_id={p}&limit=1")).await;
    assert_eq!((l["total"].as_i64(), l["total_capped"].as_bool()), (Some(3), Some(false)), "counted: {l}");
    assert_error(&admin.get("/api/v1/tasks?status=sleeping").await, 400, "bad_request");
    let (_, v) = admin.get(&format!("/api/v1/tasks/views/scheduled?project_id={p}")).await;
    assert_eq!((titles(&v), v["view"].as_str()), (vec!["Weekly digest".to_string()], Some("scheduled")));
    let (_, v) = admin.get(&format!("/api/v1/tasks/views/pending?project_id={p}")).await;
    assert_eq!(titles(&v), vec!["Beta", "Alpha"]);
    // No agent in the project: pending tasks wait, and say why.
    let waiting =
        wait_for(&admin, &format!("/api/v1/tasks/views/waiting?project_id={p}"), 10, "waiting reasons", |v| {
            v["total"] == 2
        })
        .await;
    assert!(waiting["data"][0]["status_reason"].as_str().unwrap().contains("no enabled agent"), "{waiting}");
    assert_error(&admin.get("/api/v1/tasks/views/someday").await, 404, "not_found");
    let (_, tags) = admin.get(&format!("/api/v1/tasks/tags?project_id={p}")).await;
    let mut names: Vec<String> = serde_json::from_value(tags["tags"].clone()).unwrap();
    names.sort();
    assert_eq!(names, vec!["code", "digest", "docs", "urgent"]);

    let (s, child) = admin.post(&format!("/api/v1/task/{aid}/spawn"), json!({"title": "Alpha part 1"})).await;
    assert_eq!(s, 201, "{child}");
    assert_eq!((child["kind"].as_str(), child["parent_task_id"].as_i64()), (Some("spawned"), Some(aid)));
    assert_eq!(child["tags"], json!(["docs", "urgent"]));
    assert_error(&admin.post("/api/v1/task/999999/spawn", json!({"title": "orphan"})).await, 404, "not_found");

    let (s, p1) = admin
        .patch(
            &format!("/api/v1/tasks/{bid}"),
            json!({"title": "Beta 2", "status": "completed", "output": "All green.\nShipped."}),
        )
        .await;
    assert_eq!(s, 200, "{p1}");
    assert_eq!((p1["title"].as_str(), p1["status"].as_str()), (Some("Beta 2"), Some("completed")));
    let r = admin.http.get(server.url(&format!("/api/v1/tasks/{bid}/output.txt"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!("task-{bid}-output.txt")));
    assert_eq!(r.text().await.unwrap(), "All green.\nShipped.");
    assert_error(
        &admin.put(&format!("/api/v1/tasks/{aid}"), json!({"description": "no title"})).await,
        422,
        "invalid_field",
    );
    let (s, put) = admin.put(&format!("/api/v1/tasks/{aid}"), json!({"title": "Alpha v2", "tags": ["docs"]})).await;
    assert_eq!(s, 200, "{put}");
    assert_eq!(
        (put["description"].clone(), put["tags"].clone()),
        (Value::Null, json!(["docs"])),
        "PUT resets what it omits"
    );

    // Hidden completed tasks: stored, left out of lists after the setting's hours.
    set(&admin, "tasks.hide_completed_after_hours", json!(0.0003)).await;
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let (_, v) = admin.get(&format!("/api/v1/tasks/views/completed?project_id={p}")).await;
    assert_eq!(v["total"], 0, "{v}");
    let (_, v) = admin.get(&format!("/api/v1/tasks/views/completed?project_id={p}&include_hidden=true")).await;
    assert_eq!(titles(&v), vec!["Beta 2"]);

    let (s, c) = admin.delete(&format!("/api/v1/tasks/{aid}")).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")), "{c}");
    assert!(c["deleted_at"].is_string());
    let (s, again) = admin.get(&format!("/api/v1/tasks/{aid}")).await;
    assert_eq!((s, again["status"].as_str()), (200, Some("cancelled")), "kept for history");
    let (_, l) = admin.get(&format!("/api/v1/tasks?project_id={p}")).await;
    assert!(!titles(&l).contains(&"Alpha v2".to_string()));
    let (_, l) = admin.get(&format!("/api/v1/tasks?project_id={p}&include_deleted=true")).await;
    assert!(titles(&l).contains(&"Alpha v2".to_string()));
    let (_, kid) = admin.get(&format!("/api/v1/tasks/{}", child["id"])).await;
    assert_eq!(kid["status"], "cancelled", "unfinished children are cancelled with their parent");
    let (_, runs) = admin.get(&format!("/api/v1/tasks/{bid}/runs")).await;
    assert_eq!(runs["data"], json!([]));

    // Another user sees none of it.
    let (bob, _) = server.user(&admin, "bob").await;
    assert_error(&bob.get(&format!("/api/v1/tasks/{bid}")).await, 404, "not_found");
    assert_error(&bob.post("/api/v1/tasks", json!({"project_id": p, "title": "intrude"})).await, 404, "not_found");
    assert_error(&bob.delete(&format!("/api/v1/tasks/{bid}")).await, 404, "not_found");
    let (_, l) = bob.get("/api/v1/tasks").await;
    assert_eq!(l["total"], 0);
    let (_, t) = bob.get("/api/v1/tasks/tags").await;
    assert_eq!(t["data"], json!([]));
    // The generic resource API computes the same next run with the same validation.
    let (s, g) = admin
        .post(
            "/api/v1/add/task",
            json!({"project_id": p, "title": "g", "schedule": {"cron": "0 9 * * 1", "timezone": "Europe/Paris"}}),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    assert_eq!(g["next_run_at"], got["next_run_at"]);
}

async fn attachments(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let p = project(&admin, "Files").await;
    let t = create(&admin, json!({"project_id": p, "title": "Read these"})).await;
    let id = t["id"].as_i64().unwrap();
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"hello notes".to_vec())
                .file_name("notes.txt")
                .mime_str("text/plain")
                .unwrap(),
        )
        .part("files", reqwest::multipart::Part::bytes(vec![1u8, 2, 3]).file_name("../data.bin"));
    let r =
        admin.http.post(server.url(&format!("/api/v1/tasks/{id}/attachments"))).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let files = body["data"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!((files[0]["filename"].as_str(), files[0]["size_bytes"].as_i64()), (Some("notes.txt"), Some(11)));
    let url = files[0]["url"].as_str().unwrap();
    let r = admin.http.get(server.url(url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.text().await.unwrap(), "hello notes");
    assert!(server.anon().get(url).await.0 == 401, "downloads need authentication");
    let (_, task) = admin.get(&format!("/api/v1/tasks/{id}")).await;
    assert_eq!(task["attachments"].as_array().unwrap().len(), 2);
    let stored: Vec<_> =
        std::fs::read_dir(common::data_dir(&server).join("attachments").join(id.to_string())).unwrap().collect();
    assert_eq!(stored.len(), 2, "stored under <data_dir>/attachments/<task>/");
    set(&admin, "tasks.max_attachment_bytes", json!(8)).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let big = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(vec![0u8; 64]).file_name("big.bin"));
    let r =
        admin.http.post(server.url(&format!("/api/v1/tasks/{id}/attachments"))).multipart(big).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let none = reqwest::multipart::Form::new().text("note", "no file");
    let r =
        admin.http.post(server.url(&format!("/api/v1/tasks/{id}/attachments"))).multipart(none).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let (bob, _) = server.user(&admin, "bob").await;
    assert_error(&bob.get(url).await, 404, "not_found");
}

/// A task's runs, oldest first.
async fn runs(c: &Client, id: i64) -> Vec<Value> {
    let (_, r) = c.get(&format!("/api/v1/tasks/{id}/runs")).await;
    let mut v = r["data"].as_array().unwrap().clone();
    v.reverse();
    v
}

async fn cron_task_runs_end_to_end(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    let other = agent_world::agent(&admin, project, "Bob", &["sales"]).await;
    grant(&admin, project, agent, "task_plugin").await;
    grant(&admin, project, agent, "living_document_plugin").await;
    mock.script(
        "cron",
        vec![
            tool("task.create", json!({"title": "Follow up on the digest", "tags": ["ops"]})),
            tool("living_document.upsert", json!({"title": "Ops digest", "content": "All systems nominal."})),
            text("Digest written; follow-up filed."),
        ],
    );
    let cron = create(
        &admin,
        json!({"project_id": project, "title": "Daily digest", "tags": ["ops"],
               "description": "Write the digest. [[script:cron]]", "schedule": {"cron": "* * * * * *"}}),
    )
    .await;
    let cid = cron["id"].as_i64().unwrap();
    let done = wait_for(
        &admin,
        &format!("/api/v1/tasks?parent_task_id={cid}&kind=scheduled&include_hidden=true"),
        30,
        "an occurrence completes",
        |v| v["data"].as_array().unwrap().iter().any(|t| t["status"] == "completed" && t["schedule_slot"].is_string()),
    )
    .await;
    admin.delete(&format!("/api/v1/tasks/{cid}")).await;
    let occ = done["data"].as_array().unwrap().iter().rfind(|t| t["status"] == "completed").unwrap().clone();
    let oid = occ["id"].as_i64().unwrap();
    assert_eq!(occ["agent_id"].as_i64(), Some(agent), "the agent with the matching tag, not {other}");
    assert_eq!(occ["output"], "Digest written; follow-up filed.");
    assert!(occ["tokens_used"].as_i64().unwrap() > 0, "{occ}");
    let r = runs(&admin, oid).await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0]["status"].as_str(), r[0]["attempt"].as_i64()), (Some("completed"), Some(1)));
    // The tool calls happened: a child task of the occurrence, and the living document.
    let (_, kids) = admin.get(&format!("/api/v1/tasks?parent_task_id={oid}&include_hidden=true")).await;
    assert_eq!(titles(&kids), vec!["Follow up on the digest"]);
    assert_eq!(kids["data"][0]["kind"], "spawned");
    let (_, docs) = admin.get(&format!("/api/v1/list/documents?project_id={project}")).await;
    assert_eq!(docs["data"][0]["title"], "Ops digest", "{docs}");
    // The ledger shows the firing that made the occurrence.
    let (_, firings) = admin.get(&format!("/api/v1/tasks/{cid}/firings")).await;
    assert!(firings["data"].as_array().unwrap().iter().any(|f| f["outcome"] == "fired" && f["task_id"] == oid));
    let (_, all_runs) = admin.get(&format!("/api/v1/tasks/{cid}/runs")).await;
    assert!(all_runs["data"].as_array().unwrap().iter().any(|r| r["task_id"] == oid && r["slot"].is_string()));
}

async fn runaway_tool_loop_stops_as_failed(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    grant(&admin, project, agent, "task_plugin").await;
    // The task's own budget (3 tool calls) is the limit that trips, before the loop's round limit.
    set(&admin, "mcp.max_tool_iterations", json!(10)).await;
    mock.script("loop", (0..20).map(|i| tool("task.list", json!({"limit": i + 1}))).collect());
    let t = create(
        &admin,
        json!({"project_id": project, "title": "Count everything", "tags": ["ops"], "description": "[[script:loop]]",
               "limits": {"max_tool_calls": 3}}),
    )
    .await;
    let id = t["id"].as_i64().unwrap();
    let end = wait_for(&admin, &format!("/api/v1/tasks/{id}"), 30, "the task ends", |v| v["status"] == "failed").await;
    assert!(end["status_reason"].as_str().unwrap().contains("guard"), "{end}");
    let r = runs(&admin, id).await;
    assert_eq!(r.len(), 1, "a guard stop is not retried: {r:?}");
    assert_eq!(r[0]["status"], "blocked");
    assert!(mock.requests().iter().filter(|r| r.path.ends_with("/chat/completions")).count() <= 5, "the loop stopped");
}

async fn missed_slots_follow_the_policy_after_a_restart(backend: Backend) {
    let mut server = Server::start(backend);
    let admin = server.admin().await;
    let p = project(&admin, "Clock").await;
    set(&admin, "tasks.executor_enabled", json!(false)).await;
    set(&admin, "tasks.missed_grace_seconds", json!(0.5)).await;
    let mut ids = Vec::new();
    for policy in ["skip", "run_once", "run_all"] {
        let t = create(
            &admin,
            json!({"project_id": p, "title": policy, "schedule": {"every_seconds": 2, "missed": policy, "overlap": "allow"}}),
        )
        .await;
        ids.push((policy, t["id"].as_i64().unwrap()));
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    server.stop();
    let down_at = spgw_core::time::now_ms();
    tokio::time::sleep(Duration::from_secs(8)).await;
    server.restart();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let admin = server.admin().await;
    for (policy, id) in ids {
        let (_, f) = admin.get(&format!("/api/v1/tasks/{id}/firings?limit=100")).await;
        let rows: Vec<&Value> = f["data"].as_array().unwrap().iter().collect();
        let when = |r: &Value| spgw_core::time::parse_rfc3339(r["created_at"].as_str().unwrap()).unwrap();
        let slot = |r: &Value| spgw_core::time::parse_rfc3339(r["slot"].as_str().unwrap()).unwrap();
        // The catch-up tick: the first ledger write after the restart, for slots due while down.
        let first = rows.iter().filter(|r| slot(r) > down_at).map(|r| when(r)).min().unwrap();
        let batch: Vec<&&Value> = rows.iter().filter(|r| slot(r) > down_at && when(r) <= first + 300).collect();
        let count = |o: &str| batch.iter().filter(|r| r["outcome"] == o).count();
        let (fired, missed) = (count("fired"), count("missed"));
        assert!(fired + missed >= 3, "{policy}: an 8 s outage leaves several 2 s slots due: {batch:?}");
        match policy {
            "skip" => assert!(fired <= 1 && missed >= 2, "skip: at most the on-time slot runs: {batch:?}"),
            "run_once" => assert_eq!((fired, missed + 1), (1, batch.len()), "run_once: one catch-up run: {batch:?}"),
            _ => assert_eq!(missed, 0, "run_all: every slot runs: {batch:?}"),
        }
    }
}

both_backends!(
    task_endpoints,
    attachments,
    cron_task_runs_end_to_end,
    runaway_tool_loop_stops_as_failed,
    missed_slots_follow_the_policy_after_a_restart
);

/// A 32-byte master key both gateways share (they decrypt the same provider keys).
const SHARED_KEY: &str = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=";

/// A second gateway process on the database of `first` (MariaDB).
fn join(first: &Server) -> Server {
    let url = first.mysql.as_ref().expect("a MariaDB server").url();
    Server::start_with(
        Backend::Sqlite,
        &[("SPGW__DATABASE__URL", url.as_str()), ("SPGW__SECURITY__MASTER_KEY", SHARED_KEY)],
    )
}

/// A MariaDB gateway whose `openai` provider is a fresh mock, with one agent tagged `ops`.
async fn cluster_world() -> (Server, spgw_mocks::MockServer, Client, i64, i64) {
    let mock = spgw_mocks::spawn().await.unwrap();
    let server = Server::start_with(Backend::MySql, &[("SPGW__SECURITY__MASTER_KEY", SHARED_KEY)]);
    let admin = server.admin().await;
    let (_, list) = admin.get("/api/v1/list/providers?name=openai").await;
    let pid = list["data"][0]["id"].as_i64().unwrap();
    let (s, v) = admin
        .patch(
            &format!("/api/v1/update/provider/{pid}"),
            json!({"base_url": mock.base_url("openai"), "api_key": "key-1"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let project = project(&admin, "Cluster").await;
    let agent = agent_world::agent(&admin, project, "Ada", &["ops"]).await;
    (server, mock, admin, project, agent)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_gateways_on_one_mariadb_run_300_tasks_once_each() {
    let (a, mock, admin, project, agent) = cluster_world().await;
    let b = join(&a);
    let admin_b = b.admin().await;
    let (s, v) = admin.patch(&format!("/api/v1/update/agent/{agent}"), json!({"max_concurrent_tasks": 8})).await;
    assert_eq!(s, 200, "{v}");
    let mut ids = Vec::new();
    for i in 0..300 {
        // Half the tasks are created through each gateway.
        let c = if i % 2 == 0 { &admin } else { &admin_b };
        let t = create(
            c,
            json!({"project_id": project, "title": format!("job {i}"), "tags": ["ops"],
                                 "description": format!("Task number {i}.")}),
        )
        .await;
        ids.push(t["id"].as_i64().unwrap());
    }
    wait_for(
        &admin,
        &format!("/api/v1/tasks/views/completed?project_id={project}&limit=1&include_hidden=true"),
        180,
        "300 completed tasks",
        |v| v["total"] == 300,
    )
    .await;
    let mut workers = std::collections::HashSet::new();
    for id in &ids {
        let r = runs(&admin, *id).await;
        assert_eq!(r.len(), 1, "task {id} ran once: {r:?}");
        assert_eq!(r[0]["status"], "completed");
        workers.insert(r[0]["worker"].as_str().unwrap().to_string());
    }
    assert_eq!(workers.len(), 2, "both gateways ran tasks: {workers:?}");
    let calls = mock.requests().iter().filter(|r| r.path.ends_with("/chat/completions")).count();
    assert_eq!(calls, 300, "one model call per task, none twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_of_a_killed_gateway_is_taken_over() {
    let (mut a, _mock, admin, project, _agent) = cluster_world().await;
    set(&admin, "tasks.lease_seconds", json!(2)).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let t = create(
        &admin,
        json!({"project_id": project, "title": "Slow report", "tags": ["ops"],
                                   "description": "Take your time. [[delay-ms:3000]]"}),
    )
    .await;
    let id = t["id"].as_i64().unwrap();
    wait_for(&admin, &format!("/api/v1/tasks/{id}"), 15, "gateway A runs it", |v| v["status"] == "running").await;
    // Kill A (SIGKILL, no shutdown) but keep its database for B.
    let db = a.mysql.take();
    drop(a);
    let b = join_db(db.as_ref().unwrap());
    let admin_b = b.admin().await;
    let done =
        wait_for(&admin_b, &format!("/api/v1/tasks/{id}"), 30, "B takes it over", |v| v["status"] == "completed").await;
    assert!(done["output"].as_str().unwrap().contains("Take your time"), "{done}");
    let r = runs(&admin_b, id).await;
    let statuses: Vec<&str> = r.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["lost", "completed"], "{r:?}");
    assert_ne!(r[0]["worker"], r[1]["worker"]);
    assert_eq!(done["attempts"], 2);
}

fn join_db(db: &common::MySqlDb) -> Server {
    let url = db.url();
    Server::start_with(
        Backend::Sqlite,
        &[("SPGW__DATABASE__URL", url.as_str()), ("SPGW__SECURITY__MASTER_KEY", SHARED_KEY)],
    )
}
