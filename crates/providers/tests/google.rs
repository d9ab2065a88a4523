//! The Gemini adapter against the Gemini mock (`spgw-mocks`) and against
//! answers from Google's documentation (`tests/fixtures/google/`).

// Test helpers panic on purpose; clippy's test allowance only covers `#[test]` bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use spgw_mocks::MockServer;
use spgw_providers::google::{self, GENERATED_ID_PREFIX};
use spgw_providers::*;

const MODEL: &str = "gemini-3-flash-preview";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/google");

fn ep(base_url: String, key: &str) -> Endpoint {
    Endpoint { base_url, api_key: key.to_string() }
}

fn user(text: &str) -> Message {
    Message::text(Role::User, text)
}

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest { model: MODEL.into(), messages, ..ChatRequest::default() }
}

async fn mock() -> (MockServer, Endpoint) {
    let mock = spgw_mocks::spawn().await.unwrap();
    let ep = ep(mock.base_url("google"), "test-key");
    (mock, ep)
}

fn last_body(mock: &MockServer) -> Value {
    mock.requests().last().unwrap().body.clone()
}

fn task_tool() -> ToolDef {
    ToolDef {
        name: "task.create".into(),
        description: "Create a task".into(),
        parameters: json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"title": {"type": "string"}},
            "required": ["title"],
            "additionalProperties": false
        }),
        strict: None,
        cache_control: None,
    }
}

/// The wire signature inside a `gemini:call:ID:SIG` tag of a response's content.
fn call_signature(content: &[ContentPart], id: &str) -> String {
    content
        .iter()
        .find_map(|p| match p {
            ContentPart::Thinking { signature: Some(s), .. } => {
                s.strip_prefix(&format!("gemini:call:{id}:")).map(str::to_string)
            }
            _ => None,
        })
        .expect("a signature for the call")
}

async fn collect(stream: EventStream) -> Vec<(Instant, StreamEvent)> {
    stream.map(|e| (Instant::now(), e.unwrap())).collect().await
}

#[tokio::test]
async fn plain_chat() {
    let (mock, ep) = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let resp = google::chat(&http, &ep, &request(vec![user("Hi there")])).await.unwrap();

    assert_eq!(resp.text(), "Hello! You said: Hi there");
    assert_eq!(resp.model, MODEL);
    assert!(!resp.id.is_empty());
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert!(resp.usage.input_tokens > 0 && resp.usage.output_tokens > 0);
    // Gemini 3 signs the last part of a text answer; the signature rides ahead of it.
    assert!(
        matches!(&resp.content[0], ContentPart::Thinking { thinking, signature: Some(s) } if thinking.is_empty() && s.starts_with("gemini:text:"))
    );

    let rec = mock.requests().pop().unwrap();
    assert_eq!(rec.path, format!("/v1beta/models/{MODEL}:generateContent"));
    assert!(rec.headers.iter().any(|(k, v)| k == "x-goog-api-key" && v == "test-key"));
    assert_eq!(rec.body, json!({"contents": [{"role": "user", "parts": [{"text": "Hi there"}]}]}));
}

#[tokio::test]
async fn system_instruction_roles_and_generation_config() {
    let (mock, ep) = mock().await;
    let mut req = request(vec![
        Message::text(Role::System, "Be brief."),
        user("a"),
        user("b"),
        Message::text(Role::Assistant, "x"),
        Message::text(Role::Assistant, "y"),
        Message::text(Role::System, "Be polite."),
        user("c"),
    ]);
    req.temperature = Some(0.5);
    req.top_p = Some(0.9);
    req.max_tokens = Some(100);
    req.stop = vec!["END".into()];
    req.extra
        .insert("safetySettings".into(), json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]));
    req.extra.insert("generationConfig".into(), json!({"topK": 5}));
    google::chat(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep, &req).await.unwrap();

    let body = last_body(&mock);
    assert_eq!(body["systemInstruction"], json!({"parts": [{"text": "Be brief."}, {"text": "Be polite."}]}));
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
            {"role": "model", "parts": [{"text": "x"}, {"text": "y"}]},
            {"role": "user", "parts": [{"text": "c"}]}
        ])
    );
    assert_eq!(
        body["generationConfig"],
        json!({"temperature": 0.5, "topP": 0.9, "maxOutputTokens": 100, "stopSequences": ["END"], "topK": 5})
    );
    assert_eq!(body["safetySettings"][0]["threshold"], "BLOCK_NONE");
}

