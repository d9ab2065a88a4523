//! Chat sessions (SPEC §3): message history, MCP configuration, model, owner, agent and
//! timestamps, behind one trait with two stores:
//! - [`SqlStore`], embedded: everything in the SQL database (SQLite or MySQL);
//! - [`RedisStore`], production: the live history in Redis with the session's TTL, the
//!   metadata in SQL, written in an order that never leaves one without the other for long
//!   (see `redis_store.rs`).
//!
//! The TTL defaults to the configured `redis.session_ttl_secs` and is overridable at run time
//! by `gateway_config` keys `sessions.ttl_seconds`, `sessions.ttl_hours` or `sessions.ttl_days`
//! (first present wins). Continuing a session renews it.

mod codec;
mod error;
mod meta;
mod redis_store;
mod sql_store;
mod ttl;
mod types;

use std::time::Duration;

use serde_json::Value as Json;
use spgw_providers::Message;
use spgw_store::Db;
use spgw_store::repo::settings::Settings;

pub use error::SessionError;
pub use redis_store::RedisStore;
pub use sql_store::SqlStore;
pub use types::{Limits, NewSession, Session, SessionMeta};

/// Result alias of this crate.
pub type Result<T, E = SessionError> = std::result::Result<T, E>;

/// What every session store does.
pub trait SessionStore: Send + Sync {
    /// Starts a session with an empty history and returns its metadata (with a fresh 32-hex id).
    fn create(&self, new: NewSession) -> impl Future<Output = Result<SessionMeta>> + Send;

    /// The session with its history; `None` when it does not exist or has expired.
    fn load(&self, session_id: &str) -> impl Future<Output = Result<Option<Session>>> + Send;

    /// Continues a session: appends `messages` to its history, adds to its counters, renews its
    /// TTL, and sets its model and MCP configuration when given (keeping the previous ones
    /// otherwise). [`SessionError::NotFound`] when the session is gone or expired.
    fn append(
        &self,
        session_id: &str,
        messages: &[Message],
        added_tokens: u64,
        added_cost: f64,
        model_id: Option<i64>,
        mcp_config: Option<&Json>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Deletes a session from every store; true when it existed and had not expired.
    fn delete(&self, session_id: &str) -> impl Future<Output = Result<bool>> + Send;

    /// Live sessions of one user (or of everyone, for admins), most recently used first.
    fn list(
        &self,
        user_id: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = Result<Vec<SessionMeta>>> + Send;

    /// Removes expired sessions and leftovers of interrupted writes; returns how many.
    fn sweep(&self) -> impl Future<Output = Result<u64>> + Send;

    /// Checks every backing store answers.
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;
}

/// The session store the gateway runs with, chosen from the configuration.
#[derive(Debug, Clone)]
pub enum Sessions {
    /// Embedded: everything in SQL.
    Sql(SqlStore),
    /// Production: history in Redis, metadata in SQL.
    Redis(RedisStore),
}

impl Sessions {
    /// The Redis store when `redis_url` is given (and not blank), else the SQL store. Runtime
    /// TTL overrides are read from `db`'s `gateway_config` (cached for a couple of seconds).
    pub async fn connect(db: Db, redis_url: Option<&str>, key_prefix: &str, default_ttl: Duration) -> Result<Sessions> {
        let settings = Settings::new(db.clone());
        Ok(match redis_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => Sessions::Redis(RedisStore::connect(db, settings, url, key_prefix, default_ttl).await?),
            None => Sessions::Sql(SqlStore::new(db, settings, default_ttl)),
        })
    }

    /// Replaces the history bounds (default: 2,000 messages, 8 MiB).
    pub fn with_limits(self, limits: Limits) -> Sessions {
        match self {
            Sessions::Sql(s) => Sessions::Sql(s.with_limits(limits)),
            Sessions::Redis(s) => Sessions::Redis(s.with_limits(limits)),
        }
    }

    /// `"sql"` or `"redis"`, for health and start-up logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Sessions::Sql(_) => "sql",
            Sessions::Redis(_) => "redis",
        }
    }

    /// Runs [`SessionStore::sweep`] every `every` (first run at once) until the handle is aborted.
    pub fn spawn_sweeper(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match store.sweep().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "session sweep"),
                    Err(e) => tracing::warn!(error = %e, "session sweep failed; retrying next round"),
                }
            }
        })
    }
}

impl SessionStore for Sessions {
    async fn create(&self, new: NewSession) -> Result<SessionMeta> {
        match self {
            Sessions::Sql(s) => s.create(new).await,
            Sessions::Redis(s) => s.create(new).await,
        }
    }

    async fn load(&self, session_id: &str) -> Result<Option<Session>> {
        match self {
            Sessions::Sql(s) => s.load(session_id).await,
            Sessions::Redis(s) => s.load(session_id).await,
        }
    }

    async fn append(
        &self,
        session_id: &str,
        messages: &[Message],
        added_tokens: u64,
        added_cost: f64,
        model_id: Option<i64>,
        mcp_config: Option<&Json>,
    ) -> Result<()> {
        match self {
            Sessions::Sql(s) => s.append(session_id, messages, added_tokens, added_cost, model_id, mcp_config).await,
            Sessions::Redis(s) => s.append(session_id, messages, added_tokens, added_cost, model_id, mcp_config).await,
        }
    }

    async fn delete(&self, session_id: &str) -> Result<bool> {
        match self {
            Sessions::Sql(s) => s.delete(session_id).await,
            Sessions::Redis(s) => s.delete(session_id).await,
        }
    }

    async fn list(&self, user_id: Option<i64>, limit: i64, offset: i64) -> Result<Vec<SessionMeta>> {
        match self {
            Sessions::Sql(s) => s.list(user_id, limit, offset).await,
            Sessions::Redis(s) => s.list(user_id, limit, offset).await,
        }
    }

    async fn sweep(&self) -> Result<u64> {
        match self {
            Sessions::Sql(s) => s.sweep().await,
            Sessions::Redis(s) => s.sweep().await,
        }
    }

    async fn ping(&self) -> Result<()> {
        match self {
            Sessions::Sql(s) => s.ping().await,
            Sessions::Redis(s) => s.ping().await,
        }
    }
}
