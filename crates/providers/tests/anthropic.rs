//! Anthropic adapter against the mock upstream (`spgw_mocks`), Anthropic's
//! documented examples (`fixtures/anthropic/`), and the community OpenAPI
//! description of `/v1/messages`.

// Test helpers outside `#[test]` functions panic on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod anthropic {
    pub mod fixtures;
    pub mod serve;
    pub mod spec;
    pub mod support;
}

use std::time::{Duration, Instant};

use anthropic::support::{assemble, collect, endpoint};
use serde_json::{Value, json};
use spgw_mocks::{MockServer, Recorded};
use spgw_providers::anthropic::{chat, chat_stream};
use spgw_providers::{
    ChatRequest, ContentPart, FinishReason, ImageSource, Message, ProviderError, Reasoning, ResponseFormat, Role,
    ToolChoice, ToolDef,
};

async fn mock() -> MockServer {
    spgw_mocks::spawn().await.unwrap()
}

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest { model: "claude-sonnet-4-5".into(), messages, ..Default::default() }
}

fn user(text: &str) -> Message {
    Message::text(Role::User, text)
}

fn task_tool() -> ToolDef {
    ToolDef {
        name: "task.create".into(),
        description: "Create a task".into(),
        parameters: json!({"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}),
        strict: None,
        cache_control: None,
    }
}

/// The body of the last `/v1/messages` request the mock received.
fn last_body(mock: &MockServer) -> Value {
    last(mock).body
}

fn last(mock: &MockServer) -> Recorded {
    mock.requests().into_iter().rev().find(|r| r.path == "/v1/messages").expect("a recorded request")
}

fn header<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn plain_chat() {
    let mock = mock().await;
    let ep = endpoint(mock.base_url("anthropic"));
    let resp = chat(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep, &request(vec![user("Hi there")]))
        .await
        .unwrap();
    assert_eq!(resp.text(), "Hello! You said: Hi there");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.model, "claude-sonnet-4-5");
    assert!(resp.id.starts_with("msg_"));
    assert!(resp.usage.input_tokens > 0 && resp.usage.output_tokens > 0);

    let r = last(&mock);
    assert_eq!(header(&r, "x-api-key"), Some("test-key"));
    assert_eq!(header(&r, "anthropic-version"), Some("2023-06-01"));
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert_eq!(r.body["model"], "claude-sonnet-4-5");
    // max_tokens is required: the catalog's max output when the caller set none.
    assert_eq!(r.body["max_tokens"], 64_000);
    assert_eq!(r.body["messages"], json!([{"role": "user", "content": [{"type": "text", "text": "Hi there"}]}]));
    assert!(r.body.get("stream").is_none());

    let mut unknown = request(vec![user("x")]);
    unknown.model = "claude-future-9".into();
    chat(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep, &unknown).await.unwrap();
    assert_eq!(last_body(&mock)["max_tokens"], 4096);
}

#[tokio::test]
async fn system_is_hoisted_and_turns_merged() {
    let mock = mock().await;
    let messages = vec![
        Message::text(Role::System, "Be brief."),
        user("first"),
        user("second"),
        Message::text(Role::System, "Be polite."),
        Message::text(Role::Assistant, "one"),
        Message::text(Role::Assistant, "two"),
        user("third"),
    ];
    let resp = chat(
        &spgw_providers::Http::new(&Default::default()).unwrap(),
        &endpoint(mock.base_url("anthropic")),
        &request(messages),
    )
    .await
    .unwrap();
    assert_eq!(resp.text(), "Hello! You said: third");
    let body = last_body(&mock);
    assert_eq!(body["system"], json!([{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be polite."}]));
    let text = |t: &str| json!({"type": "text", "text": t});
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [text("first"), text("second")]},
            {"role": "assistant", "content": [text("one"), text("two")]},
            {"role": "user", "content": [text("third")]},
        ])
    );
}

#[tokio::test]
async fn tool_calls_round_trip_with_mapped_names() {
    let mock = mock().await;
    let ep = endpoint(mock.base_url("anthropic"));
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let mut req = request(vec![user(r#"[[tool:task_create {"title":"write docs"}]] make a task"#)]);
    req.tools = vec![task_tool()];
    req.tool_choice = Some(ToolChoice::Auto);

    let first = chat(&http, &ep, &req).await.unwrap();
    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    assert_eq!(first.tool_calls.len(), 1);
    let call = &first.tool_calls[0];
    assert_eq!(call.name, "task.create");
    assert!(call.id.starts_with("toolu_"));
    assert_eq!(serde_json::from_str::<Value>(&call.arguments).unwrap(), json!({"title": "write docs"}));
    let body = last_body(&mock);
    assert_eq!(body["tools"][0]["name"], "task_create");
    assert_eq!(body["tools"][0]["description"], "Create a task");
    assert_eq!(body["tools"][0]["input_schema"], task_tool().parameters);
    assert_eq!(body["tool_choice"], json!({"type": "auto"}));

    let mut assistant = Message::text(Role::Assistant, "");
    assistant.content.clear();
    assistant.tool_calls = first.tool_calls.clone();
    req.messages.push(assistant);
    req.messages.push(Message::tool_result(&call.id, "task.create", "created task #7"));
    let second = chat(&http, &ep, &req).await.unwrap();
    assert_eq!(second.finish_reason, FinishReason::Stop);
    assert!(second.text().contains("created task #7"), "{}", second.text());
    let body = last_body(&mock);
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": call.id, "name": "task_create", "input": {"title": "write docs"}}]})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "created task #7"}]})
    );

    // A failed tool says so; a forced tool is named by its wire name.
    req.messages.last_mut().unwrap().is_error = true;
    req.tool_choice = Some(ToolChoice::Tool { name: "task.create".into() });
    chat(&http, &ep, &req).await.unwrap();
    let body = last_body(&mock);
    assert_eq!(body["messages"][2]["content"][0]["is_error"], true);
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "task_create"}));
}

