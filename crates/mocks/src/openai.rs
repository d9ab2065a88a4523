//! OpenAI-protocol mock, served for four providers under their prefixes:
//! `/openai/v1`, `/xai/v1`, `/deepseek` and `/huggingface/v1`. Routes:
//! `POST chat/completions` (JSON, or SSE exactly as OpenAI frames it:
//! `data: {chunk}` lines, a usage chunk with empty `choices` when
//! `stream_options.include_usage`, then `data: [DONE]`), `POST responses`
//! (JSON, or `event:`/`data:` typed events), `GET models` and
//! `POST embeddings` (deterministic unit vectors); the media routes
//! (images, speech, transcription, GPT Audio, xAI videos) are in [`media`].
//!
//! Checked as the real API checks: a missing Bearer key or the key `bad-key`
//! gets 401; on `openai`, GPT-5/o-series refuse `max_tokens` and the
//! Responses-only models refuse Chat Completions. Errors use OpenAI's body
//! (`{"error":{"message","type","param","code"}}`); a 429 carries
//! `x-ratelimit-*` headers and, with `[[retry-after:N]]`, `retry-after`.
//!
//! Beyond the shared [`Directives`], `[[stream-error]]` makes a stream send an
//! `{"error":{...}}` data line after its first chunk (OpenAI's mid-stream error).
//! `[[thinking]]` adds `reasoning_content` on `deepseek` and `xai`, and a
//! reasoning item with a summary on `responses`. DeepSeek usage reports half of
//! the prompt as `prompt_cache_hit_tokens`, so cache accounting is visible.

mod chat;
mod media;
mod responses;

use std::convert::Infallible;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::{Directives, MockState, Recorded, count_tokens, header_pairs};

/// Provider names and the path prefix each is served under.
const PREFIXES: &[(&str, &str)] =
    &[("openai", "/openai/v1"), ("xai", "/xai/v1"), ("deepseek", "/deepseek"), ("huggingface", "/huggingface/v1")];

/// Models served only by the Responses API (as OpenAI lists them).
const RESPONSES_ONLY: &[&str] = &["gpt-5.2-pro", "gpt-5.3-codex", "gpt-5-pro", "gpt-5-codex", "o1-pro", "o3-pro"];

/// Routes of this provider's mock.
pub fn router() -> Router<MockState> {
    PREFIXES.iter().fold(Router::new(), |r, &(provider, prefix)| routes(r, provider, prefix))
}

fn routes(r: Router<MockState>, provider: &'static str, prefix: &str) -> Router<MockState> {
    // Recorded paths are relative to the provider's base URL.
    let cut = prefix.len();
    let admitted = move |answer: fn(Call) -> Response| {
        move |s: State<MockState>, uri: Uri, h: HeaderMap, b: Bytes| async move {
            match admit(provider, cut, &s, &uri, &h, &b).await {
                Ok(call) => answer(call),
                Err(resp) => resp,
            }
        }
    };
    let r = r
        .route(&format!("{prefix}/chat/completions"), post(admitted(media::chat_or_audio)))
        .route(&format!("{prefix}/responses"), post(admitted(responses::handle)))
        .route(&format!("{prefix}/embeddings"), post(admitted(embeddings)))
        .route(&format!("{prefix}/models"), get(admitted(list_models)));
    media::routes(r, provider, prefix)
}

/// One admitted request.
pub(crate) struct Call {
    pub provider: &'static str,
    pub body: Value,
    /// Text of the last user message (directives included).
    pub user_text: String,
    pub directives: Directives,
    /// A reply a test queued (`script`), for chat completions.
    pub scripted: Option<crate::script::ScriptedReply>,
}

impl Call {
    pub(crate) fn model(&self) -> &str {
        self.body.get("model").and_then(Value::as_str).unwrap_or("mock-model")
    }

    pub(crate) fn streaming(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool) == Some(true)
    }

    /// Reasoning text, when asked for and the provider has the field.
    pub(crate) fn thinking(&self, wire_has_it: bool) -> Option<String> {
        (self.directives.thinking && wire_has_it)
            .then(|| format!("The user wrote {} words; a short answer will do.", count_tokens(&self.user_text)))
    }

    pub(crate) fn stream_error(&self) -> bool {
        self.user_text.contains("[[stream-error]]")
    }
}

