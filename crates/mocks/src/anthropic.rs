//! Anthropic Messages API mock under `/anthropic`: `POST /v1/messages` (JSON, or
//! SSE framed exactly as Anthropic sends it: `event:` lines, a `ping`, usage in
//! `message_start` and `message_delta`) and `POST /v1/messages/count_tokens`.
//!
//! Requests are checked the way the real API checks them (key, version header,
//! `max_tokens`, roles, tool_use/tool_result pairing, thinking signatures,
//! sampling limits) and refused with Anthropic's error body. One deliberate
//! difference: the real API now merges consecutive same-role turns, this mock
//! refuses them, so an adapter that forgets to merge is caught.
//!
//! Prompt caching is simulated: the prefix up to the last `cache_control` marker
//! is written on first sight and read on later requests with the same prefix
//! (the real API's minimum cacheable length is not enforced).

use std::collections::hash_map::DefaultHasher;
use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures::StreamExt;
use serde_json::{Map, Value, json};

use crate::{Directives, MockState, Recorded, count_tokens, header_pairs, strip_markers};

const PREFIX: &str = "/anthropic";

/// Routes of this provider's mock.
pub fn router() -> Router<MockState> {
    Router::new()
        .route("/anthropic/v1/messages", post(messages))
        .route("/anthropic/v1/messages/count_tokens", post(count))
}

async fn messages(State(state): State<MockState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body = match admit(&state, &uri, &headers, &body, true) {
        Ok(body) => body,
        Err((status, message)) => return error(status, &message),
    };
    let d = Directives::parse(&last_user_text(&body));
    if let Some(delay) = d.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = d.status {
        return status_error(status, d.retry_after);
    }
    let usage = prompt_usage(&state, &body);
    let plan = plan(&body, &d);
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        stream(&body, &d, plan, usage)
    } else {
        let msg = message_json(&body, &plan, usage, plan.output_tokens());
        ([(header::CONTENT_TYPE, "application/json")], [("request-id", mock_id("req_", &msg))], msg.to_string())
            .into_response()
    }
}

async fn count(State(state): State<MockState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    match admit(&state, &uri, &headers, &body, false) {
        Ok(body) => axum::Json(json!({"input_tokens": prompt_tokens(&body)})).into_response(),
        Err((status, message)) => error(status, &message),
    }
}

/// Records the request, then checks it as the API would; a refusal is its status and message.
fn admit(
    state: &MockState,
    uri: &Uri,
    headers: &HeaderMap,
    raw: &Bytes,
    is_create: bool,
) -> Result<Value, (u16, String)> {
    let body: Option<Value> = serde_json::from_slice(raw).ok();
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    state.record(Recorded {
        provider: "anthropic".into(),
        path: path.strip_prefix(PREFIX).unwrap_or(path).to_string(),
        headers: header_pairs(headers),
        body: body.clone().unwrap_or(Value::Null),
    });
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header("x-api-key") {
        None | Some("") | Some("bad-key") => return Err((401, "invalid x-api-key".into())),
        Some(_) => {}
    }
    if header("anthropic-version").is_none() {
        return Err((400, "anthropic-version: header is required".into()));
    }
    let Some(body) = body.filter(Value::is_object) else {
        return Err((400, "The request body is not valid JSON.".into()));
    };
    validate(&body, is_create).map_err(|m| (400, m))?;
    Ok(body)
}

/// Anthropic's `error.type` for a status.
fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

fn error(status: u16, message: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": error_type(status), "message": message}});
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], [("request-id", mock_id("req_", &body))], body.to_string())
        .into_response()
}

