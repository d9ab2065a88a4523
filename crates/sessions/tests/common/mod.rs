//! Test harness: a fresh store per test on SQLite (temp file), MySQL (a throw-away database on
//! `SPGW_TEST_MYSQL_URL`) or Redis (`SPGW_TEST_REDIS_URL`, a unique key prefix, metadata in a
//! temp SQLite file). A missing MySQL/Redis skips the test, except under `CI`, where it fails.
#![allow(dead_code)]

pub mod suite;

use std::path::PathBuf;
use std::time::Duration;

use redis::Commands;
use spgw_core::time::now_ms;
use spgw_sessions::{Limits, RedisStore, Sessions, SqlStore};
use spgw_store::repo::settings::Settings;
use spgw_store::{Db, DbOptions, Value};

/// The default TTL the stores are built with (the configuration's 7 days).
pub const DEFAULT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Which store a test runs against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    MySql,
    Redis,
}

/// One test's world: the store, its SQL database, seeded users and models, and for Redis a raw
/// connection to look behind the store's back.
pub struct Ctx {
    pub store: Sessions,
    pub db: Db,
    pub backend: Backend,
    pub alice: i64,
    pub bob: i64,
    pub gpt: i64,
    pub claude: i64,
    pub redis: Option<RawRedis>,
    pub sqlite_url: Option<String>,
    _dir: TempDir,
    _mysql: Option<MySqlDb>,
}

/// Builds a [`Ctx`]; `settings` are `gateway_config` rows written before the store first reads them.
pub async fn ctx(backend: Backend, settings: &[(&str, &str)]) -> Option<Ctx> {
    ctx_with_limits(backend, settings, Limits::default()).await
}

/// [`ctx`] with custom history limits.
pub async fn ctx_with_limits(backend: Backend, settings: &[(&str, &str)], limits: Limits) -> Option<Ctx> {
    let dir = TempDir::new();
    let (db, mysql, sqlite_url) = match backend {
        Backend::MySql => {
            let m = MySqlDb::create().await?;
            (connect(&m.url()).await, Some(m), None)
        }
        _ => {
            let url = format!("sqlite://{}/sessions.db", dir.0.display());
            (connect(&url).await, None, Some(url))
        }
    };
    db.migrate().await.unwrap();
    for (k, v) in settings {
        put_setting(&db, k, v).await;
    }
    let alice = spgw_store::repo::users::create(&db, "alice", "x", "user", None).await.unwrap();
    let bob = spgw_store::repo::users::create(&db, "bob", "x", "user", None).await.unwrap();
    let openai = insert(&db, "providers", provider_row("openai")).await;
    let anthropic = insert(&db, "providers", provider_row("anthropic")).await;
    let gpt = insert(&db, "models", model_row(openai, "gpt-5-mini")).await;
    let claude = insert(&db, "models", model_row(anthropic, "claude-haiku-4-5")).await;

    let settings = Settings::new(db.clone());
    let (store, redis) = match backend {
        Backend::Redis => {
            let raw = RawRedis::connect()?;
            let store = RedisStore::connect(db.clone(), settings, &raw.url, &raw.prefix, DEFAULT_TTL).await.unwrap();
            (Sessions::Redis(store.with_limits(limits)), Some(raw))
        }
        _ => (Sessions::Sql(SqlStore::new(db.clone(), settings, DEFAULT_TTL).with_limits(limits)), None),
    };
    Some(Ctx { store, db, backend, alice, bob, gpt, claude, redis, sqlite_url, _dir: dir, _mysql: mysql })
}

pub async fn connect(url: &str) -> Db {
    let opts = DbOptions { url: url.to_string(), max_open: 5, max_idle: 1, connect_timeout: Duration::from_secs(10) };
    Db::connect(&opts).await.unwrap()
}

/// Writes a `gateway_config` row (value is JSON text).
pub async fn put_setting(db: &Db, key: &str, value: &str) {
    let now = now_ms();
    db.execute(
        "INSERT INTO gateway_config (config_key, value, created_at, updated_at) VALUES (?, ?, ?, ?)",
        &[key.into(), value.into(), now.into(), now.into()],
    )
    .await
    .unwrap();
}

fn provider_row(name: &str) -> Vec<(&'static str, Value)> {
    let now = now_ms();
    vec![
        ("name", name.into()),
        ("display_name", name.into()),
        ("base_url", "http://127.0.0.1:9".into()),
        ("created_at", now.into()),
        ("updated_at", now.into()),
    ]
}

