//! The `conversation` operation when the agent has built-in skills: the turn
//! runs through the agent runtime's tool loop (`spgw_agents`), which executes
//! built-in tool calls server-side and stores each call and result in the
//! session. The answer is the chat answer plus `tool_loop` (what ran and why
//! the loop stopped). Streamed, the events are `start`, then `tool_call` and
//! `tool_result` as the loop runs them, then the final turn as one
//! `text_delta`, `usage`, `finish` and `done` (or `error`): the model's turns
//! themselves are not streamed token by token.

use std::convert::Infallible;

use axum::Json;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use spgw_agents::tool_loop::{LoopEvent, LoopOutcome, Stop};
use spgw_agents::{AgentError, ChatAgent, Conversation};
use spgw_providers::ChatRequest;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::service::{self, Plan};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

impl From<AgentError> for ApiError {
    fn from(e: AgentError) -> Self {
        use spgw_tasks::TaskError as T;
        match e {
            AgentError::NotFound(m) => ApiError::NotFound(m),
            AgentError::Invalid { field, message } => ApiError::field(field, message),
            AgentError::Unavailable(m) => ApiError::field("agent_id", m),
            AgentError::Route(r) => r.into(),
            AgentError::Session(s) => s.into(),
            AgentError::Store(s) => s.into(),
            AgentError::Task(T::Invalid { field, message }) => ApiError::field(field, message),
            AgentError::Task(T::NotFound(m)) => ApiError::NotFound(format!("{m} not found")),
            AgentError::Task(T::Conflict(m)) => ApiError::Conflict(m),
            AgentError::Task(T::Store(s)) => s.into(),
            AgentError::Task(other) => ApiError::BadRequest(other.to_string()),
        }
    }
}

/// Runs the planned turn through the tool loop and answers (JSON or SSE).
pub async fn respond(state: AppState, plan: Plan, agent: ChatAgent, request: ChatRequest) -> ApiResult<Response> {
    let stream = request.stream;
    let conv = Conversation {
        request,
        turn: plan.turn.clone(),
        candidates: plan.candidates.clone(),
        meta: plan.meta.clone(),
        session_id: plan.session_id.clone(),
        mcp_config: plan.mcp_config.clone(),
        agent,
    };
    if stream {
        return Ok(sse(state, plan, conv).into_response());
    }
    let out = state.agents.converse(conv, None, None).await;
    Ok(Json(body(&plan, out)?).into_response())
}

fn stop_code(s: &Stop) -> (&'static str, Option<String>) {
    match s {
        Stop::Answered => ("answered", None),
        Stop::ClientTools => ("client_tools", None),
        Stop::ToolLimit { iterations } => (
            "tool_limit",
            Some(format!("the model still called tools after {iterations} rounds (mcp.max_tool_iterations)")),
        ),
        Stop::Guard(t) => ("guard", Some(format!("{}: {t}", t.code()))),
        Stop::AutoExecuteOff => ("auto_execute_off", Some("mcp.auto_execute_skills is false".into())),
        Stop::Cancelled => ("cancelled", None),
        Stop::Failed(e) => ("failed", Some(e.to_string())),
    }
}

/// The answer of a finished loop; a failed model call is the request's error.
fn body(plan: &Plan, mut out: LoopOutcome) -> ApiResult<Value> {
    if matches!(out.stop, Stop::Failed(_))
        && let Stop::Failed(e) = std::mem::replace(&mut out.stop, Stop::Cancelled)
    {
        return Err(e.into());
    }
    Ok(answer_json(plan, &out))
}

fn answer_json(plan: &Plan, out: &LoopOutcome) -> Value {
    let (stopped, reason) = stop_code(&out.stop);
    let executed: Vec<Value> = out
        .executed
        .iter()
        .map(|e| {
            json!({"id": e.call.id, "name": e.call.name, "arguments": e.call.arguments,
                   "result": e.output.text, "is_error": e.output.is_error})
        })
        .collect();
    let last = out.last.as_ref();
    json!({
        "id": last.map(|t| t.response.id.clone()),
        "object": "chat.completion",
        "session_id": plan.session_id,
        "operation": "conversation",
        "provider": last.map(|t| t.model.provider.clone()),
        "model": last.map(|t| t.model.code.clone()),
        "content": out.answer(),
        "message": last.map(|t| service::reply_message(t.response.content.clone(), t.response.tool_calls.clone())),
        "tool_calls": out.pending,
        "finish_reason": last.map(|t| t.response.finish_reason.clone()),
        "usage": service::usage_json(&out.usage),
        "cost_usd": out.metered.cost_usd,
        "latency_ms": out.last.iter().map(|t| t.latency_ms).sum::<u64>(),
        "attempts": last.map(|t| t.attempts),
        "request_id": plan.meta.request_id,
        "tool_loop": {
            "stopped": stopped,
            "reason": reason,
            "iterations": out.iterations,
            "follow_ups": out.follow_ups,
            "turns": out.metered.turns,
            "executed": executed,
        },
    })
}

fn event(name: &str, v: &Value) -> Event {
    Event::default().event(name).data(v.to_string())
}

fn loop_event(ev: &LoopEvent) -> Event {
    match ev {
        LoopEvent::ToolCall(c) => event("tool_call", &json!({"id": c.id, "name": c.name, "arguments": c.arguments})),
        LoopEvent::ToolResult { id, name, output } => {
            event("tool_result", &json!({"id": id, "name": name, "content": output.text, "is_error": output.is_error}))
        }
    }
}

/// Streams tool calls and results as they happen, then the final turn.
fn sse(state: AppState, plan: Plan, conv: Conversation) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let start =
            json!({"session_id": plan.session_id, "operation": "conversation", "request_id": plan.meta.request_id});
        if tx.send(event("start", &start)).await.is_err() {
            return;
        }
        let (etx, mut erx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let run = state.agents.converse(conv, Some(etx), Some(cancel.clone()));
        tokio::pin!(run);
        let out = loop {
            tokio::select! {
                out = &mut run => break out,
                Some(ev) = erx.recv() => {
                    // The client left: stop the loop (what ran is in the session).
                    if tx.send(loop_event(&ev)).await.is_err() {
                        cancel.cancel();
                    }
                }
            }
        };
        while let Ok(ev) = erx.try_recv() {
            let _ = tx.send(loop_event(&ev)).await;
        }
        match body(&plan, out) {
            Err(e) => {
                let (status, code) = match &e {
                    ApiError::Upstream { status, code, .. } => (*status, *code),
                    _ => (500, "internal"),
                };
                let _ = tx
                    .send(event("error", &json!({"error": {"code": code, "message": e.to_string(), "status": status}})))
                    .await;
            }
            Ok(done) => {
                if let Some(text) = done["content"].as_str().filter(|t| !t.is_empty()) {
                    let _ = tx.send(event("text_delta", &json!({"type": "text_delta", "text": text}))).await;
                }
                let _ = tx.send(event("usage", &json!({"type": "usage", "usage": done["usage"]}))).await;
                let _ = tx.send(event("finish", &json!({"type": "finish", "reason": done["finish_reason"]}))).await;
                let _ = tx.send(event("done", &done)).await;
            }
        }
    });
    let events = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) });
    Sse::new(events).keep_alive(KeepAlive::default())
}
