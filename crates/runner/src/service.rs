//! [`Runs`]: the handle the API, the in-process worker and the coding actions share.
//! This file holds the handle, codebase and credential loading and the host-key
//! record; the queue operations are in `queue.rs`, logs in `logs.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use spgw_core::MasterKey;
use spgw_store::Db;
use spgw_store::repo::settings::Settings;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::{Result, RunnerError};
use crate::logs::LogHub;
use crate::pool::SshPool;
use crate::types::{Codebase, CredentialRef, RunnerConfig, SshTarget};

/// Runtime settings (`gateway_config`) read by the runner, with their defaults.
pub mod settings {
    /// Seconds a claim lasts without a heartbeat (min 5).
    pub const LEASE_SECONDS: (&str, i64) = ("runner.lease_seconds", 30);
    /// Stored log bytes per run; output past it is dropped with a note.
    pub const MAX_LOG_BYTES: (&str, i64) = ("runner.max_log_bytes", 1_048_576);
    /// Timeout of a run that does not give its own.
    pub const DEFAULT_TIMEOUT_SECONDS: (&str, i64) = ("runner.default_timeout_seconds", 1800);
    /// Claims per run before a lost lease fails it instead of re-queueing it.
    pub const MAX_ATTEMPTS: (&str, i64) = ("runner.max_attempts", 2);
    /// Whether the gateway's own worker claims runs.
    pub const LOCAL_ENABLED: (&str, bool) = ("runner.local_enabled", true);
    /// Runs the in-process worker executes at once.
    pub const LOCAL_CONCURRENCY: (&str, i64) = ("runner.local_concurrency", 2);
    /// Tags of the in-process worker (a JSON array); it claims runs whose tags are a subset.
    pub const LOCAL_TAGS: &str = "runner.local_tags";
}

/// Longest timeout a run may ask for.
pub const MAX_TIMEOUT_SECONDS: i64 = 86_400;

/// The run queue, its logs and SSH connections (cheap to clone).
#[derive(Clone)]
pub struct Runs(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub db: Db,
    pub key: MasterKey,
    pub settings: Settings,
    pub hub: LogHub,
    /// Woken when a run is queued, so waiting claims look again at once.
    pub queued: Notify,
    /// Runs this process executes, by id: a cancel here stops them without waiting for a heartbeat.
    pub local: Mutex<HashMap<i64, CancellationToken>>,
    pub pool: SshPool,
}

impl Runs {
    /// The service over the gateway's database, master key (credentials) and settings.
    pub fn new(db: Db, key: MasterKey, settings: Settings) -> Runs {
        Runs(Arc::new(Inner {
            db,
            key,
            settings,
            hub: LogHub::default(),
            queued: Notify::new(),
            local: Mutex::new(HashMap::new()),
            pool: SshPool::default(),
        }))
    }

    /// The database handle.
    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub(crate) async fn setting(&self, (key, default): (&str, i64)) -> i64 {
        self.0.settings.int(key, default).await
    }

    pub(crate) async fn lease_seconds(&self) -> i64 {
        self.setting(settings::LEASE_SECONDS).await.max(5)
    }

    /// A codebase with its project's owner, if it exists.
    pub async fn codebase(&self, id: i64) -> Result<Option<Codebase>> {
        let row = self
            .0
            .db
            .fetch_optional(
                "SELECT c.*, p.user_id AS owner_id FROM codebases c JOIN projects p ON p.id = c.project_id WHERE c.id = ?",
                &[id.into()],
            )
            .await?;
        Ok(row.as_ref().map(Codebase::from_row))
    }

