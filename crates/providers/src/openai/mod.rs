//! OpenAI: Chat Completions (`{base_url}/chat/completions`) for most models,
//! the Responses API (`{base_url}/responses`) for those only it serves. The
//! same code speaks to every OpenAI-compatible server (xAI, DeepSeek, the
//! Hugging Face router, vLLM, Ollama); their differences are keyed on the
//! model code ([`Quirks`]), so an operator-added endpoint needs no code.

pub mod compat;
pub mod convert;
pub mod media;
pub mod media_types;
mod models;
pub mod responses;
pub(crate) mod stream;
pub mod types;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::catalog::{ModelSpec, Protocol, ProviderSpec};
use crate::client::{self, Http, Upstream};
use crate::error::ProviderError;
use crate::model::{ChatRequest, ChatResponse};
use crate::names::ToolNames;
use crate::{Endpoint, EventStream, http};

/// The OpenAI provider.
pub const SPEC: ProviderSpec = ProviderSpec {
    name: "openai",
    display_name: "OpenAI",
    default_base_url: "https://api.openai.com/v1",
    protocol: Protocol::OpenAi,
    models,
};

/// OpenAI's catalog entries.
pub fn models() -> Vec<ModelSpec> {
    models::MODELS.to_vec()
}

/// Models served only by the Responses API (Chat Completions answers 404 for
/// them). Dated snapshots (`gpt-5.2-pro-2025-12-11`) match their family.
pub const RESPONSES_ONLY: &[&str] = &[
    "gpt-5.2-pro",
    "gpt-5.3-codex",
    "gpt-5.2-codex",
    "gpt-5.1-codex",
    "gpt-5-codex",
    "gpt-5-pro",
    "o3-pro",
    "o1-pro",
    "codex-mini-latest",
];

/// Whether `model` must go through `/responses`.
pub fn uses_responses_api(model: &str) -> bool {
    RESPONSES_ONLY.iter().any(|m| model == *m || model.strip_prefix(m).is_some_and(|rest| rest.starts_with('-')))
}

/// How a model's server deviates from plain Chat Completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// Send the limit as `max_completion_tokens` (GPT-5 and o-series reject
    /// `max_tokens`); otherwise as `max_tokens`, which every compatible server knows.
    pub max_completion_tokens: bool,
    /// Send reasoning back as `reasoning_content` on assistant turns: DeepSeek
    /// requires it on tool-call turns in thinking mode (and ignores it elsewhere).
    pub echo_reasoning: bool,
}

impl Quirks {
    /// The quirks of the server behind a model code.
    pub fn for_model(model: &str) -> Self {
        let openai = model.starts_with("gpt-")
            || model.strip_prefix('o').is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        Quirks { max_completion_tokens: openai, echo_reasoning: model.starts_with("deepseek-") }
    }
}

/// One non-streamed chat call.
#[tracing::instrument(level = "debug", skip_all, fields(model = %req.model))]
pub async fn chat(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
    if uses_responses_api(&req.model) {
        return responses::chat(http, ep, req).await;
    }
    let names = ToolNames::new(&req.tools);
    let body = convert::to_wire(req, &names, Quirks::for_model(&req.model), false)?;
    let resp = send(http, ep, "chat/completions", &body).await?;
    let bytes = resp.bytes().await?;
    let wire: types::ChatCompletion = decode(&bytes)?;
    let mut out = convert::from_wire(wire, &names)?;
    // With no tool name rewritten, the body is what an OpenAI client would get.
    if names.is_identity() {
        out.raw = Some(bytes);
    }
    Ok(out)
}

/// One streamed chat call; events are translated as the chunks arrive.
#[tracing::instrument(level = "debug", skip_all, fields(model = %req.model))]
pub async fn chat_stream(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<EventStream, ProviderError> {
    if uses_responses_api(&req.model) {
        return responses::chat_stream(http, ep, req).await;
    }
    let names = ToolNames::new(&req.tools);
    let body = convert::to_wire(req, &names, Quirks::for_model(&req.model), true)?;
    let resp = send(http, ep, "chat/completions", &body).await?;
    Ok(stream::translate(resp, stream::ChatStreamParser::new(names)))
}

/// POSTs a JSON body with Bearer auth (none when the key is empty, as for a
/// local Ollama) and maps error statuses.
pub(crate) async fn send<T: Serialize>(
    http: &Http,
    ep: &Endpoint,
    path: &str,
    body: &T,
) -> Result<Upstream, ProviderError> {
    let body = client::json_body(body)?;
    let auth = if ep.api_key.is_empty() { None } else { Some(client::bearer(&ep.api_key)?) };
    http::check(http.post_json(&ep.url(path), auth.as_slice(), body).await?).await
}

/// Reads a whole JSON answer.
pub(crate) async fn read_json<T: DeserializeOwned>(resp: impl Into<Upstream>) -> Result<T, ProviderError> {
    decode(&resp.into().bytes().await?)
}

/// Parses a JSON answer's body.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProviderError> {
    spgw_core::json::from_bytes(bytes).map_err(|e| ProviderError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_quirks_follow_the_model() {
        assert!(uses_responses_api("gpt-5.2-pro"));
        assert!(uses_responses_api("gpt-5.2-pro-2025-12-11"));
        assert!(uses_responses_api("gpt-5.3-codex"));
        assert!(!uses_responses_api("gpt-5.2"));
        assert!(!uses_responses_api("gpt-5.2-chat-latest"));
        assert!(Quirks::for_model("gpt-5-mini").max_completion_tokens);
        assert!(Quirks::for_model("o3").max_completion_tokens);
        assert!(!Quirks::for_model("ollama-model").max_completion_tokens);
        assert!(!Quirks::for_model("deepseek-chat").max_completion_tokens);
        assert!(Quirks::for_model("deepseek-reasoner").echo_reasoning);
        assert!(!Quirks::for_model("gpt-5.2").echo_reasoning);
    }
}
