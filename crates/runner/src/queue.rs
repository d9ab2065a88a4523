//! The run queue. Claims are compare-and-set updates (`... WHERE status =
//! 'queued'`), so any number of runners on any number of machines can poll the
//! same table; a claim holds a lease that heartbeats renew. A run whose lease
//! expires is re-queued once (`runner.max_attempts`) or failed with the reason:
//! never left running.

use serde::Deserialize;
use spgw_core::time::now_ms;
use spgw_store::Value;

use crate::commands;
use crate::error::{Result, RunnerError};
use crate::service::{MAX_TIMEOUT_SECONDS, Runs, settings};
use crate::types::{Codebase, Job, Outcome, Run, RunKind, RunStatus};

/// The body of `POST /api/v1/codebases/{id}/tasks`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    /// `lint`, `test`, `build` or `custom`.
    pub kind: String,
    /// Overrides the codebase's command for this kind; required for `custom`.
    pub command: Option<String>,
    /// Only runners carrying all these tags may claim the run.
    pub assigned_tags: Option<Vec<String>>,
    pub timeout_seconds: Option<i64>,
    /// Fetch and hard-reset the checkout before running (default true); false runs on the
    /// workspace as it is (e.g. on an agent's uncommitted edits).
    pub sync: Option<bool>,
}

/// What a heartbeat tells the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Heartbeat {
    /// Someone asked to cancel the run: stop it and finish it as `cancelled`.
    pub cancel_requested: bool,
    pub lease_expires_at: i64,
}

