//! Built-in skills (SPEC §9) in the `conversation` operation, driven by a
//! scripted mock model: tools are injected only for agents holding the skill
//! resource, executed server-side inside the agent's project, stored in the
//! session, and bounded by the loop's limits and guards.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod agent_world;
mod common;

use agent_world::{World, converse, grant, set, text, tool, tools_sent, world};
use common::Backend;
use serde_json::{Value, json};

async fn conversation_creates_a_task_and_upserts_a_document(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    grant(&admin, project, agent, "task_plugin").await;
    grant(&admin, project, agent, "living_document_plugin").await;
    mock.script(
        "plan",
        vec![
            tool("task.create", json!({"title": "Write release notes", "tags": ["docs"], "description": "For v1"})),
            tool(
                "living_document.upsert",
                json!({"title": "Release plan", "content": "v1 ships Friday\n", "description": "When we ship",
                       "reason": "planning the release"}),
            ),
            text("Created the task and the plan."),
        ],
    );
    let (s, r) = converse(&admin, agent, "Plan the release [[script:plan]]").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["content"], "Created the task and the plan.", "{r}");
    assert_eq!(r["operation"], "conversation");
    assert_eq!(r["tool_loop"]["stopped"], "answered", "{r}");
    assert_eq!(r["tool_loop"]["iterations"], 2);
    let executed = r["tool_loop"]["executed"].as_array().unwrap();
    assert_eq!(executed.len(), 2, "{r}");
    assert!(executed.iter().all(|e| e["is_error"] == false), "{r}");
    assert_eq!(executed[0]["name"], "task.create");
    // Usage and cost cover the three model calls.
    assert_eq!(r["tool_loop"]["turns"], 3);
    assert!(r["usage"]["input_tokens"].as_u64().unwrap() > 0);

    // The rows exist, in the agent's project.
    let (_, tasks) = admin.get(&format!("/api/v1/list/tasks?project_id={project}")).await;
    let task = tasks["data"].as_array().unwrap().iter().find(|t| t["title"] == "Write release notes").expect("task");
    assert_eq!(task["tags"], json!(["docs"]));
    assert_eq!(task["description"], "For v1");
    assert_eq!(task["status"], "pending");
    let (_, docs) = admin.get(&format!("/api/v1/list/documents?project_id={project}")).await;
    let doc = &docs["data"][0];
    assert_eq!(doc["title"], "Release plan");
    assert_eq!(doc["content"], "v1 ships Friday\n");
    assert_eq!(doc["agent_id"], agent);
    let (s, revs) = admin.get(&format!("/api/v1/documents/{}/revisions", doc["id"])).await;
    assert_eq!(s, 200, "{revs}");
    assert_eq!(revs["latest"], 1);
    assert_eq!(revs["data"][0]["author"], json!({"type": "agent", "id": agent, "name": "Ada"}));
    assert_eq!(revs["data"][0]["reason"], "planning the release");

    // Each call and result is in the session, in order.
    let (_, session) = admin.get(&format!("/api/v1/session/{}", r["session_id"].as_str().unwrap())).await;
    let roles: Vec<&str> =
        session["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant", "tool", "assistant"], "{session}");
    let calls = &session["messages"][1]["tool_calls"];
    assert_eq!(calls[0]["name"], "task.create");
    let result: Value = serde_json::from_str(session["messages"][2]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(result["task"]["title"], "Write release notes", "{result}");

    // The model was offered exactly the granted tools, by their wire names.
    let sent = tools_sent(&mock);
    assert_eq!(sent.len(), 3);
    let mut names = sent[0].clone();
    names.sort();
    let expected = [
        "living_document_list",
        "living_document_upsert",
        "task_create",
        "task_delete",
        "task_finish",
        "task_list",
        "task_upsert",
    ];
    assert_eq!(names, expected);
}

