//! The reverse direction (our gateway speaking Anthropic): request and response
//! conversions and the SSE encoder.

use serde_json::{Value, json};
use spgw_providers::anthropic::chat_stream;
use spgw_providers::anthropic::convert::{ResponseContext, from_wire, to_wire};
use spgw_providers::anthropic::serve::{SseEncoder, SseFrame, chat_request, error_response, messages_response};
use spgw_providers::anthropic::types::MessagesRequest;
use spgw_providers::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, Message, ProviderError, Role, StreamEvent, ToolCall, Usage,
};

use super::support::{collect, endpoint, parse_sse, replay};

/// A request using every block and option the conversions handle, in the
/// block form the adapter emits.
fn full_request() -> Value {
    let eph = json!({"type": "ephemeral"});
    json!({
        "model": "claude-opus-4-6",
        "max_tokens": 8000,
        "system": [{"type": "text", "text": "You are terse.", "cache_control": eph}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Look at this", "cache_control": eph},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Need the weather.", "signature": "EqQBCgIYAhIM"},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C", "cache_control": eph},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": true},
                {"type": "text", "text": "Thanks"}
            ]}
        ],
        "stop_sequences": ["###"],
        "metadata": {"user_id": "u-1"},
        "tools": [
            {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}, "cache_control": eph},
            {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
        ],
        "tool_choice": {"type": "auto"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "service_tier": "auto"
    })
}

#[test]
fn wire_request_round_trips_through_our_model() {
    let original = full_request();
    let wire: MessagesRequest = serde_json::from_value(original.clone()).unwrap();
    let chat = chat_request(wire).unwrap();

    assert_eq!(chat.messages[0].role, Role::System);
    assert_eq!(chat.max_tokens, Some(8000));
    assert_eq!(chat.user.as_deref(), Some("u-1"));
    assert_eq!(chat.reasoning.as_ref().and_then(|r| r.budget_tokens), Some(2048));
    assert_eq!(chat.extra.get("service_tier"), Some(&json!("auto")));
    let tools: Vec<&Message> = chat.messages.iter().filter(|m| m.role == Role::Tool).collect();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0].name.as_deref(), Some("get_weather"), "tool results learn their tool's name");
    assert!(tools[1].is_error);
    assert_eq!(chat.messages.last().unwrap().joined_text(), "Thanks");

    let (back, _) = to_wire(&chat).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), original);
}

#[test]
fn wire_shorthands_and_unmodelled_options_survive() {
    let wire: MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 10, "system": "Be nice.",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "f", "input_schema": {"type": "object", "properties": {}}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "thinking": {"type": "adaptive"},
        "stream": true
    }))
    .unwrap();
    let chat = chat_request(wire).unwrap();
    assert_eq!(chat.messages[0].joined_text(), "Be nice.");
    assert_eq!(chat.messages[1].content, vec![ContentPart::text("hi")]);
    assert!(chat.stream);
    assert_eq!(chat.extra["thinking"], json!({"type": "adaptive"}));
    assert_eq!(chat.extra["tool_choice"], json!({"type": "any", "disable_parallel_tool_use": true}));
    let (back, _) = to_wire(&chat).unwrap();
    let back = serde_json::to_value(&back).unwrap();
    assert_eq!(back["tool_choice"], json!({"type": "any", "disable_parallel_tool_use": true}));
    assert_eq!(back["thinking"], json!({"type": "adaptive"}));

    let bad: MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "text", "data": "x"}}]}]
    }))
    .unwrap();
    let err = chat_request(bad).unwrap_err();
    assert!(matches!(&err, ProviderError::InvalidRequest { status: 400, message, .. } if message.contains("document")));
}