fn clean_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in tags.iter().map(|t| t.trim()) {
        if t.is_empty() || t.len() > 64 || t.contains(',') {
            return Err(RunnerError::invalid("assigned_tags", "tags are 1 to 64 characters, without commas"));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    if out.len() > 32 {
        return Err(RunnerError::invalid("assigned_tags", "at most 32 tags"));
    }
    Ok(out)
}

/// Whether a runner with `runner_tags` may take a run with `run_tags` (a subset).
pub fn tags_match(run_tags: &[String], runner_tags: &[String]) -> bool {
    run_tags.iter().all(|t| runner_tags.iter().any(|r| r == t))
}

impl Runs {
    /// Queues a run on a codebase; the command is resolved now and stored with the run.
    pub async fn queue(&self, cb: &Codebase, req: &NewRun, requested_by: Option<i64>) -> Result<Run> {
        let kind = RunKind::parse(req.kind.trim())
            .ok_or_else(|| RunnerError::invalid("kind", "must be one of lint, test, build, custom"))?;
        if !cb.enabled {
            return Err(RunnerError::Conflict(format!("codebase {} is disabled", cb.id)));
        }
        cb.runner().map_err(|e| RunnerError::invalid("runtime_config.runner", e.to_string()))?;
        let command =
            commands::resolve(kind, req.command.as_deref(), &cb.runtime_config, cb.preferred_stack.as_deref())?;
        let tags = clean_tags(req.assigned_tags.as_deref().unwrap_or_default())?;
        let timeout = match req.timeout_seconds {
            Some(t) if !(1..=MAX_TIMEOUT_SECONDS).contains(&t) => {
                return Err(RunnerError::invalid("timeout_seconds", format!("must be 1 to {MAX_TIMEOUT_SECONDS}")));
            }
            Some(t) => t,
            None => self.setting(settings::DEFAULT_TIMEOUT_SECONDS).await.clamp(1, MAX_TIMEOUT_SECONDS),
        };
        let now = now_ms();
        let sync = req.sync.unwrap_or(true);
        let tags_json = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into());
        let id = spgw_store::repo::table::insert(
            &self.0.db,
            "codebase_runs",
            &[
                ("codebase_id", cb.id.into()),
                ("kind", kind.as_str().into()),
                ("command", command.as_str().into()),
                ("assigned_tags", tags_json.into()),
                ("status", "queued".into()),
                ("timeout_seconds", timeout.into()),
                ("sync_workspace", sync.into()),
                ("requested_by", requested_by.into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await?;
        self.0.queued.notify_waiters();
        // The row as inserted: a runner may already have claimed it, but the answer is "queued".
        Ok(Run {
            id,
            codebase_id: cb.id,
            kind: kind.as_str().to_string(),
            command,
            assigned_tags: tags,
            status: RunStatus::Queued,
            exit_code: None,
            error: None,
            runner_id: None,
            lease_expires_at: None,
            log_bytes: 0,
            log_truncated: false,
            attempts: 0,
            timeout_seconds: timeout,
            sync_workspace: sync,
            cancel_requested: false,
            requested_by,
            started_at: None,
            finished_at: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// One run by id.
    pub async fn run(&self, run_id: i64) -> Result<Option<Run>> {
        let row = self.0.db.fetch_optional("SELECT * FROM codebase_runs WHERE id = ?", &[run_id.into()]).await?;
        row.as_ref().map(Run::from_row).transpose()
    }

    /// The most recent runs of a codebase, newest first, optionally of one status.
    pub async fn list(&self, codebase_id: i64, status: Option<RunStatus>, limit: i64) -> Result<Vec<Run>> {
        let mut sql = String::from("SELECT * FROM codebase_runs WHERE codebase_id = ?");
        let mut args: Vec<Value> = vec![codebase_id.into()];
        if let Some(s) = status {
            sql.push_str(" AND status = ?");
            args.push(s.as_str().into());
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
        args.push(limit.clamp(1, 500).into());
        self.0.db.fetch_all(&sql, &args).await?.iter().map(Run::from_row).collect()
    }

    /// Cancels a run: a queued run at once; a running one is signalled (here at once, on another
    /// machine at its runner's next heartbeat) and finishes as `cancelled` when it has stopped.
    pub async fn cancel(&self, run_id: i64) -> Result<Run> {
        for _ in 0..3 {
            let run = self.run(run_id).await?.ok_or_else(|| RunnerError::NotFound(format!("run {run_id}")))?;
            let now = now_ms();
            match run.status {
                s if s.is_terminal() => {
                    return Err(RunnerError::Conflict(format!("run {run_id} is already {}", s.as_str())));
                }
                RunStatus::Queued => {
                    let done = self
                        .0
                        .db
                        .execute(
                            "UPDATE codebase_runs SET status = 'cancelled', cancel_requested = 1, \
                             error = 'cancelled before it started', finished_at = ?, updated_at = ? \
                             WHERE id = ? AND status = 'queued'",
                            &[now.into(), now.into(), run_id.into()],
                        )
                        .await?;
                    if done.rows_affected == 1 {
                        let run = self.run(run_id).await?.ok_or(RunnerError::LeaseLost(run_id))?;
                        self.publish_done(&run);
                        return Ok(run);
                    }
                }
                _ => {
                    self.0
                        .db
                        .execute(
                            "UPDATE codebase_runs SET cancel_requested = 1, updated_at = ? WHERE id = ? AND status = 'running'",
                            &[now.into(), run_id.into()],
                        )
                        .await?;
                    self.cancel_local(run_id);
                    return self.run(run_id).await?.ok_or(RunnerError::LeaseLost(run_id));
                }
            }
        }
        Err(RunnerError::Conflict(format!("run {run_id} changed state while cancelling; try again")))
    }

    /// Claims the oldest queued run whose tags the runner carries, for `runner_id`, with a lease.
    /// A run that cannot be executed (codebase disabled or misconfigured since it was queued)
    /// is failed with the reason and the next one is tried.
    pub async fn claim(&self, runner_id: &str, runner_tags: &[String]) -> Result<Option<Job>> {
        self.recover_expired().await?;
        let lease = self.lease_seconds().await;
        let candidates = self
            .0
            .db
            .fetch_all("SELECT * FROM codebase_runs WHERE status = 'queued' ORDER BY created_at, id LIMIT 100", &[])
            .await?;
        for row in &candidates {
            let run = Run::from_row(row)?;
            if !tags_match(&run.assigned_tags, runner_tags) {
                continue;
            }
            let now = now_ms();
            let won = self
                .0
                .db
                .execute(
                    "UPDATE codebase_runs SET status = 'running', runner_id = ?, lease_expires_at = ?, \
                     started_at = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND status = 'queued'",
                    &[runner_id.into(), (now + lease * 1000).into(), now.into(), now.into(), run.id.into()],
                )
                .await?;
            if won.rows_affected != 1 {
                continue;
            }
            match self.job(run.id, runner_id, lease).await {
                Ok(job) => return Ok(Some(job)),
                Err(e) => {
                    let _ = self.note(run.id, &format!("cannot run: {e}")).await;
                    self.finish(run.id, runner_id, &Outcome::failed(e.to_string())).await?;
                }
            }
        }
        Ok(None)
    }

    /// Waits up to `wait` for a run to claim (woken when one is queued on this node).
    pub async fn claim_wait(&self, runner_id: &str, tags: &[String], wait: std::time::Duration) -> Result<Option<Job>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.0.queued.notified();
            if let Some(job) = self.claim(runner_id, tags).await? {
                return Ok(Some(job));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            // Other nodes queue runs too: look again at least every two seconds.
            let nap = (deadline - now).min(std::time::Duration::from_secs(2));
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn job(&self, run_id: i64, runner_id: &str, lease: i64) -> Result<Job> {
        let run = self.run(run_id).await?.ok_or_else(|| RunnerError::NotFound(format!("run {run_id}")))?;
        let cb = self
            .codebase(run.codebase_id)
            .await?
            .ok_or_else(|| RunnerError::NotFound(format!("codebase {}", run.codebase_id)))?;
        if !cb.enabled {
            return Err(RunnerError::Conflict(format!("codebase {} was disabled", cb.id)));
        }
        let (ssh, rc) = self.ssh_target(&cb).await?;
        self.note(run_id, &format!("attempt {} claimed by runner {runner_id}", run.attempts)).await?;
        Ok(Job {
            run_id,
            codebase_id: cb.id,
            kind: run.kind.clone(),
            command: run.command.clone(),
            timeout_seconds: u64::try_from(run.timeout_seconds).unwrap_or(1).max(1),
            sync: run.sync_workspace,
            repo_url: cb.repo_url.clone(),
            workspace: cb.workspace_dir(&rc),
            workspace_root: rc.workspace_root.clone(),
            ssh,
            next_seq: self.next_seq(run_id).await?,
            lease_seconds: u64::try_from(lease).unwrap_or(30),
            attempt: run.attempts,
        })
    }

    /// Renews the lease of a run held by `runner_id`; tells whether a cancel was asked for.
    pub async fn heartbeat(&self, run_id: i64, runner_id: &str) -> Result<Heartbeat> {
        let until = now_ms() + self.lease_seconds().await * 1000;
        let done = self
            .0
            .db
            .execute(
                "UPDATE codebase_runs SET lease_expires_at = ? WHERE id = ? AND runner_id = ? AND status = 'running'",
                &[until.into(), run_id.into(), runner_id.into()],
            )
            .await?;
        if done.rows_affected != 1 {
            return Err(RunnerError::LeaseLost(run_id));
        }
        let cancel = self
            .0
            .db
            .fetch_optional("SELECT cancel_requested FROM codebase_runs WHERE id = ?", &[run_id.into()])
            .await?
            .is_some_and(|r| r.bool("cancel_requested"));
        Ok(Heartbeat { cancel_requested: cancel, lease_expires_at: until })
    }

    /// Finishes a run held by `runner_id` with a terminal status.
    pub async fn finish(&self, run_id: i64, runner_id: &str, outcome: &Outcome) -> Result<Run> {
        if !outcome.status.is_terminal() {
            return Err(RunnerError::invalid("status", "must be succeeded, failed, cancelled or timed_out"));
        }
        let now = now_ms();
        let error = outcome.error.as_deref().map(|e| e.chars().take(4000).collect::<String>());
        let done = self
            .0
            .db
            .execute(
                "UPDATE codebase_runs SET status = ?, exit_code = ?, error = ?, finished_at = ?, \
                 lease_expires_at = NULL, updated_at = ? WHERE id = ? AND runner_id = ? AND status = 'running'",
                &[
                    outcome.status.as_str().into(),
                    outcome.exit_code.into(),
                    error.into(),
                    now.into(),
                    now.into(),
                    run_id.into(),
                    runner_id.into(),
                ],
            )
            .await?;
        if done.rows_affected != 1 {
            return Err(RunnerError::LeaseLost(run_id));
        }
        let run = self.run(run_id).await?.ok_or(RunnerError::LeaseLost(run_id))?;
        self.publish_done(&run);
        Ok(run)
    }

    /// Gives a claimed run back (the runner is shutting down): queued again, the attempt not counted.
    pub async fn release(&self, run_id: i64, runner_id: &str, reason: &str) -> Result<Run> {
        let done = self
            .0
            .db
            .execute(
                "UPDATE codebase_runs SET status = 'queued', runner_id = NULL, lease_expires_at = NULL, \
                 started_at = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = ? \
                 WHERE id = ? AND runner_id = ? AND status = 'running'",
                &[now_ms().into(), run_id.into(), runner_id.into()],
            )
            .await?;
        if done.rows_affected != 1 {
            return Err(RunnerError::LeaseLost(run_id));
        }
        self.note(run_id, &format!("runner {runner_id} gave the run back ({reason}); queued again")).await?;
        self.0.queued.notify_waiters();
        self.run(run_id).await?.ok_or(RunnerError::LeaseLost(run_id))
    }

    /// Deals with runs whose lease expired (their runner died or lost the network): re-queued
    /// while attempts remain, else failed with the reason; cancelled when a cancel was pending.
    pub async fn recover_expired(&self) -> Result<u64> {
        let now = now_ms();
        let rows = self
            .0
            .db
            .fetch_all(
                "SELECT * FROM codebase_runs WHERE status = 'running' AND lease_expires_at < ? LIMIT 100",
                &[now.into()],
            )
            .await?;
        let max_attempts = self.setting(settings::MAX_ATTEMPTS).await.max(1);
        let mut recovered = 0;
        for row in &rows {
            let run = Run::from_row(row)?;
            let runner = run.runner_id.clone().unwrap_or_default();
            let why = format!("runner {runner} lost its lease (no heartbeat) on attempt {}", run.attempts);
            let (sql, status, note) = if run.cancel_requested {
                (
                    "UPDATE codebase_runs SET status = 'cancelled', error = ?, finished_at = ?, lease_expires_at = NULL, \
                     updated_at = ? WHERE id = ? AND status = 'running' AND runner_id = ? AND lease_expires_at < ?",
                    RunStatus::Cancelled,
                    format!("{why}; the run was being cancelled: cancelled"),
                )
            } else if run.attempts < max_attempts {
                (
                    "UPDATE codebase_runs SET status = 'queued', error = ?, runner_id = NULL, lease_expires_at = NULL, \
                     started_at = NULL, updated_at = ?, finished_at = NULL \
                     WHERE id = ? AND status = 'running' AND runner_id = ? AND lease_expires_at < ?",
                    RunStatus::Queued,
                    format!("{why}; queued again (attempt {} of {max_attempts} next)", run.attempts + 1),
                )
            } else {
                (
                    "UPDATE codebase_runs SET status = 'failed', error = ?, finished_at = ?, lease_expires_at = NULL, \
                     updated_at = ? WHERE id = ? AND status = 'running' AND runner_id = ? AND lease_expires_at < ?",
                    RunStatus::Failed,
                    format!("{why}; no attempts left (runner.max_attempts = {max_attempts}): failed"),
                )
            };
            let args: Vec<Value> = if status == RunStatus::Queued {
                vec![why.as_str().into(), now.into(), run.id.into(), runner.as_str().into(), now.into()]
            } else {
                vec![why.as_str().into(), now.into(), now.into(), run.id.into(), runner.as_str().into(), now.into()]
            };
            if self.0.db.execute(sql, &args).await?.rows_affected != 1 {
                continue;
            }
            recovered += 1;
            tracing::warn!(run_id = run.id, runner = %runner, to = status.as_str(), "run lease expired");
            self.note(run.id, &note).await?;
            if status == RunStatus::Queued {
                self.0.queued.notify_waiters();
            } else if let Some(run) = self.run(run.id).await? {
                self.publish_done(&run);
            }
        }
        Ok(recovered)
    }

    /// Wakes claims waiting on this node (a run was queued or given back).
    pub fn wake(&self) {
        self.0.queued.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_a_subset_match() {
        let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert!(tags_match(&s(&[]), &s(&[])));
        assert!(tags_match(&s(&[]), &s(&["gpu"])));
        assert!(tags_match(&s(&["gpu"]), &s(&["gpu", "linux"])));
        assert!(!tags_match(&s(&["gpu", "arm"]), &s(&["gpu"])));
        assert_eq!(clean_tags(&s(&[" a ", "a", "b"])).unwrap(), s(&["a", "b"]));
        assert!(clean_tags(&s(&["a,b"])).is_err());
    }
}
