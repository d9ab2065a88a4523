//! Built-in skills (SPEC §9): tools the gateway runs itself, each scoped to
//! the agent's own project. A skill is a plugin granted by a `resources` row
//! with `resource_type = 'skill'`, `agent_id` = the agent and `name` = the
//! plugin's name; without that row none of its tools reach the model.
//!
//! Each plugin is one module implementing [`Skill`] (its actions as JSON
//! Schema tool definitions, and their executor); [`Registry::builtin`] names
//! the modules. Adding a skill (the coding plugin, say) is one module and one
//! line: in that list, or, for a plugin that holds a handle of its own (an SSH
//! runner), [`Registry::with`] at start-up. [`Skill::available`] lets it
//! require more than the resource row (a codebase with a runner, for instance).

mod agent;
pub mod args;
mod living_document;
mod report;
mod task;

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use spgw_providers::{ToolCall, ToolDef};
use spgw_store::Db;
use spgw_tasks::Limits;

use crate::error::{AgentError, Result};
use crate::tool_loop::{ToolOutput, Tools};

/// One action of a plugin: its tool name, what it does, and its arguments' schema.
pub struct Action {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: fn() -> Value,
}

impl Action {
    /// The tool definition sent to the model.
    pub fn tool_def(&self) -> ToolDef {
        ToolDef {
            name: self.name.to_string(),
            description: self.description.to_string(),
            parameters: (self.parameters)(),
            strict: None,
            cache_control: None,
        }
    }
}

/// Who is calling and on what: every action stays inside `project_id`.
#[derive(Debug, Clone)]
pub struct SkillContext {
    pub db: Db,
    pub project_id: i64,
    pub agent_id: i64,
    /// The user the agent works for (the project's owner, or the chat's caller).
    pub user_id: i64,
    /// The task being worked on, if any (tasks created now are spawned by it).
    pub task_id: Option<i64>,
}

/// A built-in plugin.
pub trait Skill: Send + Sync {
    /// The resource name that grants it (`task_plugin`).
    fn name(&self) -> &'static str;
    /// Its actions as tool definitions (JSON Schema arguments).
    fn tools(&self) -> Vec<ToolDef>;
    /// Whether the agent can have it beyond holding the resource (default: yes).
    fn available<'a>(&'a self, _ctx: &'a SkillContext) -> BoxFuture<'a, bool> {
        Box::pin(async { true })
    }
    /// Whether the plugin grants its tools itself in [`Skill::tools_for`]
    /// (external MCP servers, granted per tool by `tool` resources) instead of
    /// by a `skill` row (default: no).
    fn self_granted(&self) -> bool {
        false
    }
    /// The tools this agent gets (default: all of [`Skill::tools`]).
    fn tools_for<'a>(&'a self, _ctx: &'a SkillContext) -> BoxFuture<'a, Vec<ToolDef>> {
        Box::pin(async move { self.tools() })
    }
    /// Runs the action `tool`; `remaining` is what is left of the run's limits.
    fn execute<'a>(
        &'a self,
        ctx: &'a SkillContext,
        tool: &'a str,
        args: args::Args,
        remaining: &'a Limits,
    ) -> BoxFuture<'a, Result<Value>>;
}

/// The tool definitions of a static action list.
fn defs(actions: &[Action]) -> Vec<ToolDef> {
    actions.iter().map(Action::tool_def).collect()
}

/// The plugins the gateway offers. [`Registry::builtin`] has the four that
/// need nothing but the database; a plugin that needs more (the coding plugin
/// and its SSH runner) is added at start-up with [`Registry::with`].
#[derive(Clone)]
pub struct Registry {
    plugins: Vec<Arc<dyn Skill>>,
}

impl Registry {
    /// `agent_plugin`, `task_plugin`, `report_plugin`, `living_document_plugin`.
    pub fn builtin() -> Registry {
        Registry {
            plugins: vec![
                Arc::new(agent::AgentPlugin),
                Arc::new(task::TaskPlugin),
                Arc::new(report::ReportPlugin),
                Arc::new(living_document::LivingDocumentPlugin),
            ],
        }
    }