#[tokio::test]
async fn images_are_sent_as_image_blocks() {
    let mock = mock().await;
    let image = |source| ContentPart::Image { source, detail: None, cache_control: None };
    let msg = Message {
        content: vec![
            ContentPart::text("What is in these?"),
            image(ImageSource::Url { url: "https://example.com/cat.jpg".into() }),
            image(ImageSource::Url { url: "data:image/png;base64,iVBORw0KGgo=".into() }),
            image(ImageSource::Base64 { media_type: "image/webp".into(), data: "UklGRg==".into() }),
        ],
        ..user("")
    };
    chat(
        &spgw_providers::Http::new(&Default::default()).unwrap(),
        &endpoint(mock.base_url("anthropic")),
        &request(vec![msg]),
    )
    .await
    .unwrap();
    assert_eq!(
        last_body(&mock)["messages"][0]["content"],
        json!([
            {"type": "text", "text": "What is in these?"},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/webp", "data": "UklGRg=="}},
        ])
    );
}

#[tokio::test]
async fn cache_control_is_kept_and_cache_usage_normalised() {
    let mock = mock().await;
    let ephemeral = json!({"type": "ephemeral"});
    let cached = |text: &str| ContentPart::Text { text: text.into(), cache_control: Some(ephemeral.clone()) };
    let mut req = request(vec![
        Message {
            content: vec![cached("You are a careful assistant with a long manual.")],
            ..Message::text(Role::System, "")
        },
        Message {
            content: vec![cached("Here is a long document to keep."), ContentPart::text("Question?")],
            ..user("")
        },
    ]);
    req.tools = vec![ToolDef { cache_control: Some(ephemeral.clone()), ..task_tool() }];
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let ep = endpoint(mock.base_url("anthropic"));

    let first = chat(&http, &ep, &req).await.unwrap();
    let body = last_body(&mock);
    assert_eq!(body["system"][0]["cache_control"], ephemeral);
    assert_eq!(body["messages"][0]["content"][0]["cache_control"], ephemeral);
    assert!(body["messages"][0]["content"][1].get("cache_control").is_none());
    assert_eq!(body["tools"][0]["cache_control"], ephemeral);
    assert!(first.usage.cache_creation_input_tokens > 0);
    assert_eq!(first.usage.cached_input_tokens, 0);

    let second = chat(&http, &ep, &req).await.unwrap();
    assert_eq!(second.usage.cached_input_tokens, first.usage.cache_creation_input_tokens);
    assert_eq!(second.usage.cache_creation_input_tokens, 0);
    // Our input_tokens counts the whole prompt whether or not it was cached.
    assert_eq!(second.usage.input_tokens, first.usage.input_tokens);
    assert!(second.usage.input_tokens > second.usage.cached_input_tokens);
}

