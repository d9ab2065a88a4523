//! `POST responses`: a JSON response object, or typed stream events
//! (`event: response.created` ... `event: response.completed`), each with its
//! `sequence_number`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{Call, content_text, error, json_response, mock_id, now, prompt_tokens, refuse_for_model, sse_response};
use crate::count_tokens;

/// One output item the mock produces.
enum Item {
    Reasoning { id: String, summary: String },
    Message { id: String, text: String },
    Call { id: String, call_id: String, name: String, args: String },
}

impl Item {
    fn json(&self, done: bool) -> Value {
        let status = if done { "completed" } else { "in_progress" };
        match self {
            Item::Reasoning { id, summary } => {
                let summary = if done { json!([{"type": "summary_text", "text": summary}]) } else { json!([]) };
                json!({"type": "reasoning", "id": id, "summary": summary})
            }
            Item::Message { id, text } => {
                let content = if done { json!([output_text(text)]) } else { json!([]) };
                json!({"type": "message", "id": id, "status": status, "role": "assistant", "content": content})
            }
            Item::Call { id, call_id, name, args } => json!({
                "type": "function_call", "id": id, "call_id": call_id, "name": name,
                "arguments": if done { args.as_str() } else { "" }, "status": status
            }),
        }
    }
}

fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

pub(super) fn handle(call: Call) -> Response {
    if let Some(refusal) = refuse_for_model(&call, "responses") {
        return refusal;
    }
    let last = match call.body.get("input") {
        Some(Value::Array(items)) if !items.is_empty() => items.last().cloned().unwrap_or(Value::Null),
        Some(Value::String(s)) if !s.is_empty() => json!({"role": "user", "content": s}),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "Missing required parameter: 'input'.",
                "invalid_request_error",
                Some("input"),
                None,
            );
        }
    };
    let seed = call.body.to_string();
    let mut items = Vec::new();
    if let Some(summary) = call.thinking(true) {
        items.push(Item::Reasoning { id: mock_id("rs_", &seed), summary });
    }
    let d = &call.directives;
    if last.get("type").and_then(Value::as_str) == Some("function_call_output") {
        items.push(Item::Message { id: mock_id("msg_", &seed), text: format!("Tool result: {}", content_text(&last)) });
    } else if let Some((name, args)) = &d.tool {
        items.push(Item::Call {
            id: mock_id("fc_", &seed),
            call_id: mock_id("call_", &format!("{seed}{name}")),
            name: name.clone(),
            args: args.clone(),
        });
    } else {
        items.push(Item::Message { id: mock_id("msg_", &seed), text: d.reply_text(&call.user_text) });
    }
    let id = mock_id("resp_", &seed);
    if call.streaming() { stream(&call, &id, &items) } else { json_response(&response(&call, &id, &items, true)) }
}

fn usage(call: &Call, items: &[Item]) -> Value {
    let input = prompt_tokens(&call.body);
    let (mut output, mut reasoning) = (0, 0);
    for item in items {
        match item {
            Item::Reasoning { summary, .. } => reasoning += count_tokens(summary),
            Item::Message { text, .. } => output += count_tokens(text),
            Item::Call { args, .. } => output += count_tokens(args),
        }
    }
    output += reasoning;
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input + output
    })
}

/// The response object, as documented; `done` false gives the `in_progress`
/// form that `response.created` carries.
fn response(call: &Call, id: &str, items: &[Item], done: bool) -> Value {
    let b = &call.body;
    let field = |name: &str, default: Value| b.get(name).cloned().unwrap_or(default);
    let created = now();
    json!({
        "id": id,
        "object": "response",
        "created_at": created,
        "status": if done { "completed" } else { "in_progress" },
        "completed_at": if done { json!(created) } else { Value::Null },
        "error": null,
        "incomplete_details": null,
        "instructions": field("instructions", Value::Null),
        "max_output_tokens": field("max_output_tokens", Value::Null),
        "model": call.model(),
        "output": if done { items.iter().map(|i| i.json(true)).collect() } else { Vec::new() },
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": {"effort": b.pointer("/reasoning/effort").cloned().unwrap_or(Value::Null), "summary": null},
        "store": field("store", json!(true)),
        "temperature": field("temperature", json!(1.0)),
        "text": field("text", json!({"format": {"type": "text"}})),
        "tool_choice": field("tool_choice", json!("auto")),
        "tools": tools(b),
        "top_p": field("top_p", json!(1.0)),
        "truncation": "disabled",
        "usage": if done { usage(call, items) } else { Value::Null },
        "user": null,
        "metadata": {}
    })
}

