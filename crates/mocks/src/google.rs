//! Mock of the Gemini API (`v1beta`) under `/google`, speaking Google's wire
//! format: `models/{model}:generateContent`, `:streamGenerateContent` (SSE with
//! `alt=sse`, a streamed JSON array without), `:countTokens`, `:embedContent`
//! and `:batchEmbedContents`; Imagen, Veo, speech, Lyria and image models in [`media`].
//!
//! It checks requests the way the real API does (unknown fields, roles,
//! function-response ordering, OpenAPI-only `parameters`, Gemini 3 thought
//! signatures) and answers errors in Google's `{"error":{"code","message","status"}}`
//! shape. A key is read from `x-goog-api-key` or `?key=`; none gives Google's
//! 403, `bad-key` its 400 `API_KEY_INVALID`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::{Directives, MockState, Recorded, count_tokens, header_pairs, strip_markers};

mod embed;
mod media;
mod validate;

use validate::{get, is_chat_model, is_gemini_3, parts, validate};

/// Prefix of every thought signature the mock issues (base64 of
/// `mock-thought-signature:`); any other signature is "corrupted".
const SIG_PREFIX: &str = "bW9jay10aG91Z2h0LXNpZ25hdHVyZTo";
/// Values Google documents for skipping signature validation.
const SKIP_SIGNATURES: [&str; 2] = ["skip_thought_signature_validator", "context_engineering_is_the_way_to_go"];

/// Routes of this provider's mock.
pub fn router() -> Router<MockState> {
    Router::new().route("/google/v1beta/models/{call}", post(dispatch)).merge(media::router())
}

async fn dispatch(
    State(state): State<MockState>,
    Path(call): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json_body: Option<Value> = serde_json::from_slice(&body).ok();
    let query = query.unwrap_or_default();
    let path = match query.is_empty() {
        true => format!("/v1beta/models/{call}"),
        false => format!("/v1beta/models/{call}?{query}"),
    };
    state.record(Recorded {
        provider: "google".into(),
        path,
        headers: header_pairs(&headers),
        body: json_body.clone().unwrap_or(Value::Null),
    });

    let params: HashMap<&str, &str> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
    let key = headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()).or_else(|| params.get("key").copied());
    if let Some(refusal) = check_key(key) {
        return refusal.into_response();
    }
    let Some((model, method)) = call.rsplit_once(':') else {
        return error(404, &format!("Method not found: models/{call}"), Vec::new()).into_response();
    };
    let Some(body) = json_body.filter(Value::is_object) else {
        return invalid("Invalid JSON payload received. Unexpected token.").into_response();
    };
    let outcome = match method {
        "generateContent" if media::is_media_model(model) => media::generate_media(model, &body),
        "generateContent" => generate(model, &body, None).await,
        "streamGenerateContent" => generate(model, &body, Some(params.get("alt") == Some(&"sse"))).await,
        "countTokens" => embed::count(model, &body),
        "embedContent" => embed::embed_one(model, &body),
        "batchEmbedContents" => embed::embed_batch(model, &body),
        "predict" => media::predict(model, &body),
        "predictLongRunning" => media::predict_long_running(model, &body),
        _ => Err(error(404, &format!("Method not found: {method}"), Vec::new())),
    };
    outcome.unwrap_or_else(IntoResponse::into_response)
}

type Answer = Result<Response, ApiError>;

// ---------------------------------------------------------------- errors

fn status_name(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "NOT_IMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// An error in Google's shape: `{"error":{"code","message","status","details"?}}`.
struct ApiError {
    code: u16,
    message: String,
    details: Vec<Value>,
    retry_after: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut err = json!({"code": self.code, "message": self.message, "status": status_name(self.code)});
        if !self.details.is_empty() {
            err["details"] = Value::Array(self.details);
        }
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(json!({ "error": err }))).into_response();
        if let Some(v) = self.retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

fn error(code: u16, message: &str, details: Vec<Value>) -> ApiError {
    ApiError { code, message: message.to_string(), details, retry_after: None }
}

fn invalid(message: impl AsRef<str>) -> ApiError {
    error(400, message.as_ref(), Vec::new())
}

fn check_key(key: Option<&str>) -> Option<ApiError> {
    match key {
        None | Some("") => Some(error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). \
             Please use API Key or other form of API consumer identity to call this API.",
            Vec::new(),
        )),
        Some("bad-key") => {
            let message = "API key not valid. Please pass a valid API key.";
            Some(error(
                400,
                message,
                vec![
                    json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}),
                    json!({"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                        "message": message}),
                ],
            ))
        }
        Some(_) => None,
    }
}

