//! The OpenAI adapter against the mock upstream: what it sends (checked
//! against OpenAI's published request schema) and how it reads the answers.

mod openai_support;

use std::time::Duration;

use openai_support::schema::assert_valid;
use openai_support::{Harness, ask, collect, header, streamed_arguments, streamed_text};
use serde_json::{Value, json};
use spgw_providers::{
    ChatRequest, ContentPart, FinishReason, ImageSource, Message, ProviderError, ResponseFormat, Role, StreamEvent,
    ToolChoice, ToolDef, openai,
};

fn task_tool() -> ToolDef {
    ToolDef {
        name: "task.create".into(),
        description: "Create a task".into(),
        parameters: json!({"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}),
        strict: None,
        cache_control: None,
    }
}

#[tokio::test]
async fn plain_chat() {
    let h = Harness::start().await;
    let mut req = ask("gpt-5.2", "Say hi");
    req.messages.insert(0, Message::text(Role::System, "You are terse."));
    req.temperature = Some(0.5);
    req.max_tokens = Some(64);
    req.user = Some("user-7".into());
    let resp = openai::chat(&h.http, &h.endpoint("openai"), &req).await.unwrap();
    assert_eq!(resp.text(), "Hello! You said: Say hi");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.model, "gpt-5.2");
    assert!(resp.id.starts_with("chatcmpl-"));
    let words = spgw_mocks::count_tokens(&resp.text());
    assert!(resp.usage.input_tokens > 0 && resp.usage.output_tokens == words);
    assert_eq!(resp.usage.total(), resp.usage.input_tokens + words);

    let sent = h.only_request();
    assert_eq!(sent.path, "/chat/completions");
    assert_eq!(header(&sent, "authorization"), Some("Bearer test-key"));
    assert_eq!(
        sent.body["messages"],
        json!([{"role":"system","content":"You are terse."},{"role":"user","content":"Say hi"}])
    );
    assert_eq!(sent.body["max_completion_tokens"], 64);
    assert_eq!(sent.body["temperature"], 0.5);
    assert_eq!(sent.body["user"], "user-7");
    assert!(sent.body.get("stream").is_none());
    assert_valid("CreateChatCompletionRequest", &sent.body);
}

#[tokio::test]
async fn tool_call_round_trip() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let mut req = ask("gpt-5-mini", r#"Make a task [[tool:task_create {"title":"write docs"}]]"#);
    req.tools = vec![task_tool()];
    req.tool_choice = Some(ToolChoice::Auto);
    let first = openai::chat(&h.http, &ep, &req).await.unwrap();
    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    assert_eq!(first.tool_calls.len(), 1);
    let call = &first.tool_calls[0];
    assert_eq!(call.name, "task.create", "the wire name is mapped back");
    assert_eq!(serde_json::from_str::<Value>(&call.arguments).unwrap(), json!({"title": "write docs"}));
    let sent = h.last_request();
    assert_eq!(sent.body["tools"][0]["function"]["name"], "task_create");
    assert_eq!(sent.body["tool_choice"], "auto");
    assert_valid("CreateChatCompletionRequest", &sent.body);

    let mut assistant = Message::text(Role::Assistant, "");
    assistant.content.clear();
    assistant.tool_calls = first.tool_calls.clone();
    req.messages.push(assistant);
    req.messages.push(Message::tool_result(&call.id, "task.create", r#"{"id":42}"#));
    let second = openai::chat(&h.http, &ep, &req).await.unwrap();
    assert_eq!(second.text(), r#"Tool result: {"id":42}"#);
    assert_eq!(second.finish_reason, FinishReason::Stop);
    let sent = h.last_request();
    assert_eq!(
        sent.body["messages"][1],
        json!({"role":"assistant","content":null,"tool_calls":[{"id":call.id,"type":"function","function":{"name":"task_create","arguments":call.arguments}}]})
    );
    assert_eq!(sent.body["messages"][2], json!({"role":"tool","content":"{\"id\":42}","tool_call_id":call.id}));
    assert_valid("CreateChatCompletionRequest", &sent.body);
}

#[tokio::test]
async fn json_mode_and_structured_output() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let mut req = ask("gpt-5-nano", "Give me JSON [[json]]");
    req.response_format = Some(ResponseFormat::JsonObject);
    let resp = openai::chat(&h.http, &ep, &req).await.unwrap();
    let parsed: Value = serde_json::from_str(&resp.text()).expect("the answer is JSON");
    assert_eq!(parsed["echo"], "Give me JSON");
    assert_eq!(h.last_request().body["response_format"], json!({"type": "json_object"}));

    req.response_format = Some(ResponseFormat::JsonSchema {
        name: "answer".into(),
        schema: json!({"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"],"additionalProperties":false}),
        strict: Some(true),
    });
    openai::chat(&h.http, &ep, &req).await.unwrap();
    let sent = h.last_request();
    assert_eq!(sent.body["response_format"]["type"], "json_schema");
    assert_eq!(sent.body["response_format"]["json_schema"]["name"], "answer");
    assert_eq!(sent.body["response_format"]["json_schema"]["strict"], true);
    assert_valid("CreateChatCompletionRequest", &sent.body);
}

#[tokio::test]
async fn image_input() {
    let h = Harness::start().await;
    let mut msg = Message::text(Role::User, "What is in these images?");
    msg.content.push(ContentPart::Image {
        source: ImageSource::Url { url: "https://example.com/a.jpg".into() },
        detail: Some("high".into()),
        cache_control: None,
    });
    msg.content.push(ContentPart::Image {
        source: ImageSource::Base64 { media_type: "image/png".into(), data: "iVBORw0KGgo=".into() },
        detail: None,
        cache_control: None,
    });
    let req = ChatRequest { model: "gpt-5.2".into(), messages: vec![msg], ..Default::default() };
    let resp = openai::chat(&h.http, &h.endpoint("openai"), &req).await.unwrap();
    assert_eq!(resp.text(), "Hello! You said: What is in these images?");
    let sent = h.only_request();
    assert_eq!(
        sent.body["messages"][0]["content"],
        json!([
            {"type":"text","text":"What is in these images?"},
            {"type":"image_url","image_url":{"url":"https://example.com/a.jpg","detail":"high"}},
            {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}
        ])
    );
    assert_valid("CreateChatCompletionRequest", &sent.body);
}

#[tokio::test]
async fn streaming_text() {
    let h = Harness::start().await;
    let req = ask("gpt-5.2", "Stream this please [[chunks:3]] [[gap-ms:5]]");
    let stream = openai::chat_stream(&h.http, &h.endpoint("openai"), &req).await.unwrap();
    let (events, err) = collect(stream).await;
    assert!(err.is_none(), "{err:?}");
    assert!(
        matches!(&events[0], StreamEvent::Start { id, model } if id.starts_with("chatcmpl-") && model == "gpt-5.2")
    );
    let deltas = events.iter().filter(|e| matches!(e, StreamEvent::TextDelta { .. })).count();
    assert_eq!(deltas, 3);
    assert_eq!(streamed_text(&events), "Hello! You said: Stream this please");
    let n = events.len();
    let words = spgw_mocks::count_tokens(&streamed_text(&events));
    assert!(
        matches!(&events[n - 2], StreamEvent::Usage { usage } if usage.output_tokens == words && usage.input_tokens > 0)
    );
    assert_eq!(events[n - 1], StreamEvent::Finish { reason: FinishReason::Stop });

    let sent = h.only_request();
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
    assert_valid("CreateChatCompletionRequest", &sent.body);
}

#[tokio::test]
async fn streaming_tool_call_is_assembled() {
    let h = Harness::start().await;
    let mut req = ask("gpt-5.2", r#"go [[tool:task_create {"title":"a long task title"}]] [[chunks:4]]"#);
    req.tools = vec![task_tool()];
    let stream = openai::chat_stream(&h.http, &h.endpoint("openai"), &req).await.unwrap();
    let (events, err) = collect(stream).await;
    assert!(err.is_none(), "{err:?}");
    let starts: Vec<_> = events.iter().filter(|e| matches!(e, StreamEvent::ToolCallStart { .. })).collect();
    assert!(
        matches!(starts.as_slice(), [StreamEvent::ToolCallStart { index: 0, name, id }] if name == "task.create" && id.starts_with("call_"))
    );
    assert_eq!(streamed_arguments(&events, 0), r#"{"title":"a long task title"}"#);
    assert_eq!(events.iter().filter(|e| matches!(e, StreamEvent::ToolCallDelta { .. })).count(), 4);
    assert_eq!(events.last(), Some(&StreamEvent::Finish { reason: FinishReason::ToolCalls }));
}

#[tokio::test]
async fn error_statuses_map_to_provider_errors() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let bad = openai::chat(&h.http, &h.endpoint_with_key("openai", "bad-key"), &ask("gpt-5.2", "hi")).await;
    assert!(
        matches!(bad, Err(ProviderError::Auth { status: 401, ref message }) if message.starts_with("Incorrect API key"))
    );
    let missing = openai::chat(&h.http, &h.endpoint_with_key("openai", ""), &ask("gpt-5.2", "hi")).await;
    assert!(matches!(missing, Err(ProviderError::Auth { status: 401, .. })));
    assert_eq!(header(&h.last_request(), "authorization"), None, "no key, no header");

    let limited = openai::chat(&h.http, &ep, &ask("gpt-5.2", "hi [[status:429]] [[retry-after:2]]")).await;
    match limited {
        Err(e @ ProviderError::RateLimited { .. }) => {
            assert!(e.is_retryable());
            assert!(
                matches!(e, ProviderError::RateLimited { retry_after: Some(d), ref message } if d == Duration::from_secs(2) && message.starts_with("Rate limit reached"))
            );
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
    let server = openai::chat(&h.http, &ep, &ask("gpt-5.2", "hi [[status:500]]")).await;
    assert!(matches!(server, Err(ref e @ ProviderError::Upstream { status: 500, .. }) if e.is_retryable()));
    let invalid = openai::chat(&h.http, &ep, &ask("gpt-5.2", "hi [[status:400]]")).await;
    assert!(matches!(invalid, Err(ref e @ ProviderError::InvalidRequest { status: 400, .. }) if !e.is_retryable()));
    // Errors before the stream starts surface from chat_stream itself.
    let stream = openai::chat_stream(&h.http, &ep, &ask("gpt-5.2", "hi [[status:503]]")).await;
    assert!(matches!(stream, Err(ProviderError::Upstream { status: 503, .. })));
}

#[tokio::test]
async fn error_inside_a_stream() {
    let h = Harness::start().await;
    let stream =
        openai::chat_stream(&h.http, &h.endpoint("openai"), &ask("gpt-5.2", "hi [[stream-error]]")).await.unwrap();
    let (events, err) = collect(stream).await;
    assert!(matches!(events.as_slice(), [StreamEvent::Start { .. }]), "{events:?}");
    assert!(matches!(err, Some(ref e @ ProviderError::Upstream { .. }) if e.is_retryable()), "{err:?}");
}

#[tokio::test]
async fn extra_fields_pass_through() {
    let h = Harness::start().await;
    let mut req = ask("gpt-5.2", "hi");
    req.extra.insert("seed".into(), json!(42));
    req.extra.insert("metadata".into(), json!({"team": "docs"}));
    req.extra.insert("parallel_tool_calls".into(), json!(false));
    // Fields the adapter owns are not overridden by extras.
    req.extra.insert("model".into(), json!("other-model"));
    openai::chat(&h.http, &h.endpoint("openai"), &req).await.unwrap();
    let sent = h.only_request();
    assert_eq!(sent.body["seed"], 42);
    assert_eq!(sent.body["metadata"], json!({"team": "docs"}));
    assert_eq!(sent.body["parallel_tool_calls"], false);
    assert_eq!(sent.body["model"], "gpt-5.2");
    assert_valid("CreateChatCompletionRequest", &sent.body);
}

#[tokio::test]
async fn responses_api_for_pro_models() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let mut req = ask("gpt-5.2-pro", r#"plan it [[tool:task_create {"title":"t"}]]"#);
    req.messages.insert(0, Message::text(Role::System, "Be careful."));
    req.tools = vec![task_tool()];
    req.max_tokens = Some(1000);
    req.reasoning = Some(spgw_providers::Reasoning { effort: Some("high".into()), budget_tokens: None });
    let first = openai::chat(&h.http, &ep, &req).await.unwrap();
    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    assert!(first.id.starts_with("resp_"));
    assert_eq!(first.tool_calls[0].name, "task.create");
    assert_eq!(first.tool_calls[0].arguments, r#"{"title":"t"}"#);
    let sent = h.last_request();
    assert_eq!(sent.path, "/responses");
    assert_eq!(sent.body["max_output_tokens"], 1000);
    assert_eq!(sent.body["reasoning"], json!({"effort": "high"}));
    assert_eq!(sent.body["tools"][0]["name"], "task_create");
    assert_valid("CreateResponse", &sent.body);

    req.messages.push(Message { tool_calls: first.tool_calls.clone(), ..Message::text(Role::Assistant, "") });
    req.messages.push(Message::tool_result(&first.tool_calls[0].id, "task.create", "created"));
    let second = openai::chat(&h.http, &ep, &req).await.unwrap();
    assert_eq!(second.text(), "Tool result: created");
    assert_eq!(second.finish_reason, FinishReason::Stop);
    assert!(second.usage.input_tokens > 0 && second.usage.output_tokens > 0);
    let sent = h.last_request();
    let input = sent.body["input"].as_array().unwrap();
    assert_eq!(
        input[2],
        json!({"type":"function_call","call_id":first.tool_calls[0].id,"name":"task_create","arguments":"{\"title\":\"t\"}"})
    );
    assert_eq!(input[3], json!({"type":"function_call_output","call_id":first.tool_calls[0].id,"output":"created"}));
    assert_valid("CreateResponse", &sent.body);
}

#[tokio::test]
async fn responses_api_streaming() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let req = ask("gpt-5.3-codex", "explain [[thinking]] [[chunks:2]]");
    let (events, err) = collect(openai::chat_stream(&h.http, &ep, &req).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    assert!(
        matches!(&events[0], StreamEvent::Start { id, model } if id.starts_with("resp_") && model == "gpt-5.3-codex")
    );
    let first_thinking = events.iter().position(|e| matches!(e, StreamEvent::ThinkingDelta { .. })).unwrap();
    let first_text = events.iter().position(|e| matches!(e, StreamEvent::TextDelta { .. })).unwrap();
    assert!(first_thinking < first_text);
    assert_eq!(streamed_text(&events), "Hello! You said: explain");
    let n = events.len();
    assert!(matches!(&events[n - 2], StreamEvent::Usage { usage } if usage.reasoning_tokens > 0));
    assert_eq!(events[n - 1], StreamEvent::Finish { reason: FinishReason::Stop });
    let sent = h.only_request();
    assert_eq!((sent.path.as_str(), &sent.body["stream"]), ("/responses", &json!(true)));
    assert_valid("CreateResponse", &sent.body);

    let mut req = ask("gpt-5.3-codex", r#"[[tool:task_create {"title":"x y"}]] [[chunks:3]]"#);
    req.tools = vec![task_tool()];
    let (events, err) = collect(openai::chat_stream(&h.http, &ep, &req).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    assert!(
        events.iter().any(|e| matches!(e, StreamEvent::ToolCallStart { index: 0, name, .. } if name == "task.create"))
    );
    assert_eq!(streamed_arguments(&events, 0), r#"{"title":"x y"}"#);
    assert_eq!(events.last(), Some(&StreamEvent::Finish { reason: FinishReason::ToolCalls }));
}

#[tokio::test]
async fn responses_api_refuses_stop_sequences_before_calling() {
    let h = Harness::start().await;
    let mut req = ask("gpt-5.2-pro", "hi");
    req.stop = vec!["END".into()];
    let err = openai::chat(&h.http, &h.endpoint("openai"), &req).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unsupported(_)));
    assert!(h.mock.requests().is_empty());
}

#[tokio::test]
async fn dispatch_reaches_a_custom_openai_compatible_server() {
    let h = Harness::start().await;
    // An operator-added vLLM/Ollama: any base_url, any model name.
    let ep =
        spgw_providers::Endpoint { base_url: format!("http://{}/huggingface/v1/", h.mock.addr), api_key: "k".into() };
    let mut req = ask("llama3.1:8b", "hello there");
    req.max_tokens = Some(20);
    let resp = spgw_providers::chat(spgw_providers::Protocol::OpenAi, &h.http, &ep, &req).await.unwrap();
    assert_eq!(resp.text(), "Hello! You said: hello there");
    let sent = h.only_request();
    assert_eq!(sent.path, "/chat/completions", "the trailing slash of base_url is not doubled");
    assert_eq!(sent.body["max_tokens"], 20, "compatible servers get the classic field");
    assert!(sent.body.get("max_completion_tokens").is_none());

    let stream = spgw_providers::chat_stream(spgw_providers::Protocol::OpenAi, &h.http, &ep, &req).await.unwrap();
    let (events, err) = collect(stream).await;
    assert!(err.is_none());
    assert_eq!(streamed_text(&events), "Hello! You said: hello there");
}

#[tokio::test]
async fn responses_only_models_are_refused_on_chat_completions_upstream() {
    // The mock enforces OpenAI's rule, so the adapter's routing is what makes the call work.
    let h = Harness::start().await;
    let raw = h
        .http
        .post(format!("{}/chat/completions", h.mock.base_url("openai")))
        .bearer_auth("k")
        .json(&json!({"model": "gpt-5.2-pro", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 404);
    let ok = openai::chat(&h.http, &h.endpoint("openai"), &ask("gpt-5.2-pro", "hi")).await.unwrap();
    assert_eq!(ok.text(), "Hello! You said: hi");
}
