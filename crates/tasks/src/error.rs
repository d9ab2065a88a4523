//! The one error enum of the tasks crate; the API maps it to HTTP.

use spgw_store::StoreError;

/// What went wrong in the task service, scheduler, executor or triggers.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A field failed validation (→ 422 naming the field).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The row is not there (or not visible) (→ 404).
    #[error("{0} not found")]
    NotFound(String),
    /// The request contradicts the row's state (→ 409), e.g. finishing a cancelled task.
    #[error("{0}")]
    Conflict(String),
    /// A webhook signature did not verify (→ 401).
    #[error("{0}")]
    BadSignature(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TaskError {
    /// A validation error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        TaskError::Invalid { field: field.into(), message: message.into() }
    }

    /// Whether trying again may succeed (a storage deadlock, busy database, lost connection).
    pub fn is_transient(&self) -> bool {
        matches!(self, TaskError::Store(e) if e.is_transient())
    }
}

/// Result alias of this crate.
pub type Result<T, E = TaskError> = std::result::Result<T, E>;