/// The request's tools as the API echoes them: function tools are strict
/// unless the request said otherwise.
fn tools(body: &Value) -> Value {
    let mut tools = body.get("tools").cloned().unwrap_or_else(|| json!([]));
    for t in tools.as_array_mut().into_iter().flatten() {
        if t["type"] == "function" && t.get("strict").is_none() {
            t["strict"] = json!(true);
        }
    }
    tools
}

fn stream(call: &Call, id: &str, items: &[Item]) -> Response {
    let d = &call.directives;
    let mut frames = Vec::new();
    let mut seq = 0u64;
    let mut push = |mut ev: Value| {
        ev["sequence_number"] = json!(seq);
        seq += 1;
        let kind = ev["type"].as_str().unwrap_or_default().to_string();
        frames.push(format!("event: {kind}\ndata: {ev}\n\n"));
    };
    let pending = response(call, id, items, false);
    push(json!({"type": "response.created", "response": pending}));
    push(json!({"type": "response.in_progress", "response": pending}));
    if call.stream_error() {
        push(
            json!({"type": "error", "code": "server_error", "message": "The server had an error while processing your request.", "param": null}),
        );
        return sse_response(frames, d);
    }
    for (output_index, item) in items.iter().enumerate() {
        push(json!({"type": "response.output_item.added", "output_index": output_index, "item": item.json(false)}));
        match item {
            Item::Reasoning { id, summary } => {
                let at = json!({"item_id": id, "output_index": output_index, "summary_index": 0});
                let with = |kind: &str, extra: Value| merge(json!({"type": kind}), &at, extra);
                push(with(
                    "response.reasoning_summary_part.added",
                    json!({"part": {"type": "summary_text", "text": ""}}),
                ));
                for piece in d.split(summary) {
                    push(with("response.reasoning_summary_text.delta", json!({"delta": piece})));
                }
                push(with("response.reasoning_summary_text.done", json!({"text": summary})));
                push(with(
                    "response.reasoning_summary_part.done",
                    json!({"part": {"type": "summary_text", "text": summary}}),
                ));
            }
            Item::Message { id, text } => {
                let at = json!({"item_id": id, "output_index": output_index, "content_index": 0});
                let with = |kind: &str, extra: Value| merge(json!({"type": kind}), &at, extra);
                push(with("response.content_part.added", json!({"part": output_text("")})));
                for piece in d.split(text) {
                    push(with("response.output_text.delta", json!({"delta": piece, "logprobs": []})));
                }
                push(with("response.output_text.done", json!({"text": text, "logprobs": []})));
                push(with("response.content_part.done", json!({"part": output_text(text)})));
            }
            Item::Call { id, name, args, .. } => {
                let at = json!({"item_id": id, "output_index": output_index});
                let with = |kind: &str, extra: Value| merge(json!({"type": kind}), &at, extra);
                for piece in d.split(args) {
                    push(with("response.function_call_arguments.delta", json!({"delta": piece})));
                }
                push(with("response.function_call_arguments.done", json!({"name": name, "arguments": args})));
            }
        }
        push(json!({"type": "response.output_item.done", "output_index": output_index, "item": item.json(true)}));
    }
    push(json!({"type": "response.completed", "response": response(call, id, items, true)}));
    sse_response(frames, d)
}

/// `base` with the fields of `a` and `b` added.
fn merge(mut base: Value, a: &Value, b: Value) -> Value {
    for src in [a, &b] {
        if let (Some(dst), Some(src)) = (base.as_object_mut(), src.as_object()) {
            dst.extend(src.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    base
}
