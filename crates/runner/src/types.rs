//! Runs, codebases and jobs as the rest of the crate and the API see them.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use spgw_core::time::to_rfc3339;
use spgw_store::Row;

use crate::error::{Result, RunnerError};

/// What a run does (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    Lint,
    Test,
    Build,
    Custom,
}

impl RunKind {
    /// Every kind, in the order the API documents them.
    pub const ALL: [RunKind; 4] = [RunKind::Lint, RunKind::Test, RunKind::Build, RunKind::Custom];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Lint => "lint",
            RunKind::Test => "test",
            RunKind::Build => "build",
            RunKind::Custom => "custom",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<RunKind> {
        RunKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a run is in its life: queued → running → one of the terminal states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
}

impl RunStatus {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::TimedOut => "timed_out",
        }
    }

    /// Parses a storage name.
    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Cancelled,
            RunStatus::TimedOut,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Whether the run is over.
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// One row of `codebase_runs`.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: i64,
    pub codebase_id: i64,
    pub kind: String,
    pub command: String,
    pub assigned_tags: Vec<String>,
    pub status: RunStatus,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub runner_id: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub log_bytes: i64,
    pub log_truncated: bool,
    pub attempts: i64,
    pub timeout_seconds: i64,
    pub sync_workspace: bool,
    pub cancel_requested: bool,
    pub requested_by: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Run {
    /// Decodes a `SELECT * FROM codebase_runs` row.
    pub fn from_row(r: &Row) -> Result<Run> {
        let status = r.str("status").and_then(RunStatus::parse).ok_or_else(|| {
            RunnerError::Store(spgw_store::StoreError::Decode(format!("codebase_runs.status {:?}", r.get("status"))))
        })?;
        Ok(Run {
            id: r.i64("id").unwrap_or_default(),
            codebase_id: r.i64("codebase_id").unwrap_or_default(),
            kind: r.str("kind").unwrap_or_default().to_string(),
            command: r.str("command").unwrap_or_default().to_string(),
            assigned_tags: r.str("assigned_tags").and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default(),
            status,
            exit_code: r.i64("exit_code"),
            error: r.str("error").map(str::to_owned),
            runner_id: r.str("runner_id").map(str::to_owned),
            lease_expires_at: r.i64("lease_expires_at"),
            log_bytes: r.i64("log_bytes").unwrap_or_default(),
            log_truncated: r.bool("log_truncated"),
            attempts: r.i64("attempts").unwrap_or_default(),
            timeout_seconds: r.i64("timeout_seconds").unwrap_or_default(),
            sync_workspace: r.bool("sync_workspace"),
            cancel_requested: r.bool("cancel_requested"),
            requested_by: r.i64("requested_by"),
            started_at: r.i64("started_at"),
            finished_at: r.i64("finished_at"),
            created_at: r.i64("created_at").unwrap_or_default(),
            updated_at: r.i64("updated_at").unwrap_or_default(),
        })
    }

    /// How long the run ran (or has been running), in ms.
    pub fn duration_ms(&self) -> Option<i64> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or_else(spgw_core::time::now_ms) - start)
    }

    /// The API shape: times in RFC 3339, the duration, no lease internals beyond the runner.
    pub fn to_json(&self) -> Json {
        let t = |v: Option<i64>| v.map(to_rfc3339);
        json!({
            "id": self.id,
            "codebase_id": self.codebase_id,
            "kind": self.kind,
            "command": self.command,
            "assigned_tags": self.assigned_tags,
            "status": self.status.as_str(),
            "exit_code": self.exit_code,
            "error": self.error,
            "runner_id": self.runner_id,
            "lease_expires_at": t(self.lease_expires_at),
            "log_bytes": self.log_bytes,
            "log_truncated": self.log_truncated,
            "attempts": self.attempts,
            "timeout_seconds": self.timeout_seconds,
            "sync": self.sync_workspace,
            "cancel_requested": self.cancel_requested,
            "requested_by": self.requested_by,
            "started_at": t(self.started_at),
            "finished_at": t(self.finished_at),
            "duration_ms": self.duration_ms(),
            "created_at": to_rfc3339(self.created_at),
            "updated_at": to_rfc3339(self.updated_at),
        })
    }
}