/// Records the request, checks the key, then applies `[[delay-ms]]` and `[[status]]`.
async fn admit(
    provider: &'static str,
    prefix_len: usize,
    state: &MockState,
    uri: &Uri,
    headers: &HeaderMap,
    raw: &Bytes,
) -> Result<Call, Response> {
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    state.record(Recorded {
        provider: provider.into(),
        path: path.get(prefix_len..).unwrap_or(path).to_string(),
        headers: header_pairs(headers),
        body: body.clone(),
    });
    let key = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match key.map(str::trim) {
        None | Some("") => {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                None,
                None,
            ));
        }
        Some("bad-key") => {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "Incorrect API key provided: bad-key. You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                None,
                Some("invalid_api_key"),
            ));
        }
        Some(_) => {}
    }
    let user_text = last_user_text(&body);
    let directives = Directives::parse(&user_text);
    if let Some(delay) = directives.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = directives.status {
        return Err(status_error(status, directives.retry_after));
    }
    let model = body.get("model").and_then(Value::as_str).unwrap_or_default();
    let scripted = uri.path().ends_with("/chat/completions").then(|| state.scripts.next(&user_text, model)).flatten();
    Ok(Call { provider, body, user_text, directives, scripted })
}

/// The text of the last user turn, in either API's shape.
fn last_user_text(body: &Value) -> String {
    let items = match (body.get("messages"), body.get("input")) {
        (Some(Value::Array(m)), _) => m,
        (_, Some(Value::String(s))) => return s.clone(),
        (_, Some(Value::Array(items))) => items,
        _ => return String::new(),
    };
    items
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(content_text)
        .unwrap_or_default()
}

/// The text of a message's `content` (string or typed parts).
pub(crate) fn content_text(m: &Value) -> String {
    match m.get("content").or_else(|| m.get("output")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect(),
        _ => String::new(),
    }
}

/// Token counts for a request's whole text (roughly, deterministically).
pub(crate) fn prompt_tokens(body: &Value) -> u64 {
    let items = body.get("messages").or_else(|| body.get("input"));
    match items {
        Some(Value::Array(items)) => items.iter().map(|m| count_tokens(&content_text(m))).sum(),
        Some(Value::String(s)) => count_tokens(s),
        _ => 1,
    }
}

/// An error in OpenAI's shape.
pub(crate) fn error(
    status: StatusCode,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": param, "code": code}});
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// The error `[[status:N]]` asks for, as OpenAI would word it.
fn status_error(status: u16, retry_after: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = match status {
        429 => error(
            code,
            "Rate limit reached for requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms.",
            "requests",
            None,
            Some("rate_limit_exceeded"),
        ),
        400 => error(code, "Invalid request (mock).", "invalid_request_error", None, None),
        401 => error(code, "Incorrect API key provided.", "invalid_request_error", None, Some("invalid_api_key")),
        403 => error(
            code,
            "Country, region, or territory not supported",
            "request_forbidden",
            None,
            Some("unsupported_country_region_territory"),
        ),
        404 => error(
            code,
            "The model does not exist or you do not have access to it.",
            "invalid_request_error",
            None,
            Some("model_not_found"),
        ),
        503 => error(code, "The engine is currently overloaded, please try again later.", "server_error", None, None),
        s if s >= 500 => error(
            code,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
            None,
        ),
        _ => error(code, "Mock error.", "invalid_request_error", None, None),
    };
    if status == 429 {
        let h = resp.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit-requests", "500"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-limit-tokens", "30000"),
            ("x-ratelimit-remaining-tokens", "29000"),
            ("x-ratelimit-reset-tokens", "2s"),
        ] {
            h.insert(name, value.parse().unwrap_or(header::HeaderValue::from_static("0")));
        }
        if let Some(secs) = retry_after {
            h.insert(header::RETRY_AFTER, secs.into());
        }
    }
    resp
}

