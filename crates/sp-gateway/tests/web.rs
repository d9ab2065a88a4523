//! The web UI embedded in the binary (pages, assets, client-side routes, and
//! API paths that keep their JSON 404s), `sp-gateway openapi`, and the two
//! endpoints made for the UI: `/api/v1/stats` and `/api/v1/settings/known`.
//! The browser tests of the UI itself are `web/tests/e2e.mjs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Backend, Client, Server, assert_error};
use serde_json::{Value, json};

async fn raw_get(s: &Server, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut rb = reqwest::Client::new().get(s.url(path));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ui_is_served_and_api_paths_keep_their_404s() {
    let s = Server::start(Backend::Sqlite);

    let r = raw_get(&s, "/", &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&r, "cache-control"), "no-cache");
    assert!(header(&r, "content-security-policy").contains("default-src 'self'"));
    let index = r.text().await.unwrap();
    assert!(index.contains("<div id=\"root\">"), "{index}");

    // Deep links load the app, which routes in the browser.
    for path in ["/projects/3/tasks/7", "/settings", "/login"] {
        let r = raw_get(&s, path, &[]).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.text().await.unwrap(), index, "{path}");
    }

    // The entry script: hashed name, immutable, gzipped on request.
    let script = index.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("index names its script");
    assert!(script.starts_with("/assets/") && script.ends_with(".js"), "{script}");
    let r = raw_get(&s, script, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&r, "cache-control"), "public, max-age=31536000, immutable");
    let plain = r.bytes().await.unwrap();
    let r = raw_get(&s, script, &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&r, "content-encoding"), "gzip");
    assert!(r.bytes().await.unwrap().len() < plain.len() / 2, "gzip pays off on the bundle");

    // A missing file is a 404, never the HTML page.
    let r = raw_get(&s, "/assets/index-missing.js", &[]).await;
    assert_eq!(r.status(), 404);
    assert!(header(&r, "content-type").starts_with("text/plain"));

    // API paths (and writes anywhere) keep the API's JSON errors.
    let anon = s.anon();
    assert_error(&anon.get("/api/v1/no-such-thing").await, 404, "not_found");
    assert_error(&anon.post("/projects", json!({})).await, 404, "not_found");
    assert_eq!(raw_get(&s, "/uploads/missing.png", &[]).await.status(), 404);
    let (status, body) = anon.get("/v1/no-such-thing").await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]["message"].is_string(), "compatible routes answer in their own shape: {body}");
}

#[test]
fn openapi_subcommand_prints_a_valid_document() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sp-gateway")).arg("openapi").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let paths = doc["paths"].as_object().unwrap();
    for p in ["/api/v1/chat", "/api/v1/stats", "/api/v1/settings/known", "/api/v1/list/{type}"] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    // Client generators refuse a document with a repeated operationId.
    let mut seen = HashSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                assert!(seen.insert(id.to_string()), "operationId {id} repeats ({method} {path})");
            }
        }
    }
}

async fn point_at_mock(admin: &Client, mock: &spgw_mocks::MockServer, name: &str) {
    let (_, list) = admin.get(&format!("/api/v1/list/providers?name={name}")).await;
    let id = list["data"][0]["id"].as_i64().unwrap();
    let body = json!({"base_url": mock.base_url(name), "api_key": format!("key-{name}")});
    let (s, v) = admin.patch(&format!("/api/v1/update/provider/{id}"), body).await;
    assert_eq!(s, 200, "{v}");
}

async fn chat(c: &Client, provider: &str, model: &str, text: &str) -> u16 {
    c.post(&format!("/api/v1/chat?provider={provider}&model={model}"), json!({"user_message": text})).await.0
}

