//! The storage error enum; the API maps it to HTTP once.

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (→ 409).
    #[error("already exists ({0})")]
    Conflict(String),
    /// A referenced row does not exist, or a row is still referenced (→ 409/422).
    #[error("a referenced row does not exist or is still in use ({0})")]
    ForeignKey(String),
    /// The row is not there (→ 404).
    #[error("not found")]
    NotFound,
    /// An unsupported or malformed database URL.
    #[error("database.url: {0}")]
    Url(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Anything else from the driver (connection lost, syntax, ...).
    #[error("database error: {0}")]
    Db(sqlx::Error),
    /// A value in the database could not be read as expected.
    #[error("unexpected stored value in column {0}")]
    Decode(String),
}

impl StoreError {
    /// Whether the same statement or transaction may succeed if simply tried again:
    /// a MySQL deadlock or lock-wait timeout, a busy or locked SQLite database, a pool
    /// that had no free connection in time, or a dropped connection.
    pub fn is_transient(&self) -> bool {
        let StoreError::Db(e) = self else { return false };
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
            sqlx::Error::Database(db) => {
                if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                    // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
                    return matches!(my.number(), 1213 | 1205);
                }
                // SQLite reports its (extended) result code; the primary code is the low byte.
                let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
                matches!(code & 0xff, 5 | 6) // SQLITE_BUSY, SQLITE_LOCKED
            }
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            let detail = db.constraint().map(str::to_owned).unwrap_or_else(|| db.message().to_owned());
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => return StoreError::Conflict(detail),
                sqlx::error::ErrorKind::ForeignKeyViolation => return StoreError::ForeignKey(detail),
                _ => {}
            }
        }
        if matches!(e, sqlx::Error::RowNotFound) {
            return StoreError::NotFound;
        }
        StoreError::Db(e)
    }
}
