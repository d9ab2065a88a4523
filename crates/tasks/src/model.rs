//! The task types the service, the API and the skills share.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value as Json;
use spgw_store::Row;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for an agent (or for its retry time).
    #[default]
    Pending,
    /// Has a schedule: waits for its time (recurring tasks stay here).
    Scheduled,
    Running,
    Completed,
    Failed,
    /// Cancelled (soft-deleted, kept for history).
    Cancelled,
    /// Stopped by a guard and not retried (set by a user or a skill; the executor reports guard stops as failed).
    Blocked,
}

impl TaskStatus {
    /// Every status, in life order.
    pub const ALL: [TaskStatus; 7] = [
        TaskStatus::Pending,
        TaskStatus::Scheduled,
        TaskStatus::Running,
        TaskStatus::Completed,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
        TaskStatus::Blocked,
    ];

    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Scheduled => "scheduled",
            TaskStatus::Running => "running",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Blocked => "blocked",
        }
    }

    /// Parses a stored or API name.
    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the task has ended (no more runs).
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled | TaskStatus::Blocked)
    }
}

/// A task as stored, serialised in the API shape (times RFC 3339).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub project_id: i64,
    pub parent_task_id: Option<i64>,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// `scheduled`, `spawned`, `external` (or `one_off`).
    pub kind: String,
    pub status: TaskStatus,
    /// Why the task is where it is (waiting for an agent, retrying, blocked by a guard, ...).
    pub status_reason: Option<String>,
    pub schedule: Option<Json>,
    /// When it next fires (scheduled) or may be retried (pending).
    #[serde(serialize_with = "opt_time")]
    pub next_run_at: Option<i64>,
    /// The slot an occurrence of a recurring task runs for.
    #[serde(serialize_with = "opt_time")]
    pub schedule_slot: Option<i64>,
    pub priority: i64,
    pub agent_id: Option<i64>,
    pub session_id: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub max_attempts: i64,
    pub limits: Option<Json>,
    pub context: Option<Json>,
    pub tokens_used: i64,
    pub cost_usd: f64,
    pub created_by: Option<i64>,
    pub created_by_agent: Option<i64>,
    pub trigger_id: Option<i64>,
    #[serde(serialize_with = "opt_time")]
    pub started_at: Option<i64>,
    #[serde(serialize_with = "opt_time")]
    pub finished_at: Option<i64>,
    #[serde(serialize_with = "opt_time")]
    pub deleted_at: Option<i64>,
    #[serde(serialize_with = "time")]
    pub created_at: i64,
    #[serde(serialize_with = "time")]
    pub updated_at: i64,
    /// Who holds the run (hidden from the API).
    #[serde(skip)]
    pub lease_owner: Option<String>,
    #[serde(skip)]
    pub lease_expires_at: Option<i64>,
}

fn json_col(r: &Row, c: &str) -> Option<Json> {
    r.str(c).and_then(|s| serde_json::from_str(s).ok())
}

/// Parses a stored JSON array of strings (tags).
pub fn tags_of(text: Option<&str>) -> Vec<String> {
    text.and_then(|s| serde_json::from_str::<Vec<String>>(s).ok()).unwrap_or_default()
}

impl TaskRow {
    /// Decodes a `SELECT * FROM tasks` row.
    pub fn from_row(r: &Row) -> TaskRow {
        let s = |c: &str| r.str(c).map(str::to_owned);
        TaskRow {
            id: r.i64("id").unwrap_or_default(),
            project_id: r.i64("project_id").unwrap_or_default(),
            parent_task_id: r.i64("parent_task_id"),
            title: s("title").unwrap_or_default(),
            description: s("description"),
            tags: tags_of(r.str("tags")),
            kind: s("kind").unwrap_or_default(),
            status: r.str("status").and_then(TaskStatus::parse).unwrap_or(TaskStatus::Pending),
            status_reason: s("status_reason"),
            schedule: json_col(r, "schedule"),
            next_run_at: r.i64("next_run_at"),
            schedule_slot: r.i64("schedule_slot"),
            priority: r.i64("priority").unwrap_or_default(),
            agent_id: r.i64("agent_id"),
            session_id: s("session_id"),
            output: s("output"),
            error: s("error"),
            attempts: r.i64("attempts").unwrap_or_default(),
            max_attempts: r.i64("max_attempts").unwrap_or(1),
            limits: json_col(r, "limits"),
            context: json_col(r, "context"),
            tokens_used: r.i64("tokens_used").unwrap_or_default(),
            cost_usd: r.f64("cost_usd").unwrap_or_default(),
            created_by: r.i64("created_by"),
            created_by_agent: r.i64("created_by_agent"),
            trigger_id: r.i64("trigger_id"),
            started_at: r.i64("started_at"),
            finished_at: r.i64("finished_at"),
            deleted_at: r.i64("deleted_at"),
            created_at: r.i64("created_at").unwrap_or_default(),
            updated_at: r.i64("updated_at").unwrap_or_default(),
            lease_owner: s("lease_owner"),
            lease_expires_at: r.i64("lease_expires_at"),
        }
    }

