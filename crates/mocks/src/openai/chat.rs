//! `POST chat/completions`: a JSON `chat.completion`, or the chunk stream.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Call, content_text, error, json_response, mock_id, now, prompt_tokens, refuse_for_model, sse_response};
use crate::count_tokens;

/// What the mock answers: text or one tool call, maybe with reasoning.
struct Answer {
    text: Option<String>,
    tool: Option<(String, String, String)>,
    thinking: Option<String>,
}

pub(super) fn handle(call: Call) -> Response {
    if let Some(refusal) = refuse_for_model(&call, "chat") {
        return refusal;
    }
    let Some(messages) = call.body.get("messages").and_then(Value::as_array).filter(|m| !m.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "[] is too short - 'messages'",
            "invalid_request_error",
            Some("messages"),
            None,
        );
    };
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let d = &call.directives;
    let thinking = call.thinking(matches!(call.provider, "deepseek" | "xai"));
    let answer = if let Some(s) = &call.scripted {
        let tool = s
            .wire_tool()
            .map(|(name, args)| (mock_id("call_", &format!("{name}{args}{}", messages.len())), name, args));
        Answer { text: s.text.clone().filter(|_| tool.is_none()), tool, thinking }
    } else if last.get("role").and_then(Value::as_str) == Some("tool") {
        // The conversation already carries the tool's result: answer with it.
        Answer { text: Some(format!("Tool result: {}", content_text(&last))), tool: None, thinking }
    } else if let Some((name, args)) = &d.tool {
        let id = mock_id("call_", &format!("{name}{args}{}", messages.len()));
        Answer { text: None, tool: Some((id, name.clone(), args.clone())), thinking }
    } else {
        Answer { text: Some(d.reply_text(&call.user_text)), tool: None, thinking }
    };
    let id = mock_id("chatcmpl-", &call.body);
    let usage = usage(&call, &answer);
    if call.streaming() {
        stream(&call, &id, &answer, usage)
    } else {
        let mut message = Map::new();
        message.insert("role".into(), json!("assistant"));
        message.insert("content".into(), json!(answer.text));
        if let Some(thinking) = &answer.thinking {
            message.insert("reasoning_content".into(), json!(thinking));
        }
        if let Some((id, name, args)) = &answer.tool {
            message.insert(
                "tool_calls".into(),
                json!([{"id": id, "type": "function", "function": {"name": name, "arguments": args}}]),
            );
        }
        message.insert("refusal".into(), Value::Null);
        message.insert("annotations".into(), json!([]));
        json_response(&json!({
            "id": id,
            "object": "chat.completion",
            "created": now(),
            "model": call.model(),
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish(&answer)}],
            "usage": usage,
            "service_tier": "default"
        }))
    }
}

fn finish(answer: &Answer) -> &'static str {
    if answer.tool.is_some() { "tool_calls" } else { "stop" }
}

fn usage(call: &Call, answer: &Answer) -> Value {
    let prompt = prompt_tokens(&call.body);
    let reasoning = answer.thinking.as_deref().map_or(0, count_tokens);
    let output = answer.text.as_deref().or(answer.tool.as_ref().map(|t| t.2.as_str())).map_or(0, count_tokens);
    let completion = output + reasoning;
    let cached = if call.provider == "deepseek" { prompt / 2 } else { 0 };
    let mut u = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    });
    if call.provider == "deepseek" {
        u["prompt_cache_hit_tokens"] = json!(cached);
        u["prompt_cache_miss_tokens"] = json!(prompt - cached);
    }
    if let Some(s) = call.scripted.as_ref().and_then(|s| s.usage) {
        u["prompt_tokens"] = s.prompt_tokens.into();
        u["completion_tokens"] = s.completion_tokens.into();
        u["total_tokens"] = (s.prompt_tokens + s.completion_tokens).into();
    }
    u
}

fn stream(call: &Call, id: &str, answer: &Answer, usage: Value) -> Response {
    let include_usage = call.body.pointer("/stream_options/include_usage").and_then(Value::as_bool) == Some(true);
    let obfuscate = call.body.pointer("/stream_options/include_obfuscation").and_then(Value::as_bool) != Some(false);
    let created = now();
    let model = call.model().to_string();
    let mut n = 0usize;
    let mut chunk = |choices: Value, usage: Option<&Value>| {
        n += 1;
        let mut c = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_mock",
            "choices": choices
        });
        // With include_usage every chunk carries `usage`, null until the last.
        if include_usage {
            c["usage"] = usage.cloned().unwrap_or(Value::Null);
        }
        // OpenAI pads chunks with random characters (on by default) so that
        // payload sizes do not leak token lengths.
        if obfuscate {
            c["obfuscation"] = json!("x".repeat(n % 8));
        }
        format!("data: {c}\n\n")
    };
    let delta = |delta: Value, finish: Option<&str>| json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
    let d = &call.directives;
    let mut frames = Vec::new();
    let first_content = if answer.text.is_some() && answer.thinking.is_none() { json!("") } else { Value::Null };
    let mut first = json!({"role": "assistant", "content": first_content, "refusal": null});
    if let Some((id, name, _)) = &answer.tool {
        first["tool_calls"] =
            json!([{"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]);
    }
    frames.push(chunk(delta(first, None), None));
    if call.stream_error() {
        frames.push(
            "data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n".into(),
        );
        return sse_response(frames, d);
    }
    if let Some(thinking) = &answer.thinking {
        for piece in d.split(thinking) {
            frames.push(chunk(delta(json!({"content": null, "reasoning_content": piece}), None), None));
        }
    }
    if let Some(text) = &answer.text {
        for piece in d.split(text) {
            frames.push(chunk(delta(json!({"content": piece}), None), None));
        }
    }
    if let Some((_, _, args)) = &answer.tool {
        for piece in d.split(args) {
            frames.push(chunk(
                delta(json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}), None),
                None,
            ));
        }
    }
    frames.push(chunk(delta(json!({}), Some(finish(answer))), None));
    if include_usage {
        frames.push(chunk(json!([]), Some(&usage)));
    }
    frames.push("data: [DONE]\n\n".into());
    sse_response(frames, d)
}