#[tokio::test]
async fn tools_round_trip_with_signatures() {
    let (mock, ep) = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let mut req = request(vec![user(r#"Make a task [[tool:task_create {"title":"x"}]]"#)]);
    req.tools = vec![task_tool()];
    req.tool_choice = Some(ToolChoice::Tool { name: "task.create".into() });
    let first = google::chat(&http, &ep, &req).await.unwrap();

    let body = last_body(&mock);
    let decl = &body["tools"][0]["functionDeclarations"][0];
    assert_eq!(decl["name"], "task_create");
    assert_eq!(decl["parametersJsonSchema"]["additionalProperties"], false);
    assert!(decl["parametersJsonSchema"].get("$schema").is_none() && decl.get("parameters").is_none());
    assert_eq!(
        body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["task_create"]}})
    );

    assert_eq!(first.finish_reason, FinishReason::ToolCalls);
    let call = &first.tool_calls[0];
    assert_eq!(call.name, "task.create");
    assert!(call.id.starts_with(GENERATED_ID_PREFIX));
    assert_eq!(serde_json::from_str::<Value>(&call.arguments).unwrap(), json!({"title": "x"}));
    let sig = call_signature(&first.content, &call.id);

    // Second step: the result has no name; it comes from the call it answers.
    let mut result = Message::tool_result(call.id.clone(), "", r#"{"ok":true,"id":7}"#);
    result.name = None;
    req.messages.push(Message {
        role: Role::Assistant,
        content: first.content.clone(),
        tool_calls: first.tool_calls.clone(),
        tool_call_id: None,
        name: None,
        is_error: false,
    });
    req.messages.push(result);
    let second = google::chat(&http, &ep, &req).await.unwrap();
    let answer = second.text();
    assert!(answer.contains("task_create returned") && answer.contains(r#""id":7"#), "{answer}");
    assert_eq!(second.finish_reason, FinishReason::Stop);

    let body = last_body(&mock);
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 3);
    assert_eq!(
        contents[1],
        json!({"role": "model", "parts": [{"functionCall": {"name": "task_create", "args": {"title": "x"}}, "thoughtSignature": sig}]})
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "task_create", "response": {"ok": true, "id": 7}}}]})
    );
}

#[tokio::test]
async fn thoughts_and_signatures_come_back_where_they_were() {
    let (mock, ep) = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let mut req = request(vec![user("Look it up [[thinking]] [[tool:lookup {\"q\":1}]]")]);
    req.reasoning = Some(Reasoning { effort: None, budget_tokens: Some(1024) });
    let first = google::chat(&http, &ep, &req).await.unwrap();
    assert_eq!(
        last_body(&mock)["generationConfig"]["thinkingConfig"],
        json!({"includeThoughts": true, "thinkingBudget": 1024})
    );

    let ContentPart::Thinking { thinking, signature: None } = &first.content[0] else { panic!("{:?}", first.content) };
    assert!(thinking.starts_with("Thinking about:"));
    assert!(first.usage.reasoning_tokens > 0 && first.usage.output_tokens > first.usage.reasoning_tokens);
    let call = first.tool_calls[0].clone();
    let sig = call_signature(&first.content, &call.id);

    // A stream consumer may fold the call's signature into the thought block,
    // and a fallback may leave another provider's signed thinking in history.
    let merged = vec![
        ContentPart::Thinking {
            thinking: "Anthropic thoughts".into(),
            signature: Some("EqQBCkgIAhABAnthropic".into()),
        },
        ContentPart::Thinking { thinking: thinking.clone(), signature: Some(format!("gemini:call:{}:{sig}", call.id)) },
    ];
    req.messages.push(Message {
        role: Role::Assistant,
        content: merged,
        tool_calls: vec![call.clone()],
        tool_call_id: None,
        name: None,
        is_error: false,
    });
    req.messages.push(Message::tool_result(call.id.clone(), "lookup", "42"));
    google::chat(&http, &ep, &req).await.unwrap();

    let body = last_body(&mock);
    assert_eq!(
        body["contents"][1]["parts"],
        json!([
            {"text": "Anthropic thoughts", "thought": true},
            {"text": thinking, "thought": true},
            {"functionCall": {"name": "lookup", "args": {"q": 1}}, "thoughtSignature": sig}
        ])
    );
    assert_eq!(body["contents"][2]["parts"][0]["functionResponse"]["response"], json!({"result": 42}));
}

