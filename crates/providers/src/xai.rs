//! xAI (Grok): the OpenAI protocol at `https://api.x.ai/v1`. Reasoning models
//! return their thinking as `reasoning_content`, which the OpenAI adapter maps
//! to thinking parts; the calls themselves are the OpenAI adapter's.

pub mod media;

use crate::catalog::{ModelSpec, Pricing, Protocol, ProviderSpec};
use crate::error::ProviderError;
use crate::model::{ChatRequest, ChatResponse};
use crate::{Endpoint, EventStream, Http, openai};

/// The xAI provider.
pub const SPEC: ProviderSpec = ProviderSpec {
    name: "xai",
    display_name: "xAI",
    default_base_url: "https://api.x.ai/v1",
    protocol: Protocol::OpenAi,
    models,
};

const BASE: ModelSpec = ModelSpec::blank("xai");

// List prices from docs.x.ai (per million tokens; Imagine per image / per second).
const MODELS: &[ModelSpec] = &[
    ModelSpec {
        code: "grok-4-1-fast-reasoning",
        display_name: "Grok 4.1 Fast (reasoning)",
        features: &["chat", "streaming", "function_calling", "mcp", "vision", "reasoning"],
        output_formats: &["text", "json", "json_object"],
        supports_mcp: true,
        context_window: 2_000_000,
        max_output_tokens: 30_000,
        pricing: Pricing::tokens(0.20, 0.05, 0.50),
        ..BASE
    },
    ModelSpec {
        code: "grok-4-1-fast-non-reasoning",
        display_name: "Grok 4.1 Fast (non-reasoning)",
        features: &["chat", "streaming", "function_calling", "mcp", "vision"],
        output_formats: &["text", "json", "json_object"],
        supports_mcp: true,
        context_window: 2_000_000,
        max_output_tokens: 30_000,
        pricing: Pricing::tokens(0.20, 0.05, 0.50),
        ..BASE
    },
    ModelSpec {
        code: "grok-code-fast-1",
        display_name: "Grok Code Fast 1",
        features: &["chat", "streaming", "function_calling", "mcp", "reasoning"],
        output_formats: &["text", "json", "json_object"],
        supports_mcp: true,
        context_window: 256_000,
        max_output_tokens: 10_000,
        pricing: Pricing::tokens(0.20, 0.02, 1.50),
        ..BASE
    },
    ModelSpec {
        code: "grok-imagine-image",
        display_name: "Grok Imagine Image",
        features: &["image_generation"],
        output_formats: &["image", "base64"],
        pricing: Pricing::image(0.02),
        ..BASE
    },
    ModelSpec {
        code: "grok-imagine-image-pro",
        display_name: "Grok Imagine Image Pro",
        features: &["image_generation"],
        output_formats: &["image", "base64"],
        pricing: Pricing::image(0.07),
        ..BASE
    },
    ModelSpec {
        code: "grok-imagine-video",
        display_name: "Grok Imagine Video",
        features: &["video_generation"],
        output_formats: &["video"],
        // 480p; 720p costs more.
        pricing: Pricing::seconds(0.05),
        ..BASE
    },
];

/// xAI's catalog entries.
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