    /// Adds (or replaces, by name) a plugin.
    pub fn with(mut self, plugin: Arc<dyn Skill>) -> Registry {
        self.plugins.retain(|p| p.name() != plugin.name());
        self.plugins.push(plugin);
        self
    }

    /// The plugin named `name`.
    pub fn plugin(&self, name: &str) -> Option<&Arc<dyn Skill>> {
        self.plugins.iter().find(|p| p.name() == name)
    }

    /// Whether a name is one of these plugins or one of their tools.
    pub fn is_builtin(&self, name: &str) -> bool {
        self.plugin(name).is_some() || self.plugins.iter().any(|p| p.tools().iter().any(|t| t.name == name))
    }
}

/// A granted plugin with its tools, read once per run.
struct Granted {
    plugin: Arc<dyn Skill>,
    tools: Vec<ToolDef>,
}

/// The skills one agent has in one run.
pub struct SkillSet {
    ctx: SkillContext,
    granted: Vec<Granted>,
    /// Whether calls to unknown tools are answered with an error (task runs,
    /// where nobody else could answer them) rather than left to the caller.
    claim_unknown: bool,
}

impl SkillSet {
    /// The plugins of `registry` granted to the agent `ctx.agent_id` by its `resources` rows.
    pub async fn for_agent(registry: &Registry, ctx: SkillContext) -> Result<SkillSet> {
        let rows = ctx
            .db
            .fetch_all(
                "SELECT DISTINCT name FROM resources WHERE agent_id = ? AND project_id = ? AND resource_type = 'skill'",
                &[ctx.agent_id.into(), ctx.project_id.into()],
            )
            .await?;
        let names: Vec<&str> = rows.iter().filter_map(|r| r.str("name")).collect();
        let mut granted = Vec::new();
        // In registry order, so tool lists are stable whatever the row order.
        for p in &registry.plugins {
            if (p.self_granted() || names.contains(&p.name())) && p.available(&ctx).await {
                let tools = p.tools_for(&ctx).await;
                if !tools.is_empty() {
                    granted.push(Granted { plugin: p.clone(), tools });
                }
            }
        }
        Ok(SkillSet { ctx, granted, claim_unknown: false })
    }

    /// Answers calls to tools nobody has with an error instead of returning them.
    pub fn claiming_unknown(mut self) -> Self {
        self.claim_unknown = true;
        self
    }

    /// Keeps only the tools `operations` names (by plugin or tool name), when
    /// it names any of `registry`'s; other entries are not ours to judge.
    pub fn restrict(&mut self, registry: &Registry, operations: &[String]) {
        if !operations.iter().any(|o| registry.is_builtin(o)) {
            return;
        }
        for g in &mut self.granted {
            if !operations.iter().any(|o| o == g.plugin.name()) {
                g.tools.retain(|t| operations.contains(&t.name));
            }
        }
        self.granted.retain(|g| !g.tools.is_empty());
    }

    /// Whether no tool is left.
    pub fn is_empty(&self) -> bool {
        self.granted.iter().all(|g| g.tools.is_empty())
    }

    /// The context the actions run in.
    pub fn context(&self) -> &SkillContext {
        &self.ctx
    }

    /// Names of the granted plugins.
    pub fn plugin_names(&self) -> Vec<&'static str> {
        self.granted.iter().map(|g| g.plugin.name()).collect()
    }

    /// The tool definitions to send to the model.
    pub fn tool_defs(&self) -> Vec<ToolDef> {
        self.granted.iter().flat_map(|g| g.tools.iter().cloned()).collect()
    }

    /// Whether `name` is one of this set's tools.
    pub fn has_tool(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    fn find(&self, name: &str) -> Option<&Arc<dyn Skill>> {
        self.granted.iter().find(|g| g.tools.iter().any(|t| t.name == name)).map(|g| &g.plugin)
    }
}

