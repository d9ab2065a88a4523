//! Agents at work: the bounded tool loop with its guards, the built-in MCP
//! skills (SPEC §9), the [`AgentRunner`](spgw_tasks::AgentRunner) the task
//! executor calls, the `conversation` operation of the chat, report
//! generation, and living documents with revisions and diffs.
//!
//! [`AgentRuntime`] is the entry point: built once at start-up over the
//! database, router, sessions and settings, shared by the API and the executor.

pub mod conversation;
pub mod documents;
mod error;
pub mod guards;
pub mod model;
pub mod prompt;
pub mod reports;
mod runner;
mod runtime;
pub mod skills;
pub mod tool_loop;

pub use conversation::{ChatAgent, Conversation};
pub use error::{AgentError, Result};
pub use runtime::{AgentRuntime, agent_limits};
