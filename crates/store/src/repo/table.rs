//! Generic row operations for the resource API: insert, get, list with filters
//! and pagination, update, delete. Table and column names come only from the
//! API's static resource definitions, never from request input; values are
//! always bound.

use crate::value::{Row, Value};
use crate::{Db, Result, StoreError};

/// A condition in a WHERE clause.
#[derive(Debug, Clone)]
pub enum Filter {
    /// `column = value`.
    Eq(&'static str, Value),
    /// `column IS NULL`.
    IsNull(&'static str),
    /// `column IS NOT NULL`.
    NotNull(&'static str),
    /// A fragment of trusted SQL with its bound values (e.g. ownership scoping).
    Sql(&'static str, Vec<Value>),
}

fn where_clause(filters: &[Filter], sql: &mut String, args: &mut Vec<Value>) {
    for (i, f) in filters.iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        match f {
            Filter::Eq(c, v) => {
                sql.push_str(c);
                sql.push_str(" = ?");
                args.push(v.clone());
            }
            Filter::IsNull(c) => {
                sql.push_str(c);
                sql.push_str(" IS NULL");
            }
            Filter::NotNull(c) => {
                sql.push_str(c);
                sql.push_str(" IS NOT NULL");
            }
            Filter::Sql(s, vals) => {
                sql.push('(');
                sql.push_str(s);
                sql.push(')');
                args.extend(vals.iter().cloned());
            }
        }
    }
}

/// Inserts a row and returns its id.
pub async fn insert(db: &Db, table: &str, values: &[(&str, Value)]) -> Result<i64> {
    let (sql, args) = insert_sql(table, values);
    Ok(db.execute(&sql, &args).await?.last_insert_id)
}

/// Inserts a row inside a transaction and returns its id.
pub async fn insert_tx(tx: &mut crate::Tx, table: &str, values: &[(&str, Value)]) -> Result<i64> {
    let (sql, args) = insert_sql(table, values);
    Ok(tx.execute(&sql, &args).await?.last_insert_id)
}

fn insert_sql(table: &str, values: &[(&str, Value)]) -> (String, Vec<Value>) {
    let cols: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let marks = vec!["?"; values.len()].join(", ");
    let sql = format!("INSERT INTO {table} ({}) VALUES ({marks})", cols.join(", "));
    (sql, values.iter().map(|(_, v)| v.clone()).collect())
}

/// Updates the given columns of the rows matching `filters`; returns how many matched.
pub async fn update(db: &Db, table: &str, values: &[(&str, Value)], filters: &[Filter]) -> Result<u64> {
    let (sql, args) = update_sql(table, values, filters);
    Ok(db.execute(&sql, &args).await?.rows_affected)
}

/// [`update`] inside a transaction.
pub async fn update_tx(tx: &mut crate::Tx, table: &str, values: &[(&str, Value)], filters: &[Filter]) -> Result<u64> {
    let (sql, args) = update_sql(table, values, filters);
    Ok(tx.execute(&sql, &args).await?.rows_affected)
}

fn update_sql(table: &str, values: &[(&str, Value)], filters: &[Filter]) -> (String, Vec<Value>) {
    let sets: Vec<String> = values.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let mut sql = format!("UPDATE {table} SET {}", sets.join(", "));
    let mut args: Vec<Value> = values.iter().map(|(_, v)| v.clone()).collect();
    where_clause(filters, &mut sql, &mut args);
    (sql, args)
}

/// Deletes the rows matching `filters`; returns how many.
pub async fn delete(db: &Db, table: &str, filters: &[Filter]) -> Result<u64> {
    let mut sql = format!("DELETE FROM {table}");
    let mut args = Vec::new();
    where_clause(filters, &mut sql, &mut args);
    Ok(db.execute(&sql, &args).await?.rows_affected)
}

/// The first row matching `filters`.
pub async fn find(db: &Db, table: &str, filters: &[Filter]) -> Result<Option<Row>> {
    let mut sql = format!("SELECT * FROM {table}");
    let mut args = Vec::new();
    where_clause(filters, &mut sql, &mut args);
    sql.push_str(" LIMIT 1");
    db.fetch_optional(&sql, &args).await
}

/// The first row matching `filters`, or [`StoreError::NotFound`].
pub async fn get(db: &Db, table: &str, filters: &[Filter]) -> Result<Row> {
    find(db, table, filters).await?.ok_or(StoreError::NotFound)
}

/// One page of a listing and the number of matching rows (counted up to [`COUNT_CAP`]).
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<Row>,
    pub total: i64,
    /// `total` is a lower bound: at least that many rows match (more than [`COUNT_CAP`],
    /// or a next page exists for [`Listing::Log`]).
    pub capped: bool,
}

/// Listings count matching rows up to this many. Counting every row of a big
/// table (a million request-log rows) costs a full scan on every page (half a
/// second on InnoDB); a pager needs "more than 10,000" no less than the exact number.
pub const COUNT_CAP: i64 = 10_000;

/// The number of rows of `table` matching the `WHERE` clause `clause` (with
/// `args`), counted up to `COUNT_CAP + 1`; and whether that many match (more than
/// [`COUNT_CAP`]: the number is then a lower bound).
pub async fn count_capped(db: &Db, table: &str, clause: &str, args: &[Value]) -> Result<(i64, bool)> {
    let sql =
        format!("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM {table}{clause} LIMIT {}) capped", COUNT_CAP + 1);
    let n = db.fetch_optional(&sql, args).await?.and_then(|r| r.i64("n")).unwrap_or(0);
    Ok((n, n > COUNT_CAP))
}

/// A page read with `sql` (ending in `LIMIT ? OFFSET ?`; `args` without those two),
/// the matching rows counted up to [`COUNT_CAP`] in `table`/`clause` on a second
/// connection at the same time: the slower of the two, not their sum.
pub async fn page_counted(
    db: &Db,
    (table, clause): (&str, &str),
    sql: &str,
    args: &[Value],
    limit: i64,
    offset: i64,
) -> Result<Page> {
    let mut page_args = args.to_vec();
    page_args.push(Value::Int(limit));
    page_args.push(Value::Int(offset));
    let ((total, capped), rows) =
        futures::try_join!(count_capped(db, table, clause, args), db.fetch_all(sql, &page_args))?;
    Ok(Page { rows, total, capped })
}

/// A page read with `sql` (ending in `LIMIT ? OFFSET ?`; `args` without those two)
/// and not counted: one row past the page says whether there is more, and `total`
/// is then a lower bound (exact on the last page).
pub async fn page_ahead(db: &Db, sql: &str, args: &[Value], limit: i64, offset: i64) -> Result<Page> {
    let mut page_args = args.to_vec();
    page_args.push(Value::Int(limit + 1));
    page_args.push(Value::Int(offset));
    let mut rows = db.fetch_all(sql, &page_args).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let total = offset + rows.len() as i64 + i64::from(more);
    Ok(Page { rows, total, capped: more })
}

/// How a listing is ordered and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Newest id first; matching rows counted up to [`COUNT_CAP`].
    Counted,
    /// For an append-only log of millions of rows: newest `created_at` first (the
    /// column every index of such a table ends with, so a filter on an index's
    /// leading column reads in order and stops after one page), and not counted: one
    /// row past the page says whether there is more (`total` is then a lower bound).
    /// Counting a sparse filter would scan the whole table however it is bounded.
    Log,
}

/// Lists rows matching `filters`, newest first, with `limit`/`offset`.
pub async fn list(db: &Db, table: &str, filters: &[Filter], limit: i64, offset: i64) -> Result<Page> {
    list_as(db, table, filters, limit, offset, Listing::Counted).await
}

/// [`list`] with the ordering and counting of `how`.
pub async fn list_as(db: &Db, table: &str, filters: &[Filter], limit: i64, offset: i64, how: Listing) -> Result<Page> {
    let mut base = String::new();
    let mut args = Vec::new();
    where_clause(filters, &mut base, &mut args);
    match how {
        Listing::Counted => {
            let sql = format!("SELECT * FROM {table}{base} ORDER BY id DESC LIMIT ? OFFSET ?");
            page_counted(db, (table, &base), &sql, &args, limit, offset).await
        }
        Listing::Log => {
            let sql = match db.backend() {
                // InnoDB: the page's ids come from the secondary index alone and only those
                // rows are read whole, so a deep page (offset 10,000) does not fetch the
                // 10,000 rows it skips (9 ms, and 0.7 s when they are not cached, before).
                crate::Backend::MySql => format!(
                    "SELECT t.* FROM {table} t JOIN (SELECT id FROM {table}{base} \
                     ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?) page ON t.id = page.id \
                     ORDER BY t.created_at DESC, t.id DESC"
                ),
                // SQLite skips by rowid cheaply, and a bound LIMIT inside a subquery would
                // make it materialise the whole ordered index (30 ms on a million rows).
                crate::Backend::Sqlite => {
                    format!("SELECT * FROM {table}{base} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?")
                }
            };
            page_ahead(db, &sql, &args, limit, offset).await
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// 10,050 request-log rows in a fresh SQLite file: row n was created at n ms.
    async fn seeded() -> crate::TempSqlite {
        let t = crate::TempSqlite::new("table").await.unwrap();
        let db = &t.db;
        db.execute(
            "INSERT INTO request_log (request_id, endpoint, provider, model, status_code, created_at) \
             WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 10050) \
             SELECT 'r' || n, 'chat', CASE WHEN n % 2 = 0 THEN 'openai' ELSE 'google' END, 'm', \
             CASE WHEN n % 1000 = 0 THEN 502 ELSE 200 END, n FROM seq",
            &[],
        )
        .await
        .unwrap();
        t
    }

    #[tokio::test]
    async fn counts_stop_at_the_cap_and_logs_look_one_page_ahead() {
        let t = seeded().await;
        let db = &t.db;
        let page = list(db, "request_log", &[], 20, 0).await.unwrap();
        assert_eq!((page.total, page.capped, page.rows.len()), (COUNT_CAP + 1, true, 20));
        let few = list(db, "request_log", &[Filter::Eq("status_code", 502.into())], 20, 0).await.unwrap();
        assert_eq!((few.total, few.capped), (10, false), "under the cap the count is exact");

        // A log: newest first, no count, one row past the page says there is more.
        let first = list_as(db, "request_log", &[], 50, 0, Listing::Log).await.unwrap();
        assert_eq!((first.total, first.capped, first.rows.len()), (51, true, 50));
        assert_eq!(first.rows[0].i64("created_at"), Some(10050));
        let google = [Filter::Eq("provider", "google".into())];
        let last = list_as(db, "request_log", &google, 50, 5000, Listing::Log).await.unwrap();
        assert_eq!((last.total, last.capped, last.rows.len()), (5025, false, 25), "the last page is exact");
        assert_eq!(last.rows.last().unwrap().i64("created_at"), Some(1));
        db.close().await;
    }
}
