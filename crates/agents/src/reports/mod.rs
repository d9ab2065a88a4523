//! Reports (SPEC §5): monthly and annual, written by a chosen agent from the
//! project's facts for the period, stored as Markdown, one per (project,
//! period). On demand through `POST /api/v1/reports/generate`; on schedule
//! through a recurring task whose `context` is
//! `{"report": {"period": "monthly"|"annual", "period_start"?: "YYYY-MM-DD"}}`
//! (without `period_start`, the last complete period before the run).
//! A period with no activity gets a short report written without a model.

pub mod facts;
pub mod period;
pub mod store;

use spgw_providers::{ChatRequest, Message, Role};
use spgw_routing::{CallMeta, Needs};

use self::period::Range;
use crate::error::{AgentError, Result};
use crate::model::{Model, RoutedModel};
use crate::prompt;
use crate::runtime::AgentRuntime;

/// What to generate.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub project_id: i64,
    /// The agent that writes it (must belong to the project).
    pub agent_id: i64,
    pub range: Range,
    /// Who asked (the request log's user).
    pub user_id: i64,
    pub request_id: String,
    /// The task that asked, when on schedule.
    pub task_id: Option<i64>,
}

/// A generated and stored report.
#[derive(Debug, Clone)]
pub struct Generated {
    pub report_id: i64,
    /// False when it replaced the period's previous report.
    pub created: bool,
    pub title: String,
    pub content: String,
    /// `provider/model` that wrote it; `None` when nothing happened and no model was needed.
    pub model: Option<String>,
    pub tokens: u64,
    pub cost_usd: f64,
}

fn writing_prompt(title: &str, project: &str, range: &Range, facts_md: &str) -> String {
    format!(
        "Write the {period} report of the project {project} for {label}, in Markdown.\n\
         Start with the line `# {title}`, then a short summary, then sections on what was done, what failed \
         and why, what it cost, and which knowledge changed. Use only the facts below; do not invent numbers, \
         tasks or documents.\n\n# Facts for {label}\n\n{facts_md}",
        period = range.period.as_str(),
        label = range.label(),
    )
}

impl AgentRuntime {
    /// Gathers the facts, has the agent write the report, and stores it
    /// (replacing the period's previous report).
    pub async fn generate_report(&self, req: &ReportRequest) -> Result<Generated> {
        let agent = self.agent(req.agent_id, Some(req.project_id)).await?;
        let facts = facts::gather(&self.db, req.project_id, req.range).await?;
        let title = store::title(&req.range);
        let (content, model, tokens, cost_usd) = if facts.is_empty() {
            let content = format!(
                "# {title}\n\nNo activity in {}: no task finished, no model was called and no living document changed.\n",
                req.range.label()
            );
            (content, None, 0, 0.0)
        } else {
            let candidates = self.candidates(req.agent_id, Needs::default()).await?;
            let username = prompt::username(&self.db, req.user_id).await?;
            let system = prompt::agent_prompt(&self.db, &agent, &username).await?;
            let user = writing_prompt(&title, &facts.project, &req.range, &facts.to_markdown());
            let model = RoutedModel {
                router: self.router.clone(),
                meta: CallMeta {
                    request_id: req.request_id.clone(),
                    user_id: Some(req.user_id),
                    project_id: Some(req.project_id),
                    agent_id: Some(req.agent_id),
                    task_id: req.task_id,
                    endpoint: "agent.report",
                    requested_model: candidates.first().map(|c| c.label()),
                    ..CallMeta::default()
                },
                candidates,
            };
            let request = ChatRequest {
                messages: vec![Message::text(Role::System, system), Message::text(Role::User, user)],
                ..ChatRequest::default()
            };
            let turn = model.call(request).await?;
            let text = turn.response.text();
            let text = text.trim();
            if text.is_empty() {
                return Err(AgentError::Unavailable(format!("{} wrote an empty report", turn.model.label())));
            }
            let content = if text.starts_with('#') { format!("{text}\n") } else { format!("# {title}\n\n{text}\n") };
            (content, Some(turn.model.label()), turn.tokens(), turn.cost_usd)
        };
        let new = store::NewReport {
            project_id: req.project_id,
            agent_id: Some(req.agent_id),
            range: req.range,
            title: &title,
            content: &content,
        };
        let (report_id, created) = store::upsert(&self.db, &new).await?;
        Ok(Generated { report_id, created, title, content, model, tokens, cost_usd })
    }
}
