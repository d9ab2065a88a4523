//! The gateway as an MCP server at `/mcp` (streamable HTTP, stateless: every
//! POST carries one JSON-RPC message and gets a JSON answer; no session id, no
//! server-initiated stream, so `GET`/`DELETE` are 405 as the transport allows).
//! Authenticated by a gateway API key. It offers the built-in plugins (agents,
//! tasks, reports, living documents); every tool takes an extra `agent_id`
//! argument naming the agent to act as, which must belong to a project of the
//! key's user (admins: any project), and runs scoped to that agent's project
//! exactly as the agent's own tool calls do.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use spgw_agents::skills::SkillContext;
use spgw_agents::skills::args::Args;
use spgw_tasks::Limits;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The plugins offered, in this order.
const PLUGINS: [&str; 4] = ["agent_plugin", "task_plugin", "report_plugin", "living_document_plugin"];
/// Protocol versions this endpoint speaks, newest first.
const VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

/// `GET`/`DELETE /mcp`: no server stream and no sessions here.
pub async fn not_allowed() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, [("allow", "POST")]).into_response()
}

/// `POST /mcp`: one JSON-RPC request or notification.
pub async fn post(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: axum::body::Bytes,
) -> Response {
    if caller.api_key_id.is_none() {
        return ApiError::Unauthenticated.into_response();
    }
    let msg: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return rpc_error(Value::Null, -32700, &format!("parse error: {e}")),
    };
    let Some(id) = msg.get("id").cloned() else {
        // A notification (`notifications/initialized`, ...) or a response: nothing to answer.
        return StatusCode::ACCEPTED.into_response();
    };
    let params = &msg["params"];
    let result = match msg["method"].as_str().unwrap_or_default() {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or_default();
            let version = VERSIONS.iter().find(|v| **v == asked).unwrap_or(&VERSIONS[0]);
            Ok(json!({
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": "sp-gateway", "version": env!("CARGO_PKG_VERSION")},
                "instructions": "Built-in plugins of SP Gateway. Every tool takes agent_id: the agent to act as.",
            }))
        }
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": tools(&state)})),
        "tools/call" => Ok(call(&state, &caller, params).await),
        other => Err((-32601, format!("method not found: {other}"))),
    };
    match result {
        Ok(r) => Json(json!({"jsonrpc": "2.0", "id": id, "result": r})).into_response(),
        Err((code, message)) => rpc_error(id, code, &message),
    }
}

fn rpc_error(id: Value, code: i64, message: &str) -> Response {
    Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})).into_response()
}

/// The built-in tools with `agent_id` added to their arguments.
fn tools(state: &AppState) -> Vec<Value> {
    let registry = &state.agents.skills;
    let mut out = Vec::new();
    for p in PLUGINS.iter().filter_map(|n| registry.plugin(n)) {
        for t in p.tools() {
            let mut schema = t.parameters;
            schema["properties"]["agent_id"] =
                json!({"type": "integer", "description": "The agent to act as (its project scopes the call)"});
            if let Some(req) = schema["required"].as_array_mut() {
                req.push(json!("agent_id"));
            } else {
                schema["required"] = json!(["agent_id"]);
            }
            out.push(json!({"name": t.name, "description": t.description, "inputSchema": schema}));
        }
    }
    out
}

/// A tool result; failures are results with `isError` so the client's model can read them.
async fn call(state: &AppState, caller: &Caller, params: &Value) -> Value {
    let outcome = run(state, caller, params).await;
    let (text, is_error) = match outcome {
        Ok(v) => (v.to_string(), false),
        Err(message) => (json!({"error": message}).to_string(), true),
    };
    json!({"content": [{"type": "text", "text": text}], "isError": is_error})
}

async fn run(state: &AppState, caller: &Caller, params: &Value) -> Result<Value, String> {
    let name = params["name"].as_str().unwrap_or_default();
    let plugin = PLUGINS
        .iter()
        .filter_map(|n| state.agents.skills.plugin(n))
        .find(|p| p.tools().iter().any(|t| t.name == name))
        .ok_or_else(|| format!("no tool named {name}"))?;
    let mut arguments = params["arguments"].clone();
    if !arguments.is_object() {
        arguments = json!({});
    }
    let agent_id = arguments
        .as_object_mut()
        .and_then(|a| a.remove("agent_id"))
        .and_then(|v| v.as_i64())
        .ok_or("agent_id: required integer")?;
    // The agent, in a project of the key's user (admins: any).
    let row = state
        .db
        .fetch_optional(
            "SELECT a.project_id, p.user_id FROM agents a JOIN projects p ON p.id = a.project_id WHERE a.id = ?",
            &[agent_id.into()],
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "mcp server: agent lookup failed");
            "internal error; try again later".to_string()
        })?;
    let project_id = row
        .filter(|r| caller.is_admin() || r.i64("user_id") == Some(caller.user_id))
        .and_then(|r| r.i64("project_id"))
        .ok_or_else(|| format!("agent {agent_id} not found"))?;
    let ctx = SkillContext { db: state.db.clone(), project_id, agent_id, user_id: caller.user_id, task_id: None };
    let args = Args::parse(&arguments.to_string()).map_err(|e| e.to_string())?;
    tracing::info!(user_id = caller.user_id, agent_id, tool = name, "mcp server tool call");
    plugin.execute(&ctx, name, args, &Limits::default()).await.map_err(|e| match e {
        spgw_agents::AgentError::Store(_) | spgw_agents::AgentError::Task(spgw_tasks::TaskError::Store(_)) => {
            tracing::warn!(error = %e, "mcp server tool failed");
            "internal error; try again later".to_string()
        }
        other => other.to_string(),
    })
}