fn model_row(provider_id: i64, code: &str) -> Vec<(&'static str, Value)> {
    let now = now_ms();
    vec![
        ("provider_id", provider_id.into()),
        ("model_code", code.into()),
        ("name", code.into()),
        ("features", "[\"chat\"]".into()),
        ("output_formats", "[\"text\"]".into()),
        ("created_at", now.into()),
        ("updated_at", now.into()),
    ]
}

async fn insert(db: &Db, table: &str, values: Vec<(&'static str, Value)>) -> i64 {
    spgw_store::repo::table::insert(db, table, &values).await.unwrap()
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("spgw-sessions-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A raw Redis connection and this test's unique key prefix; deletes the prefix's keys on drop.
pub struct RawRedis {
    pub url: String,
    pub prefix: String,
    con: redis::Connection,
}

impl RawRedis {
    fn connect() -> Option<RawRedis> {
        let url = std::env::var("SPGW_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
        let con = redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(3)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c).map(|_| c));
        match con {
            Ok(con) => {
                let prefix = format!("spgw-test-{}:", uuid::Uuid::new_v4().simple());
                Some(RawRedis { url, prefix, con })
            }
            Err(e) if ci() => panic!("CI is set and Redis at {url} is unreachable: {e}"),
            Err(e) => {
                eprintln!("skipping: Redis at {url} is unreachable ({e}); set SPGW_TEST_REDIS_URL");
                None
            }
        }
    }

    pub fn key(&self, session_id: &str) -> String {
        format!("{}session:{session_id}:messages", self.prefix)
    }

    pub fn exists(&mut self, key: &str) -> bool {
        self.con.exists(key).unwrap()
    }

    pub fn llen(&mut self, key: &str) -> i64 {
        self.con.llen(key).unwrap()
    }

    pub fn pttl(&mut self, key: &str) -> i64 {
        redis::cmd("PTTL").arg(key).query(&mut self.con).unwrap()
    }

    pub fn del(&mut self, key: &str) {
        let _: i64 = self.con.del(key).unwrap();
    }

    /// RPUSH + PEXPIRE, as a stray write would leave it.
    pub fn push(&mut self, key: &str, value: &str, ttl_ms: i64) {
        let _: i64 = self.con.rpush(key, value).unwrap();
        let _: i64 = redis::cmd("PEXPIRE").arg(key).arg(ttl_ms).query(&mut self.con).unwrap();
    }

    /// Every key under this test's prefix.
    pub fn keys(&mut self) -> Vec<String> {
        let pattern = format!("{}*", self.prefix);
        self.con.scan_match::<_, String>(pattern).unwrap().filter_map(Result::ok).collect()
    }
}

impl Drop for RawRedis {
    fn drop(&mut self) {
        for k in self.keys() {
            let _: redis::RedisResult<i64> = self.con.del(&k);
        }
    }
}

/// A fresh MySQL database, dropped with the value.
pub struct MySqlDb {
    server_url: String,
    name: String,
}

impl MySqlDb {
    async fn create() -> Option<MySqlDb> {
        let server_url = match std::env::var("SPGW_TEST_MYSQL_URL") {
            Ok(u) => u.trim_end_matches('/').to_string(),
            Err(_) if ci() => panic!("CI is set but SPGW_TEST_MYSQL_URL is not"),
            Err(_) => {
                eprintln!("skipping: SPGW_TEST_MYSQL_URL is not set");
                return None;
            }
        };
        let name = format!("spgw_sess_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let admin = connect(&server_url).await;
        admin
            .execute(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"), &[])
            .await
            .unwrap();
        admin.close().await;
        Some(MySqlDb { server_url, name })
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server_url, self.name)
    }
}

impl Drop for MySqlDb {
    fn drop(&mut self) {
        let (url, sql) = (self.server_url.clone(), format!("DROP DATABASE IF EXISTS {}", self.name));
        // Own thread and runtime: Drop runs inside the test's runtime, which cannot block on itself.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let db = connect(&url).await;
                db.execute(&sql, &[]).await.unwrap();
                db.close().await;
            });
        })
        .join();
    }
}

/// Expands to one `#[tokio::test]` per behaviour of [`suite`] against `$backend`.
#[macro_export]
macro_rules! behaviour_suite {
    ($backend:expr) => {
        behaviour_suite!(@tests $backend;
            create_load_append_and_list,
            list_pages_newest_first,
            mcp_config_and_model_kept_across_appends,
            ttl_override_precedence,
            expires_and_append_renews,
            delete_removes_everything,
            sweep_removes_expired,
            limits_refuse_appends,
            concurrent_appends_keep_order,
            unknown_and_malformed_ids,
        );
    };
    (@tests $backend:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                common::suite::$name($backend).await;
            }
        )+
    };
}