#[tokio::test]
async fn unsigned_calls_of_the_current_turn_get_googles_placeholder() {
    let (mock, ep) = mock().await;
    let call = ToolCall { id: "toolu_01".into(), name: "lookup".into(), arguments: "{}".into() };
    let req = request(vec![
        user("Look it up"),
        Message {
            role: Role::Assistant,
            content: Vec::new(),
            tool_calls: vec![call],
            tool_call_id: None,
            name: None,
            is_error: false,
        },
        Message::tool_result("toolu_01", "lookup", "found"),
    ]);
    google::chat(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep, &req).await.unwrap();
    let part = &last_body(&mock)["contents"][1]["parts"][0];
    assert_eq!(part["thoughtSignature"], "skip_thought_signature_validator");
    // A foreign id is the caller's, so it goes back as the call's id.
    assert_eq!(part["functionCall"]["id"], "toolu_01");
}

#[tokio::test]
async fn image_input() {
    let (mock, ep) = mock().await;
    let image = |source| ContentPart::Image { source, detail: None, cache_control: None };
    let msg = Message {
        content: vec![
            ContentPart::text("What is this?"),
            image(ImageSource::Url { url: "data:image/png;base64,iVBORw0KGgo=".into() }),
            image(ImageSource::Url { url: "https://example.com/cat.JPG?size=2".into() }),
            image(ImageSource::Base64 { media_type: "image/webp".into(), data: "UklGRg==".into() }),
        ],
        ..user("")
    };
    google::chat(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep, &request(vec![msg])).await.unwrap();
    assert_eq!(
        last_body(&mock)["contents"][0]["parts"],
        json!([
            {"text": "What is this?"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.JPG?size=2"}},
            {"inlineData": {"mimeType": "image/webp", "data": "UklGRg=="}}
        ])
    );
}

#[tokio::test]
async fn json_mode_and_schema() {
    let (mock, ep) = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let mut req = request(vec![user("Give JSON [[json]]")]);
    req.response_format = Some(ResponseFormat::JsonObject);
    let resp = google::chat(&http, &ep, &req).await.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&resp.text()).unwrap()["answer"], "mock");
    assert_eq!(last_body(&mock)["generationConfig"], json!({"responseMimeType": "application/json"}));

    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"}}, "additionalProperties": false});
    req.response_format =
        Some(ResponseFormat::JsonSchema { name: "a".into(), schema: schema.clone(), strict: Some(true) });
    google::chat(&http, &ep, &req).await.unwrap();
    assert_eq!(
        last_body(&mock)["generationConfig"],
        json!({"responseMimeType": "application/json", "responseJsonSchema": schema})
    );
}

