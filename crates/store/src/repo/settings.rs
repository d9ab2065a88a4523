//! Runtime settings: the `gateway_config` table (`config_key` → JSON text `value`).
//!
//! Hot paths (every chat request, every session append) read settings, so [`Settings`]
//! keeps the whole table in memory for a short while: one query refreshes every key,
//! and concurrent callers that find the copy stale wait for that one query instead of
//! each issuing their own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use tokio::sync::{Mutex, RwLock};

use crate::{Db, Result};

/// How long [`Settings`] serves its copy before reading the table again.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(2);

/// Reads one setting straight from the database (no cache).
pub async fn get(db: &Db, key: &str) -> Result<Option<Json>> {
    let row = db.fetch_optional("SELECT value FROM gateway_config WHERE config_key = ?", &[key.into()]).await?;
    Ok(row.and_then(|r| r.str("value").map(parse_value)))
}

/// Reads every setting straight from the database.
pub async fn all(db: &Db) -> Result<HashMap<String, Json>> {
    let rows = db.fetch_all("SELECT config_key, value FROM gateway_config", &[]).await?;
    Ok(rows.iter().filter_map(|r| Some((r.str("config_key")?.to_string(), parse_value(r.str("value")?)))).collect())
}

/// Stored values are JSON; an operator who typed a bare word gets it as a string
/// rather than having the setting silently ignored.
fn parse_value(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string()))
}

/// A cached view of `gateway_config`, cheap to clone and share.
#[derive(Clone, Debug)]
pub struct Settings {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    max_age: Duration,
    snapshot: RwLock<Option<Snapshot>>,
    /// Held by the one caller refreshing the snapshot; the others queue behind it.
    refreshing: Mutex<()>,
    /// Number of table reads, to check the no-stampede promise in tests.
    reads: AtomicU64,
}

#[derive(Debug, Clone)]
struct Snapshot {
    loaded_at: Instant,
    values: Arc<HashMap<String, Json>>,
}

impl Snapshot {
    fn fresh(&self, max_age: Duration) -> bool {
        self.loaded_at.elapsed() < max_age
    }
}

impl Settings {
    /// A cache over `db` refreshed every [`DEFAULT_MAX_AGE`].
    pub fn new(db: Db) -> Settings {
        Settings::with_max_age(db, DEFAULT_MAX_AGE)
    }

    /// A cache over `db` refreshed every `max_age`.
    pub fn with_max_age(db: Db, max_age: Duration) -> Settings {
        Settings {
            inner: Arc::new(Inner {
                db,
                max_age,
                snapshot: RwLock::new(None),
                refreshing: Mutex::new(()),
                reads: AtomicU64::new(0),
            }),
        }
    }

    /// The database behind this cache.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// A setting's JSON value, `None` when the key is not set.
    pub async fn get(&self, key: &str) -> Option<Json> {
        self.values().await.get(key).cloned()
    }

    /// An integer setting (a JSON number or a numeric string), `default` when unset or not a number.
    pub async fn int(&self, key: &str, default: i64) -> i64 {
        int_in(&*self.values().await, key, default)
    }

    /// A numeric setting as a float (a JSON number or a numeric string), `default` when unset.
    pub async fn float(&self, key: &str, default: f64) -> f64 {
        self.get(key).await.as_ref().and_then(json_f64).unwrap_or(default)
    }

    /// A boolean setting (`true`/`false`, `1`/`0`, or those as strings), `default` when unset.
    pub async fn bool(&self, key: &str, default: bool) -> bool {
        self.get(key).await.as_ref().and_then(json_bool).unwrap_or(default)
    }

    /// Drops the cached copy so the next read sees the table as it is now (call after writing it).
    pub async fn invalidate(&self) {
        *self.inner.snapshot.write().await = None;
    }

    /// Every setting, from the cache when it is fresh.
    pub async fn values(&self) -> Arc<HashMap<String, Json>> {
        if let Some(s) = self.inner.snapshot.read().await.as_ref().filter(|s| s.fresh(self.inner.max_age)) {
            return s.values.clone();
        }
        let _one_reader = self.inner.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed already.
        let stale = self.inner.snapshot.read().await.clone();
        if let Some(s) = stale.as_ref().filter(|s| s.fresh(self.inner.max_age)) {
            return s.values.clone();
        }
        self.inner.reads.fetch_add(1, Ordering::Relaxed);
        let values = match all(&self.inner.db).await {
            Ok(v) => Arc::new(v),
            Err(e) => {
                // Keep serving what we had (or nothing) and try again after max_age rather than
                // hitting a struggling database on every request.
                tracing::warn!(error = %e, "cannot read gateway_config; using the previous settings");
                stale.map(|s| s.values).unwrap_or_default()
            }
        };
        *self.inner.snapshot.write().await = Some(Snapshot { loaded_at: Instant::now(), values: values.clone() });
        values
    }
}