#[tokio::test]
async fn thinking_blocks_come_back_and_are_returned_intact() {
    let mock = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let ep = endpoint(mock.base_url("anthropic"));
    let mut req = request(vec![user("[[thinking]] What is 2 + 2?")]);
    req.reasoning = Some(Reasoning { effort: None, budget_tokens: Some(2048) });
    // Extended thinking refuses non-default sampling; the adapter must not send it.
    req.temperature = Some(0.2);
    let resp = chat(&http, &ep, &req).await.unwrap();
    let body = last_body(&mock);
    assert_eq!(body["thinking"], json!({"type": "enabled", "budget_tokens": 2048}));
    assert!(body.get("temperature").is_none());
    let ContentPart::Thinking { thinking, signature: Some(signature) } = &resp.content[0] else {
        panic!("expected a signed thinking part first: {:?}", resp.content)
    };
    assert!(!thinking.is_empty() && !signature.is_empty());
    assert_eq!(resp.text(), "Hello! You said: What is 2 + 2?");

    let redacted = ContentPart::RedactedThinking { data: "EmwKAhgBEgy3va3pzix".into() };
    let mut content = resp.content.clone();
    content.insert(1, redacted);
    req.messages.push(Message { content, ..Message::text(Role::Assistant, "") });
    req.messages.push(user("And 3 + 3?"));
    chat(&http, &ep, &req).await.unwrap();
    let sent = &last_body(&mock)["messages"][1]["content"];
    assert_eq!(sent[0], json!({"type": "thinking", "thinking": thinking, "signature": signature}));
    assert_eq!(sent[1], json!({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}));
    assert_eq!(sent[2]["type"], "text");
}

#[tokio::test]
async fn json_modes_are_emulated() {
    let mock = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let ep = endpoint(mock.base_url("anthropic"));

    let mut req = request(vec![user("[[json]] give me JSON")]);
    req.response_format = Some(ResponseFormat::JsonObject);
    let resp = chat(&http, &ep, &req).await.unwrap();
    assert!(serde_json::from_str::<Value>(&resp.text()).unwrap().is_object());
    let system = last_body(&mock)["system"][0]["text"].as_str().unwrap().to_string();
    assert!(system.contains("JSON"), "{system}");

    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]});
    req.messages = vec![user("summarise")];
    req.response_format =
        Some(ResponseFormat::JsonSchema { name: "summary".into(), schema: schema.clone(), strict: None });
    let resp = chat(&http, &ep, &req).await.unwrap();
    let body = last_body(&mock);
    assert_eq!(
        body["tools"],
        json!([{"name": "summary", "description": body["tools"][0]["description"], "input_schema": schema}])
    );
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "summary"}));
    assert!(resp.tool_calls.is_empty());
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(serde_json::from_str::<Value>(&resp.text()).unwrap()["answer"], "mock");

    let a = assemble(&collect(chat_stream(&http, &ep, &req).await.unwrap()).await);
    assert!(a.calls.is_empty());
    assert_eq!(serde_json::from_str::<Value>(&a.text).unwrap()["echo"], "summarise");
    assert_eq!(a.finish, Some(FinishReason::Stop));
}

