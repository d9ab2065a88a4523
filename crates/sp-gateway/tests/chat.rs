//! `/api/v1/chat` against mock upstreams of every wire protocol: plain,
//! streaming, tools, JSON, images, errors, fallback, key rotation, sessions and
//! the request log. The gateway is pointed at the mocks by each provider's
//! `base_url`, exactly as an operator would.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use common::{Backend, Client, Server, assert_error};
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
}

async fn provider_id(admin: &Client, name: &str) -> i64 {
    let (_, list) = admin.get(&format!("/api/v1/list/providers?name={name}")).await;
    list["data"][0]["id"].as_i64().unwrap_or_else(|| panic!("provider {name} is in the catalog: {list}"))
}

async fn world(backend: Backend, env: &[(&str, &str)]) -> World {
    let mock = spgw_mocks::spawn().await.unwrap();
    let server = Server::start_with(backend, env);
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
    World { server, mock, admin }
}

fn chat_path(provider: &str, model: &str, extra: &str) -> String {
    format!("/api/v1/chat?provider={provider}&model={}{extra}", model.replace('/', "%2F"))
}

async fn every_provider_plain_tools_json(backend: Backend) {
    let w = world(backend, &[]).await;
    for (provider, model) in PROVIDERS {
        // Plain.
        let (s, r) = w.admin.post(&chat_path(provider, model, ""), json!({"user_message": "ping"})).await;
        assert_eq!(s, 200, "{provider}: {r}");
        assert_eq!(r["content"], "Hello! You said: ping", "{provider}: {r}");
        assert_eq!(r["provider"], *provider);
        assert_eq!(r["model"], *model);
        assert!(r["session_id"].as_str().is_some_and(|s| s.len() >= 16), "{r}");
        assert!(r["usage"]["input_tokens"].as_u64().unwrap() > 0, "{provider}: {r}");
        assert!(r["usage"]["output_tokens"].as_u64().unwrap() > 0, "{provider}: {r}");
        assert!(r["cost_usd"].as_f64().is_some(), "{r}");
        assert!(r["latency_ms"].as_u64().is_some());

        // Tool call with a dotted name, mapped to the wire and back.
        let tools = json!({"tools": [{"name": "task.create", "description": "Create a task", "parameters": {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}}]});
        let (s, r) = w
            .admin
            .post(
                &chat_path(provider, model, ""),
                json!({"user_message": "make one [[tool:task_create {\"title\":\"x\"}]]", "mcp_config": tools}),
            )
            .await;
        assert_eq!(s, 200, "{provider}: {r}");
        assert_eq!(r["tool_calls"][0]["name"], "task.create", "{provider}: {r}");
        assert_eq!(
            serde_json::from_str::<Value>(r["tool_calls"][0]["arguments"].as_str().unwrap()).unwrap(),
            json!({"title": "x"})
        );
        assert_eq!(r["finish_reason"], "tool_calls", "{provider}: {r}");
        // The tool result goes back in the same session and the model answers.
        let sid = r["session_id"].as_str().unwrap();
        let call_id = r["tool_calls"][0]["id"].as_str().unwrap();
        let (s, r2) = w
            .admin
            .post(
                &format!("/api/v1/chat?session={sid}"),
                json!({"messages": [{"role": "tool", "tool_call_id": call_id, "name": "task.create", "content": "created task 7"}]}),
            )
            .await;
        assert_eq!(s, 200, "{provider}: {r2}");
        assert!(
            r2["content"].as_str().unwrap().contains("created task 7"),
            "{provider}: the tool result reached the model: {r2}"
        );

        // JSON mode.
        let (s, r) = w
            .admin
            .post(
                &chat_path(provider, model, "&operation=completion"),
                json!({"user_message": "json please [[json]]", "response_format": {"type": "json_object"}}),
            )
            .await;
        assert_eq!(s, 200, "{provider}: {r}");
        assert!(serde_json::from_str::<Value>(r["content"].as_str().unwrap()).unwrap().is_object(), "{provider}: {r}");
        assert!(r["session_id"].is_null(), "completion keeps no session");
    }
    // The adapters spoke each protocol: the mocks saw the providers' own paths.
    let paths: Vec<String> = w.mock.requests().iter().map(|r| format!("{} {}", r.provider, r.path)).collect();
    for expect in [
        "openai /chat/completions",
        "anthropic /v1/messages",
        "google /v1beta/models/gemini-3-flash-preview:generateContent",
    ] {
        assert!(paths.iter().any(|p| p.starts_with(expect)), "{expect} in {paths:?}");
    }
}

