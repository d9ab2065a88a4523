//! `task_plugin`: `task.create`, `task.finish`, `task.upsert`, `task.delete`,
//! `task.list`, over the task service (`spgw_tasks::service`), inside the
//! agent's project. A task created while the agent works on a task is spawned
//! by it (SPEC §6) and inherits what is left of the run's limits.

use futures::future::BoxFuture;
use serde_json::{Value, json};
use spgw_providers::ToolDef;
use spgw_tasks::service;
use spgw_tasks::{Limits, NewTask, TaskFilter, TaskPatch, TaskRow, TaskStatus};

use super::args::Args;
use super::{Action, Skill, SkillContext, defs, object};
use crate::error::{AgentError, Result};

/// The `task_plugin` skill.
pub struct TaskPlugin;

fn task_fields() -> Value {
    json!({
        "title": {"type": "string", "description": "Short title (1-191 characters)."},
        "description": {"type": "string", "description": "What to do, in full."},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags; an agent whose job tags match picks the task up."},
        "schedule": {"type": "object", "description": "None for now, {\"at\": RFC 3339 time}, {\"cron\": pattern, \"timezone\"?} or {\"every_seconds\": n}."},
        "priority": {"type": "integer", "description": "Higher runs first (default 0)."},
        "agent_id": {"type": "integer", "description": "Give it to this agent of the project instead of matching tags."}
    })
}

static ACTIONS: &[Action] = &[
    Action {
        name: "task.create",
        description: "Create a task in your project. While you work on a task, the new task is its child \
                      (spawned) unless you set independent.",
        parameters: || {
            let mut p = task_fields();
            p["parent_task_id"] =
                json!({"type": "integer", "description": "Parent task (default: the task you work on)."});
            p["independent"] = json!({"type": "boolean", "description": "Create a top-level task, not a child."});
            object(p, &["title"])
        },
    },
    Action {
        name: "task.finish",
        description: "Finish a task of your project with its output and a final status (completed, failed or blocked).",
        parameters: || {
            object(
                json!({
                    "task_id": {"type": "integer"},
                    "output": {"type": "string", "description": "The result."},
                    "status": {"type": "string", "enum": ["completed", "failed", "blocked"], "description": "Default completed."}
                }),
                &["task_id"],
            )
        },
    },
    Action {
        name: "task.upsert",
        description: "Update a task of your project (by task_id, else the unfinished task with this title), \
                      or create it when there is none. Fields you leave out keep their value.",
        parameters: || {
            let mut p = task_fields();
            p["task_id"] = json!({"type": "integer", "description": "The task to update."});
            object(p, &["title"])
        },
    },
    Action {
        name: "task.delete",
        description: "Cancel a task of your project (kept for history); its unfinished children are cancelled too.",
        parameters: || object(json!({"task_id": {"type": "integer"}}), &["task_id"]),
    },
    Action {
        name: "task.list",
        description: "List tasks of your project, newest first, with their status and (shortened) output.",
        parameters: || {
            object(
                json!({
                    "status": {"type": "array", "items": {"type": "string", "enum": ["pending", "scheduled", "running", "completed", "failed", "cancelled", "blocked"]}},
                    "tags": {"type": "array", "items": {"type": "string"}, "description": "Tasks with any of these tags."},
                    "search": {"type": "string", "description": "Title contains this text."},
                    "parent_task_id": {"type": "integer"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100}
                }),
                &[],
            )
        },
    },
];

impl Skill for TaskPlugin {
    fn name(&self) -> &'static str {
        "task_plugin"
    }

    fn tools(&self) -> Vec<ToolDef> {
        defs(ACTIONS)
    }

    fn execute<'a>(
        &'a self,
        ctx: &'a SkillContext,
        action: &'a str,
        args: Args,
        remaining: &'a Limits,
    ) -> BoxFuture<'a, Result<Value>> {
        Box::pin(async move {
            match action {
                "task.create" => create(ctx, &args, remaining).await,
                "task.finish" => finish(ctx, &args).await,
                "task.upsert" => upsert(ctx, &args, remaining).await,
                "task.delete" => delete(ctx, &args).await,
                "task.list" => list(ctx, &args).await,
                other => Err(AgentError::NotFound(format!("no action {other} in task_plugin"))),
            }
        })
    }
}

/// What the model sees of a task: the useful fields, output shortened.
fn summary(t: &TaskRow) -> Value {
    let output = t.output.as_deref().map(|o| {
        if o.chars().count() > 500 { format!("{}…", o.chars().take(500).collect::<String>()) } else { o.to_string() }
    });
    json!({
        "id": t.id,
        "title": t.title,
        "status": t.status.as_str(),
        "kind": t.kind,
        "tags": t.tags,
        "parent_task_id": t.parent_task_id,
        "agent_id": t.agent_id,
        "schedule": t.schedule,
        "output": output,
        "error": t.error,
    })
}

