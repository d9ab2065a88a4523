//! The one error type of this crate.

use spgw_routing::RouteError;
use spgw_sessions::SessionError;
use spgw_store::StoreError;

/// What the agent runtime can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A row the caller named does not exist (or is outside the agent's project).
    #[error("{0}")]
    NotFound(String),
    /// Input that cannot be used; `field` names what is wrong.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The agent cannot work: no models, disabled, ...
    #[error("{0}")]
    Unavailable(String),
    /// A routed model call failed after retries and fallbacks.
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The task service refused or failed.
    #[error(transparent)]
    Task(#[from] spgw_tasks::TaskError),
}

impl AgentError {
    /// An invalid-input error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AgentError::Invalid { field: field.into(), message: message.into() }
    }
}

/// Result alias of this crate.
pub type Result<T, E = AgentError> = std::result::Result<T, E>;