async fn read_sse(c: &Client, path: &str, body: Value) -> Vec<(String, Value)> {
    let r = c.http.post(format!("{}{path}", c.base)).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut events = Vec::new();
    let mut buf = String::new();
    let mut stream = r.bytes_stream();
    while let Some(chunk) = stream.next().await {
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !data.is_empty() {
                events.push((name, serde_json::from_str(&data).unwrap_or(Value::String(data))));
            }
        }
    }
    events
}

async fn every_provider_streams(backend: Backend) {
    let w = world(backend, &[]).await;
    for (provider, model) in PROVIDERS {
        let events = read_sse(
            &w.admin,
            &chat_path(provider, model, ""),
            json!({"user_message": "stream me [[chunks:4]]", "stream": true}),
        )
        .await;
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"start"), "{provider}: {names:?}");
        assert_eq!(names.last(), Some(&"done"), "{provider}: {names:?}");
        let deltas: String =
            events.iter().filter(|(n, _)| n == "text_delta").map(|(_, v)| v["text"].as_str().unwrap()).collect();
        assert_eq!(deltas, "Hello! You said: stream me", "{provider}");
        assert!(names.iter().filter(|n| **n == "text_delta").count() >= 2, "{provider}: streamed in pieces: {names:?}");
        let done = &events.last().unwrap().1;
        assert_eq!(done["content"], "Hello! You said: stream me");
        assert!(done["usage"]["output_tokens"].as_u64().unwrap() > 0, "{provider}: {done}");
        // The streamed turn is in the session.
        let sid = done["session_id"].as_str().unwrap();
        let (_, s) = w.admin.get(&format!("/api/v1/session/{sid}")).await;
        assert_eq!(s["messages"].as_array().unwrap().len(), 2, "{provider}: {s}");

        // Tool calls stream as start + argument deltas.
        let tools = json!({"tools": [{"name": "report.list", "parameters": {"type": "object", "properties": {}}}]});
        let events = read_sse(
            &w.admin,
            &chat_path(provider, model, ""),
            json!({"user_message": "[[tool:report_list {\"q\":1}]]", "stream": true, "mcp_config": tools}),
        )
        .await;
        let done = &events.last().unwrap().1;
        assert_eq!(done["tool_calls"][0]["name"], "report.list", "{provider}: {done}");
        assert_eq!(
            serde_json::from_str::<Value>(done["tool_calls"][0]["arguments"].as_str().unwrap()).unwrap(),
            json!({"q": 1})
        );
    }
}

