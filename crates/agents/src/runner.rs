//! [`AgentRunner`] for the executor: runs an agent on a claimed task. The
//! prompt is the agent's identity and soul, its project and user, its skills,
//! and the task (title, description, attachments, context); the tool loop runs
//! with the agent's models (fallback included), the task's merged limits and
//! the runtime settings; every message goes to the task's session.
//!
//! How a run ends: the model answered → `Completed` (output: the answer); a
//! guard tripped or built-in tools are switched off → `Blocked` (reason and
//! partial output; not retried), and so did a model that kept calling tools past
//! `mcp.max_tool_iterations` (a runaway loop: retrying it would only spend the
//! budget again); a model call failed → `Failed` (reason and partial output;
//! retried by the executor); the task was cancelled →
//! `Cancelled`. A task with nothing to do (no title, description or
//! attachments), or a scheduled report whose period already has one, ends
//! `Completed` without calling a model.

use futures::future::BoxFuture;
use serde_json::Value;
use spgw_providers::{ChatRequest, Message, Role};
use spgw_routing::{CallMeta, Needs};
use spgw_sessions::{NewSession, SessionStore};
use spgw_tasks::{AgentRunner, RunStatus, TaskJob, TaskOutcome};

use crate::error::Result;
use crate::guards::Guard;
use crate::model::RoutedModel;
use crate::prompt;
use crate::reports::period::{Period, Range};
use crate::reports::{ReportRequest, store as report_store};
use crate::runtime::AgentRuntime;
use crate::skills::{SkillContext, SkillSet};
use crate::tool_loop::{LoopOutcome, LoopSettings, SessionTranscript, Stop, ToolLoop, repair_history};

impl AgentRunner for AgentRuntime {
    fn run(&self, job: TaskJob) -> BoxFuture<'static, TaskOutcome> {
        let rt = self.clone();
        Box::pin(async move {
            let task_id = job.task_id;
            let result = match job.context.get("report").filter(|r| r.is_object()).cloned() {
                Some(report) => rt.run_report(&job, &report).await,
                None => rt.run_task(&job).await,
            };
            result.unwrap_or_else(|e| {
                tracing::warn!(task_id, error = %e, "task run failed");
                outcome(RunStatus::Failed, String::new(), Some(e.to_string()), 0, 0.0, job.session_id.clone())
            })
        })
    }
}

fn outcome(
    status: RunStatus,
    output: String,
    error: Option<String>,
    tokens: u64,
    cost_usd: f64,
    session_id: Option<String>,
) -> TaskOutcome {
    TaskOutcome { status, output, error, tokens, cost_usd, session_id }
}

/// Maps how the loop ended to how the task ends.
fn task_outcome(out: LoopOutcome, session_id: Option<String>, max_iterations: u32) -> TaskOutcome {
    let (tokens, cost) = (out.metered.tokens, out.metered.cost_usd);
    let partial = out.partial_output();
    let (status, output, error) = match &out.stop {
        Stop::Answered => {
            let answer = out.answer();
            let output = if answer.trim().is_empty() { partial } else { answer };
            (RunStatus::Completed, output, None)
        }
        Stop::Guard(trip) => (RunStatus::Blocked, partial, Some(format!("{}: {trip}", trip.code()))),
        Stop::AutoExecuteOff => (
            RunStatus::Blocked,
            partial,
            Some("the agent called built-in tools but mcp.auto_execute_skills is false".to_string()),
        ),
        Stop::ToolLimit { .. } => (
            RunStatus::Blocked,
            partial,
            Some(format!(
                "tool loop limit reached: the model still called tools after {max_iterations} rounds (mcp.max_tool_iterations)"
            )),
        ),
        // A task run answers every call itself; a call left over means a tool nobody has.
        Stop::ClientTools => {
            let names: Vec<&str> = out.pending.iter().map(|c| c.name.as_str()).collect();
            (RunStatus::Failed, partial, Some(format!("the model called unknown tools: {}", names.join(", "))))
        }
        Stop::Cancelled => (RunStatus::Cancelled, partial, Some("cancelled".to_string())),
        Stop::Failed(e) => (RunStatus::Failed, partial, Some(e.to_string())),
    };
    outcome(status, output, error, tokens, cost, session_id)
}

