//! The model catalog. Each provider module declares its own models
//! (`models()`); [`PROVIDERS`] is the one list that names the modules. At start
//! the gateway syncs these entries into the `models` table without overwriting
//! an operator's edits.

use serde::Serialize;

use crate::model::Usage;

/// Prices in USD. Token prices are per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Pricing {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    /// Price of cached prompt tokens (defaults to the input price when 0).
    pub cached_input_per_mtok: f64,
    /// Anthropic cache writes.
    pub cache_write_per_mtok: f64,
    /// Media: per generated image.
    pub per_image: f64,
    /// Media: per second of audio or video (generated or transcribed).
    pub per_second: f64,
}

impl Pricing {
    /// No price (free or unknown).
    pub const ZERO: Pricing = Pricing {
        input_per_mtok: 0.0,
        output_per_mtok: 0.0,
        cached_input_per_mtok: 0.0,
        cache_write_per_mtok: 0.0,
        per_image: 0.0,
        per_second: 0.0,
    };

    /// Token prices per million: input, cached input (0 = same as input), output.
    pub const fn tokens(input: f64, cached_input: f64, output: f64) -> Pricing {
        Pricing { input_per_mtok: input, cached_input_per_mtok: cached_input, output_per_mtok: output, ..Pricing::ZERO }
    }

    /// A flat price per generated image.
    pub const fn image(per_image: f64) -> Pricing {
        Pricing { per_image, ..Pricing::ZERO }
    }

    /// A price per second of audio or video.
    pub const fn seconds(per_second: f64) -> Pricing {
        Pricing { per_second, ..Pricing::ZERO }
    }

    /// Cost of a chat call with this usage.
    pub fn chat_cost(&self, u: &Usage) -> f64 {
        let cached_price =
            if self.cached_input_per_mtok > 0.0 { self.cached_input_per_mtok } else { self.input_per_mtok };
        let uncached = u.input_tokens.saturating_sub(u.cached_input_tokens + u.cache_creation_input_tokens);
        let write_price = if self.cache_write_per_mtok > 0.0 { self.cache_write_per_mtok } else { self.input_per_mtok };
        (uncached as f64 * self.input_per_mtok
            + u.cached_input_tokens as f64 * cached_price
            + u.cache_creation_input_tokens as f64 * write_price
            + u.output_tokens as f64 * self.output_per_mtok)
            / 1_000_000.0
    }
}

/// One model as its provider module declares it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSpec {
    /// Provider code (`openai`, `anthropic`, ...).
    pub provider: &'static str,
    /// The model code exactly as the provider spells it.
    pub code: &'static str,
    pub display_name: &'static str,
    /// `chat`, `streaming`, `function_calling`, `mcp`, `vision`, `image_generation`,
    /// `audio`, `transcription`, `embeddings`, `video_generation`, `reasoning`, `music`, `speech`.
    pub features: &'static [&'static str],
    /// `text`, `json`, `json_object`, `image`, `base64`, `audio`, `video`.
    pub output_formats: &'static [&'static str],
    pub supports_mcp: bool,
    pub context_window: u32,
    pub max_output_tokens: u32,
    pub pricing: Pricing,
}

impl ModelSpec {
    /// An empty entry of `provider` (text output, no features, no price), the
    /// base that catalog entries fill in with `..`.
    pub const fn blank(provider: &'static str) -> ModelSpec {
        ModelSpec {
            provider,
            code: "",
            display_name: "",
            features: &[],
            output_formats: &["text"],
            supports_mcp: false,
            context_window: 0,
            max_output_tokens: 0,
            pricing: Pricing::ZERO,
        }
    }
}

/// Which wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// OpenAI Chat Completions (also xAI, DeepSeek, Hugging Face router, and
    /// operator-added OpenAI-compatible endpoints such as vLLM or Ollama).
    OpenAi,
    Anthropic,
    Google,
}

/// One provider as its module declares it. (No `PartialEq`: comparing the
/// `models` function pointers is meaningless; compare `name`.)
#[derive(Debug, Clone, Serialize)]
pub struct ProviderSpec {
    pub name: &'static str,
    pub display_name: &'static str,
    /// The base URL the provider's official SDK takes; the adapter appends the API path.
    pub default_base_url: &'static str,
    pub protocol: Protocol,
    /// The module's catalog entries.
    #[serde(skip)]
    pub models: fn() -> Vec<ModelSpec>,
}

