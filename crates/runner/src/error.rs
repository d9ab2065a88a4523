//! The crate's one error type.

/// Everything the run queue, the runners and the coding actions can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// Input the caller can fix (a missing command, a bad kind); `field` names it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the row's state (cancel a finished run, queue on a disabled codebase).
    #[error("{0}")]
    Conflict(String),
    /// The caller's runner no longer holds the run's lease: it expired, or the run was finished elsewhere.
    #[error("run {0}: this runner no longer holds its lease")]
    LeaseLost(i64),
    /// The codebase's runner settings are incomplete or wrong.
    #[error("codebase runner: {0}")]
    Config(String),
    /// The server presented a host key other than the one recorded on first use.
    #[error(
        "host key of {host} changed: recorded {expected}, presented {actual}; refusing to connect \
         (if the change is expected, forget the recorded key with DELETE /api/v1/codebases/{codebase_id}/host-key)"
    )]
    HostKeyMismatch { codebase_id: i64, host: String, expected: String, actual: String },
    #[error("ssh: {0}")]
    Ssh(String),
    /// A coding action refused a path (absolute, `..`, or leading out of the workspace).
    #[error("path refused: {0}")]
    PathRefused(String),
    /// A coding action failed on the remote side (a missing file, a size cap).
    #[error("{0}")]
    Action(String),
    #[error("gateway: {0}")]
    Gateway(String),
    /// The gateway refused the runner's API key.
    #[error("gateway refused the runner: {0}")]
    Refused(String),
    #[error("{0}")]
    Store(#[from] spgw_store::StoreError),
    #[error("credential: {0}")]
    Crypto(#[from] spgw_core::CoreError),
}

impl RunnerError {
    /// A validation error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        RunnerError::Invalid { field: field.into(), message: message.into() }
    }
}

impl From<russh::Error> for RunnerError {
    fn from(e: russh::Error) -> Self {
        RunnerError::Ssh(e.to_string())
    }
}

/// Result alias of this crate.
pub type Result<T, E = RunnerError> = std::result::Result<T, E>;