    /// Whether this row is the recurring definition (its firings run as occurrences).
    pub fn is_recurring(&self) -> bool {
        crate::schedule::parse(self.schedule.as_ref()).ok().flatten().is_some_and(|s| s.is_recurring())
    }
}

fn time<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&spgw_core::time::to_rfc3339(*ms))
}

fn opt_time<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => time(ms, s),
        None => s.serialize_none(),
    }
}

/// A task to create. `..Default::default()` fills the rest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewTask {
    pub project_id: i64,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// `{"at"}`, `{"cron", "timezone"?}` or `{"every_seconds"}`, see [`crate::schedule`].
    pub schedule: Option<Json>,
    pub parent_task_id: Option<i64>,
    /// The user who created it (API); `None` for agents and triggers (inherits the parent's).
    #[serde(skip)]
    pub created_by: Option<i64>,
    /// The agent whose tool call created it (skills).
    #[serde(skip)]
    pub created_by_agent: Option<i64>,
    /// `{max_turns, max_tool_calls, max_tokens, max_cost_usd}`.
    pub limits: Option<Json>,
    /// JSON the runner reads (e.g. `{"report": {"period": "monthly"}}`).
    pub context: Option<Json>,
    pub priority: i64,
    /// Attempts before the task fails (default 3, 1..=10).
    pub max_attempts: Option<i64>,
    /// Run it with this agent rather than by tag matching.
    pub agent_id: Option<i64>,
    /// The trigger that made it.
    #[serde(skip)]
    pub trigger_id: Option<i64>,
}

/// Changes to a task; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub schedule: Option<Option<Json>>,
    pub priority: Option<i64>,
    pub max_attempts: Option<i64>,
    pub limits: Option<Option<Json>>,
    pub context: Option<Option<Json>>,
    pub agent_id: Option<Option<i64>>,
    /// `pending` re-queues a finished task; `completed`/`failed`/`blocked` finish it; `cancelled` cancels it.
    pub status: Option<TaskStatus>,
    pub output: Option<Option<String>>,
}

/// Which tasks to list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<i64>,
    /// Only tasks of projects this user owns (scoping for non-admins).
    pub owner_user_id: Option<i64>,
    /// Any of these statuses (empty: all).
    pub status: Vec<TaskStatus>,
    /// Tasks carrying at least one of these tags.
    pub tags_any: Vec<String>,
    pub agent_id: Option<i64>,
    pub parent_task_id: Option<i64>,
    pub kind: Option<String>,
    pub trigger_id: Option<i64>,
    /// Include cancelled (soft-deleted) tasks.
    pub include_deleted: bool,
    /// Hide completed tasks that finished before this time (ms).
    pub hide_completed_before: Option<i64>,
    /// Pending tasks that wait with a reason (no agent, limits) only.
    pub waiting_only: bool,
    /// Recurring schedules (cron, interval) only, not one-time ones.
    pub recurring_only: bool,
    /// Title contains this text.
    pub search: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// One page of tasks.
#[derive(Debug, Clone, Serialize)]
pub struct TaskPage {
    pub data: Vec<TaskRow>,
    /// Matching tasks, counted up to 10,001 (`total_capped`: at least that many).
    pub total: i64,
    pub total_capped: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A tag in use and how many tasks carry it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// The named views of `GET /api/v1/tasks/views/{view}`.
pub const VIEWS: &[&str] = &[
    "pending",
    "scheduled",
    "running",
    "completed",
    "failed",
    "cancelled",
    "blocked",
    "waiting",
    "recurring",
    "active",
    "finished",
    "all",
];

impl TaskFilter {
    /// Narrows the filter to a named view; `false` for an unknown view.
    pub fn view(&mut self, view: &str) -> bool {
        use TaskStatus::*;
        match view {
            "pending" => self.status = vec![Pending],
            "scheduled" => self.status = vec![Scheduled],
            "running" => self.status = vec![Running],
            "completed" => self.status = vec![Completed],
            "failed" => self.status = vec![Failed],
            "blocked" => self.status = vec![Blocked],
            "cancelled" => {
                self.status = vec![Cancelled];
                self.include_deleted = true;
            }
            "waiting" => {
                self.status = vec![Pending];
                self.waiting_only = true;
            }
            "recurring" => {
                self.status = vec![Scheduled];
                self.recurring_only = true;
            }
            "active" => self.status = vec![Pending, Scheduled, Running],
            "finished" => self.status = vec![Completed, Failed, Blocked],
            "all" => {}
            _ => return false,
        }
        true
    }
}
