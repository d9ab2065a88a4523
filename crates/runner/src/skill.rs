//! `coding_plugin` as an agent skill: the twelve coding tools, offered only
//! under SPEC §9's conditions (the agent holds the skill, has a
//! `codebase_id`, that codebase is enabled and its runner has host, ssh_user
//! and workspace_root), executed over the codebase's pooled SSH connection.
//! Registered at start-up with `Registry::builtin().with(...)`.

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use spgw_agents::AgentError;
use spgw_agents::skills::args::Args;
use spgw_agents::skills::{Skill, SkillContext};
use spgw_providers::ToolDef;
use spgw_tasks::Limits;

use crate::coding;
use crate::error::RunnerError;
use crate::service::Runs;

/// The `coding_plugin` skill, holding the run service for its SSH connections and credentials.
pub struct CodingPlugin {
    runs: Runs,
}

impl CodingPlugin {
    /// The plugin over the gateway's run service.
    pub fn new(runs: Runs) -> Self {
        CodingPlugin { runs }
    }

    /// The agent's codebase when SPEC §9 allows coding on it (same project, enabled, runner set).
    async fn codebase(&self, ctx: &SkillContext) -> Result<Option<i64>, AgentError> {
        let row = ctx
            .db
            .fetch_optional(
                "SELECT codebase_id FROM agents WHERE id = ? AND project_id = ?",
                &[ctx.agent_id.into(), ctx.project_id.into()],
            )
            .await?;
        let Some(id) = row.and_then(|r| r.i64("codebase_id")) else { return Ok(None) };
        let cb = self.runs.codebase(id).await.map_err(to_agent)?;
        Ok(cb.filter(|c| c.project_id == ctx.project_id && c.coding_ready()).map(|c| c.id))
    }
}

/// Tool errors the model can act on; storage trouble stays internal.
fn to_agent(e: RunnerError) -> AgentError {
    match e {
        RunnerError::Store(s) => AgentError::Store(s),
        RunnerError::Invalid { field, message } => AgentError::invalid(field, message),
        RunnerError::PathRefused(m) => AgentError::invalid("path", format!("refused: {m}")),
        RunnerError::Action(m) => AgentError::invalid("action", m),
        RunnerError::NotFound(m) => AgentError::NotFound(m),
        other => AgentError::Unavailable(other.to_string()),
    }
}

impl Skill for CodingPlugin {
    fn name(&self) -> &'static str {
        "coding_plugin"
    }

    fn tools(&self) -> Vec<ToolDef> {
        coding::tools()
            .into_iter()
            .map(|t| ToolDef {
                name: t.name.to_string(),
                description: t.description.to_string(),
                parameters: t.parameters,
                strict: None,
                cache_control: None,
            })
            .collect()
    }

    fn available<'a>(&'a self, ctx: &'a SkillContext) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            match self.codebase(ctx).await {
                Ok(found) => found.is_some(),
                Err(e) => {
                    tracing::warn!(agent_id = ctx.agent_id, error = %e, "cannot tell whether coding_plugin applies");
                    false
                }
            }
        })
    }

    fn execute<'a>(
        &'a self,
        ctx: &'a SkillContext,
        tool: &'a str,
        args: Args,
        _remaining: &'a Limits,
    ) -> BoxFuture<'a, Result<Value, AgentError>> {
        Box::pin(async move {
            let spec = coding::tools()
                .into_iter()
                .find(|t| t.name == tool)
                .ok_or_else(|| AgentError::NotFound(format!("no action {tool} in coding_plugin")))?;
            let id = self
                .codebase(ctx)
                .await?
                .ok_or_else(|| AgentError::Unavailable("the agent's codebase is not set up for coding".into()))?;
            // The arguments the tool declares, as one object.
            let mut object = Map::new();
            if let Some(props) = spec.parameters["properties"].as_object() {
                for key in props.keys() {
                    if let Some(v) = args.json(key) {
                        object.insert(key.clone(), v.clone());
                    }
                }
            }
            let ws = self.runs.coding(id).await.map_err(to_agent)?;
            tracing::info!(agent_id = ctx.agent_id, task_id = ?ctx.task_id, codebase_id = id, tool, "agent coding action");
            ws.call(tool, &Value::Object(object)).await.map_err(to_agent)
        })
    }
}
