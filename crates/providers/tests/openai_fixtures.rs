//! OpenAI's documented examples (`tests/fixtures/openai`, see its README):
//! (a) the adapter reads each documented answer and stream correctly, and the
//! gateway direction reads each documented request; (b) the mock answers in
//! the documented shape (same keys and JSON types, recursively) and within
//! OpenAI's published schema. (b) is how the mock is kept honest.
// Helpers outside #[test] functions are test code too: failures should panic.
#![allow(clippy::unwrap_used)]

mod openai_support;

use openai_support::schema::{assert_shape, assert_valid, validate_ignoring};
use openai_support::{Harness, collect, fixture, json_fixture, sse_frames, streamed_arguments, streamed_text};
use serde_json::{Value, json};
use spgw_providers::names::ToolNames;
use spgw_providers::openai::{self, compat, convert, responses, types};
use spgw_providers::{ContentPart, Endpoint, FinishReason, ProviderError, StreamEvent};

/// Serves one canned answer on every path; returns its `/v1` base URL.
async fn replay(
    status: u16,
    content_type: &'static str,
    body: String,
    headers: &'static [(&'static str, &'static str)],
) -> String {
    use axum::http::{HeaderName, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move {
            let mut resp =
                (StatusCode::from_u16(status).unwrap(), [("content-type", content_type)], body).into_response();
            for (k, v) in headers {
                resp.headers_mut().insert(HeaderName::from_static(k), HeaderValue::from_static(v));
            }
            resp
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn endpoint(base_url: String) -> Endpoint {
    Endpoint { base_url, api_key: "sk-test".into() }
}

fn completion(name: &str) -> spgw_providers::ChatResponse {
    let wire: types::ChatCompletion = serde_json::from_value(json_fixture(name)).unwrap();
    convert::from_wire(wire, &ToolNames::default()).unwrap()
}

// ---- (a) the adapter reads what OpenAI documents ----

#[test]
fn reads_documented_chat_completions() {
    let r = completion("chat_completion.json");
    assert_eq!(r.id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
    assert_eq!(r.model, "gpt-5.4");
    assert_eq!(r.text(), "Hello! How can I assist you today?");
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens, r.usage.cached_input_tokens), (19, 10, 0));

    let r = completion("chat_completion_tools.json");
    assert!(r.content.is_empty(), "content is null on a tool-call turn");
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.tool_calls.len(), 1);
    assert_eq!(r.tool_calls[0].id, "call_abc123");
    assert_eq!(r.tool_calls[0].name, "get_current_weather");
    assert_eq!(serde_json::from_str::<Value>(&r.tool_calls[0].arguments).unwrap(), json!({"location": "Boston, MA"}));
    assert_eq!(r.usage.total(), 99);

    let r = completion("chat_completion_image.json");
    assert!(r.text().starts_with("The image shows a wooden boardwalk"));
    assert_eq!(r.usage.input_tokens, 1117);
    let r = completion("chat_completion_logprobs.json");
    assert_eq!(r.text(), "Hello! How can I assist you today?");
}

#[test]
fn reads_documented_cache_and_reasoning_usage() {
    let mut doc = json_fixture("chat_completion.json");
    doc["usage"] = json_fixture("usage_prompt_caching.json");
    let r = convert::from_wire(serde_json::from_value(doc).unwrap(), &ToolNames::default()).unwrap();
    assert_eq!((r.usage.input_tokens, r.usage.cached_input_tokens, r.usage.output_tokens), (2006, 1920, 300));
    // Cached tokens are billed at the cached rate.
    let price = spgw_providers::find_model("openai", "gpt-5.2").unwrap().pricing;
    let expected = (86.0 * 1.75 + 1920.0 * 0.175 + 300.0 * 14.0) / 1e6;
    assert!((price.chat_cost(&r.usage) - expected).abs() < 1e-12);

    let wire: responses::types::Response = serde_json::from_value(json_fixture("response_reasoning.json")).unwrap();
    let r = responses::convert::from_wire(wire, &ToolNames::default()).unwrap();
    assert_eq!((r.usage.output_tokens, r.usage.reasoning_tokens), (1035, 832));
    assert_eq!(r.text(), "The classic tongue twister...");
}

#[test]
fn reads_documented_responses() {
    let read = |name: &str| {
        let wire: responses::types::Response = serde_json::from_value(json_fixture(name)).unwrap();
        responses::convert::from_wire(wire, &ToolNames::default()).unwrap()
    };
    let r = read("response_text.json");
    assert!(r.text().starts_with("In a peaceful grove beneath a silver moon"));
    assert_eq!(
        (r.id.as_str(), r.finish_reason.clone()),
        ("resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b", FinishReason::Stop)
    );
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (36, 87));

    let r = read("response_functions.json");
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.tool_calls[0].id, "call_unLAR8MvFNptuiZK6K6HCy5k");
    assert_eq!(r.tool_calls[0].name, "get_current_weather");
    assert_eq!(r.tool_calls[0].arguments, r#"{"location":"Boston, MA","unit":"celsius"}"#);
    assert!(read("response_image.json").text().starts_with("The image depicts a scenic landscape"));
}

