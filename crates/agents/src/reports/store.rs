//! Report rows: one per (project, period, period start), written by upsert on
//! that unique key.

use spgw_core::time::now_ms;
use spgw_store::repo::table;
use spgw_store::{Db, Row, StoreError, Value};

use super::period::Range;
use crate::error::{AgentError, Result};

/// Longest report content (the column is MEDIUMTEXT).
pub const MAX_CONTENT: usize = 4 * 1024 * 1024;

/// A report to write.
#[derive(Debug, Clone)]
pub struct NewReport<'a> {
    pub project_id: i64,
    pub agent_id: Option<i64>,
    pub range: Range,
    pub title: &'a str,
    pub content: &'a str,
}

fn check(r: &NewReport<'_>) -> Result<()> {
    if r.title.trim().is_empty() || r.title.chars().count() > 191 {
        return Err(AgentError::invalid("title", "must be 1-191 characters"));
    }
    if r.content.len() > MAX_CONTENT {
        return Err(AgentError::invalid("content", format!("longer than {MAX_CONTENT} bytes")));
    }
    Ok(())
}

/// The report of a project for a period, if there is one.
pub async fn find(db: &Db, project_id: i64, range: &Range) -> Result<Option<Row>> {
    Ok(db
        .fetch_optional(
            "SELECT * FROM reports WHERE project_id = ? AND period = ? AND period_start = ?",
            &[project_id.into(), range.period.as_str().into(), range.key().into()],
        )
        .await?)
}

/// Creates the report; a report for the same period is a conflict.
pub async fn create(db: &Db, r: &NewReport<'_>) -> Result<i64> {
    check(r)?;
    let now = now_ms();
    let cols = [
        ("project_id", Value::Int(r.project_id)),
        ("agent_id", r.agent_id.into()),
        ("title", r.title.into()),
        ("period", r.range.period.as_str().into()),
        ("period_start", r.range.key().into()),
        ("content", r.content.into()),
        ("created_at", Value::Int(now)),
        ("updated_at", Value::Int(now)),
    ];
    match table::insert(db, "reports", &cols).await {
        Ok(id) => Ok(id),
        Err(StoreError::Conflict(_)) => Err(AgentError::invalid(
            "period_start",
            format!(
                "a {} report for {} exists; use report.upsert to replace it",
                r.range.period.as_str(),
                r.range.key()
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Creates or replaces the report of the period; returns its id and whether it was created.
pub async fn upsert(db: &Db, r: &NewReport<'_>) -> Result<(i64, bool)> {
    check(r)?;
    for _ in 0..2 {
        if let Some(row) = find(db, r.project_id, &r.range).await? {
            let id = row.i64("id").unwrap_or_default();
            db.execute(
                "UPDATE reports SET title = ?, content = ?, agent_id = ?, updated_at = ? WHERE id = ?",
                &[r.title.into(), r.content.into(), r.agent_id.into(), now_ms().into(), id.into()],
            )
            .await?;
            return Ok((id, false));
        }
        match create(db, r).await {
            Ok(id) => return Ok((id, true)),
            // Created concurrently: the next round updates it.
            Err(AgentError::Invalid { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AgentError::Unavailable("the report changed concurrently; try again".into()))
}

/// Deletes a report of the project; false when there was none.
pub async fn delete(db: &Db, project_id: i64, id: i64) -> Result<bool> {
    let n = db.execute("DELETE FROM reports WHERE id = ? AND project_id = ?", &[id.into(), project_id.into()]).await?;
    Ok(n.rows_affected > 0)
}

/// The default title of a report.
pub fn title(range: &Range) -> String {
    match range.period {
        super::period::Period::Monthly => format!("Monthly report — {}", range.label()),
        super::period::Period::Annual => format!("Annual report — {}", range.label()),
    }
}