async fn upstream_errors_keep_their_status(backend: Backend) {
    let w = world(backend, &[]).await;
    for (provider, model) in PROVIDERS {
        let path = chat_path(provider, model, "&operation=completion");
        let e = w.admin.post(&path, json!({"user_message": "[[status:400]]"})).await;
        assert_error(&e, 400, "upstream_invalid_request");
        let e = w.admin.post(&path, json!({"user_message": "[[status:500]]"})).await;
        assert_eq!(e.0, 502, "{provider}: a 5xx after retries is a 502: {}", e.1);
        let e = w.admin.post(&path, json!({"user_message": "[[status:429]] [[retry-after:60]]"})).await;
        assert_error(&e, 429, "rate_limited");
    }
    // 401 from the upstream: the key is marked failing and the caller gets 502, not 401.
    let id = provider_id(&w.admin, "openai").await;
    w.admin.patch(&format!("/api/v1/update/provider/{id}"), json!({"api_key": "bad-key"})).await;
    let e = w.admin.post(&chat_path("openai", "gpt-5-mini", ""), json!({"user_message": "hi"})).await;
    assert_error(&e, 502, "upstream_auth");
    let (_, keys) = w.admin.get("/api/v1/list/provider-keys?provider=openai").await;
    assert_eq!(keys["data"][0]["status"], "failing", "{keys}");
    // Unknown model.
    assert_error(
        &w.admin.post(&chat_path("openai", "gpt-0", ""), json!({"user_message": "hi"})).await,
        404,
        "model_not_found",
    );
    assert_error(&w.admin.post("/api/v1/chat", json!({"user_message": "hi"})).await, 422, "invalid_field");
}

async fn key_rotation_and_cooldown(backend: Backend) {
    let w = world(backend, &[]).await;
    w.admin
        .post("/api/v1/add/provider-key", json!({"provider": "openai", "name": "second", "key": "key-openai-2"}))
        .await;
    for _ in 0..4 {
        let (s, _) = w
            .admin
            .post(&chat_path("openai", "gpt-5-mini", "&operation=completion"), json!({"user_message": "hi"}))
            .await;
        assert_eq!(s, 200);
    }
    let used: Vec<String> = w
        .mock
        .requests()
        .iter()
        .filter(|r| r.provider == "openai")
        .filter_map(|r| r.headers.iter().find(|(k, _)| k == "authorization").map(|(_, v)| v.clone()))
        .collect();
    assert!(
        used.contains(&"Bearer key-openai-1".to_string()) && used.contains(&"Bearer key-openai-2".to_string()),
        "both keys used: {used:?}"
    );

    // A 429 cools the key; the retry goes to the other key and succeeds.
    w.mock.state.clear();
    let (s, r) = w
        .admin
        .post(
            &chat_path("openai", "gpt-5-mini", "&operation=completion"),
            json!({"user_message": "[[status:429]] [[retry-after:30]] once"}),
        )
        .await;
    // The mock answers 429 to every attempt with that marker, so both keys cool and the call fails with 429.
    assert_eq!(s, 429, "{r}");
    let (_, keys) = w.admin.get("/api/v1/list/provider-keys?provider=openai").await;
    assert!(
        keys["data"].as_array().unwrap().iter().all(|k| k["cooldown_until"].is_string()),
        "both keys cooling: {keys}"
    );
    let e =
        w.admin.post(&chat_path("openai", "gpt-5-mini", "&operation=completion"), json!({"user_message": "hi"})).await;
    assert_error(&e, 429, "rate_limited");
    assert_eq!(
        w.mock.requests().iter().filter(|r| r.provider == "openai").count(),
        2,
        "a cooling key is not sent upstream"
    );
}

