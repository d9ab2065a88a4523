//! Start-up, configuration, health, OpenAPI, request ids, restart, CLI.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use common::{Backend, Server};
use serde_json::{Value, json};

async fn restart_keeps_data(backend: Backend) {
    let mut server = Server::start(backend);
    let admin = server.admin().await;
    let (_, p) = admin.post("/api/v1/add/project", json!({"name": "Durable"})).await;
    let (_, key) = admin.post("/api/v1/add/gateway-api-key", json!({"name": "k"})).await;
    admin
        .post(
            "/api/v1/add/credential",
            json!({"project_id": p["id"], "name": "c", "credential_type": "t", "secret": "kept-secret-value"}),
        )
        .await;
    server.restart();
    // Same admin password (not regenerated), same rows, same key, same master key.
    let admin = server.admin().await;
    let (_, got) = admin.get(&format!("/api/v1/get/project/{}", p["id"])).await;
    assert_eq!(got["name"], "Durable");
    let (s, _) = admin.with_key("x-api-key", key["key"].as_str().unwrap()).get("/api/v1/me").await;
    assert_eq!(s, 200);
    let (_, creds) = admin.get("/api/v1/list/credentials").await;
    assert_eq!(creds["data"][0]["secret"], "kep…alue");
}

async fn health_openapi_request_id(backend: Backend) {
    let server = Server::start(backend);
    let r = reqwest::get(server.url("/health")).await.unwrap();
    assert_eq!(r.status(), 200);
    let h: Value = r.json().await.unwrap();
    assert_eq!(h["database"]["status"], "up");
    assert_eq!(h["database"]["backend"], if backend == Backend::Sqlite { "sqlite" } else { "mysql" });

    let doc: Value = reqwest::get(server.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    for path in [
        "/api/v1/list/{type}",
        "/api/v1/add/{type}",
        "/api/v1/update/{type}/{id}",
        "/api/v1/del/{type}/{id}",
        "/api/v1/login",
        "/health",
    ] {
        assert!(doc["paths"].get(path).is_some(), "OpenAPI documents {path}");
    }

    let r =
        reqwest::Client::new().get(server.url("/health")).header("x-request-id", "trace-abc-123").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-abc-123");
    let r = reqwest::get(server.url("/health")).await.unwrap();
    assert_eq!(r.headers()["x-request-id"].len(), 32, "a request id is generated when none is sent");

    // Unknown API paths are JSON 404s; everything else belongs to the web UI.
    for path in ["/api/v1/no/such/route", "/v1/no/such/route"] {
        let r = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["message"].as_str().is_some(), "{path}: {body}");
    }
}

async fn uploads(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let (_, p) = admin.post("/api/v1/add/project", json!({"name": "Pics"})).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(png.clone()).file_name("logo.png"));
    let r = admin
        .http
        .post(server.url(&format!("/api/v1/projects/{}/logo", p["id"])))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let project: Value = r.json().await.unwrap();
    let url = project["logo_url"].as_str().unwrap().to_string();
    assert!(url.starts_with("/uploads/projects/") && url.ends_with(".png"), "{url}");
    let served = reqwest::get(server.url(&url)).await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);

    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"#!/bin/sh\n".to_vec()).file_name("x.png"));
    let r = admin
        .http
        .post(server.url(&format!("/api/v1/projects/{}/logo", p["id"])))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "not an image");
}

both_backends!(restart_keeps_data, health_openapi_request_id, uploads);

#[test]
fn bad_configuration_stops_startup_naming_the_key() {
    let server_dir = common::tempdir::Dir::new();
    let bin = env!("CARGO_BIN_EXE_sp-gateway");
    for (var, value, key) in [
        ("SPGW__SERVER__PROT", "1", "server.prot"),
        ("SPGW__SERVER__PORT", "abc", "server.port"),
        ("SPGW__DATABASE__URL", "postgres://x/y", "database.url"),
        ("SPGW__DATABASE__MAX_IDLE", "50", "database.max_idle"),
    ] {
        let out = std::process::Command::new(bin).current_dir(&server_dir.0).env(var, value).output().unwrap();
        assert!(!out.status.success(), "{var}={value} must stop start-up");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(key), "{var}: the error names {key}: {err}");
    }
}

#[test]
fn version_and_migrate_subcommands() {
    let dir = common::tempdir::Dir::new();
    let bin = env!("CARGO_BIN_EXE_sp-gateway");
    let out = std::process::Command::new(bin).arg("version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("sp-gateway "));
    let out =
        std::process::Command::new(bin).current_dir(&dir.0).arg("migrate").env("RUST_LOG", "warn").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.0.join("data/sp-gateway.db").exists(), "migrate creates the embedded database");
}

#[test]
fn first_start_generates_and_prints_admin_password_and_master_key() {
    let dir = common::tempdir::Dir::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sp-gateway"))
        .current_dir(&dir.0)
        .env_remove("SPGW_ADMIN_PASSWORD")
        .env("SPGW__SERVER__PORT", "0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut password = None;
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok) {
        if let Some(rest) = line.split("with password").nth(1) {
            password = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.contains("listening on") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(password.map(|p| p.len()), Some(20), "a generated admin password is printed once");
    let key = dir.0.join("data/master.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the generated master key is private");
    assert!(
        std::fs::read_to_string(dir.0.join("data/sp-gateway.db-wal")).is_ok()
            || dir.0.join("data/sp-gateway.db").exists()
    );
}