    /// The decrypted SSH private key of a codebase: `runtime_config.runner.credential_id` (or
    /// `credential`, by name) in the codebase's project, else the project's one credential of
    /// type `ssh_key`.
    async fn private_key(&self, cb: &Codebase, rc: &RunnerConfig) -> Result<String> {
        let base = "SELECT id, name, credential_type, secret_enc FROM credentials WHERE project_id = ?";
        let rows = match &rc.credential {
            CredentialRef::Id(id) => {
                self.0.db.fetch_all(&format!("{base} AND id = ?"), &[cb.project_id.into(), (*id).into()]).await?
            }
            CredentialRef::Name(n) => {
                self.0.db.fetch_all(&format!("{base} AND name = ?"), &[cb.project_id.into(), n.as_str().into()]).await?
            }
            CredentialRef::Default => {
                self.0
                    .db
                    .fetch_all(
                        &format!("{base} AND credential_type = 'ssh_key' ORDER BY id LIMIT 2"),
                        &[cb.project_id.into()],
                    )
                    .await?
            }
        };
        let row = match (rows.len(), &rc.credential) {
            (1, _) => &rows[0],
            (0, CredentialRef::Default) => {
                return Err(RunnerError::Config(
                    "no SSH key: add a credential of credential_type `ssh_key` to the project, or set \
                     runtime_config.runner.credential_id"
                        .into(),
                ));
            }
            (0, r) => return Err(RunnerError::Config(format!("credential {r:?} not found in the codebase's project"))),
            _ => {
                return Err(RunnerError::Config(
                    "the project has several `ssh_key` credentials: set runtime_config.runner.credential_id".into(),
                ));
            }
        };
        Ok(self.0.key.decrypt(row.str("secret_enc").unwrap_or_default())?)
    }

    /// Everything needed to open an SSH connection to a codebase's runner host.
    pub async fn ssh_target(&self, cb: &Codebase) -> Result<(SshTarget, RunnerConfig)> {
        let rc = cb.runner()?;
        let private_key = self.private_key(cb, &rc).await?;
        let target = SshTarget {
            codebase_id: cb.id,
            host: rc.host.clone(),
            port: rc.port,
            user: rc.ssh_user.clone(),
            private_key,
            host_key_fingerprint: cb.host_key_fingerprint.clone(),
        };
        Ok((target, rc))
    }

    /// Records a host key seen on first use. Only the first recording wins (compare-and-set):
    /// a different key recorded meanwhile is a mismatch.
    pub async fn record_host_key(&self, codebase_id: i64, fingerprint: &str) -> Result<()> {
        if !fingerprint.starts_with("SHA256:") {
            return Err(RunnerError::invalid("fingerprint", "must be an OpenSSH SHA256 fingerprint"));
        }
        let now = spgw_core::time::now_ms();
        let done = self
            .0
            .db
            .execute(
                "UPDATE codebases SET host_key_fingerprint = ?, host_key_recorded_at = ? \
                 WHERE id = ? AND host_key_fingerprint IS NULL",
                &[fingerprint.into(), now.into(), codebase_id.into()],
            )
            .await?;
        if done.rows_affected == 1 {
            tracing::info!(codebase_id, %fingerprint, "recorded the runner's SSH host key (first use)");
            return Ok(());
        }
        let cb = self.codebase(codebase_id).await?.ok_or_else(|| RunnerError::NotFound("codebase".into()))?;
        let host = cb.runner().map(|r| format!("{}:{}", r.host, r.port)).unwrap_or_default();
        match cb.host_key_fingerprint {
            Some(known) if known == fingerprint => Ok(()),
            Some(known) => Err(RunnerError::HostKeyMismatch {
                codebase_id,
                host,
                expected: known,
                actual: fingerprint.to_string(),
            }),
            None => Err(RunnerError::Conflict("the host key could not be recorded; try again".into())),
        }
    }

    /// Forgets a codebase's recorded host key; the next connection records the key it sees.
    pub async fn forget_host_key(&self, codebase_id: i64) -> Result<()> {
        self.0
            .db
            .execute(
                "UPDATE codebases SET host_key_fingerprint = NULL, host_key_recorded_at = NULL WHERE id = ?",
                &[codebase_id.into()],
            )
            .await?;
        self.0.pool.forget(codebase_id);
        Ok(())
    }

    /// Registers a run executed by this process; cancelling it here stops it at once.
    pub(crate) fn register_local(&self, run_id: i64, token: CancellationToken) {
        if let Ok(mut local) = self.0.local.lock() {
            local.insert(run_id, token);
        }
    }

    pub(crate) fn unregister_local(&self, run_id: i64) {
        if let Ok(mut local) = self.0.local.lock() {
            local.remove(&run_id);
        }
    }

    pub(crate) fn cancel_local(&self, run_id: i64) {
        if let Some(t) = self.0.local.lock().ok().and_then(|l| l.get(&run_id).cloned()) {
            t.cancel();
        }
    }
}
