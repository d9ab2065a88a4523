//! Identity of this process among the gateway processes sharing one database.

use rand::Rng;

/// `host:pid:random`, at most 64 characters (the width of `tasks.lease_owner`).
pub fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let host: String = host.chars().take(40).collect();
    let nonce: u32 = rand::thread_rng().r#gen();
    format!("{host}:{}:{nonce:08x}", std::process::id())
}

/// The background workers of this crate, running in this process.
pub struct Workers {
    stop: tokio_util::sync::CancellationToken,
    handles: Vec<tokio::task::JoinHandle<()>>,
    executor: Option<crate::Executor>,
}

/// What [`start`] starts.
pub struct WorkerConfig {
    pub scheduler: crate::SchedulerOptions,
    pub executor: crate::ExecutorOptions,
    pub triggers: crate::triggers::TriggerOptions,
    /// Told the duration of every task claim.
    pub claim_observer: Option<crate::executor::ClaimObserver>,
}

impl WorkerConfig {
    /// Defaults, with attachments under `data_dir` and `grace` for in-flight runs on shutdown.
    pub fn new(data_dir: std::path::PathBuf, grace: std::time::Duration) -> Self {
        WorkerConfig {
            scheduler: Default::default(),
            executor: crate::ExecutorOptions { data_dir, grace, ..Default::default() },
            triggers: Default::default(),
            claim_observer: None,
        }
    }
}

/// Starts the scheduler, the trigger evaluator and (with a runner) the executor,
/// all under one worker id. Without a runner no task runs here: other processes
/// (or a later start) run them.
pub fn start(
    db: spgw_store::Db,
    settings: spgw_store::repo::settings::Settings,
    runner: Option<std::sync::Arc<dyn crate::AgentRunner>>,
    cfg: WorkerConfig,
) -> Workers {
    let id = worker_id();
    let stop = tokio_util::sync::CancellationToken::new();
    let mut handles = Vec::new();
    let scheduler = crate::Scheduler::new(db.clone(), id.clone(), cfg.scheduler).with_settings(settings.clone());
    handles.push(tokio::spawn(scheduler.run(stop.child_token())));
    let evaluator =
        crate::triggers::TriggerEvaluator::new(db.clone(), id.clone(), cfg.triggers).with_settings(settings.clone());
    handles.push(tokio::spawn(evaluator.run(stop.child_token())));
    let executor = runner.map(|r| {
        let e = crate::Executor::new(db, id.clone(), r, cfg.executor).with_settings(settings);
        match cfg.claim_observer {
            Some(f) => e.with_claim_observer(f),
            None => e,
        }
    });
    if let Some(e) = &executor {
        handles.push(tokio::spawn(e.clone().run(stop.child_token())));
    }
    tracing::info!(worker = %id, executor = executor.is_some(), "task workers started");
    Workers { stop, handles, executor }
}

impl Workers {
    /// The executor, when one runs here (to cancel a local run at once).
    pub fn executor(&self) -> Option<&crate::Executor> {
        self.executor.as_ref()
    }

    /// A token that, cancelled, makes every worker stop taking new work (call at the shutdown signal).
    pub fn stopper(&self) -> tokio_util::sync::CancellationToken {
        self.stop.clone()
    }

    /// Stops every worker: in-flight runs get the executor's grace period, then
    /// their leases are released for another process to take.
    pub async fn shutdown(self) {
        self.stop.cancel();
        for h in self.handles {
            let _ = h.await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_fit_the_column() {
        let (a, b) = (super::worker_id(), super::worker_id());
        assert_ne!(a, b);
        assert!(a.len() <= 64 && a.contains(&std::process::id().to_string()));
    }
}