/// Stats once the request log holds `attempts` rows (it is written in batches).
async fn stats_when(c: &Client, query: &str, attempts: i64) -> Value {
    for _ in 0..100 {
        let (s, v) = c.get(&format!("/api/v1/stats?{query}")).await;
        assert_eq!(s, 200, "{v}");
        if v["totals"]["attempts"] == attempts {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the request log never reached {attempts} rows");
}

fn sum(v: &Value, list: &str, field: &str) -> i64 {
    v[list].as_array().unwrap().iter().map(|p| p[field].as_i64().unwrap()).sum()
}

async fn stats_aggregate_the_request_log(backend: Backend) {
    let mock = spgw_mocks::spawn().await.unwrap();
    let s = Server::start(backend);
    let admin = s.admin().await;
    point_at_mock(&admin, &mock, "openai").await;
    point_at_mock(&admin, &mock, "anthropic").await;
    let (bob, _) = s.user(&admin, "bob").await;

    for i in 0..3 {
        assert_eq!(chat(&admin, "openai", "gpt-5-mini", &format!("hello {i}")).await, 200);
    }
    assert_eq!(chat(&admin, "anthropic", "claude-haiku-4-5", "hi").await, 200);
    assert_eq!(chat(&admin, "openai", "gpt-5-mini", "fail [[status:400]]").await, 400);
    assert_eq!(chat(&bob, "openai", "gpt-5-mini", "mine").await, 200);

    let v = stats_when(&admin, "group_by=provider", 6).await;
    assert_eq!(v["totals"]["requests"], 6, "{v}");
    assert_eq!(v["totals"]["errors"], 1, "{v}");
    assert!(v["totals"]["input_tokens"].as_i64().unwrap() > 0, "{v}");
    assert!(v["totals"]["cost_usd"].as_f64().unwrap() > 0.0, "{v}");
    assert_eq!(v["bucket_seconds"], 3600);
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups[0]["key"], "openai", "most requests first: {v}");
    assert_eq!(groups[0]["requests"], 5);
    assert_eq!(groups[0]["errors"], 1);
    assert_eq!(groups[1]["key"], "anthropic");
    assert_eq!(groups[1]["requests"], 1);
    // The series adds up to the totals, in hour buckets.
    assert_eq!(sum(&v, "series", "requests"), 6);
    assert_eq!(sum(&v, "series", "output_tokens"), v["totals"]["output_tokens"].as_i64().unwrap());
    for p in v["series"].as_array().unwrap() {
        assert!(p["t"].as_str().unwrap().contains(":00:00"), "hour-aligned: {p}");
    }

    let v = stats_when(&admin, "group_by=model", 6).await;
    let keys: HashSet<&str> = v["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, HashSet::from(["openai/gpt-5-mini", "anthropic/claude-haiku-4-5"]));

    let v = stats_when(&admin, "group_by=user", 6).await;
    let labels: HashSet<&str> = v["groups"].as_array().unwrap().iter().map(|g| g["label"].as_str().unwrap()).collect();
    assert_eq!(labels, HashSet::from(["admin", "bob"]), "user ids are shown by name: {v}");

    // Day buckets start at the viewer's midnight: 23:00 UTC for UTC+1.
    let v = stats_when(&admin, "bucket=day&tz_offset_minutes=60", 6).await;
    assert_eq!(v["bucket_seconds"], 86400);
    for p in v["series"].as_array().unwrap() {
        assert!(p["t"].as_str().unwrap().contains("T23:00:00"), "local midnight: {p}");
    }

    // Filters, and users see only their own traffic.
    assert_eq!(stats_when(&admin, "provider=anthropic", 1).await["totals"]["requests"], 1);
    assert_eq!(stats_when(&bob, "", 1).await["totals"]["requests"], 1);

    assert_error(&admin.get("/api/v1/stats?group_by=moon").await, 422, "invalid_field");
    assert_eq!(admin.get("/api/v1/stats?group_by=moon").await.1["error"]["field"], "group_by");
    let backwards = "/api/v1/stats?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z";
    assert_eq!(admin.get(backwards).await.1["error"]["field"], "from");
    let too_fine = "/api/v1/stats?from=2030-01-01T00:00:00Z&to=2030-03-01T00:00:00Z&bucket=minute";
    assert_error(&admin.get(too_fine).await, 422, "invalid_field");
    assert_error(&s.anon().get("/api/v1/stats").await, 401, "unauthenticated");
}

both_backends!(stats_aggregate_the_request_log);

#[tokio::test(flavor = "multi_thread")]
async fn known_settings_come_from_the_api_guide_with_current_values() {
    let s = Server::start(Backend::Sqlite);
    let admin = s.admin().await;
    let find = |v: &Value, key: &str| v["data"].as_array().unwrap().iter().find(|k| k["key"] == key).cloned().unwrap();

    let (status, v) = admin.get("/api/v1/settings/known").await;
    assert_eq!(status, 200, "{v}");
    let attempts = find(&v, "routing.max_attempts");
    assert_eq!(attempts["default"], "3");
    assert_eq!(attempts["kind"], "integer");
    assert_eq!(attempts["is_set"], false);
    assert!(attempts["meaning"].as_str().unwrap().contains("attempts"));
    assert_eq!(find(&v, "mcp.auto_execute_skills")["kind"], "boolean");

    let (st, row) = admin.post("/api/v1/add/gateway-config", json!({"key": "routing.max_attempts", "value": 5})).await;
    assert_eq!(st, 201, "{row}");
    let (_, v) = admin.get("/api/v1/settings/known").await;
    assert_eq!(find(&v, "routing.max_attempts")["value"], 5);
    assert_eq!(find(&v, "routing.max_attempts")["is_set"], true);

    let (bob, _) = s.user(&admin, "bob").await;
    assert_error(&bob.get("/api/v1/settings/known").await, 403, "forbidden");
}
