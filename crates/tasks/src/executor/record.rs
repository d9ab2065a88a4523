//! Recording how a run ended: status transitions, retries with backoff, spend, the
//! run row; and releasing leases on shutdown.

use std::time::Duration;

use rand::Rng;
use spgw_core::time::{now_ms, to_rfc3339};
use spgw_store::{Tx, Value};

use super::Executor;
use crate::error::Result;
use crate::model::TaskRow;
use crate::runner::{RunStatus, TaskOutcome};

/// How often writing a run's outcome is tried again after a transient storage error
/// (waiting 50 ms, doubling up to 3.2 s: ~6 s in all).
const RECORD_RETRIES: u32 = 7;
const RECORD_BACKOFF: (Duration, Duration) = (Duration::from_millis(50), Duration::from_millis(3_200));

/// Delay before retry number `attempt` (1 = the first retry): doubling from `base`,
/// capped at `max`, with ±20 % jitter so a burst of failures does not retry in step.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(max);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    capped.mul_f64(jitter)
}

impl Executor {
    /// Writes the outcome of attempt `task.attempts`, if this process still holds the task.
    ///
    /// All of it is one transaction, tried again on a transient storage error (a MySQL
    /// deadlock with a concurrent claim, a busy SQLite file): an outcome that failed to be
    /// written would leave the task `running` until its lease expired and then run it again.
    pub(super) async fn record(&self, task: &TaskRow, run_id: i64, o: &TaskOutcome) -> Result<()> {
        let mut attempt = 0u32;
        loop {
            let tried = async {
                let mut tx = self.db.begin().await?;
                let status = self.record_in(&mut tx, task, run_id, o).await?;
                tx.commit().await?;
                Ok::<_, crate::TaskError>(status)
            };
            match tried.await {
                Ok(status) => {
                    tracing::info!(task_id = task.id, attempt = task.attempts, status, "task run ended");
                    return Ok(());
                }
                Err(e) if e.is_transient() && attempt < RECORD_RETRIES => {
                    attempt += 1;
                    tracing::warn!(task_id = task.id, error = %e, attempt, "recording the outcome failed; retrying");
                    tokio::time::sleep(backoff(RECORD_BACKOFF.0, RECORD_BACKOFF.1, attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The writes of [`Self::record`]; returns the run's final status.
    async fn record_in(&self, tx: &mut Tx, task: &TaskRow, run_id: i64, o: &TaskOutcome) -> Result<&'static str> {
        // Lock order as in a claim (project row, then task rows): otherwise this update and
        // a claim in the same project deadlock on MySQL (FK check vs. index gap lock).
        super::claim::lock_project(tx, self.db.backend(), task.project_id).await?;
        let now = now_ms();
        // Spend is real whatever happened to the lease: always count it.
        tx.execute(
            "UPDATE tasks SET tokens_used = tokens_used + ?, cost_usd = cost_usd + ?, \
                 session_id = COALESCE(?, session_id) WHERE id = ?",
            &[
                (o.tokens.min(i64::MAX as u64) as i64).into(),
                o.cost_usd.into(),
                o.session_id.clone().into(),
                task.id.into(),
            ],
        )
        .await?;
        let error = o.error.clone().filter(|e| !e.is_empty());
        let output = Some(o.output.clone()).filter(|s| !s.is_empty());
        let retry = o.status == RunStatus::Failed && task.attempts < task.max_attempts;
        let (status, reason, next_run, finished): (&str, Option<String>, Option<i64>, Option<i64>) = match o.status {
            RunStatus::Completed => ("completed", None, None, Some(now)),
            RunStatus::Failed if retry => {
                let base =
                    Duration::from_millis(self.retry_base_ms.load(std::sync::atomic::Ordering::Relaxed).max(0) as u64);
                let delay = backoff(base, self.opts.retry_max, task.attempts as u32);
                let at = now + delay.as_millis() as i64;
                let why = format!(
                    "retrying at {} (attempt {} of {}) after: {}",
                    to_rfc3339(at),
                    task.attempts + 1,
                    task.max_attempts,
                    error.as_deref().unwrap_or("failure")
                );
                ("pending", Some(why), Some(at), None)
            }
            RunStatus::Failed => ("failed", None, None, Some(now)),
            RunStatus::Blocked => (
                "failed",
                Some(format!("stopped by a guard: {}", error.as_deref().unwrap_or("limit reached"))),
                None,
                Some(now),
            ),
            RunStatus::Cancelled => ("cancelled", Some("the run was cancelled".into()), None, Some(now)),
        };
        let won = tx
            .execute(
                "UPDATE tasks SET status = ?, status_reason = ?, output = COALESCE(?, output), error = ?, \
                 next_run_at = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? \
                 WHERE id = ? AND lease_owner = ? AND attempts = ? AND status = 'running'",
                &[
                    status.into(),
                    reason.into(),
                    output.into(),
                    error.clone().into(),
                    next_run.into(),
                    finished.into(),
                    now.into(),
                    task.id.into(),
                    self.worker.as_str().into(),
                    task.attempts.into(),
                ],
            )
            .await?
            .rows_affected
            == 1;
        let run_status = if won {
            match o.status {
                RunStatus::Completed => "completed",
                RunStatus::Failed => "failed",
                RunStatus::Blocked => "blocked",
                RunStatus::Cancelled => "cancelled",
            }
        } else {
            // The task was finished by a skill, cancelled, or taken over: leave its state alone.
            let released = tx
                .execute(
                    "UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ? \
                     AND attempts = ?",
                    &[task.id.into(), self.worker.as_str().into(), task.attempts.into()],
                )
                .await?
                .rows_affected;
            let now_status = tx
                .fetch_optional("SELECT status FROM tasks WHERE id = ?", &[task.id.into()])
                .await?
                .and_then(|r| r.str("status").map(str::to_owned));
            match (released, now_status.as_deref()) {
                (0, _) => "lost",
                (_, Some("cancelled")) => "cancelled",
                _ => match o.status {
                    RunStatus::Completed => "completed",
                    RunStatus::Failed => "failed",
                    RunStatus::Blocked => "blocked",
                    RunStatus::Cancelled => "cancelled",
                },
            }
        };
        tx.execute(
            "UPDATE task_runs SET status = ?, error = ?, tokens = ?, cost_usd = ?, session_id = ?, finished_at = ? \
                 WHERE id = ?",
            &[
                run_status.into(),
                error.into(),
                (o.tokens.min(i64::MAX as u64) as i64).into(),
                o.cost_usd.into(),
                o.session_id.clone().into(),
                now.into(),
                run_id.into(),
            ],
        )
        .await?;
        Ok(run_status)
    }

    /// Hands every in-flight task back to the queue (shutdown past the grace period):
    /// another process, or this one after restart, runs it again.
    pub(super) async fn release_all(&self) {
        let mine: Vec<(i64, i64, i64)> = match self.inflight.lock() {
            Ok(m) => m
                .iter()
                .map(|(id, r)| {
                    r.cancel.cancel();
                    (*id, r.attempt, r.run_id)
                })
                .collect(),
            Err(_) => return,
        };
        let now = now_ms();
        for (id, attempt, run_id) in mine {
            let r = self
                .db
                .execute(
                    "UPDATE tasks SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, \
                     status_reason = 'released by a stopping gateway; waiting for another', updated_at = ? \
                     WHERE id = ? AND lease_owner = ? AND attempts = ? AND status = 'running'",
                    &[now.into(), id.into(), self.worker.as_str().into(), attempt.into()],
                )
                .await;
            let r2 = self
                .db
                .execute(
                    "UPDATE task_runs SET status = 'released', finished_at = ? WHERE id = ? AND status = 'running'",
                    &[now.into(), Value::Int(run_id)],
                )
                .await;
            if let Err(e) = r.and(r2) {
                tracing::warn!(task_id = id, error = %e, "cannot release a task lease; it will expire instead");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(60);
        for (attempt, expected) in [(1u32, 2.0f64), (2, 4.0), (3, 8.0), (10, 60.0), (40, 60.0)] {
            let d = backoff(base, max, attempt).as_secs_f64();
            assert!(d >= expected * 0.8 && d <= expected * 1.2, "attempt {attempt}: {d}");
        }
    }
}