#[tokio::test]
async fn streaming_translates_chunks_as_they_arrive() {
    let (mock, ep) = mock().await;
    let req = request(vec![user("tell me a story please [[chunks:5]] [[gap-ms:50]]")]);
    let started = Instant::now();
    let events = collect(
        google::chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep, &req).await.unwrap(),
    )
    .await;
    assert!(mock.requests()[0].path.ends_with(":streamGenerateContent?alt=sse"));

    assert!(matches!(&events[0].1, StreamEvent::Start { id, model } if !id.is_empty() && model == MODEL));
    let deltas: Vec<&(Instant, StreamEvent)> =
        events.iter().filter(|(_, e)| matches!(e, StreamEvent::TextDelta { .. })).collect();
    assert_eq!(deltas.len(), 5);
    let text: String =
        deltas.iter().map(|(_, e)| if let StreamEvent::TextDelta { text } = e { text.as_str() } else { "" }).collect();
    assert_eq!(text, "Hello! You said: tell me a story please");
    // The first delta is out long before the upstream finishes (4 gaps of 50 ms).
    let (first, last) = (deltas[0].0, events.last().unwrap().0);
    assert!(last - first >= Duration::from_millis(150), "{:?}", last - first);
    assert!(first - started < last - started - Duration::from_millis(100));

    let n = events.len();
    assert!(
        matches!(&events[n - 3].1, StreamEvent::ThinkingSignature { signature } if signature.starts_with("gemini:text:"))
    );
    assert!(
        matches!(&events[n - 2].1, StreamEvent::Usage { usage } if usage.input_tokens > 0 && usage.output_tokens > 0)
    );
    assert_eq!(events[n - 1].1, StreamEvent::Finish { reason: FinishReason::Stop });
}

#[tokio::test]
async fn streaming_tool_calls() {
    let (_mock, ep) = mock().await;
    let mut req = request(vec![user(r#"Do it [[tool:task_create {"title":"y"}]]"#)]);
    req.tools = vec![task_tool()];
    let events: Vec<StreamEvent> = collect(
        google::chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep, &req).await.unwrap(),
    )
    .await
    .into_iter()
    .map(|(_, e)| e)
    .collect();

    let start = events.iter().position(|e| matches!(e, StreamEvent::ToolCallStart { .. })).unwrap();
    let StreamEvent::ToolCallStart { index: 0, id, name } = &events[start] else { panic!("{events:?}") };
    assert_eq!(name, "task.create");
    assert!(
        matches!(&events[start - 1], StreamEvent::ThinkingSignature { signature } if signature.starts_with(&format!("gemini:call:{id}:")))
    );
    let StreamEvent::ToolCallDelta { index: 0, arguments } = &events[start + 1] else { panic!("{events:?}") };
    assert_eq!(serde_json::from_str::<Value>(arguments).unwrap(), json!({"title": "y"}));
    assert_eq!(events.last(), Some(&StreamEvent::Finish { reason: FinishReason::ToolCalls }));
}

#[tokio::test]
async fn errors_map_to_provider_errors() {
    let (mock, ep) = mock().await;
    let http = spgw_providers::Http::new(&Default::default()).unwrap();
    let chat = |ep: Endpoint, text: &'static str| {
        let http = http.clone();
        async move { google::chat(&http, &ep, &request(vec![user(text)])).await.unwrap_err() }
    };
    let base = mock.base_url("google");

    assert!(matches!(chat(ep.clone(), "[[status:400]]").await, ProviderError::InvalidRequest { status: 400, .. }));
    let e = chat(self::ep(base.clone(), "bad-key"), "hi").await;
    assert!(
        matches!(e, ProviderError::Auth { status: 400, ref message } if message.contains("API key not valid")),
        "{e:?}"
    );
    assert!(matches!(chat(self::ep(base.clone(), ""), "hi").await, ProviderError::Auth { status: 403, .. }));
    let e = chat(ep.clone(), "[[status:429]] [[retry-after:2]]").await;
    assert!(
        matches!(e, ProviderError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(2)),
        "{e:?}"
    );
    let e = chat(ep.clone(), "[[status:503]]").await;
    assert!(matches!(e, ProviderError::Upstream { status: 503, .. }) && e.is_retryable());
    // A request the API refuses (roles must alternate into user/model turns,
    // and a function response needs its call) is an invalid request.
    let orphan = request(vec![Message::tool_result("call_x", "lookup", "1")]);
    let e = google::chat(&http, &ep, &orphan).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::InvalidRequest { status: 400, ref message, .. } if message.contains("function response turn")),
        "{e:?}"
    );

    let streamed = google::chat_stream(&http, &ep, &request(vec![user("[[status:429]]")])).await;
    assert!(matches!(streamed, Err(ProviderError::RateLimited { .. })));
}

