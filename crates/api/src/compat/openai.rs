//! The OpenAI-compatible surface: `POST /v1/chat/completions` and the model list.
//! Requests and answers are OpenAI's wire types, translated by
//! [`spgw_providers::openai::compat`].

use std::collections::VecDeque;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::sse::{Event, KeepAlive};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use spgw_providers::openai::compat::{ChunkEncoder, DONE, to_chat_completion, to_chat_request};
use spgw_providers::openai::types::ChatCompletionRequest;
use spgw_providers::{Protocol, StreamEvent};
use spgw_routing::{ChatOutcome, RouteError};

use super::errors::{OpenAiError, bad_input, openai_stream_error};
use super::sse::{self, Encoder};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::routes::limits;
use crate::state::AppState;

/// `POST /v1/chat/completions`: a `chat.completion`, or with `stream: true`
/// `chat.completion.chunk`s as `data:` lines ending with `data: [DONE]` (and a
/// usage chunk before it when `stream_options.include_usage` is set).
#[utoipa::path(post, path = "/v1/chat/completions", tag = "compatible",
    request_body(content = Object, content_type = "application/json", description = "OpenAI's chat completion request; `model` is `provider/model_code` or a bare code"),
    responses(
        (status = 200, description = "A `chat.completion`, or an SSE stream of `chat.completion.chunk`s ending with `data: [DONE]`"),
        (status = 400, description = "Invalid request, or a model without a needed feature (OpenAI's error shape)"),
        (status = 401, description = "Missing or invalid API key"),
        (status = 404, description = "Unknown model"),
        (status = 429, description = "Rate limited (Retry-After set)")))]
pub async fn chat_completions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    cache: Result<limits::CacheChoice, ApiError>,
    body: Result<JsonBody<ChatCompletionRequest>, ApiError>,
) -> Result<Response, OpenAiError> {
    let JsonBody(body) = body?;
    if body.messages.is_empty() {
        return Err(ApiError::field("messages", "at least one message is required").into());
    }
    // One choice per answer is all the gateway translates; silently answering
    // one of n would break a client counting on n.
    if body.extra.get("n").and_then(Value::as_u64).is_some_and(|n| n > 1) {
        return Err(ApiError::field("n", "only n = 1 is supported").into());
    }
    let include_usage = body.stream_options.and_then(|o| o.include_usage).unwrap_or(false);
    let cand = super::resolve_model(&state, &body.model).await?;
    let mut req = to_chat_request(body).map_err(bad_input)?;
    super::fit(&mut req, &cand, Protocol::OpenAi)?;
    let mut meta = super::call_meta(&caller, request_id, "openai.chat_completions", &cand);
    // The opt-in response cache (`x-spgw-cache: on|off`), as on the native chat.
    meta.cache = cache?.0;
    let fallback_id = |meta: &spgw_routing::CallMeta| ["chatcmpl-", &meta.request_id].concat();

    if req.stream {
        let fallback_id = fallback_id(&meta);
        let routed = state.router.chat_stream(req, std::slice::from_ref(&cand), meta).await?;
        let enc = ChunkEncoder::new(super::unix_now(), include_usage);
        let chunks = Chunks { enc, fallback_id, fallback_model: cand.code.clone() };
        return Ok(sse::respond(routed, chunks, KeepAlive::default()));
    }

    let mut out = state.router.chat(req, std::slice::from_ref(&cand), &meta).await?;
    if let Some(raw) = forwardable(&mut out) {
        let mut resp = ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], raw).into_response();
        limits::set_cache_header(&mut resp, out.cache);
        return Ok(resp);
    }
    let mut completion = to_chat_completion(&out.response, super::unix_now());
    if completion.id.is_empty() {
        completion.id = fallback_id(&meta);
    }
    if completion.model.is_empty() {
        completion.model.clone_from(&out.model.code);
    }
    let mut resp = Json(completion).into_response();
    limits::set_cache_header(&mut resp, out.cache);
    Ok(resp)
}

