//! A gateway whose `openai` provider is a scripted mock, with a project and an
//! agent (model `openai/gpt-5-mini`), for the agent and skill tests.
#![allow(dead_code)]

use serde_json::{Value, json};
use spgw_mocks::MockServer;
use spgw_mocks::script::{ScriptedReply, ScriptedTool, ScriptedUsage};

use crate::common::{Backend, Client, Server};

pub const MODEL: &str = "gpt-5-mini";

pub struct World {
    pub server: Server,
    pub mock: MockServer,
    pub admin: Client,
    pub project: i64,
    pub agent: i64,
}

/// A server on `backend` with the `openai` provider pointed at a fresh mock.
pub async fn world(backend: Backend) -> World {
    let mock = spgw_mocks::spawn().await.unwrap();
    let server = Server::start(backend);
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
    let project = project(&admin, "Apollo").await;
    let agent = agent(&admin, project, "Ada", &["ops"]).await;
    World { server, mock, admin, project, agent }
}

pub async fn project(admin: &Client, name: &str) -> i64 {
    let (s, p) = admin.post("/api/v1/add/project", json!({"name": name, "description": "Moon landing"})).await;
    assert_eq!(s, 201, "{p}");
    p["id"].as_i64().unwrap()
}

pub async fn agent(admin: &Client, project: i64, name: &str, tags: &[&str]) -> i64 {
    let (s, a) = admin
        .post(
            "/api/v1/add/agent",
            json!({"project_id": project, "name": name, "job_title": "Planner", "job_tags": tags,
                   "soul": "Precise and brief.", "models": [{"provider": "openai", "model_code": MODEL}]}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    a["id"].as_i64().unwrap()
}

/// Gives `agent` the built-in plugin `plugin` (a `skill` resource).
pub async fn grant(admin: &Client, project: i64, agent: i64, plugin: &str) {
    let (s, r) = admin
        .post(
            "/api/v1/add/resource",
            json!({"project_id": project, "agent_id": agent, "resource_type": "skill", "name": plugin}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
}

pub async fn set(admin: &Client, key: &str, value: Value) {
    let (s, r) = admin.post("/api/v1/add/gateway-config", json!({"key": key, "value": value})).await;
    assert_eq!(s, 201, "{r}");
}

pub fn tool(name: &str, arguments: Value) -> ScriptedReply {
    ScriptedReply { text: None, tool: Some(ScriptedTool { name: name.into(), arguments }), usage: None }
}

pub fn text(t: &str) -> ScriptedReply {
    ScriptedReply { text: Some(t.into()), tool: None, usage: None }
}

pub fn with_usage(mut r: ScriptedReply, prompt_tokens: u64, completion_tokens: u64) -> ScriptedReply {
    r.usage = Some(ScriptedUsage { prompt_tokens, completion_tokens });
    r
}

/// A `conversation` turn with the agent.
pub async fn converse(c: &Client, agent: i64, message: &str) -> (u16, Value) {
    c.post(&format!("/api/v1/chat?agent_id={agent}&operation=conversation"), json!({"user_message": message})).await
}

/// The tool names (wire form) each chat request to the mock carried.
pub fn tools_sent(mock: &MockServer) -> Vec<Vec<String>> {
    mock.requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| {
            r.body["tools"]
                .as_array()
                .map(|ts| ts.iter().filter_map(|t| t["function"]["name"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        })
        .collect()
}

/// The user message texts of the last chat request the mock received.
pub fn last_prompt(mock: &MockServer) -> String {
    let reqs = mock.requests();
    let last = reqs.iter().rev().find(|r| r.path.ends_with("/chat/completions")).unwrap();
    last.body["messages"].to_string()
}
