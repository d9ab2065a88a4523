//! Rate limits, budgets, the response cache and `/metrics`, against the real
//! binary and the mock upstreams: limits per API key and per user on the
//! native, streaming and OpenAI-compatible routes; budgets that survive a
//! restart; limits shared by two gateway processes through Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use common::{Backend, Client, Server, assert_error};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use spgw_mocks::MockServer;

const CHAT: &str = "/api/v1/chat?provider=openai&model=gpt-5-mini&operation=completion";

struct World {
    server: Server,
    mock: MockServer,
    admin: Client,
}

async fn point_at_mock(admin: &Client, mock: &MockServer) {
    for name in ["openai", "anthropic"] {
        let (_, list) = admin.get(&format!("/api/v1/list/providers?name={name}")).await;
        let id = list["data"][0]["id"].as_i64().unwrap();
        let (s, v) = admin
            .patch(
                &format!("/api/v1/update/provider/{id}"),
                json!({"base_url": mock.base_url(name), "api_key": format!("key-{name}")}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
}

async fn world(backend: Backend, env: &[(&str, &str)]) -> World {
    let mock = spgw_mocks::spawn().await.unwrap();
    let server = Server::start_with(backend, env);
    let admin = server.admin().await;
    point_at_mock(&admin, &mock).await;
    World { server, mock, admin }
}

/// Creates an API key owned by the caller, with `limits`; returns a client using it and the key id.
async fn key_with(owner: &Client, limits: Value) -> (Client, i64) {
    let (s, k) = owner.post("/api/v1/add/gateway-api-key", json!({"name": "limited", "limits": limits})).await;
    assert_eq!(s, 201, "{k}");
    (owner.with_key("x-api-key", k["key"].as_str().unwrap()), k["id"].as_i64().unwrap())
}

/// A POST returning status, headers and the JSON body, with extra request headers.
async fn post(c: &Client, path: &str, body: Value, headers: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let mut rb = c.http.post(format!("{}{path}", c.base)).json(&body);
    if let Some((h, v)) = &c.key {
        rb = rb.header(h.as_str(), v.as_str());
    }
    for (h, v) in headers {
        rb = rb.header(*h, *v);
    }
    let r = rb.send().await.unwrap();
    let (status, h) = (r.status().as_u16(), r.headers().clone());
    let text = r.text().await.unwrap();
    (status, h, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Per-minute counters start over each minute; start a test early in one so
/// the refusals it expects cannot be undone by the next minute starting.
async fn early_in_a_minute() {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let into = ms % 60_000;
    if into > 40_000 {
        tokio::time::sleep(std::time::Duration::from_millis(60_000 - into + 50)).await;
    }
}

fn retry_after(h: &HeaderMap) -> u64 {
    h.get("retry-after").expect("Retry-After is set").to_str().unwrap().parse().unwrap()
}

fn upstream_calls(mock: &MockServer) -> usize {
    mock.requests().iter().filter(|r| r.path.contains("chat/completions") || r.path.contains("messages")).count()
}

async fn rpm_limit_on_every_route(backend: Backend) {
    let w = world(backend, &[]).await;
    early_in_a_minute().await;
    let (client, key_id) = key_with(&w.admin, json!({"rpm": 2})).await;
    for i in 0..2 {
        let (s, _, r) = post(&client, CHAT, json!({"user_message": format!("call {i}")}), &[]).await;
        assert_eq!(s, 200, "{r}");
    }
    let before = upstream_calls(&w.mock);
    let (s, h, r) = post(&client, CHAT, json!({"user_message": "one too many"}), &[]).await;
    assert_error(&(s, r.clone()), 429, "rate_limit_exceeded");
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("API key {key_id}")) && msg.contains("2 requests per minute"), "{msg}");
    let wait = retry_after(&h);
    assert!((1..=60).contains(&wait), "until the minute ends: {wait}");

    // Streaming is refused before any event, with the same answer.
    let (s, h, r) = post(&client, CHAT, json!({"user_message": "stream", "stream": true}), &[]).await;
    assert_error(&(s, r), 429, "rate_limit_exceeded");
    assert!(retry_after(&h) >= 1);

    // The OpenAI-compatible route answers 429 in its own shape.
    let bearer = w.admin.with_key("authorization", client.key.as_ref().unwrap().1.as_str());
    let (s, h, r) = post(
        &bearer,
        "/v1/chat/completions",
        json!({"model": "gpt-5-mini", "messages": [{"role": "user", "content": "compat"}]}),
        &[],
    )
    .await;
    assert_eq!(s, 429, "{r}");
    assert!(retry_after(&h) >= 1);
    assert!(r["error"]["message"].as_str().unwrap().contains("requests per minute"), "{r}");
    assert_eq!(upstream_calls(&w.mock), before, "refused calls never reach the upstream");

    // Raising the limit applies at once.
    let (s, k) = w.admin.patch(&format!("/api/v1/gateway-api-keys/{key_id}/limits"), json!({"rpm": 10})).await;
    assert_eq!(s, 200, "{k}");
    assert_eq!(k["limits"]["rpm"], 10, "{k}");
    assert!(k.get("key").is_none() && k.get("key_hash").is_none(), "{k}");
    let (s, _, r) = post(&client, CHAT, json!({"user_message": "allowed again"}), &[]).await;
    assert_eq!(s, 200, "{r}");

    let (_, m) = w.admin.get("/metrics").await;
    assert!(
        m.as_str().unwrap().contains(r#"spgw_rate_limited_total{subject="api_key",limit="rpm"}"#),
        "refusals are counted"
    );
}

async fn tiny_budget_is_refused_next_and_survives_restart(backend: Backend) {
    let mut w = world(backend, &[]).await;
    let (client, key_id) = key_with(&w.admin, json!({"usd_per_day": 0.0000001})).await;
    let (s, _, r) = post(&client, CHAT, json!({"user_message": "spend a little"}), &[]).await;
    assert_eq!(s, 200, "{r}");
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0000001, "the first call costs more than the budget: {r}");

    let (s, h, r) = post(&client, CHAT, json!({"user_message": "and again"}), &[]).await;
    assert_error(&(s, r.clone()), 429, "budget_exceeded");
    let msg = r["error"]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("API key {key_id}")) && msg.contains("daily (UTC) budget"), "{msg}");
    assert!(retry_after(&h) <= 86_400);

    // Spend is read back from the request log: a restart does not hand out a new budget.
    w.server.restart();
    // The restarted server listens on a new port.
    let client = Client { http: reqwest::Client::new(), base: w.server.base.clone(), key: client.key.clone() };
    let (s, _, r) = post(&client, CHAT, json!({"user_message": "after restart"}), &[]).await;
    assert_error(&(s, r), 429, "budget_exceeded");
    // Other keys of the same user are not affected.
    let (other, _) = key_with(&w.server.admin().await, json!({"rpm": 100})).await;
    let (s, _, r) = post(&other, CHAT, json!({"user_message": "unaffected"}), &[]).await;
    assert_eq!(s, 200, "{r}");
}

async fn per_user_limits(backend: Backend) {
    let w = world(backend, &[]).await;
    early_in_a_minute().await;
    let (bob, bob_id) = w.server.user(&w.admin, "bob").await;
    // Only admins set a user's limits; invalid limits name the field.
    assert_error(
        &w.admin.patch(&format!("/api/v1/update/user/{bob_id}"), json!({"limits": {"rpm": "two"}})).await,
        422,
        "invalid_field",
    );
    let (s, u) = w.admin.patch(&format!("/api/v1/update/user/{bob_id}"), json!({"limits": {"rpm": 2}})).await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["limits"], json!({"rpm": 2}));
    assert_error(&bob.patch(&format!("/api/v1/update/user/{bob_id}"), json!({"limits": null})).await, 403, "forbidden");

    // The user's limit covers the login cookie and every key of the user.
    let (bob_key, bob_key_id) = key_with(&bob, json!(null)).await;
    let (s, _, r) = post(&bob, CHAT, json!({"user_message": "by cookie"}), &[]).await;
    assert_eq!(s, 200, "{r}");
    let (s, _, r) = post(&bob_key, CHAT, json!({"user_message": "by key"}), &[]).await;
    assert_eq!(s, 200, "{r}");
    let (s, _, r) = post(&bob_key, CHAT, json!({"user_message": "third"}), &[]).await;
    assert_error(&(s, r.clone()), 429, "rate_limit_exceeded");
    assert!(r["error"]["message"].as_str().unwrap().contains(&format!("user {bob_id}")), "{r}");

    // A user may narrow their own key (never widen their own user limits).
    let (s, k) = bob.patch(&format!("/api/v1/gateway-api-keys/{bob_key_id}/limits"), json!({"tpm": 5})).await;
    assert_eq!(s, 200, "{k}");
    assert_error(
        &bob.patch(&format!("/api/v1/gateway-api-keys/{bob_key_id}/limits"), json!({"rps": 5})).await,
        422,
        "invalid_field",
    );
    let (_, alice_id) = w.server.user(&w.admin, "alice").await;
    let (_, alice_key) = w.admin.post("/api/v1/add/gateway-api-key", json!({"name": "a", "user_id": alice_id})).await;
    assert_error(
        &bob.patch(&format!("/api/v1/gateway-api-keys/{}/limits", alice_key["id"]), json!({"rpm": 1})).await,
        404,
        "not_found",
    );

    // Monthly budget of a user, charged from any of their calls.
    let (carol, carol_id) = w.server.user(&w.admin, "carol").await;
    w.admin.patch(&format!("/api/v1/update/user/{carol_id}"), json!({"limits": {"usd_per_month": 0.0000001}})).await;
    let (s, _, r) = post(&carol, CHAT, json!({"user_message": "first"}), &[]).await;
    assert_eq!(s, 200, "{r}");
    let (s, _, r) = post(&carol, CHAT, json!({"user_message": "second"}), &[]).await;
    assert_error(&(s, r.clone()), 429, "budget_exceeded");
    assert!(r["error"]["message"].as_str().unwrap().contains("monthly (UTC) budget"), "{r}");
}

