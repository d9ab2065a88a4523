//! Anthropic Messages API adapter (`POST {base_url}/v1/messages`).
//!
//! [`types`] holds the wire format, [`convert`] the translation to and from
//! our model, `stream` the SSE translation, and [`serve`] the reverse
//! direction for the gateway's own Anthropic-compatible endpoint.
//!
//! JSON mode: Anthropic has no `json_object` switch. `json_object` adds an
//! instruction to the system prompt; `json_schema` forces a tool whose input
//! schema is the requested schema and returns that tool's input as the answer
//! text (Anthropic's documented pattern), falling back to a system instruction
//! carrying the schema when the tool slot is taken, thinking is on, or the
//! schema is not an object.

pub mod convert;
pub mod serve;
mod stream;
pub mod types;

use reqwest::header::{ACCEPT, HeaderName, HeaderValue};

use crate::catalog::{ModelSpec, Pricing, Protocol, ProviderSpec};
use crate::client::{self, Http, Upstream};
use crate::error::ProviderError;
use crate::http::{check, sse_events};
use crate::model::{ChatRequest, ChatResponse};
use crate::{Endpoint, EventStream};

pub use stream::status_for_error_type;

/// The API version every request declares.
pub const API_VERSION: &str = "2023-06-01";

/// The provider as the catalog lists it.
pub const SPEC: ProviderSpec = ProviderSpec {
    name: "anthropic",
    display_name: "Anthropic",
    default_base_url: "https://api.anthropic.com",
    protocol: Protocol::Anthropic,
    models,
};

const FEATURES: &[&str] = &["chat", "streaming", "function_calling", "mcp", "vision", "reasoning"];
const FORMATS: &[&str] = &["text", "json"];

/// One catalog entry; prices per million tokens: input, output, cache read, cache write (5-minute).
#[allow(clippy::too_many_arguments)]
const fn model(
    code: &'static str,
    display_name: &'static str,
    context_window: u32,
    max_output_tokens: u32,
    input_per_mtok: f64,
    output_per_mtok: f64,
    cached_input_per_mtok: f64,
    cache_write_per_mtok: f64,
) -> ModelSpec {
    ModelSpec {
        provider: "anthropic",
        code,
        display_name,
        features: FEATURES,
        output_formats: FORMATS,
        supports_mcp: true,
        context_window,
        max_output_tokens,
        pricing: Pricing {
            input_per_mtok,
            output_per_mtok,
            cached_input_per_mtok,
            cache_write_per_mtok,
            per_image: 0.0,
            per_second: 0.0,
        },
    }
}

/// Codes are the API aliases (the dated snapshots are `claude-sonnet-4-5-20250929`
/// and `claude-haiku-4-5-20251001`); limits and list prices from Anthropic's
/// model and pricing pages.
pub(crate) const MODELS: &[ModelSpec] = &[
    model("claude-opus-4-6", "Claude Opus 4.6", 1_000_000, 128_000, 5.0, 25.0, 0.50, 6.25),
    model("claude-sonnet-4-5", "Claude Sonnet 4.5", 200_000, 64_000, 3.0, 15.0, 0.30, 3.75),
    model("claude-haiku-4-5", "Claude Haiku 4.5", 200_000, 64_000, 1.0, 5.0, 0.10, 1.25),
];

/// Anthropic's models.
pub fn models() -> Vec<ModelSpec> {
    MODELS.to_vec()
}

/// POSTs a Messages request, asking for `accept`, and maps error statuses.
async fn post(
    http: &Http,
    ep: &Endpoint,
    body: &serde_json::Value,
    accept: &'static str,
) -> Result<Upstream, ProviderError> {
    let body = client::json_body(body)?;
    let headers = [
        client::secret_header(HeaderName::from_static("x-api-key"), &ep.api_key)?,
        (HeaderName::from_static("anthropic-version"), HeaderValue::from_static(API_VERSION)),
        (ACCEPT, HeaderValue::from_static(accept)),
    ];
    check(http.post_json(&ep.url("/v1/messages"), &headers, body).await?).await
}

/// One complete answer.
#[tracing::instrument(level = "debug", skip_all, fields(provider = "anthropic", model = %req.model))]
pub async fn chat(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
    let (body, ctx) = convert::request_body(req, false)?;
    let resp = post(http, ep, &body, "application/json").await?;
    let bytes = resp.bytes().await?;
    let wire: types::MessagesResponse =
        spgw_core::json::from_bytes(&bytes).map_err(|e| ProviderError::Decode(format!("messages response: {e}")))?;
    Ok(convert::from_wire(wire, &ctx))
}

/// A streamed answer; events are yielded as Anthropic sends them.
#[tracing::instrument(level = "debug", skip_all, fields(provider = "anthropic", model = %req.model))]
pub async fn chat_stream(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<EventStream, ProviderError> {
    let (body, ctx) = convert::request_body(req, true)?;
    let resp = post(http, ep, &body, "text/event-stream").await?;
    Ok(stream::translate(sse_events(resp), ctx))
}

/// `POST {base_url}/v1/messages/count_tokens`: the input tokens of a Messages
/// request as Anthropic counts them. `body` is sent as given (a Messages
/// request without `max_tokens`), so a client's own fields reach the API intact.
#[tracing::instrument(skip_all, fields(provider = "anthropic"))]
pub async fn count_tokens(
    http: &reqwest::Client,
    ep: &Endpoint,
    body: &serde_json::Value,
) -> Result<u64, ProviderError> {
    let req = http
        .post(ep.url("/v1/messages/count_tokens"))
        .header("x-api-key", &ep.api_key)
        .header("anthropic-version", API_VERSION)
        .json(body);
    let bytes = check(req.send().await?).await?.bytes().await?;
    let wire: types::CountTokensResponse = spgw_core::json::from_bytes(&bytes)
        .map_err(|e| ProviderError::Decode(format!("count_tokens response: {e}")))?;
    Ok(wire.input_tokens)
}
