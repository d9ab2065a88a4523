//! The firing ledger: one `schedule_firings` row per (schedule, slot). Its unique key
//! is the last line of defence against a slot firing twice: whichever process inserts
//! the row first owns the slot, across restarts and across gateway processes.

use serde::Serialize;
use spgw_core::time::now_ms;
use spgw_store::{Db, StoreError, Tx, Value};

use crate::error::Result;

/// What happened at a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It fired (a run was created).
    Fired,
    /// It passed while no gateway was running and the missed-run policy did not run it.
    Missed,
    /// It was due but did not run (its `when` condition was false, or the previous run was unfinished).
    Skipped,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Fired => "fired",
            Outcome::Missed => "missed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// The ledger key of a task's schedule.
pub fn task_key(task_id: i64) -> String {
    format!("task:{task_id}")
}

/// The ledger key of a trigger's schedule.
pub fn trigger_key(trigger_id: i64) -> String {
    format!("trigger:{trigger_id}")
}

/// Claims `slot` of `key` inside `tx`. `Ok(false)` when the slot is already in the
/// ledger: someone else fired (or recorded) it, and the caller must not run it.
pub async fn claim(
    tx: &mut Tx,
    key: &str,
    slot: i64,
    outcome: Outcome,
    reason: Option<&str>,
    worker: &str,
) -> Result<bool> {
    let r = tx
        .execute(
            "INSERT INTO schedule_firings (schedule_key, slot, outcome, reason, worker, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            &[key.into(), slot.into(), outcome.as_str().into(), reason.into(), worker.into(), now_ms().into()],
        )
        .await;
    match r {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Links a claimed slot to the task it created.
pub async fn link(tx: &mut Tx, key: &str, slot: i64, task_id: i64) -> Result<()> {
    tx.execute(
        "UPDATE schedule_firings SET task_id = ? WHERE schedule_key = ? AND slot = ?",
        &[task_id.into(), key.into(), slot.into()],
    )
    .await?;
    Ok(())
}

/// One ledger row, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Firing {
    pub slot: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub task_id: Option<i64>,
    pub worker: String,
    pub created_at: String,
}

/// The latest `limit` ledger rows of a schedule, newest slot first.
pub async fn list(db: &Db, key: &str, limit: i64) -> Result<Vec<Firing>> {
    let rows = db
        .fetch_all(
            "SELECT * FROM schedule_firings WHERE schedule_key = ? ORDER BY slot DESC LIMIT ?",
            &[key.into(), Value::Int(limit.clamp(1, 1000))],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Firing {
            slot: spgw_core::time::to_rfc3339(r.i64("slot").unwrap_or_default()),
            outcome: r.str("outcome").unwrap_or_default().to_string(),
            reason: r.str("reason").map(str::to_owned),
            task_id: r.i64("task_id"),
            worker: r.str("worker").unwrap_or_default().to_string(),
            created_at: spgw_core::time::to_rfc3339(r.i64("created_at").unwrap_or_default()),
        })
        .collect())
}

/// Rewrites a claimed slot's outcome once known (a trigger refused by its cooldown, say).
pub async fn settle(
    tx: &mut Tx,
    key: &str,
    slot: i64,
    outcome: Outcome,
    reason: Option<&str>,
    task_id: Option<i64>,
) -> Result<()> {
    tx.execute(
        "UPDATE schedule_firings SET outcome = ?, reason = ?, task_id = ? WHERE schedule_key = ? AND slot = ?",
        &[outcome.as_str().into(), reason.into(), task_id.into(), key.into(), slot.into()],
    )
    .await?;
    Ok(())
}