/// A scripted error (`[[status:N]]`), with the headers the real API sends with it.
fn status_error(status: u16, retry_after: Option<u64>) -> Response {
    let message = match status {
        429 => "This request would exceed the rate limit for your organization. Please try again later.",
        529 => "Overloaded",
        500 => "Internal server error",
        _ => "mock error",
    };
    let mut resp = error(status, message);
    let h = resp.headers_mut();
    let mut set = |name: &str, value: String| {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            h.insert(name, value);
        }
    };
    if let Some(secs) = retry_after {
        set("retry-after", secs.to_string());
    }
    if status == 429 {
        let reset = rfc3339(unix_now() + retry_after.unwrap_or(60));
        for kind in ["requests", "tokens", "input-tokens", "output-tokens"] {
            let limit = if kind == "requests" { 50 } else { 40_000 };
            set(&format!("anthropic-ratelimit-{kind}-limit"), limit.to_string());
            set(&format!("anthropic-ratelimit-{kind}-remaining"), "0".into());
            set(&format!("anthropic-ratelimit-{kind}-reset"), reset.clone());
        }
    }
    resp
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Seconds since the epoch as RFC 3339 UTC (days-to-civil, Howard Hinnant's algorithm).
fn rfc3339(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

fn mock_id(prefix: &str, seed: &Value) -> String {
    let mut h = DefaultHasher::new();
    seed.to_string().hash(&mut h);
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()).hash(&mut h);
    format!("{prefix}mock{:016x}", h.finish())
}

/// The request checks the real API makes, with its messages.
fn validate(body: &Value, is_create: bool) -> Result<(), String> {
    if !body.get("model").is_some_and(Value::is_string) {
        return Err("model: Field required".into());
    }
    let max_tokens = body.get("max_tokens").and_then(Value::as_u64);
    if is_create && max_tokens.is_none_or(|n| n < 1) {
        return Err("max_tokens: Field required".into());
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array).filter(|m| !m.is_empty()) else {
        return Err("messages: Field required".into());
    };
    if let Some(t) = body.get("temperature").and_then(Value::as_f64)
        && !(0.0..=1.0).contains(&t)
    {
        return Err("temperature: Input should be less than or equal to 1".into());
    }
    if let Some(thinking) = body.get("thinking").filter(|t| t["type"] == "enabled") {
        let budget = thinking["budget_tokens"].as_u64().unwrap_or(0);
        if budget < 1024 {
            return Err("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024".into());
        }
        if is_create && max_tokens.is_some_and(|m| m <= budget) {
            return Err("`max_tokens` must be greater than `thinking.budget_tokens`".into());
        }
        if body.get("temperature").and_then(Value::as_f64).is_some_and(|t| t != 1.0) {
            return Err("`temperature` may only be set to 1 when thinking is enabled.".into());
        }
    }
    if let Some(tools) = body.get("tools").and_then(Value::as_array) {
        for (i, t) in tools.iter().enumerate() {
            if !t["name"].is_string() || t["input_schema"]["type"] != "object" {
                return Err(format!("tools.{i}: a tool needs a name and an input_schema of type object"));
            }
        }
    }
    let mut previous_role = "";
    let mut pending_tool_uses: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or("");
        if role != "user" && role != "assistant" {
            return Err(format!("messages.{i}.role: Input should be 'user' or 'assistant'"));
        }
        if role == previous_role {
            return Err(format!("messages.{i}: roles must alternate between \"user\" and \"assistant\""));
        }
        previous_role = role;
        let blocks = match &m["content"] {
            Value::String(s) if s.is_empty() => return Err(format!("messages.{i}: content must be non-empty")),
            Value::String(_) => Vec::new(),
            Value::Array(blocks) if !blocks.is_empty() => blocks.iter().collect(),
            _ => return Err(format!("messages.{i}.content: Field required")),
        };
        let answered: Vec<&str> = blocks.iter().filter_map(|b| b["tool_use_id"].as_str()).collect();
        if let Some(missing) = pending_tool_uses.iter().find(|id| !answered.contains(id)) {
            return Err(format!(
                "messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {missing}. \
                 Each `tool_use` block must have a corresponding `tool_result` block in the next message."
            ));
        }
        for (j, b) in blocks.iter().enumerate() {
            validate_block(b, role, &pending_tool_uses).map_err(|e| format!("messages.{i}.content.{j}: {e}"))?;
        }
        pending_tool_uses =
            blocks.iter().filter(|b| b["type"] == "tool_use").filter_map(|b| b["id"].as_str()).collect();
    }
    Ok(())
}