async fn metrics_count_calls_tokens_cost_and_ttft(backend: Backend) {
    let w = world(backend, &[]).await;
    for i in 0..3 {
        let (s, _, r) = post(&w.admin, CHAT, json!({"user_message": format!("metrics {i}")}), &[]).await;
        assert_eq!(s, 200, "{r}");
    }
    let stream = "/api/v1/chat?provider=anthropic&model=claude-haiku-4-5&operation=completion";
    let r = w
        .admin
        .http
        .post(w.server.url(stream))
        .json(&json!({"user_message": "stream it [[chunks:3]]", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("event: done"), "{text}");
    let (s, r) = w
        .admin
        .post("/api/v1/chat?provider=openai&model=gpt-5-mini", json!({"user_message": "[[status:500]] boom"}))
        .await;
    assert!(s >= 500, "{r}");

    // No credentials needed by default; nothing secret in it.
    let resp = reqwest::get(w.server.url("/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let m = resp.text().await.unwrap();
    let value = |prefix: &str| -> f64 {
        let line = m.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in\n{m}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let gpt = r#"provider="openai",model="gpt-5-mini""#;
    assert_eq!(value(&format!("spgw_upstream_requests_total{{{gpt},status=\"2xx\"}}")), 3.0);
    assert!(value(&format!("spgw_upstream_requests_total{{{gpt},status=\"5xx\"}}")) >= 1.0);
    assert!(value(&format!("spgw_tokens_total{{{gpt},kind=\"input\"}}")) > 0.0);
    assert!(value(&format!("spgw_tokens_total{{{gpt},kind=\"output\"}}")) > 0.0);
    assert!(value(&format!("spgw_cost_usd_total{{{gpt}}}")) > 0.0);
    assert_eq!(
        value(&format!("spgw_upstream_request_duration_seconds_count{{{gpt}}}")),
        value(&format!("spgw_upstream_requests_total{{{gpt},status=\"2xx\"}}"))
            + value(&format!("spgw_upstream_requests_total{{{gpt},status=\"5xx\"}}"))
    );
    let claude = r#"provider="anthropic",model="claude-haiku-4-5",stream="true""#;
    assert_eq!(value(&format!("spgw_upstream_ttft_seconds_count{{{claude}}}")), 1.0);
    assert_eq!(value(&format!("spgw_upstream_ttft_seconds_bucket{{{claude},le=\"+Inf\"}}")), 1.0);
    assert!(value(r#"spgw_upstream_errors_total{provider="openai",code="upstream_error"}"#) >= 1.0);
    assert!(value(r#"spgw_http_requests_total{route="/api/v1/chat",method="POST",status="2xx"}"#) >= 4.0);
    assert!(
        value(r#"spgw_http_request_duration_seconds_count{route="/api/v1/chat",method="POST",status="2xx"}"#) >= 4.0
    );
    assert!(!m.contains("key-openai") && !m.contains("metrics 0"), "no secrets or prompts");
    assert!(!m.contains("/api/v1/update/provider/1"), "routes are templates, not raw paths");

    // Optionally for admins only.
    w.admin.post("/api/v1/add/gateway-config", json!({"key": "metrics.require_auth", "value": true})).await;
    assert_eq!(reqwest::get(w.server.url("/metrics")).await.unwrap().status(), 401);
    let (bob, _) = w.server.user(&w.admin, "bob").await;
    assert_eq!(bob.get("/metrics").await.0, 403);
    assert_eq!(w.admin.get("/metrics").await.0, 200);
}

async fn response_cache_hits_skip_the_upstream(backend: Backend) {
    let w = world(backend, &[]).await;
    let body = json!({"user_message": "cache me please"});
    let on = [("x-spgw-cache", "on")];
    let (s, h, first) = post(&w.admin, CHAT, body.clone(), &on).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(h["x-spgw-cache"], "miss");
    let calls = upstream_calls(&w.mock);
    let (s, h, second) = post(&w.admin, CHAT, body.clone(), &on).await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(h["x-spgw-cache"], "hit");
    assert_eq!(upstream_calls(&w.mock), calls, "a hit makes no upstream call");
    assert_eq!(second["content"], first["content"]);
    assert_eq!(second["cost_usd"], 0.0, "a hit costs nothing");
    // A different prompt, or caching turned off, goes upstream (off: no header at all).
    let (_, h, _) = post(&w.admin, CHAT, json!({"user_message": "something else"}), &on).await;
    assert_eq!(h["x-spgw-cache"], "miss");
    let (_, h, _) = post(&w.admin, CHAT, body.clone(), &[]).await;
    assert!(h.get("x-spgw-cache").is_none());
    assert_eq!(upstream_calls(&w.mock), calls + 2);
    assert_error(
        &{
            let (s, _, r) = post(&w.admin, CHAT, body.clone(), &[("x-spgw-cache", "maybe")]).await;
            (s, r)
        },
        400,
        "bad_request",
    );

    // Hits are visible in the request log.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let (_, log) = w.admin.get("/api/v1/list/request-logs?error_code=cache_hit").await;
    assert_eq!(log["total"], 1, "{log}");
    assert_eq!(log["data"][0]["status_code"], 200);
    assert_eq!(log["data"][0]["cost_usd"], 0.0);

    // A key whose limits turn the cache on; another user never sees its entries.
    let (client, _) = key_with(&w.admin, json!({"cache": true, "cache_ttl_seconds": 60})).await;
    let (_, h, _) = post(&client, CHAT, json!({"user_message": "key cached"}), &[]).await;
    assert_eq!(h["x-spgw-cache"], "miss");
    let (_, h, _) = post(&client, CHAT, json!({"user_message": "key cached"}), &[]).await;
    assert_eq!(h["x-spgw-cache"], "hit");
    let (_, h, _) = post(&client, CHAT, json!({"user_message": "key cached"}), &[("x-spgw-cache", "off")]).await;
    assert!(h.get("x-spgw-cache").is_none(), "the request can turn it off");
    let (bob, _) = w.server.user(&w.admin, "bob").await;
    let (_, h, _) = post(&bob, CHAT, json!({"user_message": "key cached"}), &on).await;
    assert_eq!(h["x-spgw-cache"], "miss", "entries are per user");

    let (_, m) = w.admin.get("/metrics").await;
    let m = m.as_str().unwrap();
    assert!(m.contains(r#"spgw_cache_requests_total{result="hit"} 2"#), "{m}");
}

/// Two gateway processes on one MariaDB database and one Redis share an rpm limit.
#[tokio::test(flavor = "multi_thread")]
async fn two_processes_share_limits_through_redis() {
    let redis = std::env::var("SPGW_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let prefix = format!("spgwtest{}:", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let master = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let env = [
        ("SPGW__REDIS__URL", redis.as_str()),
        ("SPGW__REDIS__KEY_PREFIX", prefix.as_str()),
        ("SPGW__SECURITY__MASTER_KEY", master.as_str()),
    ];
    let w = world(Backend::MySql, &env).await;
    let db_url = w.server.mysql.as_ref().unwrap().url();
    let mut env2 = env.to_vec();
    env2.push(("SPGW__DATABASE__URL", db_url.as_str()));
    let second = Server::start_with(Backend::Sqlite, &env2);
    early_in_a_minute().await;

    let (one, key_id) = key_with(&w.admin, json!({"rpm": 3, "usd_per_day": 1000})).await;
    let two = Client { http: reqwest::Client::new(), base: second.base.clone(), key: one.key.clone() };
    for (i, c) in [&one, &two, &one].into_iter().enumerate() {
        let (s, _, r) = post(c, CHAT, json!({"user_message": format!("shared {i}")}), &[]).await;
        assert_eq!(s, 200, "call {i}: {r}");
    }
    for c in [&two, &one] {
        let (s, h, r) = post(c, CHAT, json!({"user_message": "over"}), &[]).await;
        assert_error(&(s, r), 429, "rate_limit_exceeded");
        assert!(retry_after(&h) >= 1);
    }
    // The counters are in Redis under the configured prefix, with the spend initialised from the log.
    let out = std::process::Command::new("redis-cli")
        .args(["-u", &redis, "--scan", "--pattern", &format!("{prefix}limits:k{key_id}:*")])
        .output()
        .expect("redis-cli installed");
    let keys = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(keys.lines().any(|k| k.contains(":m")) && keys.lines().any(|k| k.contains(":d")), "{keys}");
    // A raised limit reaches the other node within its 5 s limits cache.
    w.admin.patch(&format!("/api/v1/gateway-api-keys/{key_id}/limits"), json!({"rpm": 100})).await;
    tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
    // Cached answers are shared too.
    let on = [("x-spgw-cache", "on")];
    let (s, h, r) = post(&one, CHAT, json!({"user_message": "shared cache"}), &on).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(h["x-spgw-cache"], "miss");
    let (s, h, r) = post(&two, CHAT, json!({"user_message": "shared cache"}), &on).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(h["x-spgw-cache"], "hit");
    let del = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("redis-cli -u {redis} --scan --pattern '{prefix}*' | xargs -r redis-cli -u {redis} DEL"))
        .output();
    assert!(del.is_ok());
}

/// The server's request timeout answers 408, and the metrics count it under its route.
async fn a_timed_out_request_is_answered_408_and_counted(backend: Backend) {
    let w = world(backend, &[("SPGW__SERVER__REQUEST_TIMEOUT_SECS", "1")]).await;
    let (s, r) = w
        .admin
        .post("/api/v1/chat?provider=openai&model=gpt-5-mini", json!({"user_message": "[[delay-ms:2500]] slow"}))
        .await;
    assert_eq!(s, 408, "{r}");
    let m = reqwest::get(w.server.url("/metrics")).await.unwrap().text().await.unwrap();
    let counted = r#"spgw_http_requests_total{route="/api/v1/chat",method="POST",status="4xx"} 1"#;
    assert!(m.lines().any(|l| l == counted), "{counted} in\n{m}");
}

both_backends!(
    a_timed_out_request_is_answered_408_and_counted,
    rpm_limit_on_every_route,
    tiny_budget_is_refused_next_and_survives_restart,
    per_user_limits,
    metrics_count_calls_tokens_cost_and_ttft,
    response_cache_hits_skip_the_upstream,
);