/// Every provider module the gateway ships. Adding a provider means adding its
/// module's `SPEC` here and nothing else.
pub const PROVIDERS: &[&ProviderSpec] = &[
    &crate::openai::SPEC,
    &crate::anthropic::SPEC,
    &crate::google::SPEC,
    &crate::xai::SPEC,
    &crate::deepseek::SPEC,
    &crate::huggingface::SPEC,
];

/// The built-in provider named `name` (`openai`, `xai`, ...).
pub fn find_provider(name: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS.iter().copied().find(|p| p.name == name)
}

/// Every built-in model of every provider, in provider order.
pub fn all_models() -> Vec<ModelSpec> {
    PROVIDERS.iter().flat_map(|p| (p.models)()).collect()
}

/// The built-in model `code` of provider `provider`.
pub fn find_model(provider: &str, code: &str) -> Option<ModelSpec> {
    find_provider(provider).and_then(|p| (p.models)().into_iter().find(|m| m.code == code))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const FEATURES: &[&str] = &[
        "chat",
        "streaming",
        "function_calling",
        "mcp",
        "vision",
        "image_generation",
        "audio",
        "transcription",
        "embeddings",
        "video_generation",
        "reasoning",
        "music",
        "speech",
    ];
    const FORMATS: &[&str] = &["text", "json", "json_object", "image", "base64", "audio", "video"];

    #[test]
    fn every_entry_is_well_formed() {
        let mut seen = HashSet::new();
        for p in PROVIDERS {
            assert!(p.default_base_url.starts_with("https://"), "{}", p.name);
            let models = (p.models)();
            assert!(!models.is_empty(), "{} has no models", p.name);
            for m in models {
                let id = format!("{}/{}", m.provider, m.code);
                assert_eq!(m.provider, p.name, "{id} is listed under the wrong provider");
                assert!(seen.insert((m.provider, m.code)), "duplicate {id}");
                assert!(!m.display_name.is_empty(), "{id}");
                assert!(!m.features.is_empty() && !m.output_formats.is_empty(), "{id}");
                for f in m.features {
                    assert!(FEATURES.contains(f), "{id}: unknown feature {f}");
                }
                for f in m.output_formats {
                    assert!(FORMATS.contains(f), "{id}: unknown output format {f}");
                }
                let has = |f: &str| m.features.contains(&f);
                if has("streaming") || has("function_calling") || has("reasoning") {
                    assert!(has("chat"), "{id}: chat features without chat");
                }
                if has("chat") {
                    assert!(m.context_window > 0 && m.max_output_tokens > 0, "{id}: chat model without limits");
                    assert!(m.output_formats.contains(&"text"), "{id}: chat model without text output");
                }
                assert_eq!(m.supports_mcp, has("mcp"), "{id}: supports_mcp and the mcp feature disagree");
                if m.supports_mcp {
                    assert!(has("function_calling"), "{id}: MCP needs function calling");
                }
                let pr = m.pricing;
                for v in [
                    pr.input_per_mtok,
                    pr.output_per_mtok,
                    pr.cached_input_per_mtok,
                    pr.cache_write_per_mtok,
                    pr.per_image,
                    pr.per_second,
                ] {
                    assert!(v.is_finite() && v >= 0.0, "{id}: bad price {v}");
                }
                if has("image_generation") && !has("chat") {
                    assert!(m.output_formats.contains(&"image"), "{id}");
                }
            }
        }
    }

    #[test]
    fn lookups_find_entries() {
        assert_eq!(find_provider("deepseek").map(|p| p.protocol), Some(Protocol::OpenAi));
        assert!(find_provider("nope").is_none());
        let m = find_model("openai", "gpt-5.2").expect("gpt-5.2 is in the catalog");
        assert!(m.features.contains(&"streaming") && m.supports_mcp);
        assert!(find_model("openai", "grok-code-fast-1").is_none());
        assert_eq!(all_models().len(), PROVIDERS.iter().map(|p| (p.models)().len()).sum::<usize>());
    }
}