fn validate_block(b: &Value, role: &str, tool_uses: &[&str]) -> Result<(), String> {
    let kind = b["type"].as_str().unwrap_or("");
    let allowed = match role {
        "user" => ["text", "image", "tool_result", "document"].contains(&kind),
        _ => ["text", "tool_use", "thinking", "redacted_thinking"].contains(&kind),
    };
    if !allowed {
        return Err(format!("block type {kind:?} is not allowed in a {role} message"));
    }
    match kind {
        "text" if b["text"].as_str().is_none_or(str::is_empty) => Err("text content blocks must be non-empty".into()),
        "thinking" if !b["signature"].is_string() => Err("thinking.signature: Field required".into()),
        "tool_use" if !b["id"].is_string() || !b["name"].is_string() || !b["input"].is_object() => {
            Err("tool_use: id, name and an input object are required".into())
        }
        "tool_result" if !tool_uses.contains(&b["tool_use_id"].as_str().unwrap_or("")) => Err(format!(
            "unexpected `tool_use_id` found in `tool_result` blocks: {}. Each `tool_result` block must have a \
             corresponding `tool_use` block in the previous message.",
            b["tool_use_id"]
        )),
        "image" => match b["source"]["type"].as_str() {
            Some("base64") if b["source"]["media_type"].is_string() && b["source"]["data"].is_string() => Ok(()),
            Some("url") if b["source"]["url"].is_string() => Ok(()),
            _ => Err("image.source: a base64 source (media_type, data) or a url source is required".into()),
        },
        _ => Ok(()),
    }
}

/// Text of a message's content (string, or its text blocks joined).
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join(" "),
        _ => String::new(),
    }
}

/// The text of the last user message that has any: directives live there.
fn last_user_text(body: &Value) -> String {
    let messages = body["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    messages
        .iter()
        .rev()
        .filter(|m| m["role"] == "user")
        .map(|m| text_of(&m["content"]))
        .find(|t| !t.is_empty())
        .unwrap_or_default()
}

/// The content of the tool results the conversation ends with, if it does.
fn trailing_tool_result(body: &Value) -> Option<String> {
    let last = body["messages"].as_array()?.last()?;
    let results: Vec<String> = last["content"]
        .as_array()?
        .iter()
        .filter(|b| b["type"] == "tool_result")
        .map(|b| text_of(&b["content"]))
        .collect();
    (!results.is_empty()).then(|| results.join("; "))
}

/// One block of the answer to give.
enum Block {
    Thinking { text: String, signature: String },
    Text(String),
    ToolUse { id: String, name: String, input: String },
}

struct Plan {
    blocks: Vec<Block>,
    stop_reason: &'static str,
    stop_sequence: Option<String>,
}

impl Plan {
    fn output_tokens(&self) -> u64 {
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Thinking { text, .. } | Block::Text(text) | Block::ToolUse { input: text, .. } => {
                    count_tokens(text)
                }
            })
            .sum()
    }
}

/// Decides the answer from the directives and the request.
fn plan(body: &Value, d: &Directives) -> Plan {
    let user_text = last_user_text(body);
    let said = strip_markers(&user_text);
    let mut blocks = Vec::new();
    if d.thinking {
        let text = format!("The user said \"{said}\". A short, direct answer fits.");
        let signature = mock_id("EqQBCgIYAhIM", &json!(text));
        blocks.push(Block::Thinking { text, signature });
    }
    let tool_result = trailing_tool_result(body);
    let forced =
        body["tool_choice"].get("name").and_then(Value::as_str).filter(|_| body["tool_choice"]["type"] == "tool");
    let call = match (&d.tool, forced) {
        _ if tool_result.is_some() => None,
        (Some((name, args)), _) => Some((name.clone(), args.clone())),
        (None, Some(name)) => Some((name.to_string(), json!({"answer": "mock", "echo": said}).to_string())),
        (None, None) => None,
    };
    if let Some((name, args)) = call {
        let input = serde_json::from_str::<Value>(&args).ok().filter(Value::is_object).unwrap_or_else(|| json!({}));
        let id = mock_id("toolu_", &json!([name, args]));
        blocks.push(Block::ToolUse { id, name, input: input.to_string() });
        return Plan { blocks, stop_reason: "tool_use", stop_sequence: None };
    }
    let mut text = match tool_result {
        Some(result) => format!("The tool returned: {result}"),
        None => d.reply_text(&user_text),
    };
    let mut stop_reason = "end_turn";
    let mut stop_sequence = None;
    let stops = body["stop_sequences"].as_array().map(Vec::as_slice).unwrap_or_default();
    if let Some((at, seq)) =
        stops.iter().filter_map(Value::as_str).filter_map(|s| text.find(s).map(|at| (at, s))).min_by_key(|(at, _)| *at)
    {
        text.truncate(at);
        stop_reason = "stop_sequence";
        stop_sequence = Some(seq.to_string());
    }
    let max = body["max_tokens"].as_u64().unwrap_or(u64::MAX) as usize;
    if count_tokens(&text) as usize > max {
        text = text.split_inclusive(' ').take(max).collect();
        stop_reason = "max_tokens";
    }
    blocks.push(Block::Text(text));
    Plan { blocks, stop_reason, stop_sequence }
}

