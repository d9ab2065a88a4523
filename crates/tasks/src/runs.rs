//! Run history: one `task_runs` row per attempt.

use serde::Serialize;
use spgw_core::time::to_rfc3339;
use spgw_store::Db;

use crate::error::Result;

/// One attempt to run a task.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub task_id: i64,
    pub attempt: i64,
    pub agent_id: Option<i64>,
    /// The gateway process that ran it.
    pub worker: String,
    /// `running`, `completed`, `failed`, `blocked`, `cancelled`, `lost` (its process stopped
    /// answering and another took over) or `released` (handed back on shutdown).
    pub status: String,
    pub error: Option<String>,
    pub tokens: i64,
    pub cost_usd: f64,
    pub session_id: Option<String>,
    /// The schedule slot of the occurrence it ran, for recurring tasks.
    pub slot: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// Runs of a task, newest first; for a recurring task also the runs of its occurrences.
pub async fn list(db: &Db, task_id: i64, limit: i64) -> Result<Vec<RunRow>> {
    let rows = db
        .fetch_all(
            "SELECT r.*, t.schedule_slot FROM task_runs r JOIN tasks t ON t.id = r.task_id \
             WHERE r.task_id = ? OR (t.parent_task_id = ? AND t.schedule_slot IS NOT NULL) \
             ORDER BY r.id DESC LIMIT ?",
            &[task_id.into(), task_id.into(), limit.clamp(1, 1000).into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| RunRow {
            id: r.i64("id").unwrap_or_default(),
            task_id: r.i64("task_id").unwrap_or_default(),
            attempt: r.i64("attempt").unwrap_or_default(),
            agent_id: r.i64("agent_id"),
            worker: r.str("worker").unwrap_or_default().to_string(),
            status: r.str("status").unwrap_or_default().to_string(),
            error: r.str("error").map(str::to_owned),
            tokens: r.i64("tokens").unwrap_or_default(),
            cost_usd: r.f64("cost_usd").unwrap_or_default(),
            session_id: r.str("session_id").map(str::to_owned),
            slot: r.i64("schedule_slot").map(to_rfc3339),
            started_at: to_rfc3339(r.i64("started_at").unwrap_or_default()),
            finished_at: r.i64("finished_at").map(to_rfc3339),
        })
        .collect())
}
