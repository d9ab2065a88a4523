//! `agent_plugin`: `agent.list`, the agents of the project (to delegate by tag).

use futures::future::BoxFuture;
use serde_json::{Value, json};
use spgw_providers::ToolDef;
use spgw_tasks::Limits;

use super::args::Args;
use super::{Action, Skill, SkillContext, defs, object};
use crate::error::{AgentError, Result};

/// The `agent_plugin` skill.
pub struct AgentPlugin;

static ACTIONS: &[Action] = &[Action {
    name: "agent.list",
    description: "List the agents of your project: id, name, job title, role, job tags (tasks are assigned by tag) \
                  and whether each is enabled.",
    parameters: || {
        object(
            json!({
                "job_tag": {"type": "string", "description": "Only agents with this job tag."},
                "enabled_only": {"type": "boolean", "description": "Only enabled agents (default true)."}
            }),
            &[],
        )
    },
}];

impl Skill for AgentPlugin {
    fn name(&self) -> &'static str {
        "agent_plugin"
    }

    fn tools(&self) -> Vec<ToolDef> {
        defs(ACTIONS)
    }

    fn execute<'a>(
        &'a self,
        ctx: &'a SkillContext,
        action: &'a str,
        args: Args,
        _remaining: &'a Limits,
    ) -> BoxFuture<'a, Result<Value>> {
        Box::pin(async move {
            match action {
                "agent.list" => list(ctx, &args).await,
                other => Err(AgentError::NotFound(format!("no action {other} in agent_plugin"))),
            }
        })
    }
}

async fn list(ctx: &SkillContext, args: &Args) -> Result<Value> {
    let tag = args.str("job_tag")?;
    let enabled_only = args.bool("enabled_only")?.unwrap_or(true);
    let rows = ctx
        .db
        .fetch_all(
            "SELECT id, name, job_title, role, job_tags, enabled FROM agents WHERE project_id = ? ORDER BY id LIMIT 500",
            &[ctx.project_id.into()],
        )
        .await?;
    let agents: Vec<Value> = rows
        .iter()
        .filter(|r| !enabled_only || r.bool("enabled"))
        .filter_map(|r| {
            let tags: Vec<String> = r.str("job_tags").and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
            if tag.as_ref().is_some_and(|t| !tags.iter().any(|x| x.eq_ignore_ascii_case(t))) {
                return None;
            }
            let id = r.i64("id")?;
            Some(json!({
                "id": id,
                "name": r.str("name"),
                "job_title": r.str("job_title"),
                "role": r.str("role"),
                "job_tags": tags,
                "enabled": r.bool("enabled"),
                "is_you": id == ctx.agent_id,
            }))
        })
        .collect();
    Ok(json!({"agents": agents}))
}