/// Prompt tokens: uncached, read from and written to the simulated cache.
#[derive(Clone, Copy)]
struct PromptUsage {
    input: u64,
    cache_read: u64,
    cache_write: u64,
}

/// Keys whose values are structure, not prompt text.
const NOT_TEXT: &[&str] = &["type", "role", "id", "tool_use_id", "media_type", "cache_control", "signature"];

/// Counts the words of every prompt string under `system`, `messages` and `tools`.
fn prompt_tokens(body: &Value) -> u64 {
    ["tools", "system", "messages"].iter().map(|k| tokens_in(&body[*k])).sum()
}

fn tokens_in(v: &Value) -> u64 {
    match v {
        Value::String(s) => count_tokens(s),
        Value::Array(a) => a.iter().map(tokens_in).sum(),
        Value::Object(o) => o.iter().filter(|(k, _)| !NOT_TEXT.contains(&k.as_str())).map(|(_, v)| tokens_in(v)).sum(),
        _ => 0,
    }
}

/// The cacheable prefix (tools, then system, then messages, up to the last
/// block carrying `cache_control`), as a comparable key and its token count.
fn cache_prefix(body: &Value) -> Option<(String, u64)> {
    let mut items: Vec<&Value> = Vec::new();
    items.extend(body["tools"].as_array().into_iter().flatten());
    items.extend(body["system"].as_array().into_iter().flatten());
    for m in body["messages"].as_array().into_iter().flatten() {
        items.extend(m["content"].as_array().into_iter().flatten());
    }
    let last = items.iter().rposition(|b| b.get("cache_control").is_some())?;
    let prefix = &items[..=last];
    let key = json!([body["model"], prefix]).to_string();
    Some((key, prefix.iter().map(|v| tokens_in(v)).sum()))
}

fn prompt_usage(state: &MockState, body: &Value) -> PromptUsage {
    let total = prompt_tokens(body);
    let Some((key, cached)) = cache_prefix(body) else {
        return PromptUsage { input: total, cache_read: 0, cache_write: 0 };
    };
    // The request itself is already in the log, so a hit needs two entries.
    let seen = state
        .requests()
        .iter()
        .filter(|r| r.provider == "anthropic" && r.path.starts_with("/v1/messages") && !r.path.contains("count_tokens"))
        .filter(|r| cache_prefix(&r.body).is_some_and(|(k, _)| k == key))
        .count();
    let input = total.saturating_sub(cached);
    if seen > 1 {
        PromptUsage { input, cache_read: cached, cache_write: 0 }
    } else {
        PromptUsage { input, cache_read: 0, cache_write: cached }
    }
}

