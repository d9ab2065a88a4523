//! xAI, DeepSeek and Hugging Face through the OpenAI adapter, against the mock:
//! their base URLs, reasoning_content, DeepSeek's cache accounting, dispatch by
//! catalog entry.

mod openai_support;

use openai_support::schema::assert_valid;
use openai_support::{Harness, ask, collect, streamed_text, thinking};
use serde_json::json;
use spgw_providers::{FinishReason, Message, Role, StreamEvent, ToolDef, catalog, deepseek, huggingface, xai};

#[tokio::test]
async fn deepseek_reasoner_returns_its_reasoning() {
    let h = Harness::start().await;
    let ep = h.endpoint("deepseek");
    let req = ask("deepseek-reasoner", "Which is bigger, 9.11 or 9.8? [[thinking]]");
    let resp = deepseek::chat(&h.http, &ep, &req).await.unwrap();
    assert_eq!(resp.text(), "Hello! You said: Which is bigger, 9.11 or 9.8?");
    assert!(thinking(&resp.content).starts_with("The user wrote"));
    assert!(matches!(resp.content[0], spgw_providers::ContentPart::Thinking { .. }), "thinking comes first");
    assert!(resp.usage.reasoning_tokens > 0);
    // DeepSeek reports cache hits as prompt_cache_hit_tokens; the mock hits half.
    assert_eq!(resp.usage.cached_input_tokens, resp.usage.input_tokens / 2);
    let sent = h.only_request();
    assert_eq!(sent.path, "/chat/completions", "DeepSeek's base URL has no /v1");
    assert!(ep.base_url.ends_with("/deepseek"));

    let (events, err) = collect(deepseek::chat_stream(&h.http, &ep, &req).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    let thinking_at = events.iter().position(|e| matches!(e, StreamEvent::ThinkingDelta { .. })).unwrap();
    let text_at = events.iter().position(|e| matches!(e, StreamEvent::TextDelta { .. })).unwrap();
    assert!(thinking_at < text_at);
    let streamed_thinking: String = events
        .iter()
        .filter_map(|e| if let StreamEvent::ThinkingDelta { thinking } = e { Some(thinking.as_str()) } else { None })
        .collect();
    assert_eq!(streamed_thinking, thinking(&resp.content));
    assert!(events.iter().any(|e| matches!(e, StreamEvent::Usage { usage } if usage.cached_input_tokens > 0)));
}

#[tokio::test]
async fn deepseek_gets_reasoning_back_on_tool_turns() {
    let h = Harness::start().await;
    let ep = h.endpoint("deepseek");
    let tool = ToolDef {
        name: "weather.get".into(),
        description: String::new(),
        parameters: json!({"type": "object"}),
        strict: None,
        cache_control: None,
    };
    let mut req = ask("deepseek-reasoner", r#"Weather? [[thinking]] [[tool:weather_get {"city":"Paris"}]]"#);
    req.tools = vec![tool];
    req.max_tokens = Some(200);
    let first = deepseek::chat(&h.http, &ep, &req).await.unwrap();
    assert_eq!(first.tool_calls[0].name, "weather.get");
    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    let sent = h.last_request();
    assert_eq!(sent.body["max_tokens"], 200, "DeepSeek takes max_tokens");

    req.messages.push(Message {
        content: first.content.clone(),
        tool_calls: first.tool_calls.clone(),
        ..Message::text(Role::Assistant, "")
    });
    req.messages.push(Message::tool_result(&first.tool_calls[0].id, "weather.get", "sunny"));
    let second = deepseek::chat(&h.http, &ep, &req).await.unwrap();
    assert_eq!(second.text(), "Tool result: sunny");
    let sent = h.last_request();
    assert_eq!(sent.body["messages"][1]["reasoning_content"], thinking(&first.content));
    assert_eq!(sent.body["messages"][1]["tool_calls"][0]["function"]["name"], "weather_get");
}

#[tokio::test]
async fn xai_reasoning_stream() {
    let h = Harness::start().await;
    let ep = h.endpoint("xai");
    assert!(ep.base_url.ends_with("/xai/v1"));
    let req = ask("grok-4-1-fast-reasoning", "think first [[thinking]]");
    let (events, err) = collect(xai::chat_stream(&h.http, &ep, &req).await.unwrap()).await;
    assert!(err.is_none(), "{err:?}");
    assert!(events.iter().any(|e| matches!(e, StreamEvent::ThinkingDelta { .. })));
    assert_eq!(streamed_text(&events), "Hello! You said: think first");
    let resp = xai::chat(&h.http, &ep, &ask("grok-4-1-fast-non-reasoning", "plain")).await.unwrap();
    assert_eq!(thinking(&resp.content), "", "no reasoning without [[thinking]]");
    let sent = h.last_request();
    assert_eq!((sent.provider.as_str(), sent.path.as_str()), ("xai", "/chat/completions"));
    assert_valid("CreateChatCompletionRequest", &sent.body);
}

#[tokio::test]
async fn huggingface_router_chat() {
    let h = Harness::start().await;
    let ep = h.endpoint("huggingface");
    let mut req = ask("meta-llama/Llama-3.1-8B-Instruct", "Bonjour");
    req.max_tokens = Some(32);
    let resp = huggingface::chat(&h.http, &ep, &req).await.unwrap();
    assert_eq!(resp.text(), "Hello! You said: Bonjour");
    assert_eq!(resp.model, "meta-llama/Llama-3.1-8B-Instruct");
    let sent = h.only_request();
    assert_eq!((sent.provider.as_str(), sent.path.as_str()), ("huggingface", "/chat/completions"));
    assert_eq!(sent.body["max_tokens"], 32);
}

#[tokio::test]
async fn every_openai_protocol_chat_model_answers_through_dispatch() {
    let h = Harness::start().await;
    for provider in catalog::PROVIDERS.iter().filter(|p| p.protocol == spgw_providers::Protocol::OpenAi) {
        let ep = h.endpoint(provider.name);
        for m in (provider.models)().into_iter().filter(|m| m.features.contains(&"chat")) {
            let resp = spgw_providers::chat(provider.protocol, &h.http, &ep, &ask(m.code, "ping"))
                .await
                .unwrap_or_else(|e| panic!("{}/{}: {e}", provider.name, m.code));
            assert_eq!(resp.text(), "Hello! You said: ping", "{}/{}", provider.name, m.code);
            if m.features.contains(&"streaming") {
                let stream =
                    spgw_providers::chat_stream(provider.protocol, &h.http, &ep, &ask(m.code, "ping")).await.unwrap();
                let (events, err) = collect(stream).await;
                assert!(err.is_none(), "{}/{}: {err:?}", provider.name, m.code);
                assert_eq!(streamed_text(&events), "Hello! You said: ping");
            }
        }
    }
}
