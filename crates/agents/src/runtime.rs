//! The agent runtime: what running agents needs (database, router, sessions,
//! settings), shared by the task runner, the chat's `conversation` operation
//! and report generation. Cheap to clone.

use std::sync::Arc;

use serde_json::Value;
use spgw_routing::{Candidate, Needs, Router};
use spgw_sessions::Sessions;
use spgw_store::repo::settings::Settings;
use spgw_store::{Db, Row};
use spgw_tasks::Limits;

use crate::error::{AgentError, Result};
use crate::skills::Registry;

/// The agent runtime.
#[derive(Clone)]
pub struct AgentRuntime(Arc<Inner>);

/// What [`AgentRuntime`] holds.
pub struct Inner {
    pub db: Db,
    pub router: Arc<Router>,
    pub sessions: Sessions,
    pub settings: Settings,
    /// The plugins agents can be granted.
    pub skills: Registry,
}

impl std::ops::Deref for AgentRuntime {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AgentRuntime {
    /// A runtime over the gateway's database, router, sessions and settings,
    /// with the built-in plugins.
    pub fn new(db: Db, router: Arc<Router>, sessions: Sessions, settings: Settings) -> Self {
        AgentRuntime::with_skills(db, router, sessions, settings, Registry::builtin())
    }

    /// As [`AgentRuntime::new`], with these plugins (e.g. the built-ins plus the coding plugin).
    pub fn with_skills(db: Db, router: Arc<Router>, sessions: Sessions, settings: Settings, skills: Registry) -> Self {
        AgentRuntime(Arc::new(Inner { db, router, sessions, settings, skills }))
    }

    /// The agent `agent_id`, which must belong to `project_id` when one is given.
    pub async fn agent(&self, agent_id: i64, project_id: Option<i64>) -> Result<Row> {
        let row = self.db.fetch_optional("SELECT * FROM agents WHERE id = ?", &[agent_id.into()]).await?;
        match row {
            Some(r) if project_id.is_none_or(|p| r.i64("project_id") == Some(p)) => Ok(r),
            _ => Err(AgentError::NotFound(format!("agent {agent_id} not found in the project"))),
        }
    }

    /// The agent's models, in priority order, that can serve a request with `needs`.
    pub async fn candidates(&self, agent_id: i64, needs: Needs) -> Result<Vec<Candidate>> {
        let all = self.router.models.agent_models(agent_id).await?;
        if all.is_empty() {
            return Err(AgentError::Unavailable(format!(
                "agent {agent_id} has no models; give it some with PATCH /api/v1/update/agent/{agent_id} {{\"models\": [...]}}"
            )));
        }
        let total = all.len();
        let first_lack = all[0].lacks(needs);
        let usable: Vec<Candidate> = all.into_iter().filter(|c| c.lacks(needs).is_none()).collect();
        if usable.is_empty() {
            return Err(AgentError::Unavailable(format!(
                "none of the {total} models of agent {agent_id} supports {}",
                first_lack.unwrap_or("chat")
            )));
        }
        Ok(usable)
    }
}

/// An agent's own limits: `config.limits` of its row (`{max_turns, max_tool_calls,
/// max_tokens, max_cost_usd}`), applied to its conversations.
pub fn agent_limits(agent: &Row) -> Limits {
    let config: Option<Value> = agent.str("config").and_then(|c| serde_json::from_str(c).ok());
    spgw_tasks::limits::from_json(config.as_ref().and_then(|c| c.get("limits")))
}
