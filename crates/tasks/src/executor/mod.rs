//! The executor: a background worker that claims due tasks with a lease in the
//! database, gives each to an agent of its project, runs the agent through the
//! [`AgentRunner`] and records the outcome.
//!
//! Invariants, with several gateway processes on one database:
//! - a task runs under exactly one lease at a time: claims are compare-and-set
//!   updates inside a transaction that holds the project's row lock;
//! - the lease is renewed while the run lasts; a run whose lease is lost (taken over
//!   after this process stalled) or whose task was cancelled is stopped through its
//!   [`CancellationToken`], and its late outcome changes nothing but the spend totals;
//! - a lease left by a crashed process expires and another process takes the task
//!   over (counting as an attempt);
//! - per-agent (`agents.max_concurrent_tasks`) and per-project
//!   (`projects.max_concurrent_tasks`, else `tasks.max_concurrent_per_project`) limits
//!   hold across processes, because counts are read under the project lock.

mod claim;
mod record;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spgw_core::time::now_ms;
use spgw_store::repo::settings::Settings;
use spgw_store::{Db, Value};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::model::TaskRow;
use crate::runner::{AgentRunner, Attachment, RunStatus, TaskJob, TaskOutcome};

/// Executor settings.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// How often due tasks are looked for (a finished run also wakes the loop).
    pub poll: Duration,
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// How often leases are renewed at most (a third of the lease when that is shorter).
    pub heartbeat: Duration,
    /// How often running tasks are checked for cancellation or a lost lease.
    pub watch: Duration,
    /// Most runs at once in this process.
    pub max_parallel: usize,
    /// Candidates read per poll.
    pub batch: i64,
    /// Running tasks per project when neither the project nor `tasks.max_concurrent_per_project` says.
    pub project_concurrency: i64,
    /// First retry delay; doubles per attempt.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Where attachments are stored (`<data_dir>/attachments/...`).
    pub data_dir: PathBuf,
    /// On shutdown, how long in-flight runs may finish before their leases are released.
    pub grace: Duration,
    /// How long a cancelled run may take to stop before it is abandoned.
    pub stop_timeout: Duration,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            poll: Duration::from_millis(500),
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            watch: Duration::from_millis(500),
            max_parallel: 16,
            batch: 50,
            project_concurrency: 10,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
            data_dir: PathBuf::from("data"),
            grace: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(10),
        }
    }
}

/// Told how long each claim took (for a latency histogram).
pub type ClaimObserver = Arc<dyn Fn(Duration) + Send + Sync>;

/// A run in flight in this process.
struct InFlight {
    run_id: i64,
    attempt: i64,
    cancel: CancellationToken,
}

/// Claims and runs tasks. Cheap to clone.
#[derive(Clone)]
pub struct Executor {
    db: Db,
    worker: String,
    opts: Arc<ExecutorOptions>,
    runner: Arc<dyn AgentRunner>,
    settings: Option<Settings>,
    inflight: Arc<Mutex<HashMap<i64, InFlight>>>,
    wake: Arc<Notify>,
    /// Lease length and first retry delay (ms), refreshed from settings on every poll.
    lease_ms: Arc<AtomicI64>,
    retry_base_ms: Arc<AtomicI64>,
    on_claim: Option<ClaimObserver>,
}

impl Executor {
    /// An executor claiming as `worker` and running agents through `runner`.
    pub fn new(db: Db, worker: impl Into<String>, runner: Arc<dyn AgentRunner>, opts: ExecutorOptions) -> Self {
        Executor {
            db,
            worker: worker.into(),
            lease_ms: Arc::new(AtomicI64::new(opts.lease.as_millis() as i64)),
            retry_base_ms: Arc::new(AtomicI64::new(opts.retry_base.as_millis() as i64)),
            opts: Arc::new(opts),
            runner,
            settings: None,
            inflight: Arc::default(),
            wake: Arc::default(),
            on_claim: None,
        }
    }

    /// Reads `tasks.executor_enabled`, `tasks.max_concurrent_per_project`, `tasks.lease_seconds`
    /// and `tasks.retry_base_seconds` from runtime settings (on every poll).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Reports the duration of every claim to `f`.
    pub fn with_claim_observer(mut self, f: ClaimObserver) -> Self {
        self.on_claim = Some(f);
        self
    }

    /// This executor's lease owner name.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// The current lease length (ms).
    pub(crate) fn lease_ms(&self) -> i64 {
        self.lease_ms.load(Ordering::Relaxed)
    }

    /// How often leases are renewed: a third of the lease, at most `heartbeat`.
    fn heartbeat(&self) -> Duration {
        Duration::from_millis((self.lease_ms() / 3).max(100) as u64).min(self.opts.heartbeat)
    }

    /// Ids of the tasks running in this process.
    pub fn running(&self) -> Vec<i64> {
        self.inflight.lock().map(|m| m.keys().copied().collect()).unwrap_or_default()
    }