async fn agent_falls_back_to_next_model(backend: Backend) {
    let w = world(backend, &[]).await;
    let (_, p) = w.admin.post("/api/v1/add/project", json!({"name": "Fallback"})).await;
    // The first model's provider is down (connection refused); the second answers.
    let id = provider_id(&w.admin, "deepseek").await;
    w.admin.patch(&format!("/api/v1/update/provider/{id}"), json!({"base_url": "http://127.0.0.1:9"})).await;
    let (s, agent) = w
        .admin
        .post(
            "/api/v1/add/agent",
            json!({"project_id": p["id"], "name": "Resilient", "soul": "Be brief.", "models": [
            {"provider": "deepseek", "model_code": "deepseek-chat"},
            {"provider": "anthropic", "model_code": "claude-haiku-4-5"}]}),
        )
        .await;
    assert_eq!(s, 201, "{agent}");
    let (s, r) =
        w.admin.post(&format!("/api/v1/chat?agent_id={}", agent["id"]), json!({"user_message": "who answers?"})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["provider"], "anthropic", "fell back: {r}");
    assert!(r["attempts"].as_u64().unwrap() >= 2);
    // The agent's soul and project reached the model as system text.
    let sent = w.mock.requests().into_iter().rev().find(|r| r.provider == "anthropic").unwrap();
    assert!(sent.body["system"].to_string().contains("Be brief."), "{}", sent.body);
    assert!(sent.body["system"].to_string().contains("Fallback"), "{}", sent.body);
    // A 400 is not retried on another model.
    let e = w
        .admin
        .post(&format!("/api/v1/chat?agent_id={}", agent["id"]), json!({"user_message": "[[status:400]]"}))
        .await;
    assert_error(&e, 400, "upstream_invalid_request");

    // Every attempt is in the request log, with the final usage and cost.
    let (_, log) = w.admin.get(&format!("/api/v1/list/request-logs?agent_id={}", agent["id"])).await;
    let rows = log["data"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["provider"] == "deepseek" && r["status_code"] == 502), "{log}");
    let ok =
        rows.iter().find(|r| r["provider"] == "anthropic" && r["status_code"] == 200).expect("the answer is logged");
    assert!(ok["input_tokens"].as_i64().unwrap() > 0 && ok["cost_usd"].as_f64().unwrap() > 0.0, "{ok}");
    assert_eq!(ok["project_id"], p["id"]);
}

