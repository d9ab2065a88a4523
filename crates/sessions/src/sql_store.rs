//! The embedded store: metadata in `sessions`, history in `session_messages` (one row per
//! message, numbered by `seq`), both in the one SQL database, so every write is one transaction.

use std::time::Duration;

use serde_json::Value as Json;
use spgw_core::time::now_ms;
use spgw_providers::Message;
use spgw_store::repo::settings::Settings;
use spgw_store::{Db, Tx, Value};

use crate::codec::{decode, encode};
use crate::meta::{self, Turn, i64_of};
use crate::ttl::Ttl;
use crate::types::{Limits, NewSession, Session, SessionMeta};
use crate::{Result, SessionError, SessionStore};

/// Rows per INSERT when appending (well under every backend's bound-parameter limit).
const INSERT_CHUNK: usize = 250;

/// Sessions entirely in SQL (SQLite or MySQL): survives restarts, needs nothing else.
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Db,
    ttl: Ttl,
    limits: Limits,
}

impl SqlStore {
    /// A store over `db` whose TTL is `default_ttl` unless `gateway_config` overrides it.
    pub fn new(db: Db, settings: Settings, default_ttl: Duration) -> SqlStore {
        SqlStore { db, ttl: Ttl::new(settings, default_ttl), limits: Limits::default() }
    }

    /// Replaces the history bounds.
    pub fn with_limits(mut self, limits: Limits) -> SqlStore {
        self.limits = limits;
        self
    }
}

async fn insert_messages(tx: &mut Tx, id: &str, texts: &[String], first_seq: i64, now: i64) -> Result<()> {
    for (c, chunk) in texts.chunks(INSERT_CHUNK).enumerate() {
        let mut sql = String::from("INSERT INTO session_messages (session_id, seq, message, created_at) VALUES ");
        let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
        for (i, text) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { "(?, ?, ?, ?)" } else { ", (?, ?, ?, ?)" });
            let seq = first_seq + (c * INSERT_CHUNK + i) as i64;
            args.extend([id.into(), seq.into(), text.as_str().into(), now.into()]);
        }
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}

impl SessionStore for SqlStore {
    async fn create(&self, new: NewSession) -> Result<SessionMeta> {
        let ttl = self.ttl.current_ms().await;
        let now = now_ms();
        let id = meta::new_id();
        meta::insert(&self.db, &id, &new, now, now.saturating_add(ttl)).await?;
        meta::find(&self.db, &id).await?.ok_or(SessionError::NotFound)
    }

    async fn load(&self, session_id: &str) -> Result<Option<Session>> {
        if !meta::valid_id(session_id) {
            return Ok(None);
        }
        let Some(meta) = meta::find(&self.db, session_id).await? else { return Ok(None) };
        if meta.expires_at <= now_ms() {
            // Expired sessions are invisible; drop this one now rather than wait for the sweep.
            meta::delete(&self.db, session_id, now_ms()).await?;
            return Ok(None);
        }
        let rows = self
            .db
            .fetch_all("SELECT message FROM session_messages WHERE session_id = ? ORDER BY seq", &[session_id.into()])
            .await?;
        let messages = decode(session_id, rows.iter().filter_map(|r| r.str("message")))?;
        Ok(Some(Session { meta, messages }))
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
        if !meta::valid_id(session_id) {
            return Err(SessionError::NotFound);
        }
        let (texts, added_bytes) = encode(session_id, messages)?;
        let ttl = self.ttl.current_ms().await;
        let now = now_ms();
        let turn = Turn {
            added_messages: texts.len() as u64,
            added_tokens,
            added_cost,
            model_id,
            mcp_config,
            now,
            expires_at: now.saturating_add(ttl),
        };
        let mut tx = self.db.begin().await?;
        // The UPDATE comes first: it takes the row's write lock, so concurrent appends to one
        // session queue here and each numbers its messages after the previous one's.
        let (sql, args) = meta::update_sql(session_id, &turn, true);
        if tx.execute(sql, &args).await?.rows_affected == 0 {
            return Err(SessionError::NotFound);
        }
        let count = tx
            .fetch_optional("SELECT message_count FROM sessions WHERE session_id = ?", &[session_id.into()])
            .await?
            .and_then(|r| r.i64("message_count"))
            .unwrap_or(0);
        if count > i64_of(self.limits.max_messages) {
            return Err(SessionError::TooManyMessages { limit: self.limits.max_messages });
        }
        if !texts.is_empty() {
            let held = tx
                .fetch_optional(
                    "SELECT COALESCE(SUM(OCTET_LENGTH(message)), 0) AS b FROM session_messages WHERE session_id = ?",
                    &[session_id.into()],
                )
                .await?
                .and_then(|r| r.i64("b"))
                .unwrap_or(0);
            if (held.max(0) as u64).saturating_add(added_bytes) > self.limits.max_bytes {
                return Err(SessionError::TooLarge { limit: self.limits.max_bytes });
            }
            insert_messages(&mut tx, session_id, &texts, count - texts.len() as i64, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<bool> {
        if !meta::valid_id(session_id) {
            return Ok(false);
        }
        Ok(meta::delete(&self.db, session_id, now_ms()).await?)
    }

    async fn list(&self, user_id: Option<i64>, limit: i64, offset: i64) -> Result<Vec<SessionMeta>> {
        Ok(meta::list(&self.db, user_id, limit, offset, now_ms()).await?)
    }

    async fn sweep(&self) -> Result<u64> {
        // `session_messages` rows go with their session (ON DELETE CASCADE), so expired
        // sessions are the only leftovers this store can have.
        meta::sweep_expired(&self.db, |_| async {}).await
    }

    async fn ping(&self) -> Result<()> {
        Ok(self.db.ping().await?)
    }
}
