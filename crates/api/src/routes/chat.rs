//! `POST /api/v1/chat`: JSON, or SSE when `stream` is true.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Value, json};
use spgw_providers::{ContentPart, StreamEvent, ToolCall};
use spgw_routing::RouteError;
use tokio::sync::mpsc;

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::chat::input::{ChatBody, ChatQuery};
use crate::chat::service::{self, Plan};
use crate::error::{ApiError, ApiResult};
use crate::middleware::RequestId;
use crate::state::AppState;

/// Chat with a model, an agent, or a session (SPEC §2).
#[utoipa::path(post, path = "/api/v1/chat", tag = "chat", params(ChatQuery), request_body = ChatBody,
    responses(
        (status = 200, description = "The reply (JSON), or an SSE stream of events `start`, `text_delta`, `thinking_delta`, `tool_call_start`, `tool_call_delta`, `usage`, `finish`, then `done` (or `error`)"),
        (status = 404, description = "Unknown model, agent, task or session"),
        (status = 422, description = "Invalid field, or no capable model"),
        (status = 429, description = "Rate limited upstream, or a key's or user's rate limit or budget reached (`rate_limit_exceeded`, `budget_exceeded`); Retry-After set"),
        (status = 502, description = "Upstream failure after retries and fallbacks")))]
pub async fn chat(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Query(query): Query<ChatQuery>,
    cache: Result<super::limits::CacheChoice, ApiError>,
    JsonBody(body): JsonBody<ChatBody>,
) -> ApiResult<Response> {
    let cache = cache?.0;
    let mut plan = service::plan(&state, &caller, query, body, request_id).await?;
    plan.meta.cache = cache;
    let request = std::mem::take(&mut plan.request);
    // An agent with built-in skills in a `conversation`: the tool loop answers.
    if let Some(agent) = plan.agent_loop.take() {
        return crate::chat::conversation::respond(state, plan, agent, request).await;
    }
    if request.stream {
        let routed = state.router.chat_stream(request, &plan.candidates, plan.meta.clone()).await?;
        return Ok(stream(state, plan, routed).into_response());
    }
    let out = state.router.chat(request, &plan.candidates, &plan.meta).await?;
    let reply = service::reply_message(out.response.content.clone(), out.response.tool_calls.clone());
    service::record_turn(&state, &plan, reply, &out.response.usage, out.cost_usd, out.model.model_id).await?;
    let body = service::response_json(&plan, &out.response, &out.model, out.cost_usd, out.latency_ms, out.attempts);
    let mut resp = Json(body).into_response();
    super::limits::set_cache_header(&mut resp, out.cache);
    Ok(resp)
}

/// What the stream produced, kept to store the reply in the session. Parts
/// stay in stream order: a signature closes the thinking block before it, or
/// stands alone (Gemini signs text and calls too).
#[derive(Default)]
struct Reply {
    parts: Vec<ContentPart>,
    text: String,
    calls: Vec<ToolCall>,
}

impl Reply {
    fn apply(&mut self, ev: &StreamEvent) {
        match ev {
            StreamEvent::TextDelta { text } => {
                self.text.push_str(text);
                match self.parts.last_mut() {
                    Some(ContentPart::Text { text: t, .. }) => t.push_str(text),
                    _ => self.parts.push(ContentPart::text(text.clone())),
                }
            }
            StreamEvent::ThinkingDelta { thinking } => match self.parts.last_mut() {
                Some(ContentPart::Thinking { thinking: t, signature: None }) => t.push_str(thinking),
                _ => self.parts.push(ContentPart::Thinking { thinking: thinking.clone(), signature: None }),
            },
            StreamEvent::ThinkingSignature { signature } => match self.parts.last_mut() {
                Some(ContentPart::Thinking { signature: s @ None, .. }) => *s = Some(signature.clone()),
                _ => self
                    .parts
                    .push(ContentPart::Thinking { thinking: String::new(), signature: Some(signature.clone()) }),
            },
            StreamEvent::ToolCallStart { index, id, name } => {
                let i = *index as usize;
                if self.calls.len() <= i {
                    self.calls
                        .resize(i + 1, ToolCall { id: String::new(), name: String::new(), arguments: String::new() });
                }
                self.calls[i].id.clone_from(id);
                self.calls[i].name.clone_from(name);
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                if let Some(c) = self.calls.get_mut(*index as usize) {
                    c.arguments.push_str(arguments);
                }
            }
            _ => {}
        }
    }
}

fn event_name(ev: &StreamEvent) -> &'static str {
    match ev {
        StreamEvent::Start { .. } => "upstream_start",
        StreamEvent::TextDelta { .. } => "text_delta",
        StreamEvent::ThinkingDelta { .. } => "thinking_delta",
        StreamEvent::ThinkingSignature { .. } => "thinking_signature",
        StreamEvent::ToolCallStart { .. } => "tool_call_start",
        StreamEvent::ToolCallDelta { .. } => "tool_call_delta",
        StreamEvent::Usage { .. } => "usage",
        StreamEvent::Finish { .. } => "finish",
    }
}

fn json_event(name: &str, v: &Value) -> Event {
    Event::default().event(name).data(v.to_string())
}

/// Forwards the routed stream to the client event by event, then stores the turn.
fn stream(
    state: AppState,
    plan: Plan,
    mut routed: spgw_routing::RoutedStream,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel::<Event>(64);
    let model = routed.model().clone();
    tokio::spawn(async move {
        let start = json!({"session_id": plan.session_id, "provider": model.provider, "model": model.code, "request_id": plan.meta.request_id});
        if tx.send(json_event("start", &start)).await.is_err() {
            return;
        }
        let mut reply = Reply::default();
        while let Some(item) = routed.next().await {
            match item {
                Ok(ev) => {
                    reply.apply(&ev);
                    let data = serde_json::to_string(&ev).unwrap_or_default();
                    if tx.send(Event::default().event(event_name(&ev)).data(data)).await.is_err() {
                        // The client went away: stop reading upstream; nothing is appended to the session.
                        return;
                    }
                }
                Err(source) => {
                    let e =
                        RouteError::Provider { provider: model.provider.clone(), model: model.code.clone(), source };
                    let body = json!({"error": {"code": e.code(), "message": e.to_string(), "status": e.status()}});
                    let _ = tx.send(json_event("error", &body)).await;
                    return;
                }
            }
        }
        let summary = routed.summary().clone();
        drop(routed);
        let message = service::reply_message(reply.parts, reply.calls.clone());
        if let Err(e) =
            service::record_turn(&state, &plan, message, &summary.usage, summary.cost_usd, model.model_id).await
        {
            tracing::error!(error = %e, "could not append the streamed turn to its session");
        }
        let done = json!({
            "session_id": plan.session_id,
            "provider": model.provider,
            "model": model.code,
            "content": reply.text,
            "tool_calls": reply.calls,
            "finish_reason": summary.finish_reason,
            "usage": service::usage_json(&summary.usage),
            "cost_usd": summary.cost_usd,
            "latency_ms": summary.latency_ms,
            "ttft_ms": summary.ttft_ms,
            "attempts": summary.attempts,
        });
        let _ = tx.send(json_event("done", &done)).await;
    });
    let events = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) });
    Sse::new(events).keep_alive(KeepAlive::default())
}

impl From<RouteError> for ApiError {
    fn from(e: RouteError) -> Self {
        ApiError::Upstream { status: e.status(), code: e.code(), message: e.to_string(), retry_after: e.retry_after() }
    }
}