#[tokio::test]
async fn reads_the_documented_chunk_stream() {
    let base = replay(200, "text/event-stream", fixture("chat_stream.txt"), &[]).await;
    let req = openai_support::ask("gpt-4o-mini", "Hello!");
    let (events, err) = collect(
        openai::chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(base), &req)
            .await
            .unwrap(),
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        events,
        vec![
            StreamEvent::Start { id: "chatcmpl-123".into(), model: "gpt-4o-mini".into() },
            StreamEvent::TextDelta { text: "Hello".into() },
            StreamEvent::Finish { reason: FinishReason::Stop },
        ]
    );
}

#[tokio::test]
async fn reads_the_documented_tool_call_stream() {
    let base = replay(200, "text/event-stream", fixture("chat_stream_tools.txt"), &[]).await;
    let req = openai_support::ask("gpt-4o", "What's the weather like in Paris today?");
    let (events, err) = collect(
        openai::chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(base), &req)
            .await
            .unwrap(),
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        events[1],
        StreamEvent::ToolCallStart { index: 0, id: "call_DdmO9pD3xa9XTPNJ32zg2hcA".into(), name: "get_weather".into() }
    );
    assert_eq!(streamed_arguments(&events, 0), r#"{"location":"Paris, France"}"#);
    let n = events.len();
    assert!(
        matches!(&events[n - 2], StreamEvent::Usage { usage } if usage.input_tokens == 66 && usage.output_tokens == 17)
    );
    assert_eq!(events[n - 1], StreamEvent::Finish { reason: FinishReason::ToolCalls });
}

#[tokio::test]
async fn reads_an_error_inside_a_stream() {
    let base = replay(200, "text/event-stream", fixture("chat_stream_error.txt"), &[]).await;
    let req = openai_support::ask("gpt-4o", "hi");
    let (events, err) = collect(
        openai::chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(base), &req)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(streamed_text(&events), "Hel");
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Finish { .. })));
    assert!(
        matches!(err, Some(ProviderError::Upstream { ref message, .. }) if message.starts_with("The server had an error"))
    );
}

#[tokio::test]
async fn reads_the_documented_responses_stream() {
    let base = replay(200, "text/event-stream", fixture("responses_stream.txt"), &[]).await;
    let req = openai_support::ask("gpt-5.2-pro", "Hello!");
    let (events, err) = collect(
        openai::chat_stream(&spgw_providers::Http::new(&Default::default()).unwrap(), &endpoint(base), &req)
            .await
            .unwrap(),
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        events[0],
        StreamEvent::Start {
            id: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654".into(),
            model: "gpt-5.4".into()
        }
    );
    assert_eq!(streamed_text(&events), "Hi");
    let n = events.len();
    assert!(
        matches!(&events[n - 2], StreamEvent::Usage { usage } if usage.input_tokens == 37 && usage.output_tokens == 11)
    );
    assert_eq!(events[n - 1], StreamEvent::Finish { reason: FinishReason::Stop });
}

#[tokio::test]
async fn reads_documented_errors() {
    let client = spgw_providers::Http::new(&Default::default()).unwrap();
    let req = openai_support::ask("gpt-5.2", "hi");
    let base = replay(401, "application/json", fixture("error_invalid_api_key.json"), &[]).await;
    let err = openai::chat(&client, &endpoint(base), &req).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Auth { status: 401, ref message } if message.starts_with("Incorrect API key provided"))
    );
    let base = replay(429, "application/json", fixture("error_rate_limit.json"), &[("retry-after", "7")]).await;
    let err = openai::chat(&client, &endpoint(base), &req).await.unwrap_err();
    assert!(matches!(err, ProviderError::RateLimited { retry_after: Some(d), ref message }
        if d.as_secs() == 7 && message.starts_with("Rate limit reached")));
}

