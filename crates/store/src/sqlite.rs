//! SQLite backend: WAL journal, foreign keys on, a busy timeout so concurrent
//! writers wait instead of failing, and decoding by each value's storage class.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Column, Executor, Row as _, Sqlite, SqlitePool, TypeInfo, ValueRef};

use crate::db::{DbOptions, Exec};
use crate::value::{Row, Value, bind_all};
use crate::{Result, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub(crate) async fn connect(opts: &DbOptions) -> Result<SqlitePool> {
    let conn = SqliteConnectOptions::from_str(&opts.url)
        .map_err(|e| StoreError::Url(e.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    if let Some(parent) = conn.get_filename().parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::Url(format!("cannot create {parent:?}: {e}")))?;
    }
    Ok(SqlitePoolOptions::new()
        .max_connections(opts.max_open)
        .min_connections(opts.max_idle)
        .acquire_timeout(opts.connect_timeout)
        .connect_with(conn)
        .await?)
}

pub(crate) async fn migrate(pool: &SqlitePool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

pub(crate) async fn execute<'e, E>(e: E, sql: &str, args: &[Value]) -> Result<Exec>
where
    E: Executor<'e, Database = Sqlite>,
{
    let r = bind_all(sqlx::query(sql), args).execute(e).await?;
    Ok(Exec { rows_affected: r.rows_affected(), last_insert_id: r.last_insert_rowid() })
}

pub(crate) async fn fetch_all<'e, E>(e: E, sql: &str, args: &[Value]) -> Result<Vec<Row>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let mut rows = bind_all(sqlx::query(sql), args).fetch(e);
    let mut out = Vec::new();
    let mut columns: Option<Arc<[String]>> = None;
    while let Some(r) = rows.try_next().await? {
        let cols = columns.get_or_insert_with(|| r.columns().iter().map(|c| c.name().to_string()).collect());
        out.push(decode(&r, cols.clone())?);
    }
    Ok(out)
}

fn decode(r: &SqliteRow, columns: Arc<[String]>) -> Result<Row> {
    let mut values = Vec::with_capacity(columns.len());
    for i in 0..columns.len() {
        let raw = r.try_get_raw(i)?;
        if raw.is_null() {
            values.push(Value::Null);
            continue;
        }
        // The storage class of this value, not the column's declared type.
        let v = match raw.type_info().name() {
            "INTEGER" | "BOOLEAN" => Value::Int(r.try_get_unchecked::<i64, _>(i)?),
            "REAL" => Value::Float(r.try_get_unchecked::<f64, _>(i)?),
            "BLOB" => Value::Bytes(r.try_get_unchecked::<Vec<u8>, _>(i)?),
            _ => Value::Text(r.try_get_unchecked::<String, _>(i)?),
        };
        values.push(v);
    }
    Ok(Row::new(columns, values))
}
