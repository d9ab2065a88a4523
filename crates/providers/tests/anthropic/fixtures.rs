//! Anthropic's documented examples: the adapter parses them, and the mock
//! answers in the same shape.

use serde_json::{Value, json};
use spgw_providers::anthropic::{chat, chat_stream};
use spgw_providers::{ChatRequest, ContentPart, FinishReason, Message, ProviderError, Role, StreamEvent, ToolDef};

use super::support::{Shape, assemble, collect, endpoint, fixture, fixture_json, parse_sse, replay};

fn request() -> ChatRequest {
    ChatRequest {
        model: "claude-sonnet-4-5".into(),
        messages: vec![Message::text(Role::User, "Hello")],
        ..Default::default()
    }
}

async fn parse_response(name: &str) -> spgw_providers::ChatResponse {
    let url = replay(fixture(name), "application/json").await;
    chat(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(url), &request()).await.unwrap()
}

async fn parse_stream(name: &str) -> Vec<Result<StreamEvent, ProviderError>> {
    let url = replay(fixture(name), "text/event-stream").await;
    collect(
        chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(url), &request())
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn documented_responses_parse() {
    let basic = parse_response("message-basic.json").await;
    assert_eq!(basic.id, "msg_013Zva2CMHLNnXjNJJKqJ2EF");
    assert_eq!(basic.text(), "Hi! My name is Claude.");
    assert_eq!(basic.finish_reason, FinishReason::Stop);
    assert_eq!((basic.usage.input_tokens, basic.usage.output_tokens), (2095, 503));

    // Anthropic's input_tokens leaves out cache reads and writes; ours counts them.
    let full = parse_response("message-api-reference.json").await;
    assert_eq!(full.text(), "Hi! My name is Claude.");
    assert_eq!(full.usage.input_tokens, 2095 + 2051 + 2051);
    assert_eq!(full.usage.cached_input_tokens, 2051);
    assert_eq!(full.usage.cache_creation_input_tokens, 2051);
    assert_eq!(full.usage.output_tokens, 503);

    let tool = parse_response("message-tool-use.json").await;
    assert_eq!(tool.finish_reason, FinishReason::ToolCalls);
    assert_eq!(tool.text(), "I'll check the current weather.");
    assert_eq!(tool.tool_calls[0].id, "toolu_01A09q90qw90lq917835lq9");
    assert_eq!(tool.tool_calls[0].name, "get_weather");
    let args: Value = serde_json::from_str(&tool.tool_calls[0].arguments).unwrap();
    assert_eq!(args, json!({"location": "San Francisco, CA", "unit": "celsius"}));

    let thinking = parse_response("message-thinking-tool-use.json").await;
    assert!(matches!(&thinking.content[0],
        ContentPart::Thinking { signature: Some(s), .. } if s.starts_with("BDaL4VrbR2Oj0hO4XpJxT28J5TILnCrrUXoKiiNBZW9P")));
    assert_eq!(thinking.tool_calls[0].id, "toolu_01CswdEQBMshySk6Y9DFKrfq");

    let redacted = parse_response("message-redacted-thinking.json").await;
    assert_eq!(redacted.content.len(), 3);
    assert!(
        matches!(&redacted.content[1], ContentPart::RedactedThinking { data } if data.starts_with("EmwKAhgBEgy3va3pzix"))
    );
    assert_eq!(redacted.text(), "Based on my analysis...");
}

#[tokio::test]
async fn documented_streams_parse() {
    let events = parse_stream("stream-basic.sse").await;
    assert!(matches!(&events[0], Ok(StreamEvent::Start { id, .. }) if id == "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"));
    let a = assemble(&events);
    assert_eq!(a.text, "Hello!");
    assert_eq!(a.model, "claude-sonnet-4-5-20250929");
    let usage = a.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (25, 15));
    assert_eq!(a.finish, Some(FinishReason::Stop));

    let a = assemble(&parse_stream("stream-tool-use.sse").await);
    assert_eq!(a.text, "Okay, let's check the weather for San Francisco, CA:");
    assert_eq!(a.calls.len(), 1);
    assert_eq!((a.calls[0].id.as_str(), a.calls[0].name.as_str()), ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"));
    let args: Value = serde_json::from_str(&a.calls[0].arguments).unwrap();
    assert_eq!(args, json!({"location": "San Francisco, CA", "unit": "fahrenheit"}));
    let usage = a.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (472, 89));
    assert_eq!(a.finish, Some(FinishReason::ToolCalls));

    let a = assemble(&parse_stream("stream-thinking.sse").await);
    assert!(a.thinking.starts_with("Let me solve this step by step:\n\n1. First break down 27 * 453\n2."));
    assert!(a.thinking.ends_with("10,800 + 1,350 + 81 = 12,231"));
    assert_eq!(a.signature, "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...");
    assert_eq!(a.text, "27 * 453 = 12,231");
    assert_eq!(a.usage, None, "this documented stream carries no usage");
    assert_eq!(a.finish, Some(FinishReason::Stop));

    let events = parse_stream("stream-error.sse").await;
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0], Err(ProviderError::Upstream { status: 529, message, .. }) if message == "Overloaded"),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_stream_cut_short_is_an_error() {
    let transcript = fixture("stream-basic.sse");
    let cut = &transcript[..transcript.find("event: message_delta").unwrap()];
    let url = replay(cut.to_string(), "text/event-stream").await;
    let events = collect(
        chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(url), &request())
            .await
            .unwrap(),
    )
    .await;
    assert!(matches!(events.last(), Some(Err(ProviderError::Network(_)))), "{events:?}");
}

