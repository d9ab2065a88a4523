//! The Anthropic-compatible surface: `POST /v1/messages` and
//! `POST /v1/messages/count_tokens`. Requests and answers are Anthropic's wire
//! types, translated by [`spgw_providers::anthropic::serve`].

use std::collections::VecDeque;
use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use spgw_providers::anthropic::serve::{SseEncoder, SseFrame, chat_request, messages_response};
use spgw_providers::anthropic::types::{CountTokensResponse, MessagesRequest};
use spgw_providers::{ChatRequest, ContentPart, Endpoint, Protocol, ProviderError, StreamEvent};
use spgw_routing::{Candidate, RouteError};

use super::errors::{AnthropicError, anthropic_stream_error, bad_input};
use super::sse::{self, Encoder};
use crate::auth::Caller;
use crate::body::{JsonBody, JsonObject};
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::routes::limits;
use crate::state::AppState;

/// How long a forwarded `count_tokens` may take.
const COUNT_TIMEOUT: Duration = Duration::from_secs(60);

/// `POST /v1/messages`: a `message`, or with `stream: true` Anthropic's SSE
/// events (`message_start`, `content_block_start` / `_delta` / `_stop` per
/// block, `message_delta`, `message_stop`; `ping` while the upstream is silent).
#[utoipa::path(post, path = "/v1/messages", tag = "compatible",
    request_body(content = Object, content_type = "application/json", description = "Anthropic's Messages request; `model` is `provider/model_code` or a bare code"),
    responses(
        (status = 200, description = "A `message`, or Anthropic's SSE events"),
        (status = 400, description = "Invalid request (Anthropic's error shape)"),
        (status = 401, description = "Missing or invalid API key"),
        (status = 404, description = "Unknown model"),
        (status = 429, description = "Rate limited (Retry-After set)")))]
pub async fn messages(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    cache: Result<limits::CacheChoice, ApiError>,
    body: Result<JsonBody<MessagesRequest>, ApiError>,
) -> Result<Response, AnthropicError> {
    let JsonBody(body) = body?;
    if body.messages.is_empty() {
        return Err(ApiError::field("messages", "at least one message is required").into());
    }
    let cand = super::resolve_model(&state, &body.model).await?;
    let mut req = chat_request(body).map_err(bad_input)?;
    super::fit(&mut req, &cand, Protocol::Anthropic)?;
    let mut meta = super::call_meta(&caller, request_id, "anthropic.messages", &cand);
    // The opt-in response cache (`x-spgw-cache: on|off`), as on the native chat.
    meta.cache = cache?.0;
    let fallback_id = |meta: &spgw_routing::CallMeta| ["msg_", &meta.request_id].concat();

    if req.stream {
        let fallback_id = fallback_id(&meta);
        let routed = state.router.chat_stream(req, std::slice::from_ref(&cand), meta).await?;
        let frames = Frames { enc: SseEncoder::new(), fallback_id, fallback_model: cand.code.clone(), buf: Vec::new() };
        // Anthropic keeps quiet connections open with `ping` events.
        let ping = Event::default().event("ping").data(r#"{"type": "ping"}"#);
        return Ok(sse::respond(routed, frames, KeepAlive::new().event(ping)));
    }

    let out = state.router.chat(req, std::slice::from_ref(&cand), &meta).await?;
    let mut message = messages_response(&out.response);
    if message.id.is_empty() {
        message.id = fallback_id(&meta);
    }
    if message.model.is_empty() {
        message.model.clone_from(&out.model.code);
    }
    let mut resp = Json(message).into_response();
    limits::set_cache_header(&mut resp, out.cache);
    Ok(resp)
}

/// Anthropic's stream encoding, over [`SseEncoder`].
struct Frames {
    enc: SseEncoder,
    /// The id and model when the upstream gives none.
    fallback_id: String,
    fallback_model: String,
    /// Reused between events.
    buf: Vec<SseFrame>,
}

impl Frames {
    fn drain(&mut self, out: &mut VecDeque<Event>) {
        out.extend(self.buf.drain(..).map(|f| Event::default().event(f.event).data(f.data)));
    }
}

impl Encoder for Frames {
    fn event(&mut self, ev: &StreamEvent, out: &mut VecDeque<Event>) {
        match ev {
            StreamEvent::Start { id, model } if id.is_empty() || model.is_empty() => {
                let start = StreamEvent::Start {
                    id: if id.is_empty() { std::mem::take(&mut self.fallback_id) } else { id.clone() },
                    model: if model.is_empty() { std::mem::take(&mut self.fallback_model) } else { model.clone() },
                };
                self.enc.push(&start, &mut self.buf);
            }
            _ => self.enc.push(ev, &mut self.buf),
        }
        self.drain(out);
    }

    fn finish(&mut self, out: &mut VecDeque<Event>) {
        self.enc.finish(&mut self.buf);
        self.drain(out);
    }

    fn error(&mut self, err: RouteError, out: &mut VecDeque<Event>) {
        out.push_back(Event::default().event("error").data(anthropic_stream_error(err)));
    }
}

/// `POST /v1/messages/count_tokens`: for a model served over Anthropic's
/// protocol the request is forwarded to that provider (with the model code it
/// knows); for any other model the count is an estimate (see
/// [`estimate_tokens`]). The `x-token-count` header says which: `anthropic` or
/// `estimate`.
#[utoipa::path(post, path = "/v1/messages/count_tokens", tag = "compatible",
    request_body(content = Object, content_type = "application/json", description = "A Messages request without `max_tokens`"),
    responses((status = 200, description = "`{\"input_tokens\": N}`; header `x-token-count`: `anthropic` or `estimate`")))]