// ---------------------------------------------------------------- documented answers

/// Serves `tests/fixtures/google/NAME.json` (or `NAME.sse` when streaming) for
/// model `NAME`, with the status of the error inside when there is one.
async fn fixture_server() -> String {
    use axum::extract::Path;
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;

    async fn serve(Path(call): Path<String>) -> axum::response::Response {
        let (name, method) = call.split_once(':').unwrap();
        let stream = method.starts_with("stream");
        let path = format!("{FIXTURES}/{name}.{}", if stream { "sse" } else { "json" });
        let text = std::fs::read_to_string(path).unwrap();
        let status = match serde_json::from_str::<Value>(&text) {
            Ok(v) => v["error"]["code"].as_u64().map_or(200, |c| c as u16),
            Err(_) => 200,
        };
        let ctype = if stream { "text/event-stream" } else { "application/json" };
        (StatusCode::from_u16(status).unwrap(), [(header::CONTENT_TYPE, ctype)], text).into_response()
    }

    let app = axum::Router::new().route("/v1beta/models/{call}", axum::routing::post(serve));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/{name}.json")).unwrap()).unwrap()
}

fn fixture_chunks(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.sse")).unwrap();
    text.lines().filter_map(|l| l.strip_prefix("data: ")).map(|d| serde_json::from_str(d).unwrap()).collect()
}

async fn fixture_chat(base: &str, name: &str) -> Result<ChatResponse, ProviderError> {
    let req = ChatRequest { model: name.into(), messages: vec![user("hi")], ..ChatRequest::default() };
    google::chat(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep(base.to_string(), "k"), &req).await
}

async fn fixture_stream(base: &str, name: &str) -> Vec<StreamEvent> {
    let req = ChatRequest { model: name.into(), messages: vec![user("hi")], ..ChatRequest::default() };
    let stream =
        google::chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &ep(base.to_string(), "k"), &req)
            .await
            .unwrap();
    collect(stream).await.into_iter().map(|(_, e)| e).collect()
}

#[tokio::test]
async fn parses_documented_answers() {
    let base = fixture_server().await;

    let r = fixture_chat(&base, "cookbook_text").await.unwrap();
    assert_eq!(
        r.text(),
        "OK. I found two theaters in Mountain View that are showing the Barbie movie: AMC Mountain View 16 and Regal Edwards 14."
    );
    assert_eq!((r.finish_reason, r.usage, r.model.as_str()), (FinishReason::Stop, Usage::default(), "cookbook_text"));

    let r = fixture_chat(&base, "cookbook_function_call").await.unwrap();
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.tool_calls[0].name, "find_theaters");
    let args: Value = serde_json::from_str(&r.tool_calls[0].arguments).unwrap();
    assert_eq!(args, json!({"movie": "Barbie", "location": "Mountain View, CA"}));

    let r = fixture_chat(&base, "gemini3_text").await.unwrap();
    assert_eq!((r.id.as_str(), r.model.as_str()), ("L7JLavbaFMP5xN8P2-fwwAE", "gemini-3-flash-preview"));
    assert_eq!(
        r.content[0],
        ContentPart::Thinking {
            thinking: String::new(),
            signature: Some("gemini:text:CiQBcsjafGg5nI1u2y0VkfL3rbFvR0qDJZ0FyOt6i8VfT3eAxpo=".into())
        }
    );
    assert!(r.text().starts_with("Occam's Razor"));
    assert_eq!(r.usage, Usage { input_tokens: 16, output_tokens: 443, reasoning_tokens: 422, ..Usage::default() });

    let r = fixture_chat(&base, "gemini3_function_call").await.unwrap();
    let id = &r.tool_calls[0].id;
    assert!(
        matches!(&r.content[0], ContentPart::Thinking { thinking, signature: None } if thinking.starts_with("**Checking"))
    );
    assert_eq!(call_signature(&r.content, id), "CiwBjz1rX4sk0Lgr1ivAYd0pXtc3t2IhwpFbvEBf5m6wJ2+ADgsq5xYRbzHH");
    assert_eq!(r.usage.cached_input_tokens, 64);
    assert_eq!(r.usage.output_tokens, 15 + 278);
    // Ids made up for id-less calls are stable: the same answer yields the same id.
    assert_eq!(&fixture_chat(&base, "gemini3_function_call").await.unwrap().tool_calls[0].id, id);

    let e = fixture_chat(&base, "error_invalid_key").await.unwrap_err();
    assert!(matches!(e, ProviderError::Auth { status: 400, .. }), "{e:?}");
    let e = fixture_chat(&base, "error_quota").await.unwrap_err();
    assert!(
        matches!(e, ProviderError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(39)),
        "{e:?}"
    );
}

