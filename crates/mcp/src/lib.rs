//! External MCP servers (SPEC §4 `mcp-tool` rows) through the official Rust SDK
//! (`rmcp`): a client manager keyed by `mcp_tools.id` that starts stdio servers
//! with only their configured environment and connects to streamable-HTTP ones,
//! discovers and caches their tools, keeps a health status, and calls tools with
//! a timeout and an output cap; and the `mcp` skill that offers chosen tools to
//! agents (see [`skill`]).
//!
//! Replay rule: a `tools/call` is never repeated blindly. The SDK itself
//! re-initialises an expired HTTP session (HTTP 404: the request was not
//! processed) and resends that request once. When the connection breaks while
//! a call is in flight (the server may have run it), the manager reconnects and
//! repeats the call only if the tool declares `readOnlyHint` or
//! `idempotentHint`; otherwise the call fails with [`McpError::Lost`] and the
//! next call uses the fresh connection.

mod client;
pub mod error;
mod health;
pub mod limits;
mod manager;
mod output;
pub mod skill;

pub use error::{McpError, Result};
pub use manager::{McpManager, ServerTools};