/// Documented requests read by the gateway direction and written back by the
/// adapter come out as OpenAI documents them (modulo the spelling the adapter
/// normalises: `developer` is sent as `system`, `max_tokens` as
/// `max_completion_tokens` for GPT-5 models).
#[test]
fn documented_requests_round_trip() {
    for name in [
        "chat_request.json",
        "chat_request_image.json",
        "chat_request_tools.json",
        "chat_request_logprobs.json",
        "chat_request_stream.json",
    ] {
        let doc = json_fixture(name);
        assert_valid("CreateChatCompletionRequest", &doc);
        let wire: types::ChatCompletionRequest = serde_json::from_value(doc.clone()).unwrap();
        let req = compat::to_chat_request(wire).unwrap();
        let names = ToolNames::new(&req.tools);
        let out = convert::to_wire(&req, &names, openai::Quirks::for_model(&req.model), req.stream).unwrap();
        let mut out = serde_json::to_value(out).unwrap();
        assert_valid("CreateChatCompletionRequest", &out);
        if let Some(o) = out.as_object_mut() {
            o.remove("stream_options");
        }
        let mut expected = doc;
        for m in expected["messages"].as_array_mut().unwrap() {
            if m["role"] == "developer" {
                m["role"] = json!("system");
            }
        }
        if let Some(n) = expected.as_object_mut().and_then(|o| o.remove("max_tokens")) {
            expected["max_completion_tokens"] = n;
        }
        assert_eq!(out, expected, "{name}");
    }
}

// ---- (b) the mock answers as OpenAI documents ----

async fn post(h: &Harness, path: &str, body: Value) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = h
        .http
        .post(format!("{}{path}", h.mock.base_url("openai")))
        .bearer_auth("sk-test")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

/// Where OpenAI's documented response objects and its schema disagree: the
/// examples (and the live API) write `"user": null`, `"store": true` and, while
/// a response is in progress, `"usage": null`, which the `Response` schema
/// does not allow. The mock follows the examples.
fn schema_drift(e: &str) -> bool {
    e.ends_with(".user: expected string, got null")
        || e.ends_with(": unknown property store")
        || e.ends_with(".usage: expected object, got null")
}

/// [`validate`] minus [`schema_drift`].
#[track_caller]
fn assert_valid_modulo_drift(name: &str, value: &Value) {
    let errors = validate_ignoring(name, value, &schema_drift);
    assert!(errors.is_empty(), "{name}: {errors:#?}\nin {value:#}");
}

#[test]
fn documented_examples_match_the_schema() {
    // Guards the checker itself: OpenAI's own examples must pass it.
    for (schema, name) in [
        ("CreateChatCompletionResponse", "chat_completion.json"),
        ("CreateChatCompletionResponse", "chat_completion_image.json"),
        ("ListModelsResponse", "models.json"),
        ("CreateEmbeddingResponse", "embeddings.json"),
        ("ErrorResponse", "error_invalid_api_key.json"),
        ("ErrorResponse", "error_rate_limit.json"),
        ("CompletionUsage", "usage_prompt_caching.json"),
    ] {
        assert_valid(schema, &json_fixture(name));
    }
    for name in ["chat_stream.txt", "chat_stream_tools.txt"] {
        for (_, data) in sse_frames(&fixture(name)).into_iter().filter(|(_, d)| d != "[DONE]") {
            assert_valid("CreateChatCompletionStreamResponse", &serde_json::from_str(&data).unwrap());
        }
    }
    // Older examples predate fields the schema now requires: `refusal` on a
    // message, `logprobs` on output text, `sequence_number` on stream events,
    // `input_tokens_details` in usage. The mock sends them all; anything else
    // would be a real mismatch.
    let older = |e: &str| {
        schema_drift(e)
            || ["refusal", "logprobs", "sequence_number", "input_tokens_details"]
                .iter()
                .any(|f| e.ends_with(&format!("missing required {f}")))
    };
    let check = |schema: &str, value: &Value, name: &str| {
        let errors = validate_ignoring(schema, value, &older);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    };
    check("CreateChatCompletionResponse", &json_fixture("chat_completion_tools.json"), "chat_completion_tools.json");
    for name in ["response_text.json", "response_functions.json", "response_reasoning.json", "response_image.json"] {
        check("Response", &json_fixture(name), name);
    }
    for (_, data) in sse_frames(&fixture("responses_stream.txt")) {
        check("ResponseStreamEvent", &serde_json::from_str(&data).unwrap(), "responses_stream.txt");
    }
}

