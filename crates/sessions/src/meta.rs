//! SQL for the `sessions` table (metadata), shared by both stores. Portable SQL only.

use std::collections::HashSet;

use serde_json::Value as Json;
use spgw_store::{Db, Row, Value};

use spgw_core::time::now_ms;

use crate::types::{NewSession, SessionMeta};

type Result<T> = std::result::Result<T, spgw_store::StoreError>;

/// Every metadata column, with the model's provider name and code joined in. Each column is
/// aliased because SQLite leaves the name of an unaliased `s.col` unspecified.
const SELECT: &str = "SELECT s.session_id AS session_id, s.user_id AS user_id, s.project_id AS project_id, \
     s.agent_id AS agent_id, s.model_id AS model_id, s.task_id AS task_id, s.title AS title, \
     s.mcp_config AS mcp_config, s.message_count AS message_count, s.total_tokens AS total_tokens, \
     s.total_cost_usd AS total_cost_usd, s.created_at AS created_at, s.updated_at AS updated_at, \
     s.expires_at AS expires_at, p.name AS provider, m.model_code AS model \
     FROM sessions s LEFT JOIN models m ON m.id = s.model_id LEFT JOIN providers p ON p.id = m.provider_id";

/// Sweep deletes at most this many sessions per statement, so one sweep never holds a long lock.
pub(crate) const SWEEP_BATCH: i64 = 500;

/// `title` is VARCHAR(191): MySQL in strict mode refuses longer values rather than cutting them.
const TITLE_MAX_CHARS: usize = 191;

/// A fresh session id: 32 hex characters (a v4 UUID without dashes).
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `id` could be a session id. Anything else is refused before it reaches SQL or a
/// Redis key name (where `:` or glob characters would let it alias other keys).
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn u64_of(n: Option<i64>) -> u64 {
    n.unwrap_or(0).max(0) as u64
}

/// Counters are kept in signed 64-bit columns.
pub(crate) fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn from_row(r: &Row) -> SessionMeta {
    SessionMeta {
        session_id: r.str("session_id").unwrap_or_default().to_string(),
        user_id: r.i64("user_id").unwrap_or_default(),
        project_id: r.i64("project_id"),
        agent_id: r.i64("agent_id"),
        model_id: r.i64("model_id"),
        task_id: r.i64("task_id"),
        provider: r.str("provider").map(str::to_string),
        model: r.str("model").map(str::to_string),
        title: r.str("title").map(str::to_string),
        mcp_config: r.str("mcp_config").and_then(|t| serde_json::from_str(t).ok()),
        message_count: u64_of(r.i64("message_count")),
        total_tokens: u64_of(r.i64("total_tokens")),
        total_cost_usd: r.f64("total_cost_usd").unwrap_or_default(),
        created_at: r.i64("created_at").unwrap_or_default(),
        updated_at: r.i64("updated_at").unwrap_or_default(),
        expires_at: r.i64("expires_at").unwrap_or_default(),
    }
}

fn marks(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        s.push_str(if i == 0 { "?" } else { ", ?" });
    }
    s
}

