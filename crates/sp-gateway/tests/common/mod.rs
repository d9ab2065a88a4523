//! Test harness: runs the real `sp-gateway` binary on a random port in its own
//! empty directory, on SQLite or on a fresh MariaDB database, and talks HTTP to it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "admin-password-123";

/// Which database a test server uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    MySql,
}

/// A fresh MariaDB database, dropped when the value is dropped.
pub struct MySqlDb {
    pub server_url: String,
    pub name: String,
}

impl MySqlDb {
    fn create() -> MySqlDb {
        let server_url = match std::env::var("SPGW_TEST_MYSQL_URL") {
            Ok(u) => u,
            Err(_) if std::env::var("CI").is_ok() => panic!("CI is set but SPGW_TEST_MYSQL_URL is not"),
            Err(_) => "mysql://root@127.0.0.1:3306".to_string(),
        };
        let name = format!("spgw_it_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        mysql_exec(&server_url, &format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"));
        MySqlDb { server_url, name }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server_url.trim_end_matches('/'), self.name)
    }
}

impl Drop for MySqlDb {
    fn drop(&mut self) {
        mysql_exec(&self.server_url, &format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

fn mysql_exec(url: &str, sql: &str) {
    let (url, sql) = (url.to_string(), sql.to_string());
    // Own thread and runtime: this also runs from Drop, possibly inside another runtime.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::MySqlConnection::connect(&url).await.expect("MariaDB reachable (SPGW_TEST_MYSQL_URL)");
            sqlx::query(&sql).execute(&mut c).await.unwrap();
        });
    })
    .join()
    .unwrap();
}

/// A running gateway.
pub struct Server {
    pub dir: tempdir::Dir,
    pub base: String,
    pub backend: Backend,
    pub mysql: Option<MySqlDb>,
    child: Option<Child>,
    extra_env: Vec<(String, String)>,
}

pub mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!("spgw-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Server {
    pub fn start(backend: Backend) -> Server {
        Self::start_with(backend, &[])
    }

    pub fn start_with(backend: Backend, env: &[(&str, &str)]) -> Server {
        let mysql = (backend == Backend::MySql).then(MySqlDb::create);
        let mut s = Server {
            dir: tempdir::Dir::new(),
            base: String::new(),
            backend,
            mysql,
            child: None,
            extra_env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        s.spawn();
        s
    }

    pub fn path(&self) -> &Path {
        &self.dir.0
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sp-gateway"));
        cmd.current_dir(&self.dir.0)
            .env_remove("CONFIG_PATH")
            .env("SPGW__SERVER__PORT", "0")
            .env("SPGW__SERVER__HOST", "127.0.0.1")
            .env("SPGW_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn");
        match &self.mysql {
            Some(db) => {
                cmd.env("SPGW__DATABASE__URL", db.url());
            }
            // The SQLite half of every suite runs on one thread (tokio's
            // current-thread scheduler, what a one-CPU host gets), the MySQL
            // half on one per CPU: both runtimes serve every test.
            None => {
                cmd.env("SPGW__SERVER__WORKER_THREADS", "1");
            }
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    fn spawn(&mut self) {
        let mut child = self.command().stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or_default().to_string();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(60)).expect("gateway printed its address");
        self.base = format!("http://{addr}");
        self.child = Some(child);
    }

    /// Stops with SIGTERM (graceful) and waits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Runs the binary with extra arguments in the server's directory and environment.
    pub fn run_cli(&self, args: &[&str]) -> std::process::Output {
        self.command().args(args).output().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client signed in as admin with the login cookie.
    pub async fn admin(&self) -> Client {
        self.login("admin", ADMIN_PASSWORD).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Client {
        let http = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let r = http
            .post(self.url("/api/v1/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login as {username}");
        Client { http, base: self.base.clone(), key: None }
    }

    /// An anonymous client.
    pub fn anon(&self) -> Client {
        Client { http: reqwest::Client::new(), base: self.base.clone(), key: None }
    }

    /// Creates a user (as admin) and returns a client signed in as them.
    pub async fn user(&self, admin: &Client, name: &str) -> (Client, i64) {
        let (s, u) = admin
            .post("/api/v1/add/user", json!({"username": name, "password": "user-password-1", "role": "user"}))
            .await;
        assert_eq!(s, 201, "{u}");
        (self.login(name, "user-password-1").await, u["id"].as_i64().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP client bound to a server, authenticated by cookie or API key.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub key: Option<(String, String)>,
}

impl Client {
    /// The same server, authenticated with an API key sent in `header`
    /// (`x-api-key`, `X-API-Key` or `authorization` for Bearer).
    pub fn with_key(&self, header: &str, key: &str) -> Client {
        let value =
            if header.eq_ignore_ascii_case("authorization") { format!("Bearer {key}") } else { key.to_string() };
        Client { http: reqwest::Client::new(), base: self.base.clone(), key: Some((header.to_string(), value)) }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some((h, v)) = &self.key {
            rb = rb.header(h.as_str(), v.as_str());
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(Method::DELETE, path, None).await
    }

    /// Sends a raw body with a content type.
    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let mut rb =
            self.http.request(method, format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        if let Some((h, v)) = &self.key {
            rb = rb.header(h.as_str(), v.as_str());
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// Asserts an error response: status and `{"error":{"code","message"}}`.
#[track_caller]
pub fn assert_error(got: &(u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "unexpected status, body: {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "body: {}", got.1);
    assert!(got.1["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "body: {}", got.1);
}

/// The ids of a list response's rows.
pub fn ids(list: &Value) -> Vec<i64> {
    list["data"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// The data directory of a server.
pub fn data_dir(s: &Server) -> PathBuf {
    s.path().join("data")
}

/// Generates one test per backend from an async scenario `fn(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() { super::$name(super::common::Backend::Sqlite).await }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() { super::$name(super::common::Backend::MySql).await }
            )*
        }
    };
}