/// One row of `codebases` with its project's owner.
#[derive(Debug, Clone)]
pub struct Codebase {
    pub id: i64,
    pub project_id: i64,
    /// The user who owns the codebase's project.
    pub owner_id: i64,
    pub name: String,
    pub repo_url: Option<String>,
    pub preferred_stack: Option<String>,
    pub enabled: bool,
    pub runtime_config: Json,
    pub host_key_fingerprint: Option<String>,
    pub host_key_recorded_at: Option<i64>,
}

impl Codebase {
    /// Decodes a row of `codebases` joined with `projects.user_id AS owner_id`.
    pub fn from_row(r: &Row) -> Codebase {
        Codebase {
            id: r.i64("id").unwrap_or_default(),
            project_id: r.i64("project_id").unwrap_or_default(),
            owner_id: r.i64("owner_id").unwrap_or_default(),
            name: r.str("name").unwrap_or_default().to_string(),
            repo_url: r.str("repo_url").filter(|s| !s.trim().is_empty()).map(str::to_owned),
            preferred_stack: r.str("preferred_stack").map(str::to_owned),
            enabled: r.bool("enabled"),
            runtime_config: r.str("runtime_config").and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Json::Null),
            host_key_fingerprint: r.str("host_key_fingerprint").map(str::to_owned),
            host_key_recorded_at: r.i64("host_key_recorded_at"),
        }
    }

    /// `runtime_config.runner`, read and checked.
    pub fn runner(&self) -> Result<RunnerConfig> {
        RunnerConfig::from_runtime_config(&self.runtime_config)
    }

    /// The checkout directory: `<workspace_root>/codebase-<id>`. Keyed by id, not name, so a rename
    /// keeps the checkout and two projects sharing a root never collide.
    pub fn workspace_dir(&self, runner: &RunnerConfig) -> String {
        format!("{}/codebase-{}", runner.workspace_root.trim_end_matches('/'), self.id)
    }

    /// Whether SPEC §9 allows `coding_plugin` on this codebase: enabled, and a runner with host,
    /// ssh_user and workspace_root.
    pub fn coding_ready(&self) -> bool {
        self.enabled && self.runner().is_ok()
    }
}

/// Which stored credential holds the SSH private key.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialRef {
    Id(i64),
    Name(String),
    /// The project's one credential of type `ssh_key`.
    Default,
}

/// `runtime_config.runner` of a codebase.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnerConfig {
    pub host: String,
    pub port: u16,
    pub ssh_user: String,
    pub workspace_root: String,
    pub credential: CredentialRef,
}

impl RunnerConfig {
    /// Reads `runner` from a codebase's `runtime_config`; host, ssh_user and an absolute
    /// workspace_root are required, `port` defaults to 22.
    pub fn from_runtime_config(rc: &Json) -> Result<RunnerConfig> {
        let runner = rc.get("runner").filter(|r| r.is_object()).ok_or_else(|| {
            RunnerError::Config("runtime_config.runner is not set (host, ssh_user, workspace_root)".into())
        })?;
        let text = |key: &str| -> Result<String> {
            runner
                .get(key)
                .and_then(Json::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| RunnerError::Config(format!("runtime_config.runner.{key} is not set")))
        };
        let (host, ssh_user, workspace_root) = (text("host")?, text("ssh_user")?, text("workspace_root")?);
        if !workspace_root.starts_with('/') || workspace_root.split('/').any(|c| c == "..") {
            return Err(RunnerError::Config("runtime_config.runner.workspace_root must be an absolute path".into()));
        }
        let port = match runner.get("port") {
            None | Some(Json::Null) => 22,
            Some(p) => p
                .as_u64()
                .or_else(|| p.as_str().and_then(|s| s.parse().ok()))
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| RunnerError::Config("runtime_config.runner.port must be a port number".into()))?,
        };
        let credential = match (runner.get("credential_id"), runner.get("credential")) {
            (Some(id), _) if id.as_i64().is_some() => CredentialRef::Id(id.as_i64().unwrap_or_default()),
            (_, Some(Json::String(name))) if !name.is_empty() => CredentialRef::Name(name.clone()),
            (_, Some(id)) if id.as_i64().is_some() => CredentialRef::Id(id.as_i64().unwrap_or_default()),
            _ => CredentialRef::Default,
        };
        Ok(RunnerConfig { host, port, ssh_user, workspace_root, credential })
    }
}

