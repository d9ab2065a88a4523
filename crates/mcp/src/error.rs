//! The one error type of this crate.

use spgw_store::StoreError;

/// What can go wrong with an external MCP server.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such server (or not visible to the caller).
    #[error("MCP server {0} not found")]
    NotFound(String),
    /// The configuration forbids it (command not on the allowlist, server disabled, ...).
    #[error("{0}")]
    Refused(String),
    /// The server could not be started or reached, or the handshake failed.
    #[error("MCP server unreachable: {0}")]
    Connect(String),
    /// The server answered a request with an error.
    #[error("MCP request failed: {0}")]
    Call(String),
    /// No answer within the per-call timeout.
    #[error("MCP request timed out after {0} s")]
    Timeout(u64),
    /// The connection broke during a call that is not safe to repeat.
    #[error(
        "the connection to the MCP server was lost during {0}; it was not repeated (the tool is not marked read-only or idempotent)"
    )]
    Lost(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, McpError>;
