//! The production store: the live history in Redis (a list per session, expiring with the
//! session's TTL), the metadata in the SQL `sessions` table.
//!
//! The two stores cannot share a transaction, so every operation writes in the order that
//! leaves, on failure halfway, only something the other half treats as absent and the sweep
//! (or Redis's own TTL) removes:
//! - create: SQL row, then Redis key; a failed Redis write deletes the row again.
//! - append: Redis (atomically, only if the key still exists), then SQL counters.
//! - delete: SQL row (the session stops being visible), then the Redis key.
//! - load: SQL row for visibility and expiry, then the history; a missing key means the
//!   session expired or was evicted, and the row goes too.
//!
//! A Redis list cannot be empty, so index 0 of every history list is a small JSON header
//! (`{"session_id":..,"bytes":N}`) that keeps a new session's key alive and carries the byte
//! count the size limit is checked against. Messages start at index 1.

use std::sync::Arc;
use std::time::Duration;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde_json::{Value as Json, json};
use spgw_core::time::now_ms;
use spgw_providers::Message;
use spgw_store::Db;
use spgw_store::repo::settings::Settings;

use crate::codec::{decode, encode};
use crate::meta::SWEEP_BATCH;
use crate::meta::{self, Turn};
use crate::ttl::Ttl;
use crate::types::{Limits, NewSession, Session, SessionMeta};
use crate::{Result, SessionError, SessionStore};

/// Appends only to a history that still exists (so an expired or deleted session is never
/// resurrected as a headless list), enforces the limits, and renews the TTL, all atomically.
/// KEYS[1] the list; ARGV[1] TTL ms; ARGV[2] max messages; ARGV[3] max bytes; ARGV[4..] messages.
/// Returns the new message count, or -1 (no such key), -2 (too many messages), -3 (too large).
const APPEND_LUA: &str = r"
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return -1 end
local h = cjson.decode(head)
local adding = #ARGV - 3
local count = redis.call('LLEN', KEYS[1]) - 1 + adding
if count > tonumber(ARGV[2]) then return -2 end
local bytes = tonumber(h.bytes) or 0
for i = 4, #ARGV do bytes = bytes + #ARGV[i] end
if bytes > tonumber(ARGV[3]) then return -3 end
if adding > 0 then
  h.bytes = bytes
  redis.call('LSET', KEYS[1], 0, cjson.encode(h))
  redis.call('RPUSH', KEYS[1], unpack(ARGV, 4))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return count
";

/// A row younger than this whose Redis key is missing may belong to a create that has written
/// SQL but not yet Redis; only older ones are treated as leftovers.
const CREATE_GRACE_MS: i64 = 60_000;

/// Keys per SCAN step of the orphan sweep.
const SCAN_COUNT: u64 = 500;

/// Sessions with their history in Redis and their metadata in SQL.
#[derive(Debug, Clone)]
pub struct RedisStore {
    db: Db,
    ttl: Ttl,
    limits: Limits,
    redis: ConnectionManager,
    prefix: Arc<str>,
    append: Arc<Script>,
}

impl RedisStore {
    /// Connects to Redis (failing now if it does not answer; later outages reconnect by
    /// themselves). Keys are named `{key_prefix}session:{id}:messages`.
    pub async fn connect(
        db: Db,
        settings: Settings,
        redis_url: &str,
        key_prefix: &str,
        default_ttl: Duration,
    ) -> Result<RedisStore> {
        let client = redis::Client::open(redis_url)?;
        // The library's 500 ms response timeout is too tight for loading a long history.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(3);
        let redis = ConnectionManager::new_with_config(client, config).await?;
        Ok(RedisStore {
            db,
            ttl: Ttl::new(settings, default_ttl),
            limits: Limits::default(),
            redis,
            prefix: key_prefix.into(),
            append: Arc::new(Script::new(APPEND_LUA)),
        })
    }

    /// Replaces the history bounds.
    pub fn with_limits(mut self, limits: Limits) -> RedisStore {
        self.limits = limits;
        self
    }