/// The task `id`, when it belongs to the agent's project.
async fn own_task(ctx: &SkillContext, id: i64) -> Result<TaskRow> {
    let not_found = || AgentError::NotFound(format!("task {id} not found in your project"));
    match service::get(&ctx.db, id).await {
        Ok(t) if t.project_id == ctx.project_id => Ok(t),
        Ok(_) | Err(spgw_tasks::TaskError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

fn new_task(ctx: &SkillContext, args: &Args) -> Result<NewTask> {
    Ok(NewTask {
        project_id: ctx.project_id,
        title: args.req_str("title")?,
        description: args.str("description")?,
        tags: args.strings("tags")?.unwrap_or_default(),
        schedule: args.json("schedule").cloned(),
        priority: args.int("priority")?.unwrap_or(0),
        agent_id: args.int("agent_id")?,
        created_by_agent: Some(ctx.agent_id),
        ..NewTask::default()
    })
}

async fn create(ctx: &SkillContext, args: &Args, remaining: &Limits) -> Result<Value> {
    let mut t = new_task(ctx, args)?;
    let independent = args.bool("independent")?.unwrap_or(false);
    let parent = match args.int("parent_task_id")? {
        Some(p) => Some(own_task(ctx, p).await?.id),
        None if !independent => ctx.task_id,
        None => None,
    };
    let task = match parent {
        Some(p) => {
            // The child may spend at most what this run has left.
            t.limits = spgw_tasks::limits::to_json(remaining);
            service::spawn(&ctx.db, p, t).await?
        }
        None => {
            t.created_by = Some(ctx.user_id);
            service::create(&ctx.db, t).await?
        }
    };
    Ok(json!({"created": true, "task": summary(&task)}))
}

fn status_of(args: &Args) -> Result<TaskStatus> {
    match args.str("status")?.as_deref() {
        None | Some("completed") => Ok(TaskStatus::Completed),
        Some("failed") => Ok(TaskStatus::Failed),
        Some("blocked") => Ok(TaskStatus::Blocked),
        Some(other) => {
            Err(AgentError::invalid("status", format!("must be completed, failed or blocked, not {other:?}")))
        }
    }
}

async fn finish(ctx: &SkillContext, args: &Args) -> Result<Value> {
    let task = own_task(ctx, args.req_int("task_id")?).await?;
    let status = status_of(args)?;
    let done = service::finish(&ctx.db, task.id, args.str("output")?, status).await?;
    Ok(json!({"finished": true, "task": summary(&done)}))
}

async fn upsert(ctx: &SkillContext, args: &Args, remaining: &Limits) -> Result<Value> {
    let existing = match args.int("task_id")? {
        Some(id) => Some(own_task(ctx, id).await?),
        None => {
            let title = args.req_str("title")?;
            let f = TaskFilter {
                project_id: Some(ctx.project_id),
                status: vec![TaskStatus::Pending, TaskStatus::Scheduled, TaskStatus::Running],
                search: Some(title.clone()),
                limit: Some(50),
                ..TaskFilter::default()
            };
            let page = service::list(&ctx.db, &f).await?;
            page.data.into_iter().find(|t| t.title.trim().eq_ignore_ascii_case(title.trim()))
        }
    };
    let Some(task) = existing else {
        return create(ctx, args, remaining).await;
    };
    let patch = TaskPatch {
        title: args.str("title")?,
        description: args.str("description")?.map(Some),
        tags: args.strings("tags")?,
        schedule: args.json("schedule").cloned().map(Some),
        priority: args.int("priority")?,
        agent_id: args.int("agent_id")?.map(Some),
        ..TaskPatch::default()
    };
    let updated = service::update(&ctx.db, task.id, patch).await?;
    Ok(json!({"created": false, "task": summary(&updated)}))
}

async fn delete(ctx: &SkillContext, args: &Args) -> Result<Value> {
    let task = own_task(ctx, args.req_int("task_id")?).await?;
    if Some(task.id) == ctx.task_id {
        return Err(AgentError::invalid("task_id", "that is the task you are working on; finish it instead"));
    }
    let cancelled = service::cancel(&ctx.db, task.id).await?;
    Ok(json!({"cancelled": true, "task": summary(&cancelled)}))
}

async fn list(ctx: &SkillContext, args: &Args) -> Result<Value> {
    let status = args
        .strings("status")?
        .unwrap_or_default()
        .iter()
        .map(|s| TaskStatus::parse(s).ok_or_else(|| AgentError::invalid("status", format!("unknown status {s:?}"))))
        .collect::<Result<Vec<_>>>()?;
    let f = TaskFilter {
        project_id: Some(ctx.project_id),
        status,
        tags_any: args.strings("tags")?.unwrap_or_default(),
        search: args.str("search")?,
        parent_task_id: args.int("parent_task_id")?,
        limit: Some(args.limit(20, 100)?),
        ..TaskFilter::default()
    };
    let page = service::list(&ctx.db, &f).await?;
    Ok(json!({"total": page.total, "tasks": page.data.iter().map(summary).collect::<Vec<_>>()}))
}
