//! The sessions error enum; the API maps it to HTTP once.

use spgw_store::StoreError;

/// What went wrong with a session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The session does not exist or has expired (→ 404).
    #[error("session not found or expired")]
    NotFound,
    /// The history already holds the most messages a session may have (→ 413/422).
    #[error("session history is full ({limit} messages); start a new session")]
    TooManyMessages {
        /// The limit.
        limit: u64,
    },
    /// The history would exceed the most bytes a session may hold (→ 413/422).
    #[error("session history would exceed {limit} bytes; start a new session")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// A message could not be serialised, or a stored one read back.
    #[error("session {session_id}: unreadable message: {detail}")]
    Corrupt {
        /// The session.
        session_id: String,
        /// What failed.
        detail: String,
    },
    /// The SQL database failed (including a referenced user/model/agent that does not exist).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Redis failed or is unreachable (→ 503).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}
