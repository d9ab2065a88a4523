//! OpenAI's catalog entries. List prices in USD from platform.openai.com/pricing
//! (standard tier); cached input is OpenAI's automatic prompt-cache rate.

use crate::catalog::{ModelSpec, Pricing};

const BASE: ModelSpec = ModelSpec::blank("openai");

const REASONING_CHAT: &[&str] = &["chat", "streaming", "function_calling", "mcp", "vision", "reasoning"];
const STRUCTURED: &[&str] = &["text", "json", "json_object"];

/// Every OpenAI model the gateway ships.
pub(super) const MODELS: &[ModelSpec] = &[
    ModelSpec {
        code: "gpt-5.2",
        display_name: "GPT-5.2",
        features: REASONING_CHAT,
        output_formats: STRUCTURED,
        supports_mcp: true,
        context_window: 400_000,
        max_output_tokens: 128_000,
        pricing: Pricing::tokens(1.75, 0.175, 14.0),
        ..BASE
    },
    ModelSpec {
        code: "gpt-5.2-pro",
        display_name: "GPT-5.2 Pro",
        // Responses API only. Like o1-pro and gpt-5-pro, the pro tier is listed
        // without streaming (long runs are meant for background mode).
        features: &["chat", "function_calling", "mcp", "vision", "reasoning"],
        output_formats: &["text", "json"],
        supports_mcp: true,
        context_window: 400_000,
        max_output_tokens: 128_000,
        // No cached-input discount is listed for the pro tier.
        pricing: Pricing::tokens(21.0, 0.0, 168.0),
        ..BASE
    },
    ModelSpec {
        code: "gpt-5.2-chat-latest",
        display_name: "GPT-5.2 Chat",
        features: &["chat", "streaming", "function_calling", "mcp", "vision"],
        output_formats: STRUCTURED,
        supports_mcp: true,
        context_window: 128_000,
        max_output_tokens: 16_384,
        pricing: Pricing::tokens(1.75, 0.175, 14.0),
        ..BASE
    },
    ModelSpec {
        code: "gpt-5.3-codex",
        display_name: "GPT-5.3 Codex",
        // Responses API only.
        features: REASONING_CHAT,
        output_formats: &["text", "json"],
        supports_mcp: true,
        context_window: 400_000,
        max_output_tokens: 128_000,
        pricing: Pricing::tokens(1.75, 0.175, 14.0),
        ..BASE
    },
    ModelSpec {
        code: "gpt-5-mini",
        display_name: "GPT-5 Mini",
        features: REASONING_CHAT,
        output_formats: STRUCTURED,
        supports_mcp: true,
        context_window: 400_000,
        max_output_tokens: 128_000,
        pricing: Pricing::tokens(0.25, 0.025, 2.0),
        ..BASE
    },
    ModelSpec {
        code: "gpt-5-nano",
        display_name: "GPT-5 Nano",
        features: REASONING_CHAT,
        output_formats: STRUCTURED,
        supports_mcp: true,
        context_window: 400_000,
        max_output_tokens: 128_000,
        pricing: Pricing::tokens(0.05, 0.005, 0.40),
        ..BASE
    },
    ModelSpec {
        code: "dall-e-3",
        display_name: "DALL-E 3",
        features: &["image_generation"],
        output_formats: &["image", "base64"],
        // Standard quality, 1024x1024; HD and larger sizes cost $0.08-0.12.
        pricing: Pricing::image(0.04),
        ..BASE
    },
    ModelSpec {
        code: "whisper-1",
        display_name: "Whisper 1",
        features: &["transcription"],
        output_formats: &["text", "json"],
        // $0.006 per minute of audio.
        pricing: Pricing::seconds(0.0001),
        ..BASE
    },
    ModelSpec {
        code: "gpt-audio",
        display_name: "GPT Audio",
        features: &["chat", "streaming", "function_calling", "audio"],
        output_formats: &["text", "audio"],
        context_window: 128_000,
        max_output_tokens: 16_384,
        // Text token rates; audio tokens are $32 in / $64 out per million.
        pricing: Pricing::tokens(2.50, 0.0, 10.0),
        ..BASE
    },
    ModelSpec {
        code: "gpt-audio-mini",
        display_name: "GPT Audio Mini",
        features: &["chat", "streaming", "function_calling", "audio"],
        output_formats: &["text", "audio"],
        context_window: 128_000,
        max_output_tokens: 16_384,
        // Text token rates; audio tokens are $10 in / $20 out per million.
        pricing: Pricing::tokens(0.60, 0.0, 2.40),
        ..BASE
    },
    ModelSpec {
        code: "text-embedding-3-small",
        display_name: "Text Embedding 3 Small",
        features: &["embeddings"],
        output_formats: &["json", "base64"],
        context_window: 8_191,
        pricing: Pricing::tokens(0.02, 0.0, 0.0),
        ..BASE
    },
    ModelSpec {
        code: "text-embedding-3-large",
        display_name: "Text Embedding 3 Large",
        features: &["embeddings"],
        output_formats: &["json", "base64"],
        context_window: 8_191,
        pricing: Pricing::tokens(0.13, 0.0, 0.0),
        ..BASE
    },
];
