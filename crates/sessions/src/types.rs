//! What a session is, as the rest of the gateway sees it.

use serde_json::{Value, json};
use spgw_core::time::to_rfc3339;
use spgw_providers::Message;

/// A session's metadata (the SQL `sessions` row, with the model's provider and code joined in).
/// Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionMeta {
    /// The public id (32 hex characters).
    pub session_id: String,
    /// Owner.
    pub user_id: i64,
    /// Project the session belongs to, if any.
    pub project_id: Option<i64>,
    /// Agent the session runs under, if any.
    pub agent_id: Option<i64>,
    /// Model of the last turn (`models.id`).
    pub model_id: Option<i64>,
    /// Task the session is bound to, if any.
    pub task_id: Option<i64>,
    /// Provider name of `model_id` (`providers.name`), when the model still exists.
    pub provider: Option<String>,
    /// Model code of `model_id` (`models.model_code`), when the model still exists.
    pub model: Option<String>,
    /// Free title (at most 191 characters).
    pub title: Option<String>,
    /// The MCP configuration (`{tools, instructions, operations}`) the session continues with.
    pub mcp_config: Option<Value>,
    /// Messages in the history.
    pub message_count: u64,
    /// Tokens used by all turns so far.
    pub total_tokens: u64,
    /// Cost of all turns so far, in US dollars.
    pub total_cost_usd: f64,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last append (ms).
    pub updated_at: i64,
    /// When the session stops existing unless continued (ms).
    pub expires_at: i64,
}

impl SessionMeta {
    /// The API shape: every field, times as RFC 3339.
    pub fn to_json(&self) -> Value {
        json!({
            "session_id": self.session_id,
            "user_id": self.user_id,
            "project_id": self.project_id,
            "agent_id": self.agent_id,
            "model_id": self.model_id,
            "task_id": self.task_id,
            "provider": self.provider,
            "model": self.model,
            "title": self.title,
            "mcp_config": self.mcp_config,
            "message_count": self.message_count,
            "total_tokens": self.total_tokens,
            "total_cost_usd": self.total_cost_usd,
            "created_at": to_rfc3339(self.created_at),
            "updated_at": to_rfc3339(self.updated_at),
            "expires_at": to_rfc3339(self.expires_at),
        })
    }
}

/// A session with its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Metadata.
    pub meta: SessionMeta,
    /// The history, oldest first.
    pub messages: Vec<Message>,
}

impl Session {
    /// The API shape: the metadata fields plus `messages`.
    pub fn to_json(&self) -> Value {
        let mut v = self.meta.to_json();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("messages".into(), serde_json::to_value(&self.messages).unwrap_or_default());
        }
        v
    }
}

/// What a new session starts with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewSession {
    /// Owner (must exist in `users`).
    pub user_id: i64,
    /// Project, if any.
    pub project_id: Option<i64>,
    /// Agent, if any.
    pub agent_id: Option<i64>,
    /// Model of the first turn (`models.id`).
    pub model_id: Option<i64>,
    /// Task, if any.
    pub task_id: Option<i64>,
    /// Title; longer than 191 characters is cut.
    pub title: Option<String>,
    /// MCP configuration kept for the whole session.
    pub mcp_config: Option<Value>,
}

/// Bounds on one session's history; an append beyond them is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Messages in the history.
    pub max_messages: u64,
    /// Bytes of serialised (JSON) messages in the history.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_messages: 2_000, max_bytes: 8 * 1024 * 1024 }
    }
}