impl AgentRuntime {
    async fn run_task(&self, job: &TaskJob) -> Result<TaskOutcome> {
        if job.title.trim().is_empty() && job.description.trim().is_empty() && job.attachments.is_empty() {
            let out = "Nothing to do: the task has no title, description or attachments.".to_string();
            return Ok(outcome(RunStatus::Completed, out, None, 0, 0.0, job.session_id.clone()));
        }
        let agent = self.agent(job.agent_id, Some(job.project_id)).await?;
        let settings = LoopSettings::load(&self.settings).await;
        let ctx = SkillContext {
            db: self.db.clone(),
            project_id: job.project_id,
            agent_id: job.agent_id,
            user_id: job.user_id,
            task_id: Some(job.task_id),
        };
        let skills = SkillSet::for_agent(&self.skills, ctx).await?.claiming_unknown();
        let tools = skills.tool_defs();
        let candidates = self.candidates(job.agent_id, Needs { tools: !tools.is_empty(), ..Needs::default() }).await?;

        // The task's session, continued; a new one when it has none (or it expired).
        let existing = match &job.session_id {
            Some(sid) => self.sessions.load(sid).await?,
            None => None,
        };
        let (session_id, mut history) = match existing {
            Some(s) => (s.meta.session_id, s.messages),
            None => {
                let created = self
                    .sessions
                    .create(NewSession {
                        user_id: job.user_id,
                        project_id: Some(job.project_id),
                        agent_id: Some(job.agent_id),
                        model_id: Some(candidates[0].model_id),
                        task_id: Some(job.task_id),
                        title: Some(job.title.chars().take(80).collect()),
                        mcp_config: None,
                    })
                    .await?;
                (created.session_id, Vec::new())
            }
        };
        repair_history(&mut history);
        history.retain(|m| m.role != Role::System);

        let username = prompt::username(&self.db, job.user_id).await?;
        let mut system = prompt::agent_prompt(&self.db, &agent, &username).await?;
        if let Some(s) = prompt::skills_prompt(&skills) {
            system.push_str("\n\n");
            system.push_str(&s);
        }
        system.push_str("\n\n");
        system.push_str(&prompt::task_instructions(job));
        let user = if job.attempt > 1 && !history.is_empty() {
            format!(
                "This is attempt {} at task #{}: \"{}\". The previous attempt stopped early; continue from where it \
                 stopped and finish the task.",
                job.attempt, job.task_id, job.title
            )
        } else {
            prompt::task_prompt(job).await
        };
        let turn = vec![Message::text(Role::User, user)];
        let mut messages = Vec::with_capacity(history.len() + 2);
        messages.push(Message::text(Role::System, system));
        messages.extend(history);
        messages.extend(turn.iter().cloned());

        let model = RoutedModel {
            router: self.router.clone(),
            meta: CallMeta {
                request_id: format!(
                    "task-{}-{}-{}",
                    job.task_id,
                    job.attempt,
                    &uuid::Uuid::new_v4().simple().to_string()[..8]
                ),
                user_id: Some(job.user_id),
                project_id: Some(job.project_id),
                agent_id: Some(job.agent_id),
                task_id: Some(job.task_id),
                session_id: Some(session_id.clone()),
                endpoint: "agent.task",
                requested_model: candidates.first().map(|c| c.label()),
                ..CallMeta::default()
            },
            candidates,
        };
        let mut transcript = SessionTranscript {
            sessions: self.sessions.clone(),
            session_id: session_id.clone(),
            mcp_config: None,
            strict: false,
        };
        let mut guard = Guard::new(job.limits.clone(), settings.max_identical_calls);
        let out = ToolLoop {
            model: &model,
            tools: &skills,
            transcript: &mut transcript,
            guard: &mut guard,
            settings,
            cancel: Some(job.cancel.clone()),
            events: None,
        }
        .run(ChatRequest { messages, tools, ..ChatRequest::default() }, turn)
        .await;
        Ok(task_outcome(out, Some(session_id), settings.max_tool_iterations))
    }

