//! Provider adapters and the model catalog.
//!
//! Each provider is one module that owns its wire format (`types.rs`), its
//! translation to and from [`model`] (`convert.rs`) and its stream handling
//! (`stream.rs`), plus the catalog entries of its models. [`catalog`] names the
//! modules; adding a provider touches that list and nothing else.

pub mod error;
pub mod model;

pub use error::ProviderError;
pub use model::*;
pub mod catalog;
pub mod client;
pub mod http;
pub mod media;
pub mod names;

pub mod anthropic;
pub mod deepseek;
pub mod google;
pub mod huggingface;
pub mod openai;
pub mod xai;

pub use catalog::{ModelSpec, Pricing, Protocol, ProviderSpec, all_models, find_model, find_provider};
pub use client::{Http, HttpOptions, Upstream};

/// A boxed stream of translated events.
pub type EventStream = futures::stream::BoxStream<'static, Result<StreamEvent, ProviderError>>;

/// Where and how to reach one provider for one call: the operator's `base_url`
/// (as the provider's SDK takes it) and one decrypted key from the key pool.
#[derive(Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub api_key: String,
}

impl std::fmt::Debug for Endpoint {
    // The key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("base_url", &self.base_url).field("api_key", &"***").finish()
    }
}

impl Endpoint {
    /// `base_url` joined with an API path, without doubling the slash.
    pub fn url(&self, path: &str) -> String {
        [self.base_url.trim_end_matches('/'), "/", path.trim_start_matches('/')].concat()
    }
}

/// One non-streamed chat call to a provider speaking `protocol`. Providers are
/// chosen by protocol, not by name, so an operator-added OpenAI-compatible
/// endpoint (vLLM, Ollama, a proxy) works with nothing but its `base_url`.
pub async fn chat(
    protocol: Protocol,
    http: &Http,
    ep: &Endpoint,
    req: &ChatRequest,
) -> Result<ChatResponse, ProviderError> {
    match protocol {
        Protocol::OpenAi => openai::chat(http, ep, req).await,
        Protocol::Anthropic => anthropic::chat(http, ep, req).await,
        Protocol::Google => google::chat(http, ep, req).await,
    }
}

/// One streamed chat call to a provider speaking `protocol`.
pub async fn chat_stream(
    protocol: Protocol,
    http: &Http,
    ep: &Endpoint,
    req: &ChatRequest,
) -> Result<EventStream, ProviderError> {
    match protocol {
        Protocol::OpenAi => openai::chat_stream(http, ep, req).await,
        Protocol::Anthropic => anthropic::chat_stream(http, ep, req).await,
        Protocol::Google => google::chat_stream(http, ep, req).await,
    }
}