#[tokio::test]
async fn parses_documented_streams() {
    let base = fixture_server().await;

    // Older models repeat finishReason on every chunk: one Finish, at the end.
    let events = fixture_stream(&base, "cookbook_stream").await;
    let expected: String = fixture_chunks("cookbook_stream")
        .iter()
        .map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str().unwrap().to_string())
        .collect();
    let text: String = events
        .iter()
        .filter_map(|e| if let StreamEvent::TextDelta { text } = e { Some(text.as_str()) } else { None })
        .collect();
    assert_eq!(text, expected);
    assert_eq!(events.iter().filter(|e| matches!(e, StreamEvent::Finish { .. })).count(), 1);
    assert_eq!(events.last(), Some(&StreamEvent::Finish { reason: FinishReason::Stop }));

    let events = fixture_stream(&base, "gemini3_stream").await;
    assert_eq!(
        events[0],
        StreamEvent::Start { id: "rxRzaPDDJ9vYz7IP7eXS2Ak".into(), model: "gemini-3-flash-preview".into() }
    );
    assert_eq!(
        &events[events.len() - 3..],
        &[
            StreamEvent::ThinkingSignature {
                signature: "gemini:text:CiQBcsjafHuPT3nmvVSgJw3SZq7JKpN2NqLbLWBjCA5W0cHRAiE=".into()
            },
            StreamEvent::Usage {
                usage: Usage { input_tokens: 8, output_tokens: 17 + 356, reasoning_tokens: 356, ..Usage::default() }
            },
            StreamEvent::Finish { reason: FinishReason::Stop },
        ]
    );
}