pub async fn count_tokens(
    State(state): State<AppState>,
    body: Result<JsonObject, ApiError>,
) -> Result<Response, AnthropicError> {
    let JsonObject(mut body) = body?;
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::field("model", "a model is required"))?
        .to_string();
    let cand = super::resolve_model(&state, &model).await?;
    if !cand.provider_enabled {
        return Err(RouteError::ProviderDisabled(cand.provider.clone()).into());
    }
    if !cand.enabled {
        return Err(RouteError::ModelDisabled(cand.label()).into());
    }
    let (input_tokens, source) = if cand.protocol == Protocol::Anthropic {
        body.insert("model".into(), Value::String(cand.code.clone()));
        (forward_count(&state, &cand, &Value::Object(body)).await?, "anthropic")
    } else {
        // Parsed as a Messages request so the estimate sees what the model would.
        body.entry("max_tokens").or_insert(json!(1));
        let wire: MessagesRequest =
            serde_json::from_value(Value::Object(body)).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        (estimate_tokens(&chat_request(wire).map_err(bad_input)?), "estimate")
    };
    let mut resp = Json(CountTokensResponse { input_tokens }).into_response();
    resp.headers_mut().insert("x-token-count", HeaderValue::from_static(source));
    Ok(resp)
}

async fn forward_count(state: &AppState, cand: &Candidate, body: &Value) -> Result<u64, RouteError> {
    let lease = state.router.keys.pick(cand.provider_id, &cand.provider, &[]).await?;
    let ep = Endpoint { base_url: cand.base_url.clone(), api_key: lease.secret };
    let call = spgw_providers::anthropic::count_tokens(state.router.http(), &ep, body);
    tokio::time::timeout(COUNT_TIMEOUT, call)
        .await
        .unwrap_or(Err(ProviderError::Timeout))
        .map_err(|source| RouteError::Provider { provider: cand.provider.clone(), model: cand.code.clone(), source })
}

/// Tokens charged per image when the image's size is unknown (Anthropic's
/// figure for an image of about 1.15 megapixels, the most it keeps unscaled).
const IMAGE_TOKENS: u64 = 1_600;
/// Framing tokens per message (role markers and separators).
const MESSAGE_TOKENS: u64 = 4;

/// A provider-independent estimate of a prompt's input tokens: one token per
/// four characters of every text, thinking block, tool call, tool result and
/// tool definition (name, description, schema), plus [`MESSAGE_TOKENS`] per
/// message and [`IMAGE_TOKENS`] per image. Good for budgeting, not billing.
pub fn estimate_tokens(req: &ChatRequest) -> u64 {
    let mut chars = 0usize;
    let mut fixed = 0u64;
    for m in &req.messages {
        fixed += MESSAGE_TOKENS;
        for p in &m.content {
            match p {
                ContentPart::Text { text, .. } => chars += text.chars().count(),
                ContentPart::Thinking { thinking, .. } => chars += thinking.chars().count(),
                ContentPart::RedactedThinking { data } => chars += data.len(),
                ContentPart::Image { .. } => fixed += IMAGE_TOKENS,
            }
        }
        for c in &m.tool_calls {
            chars += c.name.chars().count() + c.arguments.chars().count();
        }
    }
    for t in &req.tools {
        chars += t.name.chars().count() + t.description.chars().count() + t.parameters.to_string().chars().count();
    }
    (chars as u64).div_ceil(4) + fixed
}

#[cfg(test)]
mod tests {
    use spgw_providers::{Message, Role, ToolDef};

    use super::*;

    #[test]
    fn estimate_counts_text_tools_and_images() {
        let mut req = ChatRequest { messages: vec![Message::text(Role::User, "abcdefgh")], ..Default::default() };
        assert_eq!(estimate_tokens(&req), 2 + MESSAGE_TOKENS);
        req.messages[0].content.push(ContentPart::Image {
            source: spgw_providers::ImageSource::Url { url: "https://x/y.png".into() },
            detail: None,
            cache_control: None,
        });
        assert_eq!(estimate_tokens(&req), 2 + MESSAGE_TOKENS + IMAGE_TOKENS);
        let before = estimate_tokens(&req);
        req.tools.push(ToolDef {
            name: "lookup".into(),
            description: "Looks things up".into(),
            parameters: json!({"type": "object"}),
            strict: None,
            cache_control: None,
        });
        let tool_chars = "lookup".len() + "Looks things up".len() + r#"{"type":"object"}"#.len();
        assert_eq!(estimate_tokens(&req), before + (8 + tool_chars as u64).div_ceil(4) - 2);
    }
}
