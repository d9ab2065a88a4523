//! MySQL / MariaDB backend: utf8mb4, UTC session time zone, decoding by the
//! column type the server reports.

use std::str::FromStr;
use std::sync::Arc;

use futures::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions, MySqlRow};
use sqlx::{Column, Executor, MySql, MySqlPool, Row as _, TypeInfo, ValueRef};

use crate::db::{DbOptions, Exec};
use crate::value::{Row, Value, bind_all};
use crate::{Result, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/mysql");

pub(crate) async fn connect(opts: &DbOptions) -> Result<MySqlPool> {
    let url = match opts.url.strip_prefix("mariadb:") {
        Some(rest) => format!("mysql:{rest}"),
        None => opts.url.clone(),
    };
    let conn = MySqlConnectOptions::from_str(&url)
        .map_err(|e| StoreError::Url(e.to_string()))?
        .charset("utf8mb4")
        .timezone(Some("+00:00".to_string()));
    Ok(MySqlPoolOptions::new()
        .max_connections(opts.max_open)
        .min_connections(opts.max_idle)
        .acquire_timeout(opts.connect_timeout)
        .connect_with(conn)
        .await?)
}

pub(crate) async fn migrate(pool: &MySqlPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

pub(crate) async fn execute<'e, E>(e: E, sql: &str, args: &[Value]) -> Result<Exec>
where
    E: Executor<'e, Database = MySql>,
{
    let r = bind_all(sqlx::query(sql), args).execute(e).await?;
    Ok(Exec { rows_affected: r.rows_affected(), last_insert_id: r.last_insert_id() as i64 })
}

pub(crate) async fn fetch_all<'e, E>(e: E, sql: &str, args: &[Value]) -> Result<Vec<Row>>
where
    E: Executor<'e, Database = MySql>,
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

fn decode(r: &MySqlRow, columns: Arc<[String]>) -> Result<Row> {
    let mut values = Vec::with_capacity(columns.len());
    for (i, name) in columns.iter().enumerate() {
        let raw = r.try_get_raw(i)?;
        if raw.is_null() {
            values.push(Value::Null);
            continue;
        }
        let ty = raw.type_info().name().to_string();
        let v = if ty == "BOOLEAN" {
            Value::Int(r.try_get_unchecked::<bool, _>(i)? as i64)
        } else if ty.ends_with("UNSIGNED") {
            Value::Int(r.try_get_unchecked::<u64, _>(i)? as i64)
        } else if ty.contains("INT") {
            Value::Int(r.try_get_unchecked::<i64, _>(i)?)
        } else if ty == "DOUBLE" {
            Value::Float(r.try_get_unchecked::<f64, _>(i)?)
        } else if ty == "FLOAT" {
            Value::Float(r.try_get_unchecked::<f32, _>(i)? as f64)
        } else if ty == "DECIMAL" {
            // SUM() over integers comes back as DECIMAL.
            let s = r.try_get_unchecked::<String, _>(i)?;
            match s.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => Value::Float(s.parse().map_err(|_| StoreError::Decode(name.clone()))?),
            }
        } else if ty.contains("BLOB") || ty.contains("BINARY") {
            Value::Bytes(r.try_get_unchecked::<Vec<u8>, _>(i)?)
        } else {
            Value::Text(r.try_get_unchecked::<String, _>(i)?)
        };
        values.push(v);
    }
    Ok(Row::new(columns, values))
}