fn usage_json(u: PromptUsage, output_tokens: u64) -> Value {
    json!({
        "input_tokens": u.input,
        "cache_creation_input_tokens": u.cache_write,
        "cache_read_input_tokens": u.cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": u.cache_write, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    })
}

fn block_json(b: &Block) -> Value {
    match b {
        Block::Thinking { text, signature } => json!({"type": "thinking", "thinking": text, "signature": signature}),
        Block::Text(text) => json!({"type": "text", "text": text}),
        Block::ToolUse { id, name, input } => {
            let input: Value = serde_json::from_str(input).unwrap_or_else(|_| Value::Object(Map::new()));
            json!({"type": "tool_use", "id": id, "name": name, "input": input})
        }
    }
}

/// The Message object; `message_start` carries it with empty content.
fn message_json(body: &Value, plan: &Plan, usage: PromptUsage, output_tokens: u64) -> Value {
    let content: Vec<Value> = plan.blocks.iter().map(block_json).collect();
    json!({
        "id": mock_id("msg_", body),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": plan.stop_reason,
        "stop_sequence": plan.stop_sequence,
        "usage": usage_json(usage, output_tokens),
    })
}

fn frame(data: Value) -> Bytes {
    let name = data["type"].as_str().unwrap_or("unknown");
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// The SSE answer, each event its own chunk, `[[gap-ms]]` between deltas.
fn stream(body: &Value, d: &Directives, plan: Plan, usage: PromptUsage) -> Response {
    let gap = d.gap.unwrap_or(Duration::ZERO);
    let mut events: Vec<(Duration, Bytes)> = Vec::new();
    let empty = Plan { blocks: Vec::new(), stop_reason: plan.stop_reason, stop_sequence: None };
    let mut start = message_json(body, &empty, usage, 1);
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["stop_sequence"] = Value::Null;
    events.push((Duration::ZERO, frame(json!({"type": "message_start", "message": start}))));
    let mut first_delta = true;
    let mut delta = |events: &mut Vec<(Duration, Bytes)>, index: usize, delta: Value| {
        let wait = if first_delta { Duration::ZERO } else { gap };
        first_delta = false;
        events.push((wait, frame(json!({"type": "content_block_delta", "index": index, "delta": delta}))));
    };
    for (index, block) in plan.blocks.iter().enumerate() {
        let opening = match block {
            Block::Thinking { .. } => json!({"type": "thinking", "thinking": ""}),
            Block::Text(_) => json!({"type": "text", "text": ""}),
            Block::ToolUse { id, name, .. } => json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
        };
        events.push((
            Duration::ZERO,
            frame(json!({"type": "content_block_start", "index": index, "content_block": opening})),
        ));
        if index == 0 {
            events.push((Duration::ZERO, frame(json!({"type": "ping"}))));
        }
        match block {
            Block::Thinking { text, signature } => {
                for piece in text.split_inclusive(' ') {
                    delta(&mut events, index, json!({"type": "thinking_delta", "thinking": piece}));
                }
                delta(&mut events, index, json!({"type": "signature_delta", "signature": signature}));
            }
            Block::Text(text) => {
                for piece in d.split(text) {
                    delta(&mut events, index, json!({"type": "text_delta", "text": piece}));
                }
            }
            Block::ToolUse { input, .. } => {
                // The API opens every tool input with an empty fragment.
                delta(&mut events, index, json!({"type": "input_json_delta", "partial_json": ""}));
                let pieces = Directives { chunks: Some(d.chunks.unwrap_or(3)), ..Directives::default() };
                for piece in pieces.split(input) {
                    delta(&mut events, index, json!({"type": "input_json_delta", "partial_json": piece}));
                }
            }
        }
        events.push((Duration::ZERO, frame(json!({"type": "content_block_stop", "index": index}))));
    }
    let end = json!({
        "type": "message_delta",
        "delta": {"stop_reason": plan.stop_reason, "stop_sequence": plan.stop_sequence},
        "usage": {"output_tokens": plan.output_tokens()},
    });
    events.push((Duration::ZERO, frame(end)));
    events.push((Duration::ZERO, frame(json!({"type": "message_stop"}))));

    let body = futures::stream::iter(events).then(|(wait, bytes)| async move {
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok::<_, Infallible>(bytes)
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn refuses_what_the_api_refuses() {
        let ok = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
        assert!(validate(&ok, true).is_ok());
        let mut no_max = ok.clone();
        no_max.as_object_mut().unwrap().remove("max_tokens");
        assert_eq!(validate(&no_max, true).unwrap_err(), "max_tokens: Field required");
        assert!(validate(&no_max, false).is_ok());
        let twice = json!({"model": "m", "max_tokens": 10, "messages": [
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"}]});
        assert!(validate(&twice, true).unwrap_err().contains("alternate"));
        let unanswered = json!({"model": "m", "max_tokens": 10, "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
            {"role": "user", "content": "b"}]});
        assert!(validate(&unanswered, true).unwrap_err().contains("t1"));
        let unsigned = json!({"model": "m", "max_tokens": 10, "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "x"}]}]});
        assert!(validate(&unsigned, true).unwrap_err().contains("signature"));
    }

    #[test]
    fn cache_prefix_ends_at_the_last_marker() {
        let body = json!({"model": "m", "system": [
            {"type": "text", "text": "one two", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "three"}],
            "messages": [{"role": "user", "content": "four five six"}]});
        let (_, tokens) = cache_prefix(&body).unwrap();
        assert_eq!(tokens, 2);
        assert_eq!(prompt_tokens(&body), 6);
    }
}
