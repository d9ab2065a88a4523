//! Hugging Face: chat models through the OpenAI-compatible router at
//! `https://router.huggingface.co/v1`, which forwards to an inference provider.
//! Model codes are Hub repo ids. Image, video and embedding models are listed
//! for the catalog; their calls are not chat calls.

pub mod media;

use crate::catalog::{ModelSpec, Pricing, Protocol, ProviderSpec};
use crate::error::ProviderError;
use crate::model::{ChatRequest, ChatResponse};
use crate::{Endpoint, EventStream, Http, openai};

/// The Hugging Face provider.
pub const SPEC: ProviderSpec = ProviderSpec {
    name: "huggingface",
    display_name: "Hugging Face",
    default_base_url: "https://router.huggingface.co/v1",
    protocol: Protocol::OpenAi,
    models,
};

const BASE: ModelSpec = ModelSpec::blank("huggingface");

const CHAT_TOOLS: &[&str] = &["chat", "streaming", "function_calling"];
const CHAT_MCP: &[&str] = &["chat", "streaming", "function_calling", "mcp"];

// The router bills the inference provider that serves the call, at that
// provider's price, so there is no single list price. The figures below are
// the lowest public per-token prices of a common provider for each model
// (Novita / Together / DeepInfra, 2025); media prices are estimates from
// per-run prices on hosted inference. Operators can override them per row.
const MODELS: &[ModelSpec] = &[
    ModelSpec {
        code: "meta-llama/Llama-3.1-8B-Instruct",
        display_name: "Llama 3.1 8B Instruct",
        features: CHAT_TOOLS,
        output_formats: &["text", "json_object"],
        context_window: 131_072,
        max_output_tokens: 8_192,
        pricing: Pricing::tokens(0.02, 0.0, 0.05),
        ..BASE
    },
    ModelSpec {
        code: "meta-llama/Llama-3.1-70B-Instruct",
        display_name: "Llama 3.1 70B Instruct",
        features: CHAT_MCP,
        output_formats: &["text", "json_object"],
        supports_mcp: true,
        context_window: 131_072,
        max_output_tokens: 8_192,
        pricing: Pricing::tokens(0.40, 0.0, 0.40),
        ..BASE
    },
    ModelSpec {
        code: "Qwen/Qwen2.5-72B-Instruct",
        display_name: "Qwen 2.5 72B Instruct",
        features: CHAT_MCP,
        output_formats: &["text", "json", "json_object"],
        supports_mcp: true,
        context_window: 32_768,
        max_output_tokens: 8_192,
        pricing: Pricing::tokens(0.38, 0.0, 0.40),
        ..BASE
    },
    ModelSpec {
        code: "codellama/CodeLlama-34b-Instruct-hf",
        display_name: "CodeLlama 34B Instruct",
        features: &["chat", "streaming"],
        context_window: 16_384,
        max_output_tokens: 4_096,
        pricing: Pricing::tokens(0.78, 0.0, 0.78),
        ..BASE
    },
    ModelSpec {
        // A base (not instruct) model: prompts work best as code to continue.
        code: "bigcode/starcoder2-15b",
        display_name: "StarCoder 2 15B",
        features: &["chat", "streaming"],
        context_window: 16_384,
        max_output_tokens: 4_096,
        pricing: Pricing::tokens(0.30, 0.0, 0.30),
        ..BASE
    },
    ModelSpec {
        code: "black-forest-labs/FLUX.1-dev",
        display_name: "FLUX.1 [dev]",
        features: &["image_generation"],
        output_formats: &["image", "base64"],
        pricing: Pricing::image(0.025),
        ..BASE
    },
    ModelSpec {
        code: "stabilityai/stable-diffusion-xl-base-1.0",
        display_name: "Stable Diffusion XL",
        features: &["image_generation"],
        output_formats: &["image", "base64"],
        pricing: Pricing::image(0.003),
        ..BASE
    },
    ModelSpec {
        code: "stabilityai/stable-video-diffusion-img2vid-xt",
        display_name: "Stable Video Diffusion XT",
        features: &["video_generation"],
        output_formats: &["video"],
        pricing: Pricing::seconds(0.02),
        ..BASE
    },
    ModelSpec {
        // The diffusers motion adapter that AnimateDiff pipelines load.
        code: "guoyww/animatediff-motion-adapter-v1-5-2",
        display_name: "AnimateDiff",
        features: &["video_generation"],
        output_formats: &["video"],
        pricing: Pricing::seconds(0.02),
        ..BASE
    },
    ModelSpec {
        code: "BAAI/bge-large-en-v1.5",
        display_name: "BGE Large EN v1.5",
        features: &["embeddings"],
        output_formats: &["json"],
        context_window: 512,
        pricing: Pricing::tokens(0.01, 0.0, 0.0),
        ..BASE
    },
    ModelSpec {
        code: "intfloat/e5-large-v2",
        display_name: "E5 Large v2",
        features: &["embeddings"],
        output_formats: &["json"],
        context_window: 512,
        pricing: Pricing::tokens(0.01, 0.0, 0.0),
        ..BASE
    },
];

/// Hugging Face's catalog entries.
pub fn models() -> Vec<ModelSpec> {
    MODELS.to_vec()
}

/// One non-streamed chat call through the router.
pub async fn chat(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
    openai::chat(http, ep, req).await
}

/// One streamed chat call through the router.
pub async fn chat_stream(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<EventStream, ProviderError> {
    openai::chat_stream(http, ep, req).await
}