    /// The Redis key holding a session's history.
    pub fn history_key(&self, session_id: &str) -> String {
        format!("{}session:{session_id}:messages", self.prefix)
    }

    /// The session id in a history key of this store, if it is one.
    fn id_of_key<'k>(&self, key: &'k str) -> Option<&'k str> {
        let id = key.strip_prefix(&*self.prefix)?.strip_prefix("session:")?.strip_suffix(":messages")?;
        meta::valid_id(id).then_some(id)
    }

    /// Deletes history keys; a failure only delays their removal (TTL or the next sweep).
    async fn drop_keys(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let keys: Vec<String> = ids.iter().map(|id| self.history_key(id)).collect();
        let r: redis::RedisResult<u64> = redis::cmd("DEL").arg(&keys).query_async(&mut self.redis.clone()).await;
        if let Err(e) = r {
            tracing::warn!(error = %e, count = keys.len(), "cannot delete session history keys; TTL or sweep will");
        }
    }

    /// Forgets the SQL row of a session whose history is gone from Redis.
    async fn forget(&self, session_id: &str) {
        if let Err(e) = meta::forget_stale(&self.db, session_id, now_ms() - CREATE_GRACE_MS).await {
            tracing::warn!(error = %e, session_id, "cannot delete the row of a session whose history expired");
        }
    }

    /// Rows older than the create grace whose history key is missing; returns how many were removed.
    async fn sweep_keyless_rows(&self) -> Result<u64> {
        let cutoff = now_ms() - CREATE_GRACE_MS;
        let mut removed = 0;
        let mut after = 0;
        loop {
            let page = meta::older_page(&self.db, after, cutoff, SWEEP_BATCH).await?;
            let Some((last, _)) = page.last() else { return Ok(removed) };
            after = *last;
            let mut pipe = redis::pipe();
            for (_, id) in &page {
                pipe.cmd("EXISTS").arg(self.history_key(id));
            }
            let exists: Vec<bool> = pipe.query_async(&mut self.redis.clone()).await?;
            let gone: Vec<String> =
                page.iter().zip(exists).filter(|(_, e)| !e).map(|((_, id), _)| id.clone()).collect();
            removed += meta::delete_older(&self.db, &gone, cutoff).await?;
            if (page.len() as i64) < SWEEP_BATCH {
                return Ok(removed);
            }
        }
    }

    /// History keys whose SQL row is missing (a create always writes SQL first, so such a
    /// key can only be a leftover of a delete or of a create rolled back); returns how many.
    async fn sweep_orphan_keys(&self) -> Result<u64> {
        let pattern = format!("{}session:*:messages", glob_escape(&self.prefix));
        let mut con = self.redis.clone();
        let mut removed = 0;
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut con)
                .await?;
            let ids: Vec<String> = keys.iter().filter_map(|k| self.id_of_key(k)).map(str::to_string).collect();
            let known = meta::existing(&self.db, &ids).await?;
            let orphans: Vec<String> = ids.into_iter().filter(|id| !known.contains(id)).collect();
            if !orphans.is_empty() {
                let keys: Vec<String> = orphans.iter().map(|id| self.history_key(id)).collect();
                let n: u64 = redis::cmd("DEL").arg(&keys).query_async(&mut con).await?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

/// Escapes Redis glob characters so a prefix matches only itself in SCAN.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl SessionStore for RedisStore {
    async fn create(&self, new: NewSession) -> Result<SessionMeta> {
        let ttl = self.ttl.current_ms().await;
        let now = now_ms();
        let id = meta::new_id();
        meta::insert(&self.db, &id, &new, now, now.saturating_add(ttl)).await?;
        let key = self.history_key(&id);
        let header = json!({ "session_id": id, "bytes": 0 }).to_string();
        let written: redis::RedisResult<()> = redis::pipe()
            .atomic()
            .cmd("RPUSH")
            .arg(&key)
            .arg(header)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ttl)
            .ignore()
            .query_async(&mut self.redis.clone())
            .await;
        if let Err(e) = written {
            if let Err(undo) = meta::delete_any(&self.db, &id).await {
                // The row stays keyless: load treats it as expired and the sweep removes it.
                tracing::warn!(error = %undo, session_id = %id, "cannot undo a session row after a Redis failure");
            }
            return Err(e.into());
        }
        meta::find(&self.db, &id).await?.ok_or(SessionError::NotFound)
    }

    async fn load(&self, session_id: &str) -> Result<Option<Session>> {
        if !meta::valid_id(session_id) {
            return Ok(None);
        }
        let Some(meta) = meta::find(&self.db, session_id).await? else { return Ok(None) };
        if meta.expires_at <= now_ms() {
            meta::delete(&self.db, session_id, now_ms()).await?;
            self.drop_keys(vec![session_id.to_string()]).await;
            return Ok(None);
        }
        let items: Vec<String> = redis::cmd("LRANGE")
            .arg(self.history_key(session_id))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.redis.clone())
            .await?;
        if items.is_empty() {
            // Expired or evicted in Redis: the session is over; make SQL agree.
            self.forget(session_id).await;
            return Ok(None);
        }
        let messages = decode(session_id, items.iter().skip(1).map(String::as_str))?;
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
        let (texts, _) = encode(session_id, messages)?;
        let ttl = self.ttl.current_ms().await;
        let mut call = self.append.key(self.history_key(session_id));
        call.arg(ttl).arg(self.limits.max_messages).arg(self.limits.max_bytes);
        for t in &texts {
            call.arg(t);
        }
        let count: i64 = call.invoke_async(&mut self.redis.clone()).await?;
        match count {
            -1 => {
                self.forget(session_id).await;
                return Err(SessionError::NotFound);
            }
            -2 => return Err(SessionError::TooManyMessages { limit: self.limits.max_messages }),
            -3 => return Err(SessionError::TooLarge { limit: self.limits.max_bytes }),
            _ => {}
        }
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
        let (sql, args) = meta::update_sql(session_id, &turn, false);
        let mut updated = self.db.execute(sql, &args).await;
        if let Err(e) = &updated {
            tracing::warn!(error = %e, session_id, "session counters not updated; retrying once");
            updated = self.db.execute(sql, &args).await;
        }
        match updated {
            Ok(r) if r.rows_affected == 0 => {
                // Deleted (or swept) while we appended: drop the key we just extended.
                self.drop_keys(vec![session_id.to_string()]).await;
                Err(SessionError::NotFound)
            }
            Ok(_) => Ok(()),
            Err(e) => {
                // The history is safely in Redis, and the row's counters, model and mcp_config
                // are informative. The one consequence is the row's older expires_at: the
                // session may end (in both stores, via the sweep) sooner than its TTL promised.
                tracing::error!(error = %e, session_id, "session counters not updated after the history was");
                Ok(())
            }
        }
    }

    async fn delete(&self, session_id: &str) -> Result<bool> {
        if !meta::valid_id(session_id) {
            return Ok(false);
        }
        let was_live = meta::delete(&self.db, session_id, now_ms()).await?;
        self.drop_keys(vec![session_id.to_string()]).await;
        Ok(was_live)
    }

    async fn list(&self, user_id: Option<i64>, limit: i64, offset: i64) -> Result<Vec<SessionMeta>> {
        Ok(meta::list(&self.db, user_id, limit, offset, now_ms()).await?)
    }

    async fn sweep(&self) -> Result<u64> {
        let expired = meta::sweep_expired(&self.db, |ids| self.drop_keys(ids)).await?;
        let keyless = self.sweep_keyless_rows().await?;
        let orphans = self.sweep_orphan_keys().await?;
        Ok(expired + keyless + orphans)
    }

    async fn ping(&self) -> Result<()> {
        let _: String = redis::cmd("PING").query_async(&mut self.redis.clone()).await?;
        Ok(self.db.ping().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("spgw:"), "spgw:");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