/// A tool result in the shape the model reads: the value, or `{"error": ...}`.
fn output(r: Result<Value>) -> ToolOutput {
    match r {
        Ok(v) => ToolOutput { text: v.to_string(), is_error: false },
        Err(e) => {
            let message = match &e {
                // Storage details stay in the log.
                AgentError::Store(_)
                | AgentError::Session(_)
                | AgentError::Route(_)
                | AgentError::Task(spgw_tasks::TaskError::Store(_)) => {
                    tracing::warn!(error = %e, "built-in tool failed");
                    "internal error; try again later".to_string()
                }
                other => other.to_string(),
            };
            ToolOutput::error(json!({"error": message}).to_string())
        }
    }
}

impl Tools for SkillSet {
    fn handles(&self, name: &str) -> bool {
        self.claim_unknown || self.has_tool(name)
    }

    fn execute<'a>(&'a self, call: &'a ToolCall, remaining: &'a Limits) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            let Some(p) = self.find(&call.name) else {
                return output(Err(AgentError::NotFound(format!("no tool named {}", call.name))));
            };
            let r = match args::Args::parse(&call.arguments) {
                Ok(a) => p.execute(&self.ctx, &call.name, a, remaining).await,
                Err(e) => Err(e),
            };
            output(r)
        })
    }
}

/// An object schema with these properties and required keys.
pub(crate) fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_have_the_spec_action_names() {
        let r = Registry::builtin();
        let names = |p: &str| r.plugin(p).unwrap().tools().into_iter().map(|t| t.name).collect::<Vec<_>>();
        assert_eq!(names("agent_plugin"), ["agent.list"]);
        assert_eq!(names("task_plugin"), ["task.create", "task.finish", "task.upsert", "task.delete", "task.list"]);
        assert_eq!(names("report_plugin"), ["report.create", "report.upsert", "report.delete", "report.list"]);
        assert_eq!(names("living_document_plugin"), ["living_document.upsert", "living_document.list"]);
    }

    #[test]
    fn every_schema_is_an_object_schema_naming_its_required_keys() {
        let r = Registry::builtin();
        for p in &r.plugins {
            for t in p.tools() {
                let s = &t.parameters;
                assert_eq!(s["type"], "object", "{}", t.name);
                let props = s["properties"].as_object().unwrap_or_else(|| panic!("{} has properties", t.name));
                for req in s["required"].as_array().unwrap() {
                    assert!(props.contains_key(req.as_str().unwrap()), "{}: required {req} is a property", t.name);
                }
                assert!(!t.description.is_empty());
                assert!(t.name.starts_with(p.name().trim_end_matches("_plugin")), "{} in {}", t.name, p.name());
            }
        }
        assert!(r.is_builtin("task_plugin") && r.is_builtin("task.create") && !r.is_builtin("weather.get"));
    }

    /// A plugin added at start-up, as the coding plugin will be.
    struct Extra;

    impl Skill for Extra {
        fn name(&self) -> &'static str {
            "extra_plugin"
        }
        fn tools(&self) -> Vec<ToolDef> {
            defs(&[Action { name: "extra.run", description: "Runs.", parameters: || object(json!({}), &[]) }])
        }
        fn execute<'a>(
            &'a self,
            _: &'a SkillContext,
            _: &'a str,
            _: args::Args,
            _: &'a Limits,
        ) -> BoxFuture<'a, Result<Value>> {
            Box::pin(async { Ok(json!({"ran": true})) })
        }
    }

    #[test]
    fn plugins_can_be_added_and_replaced() {
        let r = Registry::builtin().with(Arc::new(Extra));
        assert!(r.is_builtin("extra_plugin") && r.is_builtin("extra.run"));
        let r = r.with(Arc::new(Extra));
        assert_eq!(r.plugins.iter().filter(|p| p.name() == "extra_plugin").count(), 1);
        assert_eq!(r.plugins.len(), 5);
    }
}
