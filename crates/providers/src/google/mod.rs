//! Google Gemini API (`generativelanguage.googleapis.com`, `v1beta`): chat via
//! `generateContent` / `streamGenerateContent?alt=sse`, and the Google catalog.

mod convert;
pub mod media;
pub mod media_types;
mod stream;
mod types;

use std::time::Duration;

use reqwest::header::HeaderName;
use serde_json::{Map, Value};

use crate::catalog::{ModelSpec, Pricing, Protocol, ProviderSpec};
use crate::client::{self, Http, Upstream};
use crate::http::Answer;
use crate::model::{ChatRequest, ChatResponse};
use crate::names::ToolNames;
use crate::{Endpoint, EventStream, ProviderError, http};

pub use convert::GENERATED_ID_PREFIX;

/// The Google provider.
pub const SPEC: ProviderSpec = ProviderSpec {
    name: "google",
    display_name: "Google",
    default_base_url: "https://generativelanguage.googleapis.com",
    protocol: Protocol::Google,
    models,
};

const CHAT_FEATURES: &[&str] = &["chat", "streaming", "function_calling", "mcp", "vision", "reasoning"];
const CHAT_FORMATS: &[&str] = &["text", "json", "json_object"];

/// Google's models, with list prices of the paid tier (prompts up to 200k tokens).
pub fn models() -> Vec<ModelSpec> {
    let model = |code, display_name, features, output_formats, context_window, max_output_tokens, pricing| ModelSpec {
        provider: "google",
        code,
        display_name,
        features,
        output_formats,
        supports_mcp: features == CHAT_FEATURES,
        context_window,
        max_output_tokens,
        pricing,
    };
    vec![
        model(
            "gemini-3-pro-preview",
            "Gemini 3 Pro",
            CHAT_FEATURES,
            CHAT_FORMATS,
            1_048_576,
            65_536,
            Pricing { input_per_mtok: 2.0, output_per_mtok: 12.0, cached_input_per_mtok: 0.2, ..Pricing::default() },
        ),
        model(
            "gemini-3-flash-preview",
            "Gemini 3 Flash",
            CHAT_FEATURES,
            CHAT_FORMATS,
            1_048_576,
            65_536,
            Pricing { input_per_mtok: 0.5, output_per_mtok: 3.0, cached_input_per_mtok: 0.05, ..Pricing::default() },
        ),
        model(
            "imagen-4.0-generate-001",
            "Imagen 4",
            &["image_generation"],
            &["image", "base64"],
            480,
            0,
            Pricing { per_image: 0.04, ..Pricing::default() },
        ),
        model(
            "veo-3.1-generate-preview",
            "Veo 3.1",
            &["video_generation"],
            &["video"],
            1_024,
            0,
            Pricing { per_second: 0.40, ..Pricing::default() },
        ),
        // Lyria RealTime is experimental on the Gemini API and has no published
        // price yet; operators can set one on the model row.
        model("lyria-realtime-exp", "Lyria RealTime", &["music", "audio"], &["audio"], 0, 0, Pricing::default()),
        model(
            "gemini-2.5-flash-preview-tts",
            "Gemini 2.5 Flash TTS",
            &["speech", "audio"],
            &["audio"],
            8_192,
            16_384,
            Pricing { input_per_mtok: 0.5, output_per_mtok: 10.0, ..Pricing::default() },
        ),
        model(
            "gemini-embedding-001",
            "Gemini Embedding",
            &["embeddings"],
            &["json"],
            2_048,
            0,
            Pricing { input_per_mtok: 0.15, ..Pricing::default() },
        ),
    ]
}

/// One non-streamed chat call.
#[tracing::instrument(level = "debug", skip_all, fields(provider = "google", model = %req.model))]
pub async fn chat(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
    let names = ToolNames::new(&req.tools);
    let resp = send(http, ep, req, &names, "generateContent").await?;
    let bytes = resp.bytes().await?;
    let parsed: types::GenerateContentResponse =
        spgw_core::json::from_bytes(&bytes).map_err(|e| ProviderError::Decode(format!("bad Gemini answer: {e}")))?;
    Ok(convert::chat_response(parsed, &names, model_code(&req.model)))
}

