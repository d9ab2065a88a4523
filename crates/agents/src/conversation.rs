//! The `conversation` operation of `/api/v1/chat`: the chat service plans the
//! call (prompt, candidates, session) as for `chat`; when the agent has
//! built-in skills, their tools join the client's and the turn runs through
//! the tool loop instead of a single model call. Built-in calls are executed
//! and stored in the session; calls to the client's tools end the loop and go
//! back to the caller, who answers them in the next request.

use serde_json::Value;
use spgw_providers::{ChatRequest, Message};
use spgw_routing::{CallMeta, Candidate};
use spgw_store::Row;
use spgw_tasks::Limits;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::guards::Guard;
use crate::model::RoutedModel;
use crate::runtime::{AgentRuntime, agent_limits};
use crate::skills::{SkillContext, SkillSet};
use crate::tool_loop::{LoopEvent, LoopOutcome, LoopSettings, NoTranscript, SessionTranscript, ToolLoop, Transcript};

/// An agent's part in a conversation: its skills and limits.
pub struct ChatAgent {
    pub skills: SkillSet,
    pub limits: Limits,
}

/// A planned conversation turn.
pub struct Conversation {
    /// The whole prompt, tools included (the skills' and the client's).
    pub request: ChatRequest,
    /// The new messages of this turn (stored with the first reply).
    pub turn: Vec<Message>,
    pub candidates: Vec<Candidate>,
    pub meta: CallMeta,
    /// The session the turn goes to (none for `completion`).
    pub session_id: Option<String>,
    pub mcp_config: Option<Value>,
    pub agent: ChatAgent,
}

impl AgentRuntime {
    /// The agent's skills for a conversation, restricted to the built-ins named
    /// in `operations` when it names any; `None` when it has none.
    pub async fn chat_agent(&self, agent: &Row, user_id: i64, operations: &[String]) -> Result<Option<ChatAgent>> {
        let (Some(agent_id), Some(project_id)) = (agent.i64("id"), agent.i64("project_id")) else {
            return Ok(None);
        };
        let ctx = SkillContext { db: self.db.clone(), project_id, agent_id, user_id, task_id: None };
        let mut skills = SkillSet::for_agent(&self.skills, ctx).await?;
        skills.restrict(&self.skills, operations);
        if skills.is_empty() {
            return Ok(None);
        }
        Ok(Some(ChatAgent { skills, limits: agent_limits(agent) }))
    }

    /// Runs the turn through the tool loop. `events` receives tool calls and
    /// results as they happen; cancelling `cancel` (the client left) stops it.
    pub async fn converse(
        &self,
        c: Conversation,
        events: Option<UnboundedSender<LoopEvent>>,
        cancel: Option<CancellationToken>,
    ) -> LoopOutcome {
        let settings = LoopSettings::load(&self.settings).await;
        let model = RoutedModel { router: self.router.clone(), candidates: c.candidates, meta: c.meta };
        let mut session;
        let mut none = NoTranscript;
        let transcript: &mut dyn Transcript = match c.session_id {
            Some(session_id) => {
                session = SessionTranscript {
                    sessions: self.sessions.clone(),
                    session_id,
                    mcp_config: c.mcp_config,
                    strict: true,
                };
                &mut session
            }
            None => &mut none,
        };
        let mut guard = Guard::new(c.agent.limits.clone(), settings.max_identical_calls);
        ToolLoop { model: &model, tools: &c.agent.skills, transcript, guard: &mut guard, settings, cancel, events }
            .run(c.request, c.turn)
            .await
    }
}