fn sample_response() -> ChatResponse {
    ChatResponse {
        id: "msg_1".into(),
        model: "claude-haiku-4-5".into(),
        content: vec![
            ContentPart::Thinking { thinking: "hmm".into(), signature: Some("sig".into()) },
            ContentPart::RedactedThinking { data: "opaque".into() },
            ContentPart::text("Answer."),
        ],
        tool_calls: vec![ToolCall { id: "toolu_9".into(), name: "lookup".into(), arguments: r#"{"q":"x"}"#.into() }],
        finish_reason: FinishReason::ToolCalls,
        usage: Usage {
            input_tokens: 120,
            output_tokens: 30,
            cached_input_tokens: 80,
            cache_creation_input_tokens: 15,
            reasoning_tokens: 0,
        },
        raw: None,
    }
}

#[test]
fn response_converts_to_the_wire_and_back() {
    let resp = sample_response();
    let wire = messages_response(&resp);
    let json = serde_json::to_value(&wire).unwrap();
    assert_eq!(json["type"], "message");
    assert_eq!(json["role"], "assistant");
    assert_eq!(json["stop_reason"], "tool_use");
    assert_eq!(json["stop_sequence"], Value::Null);
    assert_eq!(
        json["usage"],
        json!({"input_tokens": 25, "cache_creation_input_tokens": 15, "cache_read_input_tokens": 80, "output_tokens": 30})
    );
    assert_eq!(json["content"][3], json!({"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {"q": "x"}}));
    assert_eq!(from_wire(wire, &ResponseContext::default()), resp);
}

#[test]
fn errors_take_anthropic_shape() {
    let (status, body) =
        error_response(&ProviderError::Upstream { status: 529, message: "Overloaded".into(), body: String::new() });
    assert_eq!(status, 529);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    let (status, body) = error_response(&ProviderError::RateLimited { retry_after: None, message: "slow".into() });
    assert_eq!((status, body.error.kind.as_str()), (429, "rate_limit_error"));
    assert_eq!(error_response(&ProviderError::Timeout).0, 504);
}

fn sample_events() -> Vec<StreamEvent> {
    let usage = |output| Usage { input_tokens: 50, output_tokens: output, cached_input_tokens: 20, ..Usage::default() };
    vec![
        StreamEvent::Start { id: "msg_s".into(), model: "claude-sonnet-4-5".into() },
        StreamEvent::Usage { usage: usage(1) },
        StreamEvent::ThinkingDelta { thinking: "Let me ".into() },
        StreamEvent::ThinkingDelta { thinking: "think.".into() },
        StreamEvent::ThinkingSignature { signature: "sig-1".into() },
        StreamEvent::TextDelta { text: "Calling ".into() },
        StreamEvent::TextDelta { text: "tools.".into() },
        StreamEvent::ToolCallStart { index: 0, id: "toolu_a".into(), name: "get_weather".into() },
        StreamEvent::ToolCallDelta { index: 0, arguments: "{\"city\":".into() },
        StreamEvent::ToolCallDelta { index: 0, arguments: "\"Oslo\"}".into() },
        StreamEvent::ToolCallStart { index: 1, id: "toolu_b".into(), name: "get_time".into() },
        StreamEvent::ToolCallDelta { index: 1, arguments: "{}".into() },
        StreamEvent::Usage { usage: usage(42) },
        StreamEvent::Finish { reason: FinishReason::ToolCalls },
    ]
}

fn encode(events: &[StreamEvent]) -> Vec<SseFrame> {
    let mut enc = SseEncoder::new();
    let mut frames = Vec::new();
    for e in events {
        enc.push(e, &mut frames);
    }
    enc.finish(&mut frames);
    frames
}

#[test]
fn encoder_emits_well_formed_sse() {
    let frames = encode(&sample_events());
    let text: String = frames.iter().map(SseFrame::render).collect();
    let parsed = parse_sse(&text);
    assert_eq!(parsed.first().unwrap().0, "message_start");
    assert_eq!(parsed.first().unwrap().1["message"]["usage"]["cache_read_input_tokens"], 20);
    assert_eq!(parsed[parsed.len() - 2].1["delta"]["stop_reason"], "tool_use");
    assert_eq!(parsed[parsed.len() - 2].1["usage"], json!({"output_tokens": 42}));
    assert_eq!(parsed.last().unwrap().0, "message_stop");

    // Blocks open and close in order, deltas go to the open block, and each
    // delta fits its block.
    let mut open: Option<(u64, String)> = None;
    let mut next = 0;
    let mut kinds = Vec::new();
    for (name, data) in &parsed {
        assert_eq!(data["type"], name.as_str());
        match name.as_str() {
            "content_block_start" => {
                assert!(open.is_none(), "a block opened inside another");
                assert_eq!(data["index"], next);
                let kind = data["content_block"]["type"].as_str().unwrap().to_string();
                kinds.push(kind.clone());
                open = Some((next, kind));
                next += 1;
            }
            "content_block_delta" => {
                let (index, kind) = open.as_ref().expect("a delta outside a block");
                assert_eq!(data["index"], *index);
                let allowed: &[&str] = match kind.as_str() {
                    "text" => &["text_delta"],
                    "thinking" => &["thinking_delta", "signature_delta"],
                    _ => &["input_json_delta"],
                };
                assert!(allowed.contains(&data["delta"]["type"].as_str().unwrap()), "{data}");
            }
            "content_block_stop" => {
                assert_eq!(data["index"], open.take().expect("a stop without a start").0);
            }
            _ => assert!(open.is_none(), "{name} inside a block"),
        }
    }
    assert_eq!(kinds, ["thinking", "text", "tool_use", "tool_use"]);
}

#[tokio::test]
async fn encoded_stream_decodes_to_the_same_events() {
    let events = sample_events();
    let text: String = encode(&events).iter().map(SseFrame::render).collect();
    let url = replay(text, "text/event-stream").await;
    let req = ChatRequest {
        model: "claude-sonnet-4-5".into(),
        messages: vec![Message::text(Role::User, "x")],
        ..Default::default()
    };
    let back: Vec<StreamEvent> = collect(
        chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(url), &req).await.unwrap(),
    )
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    assert_eq!(back, events);
}

#[test]
fn encoder_closes_an_empty_stream() {
    let parsed = parse_sse(&encode(&[]).iter().map(SseFrame::render).collect::<String>());
    let names: Vec<&str> = parsed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["message_start", "message_delta", "message_stop"]);
    assert_eq!(parsed[1].1["delta"]["stop_reason"], "end_turn");
}
