//! Scripted answers: a test queues the exact replies a mock model gives, turn
//! after turn (a tool call, then another, then text), so an agent's tool loop
//! can be driven end to end. Used by the OpenAI-protocol chat mock (`openai`,
//! `xai`, `deepseek`, `huggingface`).
//!
//! - `POST /_mock/script` `{"key": K, "replies": [R, ...]}` appends replies to
//!   queue `K`. A reply is `{"text": "..."}` or `{"tool": {"name": "task.create",
//!   "arguments": {...}}}` (the name as the gateway calls the tool; the mock
//!   answers with its wire form, dots as underscores), optionally with
//!   `"usage": {"prompt_tokens": n, "completion_tokens": m}`.
//! - `GET /_mock/script` shows how many replies each queue has left;
//!   `DELETE /_mock/script` empties them all.
//!
//! Which queue answers a chat request: `[[script:K]]` in the last user message
//! names it; otherwise the queue keyed by the request's `model`. When that
//! queue is empty the mock answers as if there were no script (markers and all).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{MockServer, MockState};

/// A prepared tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptedTool {
    pub name: String,
    /// An object (sent as its JSON text) or a string sent verbatim.
    #[serde(default)]
    pub arguments: Value,
}

/// Token counts a scripted reply reports instead of the mock's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptedUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// One prepared reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedReply {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tool: Option<ScriptedTool>,
    #[serde(default)]
    pub usage: Option<ScriptedUsage>,
}

impl ScriptedReply {
    /// The tool call as the wire carries it: provider-safe name, arguments text.
    pub fn wire_tool(&self) -> Option<(String, String)> {
        self.tool.as_ref().map(|t| {
            let name: String = t
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
                .collect();
            let args = match &t.arguments {
                Value::String(s) => s.clone(),
                Value::Null => "{}".to_string(),
                other => other.to_string(),
            };
            (name, args)
        })
    }
}

/// The queues, shared by every route of one mock server.
#[derive(Clone, Default)]
pub struct Scripts {
    queues: Arc<Mutex<HashMap<String, VecDeque<ScriptedReply>>>>,
}

impl Scripts {
    /// Appends replies to queue `key`.
    pub fn push(&self, key: &str, replies: Vec<ScriptedReply>) {
        if let Ok(mut q) = self.queues.lock() {
            q.entry(key.to_string()).or_default().extend(replies);
        }
    }

    /// The next reply for a request: from the marker's queue, else the model's.
    pub fn next(&self, user_text: &str, model: &str) -> Option<ScriptedReply> {
        let mut q = self.queues.lock().ok()?;
        let key = marker(user_text).unwrap_or_else(|| model.to_string());
        q.get_mut(&key)?.pop_front()
    }

    /// Replies left per queue.
    pub fn remaining(&self) -> HashMap<String, usize> {
        self.queues.lock().map(|q| q.iter().map(|(k, v)| (k.clone(), v.len())).collect()).unwrap_or_default()
    }

    /// Empties every queue.
    pub fn clear(&self) {
        if let Ok(mut q) = self.queues.lock() {
            q.clear();
        }
    }
}

/// The queue a `[[script:KEY]]` marker names.
pub fn marker(text: &str) -> Option<String> {
    let start = text.find("[[script:")? + "[[script:".len();
    let end = text[start..].find("]]")?;
    Some(text[start..start + end].trim().to_string()).filter(|k| !k.is_empty())
}

impl MockServer {
    /// Queues replies in-process (the same as `POST /_mock/script`).
    pub fn script(&self, key: &str, replies: Vec<ScriptedReply>) {
        self.state.scripts.push(key, replies);
    }
}

/// The body of `POST /_mock/script`.
#[derive(Debug, Deserialize)]
struct Push {
    key: String,
    replies: Vec<ScriptedReply>,
}

/// Routes of the script queues.
pub fn router() -> Router<MockState> {
    Router::new().route("/_mock/script", post(push).get(remaining).delete(clear))
}

async fn push(State(s): State<MockState>, Json(p): Json<Push>) -> Json<HashMap<String, usize>> {
    s.scripts.push(&p.key, p.replies);
    Json(s.scripts.remaining())
}

async fn remaining(State(s): State<MockState>) -> Json<HashMap<String, usize>> {
    Json(s.scripts.remaining())
}

async fn clear(State(s): State<MockState>) -> axum::http::StatusCode {
    s.scripts.clear();
    axum::http::StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queues_answer_by_marker_then_by_model() {
        let s = Scripts::default();
        let r: Vec<ScriptedReply> = serde_json::from_value(json!([
            {"tool": {"name": "task.create", "arguments": {"title": "x"}}},
            {"text": "done", "usage": {"prompt_tokens": 5, "completion_tokens": 7}}
        ]))
        .unwrap();
        s.push("run-1", r);
        s.push("gpt-5-mini", vec![ScriptedReply { text: Some("by model".into()), tool: None, usage: None }]);
        let first = s.next("go [[script:run-1]]", "gpt-5-mini").unwrap();
        assert_eq!(first.wire_tool(), Some(("task_create".into(), r#"{"title":"x"}"#.into())));
        assert_eq!(s.next("go [[script:run-1]]", "any").unwrap().text.as_deref(), Some("done"));
        assert_eq!(s.next("go [[script:run-1]]", "gpt-5-mini"), None, "the marker's queue is empty");
        assert_eq!(s.next("plain", "gpt-5-mini").unwrap().text.as_deref(), Some("by model"));
        assert_eq!(s.next("plain", "gpt-5-mini"), None);
        assert_eq!(s.remaining().values().sum::<usize>(), 0);
        assert!(serde_json::from_value::<ScriptedReply>(json!({"txt": "typo"})).is_err());
    }
}
