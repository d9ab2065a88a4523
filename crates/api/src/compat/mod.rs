//! Drop-in OpenAI- and Anthropic-compatible endpoints, so the official SDKs
//! work against the gateway with nothing changed but the base URL and the key:
//!
//! - [`openai`]: `POST /v1/chat/completions`, `GET /v1/models`, `GET /v1/models/{model}`;
//! - [`anthropic`]: `POST /v1/messages`, `POST /v1/messages/count_tokens`.
//!
//! Both are stateless (no session) and route through the same router as the
//! native chat, so any provider is reachable through either surface: the
//! client's wire request becomes our [`ChatRequest`], the target provider's
//! adapter speaks its own protocol, and the answer or stream is written back in
//! the client's format. `model` is `provider/model_code` or a bare model code.
//! Errors come out in each surface's own shape ([`errors`]), 401 included:
//! each surface mounts its own authentication middleware.

pub mod anthropic;
pub mod errors;
pub mod openai;
mod sse;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use spgw_providers::{ChatRequest, ContentPart, Protocol, ResponseFormat};
use spgw_routing::{CallMeta, Candidate, ModelRef, Needs, RouteError};

use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiResult};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The model a compatible request names: `provider/model_code` when the part
/// before the first `/` is a provider offering the rest, else a bare model code
/// (which may itself contain `/`, as Hugging Face codes do), served by the
/// first enabled provider that offers it.
pub async fn resolve_model(state: &AppState, model: &str) -> Result<Candidate, RouteError> {
    if let Some((provider, code)) = model.split_once('/') {
        let r = ModelRef { provider: provider.to_string(), model: code.to_string() };
        match state.router.models.resolve(&r).await {
            Err(RouteError::UnknownModel(_)) => {}
            found => return found,
        }
    }
    state.router.models.resolve_code(model).await
}

/// Makes a translated request fit the model that will serve it: refuses a
/// model without a feature the request needs (the caller's 400), and drops the
/// client's pass-through fields when the target speaks another protocol
/// (an OpenAI `seed` means nothing to Anthropic, which would refuse it).
pub fn fit(req: &mut ChatRequest, cand: &Candidate, surface: Protocol) -> ApiResult<()> {
    let needs = Needs {
        tools: !req.tools.is_empty(),
        vision: req.messages.iter().any(|m| m.content.iter().any(|p| matches!(p, ContentPart::Image { .. }))),
        json: matches!(req.response_format, Some(ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. })),
        stream: req.stream,
    };
    if let Some(missing) = cand.lacks(needs) {
        return Err(ApiError::BadRequest(format!("model {} does not support {missing}", cand.label())));
    }
    if cand.protocol != surface && !req.extra.is_empty() {
        tracing::debug!(fields = ?req.extra.keys().collect::<Vec<_>>(), model = %cand.label(), "dropping fields the target protocol does not know");
        req.extra.clear();
    }
    Ok(())
}

/// What the request log records for a compatible call.
pub fn call_meta(caller: &Caller, request_id: String, endpoint: &'static str, cand: &Candidate) -> CallMeta {
    CallMeta {
        request_id,
        user_id: Some(caller.user_id),
        api_key_id: caller.api_key_id,
        endpoint,
        requested_model: Some(cand.label()),
        ..CallMeta::default()
    }
}

/// Seconds since the Unix epoch (OpenAI's `created`).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Authenticates like [`auth::require`], but answers a failure with `E`'s shape.
async fn authenticate<E: From<ApiError> + IntoResponse>(state: &AppState, mut req: Request, next: Next) -> Response {
    match auth::resolve(state, req.headers()).await {
        Ok(Some(caller)) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Ok(None) => E::from(ApiError::Unauthenticated).into_response(),
        Err(e) => E::from(e).into_response(),
    }
}

/// Middleware of the OpenAI-compatible routes: a gateway API key (or the login
/// cookie), else OpenAI's 401. Other OpenAI-shaped routes (embeddings, images,
/// audio) mount it too.
pub async fn authenticate_openai(State(state): State<AppState>, req: Request, next: Next) -> Response {
    authenticate::<errors::OpenAiError>(&state, req, next).await
}

/// Middleware of the Anthropic-compatible routes: as [`authenticate_openai`]
/// with Anthropic's 401, and the request id also as Anthropic's `request-id`
/// header (which the Anthropic SDK reads).
pub async fn authenticate_anthropic(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id = req.extensions().get::<RequestId>().and_then(|r| HeaderValue::from_str(&r.0).ok());
    let mut resp = authenticate::<errors::AnthropicError>(&state, req, next).await;
    if let Some(id) = id {
        resp.headers_mut().insert("request-id", id);
    }
    resp
}

/// `e` in the shape of the surface `path` belongs to: under `/v1`,
/// `/v1/messages...` is Anthropic's and the rest OpenAI's; elsewhere the API's own.
pub fn shaped(path: &str, e: ApiError) -> Response {
    if !path.starts_with("/v1/") && path != "/v1" {
        e.into_response()
    } else if path.starts_with("/v1/messages") {
        errors::AnthropicError(e).into_response()
    } else {
        errors::OpenAiError(e).into_response()
    }
}