fn not_found(model: &str, method: &str) -> ApiError {
    error(
        404,
        &format!(
            "models/{model} is not found for API version v1beta, or is not supported for {method}. \
             Call ListModels to see the list of available models and their supported methods."
        ),
        Vec::new(),
    )
}

// ---------------------------------------------------------------- generateContent

fn all_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        Value::Array(a) => a.iter().for_each(|v| all_text(v, out)),
        Value::Object(o) => o.values().for_each(|v| all_text(v, out)),
        _ => {}
    }
}

fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn response_id(body: &Value) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let h = hash(&[body.to_string().as_bytes(), &nanos.to_le_bytes()]);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..11).map(|i| ALPHABET[((h >> (i * 6)) & 63) as usize] as char).collect::<String>() + "AAAAAAAAAAAA"
}

fn signature(seed: &str) -> String {
    format!("{SIG_PREFIX}{:016x}=", hash(&[seed.as_bytes()]))
}

/// What the mock will answer, before it is laid out as one response or chunks.
struct Plan {
    thought: Option<String>,
    call: Option<(String, Value)>,
    text: String,
    signature: Option<String>,
    prompt_tokens: u64,
    thought_tokens: u64,
}

impl Plan {
    fn output_tokens(&self) -> u64 {
        match &self.call {
            Some((name, args)) => count_tokens(&format!("{name} {args}")),
            None => count_tokens(&self.text),
        }
    }

    fn usage(&self, done: bool) -> Value {
        let mut u = json!({
            "promptTokenCount": self.prompt_tokens,
            "totalTokenCount": self.prompt_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": self.prompt_tokens}],
        });
        if done {
            let out = self.output_tokens();
            u["candidatesTokenCount"] = json!(out);
            u["totalTokenCount"] = json!(self.prompt_tokens + out + self.thought_tokens);
            if self.thought_tokens > 0 {
                u["thoughtsTokenCount"] = json!(self.thought_tokens);
            }
        }
        u
    }
}

