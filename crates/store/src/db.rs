//! The database handle, one pool per backend behind one type.

use std::time::Duration;

use crate::value::{Row, Value};
use crate::{Result, StoreError, mysql, sqlite};

/// Which backend a [`Db`] talks to, for the rare SQL that differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MySql,
}

/// Pool settings (from the `database` configuration section).
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub url: String,
    pub max_open: u32,
    pub max_idle: u32,
    pub connect_timeout: Duration,
}

/// Outcome of a write.
#[derive(Debug, Clone, Copy)]
pub struct Exec {
    pub rows_affected: u64,
    pub last_insert_id: i64,
}

/// A cloneable handle to the database.
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
}

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    MySql(sqlx::MySqlPool),
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
}

impl Db {
    /// Connects by URL scheme: `sqlite:` or `mysql:`/`mariadb:`.
    pub async fn connect(opts: &DbOptions) -> Result<Db> {
        let pool = match opts.url.split_once(':').map(|(s, _)| s) {
            Some("sqlite") => Pool::Sqlite(sqlite::connect(opts).await?),
            Some("mysql") | Some("mariadb") => Pool::MySql(mysql::connect(opts).await?),
            _ => return Err(StoreError::Url(format!("unsupported scheme in {}", redact_url(&opts.url)))),
        };
        Ok(Db { pool })
    }

    /// Applies pending migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlite::migrate(p).await,
            Pool::MySql(p) => mysql::migrate(p).await,
        }
    }

    /// The backend behind this handle.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::MySql(_) => Backend::MySql,
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.fetch_optional("SELECT 1 AS one", &[]).await.map(|_| ())
    }

    /// Runs a write.
    pub async fn execute(&self, sql: &str, args: &[Value]) -> Result<Exec> {
        match &self.pool {
            Pool::Sqlite(p) => sqlite::execute(p, sql, args).await,
            Pool::MySql(p) => mysql::execute(p, sql, args).await,
        }
    }

    /// Runs a query and returns every row.
    pub async fn fetch_all(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        match &self.pool {
            Pool::Sqlite(p) => sqlite::fetch_all(p, sql, args).await,
            Pool::MySql(p) => mysql::fetch_all(p, sql, args).await,
        }
    }

    /// Runs a query and returns the first row, if any.
    pub async fn fetch_optional(&self, sql: &str, args: &[Value]) -> Result<Option<Row>> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::MySql(p) => Tx::MySql(p.begin().await?),
        })
    }

    /// Closes the pool (graceful shutdown).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
        }
    }
}

impl Tx {
    /// Runs a write inside the transaction.
    pub async fn execute(&mut self, sql: &str, args: &[Value]) -> Result<Exec> {
        match self {
            Tx::Sqlite(t) => sqlite::execute(&mut **t, sql, args).await,
            Tx::MySql(t) => mysql::execute(&mut **t, sql, args).await,
        }
    }

    /// Runs a query inside the transaction.
    pub async fn fetch_all(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        match self {
            Tx::Sqlite(t) => sqlite::fetch_all(&mut **t, sql, args).await,
            Tx::MySql(t) => mysql::fetch_all(&mut **t, sql, args).await,
        }
    }

    /// The first row of a query inside the transaction.
    pub async fn fetch_optional(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    /// Makes the transaction's writes permanent.
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::MySql(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
