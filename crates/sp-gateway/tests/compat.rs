//! The drop-in surfaces `/v1/chat/completions` (OpenAI) and `/v1/messages`
//! (Anthropic) against mock upstreams of every provider: plain, streamed (SSE
//! framed exactly as each surface defines it), tools, JSON, errors in each
//! surface's own shape, model naming, `/v1/models` and `count_tokens`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::time::{Duration, Instant};

use common::{Backend, Client, Server};
use futures::StreamExt;
use serde_json::{Value, json};
use spgw_mocks::MockServer;

/// The provider and a chat model of each, as the catalog ships them.
const PROVIDERS: &[(&str, &str)] = &[
    ("openai", "gpt-5-mini"),
    ("anthropic", "claude-haiku-4-5"),
    ("google", "gemini-3-flash-preview"),
    ("xai", "grok-4-1-fast-non-reasoning"),
    ("deepseek", "deepseek-chat"),
    ("huggingface", "meta-llama/Llama-3.1-8B-Instruct"),
];

struct World {
    server: Server,
    mock: MockServer,
    admin: Client,
    /// Authenticated with a gateway API key as `Authorization: Bearer`.
    client: Client,
    key: String,
}

async fn provider_id(admin: &Client, name: &str) -> i64 {
    let (_, list) = admin.get(&format!("/api/v1/list/providers?name={name}")).await;
    list["data"][0]["id"].as_i64().unwrap_or_else(|| panic!("provider {name} is in the catalog: {list}"))
}

