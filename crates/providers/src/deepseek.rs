//! DeepSeek (V3.2): the OpenAI protocol at `https://api.deepseek.com` (no
//! `/v1`; the path is `/chat/completions`). `deepseek-reasoner` is thinking
//! mode: its `reasoning_content` becomes thinking parts, and is sent back on
//! later turns as DeepSeek requires for tool-call turns (see `openai::Quirks`).
//! Cache hits arrive as `prompt_cache_hit_tokens`.

use crate::catalog::{ModelSpec, Pricing, Protocol, ProviderSpec};
use crate::error::ProviderError;
use crate::model::{ChatRequest, ChatResponse};
use crate::{Endpoint, EventStream, Http, openai};

/// The DeepSeek provider.
pub const SPEC: ProviderSpec = ProviderSpec {
    name: "deepseek",
    display_name: "DeepSeek",
    default_base_url: "https://api.deepseek.com",
    protocol: Protocol::OpenAi,
    models,
};

// api-docs.deepseek.com pricing for V3.2: $0.28 input (cache miss), $0.028
// cache hit, $0.42 output per million tokens, for both modes.
const V32: Pricing = Pricing::tokens(0.28, 0.028, 0.42);

const MODELS: &[ModelSpec] = &[
    ModelSpec {
        provider: "deepseek",
        code: "deepseek-chat",
        display_name: "DeepSeek V3.2",
        features: &["chat", "streaming", "function_calling", "mcp"],
        output_formats: &["text", "json_object"],
        supports_mcp: true,
        context_window: 128_000,
        max_output_tokens: 8_192,
        pricing: V32,
    },
    ModelSpec {
        provider: "deepseek",
        code: "deepseek-reasoner",
        display_name: "DeepSeek V3.2 (thinking)",
        features: &["chat", "streaming", "function_calling", "mcp", "reasoning"],
        output_formats: &["text", "json_object"],
        supports_mcp: true,
        context_window: 128_000,
        max_output_tokens: 65_536,
        pricing: V32,
    },
];

/// DeepSeek's catalog entries.
pub fn models() -> Vec<ModelSpec> {
    MODELS.to_vec()
}

/// One non-streamed chat call.
pub async fn chat(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
    openai::chat(http, ep, req).await
}

/// One streamed chat call.
pub async fn chat_stream(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<EventStream, ProviderError> {
    openai::chat_stream(http, ep, req).await
}