#[tokio::test]
async fn mock_chat_completion_has_the_documented_shape() {
    let h = Harness::start().await;
    let (status, _, text) = post(&h, "/chat/completions", json_fixture("chat_request.json")).await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_shape(&json_fixture("chat_completion.json"), &answer);
    assert_valid("CreateChatCompletionResponse", &answer);
    // Nothing beyond the documented keys, either.
    assert_shape(&answer, &json_fixture("chat_completion.json"));

    let mut req = json_fixture("chat_request_tools.json");
    req["messages"][0]["content"] =
        json!(r#"Weather in Boston? [[tool:get_current_weather {"location":"Boston, MA"}]]"#);
    let (_, _, text) = post(&h, "/chat/completions", req).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_shape(&json_fixture("chat_completion_tools.json"), &answer);
    assert_valid("CreateChatCompletionResponse", &answer);
}

#[tokio::test]
async fn mock_chunk_streams_have_the_documented_shape() {
    let h = Harness::start().await;
    let mut req = json_fixture("chat_request_stream.json");
    req["stream_options"] = json!({"include_usage": true});
    let (_, headers, text) = post(&h, "/chat/completions", req).await;
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let frames = sse_frames(&text);
    assert_eq!(frames.last().map(|f| f.1.as_str()), Some("[DONE]"));
    let chunks: Vec<Value> =
        frames.iter().filter(|f| f.1 != "[DONE]").map(|f| serde_json::from_str(&f.1).unwrap()).collect();
    chunks.iter().for_each(|c| assert_valid("CreateChatCompletionStreamResponse", c));
    let doc: Vec<Value> = sse_frames(&fixture("chat_stream.txt"))
        .iter()
        .filter(|f| f.1 != "[DONE]")
        .map(|f| serde_json::from_str(&f.1).unwrap())
        .collect();
    let finish = chunks.iter().find(|c| !c["choices"][0]["finish_reason"].is_null()).unwrap();
    assert_shape(&doc[0], &chunks[0]);
    assert_shape(&doc[1], &chunks[1]);
    assert_shape(&doc[2], finish);
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_valid("CompletionUsage", &usage["usage"]);

    let req = json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Paris? [[tool:get_weather {\"location\":\"Paris, France\"}]] [[chunks:4]]"}],
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    let (_, _, text) = post(&h, "/chat/completions", req).await;
    let chunks: Vec<Value> =
        sse_frames(&text).iter().filter(|f| f.1 != "[DONE]").map(|f| serde_json::from_str(&f.1).unwrap()).collect();
    chunks.iter().for_each(|c| assert_valid("CreateChatCompletionStreamResponse", c));
    let doc: Vec<Value> = sse_frames(&fixture("chat_stream_tools.txt"))
        .iter()
        .filter(|f| f.1 != "[DONE]")
        .map(|f| serde_json::from_str(&f.1).unwrap())
        .collect();
    assert_shape(&doc[0], &chunks[0]);
    assert_shape(&doc[1], &chunks[1]);
    assert_shape(&doc[doc.len() - 2], &chunks[chunks.len() - 2]);
    assert_shape(&doc[doc.len() - 1], &chunks[chunks.len() - 1]);
}

#[tokio::test]
async fn mock_responses_have_the_documented_shape() {
    let h = Harness::start().await;
    let (status, _, text) = post(&h, "/responses", json_fixture("responses_request_text.json")).await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_shape(&json_fixture("response_text.json"), &answer);
    assert_valid_modulo_drift("Response", &answer);

    let mut req = json_fixture("responses_request_functions.json");
    req["input"] =
        json!(r#"Weather in Boston? [[tool:get_current_weather {"location":"Boston, MA","unit":"celsius"}]]"#);
    let (_, _, text) = post(&h, "/responses", req).await;
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_shape(&json_fixture("response_functions.json"), &answer);
    assert_valid_modulo_drift("Response", &answer);

    let req =
        json!({"model": "gpt-5.4", "instructions": "You are a helpful assistant.", "input": "Hello!", "stream": true});
    let (_, _, text) = post(&h, "/responses", req).await;
    let events: Vec<(String, Value)> =
        sse_frames(&text).into_iter().map(|(e, d)| (e, serde_json::from_str(&d).unwrap())).collect();
    for (name, ev) in &events {
        assert_eq!(name, ev["type"].as_str().unwrap(), "the event: line names the payload's type");
        assert_valid_modulo_drift("ResponseStreamEvent", ev);
    }
    let seq: Vec<u64> = events.iter().map(|(_, e)| e["sequence_number"].as_u64().unwrap()).collect();
    assert!(seq.windows(2).all(|w| w[1] == w[0] + 1));
    for (name, doc) in sse_frames(&fixture("responses_stream.txt")) {
        let doc: Value = serde_json::from_str(&doc).unwrap();
        let mine = events.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("the mock never sends {name}"));
        assert_shape(&doc, &mine.1);
    }
}

#[tokio::test]
async fn mock_models_embeddings_and_errors_have_the_documented_shape() {
    let h = Harness::start().await;
    let models: Value = h
        .http
        .get(format!("{}/models", h.mock.base_url("openai")))
        .bearer_auth("k")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_shape(&json_fixture("models.json"), &models);
    assert_valid("ListModelsResponse", &models);

    let body = json!({"input": ["The food was delicious", "and the waiter..."], "model": "text-embedding-3-small", "encoding_format": "float"});
    let (_, _, text) = post(&h, "/embeddings", body.clone()).await;
    let emb: Value = serde_json::from_str(&text).unwrap();
    assert_shape(&json_fixture("embeddings.json"), &emb);
    assert_valid("CreateEmbeddingResponse", &emb);
    assert_eq!(emb["data"][0]["embedding"].as_array().unwrap().len(), 1536);
    let (_, _, again) = post(&h, "/embeddings", body).await;
    assert_eq!(serde_json::from_str::<Value>(&again).unwrap()["data"], emb["data"], "vectors are deterministic");

    let resp = h
        .http
        .post(format!("{}/chat/completions", h.mock.base_url("openai")))
        .bearer_auth("bad-key")
        .json(&json_fixture("chat_request.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let err: Value = resp.json().await.unwrap();
    assert_shape(&json_fixture("error_invalid_api_key.json"), &err);
    assert_valid("ErrorResponse", &err);

    let mut req = json_fixture("chat_request.json");
    req["messages"][1]["content"] = json!("hi [[status:429]] [[retry-after:3]]");
    let (status, headers, text) = post(&h, "/chat/completions", req).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "3");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "0");
    let err: Value = serde_json::from_str(&text).unwrap();
    assert_shape(&json_fixture("error_rate_limit.json"), &err);
    assert_valid("ErrorResponse", &err);
}

#[test]
fn thinking_parts_are_not_text() {
    // A reasoning_content answer keeps its reasoning out of `text()`.
    let mut doc = json_fixture("chat_completion.json");
    doc["choices"][0]["message"]["reasoning_content"] = json!("9.8 is 9.80, which is larger.");
    let r = convert::from_wire(serde_json::from_value(doc).unwrap(), &ToolNames::default()).unwrap();
    assert_eq!(
        r.content[0],
        ContentPart::Thinking { thinking: "9.8 is 9.80, which is larger.".into(), signature: None }
    );
    assert_eq!(r.text(), "Hello! How can I assist you today?");
}

#[test]
fn the_checks_catch_differences() {
    // Unknown keys, wrong types, out-of-range numbers and missing fields are caught.
    let body =
        json!({"model": "gpt-5.2", "messages": [{"role": "assistant", "content": "x", "reasoning_content": "y"}]});
    assert!(
        validate_ignoring("CreateChatCompletionRequest", &body, &|_| false)
            .iter()
            .any(|e| e.contains("reasoning_content"))
    );
    let body = json!({"model": "gpt-5.2", "messages": [{"role": "user"}], "temperature": "hot"});
    let errors = validate_ignoring("CreateChatCompletionRequest", &body, &|_| false);
    assert!(errors.iter().any(|e| e.contains("temperature")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("content")), "{errors:?}");
    let body = json!({"model": "gpt-5.2-pro", "input": "hi", "max_output_tokens": 5});
    assert!(validate_ignoring("CreateResponse", &body, &|_| false).iter().any(|e| e.contains("below minimum")));

    let mut errors = Vec::new();
    openai_support::schema::shape_covers(
        &json!({"a": {"b": 1, "c": "x"}}),
        &json!({"a": {"b": "1"}}),
        "$",
        &mut errors,
    );
    assert_eq!(errors, vec!["$.a.b: documented number but got string".to_string(), "$.a: missing c".to_string()]);
}