async fn sessions_continue_list_delete(backend: Backend) {
    let w = world(backend, &[]).await;
    let (_, r1) = w.admin.post(&chat_path("openai", "gpt-5-mini", ""), json!({"system_message": "sys", "user_message": "first", "mcp_config": {"instructions": "be nice", "tools": [], "operations": ["task.list"]}})).await;
    let sid = r1["session_id"].as_str().unwrap().to_string();
    let (s, r2) = w.admin.post(&format!("/api/v1/chat?session={sid}"), json!({"user_message": "second"})).await;
    assert_eq!(s, 200, "{r2}");
    assert_eq!(r2["session_id"], sid.as_str());
    assert_eq!(r2["provider"], "openai", "the session remembers its model");
    // History was sent upstream, instructions kept.
    let sent = w.mock.requests().last().unwrap().body.clone();
    let text = sent["messages"].to_string();
    assert!(text.contains("first") && text.contains("second") && text.contains("be nice"), "{sent}");
    let (_, s) = w.admin.get(&format!("/api/v1/session/{sid}")).await;
    assert_eq!(s["messages"].as_array().unwrap().len(), 5, "sys, first, reply, second, reply: {s}");
    assert_eq!(s["mcp_config"]["operations"], json!(["task.list"]));
    let (_, list) = w.admin.get("/api/v1/session?user_id=1").await;
    assert!(list["data"].as_array().unwrap().iter().any(|x| x["session_id"] == sid.as_str()));

    // Another user cannot see or continue it.
    let (bob, _) = w.server.user(&w.admin, "bob").await;
    assert_error(&bob.get(&format!("/api/v1/session/{sid}")).await, 404, "not_found");
    assert_error(
        &bob.post(&format!("/api/v1/chat?session={sid}"), json!({"user_message": "x"})).await,
        404,
        "not_found",
    );

    let (s, _) = w.admin.delete(&format!("/api/v1/session/{sid}")).await;
    assert_eq!(s, 200);
    assert_error(&w.admin.get(&format!("/api/v1/session/{sid}")).await, 404, "not_found");
    assert_error(
        &w.admin.post(&format!("/api/v1/chat?session={sid}"), json!({"user_message": "x"})).await,
        404,
        "not_found",
    );

    // TTL overridable at run time.
    w.admin.post("/api/v1/add/gateway-config", json!({"key": "sessions.ttl_seconds", "value": 1})).await;
    let (_, r) = w.admin.post(&chat_path("openai", "gpt-5-mini", ""), json!({"user_message": "short lived"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    assert_error(
        &w.admin.get(&format!("/api/v1/session/{}", r["session_id"].as_str().unwrap())).await,
        404,
        "not_found",
    );
}

async fn redis_sessions(backend: Backend) {
    let redis = std::env::var("SPGW_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("spgwtest{}:", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let w = world(backend, &[("SPGW__REDIS__URL", redis.as_str()), ("SPGW__REDIS__KEY_PREFIX", prefix.as_str())]).await;
    let r = reqwest::get(w.server.url("/health")).await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(r["redis"]["status"], "up", "{r}");
    let (_, r1) =
        w.admin.post(&chat_path("anthropic", "claude-haiku-4-5", ""), json!({"user_message": "kept in redis"})).await;
    let sid = r1["session_id"].as_str().unwrap().to_string();
    let (s, r2) = w.admin.post(&format!("/api/v1/chat?session={sid}"), json!({"user_message": "again"})).await;
    assert_eq!(s, 200, "{r2}");
    let (_, s) = w.admin.get(&format!("/api/v1/session/{sid}")).await;
    assert_eq!(s["messages"].as_array().unwrap().len(), 4, "{s}");
    let client = redis_client(&redis);
    let key = format!("{prefix}session:{sid}:messages");
    // The list holds a header entry (size accounting) and then the four messages.
    assert_eq!(client(&["LLEN", &key]), "5", "the live history is in Redis");
    assert!(client(&["LINDEX", &key, "-1"]).contains("again") || client(&["LINDEX", &key, "-2"]).contains("again"));
    let ttl: i64 = client(&["PTTL", &key]).parse().unwrap();
    assert!(ttl > 0, "the live session has a TTL: {ttl}");
    // Deleted from both stores.
    w.admin.delete(&format!("/api/v1/del/session/{sid}")).await;
    assert_eq!(client(&["EXISTS", &key]), "0");
    let (_, list) = w.admin.get(&format!("/api/v1/list/sessions?session_id={sid}")).await;
    assert_eq!(list["total"], 0, "{list}");
}

/// A tiny Redis client over redis-cli, so the test checks the real keys.
fn redis_client(url: &str) -> impl Fn(&[&str]) -> String {
    let url = url.to_string();
    move |args: &[&str]| {
        let out = std::process::Command::new("redis-cli")
            .arg("-u")
            .arg(&url)
            .args(args)
            .output()
            .expect("redis-cli installed");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

async fn stream_cut_midway(backend: Backend) {
    let w = world(backend, &[]).await;
    // The mock closes the connection after two chunks.
    let events = read_sse(
        &w.admin,
        &chat_path("openai", "gpt-5-mini", ""),
        json!({"user_message": "[[chunks:6]] [[gap-ms:30]] [[cut-after:3]] long answer here", "stream": true}),
    )
    .await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.last(), Some(&"error"), "a cut stream ends with an error event, never done: {names:?}");
    let (_, log) = w.admin.get("/api/v1/list/request-logs?provider=openai").await;
    assert_ne!(log["data"][0]["status_code"], 200, "{log}");
}

/// A 1×1 PNG.
const PNG_B64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

async fn images_auth_errors_timeouts(backend: Backend) {
    let w = world(backend, &[]).await;
    let (_, models) = w.admin.get("/api/v1/list/models?limit=500").await;
    for (provider, model) in PROVIDERS {
        let vision = models["data"].as_array().unwrap().iter().any(|m| {
            m["provider"] == *provider
                && m["model_code"] == *model
                && m["features"].as_array().unwrap().contains(&json!("vision"))
        });
        let body = json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG_B64}")}}]}]});
        let r = w.admin.post(&chat_path(provider, model, "&operation=completion"), body).await;
        if vision {
            assert_eq!(r.0, 200, "{provider}: {}", r.1);
            let sent = w.mock.requests().into_iter().rev().find(|x| x.provider == *provider).unwrap();
            assert!(
                sent.body.to_string().contains(PNG_B64),
                "{provider}: the image reached the upstream: {}",
                sent.body
            );
        } else {
            assert_error(&r, 422, "invalid_field");
            assert!(r.1["error"]["message"].as_str().unwrap().contains("vision"), "{}", r.1);
        }

        // The upstream refuses the key: 502 to the caller, the key marked failing.
        let id = provider_id(&w.admin, provider).await;
        w.admin.patch(&format!("/api/v1/update/provider/{id}"), json!({"api_key": "bad-key"})).await;
        let e = w.admin.post(&chat_path(provider, model, "&operation=completion"), json!({"user_message": "hi"})).await;
        assert_error(&e, 502, "upstream_auth");
        w.admin.patch(&format!("/api/v1/update/provider/{id}"), json!({"api_key": format!("key-{provider}-1")})).await;
        let (s, _) =
            w.admin.post(&chat_path(provider, model, "&operation=completion"), json!({"user_message": "hi"})).await;
        assert_eq!(s, 200, "{provider}: a replaced key is healthy again");
    }

    // Timeouts, tuned at run time: a slow upstream is cut off with 504.
    w.admin.post("/api/v1/add/gateway-config", json!({"key": "routing.total_timeout_ms", "value": 300})).await;
    w.admin.post("/api/v1/add/gateway-config", json!({"key": "routing.first_byte_timeout_ms", "value": 300})).await;
    w.admin.post("/api/v1/add/gateway-config", json!({"key": "routing.max_attempts", "value": 1})).await;
    for (provider, model) in PROVIDERS {
        let e = w
            .admin
            .post(
                &chat_path(provider, model, "&operation=completion"),
                json!({"user_message": "[[delay-ms:1500]] slow"}),
            )
            .await;
        assert_error(&e, 504, "upstream_timeout");
        let e = w
            .admin
            .post(
                &chat_path(provider, model, "&operation=completion"),
                json!({"user_message": "[[delay-ms:1500]] slow", "stream": true}),
            )
            .await;
        assert_error(&e, 504, "upstream_timeout");
    }
}

async fn request_log_survives_shutdown(backend: Backend) {
    let mut w = world(backend, &[]).await;
    let (s, r) =
        w.admin.post(&chat_path("google", "gemini-3-flash-preview", ""), json!({"user_message": "log me"})).await;
    assert_eq!(s, 200, "{r}");
    // Stop at once: the batched writer must flush before the process exits.
    w.server.restart();
    let admin = w.server.admin().await;
    let (_, log) =
        admin.get(&format!("/api/v1/list/request-logs?session_id={}", r["session_id"].as_str().unwrap())).await;
    let row = &log["data"][0];
    assert_eq!(row["provider"], "google", "{log}");
    assert_eq!(row["model"], "gemini-3-flash-preview");
    assert_eq!(row["requested_model"], "google/gemini-3-flash-preview");
    assert_eq!(row["status_code"], 200);
    assert_eq!(row["endpoint"], "chat");
    assert!(row["input_tokens"].as_i64().unwrap() > 0 && row["output_tokens"].as_i64().unwrap() > 0);
    assert!(
        (row["cost_usd"].as_f64().unwrap() - r["cost_usd"].as_f64().unwrap()).abs() < 1e-12,
        "cost from the catalog prices"
    );
    assert!(row["latency_ms"].is_i64() && row["ttft_ms"].is_i64());
    assert_eq!(row["user_id"], 1);
}

both_backends!(
    images_auth_errors_timeouts,
    request_log_survives_shutdown,
    every_provider_plain_tools_json,
    every_provider_streams,
    upstream_errors_keep_their_status,
    key_rotation_and_cooldown,
    agent_falls_back_to_next_model,
    sessions_continue_list_delete,
    redis_sessions,
    stream_cut_midway,
);
