//! `coding_plugin` (SPEC §9): twelve actions on a codebase's checkout over one
//! SSH connection. Every path is confined to the checkout (see `paths`), reads
//! and writes are capped, `run_command` has a timeout and an output cap, and
//! the git actions only read. [`Runs::coding`] opens a [`Workspace`];
//! [`Workspace::call`] runs an action by its tool name with JSON arguments.

mod actions;
pub mod paths;
mod tools;

use std::sync::Arc;

use serde_json::Value as Json;

use crate::error::{Result, RunnerError};
use crate::pool::identity;
use crate::service::Runs;
use crate::ssh::{SshSession, sq};

pub use tools::{TOOL_NAMES, ToolSpec, tools};

/// Caps of the coding actions.
pub mod limits {
    /// Default and largest bytes returned by `coding.read_file`.
    pub const READ_DEFAULT: u64 = 256 * 1024;
    pub const READ_MAX: u64 = 1024 * 1024;
    /// Largest content accepted by `coding.write_file` / `coding.append_file`.
    pub const WRITE_MAX: usize = 1024 * 1024;
    /// Default and largest output kept per stream by `coding.run_command`.
    pub const OUTPUT_DEFAULT: usize = 64 * 1024;
    pub const OUTPUT_MAX: usize = 1024 * 1024;
    /// Default and longest `coding.run_command` timeout, seconds.
    pub const TIMEOUT_DEFAULT: u64 = 60;
    pub const TIMEOUT_MAX: u64 = 600;
    /// Largest diff returned by `coding.git_diff`.
    pub const DIFF_MAX: usize = 256 * 1024;
    /// Most entries / matches / commits returned.
    pub const LIST_MAX: usize = 1000;
    pub const SEARCH_MAX: usize = 1000;
    pub const LOG_MAX: usize = 200;
}

/// A codebase's checkout on its runner host, reached over a pooled SSH connection.
pub struct Workspace {
    pub(crate) session: Arc<SshSession>,
    pub codebase_id: i64,
    /// The checkout directory (absolute, on the runner host).
    pub dir: String,
    /// The runner's `workspace_root`.
    pub root: String,
    /// `user@host:port`, for describe_capabilities.
    pub host: String,
}

impl Runs {
    /// Opens the coding workspace of a codebase: checks SPEC §9's conditions (enabled, runner
    /// with host, ssh_user and workspace_root), connects (or reuses the codebase's connection),
    /// and makes sure the checkout exists (cloned from `repo_url` when there is one).
    pub async fn coding(&self, codebase_id: i64) -> Result<Workspace> {
        let cb = self
            .codebase(codebase_id)
            .await?
            .ok_or_else(|| RunnerError::NotFound(format!("codebase {codebase_id}")))?;
        if !cb.enabled {
            return Err(RunnerError::Conflict(format!("codebase {codebase_id} is disabled")));
        }
        let (target, rc) = self.ssh_target(&cb).await?;
        let dir = cb.workspace_dir(&rc);
        let id = identity(&target);
        let session = match self.0.pool.get(codebase_id, id) {
            Some(s) => s,
            None => {
                let s = SshSession::connect(&target).await?;
                if s.first_use {
                    self.record_host_key(codebase_id, &s.fingerprint).await?;
                }
                let s = Arc::new(s);
                let ensure = match &cb.repo_url {
                    Some(url) => format!(
                        "[ -d {d}/.git ] || {{ mkdir -p {root} && git clone --quiet {url} {d}; }} && [ -d {d} ]",
                        d = sq(&dir),
                        root = sq(&rc.workspace_root),
                        url = sq(url)
                    ),
                    None => format!("mkdir -p {}", sq(&dir)),
                };
                let out = s.capture(&ensure, None, 16 * 1024).await?;
                if out.exit_code != Some(0) {
                    return Err(RunnerError::Action(format!("preparing the workspace failed: {}", out.stderr_text())));
                }
                // Identity with the fingerprint now known, so the next call finds this connection.
                let recorded =
                    crate::types::SshTarget { host_key_fingerprint: Some(s.fingerprint.clone()), ..target.clone() };
                self.0.pool.put(codebase_id, identity(&recorded), s.clone());
                s
            }
        };
        let host = format!("{}@{}:{}", rc.ssh_user, rc.host, rc.port);
        Ok(Workspace { session, codebase_id, dir, root: rc.workspace_root, host })
    }
}

impl Workspace {
    /// Runs the action named by its tool name (`coding.read_file`, ...) with JSON arguments.
    pub async fn call(&self, tool: &str, args: &Json) -> Result<Json> {
        let args = if args.is_null() { Json::Object(Default::default()) } else { args.clone() };
        let started = std::time::Instant::now();
        let result = match tool {
            "coding.describe_capabilities" => self.describe_capabilities().await,
            "coding.list_directory" => self.list_directory(parse(args)?).await,
            "coding.read_file" => self.read_file(parse(args)?).await,
            "coding.write_file" => self.write_file(parse(args)?, false).await,
            "coding.append_file" => self.write_file(parse(args)?, true).await,
            "coding.delete_path" => self.delete_path(parse(args)?).await,
            "coding.make_directory" => self.make_directory(parse(args)?).await,
            "coding.search_text" => self.search_text(parse(args)?).await,
            "coding.run_command" => self.run_command(parse(args)?).await,
            "coding.git_status" => self.git_status().await,
            "coding.git_diff" => self.git_diff(parse(args)?).await,
            "coding.git_log" => self.git_log(parse(args)?).await,
            other => Err(RunnerError::invalid("tool", format!("unknown coding action {other}"))),
        };
        let ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(_) => tracing::info!(codebase_id = self.codebase_id, tool, ms, "coding action"),
            Err(e) => {
                tracing::info!(codebase_id = self.codebase_id, tool, ms, error = %e, "coding action refused or failed")
            }
        }
        result
    }
}

fn parse<T: serde::de::DeserializeOwned>(args: Json) -> Result<T> {
    serde_json::from_value(args).map_err(|e| RunnerError::invalid("arguments", e.to_string()))
}
