//! The `mcp` skill: tools of external MCP servers offered to an agent.
//!
//! Grants are `resources` rows with `resource_type = 'tool'`, the agent's
//! `agent_id` and a `name` of `mcp:<server>` (every tool of that server) or
//! `mcp:<server>/<tool>` (one tool), where `<server>` is the `mcp_tools.name`
//! of an enabled server in the agent's project or a global one (the project's
//! wins on a name clash). Only granted tools reach the model, under the name
//! `<server>__<tool>` (characters other than letters, digits, `_` and `-`
//! become `_`; cut to 64), with the server's description and input schema.
//! Calls go through [`McpManager::call`]; the tool loop stores them in the
//! session like built-in calls. Secrets never appear: tools see only their
//! arguments and results.

use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use spgw_agents::AgentError;
use spgw_agents::skills::args::Args;
use spgw_agents::skills::{Skill, SkillContext};
use spgw_providers::ToolDef;
use spgw_tasks::Limits;

use crate::error::McpError;
use crate::manager::McpManager;

/// Resource names granting MCP tools start with this.
pub const GRANT_PREFIX: &str = "mcp:";

/// The skill over the gateway's MCP client manager.
pub struct McpSkill {
    manager: McpManager,
}

/// One granted tool: which server, its MCP name, and its definition for the model.
struct GrantedTool {
    server_id: i64,
    tool: String,
    def: ToolDef,
}

impl McpSkill {
    /// The skill over `manager`.
    pub fn new(manager: McpManager) -> Self {
        McpSkill { manager }
    }

    /// The tools granted to the agent of `ctx`, servers listed when never listed before.
    async fn granted(&self, ctx: &SkillContext) -> Result<Vec<GrantedTool>, AgentError> {
        let rows = ctx
            .db
            .fetch_all(
                "SELECT DISTINCT name FROM resources WHERE agent_id = ? AND project_id = ? AND resource_type = 'tool'",
                &[ctx.agent_id.into(), ctx.project_id.into()],
            )
            .await?;
        let mut out: Vec<GrantedTool> = Vec::new();
        for grant in rows.iter().filter_map(|r| r.str("name")).filter_map(|n| n.strip_prefix(GRANT_PREFIX)) {
            let (server, only) = match grant.split_once('/') {
                Some((s, t)) => (s, Some(t)),
                None => (grant, None),
            };
            let row = ctx
                .db
                .fetch_optional(
                    "SELECT id, name FROM mcp_tools WHERE name = ? AND enabled = 1 AND (project_id = ? OR project_id IS NULL) \
                     ORDER BY project_id IS NULL LIMIT 1",
                    &[server.into(), ctx.project_id.into()],
                )
                .await?;
            let Some(id) = row.and_then(|r| r.i64("id")) else { continue };
            let tools = match self.manager.tools(id).await {
                Ok(t) => t.tools,
                Err(e) => {
                    tracing::warn!(mcp_tool_id = id, error = %e, "MCP server tools unavailable");
                    continue;
                }
            };
            for t in tools {
                let Some(name) = t["name"].as_str() else { continue };
                if only.is_some_and(|o| o != name) {
                    continue;
                }
                let def = ToolDef {
                    name: model_name(server, name),
                    description: t["description"].as_str().unwrap_or_default().to_string(),
                    parameters: t.get("inputSchema").cloned().unwrap_or_else(|| json!({"type": "object"})),
                    strict: None,
                    cache_control: None,
                };
                if !out.iter().any(|g| g.def.name == def.name) {
                    out.push(GrantedTool { server_id: id, tool: name.to_string(), def });
                }
            }
        }
        Ok(out)
    }
}

/// The name the model sees for `tool` of `server`.
pub fn model_name(server: &str, tool: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
    };
    let mut name = format!("{}__{}", clean(server), clean(tool));
    name.truncate(64);
    name
}

/// Errors the model can act on; storage trouble stays internal.
fn to_agent(e: McpError) -> AgentError {
    match e {
        McpError::Store(s) => AgentError::Store(s),
        McpError::NotFound(m) => AgentError::NotFound(m),
        other => AgentError::Unavailable(other.to_string()),
    }
}

impl Skill for McpSkill {
    fn name(&self) -> &'static str {
        "mcp"
    }

    /// Per agent only (see [`Skill::tools_for`]).
    fn tools(&self) -> Vec<ToolDef> {
        Vec::new()
    }

    fn self_granted(&self) -> bool {
        true
    }

    fn tools_for<'a>(&'a self, ctx: &'a SkillContext) -> BoxFuture<'a, Vec<ToolDef>> {
        Box::pin(async move {
            match self.granted(ctx).await {
                Ok(g) => g.into_iter().map(|g| g.def).collect(),
                Err(e) => {
                    tracing::warn!(agent_id = ctx.agent_id, error = %e, "cannot read the agent's MCP tools");
                    Vec::new()
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
            let granted = self.granted(ctx).await?;
            let g = granted
                .iter()
                .find(|g| g.def.name == tool)
                .ok_or_else(|| AgentError::NotFound(format!("no MCP tool named {tool}")))?;
            // The arguments the tool declares, as one object.
            let mut arguments = Map::new();
            if let Some(props) = g.def.parameters["properties"].as_object() {
                for key in props.keys() {
                    if let Some(v) = args.json(key) {
                        arguments.insert(key.clone(), v.clone());
                    }
                }
            }
            tracing::info!(agent_id = ctx.agent_id, task_id = ?ctx.task_id, mcp_tool_id = g.server_id, tool = %g.tool, "agent MCP call");
            let (text, is_error) = self.manager.call(g.server_id, &g.tool, arguments).await.map_err(to_agent)?;
            if is_error {
                return Err(AgentError::invalid(g.tool.clone(), text));
            }
            Ok(Value::String(text))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_are_provider_safe() {
        assert_eq!(model_name("every thing", "get.sum"), "every_thing__get_sum");
        assert_eq!(model_name(&"s".repeat(70), "t").len(), 64);
    }
}