fn plan(model: &str, body: &Value, contents: &[Value], d: &Directives, user_text: &str) -> Plan {
    let mut prompt = String::new();
    all_text(get(body, "systemInstruction").unwrap_or(&Value::Null), &mut prompt);
    contents.iter().for_each(|c| all_text(c, &mut prompt));
    let include_thoughts = get(body, "generationConfig")
        .and_then(|g| get(g, "thinkingConfig"))
        .and_then(|t| get(t, "includeThoughts"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let thought_text = format!("Thinking about: {}", strip_markers(user_text));
    // The conversation ends in tool results: answer them instead of calling again.
    let last = contents.last().map_or(&[][..], parts);
    let results: Vec<&Value> = last.iter().filter_map(|p| get(p, "functionResponse")).collect();
    let (call, text) = match (&d.tool, results.is_empty()) {
        (Some((name, args)), true) => {
            let args = serde_json::from_str(args).unwrap_or_else(|_| json!({}));
            (Some((name.clone(), args)), String::new())
        }
        (_, false) => {
            let quoted: Vec<String> = results
                .iter()
                .map(|r| format!("{} returned {}", r["name"].as_str().unwrap_or(""), r["response"]))
                .collect();
            (None, format!("Tool {}", quoted.join("; ")))
        }
        (None, true) => (None, d.reply_text(user_text)),
    };
    // Gemini 3 always signs (a function call, or the last part of a text answer).
    let signature = (d.thinking || is_gemini_3(model)).then(|| signature(&format!("{model}|{user_text}|{text}")));
    Plan {
        thought: (d.thinking && include_thoughts).then_some(thought_text.clone()),
        thought_tokens: if d.thinking { count_tokens(&thought_text) } else { 0 },
        call,
        text,
        signature,
        prompt_tokens: count_tokens(&prompt),
    }
}

fn candidate(parts: Vec<Value>, finish: bool) -> Value {
    let mut c = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if finish {
        c["finishReason"] = json!("STOP");
    }
    c
}

fn response(candidates: Value, usage: Value, model: &str, id: &str) -> Value {
    json!({"candidates": candidates, "usageMetadata": usage, "modelVersion": model, "responseId": id})
}

fn signed(mut part: Value, sig: Option<&String>) -> Value {
    if let Some(sig) = sig {
        part["thoughtSignature"] = json!(sig);
    }
    part
}

/// The whole answer as Gemini sends it unstreamed.
fn full_answer(p: &Plan, model: &str, id: &str) -> Value {
    let mut parts = Vec::new();
    if let Some(t) = &p.thought {
        parts.push(json!({"text": t, "thought": true}));
    }
    match &p.call {
        Some((name, args)) => {
            parts.push(signed(json!({"functionCall": {"name": name, "args": args}}), p.signature.as_ref()))
        }
        None => parts.push(signed(json!({"text": p.text}), p.signature.as_ref())),
    }
    response(json!([candidate(parts, true)]), p.usage(true), model, id)
}

/// The answer as stream chunks: thought, text deltas, and (when signed) a
/// final empty part carrying the signature, as Gemini 3 streams it.
fn chunks(p: &Plan, d: &Directives, model: &str, id: &str) -> Vec<Value> {
    let mut parts_list: Vec<Vec<Value>> = Vec::new();
    if let Some(t) = &p.thought {
        parts_list.push(vec![json!({"text": t, "thought": true})]);
    }
    match &p.call {
        Some((name, args)) => {
            parts_list.push(vec![signed(json!({"functionCall": {"name": name, "args": args}}), p.signature.as_ref())])
        }
        None => {
            parts_list.extend(d.split(&p.text).into_iter().map(|s| vec![json!({ "text": s })]));
            if let Some(sig) = &p.signature {
                parts_list.push(vec![json!({"text": "", "thoughtSignature": sig})]);
            }
        }
    }
    let n = parts_list.len();
    parts_list
        .into_iter()
        .enumerate()
        .map(|(i, parts)| {
            let last = i + 1 == n;
            response(json!([candidate(parts, last)]), p.usage(last), model, id)
        })
        .collect()
}

fn last_user_text(contents: &[Value]) -> String {
    let Some(user) = contents.iter().rev().find(|c| {
        c.get("role").and_then(Value::as_str) != Some("model") && parts(c).iter().any(|p| p.get("text").is_some())
    }) else {
        return String::new();
    };
    parts(user).iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join(" ")
}

/// `stream`: `None` for `generateContent`, `Some(sse)` for `streamGenerateContent`.
async fn generate(model: &str, body: &Value, stream: Option<bool>) -> Answer {
    if !is_chat_model(model) {
        let method = if stream.is_some() { "streamGenerateContent" } else { "generateContent" };
        return Err(not_found(model, method));
    }
    let contents = validate(model, body)?;
    let user_text = last_user_text(contents);
    let d = Directives::parse(&user_text);
    if let Some(delay) = d.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(code) = d.status {
        return Err(scripted_error(code, d.retry_after));
    }
    let p = plan(model, body, contents, &d, &user_text);
    let id = response_id(body);
    let Some(sse) = stream else {
        return Ok(axum::Json(full_answer(&p, model, &id)).into_response());
    };
    let frames: Vec<Bytes> = chunks(&p, &d, model, &id)
        .iter()
        .enumerate()
        .map(|(i, c)| match (sse, i) {
            (true, _) => Bytes::from(format!("data: {c}\r\n\r\n")),
            (false, 0) => Bytes::from(format!("[{c}")),
            (false, _) => Bytes::from(format!("\n,\r\n{c}")),
        })
        .chain((!sse).then(|| Bytes::from_static(b"]")))
        .collect();
    let gap = d.gap.unwrap_or(Duration::ZERO);
    let body = futures::stream::unfold((frames.into_iter(), true), move |(mut it, first)| async move {
        let frame = it.next()?;
        if !first && !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
        Some((Ok::<_, Infallible>(frame), (it, false)))
    });
    let content_type = if sse { "text/event-stream" } else { "application/json; charset=UTF-8" };
    let mut resp = Body::from_stream(body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(resp)
}

fn scripted_error(code: u16, retry_after: Option<u64>) -> ApiError {
    let message = match code {
        429 => "You exceeded your current quota, please check your plan and billing details.".to_string(),
        503 => "The model is overloaded. Please try again later.".to_string(),
        _ => format!("Mock error {code}"),
    };
    // Google states the wait in a RetryInfo detail; the header is for clients that only read headers.
    let details = match (code, retry_after) {
        (429, Some(s)) => {
            vec![json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{s}s")})]
        }
        _ => Vec::new(),
    };
    ApiError { code, message, details, retry_after }
}