/// An integer setting from a snapshot ([`Settings::values`]), as [`Settings::int`]
/// reads it: for a caller reading several settings under one lock.
pub fn int_in(values: &HashMap<String, Json>, key: &str, default: i64) -> i64 {
    values.get(key).and_then(json_i64).unwrap_or(default)
}

/// A JSON number or numeric string as an integer (floats truncate).
pub fn json_i64(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) => s.trim().parse::<i64>().ok().or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64)),
        _ => None,
    }
}

/// A JSON number or numeric string as a float.
pub fn json_f64(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

fn json_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::Number(n) => n.as_i64().map(|i| i != 0),
        Json::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn temp_db() -> crate::TempSqlite {
        crate::TempSqlite::new("settings").await.unwrap()
    }

    async fn put(db: &Db, key: &str, value: &str) {
        db.execute(
            "INSERT INTO gateway_config (config_key, value, created_at, updated_at) VALUES (?, ?, 0, 0) \
             ON CONFLICT (config_key) DO UPDATE SET value = excluded.value",
            &[key.into(), value.into()],
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn reads_typed_values() {
        let t = temp_db().await;
        put(&t.db, "a.int", "42").await;
        put(&t.db, "a.str_int", "\"17\"").await;
        put(&t.db, "a.float", "2.5").await;
        put(&t.db, "a.bool", "true").await;
        put(&t.db, "a.bool_str", "\"off\"").await;
        put(&t.db, "a.bare", "hello").await;
        put(&t.db, "a.obj", r#"{"x":[1,2]}"#).await;

        assert_eq!(get(&t.db, "a.obj").await.unwrap(), Some(serde_json::json!({"x": [1, 2]})));
        assert_eq!(get(&t.db, "missing").await.unwrap(), None);

        let s = Settings::new(t.db.clone());
        assert_eq!(s.int("a.int", 0).await, 42);
        assert_eq!(s.int("a.str_int", 0).await, 17);
        assert_eq!(s.int("a.float", 0).await, 2);
        assert_eq!(s.float("a.float", 0.0).await, 2.5);
        assert_eq!(s.int("a.bare", 7).await, 7, "a non-number falls back to the default");
        assert_eq!(s.int("missing", -1).await, -1);
        assert!(s.bool("a.bool", false).await);
        assert!(!s.bool("a.bool_str", true).await);
        assert!(s.bool("missing", true).await);
        assert_eq!(s.get("a.bare").await, Some(Json::String("hello".into())));
    }

    #[tokio::test]
    async fn caches_until_max_age_then_refreshes() {
        let t = temp_db().await;
        put(&t.db, "k", "1").await;
        let s = Settings::with_max_age(t.db.clone(), Duration::from_millis(300));
        assert_eq!(s.int("k", 0).await, 1);
        put(&t.db, "k", "2").await;
        assert_eq!(s.int("k", 0).await, 1, "served from the cache");
        assert_eq!(s.inner.reads.load(Ordering::Relaxed), 1);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(s.int("k", 0).await, 2, "refreshed after max_age");
        assert_eq!(s.inner.reads.load(Ordering::Relaxed), 2);

        put(&t.db, "k", "3").await;
        s.invalidate().await;
        assert_eq!(s.int("k", 0).await, 3, "invalidate forces a re-read");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_read() {
        let t = temp_db().await;
        put(&t.db, "k", "5").await;
        let s = Settings::with_max_age(t.db.clone(), Duration::from_secs(60));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.int("k", 0).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 5);
        }
        assert_eq!(s.inner.reads.load(Ordering::Relaxed), 1, "one table read for all callers");
    }

    #[tokio::test]
    async fn keeps_previous_values_when_the_database_fails() {
        let t = temp_db().await;
        put(&t.db, "k", "9").await;
        let s = Settings::with_max_age(t.db.clone(), Duration::from_millis(50));
        assert_eq!(s.int("k", 0).await, 9);
        t.db.close().await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(s.int("k", 0).await, 9);
    }
}