/// Where and as whom to connect, with the key; never printed with the key.
#[derive(Clone, Serialize, Deserialize)]
pub struct SshTarget {
    pub codebase_id: i64,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// The OpenSSH private key (PEM text), decrypted.
    pub private_key: String,
    /// The host key recorded on first use (`SHA256:...`), if any.
    pub host_key_fingerprint: Option<String>,
}

impl std::fmt::Debug for SshTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshTarget")
            .field("codebase_id", &self.codebase_id)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("private_key", &"***")
            .field("host_key_fingerprint", &self.host_key_fingerprint)
            .finish()
    }
}

/// A claimed run with everything a runner needs to execute it, here or on another machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub run_id: i64,
    pub codebase_id: i64,
    pub kind: String,
    pub command: String,
    pub timeout_seconds: u64,
    /// Fetch and reset the checkout before running.
    pub sync: bool,
    pub repo_url: Option<String>,
    pub workspace_root: String,
    /// The checkout directory (inside `workspace_root`).
    pub workspace: String,
    pub ssh: SshTarget,
    /// The first log sequence number this attempt writes.
    pub next_seq: i64,
    pub lease_seconds: u64,
    /// 1 for the first attempt.
    pub attempt: i64,
}

/// How an execution ended, as reported to the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: RunStatus,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
}

impl Outcome {
    /// A failure before or around the command (SSH, workspace), with no exit code.
    pub fn failed(error: impl Into<String>) -> Outcome {
        Outcome { status: RunStatus::Failed, exit_code: None, error: Some(error.into()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_config_reads_port_and_credential() {
        let rc =
            json!({"runner": {"host": "h", "ssh_user": "u", "workspace_root": "/w", "port": 2222, "credential_id": 7}});
        let r = RunnerConfig::from_runtime_config(&rc).unwrap();
        assert_eq!((r.port, r.credential), (2222, CredentialRef::Id(7)));
        let rc = json!({"runner": {"host": "h", "ssh_user": "u", "workspace_root": "/w", "credential": "deploy"}});
        let r = RunnerConfig::from_runtime_config(&rc).unwrap();
        assert_eq!((r.port, r.credential), (22, CredentialRef::Name("deploy".into())));
    }

    #[test]
    fn runner_config_refuses_incomplete_or_relative() {
        for rc in [
            json!({}),
            json!({"runner": {"host": "h", "ssh_user": "u"}}),
            json!({"runner": {"host": "h", "ssh_user": "u", "workspace_root": "w"}}),
            json!({"runner": {"host": "h", "ssh_user": "u", "workspace_root": "/w/../etc"}}),
            json!({"runner": {"host": "h", "ssh_user": "u", "workspace_root": "/w", "port": 70000}}),
        ] {
            assert!(RunnerConfig::from_runtime_config(&rc).is_err(), "{rc}");
        }
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"] {
            let st = RunStatus::parse(s).unwrap();
            assert_eq!(st.as_str(), s);
            assert_eq!(st.is_terminal(), !matches!(s, "queued" | "running"));
        }
        assert_eq!(RunKind::parse("build"), Some(RunKind::Build));
        assert_eq!(RunKind::parse("deploy"), None);
    }
}