/// Inserts the metadata row of a new session.
pub(crate) async fn insert(db: &Db, id: &str, new: &NewSession, now: i64, expires_at: i64) -> Result<()> {
    let title = new.title.as_deref().map(|t| t.chars().take(TITLE_MAX_CHARS).collect::<String>());
    db.execute(
        "INSERT INTO sessions (session_id, user_id, project_id, agent_id, model_id, task_id, title, mcp_config, \
         expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            id.into(),
            new.user_id.into(),
            new.project_id.into(),
            new.agent_id.into(),
            new.model_id.into(),
            new.task_id.into(),
            title.into(),
            new.mcp_config.as_ref().map(Json::to_string).into(),
            expires_at.into(),
            now.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The metadata row of a session, expired or not.
pub(crate) async fn find(db: &Db, id: &str) -> Result<Option<SessionMeta>> {
    let sql = format!("{SELECT} WHERE s.session_id = ?");
    Ok(db.fetch_optional(&sql, &[id.into()]).await?.as_ref().map(from_row))
}

/// Live sessions, most recently used first (served by `ix_sessions_user` when filtered by user).
pub(crate) async fn list(db: &Db, user_id: Option<i64>, limit: i64, offset: i64, now: i64) -> Result<Vec<SessionMeta>> {
    let mut args: Vec<Value> = Vec::with_capacity(4);
    let mut sql = format!("{SELECT} WHERE s.expires_at > ?");
    args.push(now.into());
    if let Some(u) = user_id {
        sql.push_str(" AND s.user_id = ?");
        args.push(u.into());
    }
    sql.push_str(" ORDER BY s.updated_at DESC, s.id DESC LIMIT ? OFFSET ?");
    args.push(limit.max(0).into());
    args.push(offset.max(0).into());
    Ok(db.fetch_all(&sql, &args).await?.iter().map(from_row).collect())
}

/// Deletes a session's row (its `session_messages` go with it, by cascade). True when the
/// session was live; an expired row is removed too but reported as not found.
pub(crate) async fn delete(db: &Db, id: &str, now: i64) -> Result<bool> {
    let live =
        db.execute("DELETE FROM sessions WHERE session_id = ? AND expires_at > ?", &[id.into(), now.into()]).await?;
    if live.rows_affected > 0 {
        return Ok(true);
    }
    db.execute("DELETE FROM sessions WHERE session_id = ?", &[id.into()]).await?;
    Ok(false)
}

/// Deletes a session's row if it was created before `created_before`. Used when the Redis
/// history is missing: a younger row may belong to a create still writing its Redis key.
pub(crate) async fn forget_stale(db: &Db, id: &str, created_before: i64) -> Result<u64> {
    let sql = "DELETE FROM sessions WHERE session_id = ? AND created_at < ?";
    Ok(db.execute(sql, &[id.into(), created_before.into()]).await?.rows_affected)
}

/// Deletes a session's row unconditionally (undoing a create whose Redis write failed).
pub(crate) async fn delete_any(db: &Db, id: &str) -> Result<u64> {
    Ok(db.execute("DELETE FROM sessions WHERE session_id = ?", &[id.into()]).await?.rows_affected)
}

/// The counters and fields one append changes.
pub(crate) struct Turn<'a> {
    pub added_messages: u64,
    pub added_tokens: u64,
    pub added_cost: f64,
    pub model_id: Option<i64>,
    pub mcp_config: Option<&'a Json>,
    pub now: i64,
    pub expires_at: i64,
}

/// The UPDATE recording a turn. With `require_live` it matches only an unexpired row, so
/// zero rows affected means "not found or expired". `None` keeps the previous model/mcp_config.
pub(crate) fn update_sql(id: &str, t: &Turn<'_>, require_live: bool) -> (&'static str, Vec<Value>) {
    let sql = if require_live {
        "UPDATE sessions SET message_count = message_count + ?, total_tokens = total_tokens + ?, \
         total_cost_usd = total_cost_usd + ?, model_id = COALESCE(?, model_id), \
         mcp_config = COALESCE(?, mcp_config), updated_at = ?, expires_at = ? \
         WHERE session_id = ? AND expires_at > ?"
    } else {
        "UPDATE sessions SET message_count = message_count + ?, total_tokens = total_tokens + ?, \
         total_cost_usd = total_cost_usd + ?, model_id = COALESCE(?, model_id), \
         mcp_config = COALESCE(?, mcp_config), updated_at = ?, expires_at = ? \
         WHERE session_id = ?"
    };
    let mut args: Vec<Value> = vec![
        i64_of(t.added_messages).into(),
        i64_of(t.added_tokens).into(),
        t.added_cost.into(),
        t.model_id.into(),
        t.mcp_config.map(Json::to_string).into(),
        t.now.into(),
        t.expires_at.into(),
        id.into(),
    ];
    if require_live {
        args.push(t.now.into());
    }
    (sql, args)
}

/// Up to `limit` expired sessions.
pub(crate) async fn expired_ids(db: &Db, now: i64, limit: i64) -> Result<Vec<String>> {
    let sql = "SELECT session_id FROM sessions WHERE expires_at <= ? LIMIT ?";
    let rows = db.fetch_all(sql, &[now.into(), limit.into()]).await?;
    Ok(rows.iter().filter_map(|r| r.str("session_id").map(str::to_string)).collect())
}

/// Deletes those of `ids` that are (still) expired; returns how many.
pub(crate) async fn delete_expired(db: &Db, ids: &[String], now: i64) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!("DELETE FROM sessions WHERE expires_at <= ? AND session_id IN ({})", marks(ids.len()));
    let mut args: Vec<Value> = Vec::with_capacity(ids.len() + 1);
    args.push(now.into());
    args.extend(ids.iter().map(|i| Value::from(i.as_str())));
    Ok(db.execute(&sql, &args).await?.rows_affected)
}

/// Which of `ids` have a metadata row.
pub(crate) async fn existing(db: &Db, ids: &[String]) -> Result<HashSet<String>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!("SELECT session_id FROM sessions WHERE session_id IN ({})", marks(ids.len()));
    let args: Vec<Value> = ids.iter().map(|i| Value::from(i.as_str())).collect();
    let rows = db.fetch_all(&sql, &args).await?;
    Ok(rows.iter().filter_map(|r| r.str("session_id").map(str::to_string)).collect())
}

/// One page (by primary key, after `after_id`) of sessions created before `created_before`:
/// `(id, session_id)`.
pub(crate) async fn older_page(db: &Db, after_id: i64, created_before: i64, limit: i64) -> Result<Vec<(i64, String)>> {
    let sql = "SELECT id, session_id FROM sessions WHERE id > ? AND created_at < ? ORDER BY id LIMIT ?";
    let rows = db.fetch_all(sql, &[after_id.into(), created_before.into(), limit.into()]).await?;
    Ok(rows.iter().filter_map(|r| Some((r.i64("id")?, r.str("session_id")?.to_string()))).collect())
}

/// Deletes those of `ids` created before `created_before`; returns how many.
pub(crate) async fn delete_older(db: &Db, ids: &[String], created_before: i64) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!("DELETE FROM sessions WHERE created_at < ? AND session_id IN ({})", marks(ids.len()));
    let mut args: Vec<Value> = Vec::with_capacity(ids.len() + 1);
    args.push(created_before.into());
    args.extend(ids.iter().map(|i| Value::from(i.as_str())));
    Ok(db.execute(&sql, &args).await?.rows_affected)
}

/// Deletes expired sessions in batches; `also` runs on each batch of removed ids (the Redis
/// store drops their keys). Returns how many sessions were removed.
pub(crate) async fn sweep_expired<F, Fut>(db: &Db, mut also: F) -> crate::Result<u64>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut removed = 0;
    loop {
        let now = now_ms();
        let ids = expired_ids(db, now, SWEEP_BATCH).await?;
        let full = ids.len() as i64 == SWEEP_BATCH;
        removed += delete_expired(db, &ids, now).await?;
        if !ids.is_empty() {
            also(ids).await;
        }
        if !full {
            return Ok(removed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_and_validated() {
        let id = new_id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(valid_id(&id));
        assert_ne!(id, new_id());
        for bad in ["", "a:b", "x*", "with space", "ü", &"a".repeat(65)] {
            assert!(!valid_id(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn placeholders() {
        assert_eq!(marks(1), "?");
        assert_eq!(marks(3), "?, ?, ?");
    }
}