async fn skills_need_the_agents_own_resource(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    // Granted to another agent, and to the project without an agent: neither counts for `agent`.
    let other = agent_world::agent(&admin, project, "Bob", &["ops"]).await;
    grant(&admin, project, other, "task_plugin").await;
    let (s, r) = admin
        .post("/api/v1/add/resource", json!({"project_id": project, "resource_type": "skill", "name": "report_plugin"}))
        .await;
    assert_eq!(s, 201, "{r}");
    let (s, r) = converse(&admin, agent, "hello there").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["content"], "Hello! You said: hello there");
    assert!(r.get("tool_loop").is_none(), "no skills: a plain chat answer: {r}");
    assert_eq!(tools_sent(&mock), vec![Vec::<String>::new()], "no tools reached the model");

    // `chat` (not `conversation`) never runs the loop, even for an agent with skills.
    let (s, r) =
        admin.post(&format!("/api/v1/chat?agent_id={other}&operation=chat"), json!({"user_message": "hi"})).await;
    assert_eq!(s, 200, "{r}");
    assert!(r.get("tool_loop").is_none(), "{r}");

    // The client's `operations` can narrow the built-ins to some actions.
    mock.state.clear();
    let (s, r) = admin
        .post(
            &format!("/api/v1/chat?agent_id={other}&operation=conversation"),
            json!({"user_message": "list", "mcp_config": {"operations": ["task.list"]}}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(tools_sent(&mock), vec![vec!["task_list".to_string()]]);
}

async fn skills_stay_inside_the_agents_project(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    grant(&admin, project, agent, "task_plugin").await;
    let elsewhere = agent_world::project(&admin, "Zeus").await;
    let (s, secret) = admin.post("/api/v1/add/task", json!({"project_id": elsewhere, "title": "secret plan"})).await;
    assert_eq!(s, 201, "{secret}");
    let (s, mine) = admin.post("/api/v1/add/task", json!({"project_id": project, "title": "our plan"})).await;
    assert_eq!(s, 201, "{mine}");
    let secret_id = secret["id"].as_i64().unwrap();
    mock.script(
        "scope",
        vec![
            tool("task.list", json!({})),
            tool("task.finish", json!({"task_id": secret_id, "output": "hijacked"})),
            tool("task.create", json!({"title": "sneaky", "parent_task_id": secret_id})),
            text("done"),
        ],
    );
    let (s, r) = converse(&admin, agent, "look around [[script:scope]]").await;
    assert_eq!(s, 200, "{r}");
    let executed = r["tool_loop"]["executed"].as_array().unwrap();
    let listed: Value = serde_json::from_str(executed[0]["result"].as_str().unwrap()).unwrap();
    let titles: Vec<&str> = listed["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["our plan"], "only the agent's project: {listed}");
    for e in &executed[1..] {
        assert_eq!(e["is_error"], true, "{e}");
        assert!(e["result"].as_str().unwrap().contains("not found in your project"), "{e}");
    }
    let (_, t) = admin.get(&format!("/api/v1/get/task/{secret_id}")).await;
    assert_eq!(t["status"], "pending", "the other project's task is untouched: {t}");
    assert!(t["output"].is_null());
    let (_, all) = admin.get("/api/v1/list/tasks?limit=100").await;
    assert!(all["data"].as_array().unwrap().iter().all(|t| t["title"] != "sneaky"));
}

async fn runaway_loops_and_repeated_calls_are_stopped(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    grant(&admin, project, agent, "task_plugin").await;

    // A model that never stops calling tools: three rounds (the default), one
    // wrap-up turn, then the loop ends with what it has.
    let runaway = (0..10).map(|i| tool("task.list", json!({"search": format!("x{i}")}))).collect();
    mock.script("runaway", runaway);
    let (s, r) = converse(&admin, agent, "go [[script:runaway]]").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["tool_loop"]["stopped"], "tool_limit", "{r}");
    assert_eq!(r["tool_loop"]["iterations"], 3);
    assert_eq!(r["tool_loop"]["executed"].as_array().unwrap().len(), 3);
    assert_eq!(r["tool_loop"]["turns"], 5, "3 rounds, the refused 4th, 1 wrap-up");
    // The session still pairs every call with a result, so it can be continued.
    let (_, session) = admin.get(&format!("/api/v1/session/{}", r["session_id"].as_str().unwrap())).await;
    let msgs = session["messages"].as_array().unwrap();
    let calls: usize = msgs.iter().map(|m| m["tool_calls"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(msgs.iter().filter(|m| m["role"] == "tool").count(), calls);

    // The same call over and over: the guard refuses the third.
    set(&admin, "mcp.max_tool_iterations", json!(10)).await;
    mock.script("same", (0..6).map(|_| tool("task.list", json!({"status": ["pending"]}))).collect());
    let (s, r) = converse(&admin, agent, "again [[script:same]]").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["tool_loop"]["stopped"], "guard", "{r}");
    assert!(r["tool_loop"]["reason"].as_str().unwrap().starts_with("repeated_tool_call"), "{r}");
    assert_eq!(r["tool_loop"]["executed"].as_array().unwrap().len(), 2);

    // An agent's own limits apply to its conversations.
    let (s, a) = admin
        .patch(&format!("/api/v1/update/agent/{agent}"), json!({"config": {"limits": {"max_tool_calls": 1}}}))
        .await;
    assert_eq!(s, 200, "{a}");
    mock.script("capped", vec![tool("task.list", json!({})), tool("task.list", json!({"search": "b"})), text("x")]);
    let (s, r) = converse(&admin, agent, "capped [[script:capped]]").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["tool_loop"]["stopped"], "guard", "{r}");
    assert!(r["tool_loop"]["reason"].as_str().unwrap().starts_with("max_tool_calls"), "{r}");
    assert_eq!(r["tool_loop"]["executed"].as_array().unwrap().len(), 1);
    assert_eq!(mock.state.scripts.remaining()["capped"], 1, "no model call after the trip");
}

async fn client_tools_come_back_and_streaming_reports_progress(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    grant(&admin, project, agent, "agent_plugin").await;
    mock.script("mixed", vec![tool("agent.list", json!({})), tool("weather.get", json!({"city": "Oslo"}))]);
    let body = json!({
        "user_message": "who is here, and the weather? [[script:mixed]]",
        "mcp_config": {"tools": [{"name": "weather.get", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]}
    });
    let (s, r) = admin.post(&format!("/api/v1/chat?agent_id={agent}&operation=conversation"), body).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["tool_loop"]["stopped"], "client_tools", "{r}");
    assert_eq!(r["tool_calls"][0]["name"], "weather.get", "{r}");
    let agents: Value = serde_json::from_str(r["tool_loop"]["executed"][0]["result"].as_str().unwrap()).unwrap();
    assert_eq!(agents["agents"][0]["name"], "Ada");
    assert_eq!(agents["agents"][0]["is_you"], true);
    // The client answers its tool in the same session; the model finishes.
    let sid = r["session_id"].as_str().unwrap();
    let call_id = r["tool_calls"][0]["id"].as_str().unwrap();
    let (s, r2) = admin
        .post(
            &format!("/api/v1/chat?session={sid}&operation=conversation"),
            json!({"messages": [{"role": "tool", "tool_call_id": call_id, "name": "weather.get", "content": "sunny"}]}),
        )
        .await;
    assert_eq!(s, 200, "{r2}");
    assert!(r2["content"].as_str().unwrap().contains("sunny"), "{r2}");

    // Streamed: tool calls and results as they happen, then the answer.
    mock.script("stream", vec![tool("agent.list", json!({"job_tag": "ops"})), text("Ada is here.")]);
    let resp = admin
        .http
        .post(admin.base.clone() + &format!("/api/v1/chat?agent_id={agent}&operation=conversation"))
        .json(&json!({"user_message": "who? [[script:stream]]", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let events: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(events, ["start", "tool_call", "tool_result", "text_delta", "usage", "finish", "done"], "{text}");
    assert!(text.contains("Ada is here."), "{text}");
}

both_backends!(
    conversation_creates_a_task_and_upserts_a_document,
    skills_need_the_agents_own_resource,
    skills_stay_inside_the_agents_project,
    runaway_loops_and_repeated_calls_are_stopped,
    client_tools_come_back_and_streaming_reports_progress,
);
