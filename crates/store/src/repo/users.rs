//! Users.

use spgw_core::time::now_ms;

use crate::value::{Row, Value};
use crate::{Db, Result};

/// A user as the authentication layer needs it.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub enabled: bool,
    pub password_hash: String,
}

impl UserRecord {
    fn from_row(r: &Row) -> Self {
        UserRecord {
            id: r.i64("id").unwrap_or_default(),
            username: r.str("username").unwrap_or_default().to_string(),
            role: r.str("role").unwrap_or("user").to_string(),
            enabled: r.bool("enabled"),
            password_hash: r.str("password_hash").unwrap_or_default().to_string(),
        }
    }
}

/// Looks a user up by name.
pub async fn by_username(db: &Db, username: &str) -> Result<Option<UserRecord>> {
    let row = db.fetch_optional("SELECT * FROM users WHERE username = ?", &[username.into()]).await?;
    Ok(row.as_ref().map(UserRecord::from_row))
}

/// Looks a user up by id.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<UserRecord>> {
    let row = db.fetch_optional("SELECT * FROM users WHERE id = ?", &[id.into()]).await?;
    Ok(row.as_ref().map(UserRecord::from_row))
}

/// How many users exist (first-start detection).
pub async fn count(db: &Db) -> Result<i64> {
    Ok(db.fetch_optional("SELECT COUNT(*) AS n FROM users", &[]).await?.and_then(|r| r.i64("n")).unwrap_or(0))
}

/// Creates a user with an already-hashed password; returns its id.
pub async fn create(db: &Db, username: &str, password_hash: &str, role: &str, email: Option<&str>) -> Result<i64> {
    let now = now_ms();
    let values: [(&str, Value); 6] = [
        ("username", username.into()),
        ("password_hash", password_hash.into()),
        ("role", role.into()),
        ("email", email.into()),
        ("created_at", now.into()),
        ("updated_at", now.into()),
    ];
    super::table::insert(db, "users", &values).await
}
