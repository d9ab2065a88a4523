//! Credentials checked on every request: gateway API keys and login sessions.

use spgw_core::time::now_ms;

use super::users::UserRecord;
use crate::value::Value;
use crate::{Db, Result};

/// Who a valid API key or session token belongs to.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: String,
    /// The key used, when authenticated by API key.
    pub api_key_id: Option<i64>,
}

/// Finds the live (not revoked, not expired, user enabled) key with this hash.
pub async fn principal_for_key_hash(db: &Db, key_hash: &str) -> Result<Option<Principal>> {
    let sql = "SELECT k.id AS key_id, u.id AS user_id, u.username, u.role \
               FROM gateway_api_keys k JOIN users u ON u.id = k.user_id \
               WHERE k.key_hash = ? AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?) \
               AND u.enabled = 1";
    let row = db.fetch_optional(sql, &[key_hash.into(), now_ms().into()]).await?;
    Ok(row.map(|r| Principal {
        user_id: r.i64("user_id").unwrap_or_default(),
        username: r.str("username").unwrap_or_default().to_string(),
        role: r.str("role").unwrap_or("user").to_string(),
        api_key_id: r.i64("key_id"),
    }))
}

/// Records that a key was used (best effort, called off the request path).
pub async fn touch_key(db: &Db, key_id: i64) -> Result<()> {
    db.execute("UPDATE gateway_api_keys SET last_used_at = ? WHERE id = ?", &[now_ms().into(), key_id.into()]).await?;
    Ok(())
}

/// Stores a login session (by token hash) that expires at `expires_at` ms.
pub async fn create_session(db: &Db, token_hash: &str, user: &UserRecord, expires_at: i64) -> Result<()> {
    let values: [(&str, Value); 4] = [
        ("token_hash", token_hash.into()),
        ("user_id", user.id.into()),
        ("expires_at", expires_at.into()),
        ("created_at", now_ms().into()),
    ];
    super::table::insert(db, "user_sessions", &values).await.map(|_| ())
}

/// The user of a live login session.
pub async fn principal_for_session(db: &Db, token_hash: &str) -> Result<Option<Principal>> {
    let sql = "SELECT u.id AS user_id, u.username, u.role FROM user_sessions s JOIN users u ON u.id = s.user_id \
               WHERE s.token_hash = ? AND s.expires_at > ? AND u.enabled = 1";
    let row = db.fetch_optional(sql, &[token_hash.into(), now_ms().into()]).await?;
    Ok(row.map(|r| Principal {
        user_id: r.i64("user_id").unwrap_or_default(),
        username: r.str("username").unwrap_or_default().to_string(),
        role: r.str("role").unwrap_or("user").to_string(),
        api_key_id: None,
    }))
}

/// Ends a login session.
pub async fn delete_session(db: &Db, token_hash: &str) -> Result<()> {
    db.execute("DELETE FROM user_sessions WHERE token_hash = ?", &[token_hash.into()]).await?;
    Ok(())
}

/// Removes expired login sessions; returns how many.
pub async fn sweep_sessions(db: &Db) -> Result<u64> {
    Ok(db.execute("DELETE FROM user_sessions WHERE expires_at <= ?", &[now_ms().into()]).await?.rows_affected)
}
