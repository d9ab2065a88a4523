//! The seam between the executor (this crate) and the agent runtime
//! (`spgw-agents`): the executor claims a task and hands it to an
//! [`AgentRunner`]; the runner runs the agent's tool loop and reports back.
//! `spgw-agents` implements the trait; the binary wires the two together, so
//! neither crate depends on the other's internals.

use futures::future::BoxFuture;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// Spending and loop limits of one run. `None` means unlimited at that level;
/// the executor merges task, agent and project limits (the smallest wins) and
/// a spawned task inherits what is left of its parent's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub max_turns: Option<u32>,
    pub max_tool_calls: Option<u32>,
    pub max_tokens: Option<u64>,
    pub max_cost_usd: Option<f64>,
}

/// A file attached to a task.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Absolute path of the stored file.
    pub path: std::path::PathBuf,
}

/// One claimed task, ready to run.
#[derive(Debug, Clone)]
pub struct TaskJob {
    pub task_id: i64,
    pub project_id: i64,
    pub agent_id: i64,
    /// The project's owner: the user the agent works for.
    pub user_id: i64,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// The task's session, when it has one (continued), else the runner creates one.
    pub session_id: Option<String>,
    pub limits: Limits,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Extra context (e.g. the trigger that created the task).
    pub context: Value,
    /// Cancelled when the task is cancelled or its lease is lost: stop promptly.
    pub cancel: CancellationToken,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Completed,
    /// A model or tool error; the executor retries with backoff up to `max_attempts`.
    Failed,
    /// Stopped by a guard (limits, repeated identical tool calls): not retried.
    Blocked,
    Cancelled,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct TaskOutcome {
    pub status: RunStatus,
    /// The agent's final answer, or the partial output when stopped.
    pub output: String,
    /// Why it failed or was blocked.
    pub error: Option<String>,
    pub tokens: u64,
    pub cost_usd: f64,
    pub session_id: Option<String>,
}

/// Runs an agent on a task.
pub trait AgentRunner: Send + Sync + 'static {
    /// Runs `job` to completion (or cancellation).
    fn run(&self, job: TaskJob) -> BoxFuture<'static, TaskOutcome>;
}