    /// A scheduled report: `context.report = {"period", "period_start"?}`.
    async fn run_report(&self, job: &TaskJob, spec: &Value) -> Result<TaskOutcome> {
        let period = spec.get("period").and_then(Value::as_str).unwrap_or("monthly");
        let range = match spec.get("period_start").and_then(Value::as_str) {
            Some(start) => Range::parse(period, start)?,
            None => Range::previous(Period::parse(period)?, chrono::Utc::now().date_naive()),
        };
        if let Some(existing) = report_store::find(&self.db, job.project_id, &range).await? {
            let out = format!(
                "The {} report for {} already exists (report {}); nothing to do.",
                range.period.as_str(),
                range.label(),
                existing.i64("id").unwrap_or_default()
            );
            return Ok(outcome(RunStatus::Completed, out, None, 0, 0.0, job.session_id.clone()));
        }
        if job.cancel.is_cancelled() {
            return Ok(outcome(RunStatus::Cancelled, String::new(), Some("cancelled".into()), 0, 0.0, None));
        }
        let req = ReportRequest {
            project_id: job.project_id,
            agent_id: job.agent_id,
            range,
            user_id: job.user_id,
            request_id: format!("task-{}-{}-report", job.task_id, job.attempt),
            task_id: Some(job.task_id),
        };
        let generated = tokio::select! {
            biased;
            _ = job.cancel.cancelled() => return Ok(outcome(RunStatus::Cancelled, String::new(), Some("cancelled".into()), 0, 0.0, None)),
            g = self.generate_report(&req) => g,
        };
        let g = generated?;
        Ok(outcome(RunStatus::Completed, g.content, None, g.tokens, g.cost_usd, job.session_id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use spgw_providers::ToolCall;

    use super::*;
    use crate::guards::{Metered, Trip};
    use crate::tool_loop::{Executed, ToolOutput};

    fn loop_outcome(stop: Stop, texts: &[&str]) -> LoopOutcome {
        let call = ToolCall { id: "c1".into(), name: "task.create".into(), arguments: "{}".into() };
        LoopOutcome {
            stop,
            last: None,
            texts: texts.iter().map(|t| t.to_string()).collect(),
            pending: Vec::new(),
            executed: vec![Executed { call, output: ToolOutput { text: "{}".into(), is_error: false } }],
            usage: Default::default(),
            metered: Metered { turns: 2, tool_calls: 1, tokens: 240, cost_usd: 0.5 },
            iterations: 1,
            follow_ups: 0,
        }
    }

    #[test]
    fn guard_stops_are_blocked_with_the_partial_output() {
        let o = task_outcome(loop_outcome(Stop::Guard(Trip::Turns { limit: 2 }), &["Halfway there."]), None, 3);
        assert_eq!(o.status, RunStatus::Blocked);
        assert_eq!(o.output, "Halfway there.");
        assert_eq!(o.error.as_deref(), Some("max_turns: turn limit reached (2 model calls)"));
        assert_eq!((o.tokens, o.cost_usd), (240, 0.5), "what was spent is reported");
    }

    #[test]
    fn runaway_loops_are_blocked_and_say_what_ran() {
        let o = task_outcome(loop_outcome(Stop::ToolLimit { iterations: 3 }, &[""]), Some("s1".into()), 3);
        assert_eq!(o.status, RunStatus::Blocked, "a runaway loop is not retried");
        assert!(o.error.unwrap().contains("after 3 rounds"));
        assert!(o.output.contains("- task.create {} → ok"), "{}", o.output);
        assert_eq!(o.session_id.as_deref(), Some("s1"));
        let o = task_outcome(loop_outcome(Stop::Cancelled, &[]), None, 3);
        assert_eq!(o.status, RunStatus::Cancelled);
    }
}