/// The model-specific refusals of the real OpenAI API.
pub(crate) fn refuse_for_model(call: &Call, endpoint: &str) -> Option<Response> {
    if call.provider != "openai" {
        return None;
    }
    let model = call.model();
    let responses_only = RESPONSES_ONLY.iter().any(|m| model == *m || model.starts_with(&format!("{m}-")));
    if endpoint == "chat" && responses_only {
        return Some(error(
            StatusCode::NOT_FOUND,
            "This model is only supported in v1/responses and not in v1/chat/completions.",
            "invalid_request_error",
            Some("model"),
            None,
        ));
    }
    let reasoning =
        model.starts_with("gpt-5") || model.starts_with("o1") || model.starts_with("o3") || model.starts_with("o4");
    if endpoint == "chat" && reasoning && call.body.get("max_tokens").is_some_and(|v| !v.is_null()) {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            "invalid_request_error",
            Some("max_tokens"),
            Some("unsupported_parameter"),
        ));
    }
    None
}

/// A JSON answer with the headers OpenAI sends on success.
pub(crate) fn json_response(body: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        [("x-request-id", mock_id("req_", body)), ("x-ratelimit-remaining-requests", "499".into())],
        body.to_string(),
    )
        .into_response()
}

/// An SSE answer sending `frames` one by one, `gap` apart.
pub(crate) fn sse_response(frames: Vec<String>, d: &Directives) -> Response {
    let gap = d.gap;
    let stream = futures::stream::iter(frames.into_iter().enumerate()).then(move |(i, frame)| async move {
        if let (Some(gap), true) = (gap, i > 0) {
            tokio::time::sleep(gap).await;
        }
        Ok::<_, Infallible>(Bytes::from(frame))
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
        crate::cut_after(Body::from_stream(stream), d.cut_after),
    )
        .into_response()
}

/// A stable id derived from what it identifies.
pub(crate) fn mock_id(prefix: &str, seed: &impl std::fmt::Display) -> String {
    let mut h = DefaultHasher::new();
    seed.to_string().hash(&mut h);
    format!("{prefix}{:016x}", h.finish())
}

/// Seconds since the epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn list_models(call: Call) -> Response {
    let (owner, ids): (&str, &[&str]) = match call.provider {
        "openai" => (
            "openai",
            &[
                "gpt-5.2",
                "gpt-5.2-pro",
                "gpt-5.2-chat-latest",
                "gpt-5.3-codex",
                "gpt-5-mini",
                "gpt-5-nano",
                "text-embedding-3-small",
            ],
        ),
        "xai" => ("xai", &["grok-4-1-fast-reasoning", "grok-4-1-fast-non-reasoning", "grok-code-fast-1"]),
        "deepseek" => ("deepseek", &["deepseek-chat", "deepseek-reasoner"]),
        _ => ("huggingface", &["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-72B-Instruct"]),
    };
    let data: Vec<Value> =
        ids.iter().map(|id| json!({"id": id, "object": "model", "created": 1_686_935_002u64, "owned_by": owner, "shutdown_date": null})).collect();
    json_response(&json!({"object": "list", "data": data}))
}

fn embeddings(call: Call) -> Response {
    let inputs: Vec<String> = match call.body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect()
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "'input' is a required property",
                "invalid_request_error",
                Some("input"),
                None,
            );
        }
    };
    let model = call.model().to_string();
    let dims = call.body.get("dimensions").and_then(Value::as_u64).unwrap_or(match model.as_str() {
        "text-embedding-3-large" => 3072,
        "text-embedding-3-small" | "text-embedding-ada-002" => 1536,
        _ => 1024,
    }) as usize;
    let base64 = call.body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let v = unit_vector(text, dims);
            let embedding = if base64 {
                Value::String(base64_encode(&v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "embedding": embedding, "index": index})
        })
        .collect();
    let tokens: u64 = inputs.iter().map(|t| count_tokens(t)).sum();
    json_response(&json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}
    }))
}

/// A deterministic unit vector for a text (xorshift seeded by its hash).
fn unit_vector(text: &str, dims: usize) -> Vec<f32> {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    let mut state = h.finish() | 1;
    let mut v: Vec<f32> = (0..dims)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn vectors_are_deterministic_units() {
        let a = unit_vector("hello", 64);
        assert_eq!(a, unit_vector("hello", 64));
        assert_ne!(a, unit_vector("world", 64));
        assert!((a.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-4);
    }
}