#[tokio::test]
async fn sampling_options_user_and_extra_are_sent() {
    let mock = mock().await;
    let mut req = request(vec![user("hello")]);
    req.temperature = Some(1.5);
    req.top_p = Some(0.9);
    req.max_tokens = Some(300);
    req.stop = vec!["END".into()];
    req.user = Some("user-42".into());
    req.extra.insert("top_k".into(), json!(5));
    req.extra.insert("max_tokens".into(), json!(200));
    chat(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(mock.base_url("anthropic")), &req)
        .await
        .unwrap();
    let body = last_body(&mock);
    // Anthropic's temperature range is 0..=1.
    assert_eq!(body["temperature"], 1.0);
    assert!((body["top_p"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    assert_eq!(body["stop_sequences"], json!(["END"]));
    assert_eq!(body["metadata"], json!({"user_id": "user-42"}));
    assert_eq!(body["top_k"], 5);
    // `extra` is applied verbatim, over the translated field.
    assert_eq!(body["max_tokens"], 200);
}

#[tokio::test]
async fn stop_sequences_and_length_map_to_finish_reasons() {
    let mock = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let ep = endpoint(mock.base_url("anthropic"));
    let mut req = request(vec![user("one two three four five")]);
    req.stop = vec!["three".into()];
    let resp = chat(&http, &ep, &req).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.text(), "Hello! You said: one two ");
    req.stop.clear();
    req.max_tokens = Some(3);
    let resp = chat(&http, &ep, &req).await.unwrap();
    assert_eq!(resp.finish_reason, FinishReason::Length);
}

#[tokio::test]
async fn upstream_errors_map_to_variants() {
    let mock = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let mut ep = endpoint(mock.base_url("anthropic"));

    let limited = chat(&http, &ep, &request(vec![user("[[status:429]] [[retry-after:2]] hi")])).await.unwrap_err();
    let ProviderError::RateLimited { retry_after, message } = &limited else { panic!("{limited:?}") };
    assert_eq!(*retry_after, Some(Duration::from_secs(2)));
    assert!(message.contains("rate limit"), "{message}");

    let overloaded = chat(&http, &ep, &request(vec![user("[[status:529]] hi")])).await.unwrap_err();
    assert!(matches!(&overloaded, ProviderError::Upstream { status: 529, message, .. } if message == "Overloaded"));
    assert!(overloaded.is_retryable());

    let mut streamed = request(vec![user("[[status:529]] hi")]);
    streamed.stream = true;
    let err = chat_stream(&http, &ep, &streamed).await.err().expect("529 before the stream starts");
    assert!(matches!(err, ProviderError::Upstream { status: 529, .. }));

    ep.api_key = "bad-key".into();
    let auth = chat(&http, &ep, &request(vec![user("hi")])).await.unwrap_err();
    assert!(
        matches!(&auth, ProviderError::Auth { status: 401, message } if message == "invalid x-api-key"),
        "{auth:?}"
    );
    assert!(!auth.is_retryable());
}

#[tokio::test]
async fn mock_refuses_what_the_api_refuses() {
    let mock = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let url = format!("{}/v1/messages", mock.base_url("anthropic"));
    let ok = json!({"model": "claude-haiku-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    let send = |body: Value, version: bool| {
        let mut b = http.post(&url).header("x-api-key", "k").json(&body);
        if version {
            b = b.header("anthropic-version", "2023-06-01");
        }
        b.send()
    };
    let error_of =
        |body: Value| (body["type"].clone(), body["error"]["type"].clone(), body["error"]["message"].clone());

    let r = send(ok.clone(), false).await.unwrap();
    assert_eq!(r.status(), 400);
    let (t, kind, _) = error_of(r.json().await.unwrap());
    assert_eq!((t.as_str(), kind.as_str()), (Some("error"), Some("invalid_request_error")));

    let mut no_max = ok.clone();
    no_max.as_object_mut().unwrap().remove("max_tokens");
    let r = send(no_max, true).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(error_of(r.json().await.unwrap()).2, "max_tokens: Field required");

    let twice = json!({"model": "m", "max_tokens": 16, "messages": [
        {"role": "user", "content": "a"}, {"role": "user", "content": "b"}]});
    assert_eq!(send(twice, true).await.unwrap().status(), 400);

    let r = http.post(&url).json(&ok).header("anthropic-version", "2023-06-01").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(error_of(r.json().await.unwrap()).1, "authentication_error");

    let mut limited = ok.clone();
    limited["messages"][0]["content"] = json!("[[status:429]] hi");
    let r = send(limited, true).await.unwrap();
    assert_eq!(r.status(), 429);
    for h in [
        "anthropic-ratelimit-requests-limit",
        "anthropic-ratelimit-requests-remaining",
        "anthropic-ratelimit-requests-reset",
    ] {
        assert!(r.headers().contains_key(h), "missing {h}");
    }

    let count = http
        .post(format!("{url}/count_tokens"))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "three words here"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(count.status(), 200);
    assert_eq!(count.json::<Value>().await.unwrap(), json!({"input_tokens": 3}));
    assert_eq!(mock.requests().last().unwrap().path, "/v1/messages/count_tokens");
}

#[tokio::test]
async fn stream_yields_events_as_they_arrive() {
    let mock = mock().await;
    let mut req = request(vec![user("[[chunks:5]] [[gap-ms:50]] stream this text please")]);
    req.stream = true;
    let mut stream = chat_stream(
        &spgw_providers::Http::new(&Default::default()).unwrap(),
        &endpoint(mock.base_url("anthropic")),
        &req,
    )
    .await
    .unwrap();
    let mut events = Vec::new();
    let mut first = None;
    while let Some(e) = futures::StreamExt::next(&mut stream).await {
        first.get_or_insert_with(Instant::now);
        events.push(e);
    }
    let spread = first.unwrap().elapsed();
    // Four 50 ms gaps upstream: had the adapter buffered the answer, every event
    // would have arrived at once.
    assert!(spread >= Duration::from_millis(150), "events arrived within {spread:?}");
    assert_eq!(last_body(&mock)["stream"], true);

    let a = assemble(&events);
    assert_eq!(a.starts, 1);
    assert!(matches!(events[0], Ok(spgw_providers::StreamEvent::Start { .. })));
    assert_eq!(a.text, "Hello! You said: stream this text please");
    let deltas = events.iter().filter(|e| matches!(e, Ok(spgw_providers::StreamEvent::TextDelta { .. }))).count();
    assert_eq!(deltas, 5);
    let usage = a.usage.unwrap();
    assert!(usage.input_tokens > 0);
    assert_eq!(usage.output_tokens, spgw_mocks::count_tokens(&a.text));
    assert!(matches!(events.last(), Some(Ok(spgw_providers::StreamEvent::Finish { reason: FinishReason::Stop }))));
}

#[tokio::test]
async fn stream_assembles_tool_calls_and_thinking() {
    let mock = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let ep = endpoint(mock.base_url("anthropic"));
    let mut req = request(vec![user(r#"[[thinking]] [[tool:task_create {"title":"stream me","tags":["a","b"]}]] go"#)]);
    req.tools = vec![task_tool()];
    req.reasoning = Some(Reasoning { effort: None, budget_tokens: Some(1024) });
    let events = collect(chat_stream(&http, &ep, &req).await.unwrap()).await;
    let a = assemble(&events);
    assert!(!a.thinking.is_empty());
    assert!(!a.signature.is_empty());
    assert_eq!(a.calls.len(), 1);
    assert_eq!(a.calls[0].name, "task.create");
    assert_eq!(
        serde_json::from_str::<Value>(&a.calls[0].arguments).unwrap(),
        json!({"title": "stream me", "tags": ["a", "b"]})
    );
    assert_eq!(a.finish, Some(FinishReason::ToolCalls));
    // The API's opening empty input fragment is not passed on.
    assert!(!events.iter().any(
        |e| matches!(e, Ok(spgw_providers::StreamEvent::ToolCallDelta { arguments, .. }) if arguments.is_empty())
    ));
}