/// `doc` and `mock` have the same keys with the same JSON types, recursively;
/// `optional` keys of `doc` may be absent from `mock`. Every element of a mock
/// array must look like some element of the documented array.
fn shape_diff(doc: &Value, mock: &Value, optional: &[&str], at: &str) -> Result<(), String> {
    match (doc, mock) {
        (Value::Object(d), Value::Object(m)) => {
            if let Some(k) = m.keys().find(|k| !d.contains_key(*k)) {
                return Err(format!("{at}: mock sends `{k}`, which the documented answer has not"));
            }
            for (k, dv) in d {
                match m.get(k) {
                    Some(mv) => shape_diff(dv, mv, optional, &format!("{at}.{k}"))?,
                    None if optional.contains(&k.as_str()) => {}
                    None => return Err(format!("{at}: mock lacks `{k}`")),
                }
            }
            Ok(())
        }
        (Value::Array(d), Value::Array(m)) => {
            if d.is_empty() != m.is_empty() {
                return Err(format!("{at}: one array is empty, the other not"));
            }
            for (i, mv) in m.iter().enumerate() {
                if !d.iter().any(|dv| shape_diff(dv, mv, optional, at).is_ok()) {
                    return Err(format!("{at}[{i}]: {mv} matches no documented element"));
                }
            }
            Ok(())
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => Ok(()),
        _ => Err(format!("{at}: documented {doc}, mock sent {mock}")),
    }
}

fn assert_same_shape(doc: &Value, mock: &Value, optional: &[&str], at: &str) {
    if let Err(e) = shape_diff(doc, mock, optional, at) {
        panic!("{e}");
    }
}

async fn raw_post(url: String, key: &str, body: Value) -> (u16, String) {
    let resp = spgw_providers::Http::new(&Default::default())
        .unwrap()
        .post(url)
        .header("x-goog-api-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn mock_answers_have_the_documented_shape() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let url = |m: &str, method: &str| format!("{}/v1beta/models/{m}:{method}", mock.base_url("google"));
    let ask = |text: &str, thoughts: bool| {
        let mut body = json!({"contents": [{"role": "user", "parts": [{"text": text}]}],
            "tools": [{"functionDeclarations": [{"name": "check_flight"}]}]});
        if thoughts {
            body["generationConfig"] = json!({"thinkingConfig": {"includeThoughts": true}});
        }
        body
    };

    let (status, text) = raw_post(url(MODEL, "generateContent"), "k", ask("hi [[thinking]]", false)).await;
    assert_eq!(status, 200);
    assert_same_shape(&fixture("gemini3_text"), &serde_json::from_str(&text).unwrap(), &[], "");

    let (_, text) = raw_post(
        url(MODEL, "generateContent"),
        "k",
        ask(r#"[[thinking]] [[tool:check_flight {"flight":"AA100"}]]"#, true),
    )
    .await;
    assert_same_shape(
        &fixture("gemini3_function_call"),
        &serde_json::from_str(&text).unwrap(),
        &["cachedContentTokenCount"],
        "",
    );

    let (_, text) =
        raw_post(url(MODEL, "streamGenerateContent?alt=sse"), "k", ask("hi [[thinking]] [[chunks:3]]", false)).await;
    let chunks: Vec<Value> = text
        .split("\r\n\r\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let doc = fixture_chunks("gemini3_stream");
    assert_eq!(chunks.len(), 4);
    assert_same_shape(&doc[0], &chunks[0], &[], "first chunk");
    assert_same_shape(&doc[doc.len() - 1], &chunks[3], &[], "last chunk");

    let (status, text) = raw_post(url(MODEL, "generateContent"), "bad-key", ask("hi", false)).await;
    assert_eq!(status, 400);
    assert_same_shape(&fixture("error_invalid_key"), &serde_json::from_str(&text).unwrap(), &[], "");
    let (status, text) =
        raw_post(url(MODEL, "generateContent"), "k", ask("[[status:429]] [[retry-after:3]]", false)).await;
    assert_eq!(status, 429);
    assert_same_shape(&fixture("error_quota"), &serde_json::from_str(&text).unwrap(), &[], "");
}

#[tokio::test]
async fn mock_counts_tokens_and_embeds() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let url = |m: &str, method: &str| format!("{}/v1beta/models/{m}:{method}?key=k", mock.base_url("google"));
    let post = |u: String, body: Value| async move {
        let resp = spgw_providers::Http::new(&Default::default()).unwrap().post(u).json(&body).send().await.unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };

    let (status, v) =
        post(url(MODEL, "countTokens"), json!({"contents": [{"parts": [{"text": "one two three"}]}]})).await;
    assert_eq!((status, v["totalTokens"].as_u64()), (200, Some(3)));

    let content = json!({"parts": [{"text": "hello world"}]});
    let (_, one) =
        post(url("gemini-embedding-001", "embedContent"), json!({"content": content, "outputDimensionality": 8})).await;
    let values = one["embedding"]["values"].as_array().unwrap();
    assert_eq!(values.len(), 8);
    let (_, batch) = post(
        url("gemini-embedding-001", "batchEmbedContents"),
        json!({"requests": [
            {"model": "models/gemini-embedding-001", "content": content, "outputDimensionality": 8},
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "other"}]}, "outputDimensionality": 8}
        ]}),
    )
    .await;
    assert_eq!(&batch["embeddings"][0]["values"], &one["embedding"]["values"]);
    assert_ne!(batch["embeddings"][1]["values"], batch["embeddings"][0]["values"]);
    let (status, _) = post(url(MODEL, "embedContent"), json!({"content": content})).await;
    assert_eq!(status, 404);
}
