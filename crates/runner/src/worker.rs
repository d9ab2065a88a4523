//! The gateway's own runner: a background task that claims runs from the
//! queue (runs whose tags are a subset of `runner.local_tags`, up to
//! `runner.local_concurrency` at once, while `runner.local_enabled`), and the
//! maintenance task that recovers runs whose lease expired.

use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::exec::{RunSink, Stop, execute};
use crate::logs::Appended;
use crate::queue::Heartbeat;
use crate::service::{Runs, settings};
use crate::types::{Job, Outcome};

/// Reports straight to the queue.
struct LocalSink {
    runs: Runs,
    run_id: i64,
    codebase_id: i64,
    runner_id: String,
}

impl RunSink for LocalSink {
    async fn record_host_key(&self, fingerprint: &str) -> Result<()> {
        self.runs.record_host_key(self.codebase_id, fingerprint).await
    }
    async fn append(&self, seq: i64, text: &str) -> Result<Appended> {
        self.runs.append_log(self.run_id, &self.runner_id, seq, text).await
    }
    async fn heartbeat(&self) -> Result<Heartbeat> {
        self.runs.heartbeat(self.run_id, &self.runner_id).await
    }
    async fn finish(&self, outcome: &Outcome) -> Result<()> {
        self.runs.finish(self.run_id, &self.runner_id, outcome).await.map(|_| ())
    }
    async fn release(&self, reason: &str) -> Result<()> {
        self.runs.release(self.run_id, &self.runner_id, reason).await.map(|_| ())
    }
}

/// The background tasks of [`Runs::start_workers`].
pub struct Workers {
    shutdown: CancellationToken,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Stops claiming, gives running runs back to the queue (waiting up to 15 s), and ends.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        for h in self.handles {
            if tokio::time::timeout(Duration::from_secs(15), h).await.is_err() {
                tracing::warn!("runner worker did not stop in time");
            }
        }
    }
}

impl Runs {
    /// Starts the lease-recovery task and the in-process worker.
    pub fn start_workers(&self) -> Workers {
        let shutdown = CancellationToken::new();
        let maintenance = tokio::spawn(maintain(self.clone(), shutdown.clone()));
        let worker = tokio::spawn(work(self.clone(), shutdown.clone()));
        Workers { shutdown, handles: vec![maintenance, worker] }
    }

    /// Executes a claimed job here, reporting straight to the queue.
    pub async fn execute_local(&self, job: Job, runner_id: &str, shutdown: CancellationToken) {
        let token = CancellationToken::new();
        self.register_local(job.run_id, token.clone());
        let sink = LocalSink {
            runs: self.clone(),
            run_id: job.run_id,
            codebase_id: job.codebase_id,
            runner_id: runner_id.to_string(),
        };
        execute(&job, &sink, &Stop { cancel: token, shutdown }).await;
        self.unregister_local(job.run_id);
    }
}

/// Every five seconds: runs whose lease expired are re-queued or failed.
async fn maintain(runs: Runs, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        if let Err(e) = runs.recover_expired().await {
            tracing::warn!(error = %e, "run lease recovery failed");
        }
    }
}

async fn local_tags(runs: &Runs) -> Vec<String> {
    match runs.0.settings.get(settings::LOCAL_TAGS).await {
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
        Some(serde_json::Value::String(s)) => {
            s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}

async fn work(runs: Runs, shutdown: CancellationToken) {
    let runner_id = format!("local-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut active = JoinSet::new();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let enabled = runs.0.settings.bool(settings::LOCAL_ENABLED.0, settings::LOCAL_ENABLED.1).await;
        let limit = runs.setting(settings::LOCAL_CONCURRENCY).await.clamp(1, 64) as usize;
        let notified = runs.0.queued.notified();
        if enabled && active.len() < limit {
            match runs.claim(&runner_id, &local_tags(&runs).await).await {
                Ok(Some(job)) => {
                    tracing::info!(run_id = job.run_id, runner = %runner_id, "claimed a run");
                    let (r, id, stop) = (runs.clone(), runner_id.clone(), shutdown.child_token());
                    active.spawn(async move { r.execute_local(job, &id, stop).await });
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "claiming a run failed"),
            }
        }
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.cancelled() => {}
            Some(_) = active.join_next(), if !active.is_empty() => {}
        }
    }
    // Running runs see the shutdown token and give themselves back.
    while active.join_next().await.is_some() {}
}
