//! The agent runtime end to end with a scripted mock model: reports written
//! by an agent from the project's facts (stored once per period, downloadable
//! as Markdown), and living-document revisions with their diffs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod agent_world;
mod common;

use agent_world::{MODEL, World, converse, grant, last_prompt, text, tool, world};
use common::{Backend, Client, assert_error};
use serde_json::{Value, json};

/// In `later` seconds, as RFC 3339 (UTC).
fn rfc3339_in(later: i64) -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + later;
    let t = secs.rem_euclid(86_400);
    format!("{}T{:02}:{:02}:{:02}Z", civil(secs), t / 3600, t % 3600 / 60, t % 60)
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    civil(secs)
}

/// The civil date of a Unix time (Howard Hinnant's algorithm).
fn civil(secs: i64) -> String {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

async fn download(c: &Client, id: i64) -> (u16, String, String, String) {
    let r = c.http.get(format!("{}/api/v1/reports/{id}/download", c.base)).send().await.unwrap();
    let status = r.status().as_u16();
    let header = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (status, ct, cd, r.text().await.unwrap())
}

async fn reports_are_generated_stored_once_and_downloadable(backend: Backend) {
    let World { mock, admin, project, agent, server } = world(backend).await;
    // Some activity this month: a conversation that changes a living document.
    grant(&admin, project, agent, "living_document_plugin").await;
    mock.script(
        "work",
        vec![tool("living_document.upsert", json!({"title": "Runbook", "content": "restart it"})), text("ok")],
    );
    let (s, r) = converse(&admin, agent, "write the runbook [[script:work]]").await;
    assert_eq!(s, 200, "{r}");

    // The request log is written in the background: wait for both calls to land.
    for _ in 0..100 {
        let (_, logs) = admin.get(&format!("/api/v1/list/request-logs?project_id={project}")).await;
        if logs["total"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let written = "# Monthly report\n\nThe runbook was written. Spend was tiny.";
    mock.script(MODEL, vec![text(written)]);
    let start = today();
    let body = json!({"project_id": project, "agent_id": agent, "period": "monthly", "period_start": start});
    let (s, rep) = admin.post("/api/v1/reports/generate", body.clone()).await;
    assert_eq!(s, 201, "{rep}");
    assert_eq!(rep["content"], format!("{written}\n"));
    assert_eq!(rep["period"], "monthly");
    assert_eq!(rep["period_start"], format!("{}-01", &start[..7]), "stored as the month's first day");
    assert_eq!(rep["agent_id"], agent);
    assert_eq!(rep["generation"]["created"], true);
    assert_eq!(rep["generation"]["model"], format!("openai/{MODEL}"));
    // The agent was given the period's facts: the document changed and the spend by model.
    let prompt = last_prompt(&mock);
    assert!(prompt.contains("Runbook (#"), "{prompt}");
    assert!(prompt.contains(&format!("| openai | {MODEL} | 2 |")), "two model calls this month: {prompt}");
    assert!(prompt.contains("You are Ada, Planner."), "the agent writes it: {prompt}");

    // Downloadable as Markdown.
    let id = rep["id"].as_i64().unwrap();
    let (s, ct, cd, md) = download(&admin, id).await;
    assert_eq!(s, 200);
    assert_eq!(ct, "text/markdown; charset=utf-8");
    assert!(cd.starts_with("attachment; filename=\"report-") && cd.ends_with(".md\""), "{cd}");
    assert_eq!(md, format!("{written}\n"));

    // One report per (project, period): generating again replaces it.
    mock.script(MODEL, vec![text("# Monthly report\n\nSecond take.")]);
    let (s, again) = admin.post("/api/v1/reports/generate", body).await;
    assert_eq!(s, 201, "{again}");
    assert_eq!(again["id"], id);
    assert_eq!(again["generation"]["created"], false);
    let (_, list) = admin.get(&format!("/api/v1/list/reports?project_id={project}")).await;
    assert_eq!(list["total"], 1, "{list}");

    // A period with no activity is written without a model.
    let calls = mock.requests().len();
    let quiet = json!({"project_id": project, "agent_id": agent, "period": "annual", "period_start": "2001-06-01"});
    let (s, q) = admin.post("/api/v1/reports/generate", quiet).await;
    assert_eq!(s, 201, "{q}");
    assert_eq!(q["period_start"], "2001-01-01");
    assert!(q["content"].as_str().unwrap().contains("No activity in 2001"), "{q}");
    assert!(q["generation"]["model"].is_null());
    assert_eq!(mock.requests().len(), calls, "no model call");

    // Checks: the period, the agent's project, and who may download.
    let bad = json!({"project_id": project, "agent_id": agent, "period": "weekly", "period_start": start});
    assert_error(&admin.post("/api/v1/reports/generate", bad).await, 422, "invalid_field");
    let other = agent_world::project(&admin, "Zeus").await;
    let stranger = agent_world::agent(&admin, other, "Zed", &[]).await;
    let wrong = json!({"project_id": project, "agent_id": stranger, "period": "monthly", "period_start": start});
    assert_error(&admin.post("/api/v1/reports/generate", wrong).await, 422, "invalid_field");
    let (user, _) = server.user(&admin, "eve").await;
    assert_eq!(download(&user, id).await.0, 404, "another user's report is not visible");
}

async fn document_revisions_and_diffs(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    grant(&admin, project, agent, "living_document_plugin").await;
    mock.script(
        "doc",
        vec![
            tool("living_document.upsert", json!({"title": "Plan", "content": "one\ntwo\nthree\n", "reason": "start"})),
            tool(
                "living_document.upsert",
                json!({"title": "Plan", "content": "one\n2\nthree\nfour\n", "reason": "numbers are digits"}),
            ),
            tool("living_document.upsert", json!({"title": "Plan", "content": "one\n2\nthree\nfour\n"})),
            text("done"),
        ],
    );
    let (s, r) = converse(&admin, agent, "keep the plan [[script:doc]]").await;
    assert_eq!(s, 200, "{r}");
    let results: Vec<Value> = r["tool_loop"]["executed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["result"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(results[0]["created"], true);
    assert_eq!(results[1]["revision"], 2);
    assert_eq!(results[2]["changed"], false, "an identical write makes no revision: {}", results[2]);
    let id = results[0]["document_id"].as_i64().unwrap();

    // A user edits it through the resource API: revision 3, authored by the user.
    let (s, d) = admin.patch(&format!("/api/v1/update/document/{id}"), json!({"description": "The plan"})).await;
    assert_eq!(s, 200, "{d}");
    let (s, revs) = admin.get(&format!("/api/v1/documents/{id}/revisions")).await;
    assert_eq!(s, 200, "{revs}");
    assert_eq!(revs["latest"], 3);
    let authors: Vec<&str> =
        revs["data"].as_array().unwrap().iter().map(|r| r["author"]["type"].as_str().unwrap()).collect();
    assert_eq!(authors, ["user", "agent", "agent"]);
    assert_eq!(revs["data"][1]["reason"], "numbers are digits");
    assert!(revs["data"][0].get("content").is_none(), "listings leave content out");

    let (s, r1) = admin.get(&format!("/api/v1/documents/{id}/revisions/1")).await;
    assert_eq!(s, 200, "{r1}");
    assert_eq!(r1["content"], "one\ntwo\nthree\n");

    // Default: the latest change.
    let (s, d) = admin.get(&format!("/api/v1/documents/{id}/diff")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!((d["from"].as_i64(), d["to"].as_i64()), (Some(2), Some(3)));
    let diff = d["diff"].as_str().unwrap();
    assert!(diff.starts_with("--- a/description@r2\n+++ b/description@r3\n"), "{diff}");
    assert!(diff.contains("\n+The plan"), "{diff}");
    assert!(!diff.contains("content@"), "only the description changed: {diff}");
    let (s, d) = admin.get(&format!("/api/v1/documents/{id}/diff?from=1&to=2")).await;
    assert_eq!(s, 200, "{d}");
    let diff = d["diff"].as_str().unwrap();
    assert!(diff.starts_with("--- a/content@r1\n+++ b/content@r2\n"), "{diff}");
    assert!(diff.contains("\n-two\n+2\n three\n+four\n"), "{diff}");
    assert_eq!(d["to_author"]["type"], "agent");
    assert_eq!(d["to_reason"], "numbers are digits");

    assert_error(&admin.get(&format!("/api/v1/documents/{id}/revisions/9")).await, 404, "not_found");
    assert_error(&admin.get(&format!("/api/v1/documents/{id}/diff?from=1&to=9")).await, 404, "not_found");
    assert_error(&admin.get("/api/v1/documents/999999/revisions").await, 404, "not_found");
}

/// Polls a task until `done` holds (the executor works in the background).
async fn wait_task(c: &Client, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        let (s, t) = c.get(&format!("/api/v1/tasks/{id}")).await;
        assert_eq!(s, 200, "{t}");
        if done(&t) {
            return t;
        }
        last = t;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("task {id} did not get there: {last}");
}

fn finished(t: &Value) -> bool {
    ["completed", "failed", "blocked", "cancelled"].contains(&t["status"].as_str().unwrap_or_default())
}

/// The children of a task.
async fn children(c: &Client, id: i64) -> Vec<Value> {
    let (_, list) = c.get(&format!("/api/v1/tasks?parent_task_id={id}")).await;
    list["data"].as_array().cloned().unwrap_or_default()
}

async fn a_scheduled_task_runs_the_agent_end_to_end(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    grant(&admin, project, agent, "task_plugin").await;
    grant(&admin, project, agent, "living_document_plugin").await;
    mock.script(
        "cron",
        vec![
            tool("task.create", json!({"title": "Follow up on the review", "tags": ["ops"]})),
            tool(
                "living_document.upsert",
                json!({"title": "Review log", "content": "all green\n", "reason": "nightly review"}),
            ),
            text("Reviewed: all green."),
        ],
    );
    // Hourly, first in two seconds: the scheduler fires it, the executor gives
    // the occurrence to Ada (job tag `ops`), and the runner runs her.
    let start = rfc3339_in(2);
    let (s, rec) = admin
        .post(
            "/api/v1/tasks",
            json!({"project_id": project, "title": "Nightly review", "description": "Review the night [[script:cron]]",
                   "tags": ["ops"], "schedule": {"every_seconds": 3600, "start_at": start}}),
        )
        .await;
    assert_eq!(s, 201, "{rec}");
    let rec_id = rec["id"].as_i64().unwrap();
    let occurrence = loop {
        if let Some(o) = children(&admin, rec_id).await.into_iter().next() {
            break o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let occ_id = occurrence["id"].as_i64().unwrap();
    let done = wait_task(&admin, occ_id, finished).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output"], "Reviewed: all green.");
    assert_eq!(done["agent_id"], agent);
    assert!(done["tokens_used"].as_i64().unwrap() > 0, "{done}");

    // It spawned a child (which the executor then ran too) and kept the log.
    let kids = children(&admin, occ_id).await;
    assert_eq!(kids.len(), 1, "{kids:?}");
    assert_eq!(kids[0]["title"], "Follow up on the review");
    assert_eq!(kids[0]["kind"], "spawned");
    assert_eq!(kids[0]["created_by_agent"], agent);
    let child = wait_task(&admin, kids[0]["id"].as_i64().unwrap(), finished).await;
    assert_eq!(child["status"], "completed", "{child}");
    let (_, docs) = admin.get(&format!("/api/v1/list/documents?project_id={project}")).await;
    let doc = docs["data"].as_array().unwrap().iter().find(|d| d["title"] == "Review log").expect("the document");
    let doc_id = doc["id"].as_i64().unwrap();
    let (_, revs) = admin.get(&format!("/api/v1/documents/{doc_id}/revisions")).await;
    assert_eq!(revs["data"][0]["author"]["id"], agent);
    assert_eq!(revs["data"][0]["reason"], "nightly review");

    // The run is in the occurrence's session: prompt, calls, results, answer.
    let (_, session) = admin.get(&format!("/api/v1/session/{}", done["session_id"].as_str().unwrap())).await;
    let roles: Vec<&str> =
        session["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant", "tool", "assistant"], "{session}");
    assert_eq!(session["task_id"], occ_id);
    let prompt = session["messages"][0]["content"][0]["text"].as_str().unwrap();
    assert!(prompt.starts_with(&format!("Task #{occ_id}: Nightly review")), "{prompt}");
}

async fn runaway_and_guarded_task_runs_fail_with_partial_output(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    grant(&admin, project, agent, "task_plugin").await;

    // Past mcp.max_tool_iterations (3): failed, with what it did, and not retried.
    mock.script("runaway", (0..10).map(|i| tool("task.list", json!({"search": format!("q{i}")}))).collect());
    let (s, t) = admin
        .post(
            "/api/v1/tasks",
            json!({"project_id": project, "title": "Spin", "description": "[[script:runaway]]", "tags": ["ops"], "max_attempts": 3}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let t = wait_task(&admin, t["id"].as_i64().unwrap(), finished).await;
    assert_eq!(t["status"], "failed", "{t}");
    assert!(t["error"].as_str().unwrap().contains("tool loop limit reached"), "{t}");
    assert!(t["output"].as_str().unwrap().contains("task.list"), "partial output: {t}");
    assert_eq!(t["attempts"], 1, "a runaway loop is not retried although attempts remain: {t}");

    // A guard: one tool call allowed. Not retried although attempts remain.
    mock.script(
        "guarded",
        vec![tool("task.list", json!({})), tool("task.list", json!({"search": "b"})), text("never")],
    );
    let (s, t) = admin
        .post(
            "/api/v1/tasks",
            json!({"project_id": project, "title": "Capped", "description": "[[script:guarded]]", "tags": ["ops"],
                   "limits": {"max_tool_calls": 1}, "max_attempts": 3}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let t = wait_task(&admin, t["id"].as_i64().unwrap(), finished).await;
    assert_eq!(t["status"], "failed", "{t}");
    assert_eq!(t["attempts"], 1, "a guard stop is not retried: {t}");
    let why = format!("{} {}", t["status_reason"], t["error"]);
    assert!(why.contains("max_tool_calls"), "{t}");
    assert_eq!(mock.state.scripts.remaining()["guarded"], 1, "no model call after the trip");
}

async fn reports_run_on_schedule_and_idle_runs_call_no_model(backend: Backend) {
    let World { mock, admin, project, agent: _, server: _server } = world(backend).await;
    // The first day of last month: what a scheduled monthly report covers.
    let today = today();
    let (y, m): (i64, i64) = (today[..4].parse().unwrap(), today[5..7].parse().unwrap());
    let last_month = if m == 1 { format!("{}-12-01", y - 1) } else { format!("{y}-{:02}-01", m - 1) };

    let (s, rec) = admin
        .post(
            "/api/v1/tasks",
            json!({"project_id": project, "title": "Monthly report", "tags": ["ops"],
                   "context": {"report": {"period": "monthly"}},
                   "schedule": {"every_seconds": 3600, "start_at": rfc3339_in(2)}}),
        )
        .await;
    assert_eq!(s, 201, "{rec}");
    let rec_id = rec["id"].as_i64().unwrap();
    let occ = loop {
        if let Some(o) = children(&admin, rec_id).await.into_iter().next() {
            break o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let done = wait_task(&admin, occ["id"].as_i64().unwrap(), finished).await;
    assert_eq!(done["status"], "completed", "{done}");
    let (_, reports) = admin.get(&format!("/api/v1/list/reports?project_id={project}")).await;
    assert_eq!(reports["total"], 1, "{reports}");
    assert_eq!(reports["data"][0]["period_start"], last_month);
    assert!(reports["data"][0]["content"].as_str().unwrap().contains("No activity"), "{reports}");
    assert_eq!(done["output"], reports["data"][0]["content"]);

    // The period has its report now: another run has nothing to do.
    let (s, again) = admin
        .post(
            "/api/v1/tasks",
            json!({"project_id": project, "title": "Report again", "tags": ["ops"],
                   "context": {"report": {"period": "monthly", "period_start": last_month}}}),
        )
        .await;
    assert_eq!(s, 201, "{again}");
    let again = wait_task(&admin, again["id"].as_i64().unwrap(), finished).await;
    assert_eq!(again["status"], "completed", "{again}");
    assert!(again["output"].as_str().unwrap().contains("already exists"), "{again}");
    assert_eq!(again["tokens_used"], 0);
    assert!(mock.requests().is_empty(), "no model was called: {:?}", mock.requests());
}

both_backends!(
    reports_run_on_schedule_and_idle_runs_call_no_model,
    reports_are_generated_stored_once_and_downloadable,
    document_revisions_and_diffs,
    a_scheduled_task_runs_the_agent_end_to_end,
    runaway_and_guarded_task_runs_fail_with_partial_output,
);
