//! Sign-in, cookies, API keys (shown once, hashed, revocable, expiring) and 401s.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use common::{ADMIN_PASSWORD, Backend, Server, assert_error};
use serde_json::json;

async fn login_and_keys(backend: Backend) {
    let server = Server::start(backend);
    let anon = server.anon();
    assert_error(&anon.get("/api/v1/list/projects").await, 401, "unauthenticated");
    assert_error(&anon.get("/api/v1/me").await, 401, "unauthenticated");
    let bad = anon.post("/api/v1/login", json!({"username": "admin", "password": "wrong"})).await;
    assert_error(&bad, 401, "invalid_credentials");
    let nobody = anon.post("/api/v1/login", json!({"username": "nobody", "password": "x"})).await;
    assert_error(&nobody, 401, "invalid_credentials");

    // The cookie: HttpOnly, SameSite=Lax, with an expiry.
    let r = reqwest::Client::new()
        .post(server.url("/api/v1/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("spgw_session="), "{cookie}");
    for part in ["HttpOnly", "SameSite=Lax", "Max-Age=604800", "Path=/"] {
        assert!(cookie.contains(part), "cookie has {part}: {cookie}");
    }

    let admin = server.admin().await;
    let (s, me) = admin.get("/api/v1/me").await;
    assert_eq!((s, me["username"].as_str()), (200, Some("admin")));

    // API keys in each accepted header.
    let (_, key) = admin.post("/api/v1/add/gateway-api-key", json!({"name": "sdk"})).await;
    let full = key["key"].as_str().unwrap();
    for header in ["X-API-Key", "x-api-key", "authorization"] {
        let (s, me) = admin.with_key(header, full).get("/api/v1/me").await;
        assert_eq!(s, 200, "{header}: {me}");
        assert_eq!(me["api_key_id"], key["id"]);
    }
    assert_error(&admin.with_key("x-api-key", "spgw_not-a-real-key").get("/api/v1/me").await, 401, "unauthenticated");
    assert_error(&admin.with_key("authorization", "Basic abc").get("/api/v1/me").await, 401, "unauthenticated");

    // Listed by prefix, last use recorded, the hash never shown.
    let (_, list) = admin.get("/api/v1/list/gateway-api-keys").await;
    let row = &list["data"][0];
    assert_eq!(row["prefix"], &full[..12]);
    assert!(row.get("key_hash").is_none() && row.get("key").is_none(), "{row}");

    // Revoked: refused at once.
    let (s, _) = admin.delete(&format!("/api/v1/del/gateway-api-key/{}", key["id"])).await;
    assert_eq!(s, 200);
    assert_error(&admin.with_key("x-api-key", full).get("/api/v1/me").await, 401, "unauthenticated");

    // Expired: refused.
    let (_, old) =
        admin.post("/api/v1/add/gateway-api-key", json!({"name": "old", "expires_at": "2020-01-01T00:00:00Z"})).await;
    assert_error(
        &admin.with_key("x-api-key", old["key"].as_str().unwrap()).get("/api/v1/me").await,
        401,
        "unauthenticated",
    );

    // Logout ends the session server-side.
    let (s, _) = admin.post("/api/v1/logout", json!({})).await;
    assert_eq!(s, 204);
    assert_error(&admin.get("/api/v1/me").await, 401, "unauthenticated");

    // A disabled user cannot sign in.
    let admin = server.admin().await;
    let (_, u) = admin.post("/api/v1/add/user", json!({"username": "erin", "password": "erin-password"})).await;
    admin.patch(&format!("/api/v1/update/user/{}", u["id"]), json!({"enabled": false})).await;
    assert_error(
        &anon.post("/api/v1/login", json!({"username": "erin", "password": "erin-password"})).await,
        401,
        "invalid_credentials",
    );
}

async fn secrets_are_encrypted_and_passwords_hashed(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let (_, p) = admin.post("/api/v1/add/project", json!({"name": "P"})).await;
    admin
        .post(
            "/api/v1/add/provider",
            json!({"name": "acme", "base_url": "http://127.0.0.1:9", "api_key": "sk-PLAINTEXT-provider-key"}),
        )
        .await;
    admin
        .post(
            "/api/v1/add/credential",
            json!({"project_id": p["id"], "name": "c", "credential_type": "token", "secret": "PLAINTEXT-credential"}),
        )
        .await;
    admin.post("/api/v1/add/user", json!({"username": "fay", "password": "PLAINTEXT-password"})).await;
    let (_, key) = admin.post("/api/v1/add/gateway-api-key", json!({"name": "k"})).await;
    let api_key = key["key"].as_str().unwrap().to_string();

    let dump = match backend {
        Backend::Sqlite => {
            // Checkpoint by stopping the server, then read every byte of the database files.
            let mut server = server;
            server.stop();
            let mut all = Vec::new();
            for entry in std::fs::read_dir(common::data_dir(&server)).unwrap() {
                all.extend(std::fs::read(entry.unwrap().path()).unwrap());
            }
            String::from_utf8_lossy(&all).into_owned()
        }
        Backend::MySql => {
            use sqlx::{Connection, Row};
            let url = server.mysql.as_ref().unwrap().url();
            let mut c = sqlx::MySqlConnection::connect(&url).await.unwrap();
            let mut out = String::new();
            for sql in [
                "SELECT CONCAT_WS('|', key_enc, key_hint) FROM provider_keys",
                "SELECT CONCAT_WS('|', secret_enc, secret_hint) FROM credentials",
                "SELECT password_hash FROM users",
                "SELECT key_hash FROM gateway_api_keys",
            ] {
                for r in sqlx::query(sql).fetch_all(&mut c).await.unwrap() {
                    out.push_str(&r.get::<String, _>(0));
                }
            }
            out
        }
    };
    for plain in ["PLAINTEXT-provider-key", "PLAINTEXT-credential", "PLAINTEXT-password", &api_key] {
        assert!(!dump.contains(plain), "{plain} must not be stored in clear");
    }
    assert!(dump.contains("$argon2id$"), "passwords are Argon2id hashes");
    assert!(dump.contains("v1:"), "secrets are stored encrypted");
}

both_backends!(login_and_keys, secrets_are_encrypted_and_passwords_hashed);