/// One streamed chat call; events are translated as the upstream sends them.
#[tracing::instrument(level = "debug", skip_all, fields(provider = "google", model = %req.model))]
pub async fn chat_stream(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<EventStream, ProviderError> {
    let names = ToolNames::new(&req.tools);
    let resp = send(http, ep, req, &names, "streamGenerateContent?alt=sse").await?;
    Ok(stream::translate(http::sse_events(resp), names, model_code(&req.model).to_string()))
}

/// Callers may write `models/gemini-...` as Google's SDKs print it.
fn model_code(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

async fn send(
    http: &Http,
    ep: &Endpoint,
    req: &ChatRequest,
    names: &ToolNames,
    method: &str,
) -> Result<Upstream, ProviderError> {
    let wire = convert::build_request(req, names)?;
    let body = if req.extra.is_empty() {
        serde_json::to_vec(&wire)
    } else {
        serde_json::to_value(&wire).and_then(|mut v| {
            merge(&mut v, &req.extra);
            serde_json::to_vec(&v)
        })
    }
    .map_err(|e| ProviderError::Decode(format!("cannot encode Gemini request: {e}")))?;
    let url = ep.url(&format!("v1beta/models/{}:{method}", model_code(&req.model)));
    let key = client::secret_header(HeaderName::from_static("x-goog-api-key"), &ep.api_key)?;
    let resp = http.post_json(&url, &[key], body).await?;
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let retry_after = http::retry_after(resp.headers());
    let text = Answer::text(resp).await;
    Err(error_from_body(status, retry_after, text))
}

/// Merges `extra` into the body: objects merge key by key (so
/// `{"generationConfig":{"topK":5}}` adds to ours), anything else replaces.
fn merge(body: &mut Value, extra: &Map<String, Value>) {
    let Value::Object(obj) = body else { return };
    for (k, v) in extra {
        match (obj.get_mut(k), v) {
            (Some(existing @ Value::Object(_)), Value::Object(more)) => merge(existing, more),
            _ => {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Maps a Google error answer. Beyond the status, Google's `details` say more:
/// an invalid key is a 400 with `ErrorInfo.reason = API_KEY_INVALID` (the key
/// pool must see it as an auth failure), and a 429 carries `RetryInfo.retryDelay`
/// instead of a `Retry-After` header.
pub(crate) fn error_from_body(status: u16, retry_after: Option<Duration>, body: String) -> ProviderError {
    let details = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v.pointer("/error/details").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let detail = |kind: &str| details.iter().find(|d| d["@type"].as_str().is_some_and(|t| t.ends_with(kind)));
    let err = http::error_from_parts(status, retry_after, body);
    match err {
        ProviderError::InvalidRequest { status, message, .. }
            if detail("google.rpc.ErrorInfo")
                .and_then(|d| d["reason"].as_str())
                .is_some_and(|r| matches!(r, "API_KEY_INVALID" | "API_KEY_EXPIRED")) =>
        {
            ProviderError::Auth { status, message }
        }
        ProviderError::RateLimited { retry_after: None, message } => ProviderError::RateLimited {
            retry_after: detail("google.rpc.RetryInfo").and_then(|d| d["retryDelay"].as_str()).and_then(parse_duration),
            message,
        },
        other => other,
    }
}

/// A protobuf JSON `Duration` such as `"39s"` or `"1.5s"`.
fn parse_duration(s: &str) -> Option<Duration> {
    s.strip_suffix('s')?.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invalid_key_is_an_auth_error_and_retry_info_is_read() {
        let body = json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}});
        let e = error_from_body(400, None, body.to_string());
        assert!(
            matches!(e, ProviderError::Auth { status: 400, ref message } if message.starts_with("API key not valid"))
        );

        let body = json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "39s"}]}});
        let e = error_from_body(429, None, body.to_string());
        assert!(matches!(e, ProviderError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(39)));

        let e = error_from_body(400, None, json!({"error": {"code": 400, "message": "bad"}}).to_string());
        assert!(matches!(e, ProviderError::InvalidRequest { status: 400, .. }));
    }

    #[test]
    fn extra_merges_deeply() {
        let mut body = json!({"generationConfig": {"temperature": 0.5}, "contents": []});
        let extra = json!({"generationConfig": {"topK": 5}, "safetySettings": [{"category": "X"}]});
        merge(&mut body, extra.as_object().unwrap_or(&Map::new()));
        assert_eq!(body["generationConfig"], json!({"temperature": 0.5, "topK": 5}));
        assert_eq!(body["safetySettings"][0]["category"], "X");
    }

    #[test]
    fn catalog_has_the_shipped_models() {
        let m = models();
        for code in
            ["gemini-3-pro-preview", "gemini-3-flash-preview", "imagen-4.0-generate-001", "gemini-embedding-001"]
        {
            assert!(m.iter().any(|s| s.code == code), "{code}");
        }
        assert!(m.iter().filter(|s| s.supports_mcp).all(|s| s.features.contains(&"function_calling")));
    }
}