/// The upstream's own body, when an OpenAI-compatible provider answered with
/// everything a client reads (an id and a model): it is already a
/// `chat.completion`, and forwarding it keeps fields the gateway does not model
/// (`system_fingerprint`, `service_tier`, logprobs...) at no translation cost.
fn forwardable(out: &mut ChatOutcome) -> Option<axum::body::Bytes> {
    let r = &mut out.response;
    let complete = out.model.protocol == Protocol::OpenAi && !r.id.is_empty() && !r.model.is_empty();
    r.raw.take().filter(|_| complete)
}

/// OpenAI's stream encoding.
struct Chunks {
    enc: ChunkEncoder,
    /// The id and model when the upstream gives none.
    fallback_id: String,
    fallback_model: String,
}

fn data(value: &impl serde::Serialize) -> Event {
    // Our wire types always serialise; an empty object would still be valid SSE.
    Event::default().data(serde_json::to_string(value).unwrap_or_else(|_| "{}".into()))
}

impl Encoder for Chunks {
    fn event(&mut self, ev: &StreamEvent, out: &mut VecDeque<Event>) {
        if let StreamEvent::Start { id, model } = ev {
            if id.is_empty() && self.enc.id.is_empty() {
                self.enc.id = std::mem::take(&mut self.fallback_id);
            }
            if model.is_empty() && self.enc.model.is_empty() {
                self.enc.model = std::mem::take(&mut self.fallback_model);
            }
        }
        if let Some(chunk) = self.enc.encode(ev) {
            out.push_back(data(&chunk));
        }
    }

    fn finish(&mut self, out: &mut VecDeque<Event>) {
        if let Some(chunk) = self.enc.finish() {
            out.push_back(data(&chunk));
        }
        out.push_back(Event::default().data(DONE));
    }

    fn error(&mut self, err: RouteError, out: &mut VecDeque<Event>) {
        // What OpenAI sends when a stream fails midway; the SDKs raise on it.
        out.push_back(Event::default().data(openai_stream_error(err)));
    }
}

/// A model as OpenAI lists it.
fn model_object(provider: &str, code: &str, created_ms: i64) -> Value {
    json!({"id": format!("{provider}/{code}"), "object": "model", "created": created_ms / 1000, "owned_by": provider})
}

const ENABLED_MODELS: &str = "SELECT p.name AS provider, m.model_code, m.created_at FROM models m \
     JOIN providers p ON p.id = m.provider_id WHERE m.enabled = 1 AND p.enabled = 1 ORDER BY p.name, m.model_code";

/// `GET /v1/models`: the enabled models of enabled providers, with ids
/// `provider/model_code` (bare codes are accepted in requests but not listed,
/// so no model appears twice).
#[utoipa::path(get, path = "/v1/models", tag = "compatible",
    responses((status = 200, description = "`{\"object\":\"list\",\"data\":[{id, object, created, owned_by}]}`")))]
pub async fn list_models(State(state): State<AppState>) -> Result<Json<Value>, OpenAiError> {
    let rows = state.db.fetch_all(ENABLED_MODELS, &[]).await.map_err(ApiError::from)?;
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            let (provider, code) = (r.str("provider").unwrap_or_default(), r.str("model_code").unwrap_or_default());
            model_object(provider, code, r.i64("created_at").unwrap_or_default())
        })
        .collect();
    Ok(Json(json!({"object": "list", "data": data})))
}

/// `GET /v1/models/{model}`: one model, by `provider/model_code` or bare code.
#[utoipa::path(get, path = "/v1/models/{model}", tag = "compatible",
    params(("model" = String, Path, description = "`provider/model_code` or a bare code")),
    responses((status = 200, description = "The model object"), (status = 404, description = "Unknown or disabled model")))]
pub async fn get_model(State(state): State<AppState>, Path(model): Path<String>) -> Result<Json<Value>, OpenAiError> {
    let cand = super::resolve_model(&state, &model).await?;
    if !cand.enabled || !cand.provider_enabled {
        return Err(RouteError::UnknownModel(model).into());
    }
    let created = state
        .db
        .fetch_optional("SELECT created_at FROM models WHERE id = ?", &[cand.model_id.into()])
        .await
        .map_err(ApiError::from)?
        .and_then(|r| r.i64("created_at"))
        .unwrap_or_default();
    Ok(Json(model_object(&cand.provider, &cand.code, created)))
}
