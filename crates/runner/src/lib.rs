//! Codebase runs (SPEC §8) and the coding actions (SPEC §9): the run queue with
//! leases in the database, run logs with live fan-out, SSH execution with
//! `russh` (key auth, host key trusted on first use), the in-process worker,
//! the remote runner (`sp-gateway runner`), and `coding_plugin`'s actions.

pub mod coding;
pub mod commands;
mod error;
pub mod exec;
pub mod logs;
mod pool;
pub mod queue;
pub mod remote;
mod service;
pub mod skill;
pub mod ssh;
pub mod types;
mod worker;

pub use error::{Result, RunnerError};
pub use logs::{Appended, LogEvent};
pub use queue::{Heartbeat, NewRun};
pub use service::{MAX_TIMEOUT_SECONDS, Runs, settings};
pub use types::{Codebase, Job, Outcome, Run, RunKind, RunStatus, RunnerConfig};
pub use worker::Workers;