    /// Stops a run of this process at once (the watch loop would notice within `watch`).
    pub fn cancel_local(&self, task_id: i64) -> bool {
        let map = self.inflight.lock();
        map.ok().and_then(|m| m.get(&task_id).map(|r| r.cancel.cancel())).is_some()
    }

    /// Looks for work now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until `stop` is cancelled, then lets in-flight runs finish for up to
    /// `grace` and releases the leases of those still running.
    pub async fn run(self, stop: CancellationToken) {
        let watch_stop = CancellationToken::new();
        let watcher = tokio::spawn(self.clone().watch(watch_stop.clone()));
        let mut runs = JoinSet::new();
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(self.opts.poll) => {}
                _ = self.wake.notified() => {}
            }
            while runs.try_join_next().is_some() {}
            if let Err(e) = self.poll_once(&mut runs).await {
                tracing::warn!(error = %e, "executor poll failed");
            }
        }
        let drained = tokio::time::timeout(self.opts.grace, async { while runs.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            // Stop the bookkeeping first so no late outcome races the release, then hand
            // the tasks back and stop their agents.
            runs.abort_all();
            while runs.join_next().await.is_some() {}
            self.release_all().await;
        }
        watch_stop.cancel();
        let _ = watcher.await;
    }

    /// One round: claim what this process has room for and start it.
    pub(crate) async fn poll_once(&self, runs: &mut JoinSet<()>) -> Result<usize> {
        if let Some(s) = &self.settings
            && !s.bool("tasks.executor_enabled", true).await
        {
            return Ok(0);
        }
        let busy = self.inflight.lock().map(|m| m.len()).unwrap_or(usize::MAX);
        if busy >= self.opts.max_parallel {
            return Ok(0);
        }
        let now = now_ms();
        let candidates = self.candidates(now, self.opts.batch).await?;
        if candidates.is_empty() {
            return Ok(0);
        }
        let mut projects: Vec<i64> = candidates.iter().map(|c| c.task.project_id).collect();
        projects.sort_unstable();
        projects.dedup();
        let mut snap = self.snapshot(&projects, now).await?;
        let default = match &self.settings {
            Some(s) => {
                let lease = s.float("tasks.lease_seconds", self.opts.lease.as_secs_f64()).await.clamp(1.0, 3600.0);
                self.lease_ms.store((lease * 1000.0) as i64, Ordering::Relaxed);
                let retry = s.float("tasks.retry_base_seconds", self.opts.retry_base.as_secs_f64()).await;
                self.retry_base_ms.store((retry.clamp(0.0, 3600.0) * 1000.0) as i64, Ordering::Relaxed);
                s.int("tasks.max_concurrent_per_project", self.opts.project_concurrency).await.max(1)
            }
            None => self.opts.project_concurrency,
        };
        let mut started = 0;
        for c in &candidates {
            if self
                .inflight
                .lock()
                .map(|m| m.len() >= self.opts.max_parallel || m.contains_key(&c.task.id))
                .unwrap_or(true)
            {
                continue;
            }
            let agent = match snap.pick(&c.task, default) {
                Ok(a) => a,
                Err(why) => {
                    if !c.expired {
                        self.set_waiting(c.task.id, &why.reason()).await?;
                    }
                    continue;
                }
            };
            let claim_started = Instant::now();
            let claimed = self.claim(c, agent, default).await?;
            if let Some(f) = &self.on_claim {
                f(claim_started.elapsed());
            }
            let Some((task, run_id)) = claimed else { continue };
            snap.took(task.project_id, agent);
            self.start(task, run_id, runs);
            started += 1;
        }
        Ok(started)
    }

    fn start(&self, task: TaskRow, run_id: i64, runs: &mut JoinSet<()>) {
        let cancel = CancellationToken::new();
        if let Ok(mut m) = self.inflight.lock() {
            m.insert(task.id, InFlight { run_id, attempt: task.attempts, cancel: cancel.clone() });
        }
        let me = self.clone();
        runs.spawn(async move {
            let outcome = match me.job(&task, cancel.clone()).await {
                Ok(job) => me.run_job(job, cancel).await,
                Err(e) => failed(format!("cannot prepare the run: {e}")),
            };
            if let Err(e) = me.record(&task, run_id, &outcome).await {
                tracing::error!(task_id = task.id, error = %e, "cannot record the task's outcome");
            }
            if let Ok(mut m) = me.inflight.lock() {
                m.remove(&task.id);
            }
            me.wake.notify_one();
        });
    }

    /// Runs the agent; a panic is a failure, and a run that ignores cancellation is abandoned.
    async fn run_job(&self, job: TaskJob, cancel: CancellationToken) -> TaskOutcome {
        let mut handle = tokio::spawn(self.runner.run(job));
        tokio::select! {
            r = &mut handle => r.unwrap_or_else(|e| failed(format!("the agent run crashed: {e}"))),
            _ = async { cancel.cancelled().await; tokio::time::sleep(self.opts.stop_timeout).await } => {
                handle.abort();
                TaskOutcome {
                    status: RunStatus::Cancelled,
                    output: String::new(),
                    error: Some("stopped: the run did not end after cancellation".into()),
                    tokens: 0,
                    cost_usd: 0.0,
                    session_id: None,
                }
            }
        }
    }

    /// Everything the runner needs about a claimed task.
    async fn job(&self, t: &TaskRow, cancel: CancellationToken) -> Result<TaskJob> {
        let user_id = self
            .db
            .fetch_optional("SELECT user_id FROM projects WHERE id = ?", &[t.project_id.into()])
            .await?
            .and_then(|r| r.i64("user_id"))
            .unwrap_or_default();
        let agent_id = t.agent_id.unwrap_or_default();
        let agent_limits = self
            .db
            .fetch_optional("SELECT config FROM agents WHERE id = ?", &[agent_id.into()])
            .await?
            .and_then(|r| r.str("config").and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()))
            .and_then(|c| c.get("limits").cloned());
        let limits = crate::limits::tightest(
            &crate::limits::from_json(t.limits.as_ref()),
            &crate::limits::from_json(agent_limits.as_ref()),
        );
        // An occurrence also sees the files attached to its recurring task.
        let owners: Vec<Value> = match (t.schedule_slot, t.parent_task_id) {
            (Some(_), Some(parent)) => vec![t.id.into(), parent.into()],
            _ => vec![t.id.into(), t.id.into()],
        };
        let rows =
            self.db.fetch_all("SELECT * FROM task_attachments WHERE task_id IN (?, ?) ORDER BY id", &owners).await?;
        let attachments = rows
            .iter()
            .map(|r| Attachment {
                id: r.i64("id").unwrap_or_default(),
                filename: r.str("filename").unwrap_or_default().to_string(),
                content_type: r.str("content_type").unwrap_or_default().to_string(),
                size_bytes: r.i64("size_bytes").unwrap_or_default(),
                path: self.opts.data_dir.join(r.str("storage_path").unwrap_or_default()),
            })
            .collect();
        Ok(TaskJob {
            task_id: t.id,
            project_id: t.project_id,
            agent_id,
            user_id,
            title: t.title.clone(),
            description: t.description.clone().unwrap_or_default(),
            tags: t.tags.clone(),
            attachments,
            session_id: t.session_id.clone(),
            limits,
            attempt: t.attempts.clamp(1, u32::MAX as i64) as u32,
            context: t.context.clone().unwrap_or(serde_json::Value::Null),
            cancel,
        })
    }

    /// Checks running tasks for cancellation or a lost lease, and renews leases.
    async fn watch(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.opts.watch);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed = Instant::now();
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let mine: Vec<(i64, i64)> = match self.inflight.lock() {
                Ok(m) => m.iter().map(|(id, r)| (*id, r.attempt)).collect(),
                Err(_) => continue,
            };
            if mine.is_empty() {
                continue;
            }
            if renewed.elapsed() >= self.heartbeat() {
                renewed = Instant::now();
                if let Err(e) = self.renew(&mine).await {
                    tracing::warn!(error = %e, "cannot renew task leases");
                }
            }
            if let Err(e) = self.check(&mine).await {
                tracing::warn!(error = %e, "cannot check running tasks");
            }
        }
    }

    async fn renew(&self, mine: &[(i64, i64)]) -> Result<()> {
        let marks = vec!["?"; mine.len()].join(", ");
        let mut args: Vec<Value> = vec![(now_ms() + self.lease_ms()).into(), self.worker.as_str().into()];
        args.extend(mine.iter().map(|(id, _)| Value::Int(*id)));
        self.db
            .execute(
                &format!("UPDATE tasks SET lease_expires_at = ? WHERE lease_owner = ? AND status = 'running' AND id IN ({marks})"),
                &args,
            )
            .await?;
        Ok(())
    }

    /// Cancels local runs whose task was cancelled or finished elsewhere, or whose lease another process holds.
    async fn check(&self, mine: &[(i64, i64)]) -> Result<()> {
        let marks = vec!["?"; mine.len()].join(", ");
        let args: Vec<Value> = mine.iter().map(|(id, _)| Value::Int(*id)).collect();
        let rows = self
            .db
            .fetch_all(&format!("SELECT id, status, lease_owner, attempts FROM tasks WHERE id IN ({marks})"), &args)
            .await?;
        for (id, attempt) in mine {
            let row = rows.iter().find(|r| r.i64("id") == Some(*id));
            let still_mine = row.is_some_and(|r| {
                r.str("status") == Some("running")
                    && r.str("lease_owner") == Some(self.worker.as_str())
                    && r.i64("attempts") == Some(*attempt)
            });
            if !still_mine && self.cancel_local(*id) {
                tracing::info!(task_id = id, "stopping a run: the task was cancelled or its lease was lost");
            }
        }
        Ok(())
    }
}

/// A failed outcome with no spend.
fn failed(error: String) -> TaskOutcome {
    TaskOutcome {
        status: RunStatus::Failed,
        output: String::new(),
        error: Some(error),
        tokens: 0,
        cost_usd: 0.0,
        session_id: None,
    }
}