/// The documented Message objects, complete and abbreviated ones apart.
fn message_shape() -> Shape {
    let mut shape = Shape::default();
    for name in ["message-basic.json", "message-api-reference.json"] {
        shape.learn(&fixture_json(name), true);
    }
    for name in ["message-tool-use.json", "message-thinking-tool-use.json", "message-redacted-thinking.json"] {
        shape.learn(&fixture_json(name), false);
    }
    for name in ["stream-basic.sse", "stream-tool-use.sse"] {
        let (_, start) = parse_sse(&fixture(name)).remove(0);
        shape.learn(&start["message"], true);
    }
    shape
}

/// The documented stream events, `message_start` without its message.
fn event_shape() -> Shape {
    let mut shape = Shape::events();
    for name in ["stream-basic.sse", "stream-tool-use.sse", "stream-thinking.sse"] {
        for (_, mut data) in parse_sse(&fixture(name)) {
            if let Some(o) = data.as_object_mut() {
                o.remove("message");
            }
            shape.learn(&data, true);
        }
    }
    shape
}

fn tool() -> ToolDef {
    ToolDef {
        name: "get_weather".into(),
        description: "Get the current weather".into(),
        parameters: json!({"type": "object", "properties": {"location": {"type": "string"}}}),
        strict: None,
        cache_control: None,
    }
}

/// Requests scripting the mock's three kinds of answer: text, thinking, tool use.
fn scripted() -> Vec<Value> {
    let base = |text: &str| {
        json!({"model": "claude-sonnet-4-5", "max_tokens": 2048, "messages": [{"role": "user", "content": text}],
               "tools": [{"name": "get_weather", "input_schema": tool().parameters}]})
    };
    vec![
        base("Hello"),
        base("[[thinking]] What is 27 * 453?"),
        base(r#"[[tool:get_weather {"location":"Paris"}]] weather?"#),
    ]
}

async fn post_raw(url: &str, body: &Value) -> String {
    let resp = spgw_providers::Http::new(&Default::default())
        .unwrap()
        .post(format!("{url}/v1/messages"))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

#[tokio::test]
async fn mock_answers_have_the_documented_shape() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let url = mock.base_url("anthropic");
    let shape = message_shape();
    for body in scripted() {
        let answer: Value = serde_json::from_str(&post_raw(&url, &body).await).unwrap();
        let problems = shape.problems(&answer);
        assert!(problems.is_empty(), "{problems:#?}\n{answer:#}");
    }
}

#[tokio::test]
async fn mock_streams_have_the_documented_shape() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let url = mock.base_url("anthropic");
    let (messages, events) = (message_shape(), event_shape());
    for mut body in scripted() {
        body["stream"] = json!(true);
        let frames = parse_sse(&post_raw(&url, &body).await);
        let order: Vec<&str> = frames.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(order.first(), Some(&"message_start"));
        assert_eq!(&order[order.len() - 2..], ["message_delta", "message_stop"]);
        assert!(order.contains(&"ping"));
        for (name, data) in &frames {
            assert_eq!(data["type"], name.as_str(), "event name and data type agree");
            let mut data = data.clone();
            if let Some(message) = data.as_object_mut().and_then(|o| o.remove("message")) {
                let problems = messages.problems(&message);
                assert!(problems.is_empty(), "{problems:#?}\n{message:#}");
            }
            let problems = events.problems(&data);
            assert!(problems.is_empty(), "{problems:#?}\n{data:#}");
        }
    }
}

#[test]
fn the_shape_check_catches_differences() {
    let shape = message_shape();
    let mut answer = fixture_json("message-basic.json");
    assert!(shape.problems(&answer).is_empty());
    answer["usage"]["input_tokens"] = json!("2095");
    answer.as_object_mut().unwrap().remove("stop_sequence");
    answer["content"][0]["extra"] = json!(true);
    let problems = shape.problems(&answer);
    assert_eq!(problems.len(), 3, "{problems:#?}");
}