async fn world(backend: Backend) -> World {
    let mock = spgw_mocks::spawn().await.unwrap();
    let server = Server::start(backend);
    let admin = server.admin().await;
    for (name, _) in PROVIDERS {
        let id = provider_id(&admin, name).await;
        let (s, v) = admin
            .patch(
                &format!("/api/v1/update/provider/{id}"),
                json!({"base_url": mock.base_url(name), "api_key": format!("key-{name}-1")}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, k) = admin.post("/api/v1/add/gateway-api-key", json!({"name": "compat"})).await;
    assert_eq!(s, 201, "{k}");
    let key = k["key"].as_str().unwrap().to_string();
    let client = server.anon().with_key("authorization", &key);
    World { server, mock, admin, client, key }
}

/// The last request the mock received for `provider`.
fn last_upstream(w: &World, provider: &str) -> Value {
    w.mock.requests().into_iter().rev().find(|r| r.provider == provider).expect("an upstream request").body
}

/// Posts and returns the content type and the whole raw body of a stream.
async fn raw_stream(c: &Client, path: &str, body: Value) -> (String, String) {
    let (h, v) = c.key.clone().unwrap();
    let r = c.http.post(format!("{}{path}", c.base)).header(h, v).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    (ct, r.text().await.unwrap())
}

/// The SSE blocks of a body, each as its lines (comment lines, i.e. keep-alives, left out).
fn blocks(body: &str) -> Vec<Vec<&str>> {
    assert!(body.ends_with("\n\n"), "a stream ends with a complete event: {body:?}");
    body.trim_end_matches('\n')
        .split("\n\n")
        .map(|b| b.lines().filter(|l| !l.starts_with(':')).collect::<Vec<_>>())
        .filter(|b| !b.is_empty())
        .collect()
}

/// OpenAI framing: `data: {chunk}` blocks, nothing else, ending with `data: [DONE]`.
fn openai_chunks(body: &str) -> Vec<Value> {
    let blocks = blocks(body);
    assert_eq!(blocks.last().unwrap(), &vec!["data: [DONE]"], "{body}");
    blocks[..blocks.len() - 1]
        .iter()
        .map(|b| {
            assert_eq!(b.len(), 1, "one data line per event, no event: lines: {b:?}");
            let v: Value = serde_json::from_str(b[0].strip_prefix("data: ").expect("data: line")).unwrap();
            assert_eq!(v["object"], "chat.completion.chunk", "{v}");
            v
        })
        .collect()
}

/// Anthropic framing: `event: NAME` + `data: {"type": NAME, ...}` blocks.
fn anthropic_events(body: &str) -> Vec<(String, Value)> {
    blocks(body)
        .iter()
        .map(|b| {
            assert_eq!(b.len(), 2, "event: and data: lines: {b:?}");
            let name = b[0].strip_prefix("event: ").expect("event: line").to_string();
            let v: Value = serde_json::from_str(b[1].strip_prefix("data: ").expect("data: line")).unwrap();
            assert_eq!(v["type"], name.as_str(), "the data's type repeats the event name");
            (name, v)
        })
        .collect()
}

/// The text blocks of an Anthropic `content`, joined.
fn text_blocks(content: &Value) -> String {
    content.as_array().unwrap().iter().filter_map(|b| b["text"].as_str()).collect()
}

fn text_of_chunks(chunks: &[Value]) -> String {
    chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect()
}

/// Anthropic's event grammar: `message_start`, then blocks (`content_block_start`,
/// deltas, `content_block_stop`) numbered 0, 1, ..., then `message_delta` and
/// `message_stop`; `ping` anywhere.
#[track_caller]
fn assert_anthropic_order(events: &[(String, Value)], body: &str) {
    let events: Vec<&(String, Value)> = events.iter().filter(|(n, _)| n != "ping").collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"), "{body}");
    assert_eq!(names[names.len() - 2..], ["message_delta", "message_stop"], "{body}");
    let mut open: Option<u64> = None;
    let mut next = 0;
    for (name, v) in &events[1..events.len() - 2] {
        let index = v["index"].as_u64().expect("a block index");
        match (name.as_str(), open) {
            ("content_block_start", None) => {
                assert_eq!(index, next, "blocks are numbered in order: {body}");
                (open, next) = (Some(index), next + 1);
            }
            ("content_block_delta", Some(i)) => assert_eq!(index, i, "{body}"),
            ("content_block_stop", Some(i)) => {
                assert_eq!(index, i, "{body}");
                open = None;
            }
            _ => panic!("{name} out of order: {body}"),
        }
    }
    assert!(open.is_none() && next > 0, "every block closed, at least one: {body}");
}

const WEATHER: &str = r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#;

async fn openai_surface_every_provider(backend: Backend) {
    let w = world(backend).await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": serde_json::from_str::<Value>(WEATHER).unwrap()}}]);
    for (provider, model) in PROVIDERS {
        // Plain, with `provider/model` and with the bare code.
        for name in [format!("{provider}/{model}"), model.to_string()] {
            let (s, r) = w
                .client
                .post("/v1/chat/completions", json!({"model": name, "messages": [{"role": "user", "content": "ping"}]}))
                .await;
            assert_eq!(s, 200, "{name}: {r}");
            assert_eq!(r["object"], "chat.completion");
            assert_eq!(r["choices"][0]["message"]["content"], "Hello! You said: ping", "{name}: {r}");
            assert_eq!(r["choices"][0]["finish_reason"], "stop");
            assert!(r["usage"]["prompt_tokens"].as_u64().unwrap() > 0, "{r}");
            assert!(r["created"].as_u64().unwrap() > 1_600_000_000);
            assert!(r["id"].as_str().is_some_and(|i| !i.is_empty()));
            // An OpenAI-compatible upstream's answer is forwarded as it came, fields the
            // gateway does not model included; another protocol's is translated.
            if *provider == "openai" || *provider == "deepseek" {
                assert_eq!(r["service_tier"], "default", "{name}: {r}");
                assert_eq!(r["choices"][0]["message"]["annotations"], json!([]), "{name}: {r}");
            } else if *provider == "anthropic" {
                assert!(r.get("service_tier").is_none(), "{name}: {r}");
            }
        }
        let qualified = format!("{provider}/{model}");

        // Streamed, with the usage chunk.
        let (ct, body) = raw_stream(
            &w.client,
            "/v1/chat/completions",
            json!({"model": qualified, "stream": true, "stream_options": {"include_usage": true},
                   "messages": [{"role": "user", "content": "stream me [[chunks:4]]"}]}),
        )
        .await;
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let chunks = openai_chunks(&body);
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant", "{provider}: {body}");
        assert_eq!(text_of_chunks(&chunks), "Hello! You said: stream me", "{provider}");
        assert!(
            chunks
                .iter()
                .filter(|c| c["choices"][0]["delta"]["content"].as_str().is_some_and(|t| !t.is_empty()))
                .count()
                >= 2
        );
        let finishes: Vec<&Value> =
            chunks.iter().map(|c| &c["choices"][0]["finish_reason"]).filter(|f| !f.is_null()).collect();
        assert_eq!(finishes, vec!["stop"], "{provider}: {body}");
        let last = chunks.last().unwrap();
        assert_eq!(last["choices"], json!([]), "usage chunk last: {body}");
        assert!(last["usage"]["completion_tokens"].as_u64().unwrap() > 0, "{provider}: {last}");
        // Without include_usage there is no usage chunk.
        let (_, body) = raw_stream(
            &w.client,
            "/v1/chat/completions",
            json!({"model": qualified, "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert!(openai_chunks(&body).iter().all(|c| c.get("usage").is_none() && c["choices"] != json!([])));

        // Tools: a call, then the result sent back.
        let mut messages =
            vec![json!({"role": "user", "content": "weather? [[tool:get_weather {\"city\":\"Paris\"}]]"})];
        let (s, r) = w
            .client
            .post("/v1/chat/completions", json!({"model": qualified, "messages": messages, "tools": tools}))
            .await;
        assert_eq!(s, 200, "{provider}: {r}");
        assert_eq!(r["choices"][0]["finish_reason"], "tool_calls", "{provider}: {r}");
        let call = &r["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["function"]["name"], "get_weather");
        assert_eq!(
            serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
            json!({"city": "Paris"})
        );
        messages.push(r["choices"][0]["message"].clone());
        messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 C"}));
        let (s, r) = w
            .client
            .post("/v1/chat/completions", json!({"model": qualified, "messages": messages, "tools": tools}))
            .await;
        assert_eq!(s, 200, "{provider}: {r}");
        assert!(r["choices"][0]["message"]["content"].as_str().unwrap().contains("sunny, 21 C"), "{provider}: {r}");

        // A streamed tool call: id and name first, then argument pieces.
        let (_, body) = raw_stream(
            &w.client,
            "/v1/chat/completions",
            json!({"model": qualified, "stream": true, "tools": tools,
                   "messages": [{"role": "user", "content": "[[tool:get_weather {\"city\":\"Oslo\"}]]"}]}),
        )
        .await;
        let chunks = openai_chunks(&body);
        let calls: Vec<&Value> = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0)).collect();
        assert_eq!(calls[0]["function"]["name"], "get_weather", "{provider}: {body}");
        assert!(calls[0]["id"].as_str().is_some_and(|i| !i.is_empty()));
        let args: String = calls.iter().filter_map(|c| c["function"]["arguments"].as_str()).collect();
        assert_eq!(serde_json::from_str::<Value>(&args).unwrap(), json!({"city": "Oslo"}), "{provider}");

        // JSON mode.
        let (s, r) = w
            .client
            .post(
                "/v1/chat/completions",
                json!({"model": qualified, "response_format": {"type": "json_object"},
                       "messages": [{"role": "user", "content": "json please [[json]]"}]}),
            )
            .await;
        assert_eq!(s, 200, "{provider}: {r}");
        let content = r["choices"][0]["message"]["content"].as_str().unwrap();
        assert!(serde_json::from_str::<Value>(content).unwrap().is_object(), "{provider}: {r}");
    }

    // Pass-through fields reach an upstream of the same protocol only.
    let ask = |model: &str| json!({"model": model, "seed": 7, "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(w.client.post("/v1/chat/completions", ask("openai/gpt-5-mini")).await.0, 200);
    assert_eq!(last_upstream(&w, "openai")["seed"], 7);
    assert_eq!(w.client.post("/v1/chat/completions", ask("anthropic/claude-haiku-4-5")).await.0, 200);
    assert!(last_upstream(&w, "anthropic").get("seed").is_none(), "Anthropic would refuse an OpenAI field");

    // Every call is logged under its endpoint, with the key that made it.
    // Per provider: 2 plain, 2 streams, 2 tool turns, 1 streamed call, 1 JSON; then the 2 pass-through checks.
    let rows = logged(&w.admin, "openai.chat_completions", PROVIDERS.len() * 8 + 2).await;
    assert!(rows.iter().all(|r| r["api_key_id"].is_i64() && r["requested_model"].is_string()), "{rows:?}");
    let requested: Vec<&Value> = rows.iter().map(|r| &r["requested_model"]).collect();
    assert!(requested.contains(&&json!("huggingface/meta-llama/Llama-3.1-8B-Instruct")), "{requested:?}");
}

/// The request-log rows of an endpoint, once at least `min` are written (the log writes in batches).
async fn logged(admin: &Client, endpoint: &str, min: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, log) = admin.get(&format!("/api/v1/list/request-logs?endpoint={endpoint}&limit=500")).await;
        let rows = log["data"].as_array().cloned().unwrap_or_default();
        if rows.len() >= min || Instant::now() > deadline {
            assert!(rows.len() >= min, "{min} rows logged for {endpoint}: {log}");
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn anthropic_surface_every_provider(backend: Backend) {
    let w = world(backend).await;
    let tools = json!([{"name": "get_weather", "input_schema": serde_json::from_str::<Value>(WEATHER).unwrap()}]);
    for (provider, model) in PROVIDERS {
        for name in [format!("{provider}/{model}"), model.to_string()] {
            let (s, r) = w
                .client
                .post("/v1/messages", json!({"model": name, "max_tokens": 256, "system": "Be brief.", "messages": [{"role": "user", "content": "ping"}]}))
                .await;
            assert_eq!(s, 200, "{name}: {r}");
            assert_eq!((r["type"].as_str(), r["role"].as_str()), (Some("message"), Some("assistant")));
            // Gemini's thought signatures travel as (empty) signed thinking blocks, to be sent back.
            let text: Vec<&Value> =
                r["content"].as_array().unwrap().iter().filter(|b| b["type"] != "thinking").collect();
            assert_eq!(text, [&json!({"type": "text", "text": "Hello! You said: ping"})], "{name}: {r}");
            assert_eq!(r["stop_reason"], "end_turn");
            assert!(r["usage"]["output_tokens"].as_u64().unwrap() > 0, "{r}");
        }
        let qualified = format!("{provider}/{model}");

        // Streamed: Anthropic's events in Anthropic's order.
        let (ct, body) = raw_stream(
            &w.client,
            "/v1/messages",
            json!({"model": qualified, "max_tokens": 256, "stream": true, "messages": [{"role": "user", "content": "stream me [[chunks:4]]"}]}),
        )
        .await;
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let events = anthropic_events(&body);
        assert_anthropic_order(&events, &body);
        let names: Vec<String> = events.iter().map(|(n, _)| n.clone()).collect();
        let start = &events[0].1["message"];
        assert_eq!((start["content"].clone(), start["stop_reason"].clone()), (json!([]), Value::Null), "{start}");
        let text: String = events.iter().filter_map(|(_, v)| v["delta"]["text"].as_str()).collect();
        assert_eq!(text, "Hello! You said: stream me", "{provider}");
        assert!(names.iter().filter(|n| *n == "content_block_delta").count() >= 2);
        let delta = &events.iter().find(|(n, _)| n == "message_delta").unwrap().1;
        assert_eq!(delta["delta"]["stop_reason"], "end_turn");
        assert!(delta["usage"]["output_tokens"].as_u64().unwrap() > 0, "{provider}: {delta}");

        // Tools round trip.
        let mut messages =
            vec![json!({"role": "user", "content": "weather? [[tool:get_weather {\"city\":\"Paris\"}]]"})];
        let (s, r) = w
            .client
            .post("/v1/messages", json!({"model": qualified, "max_tokens": 256, "messages": messages, "tools": tools}))
            .await;
        assert_eq!(s, 200, "{provider}: {r}");
        assert_eq!(r["stop_reason"], "tool_use", "{provider}: {r}");
        let use_ = r["content"].as_array().unwrap().iter().find(|b| b["type"] == "tool_use").unwrap().clone();
        assert_eq!((use_["name"].clone(), use_["input"].clone()), (json!("get_weather"), json!({"city": "Paris"})));
        messages.push(json!({"role": "assistant", "content": r["content"]}));
        messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": use_["id"], "content": "sunny, 21 C"}]}));
        let (s, r) = w
            .client
            .post("/v1/messages", json!({"model": qualified, "max_tokens": 256, "messages": messages, "tools": tools}))
            .await;
        assert_eq!(s, 200, "{provider}: {r}");
        assert!(text_blocks(&r["content"]).contains("sunny, 21 C"), "{provider}: {r}");

        // A streamed tool call: a tool_use block filled by input_json_delta pieces.
        let (_, body) = raw_stream(
            &w.client,
            "/v1/messages",
            json!({"model": qualified, "max_tokens": 256, "stream": true, "tools": tools,
                   "messages": [{"role": "user", "content": "[[tool:get_weather {\"city\":\"Oslo\"}]]"}]}),
        )
        .await;
        let events = anthropic_events(&body);
        assert_anthropic_order(&events, &body);
        let block = events.iter().find(|(n, v)| n == "content_block_start" && v["content_block"]["type"] == "tool_use");
        let (_, block) = block.unwrap_or_else(|| panic!("{provider}: a tool_use block: {body}"));
        assert_eq!(block["content_block"]["name"], "get_weather");
        let index = block["index"].clone();
        let json_text: String = events
            .iter()
            .filter(|(_, v)| v["index"] == index && v["delta"]["type"] == "input_json_delta")
            .filter_map(|(_, v)| v["delta"]["partial_json"].as_str())
            .collect();
        assert_eq!(serde_json::from_str::<Value>(&json_text).unwrap(), json!({"city": "Oslo"}), "{provider}: {body}");
        let delta = &events.iter().find(|(n, _)| n == "message_delta").unwrap().1;
        assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    }

    // cache_control reaches Anthropic; the second identical prompt reads the cache.
    let cached = json!({"model": "anthropic/claude-haiku-4-5", "max_tokens": 64,
        "system": [{"type": "text", "text": "A long shared preamble.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}]});
    let (_, first) = w.client.post("/v1/messages", cached.clone()).await;
    assert_eq!(last_upstream(&w, "anthropic")["system"][0]["cache_control"], json!({"type": "ephemeral"}));
    let (_, second) = w.client.post("/v1/messages", cached).await;
    assert!(first["usage"]["cache_creation_input_tokens"].as_u64().unwrap() > 0, "{first}");
    assert!(second["usage"]["cache_read_input_tokens"].as_u64().unwrap() > 0, "{second}");

    // Thinking: enabled with a budget upstream, returned as signed thinking blocks.
    let (s, r) = w
        .client
        .post("/v1/messages", json!({"model": "claude-haiku-4-5", "max_tokens": 4096, "thinking": {"type": "enabled", "budget_tokens": 2048}, "messages": [{"role": "user", "content": "think [[thinking]]"}]}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(last_upstream(&w, "anthropic")["thinking"], json!({"type": "enabled", "budget_tokens": 2048}));
    assert_eq!(r["content"][0]["type"], "thinking", "{r}");
    assert!(r["content"][0]["signature"].as_str().is_some_and(|s| !s.is_empty()), "{r}");

    // Per provider: 2 plain, 1 stream, 2 tool turns, 1 streamed call; then 2 cached and 1 thinking.
    let rows = logged(&w.admin, "anthropic.messages", PROVIDERS.len() * 6 + 3).await;
    assert!(rows.iter().all(|r| r["api_key_id"].is_i64()), "{rows:?}");
}

async fn streams_pass_events_through_as_they_arrive(backend: Backend) {
    let w = world(backend).await;
    for path in ["/v1/chat/completions", "/v1/messages"] {
        let body = json!({"model": "openai/gpt-5-mini", "max_tokens": 64, "stream": true,
            "messages": [{"role": "user", "content": "slowly now [[chunks:4]] [[gap-ms:300]]"}]});
        let (h, v) = w.client.key.clone().unwrap();
        let t0 = Instant::now();
        let r = w.client.http.post(w.server.url(path)).header(h, v).json(&body).send().await.unwrap();
        let mut stream = r.bytes_stream();
        let mut seen = String::new();
        let mut first_text_at = None;
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if first_text_at.is_none() && seen.contains("Hello") {
                first_text_at = Some(t0.elapsed());
            }
        }
        let total = t0.elapsed();
        let first = first_text_at.expect("text arrived");
        assert!(total >= Duration::from_millis(900), "{path}: the mock paced the answer: {total:?}");
        assert!(first + Duration::from_millis(600) < total, "{path}: first text at {first:?} of {total:?}");
    }
}

async fn errors_in_each_surface_shape(backend: Backend) {
    let w = world(backend).await;
    let anon = w.server.anon();
    let chat = json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]});
    let msg = json!({"model": "openai/gpt-5-mini", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    let openai_err = |r: &(u16, Value), status: u16, kind: &str| {
        assert_eq!(r.0, status, "{}", r.1);
        let e = &r.1["error"];
        assert_eq!(e["type"], kind, "{}", r.1);
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.1);
        assert!(e.as_object().unwrap().contains_key("param") && e.as_object().unwrap().contains_key("code"));
    };
    let anthropic_err = |r: &(u16, Value), status: u16, kind: &str| {
        assert_eq!(r.0, status, "{}", r.1);
        assert_eq!(r.1["type"], "error", "{}", r.1);
        assert_eq!(r.1["error"]["type"], kind, "{}", r.1);
        assert!(r.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.1);
    };

    // 401 without a key, and with a wrong one, in each shape.
    openai_err(&anon.post("/v1/chat/completions", chat.clone()).await, 401, "invalid_request_error");
    assert_eq!(anon.get("/v1/models").await.1["error"]["code"], "invalid_api_key");
    anthropic_err(&anon.post("/v1/messages", msg.clone()).await, 401, "authentication_error");
    let wrong = anon.with_key("x-api-key", "spgw_wrong");
    anthropic_err(&wrong.post("/v1/messages/count_tokens", msg.clone()).await, 401, "authentication_error");
    openai_err(&wrong.post("/v1/chat/completions", chat.clone()).await, 401, "invalid_request_error");
    // Every header form of the key works.
    for header in ["authorization", "X-API-Key", "x-api-key"] {
        assert_eq!(anon.with_key(header, &w.key).post("/v1/chat/completions", chat.clone()).await.0, 200, "{header}");
        assert_eq!(anon.with_key(header, &w.key).post("/v1/messages", msg.clone()).await.0, 200, "{header}");
    }

    // 404: unknown model, unknown path.
    let r = w
        .client
        .post("/v1/chat/completions", json!({"model": "openai/gpt-0", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    openai_err(&r, 404, "invalid_request_error");
    assert_eq!(r.1["error"]["code"], "model_not_found");
    anthropic_err(
        &w.client
            .post(
                "/v1/messages",
                json!({"model": "claude-0", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}),
            )
            .await,
        404,
        "not_found_error",
    );
    openai_err(&w.client.get("/v1/nothing-here").await, 404, "invalid_request_error");
    // 405: a known path with a method it does not take, in the surface's shape, with `Allow`.
    let empty = || Vec::new();
    let r = w.client.raw(reqwest::Method::DELETE, "/v1/chat/completions", "application/json", empty()).await;
    openai_err(&r, 405, "invalid_request_error");
    anthropic_err(
        &w.client.raw(reqwest::Method::GET, "/v1/messages", "application/json", empty()).await,
        405,
        "invalid_request_error",
    );
    let r = w.client.raw(reqwest::Method::DELETE, "/api/v1/me", "application/json", empty()).await;
    assert_eq!((r.0, &r.1["error"]["code"]), (405, &json!("method_not_allowed")), "{}", r.1);
    let resp = w.client.http.delete(w.server.url("/v1/chat/completions")).send().await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers().get("allow").map(|v| v.to_str().unwrap())), (405, Some("POST")));
    anthropic_err(&w.client.post("/v1/messages/nothing", json!({})).await, 404, "not_found_error");

    // Upstream errors keep their status, in the caller's shape, whichever protocol the upstream spoke.
    for (provider, model) in
        [("openai", "gpt-5-mini"), ("anthropic", "claude-haiku-4-5"), ("google", "gemini-3-flash-preview")]
    {
        let q = format!("{provider}/{model}");
        let ask = |text: &str| json!({"model": q, "max_tokens": 16, "messages": [{"role": "user", "content": text}]});
        let r = w.client.post("/v1/chat/completions", ask("[[status:400]]")).await;
        openai_err(&r, 400, "invalid_request_error");
        anthropic_err(&w.client.post("/v1/messages", ask("[[status:400]]")).await, 400, "invalid_request_error");

        let r = w.client.post("/v1/chat/completions", ask("[[status:429]] [[retry-after:60]]")).await;
        openai_err(&r, 429, "rate_limit_error");
        assert_eq!(r.1["error"]["code"], "rate_limit_exceeded");
        // The key now cools for 60 s: the next call is refused at once, with the time left.
        let (h, v) = w.client.key.clone().unwrap();
        let resp = w.client.http.post(w.server.url("/v1/messages")).header(h, v).json(&ask("hi")).send().await.unwrap();
        assert_eq!(resp.status(), 429, "{provider}");
        let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((50..=60).contains(&retry), "{retry}");
        let body: Value = resp.json().await.unwrap();
        anthropic_err(&(429, body), 429, "rate_limit_error");
    }

    // A body that is not UTF-8 (checked once, before parsing) or not JSON is a 400 in each shape.
    let latin1 = b"{\"model\": \"openai/gpt-5-mini\", \"messages\": [{\"role\": \"user\", \"content\": \"caf\xe9\"}]}";
    for path in ["/v1/chat/completions", "/v1/messages"] {
        for body in [latin1.to_vec(), b"{\"model\": ".to_vec()] {
            let r = w.client.raw(reqwest::Method::POST, path, "application/json", body).await;
            if path == "/v1/messages" {
                anthropic_err(&r, 400, "invalid_request_error");
            } else {
                openai_err(&r, 400, "invalid_request_error");
            }
        }
    }

    // A malformed body is a 400 naming the field; a model without a needed feature is a 400.
    let r = w
        .client
        .post(
            "/v1/chat/completions",
            json!({"model": "xai/grok-4-1-fast-non-reasoning", "messages": [{"role": "wizard", "content": "hi"}]}),
        )
        .await;
    openai_err(&r, 400, "invalid_request_error");
    assert!(r.1["error"]["param"].as_str().is_some_and(|p| p.starts_with("messages")), "{}", r.1);
    anthropic_err(
        &w.client.post("/v1/messages", json!({"model": "xai/grok-4-1-fast-non-reasoning", "messages": []})).await,
        400,
        "invalid_request_error",
    );
    let (_, models) = w.admin.get("/api/v1/list/models?provider=openai&limit=500").await;
    let embedder =
        models["data"].as_array().unwrap().iter().find(|m| !m["features"].as_array().unwrap().contains(&json!("chat")));
    if let Some(m) = embedder {
        let r = w.client.post("/v1/chat/completions", json!({"model": format!("openai/{}", m["model_code"].as_str().unwrap()), "messages": [{"role": "user", "content": "hi"}]})).await;
        openai_err(&r, 400, "invalid_request_error");
        assert!(r.1["error"]["message"].as_str().unwrap().contains("does not support chat"), "{}", r.1);
    }

    // A stream that fails midway ends with the surface's error event, never with a clean end.
    let (_, body) = raw_stream(&w.client, "/v1/chat/completions", json!({"model": "deepseek/deepseek-chat", "stream": true, "messages": [{"role": "user", "content": "cut [[chunks:6]] [[gap-ms:30]] [[cut-after:3]]"}]})).await;
    assert!(!body.contains("[DONE]"), "{body}");
    let last = blocks(&body).last().unwrap().clone();
    let err: Value = serde_json::from_str(last[0].strip_prefix("data: ").unwrap()).unwrap();
    assert!(err["error"]["message"].is_string(), "{body}");
    let (_, body) = raw_stream(&w.client, "/v1/messages", json!({"model": "deepseek/deepseek-chat", "max_tokens": 64, "stream": true, "messages": [{"role": "user", "content": "cut [[chunks:6]] [[gap-ms:30]] [[cut-after:3]]"}]})).await;
    let events = anthropic_events(&body);
    assert_eq!(events.last().unwrap().0, "error", "{body}");
    assert!(events.iter().all(|(n, _)| n != "message_stop"), "{body}");
}

/// Posts with an extra header; returns the status, the `x-spgw-cache` header and the body.
async fn post_with(c: &Client, path: &str, header: (&str, &str), body: &Value) -> (u16, Option<String>, Value) {
    let (h, v) = c.key.clone().unwrap();
    let r = c.http.post(format!("{}{path}", c.base)).header(h, v).header(header.0, header.1).json(body).send().await;
    let r = r.unwrap();
    let cache = r.headers().get("x-spgw-cache").map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), cache, r.json().await.unwrap())
}

async fn models_list_and_count_tokens(backend: Backend) {
    let w = world(backend).await;

    // The opt-in response cache works on both surfaces: the second identical call makes no upstream call.
    let on = ("x-spgw-cache", "on");
    for (path, body) in [
        (
            "/v1/chat/completions",
            json!({"model": "xai/grok-4-1-fast-non-reasoning", "messages": [{"role": "user", "content": "cache me"}]}),
        ),
        (
            "/v1/messages",
            json!({"model": "xai/grok-4-1-fast-non-reasoning", "max_tokens": 32, "messages": [{"role": "user", "content": "cache me"}]}),
        ),
    ] {
        let (s, cache, first) = post_with(&w.client, path, on, &body).await;
        assert_eq!((s, cache.as_deref()), (200, Some("miss")), "{first}");
        let calls = w.mock.requests().len();
        let (s, cache, second) = post_with(&w.client, path, on, &body).await;
        assert_eq!((s, cache.as_deref()), (200, Some("hit")), "{second}");
        assert_eq!(w.mock.requests().len(), calls, "{path}: a hit makes no upstream call");
        assert_eq!(first["choices"][0]["message"]["content"], second["choices"][0]["message"]["content"]);
        assert_eq!(first["content"], second["content"]);
    }
    let (s, list) = w.client.get("/v1/models").await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    for (provider, model) in PROVIDERS {
        assert!(ids.contains(&format!("{provider}/{model}").as_str()), "{provider}/{model} in {ids:?}");
    }
    let first = &list["data"][0];
    assert_eq!(first["object"], "model");
    assert!(first["created"].as_i64().unwrap() > 1_600_000_000 && first["owned_by"].is_string(), "{first}");
    // A disabled model is not listed, nor retrievable; an enabled one is, by either name.
    let (_, m) = w.admin.get("/api/v1/list/models?provider=deepseek&model_code=deepseek-chat").await;
    let id = m["data"][0]["id"].as_i64().unwrap();
    assert_eq!(w.admin.patch(&format!("/api/v1/update/model/{id}"), json!({"enabled": false})).await.0, 200);
    let (_, list) = w.client.get("/v1/models").await;
    assert!(list["data"].as_array().unwrap().iter().all(|m| m["id"] != "deepseek/deepseek-chat"), "{list}");
    assert_eq!(w.client.get("/v1/models/deepseek/deepseek-chat").await.0, 404);
    let (s, m) = w.client.get("/v1/models/huggingface/meta-llama/Llama-3.1-8B-Instruct").await;
    assert_eq!((s, m["id"].as_str()), (200, Some("huggingface/meta-llama/Llama-3.1-8B-Instruct")), "{m}");
    let (s, m) = w.client.get("/v1/models/claude-haiku-4-5").await;
    assert_eq!((s, m["owned_by"].as_str()), (200, Some("anthropic")), "{m}");

    // count_tokens: Anthropic counts for its models; other models get an estimate.
    let prompt = json!({"messages": [{"role": "user", "content": "How many tokens is this prompt, roughly?"}],
        "tools": [{"name": "get_weather", "input_schema": serde_json::from_str::<Value>(WEATHER).unwrap()}]});
    let mut body = prompt.clone();
    body["model"] = json!("anthropic/claude-haiku-4-5");
    let (h, v) = w.client.key.clone().unwrap();
    let r =
        w.client.http.post(w.server.url("/v1/messages/count_tokens")).header(&h, &v).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-token-count"], "anthropic");
    let counted: Value = r.json().await.unwrap();
    let sent =
        w.mock.requests().into_iter().find(|r| r.path.starts_with("/v1/messages/count_tokens")).expect("forwarded");
    assert_eq!(sent.body["model"], "claude-haiku-4-5", "the provider's own model code");
    assert_eq!(sent.body["tools"], body["tools"]);
    assert!(counted["input_tokens"].as_u64().unwrap() > 0, "{counted}");

    let upstream_calls = w.mock.requests().len();
    let mut body = prompt.clone();
    body["model"] = json!("gemini-3-flash-preview");
    let r =
        w.client.http.post(w.server.url("/v1/messages/count_tokens")).header(&h, &v).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-token-count"], "estimate");
    let estimated: Value = r.json().await.unwrap();
    let n = estimated["input_tokens"].as_u64().unwrap();
    assert!((10..200).contains(&n), "a plausible estimate: {estimated}");
    assert_eq!(w.mock.requests().len(), upstream_calls, "no upstream call for an estimate");
    let (s, e) = w.client.post("/v1/messages/count_tokens", json!({"messages": []})).await;
    assert_eq!((s, e["error"]["type"].as_str()), (400, Some("invalid_request_error")), "{e}");

    // The surfaces are in the OpenAPI document.
    let (_, doc) = w.server.anon().get("/api/v1/openapi.json").await;
    for path in
        ["/v1/chat/completions", "/v1/models", "/v1/models/{model}", "/v1/messages", "/v1/messages/count_tokens"]
    {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
}

both_backends!(
    openai_surface_every_provider,
    anthropic_surface_every_provider,
    streams_pass_events_through_as_they_arrive,
    errors_in_each_surface_shape,
    models_list_and_count_tokens,
);
