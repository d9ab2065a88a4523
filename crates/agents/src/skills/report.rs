//! `report_plugin`: `report.create`, `report.upsert`, `report.delete`,
//! `report.list`: the project's monthly and annual reports, one per period.

use futures::future::BoxFuture;
use serde_json::{Value, json};
use spgw_core::time::to_rfc3339;
use spgw_providers::ToolDef;
use spgw_tasks::Limits;

use super::args::Args;
use super::{Action, Skill, SkillContext, defs, object};
use crate::error::{AgentError, Result};
use crate::reports::period::Range;
use crate::reports::store::{self, NewReport};

/// The `report_plugin` skill.
pub struct ReportPlugin;

fn report_fields() -> Value {
    json!({
        "period": {"type": "string", "enum": ["monthly", "annual"]},
        "period_start": {"type": "string", "description": "A date in the period, YYYY-MM-DD (stored as its first day)."},
        "title": {"type": "string", "description": "Default: \"Monthly report — March 2026\"."},
        "content": {"type": "string", "description": "The report, in Markdown."}
    })
}

static ACTIONS: &[Action] = &[
    Action {
        name: "report.create",
        description: "Create the report of a period for your project (fails when that period already has one).",
        parameters: || object(report_fields(), &["period", "period_start", "content"]),
    },
    Action {
        name: "report.upsert",
        description: "Create or replace the report of a period for your project.",
        parameters: || object(report_fields(), &["period", "period_start", "content"]),
    },
    Action {
        name: "report.delete",
        description: "Delete a report of your project.",
        parameters: || object(json!({"report_id": {"type": "integer"}}), &["report_id"]),
    },
    Action {
        name: "report.list",
        description: "List the reports of your project, newest period first (without content unless include_content).",
        parameters: || {
            object(
                json!({
                    "period": {"type": "string", "enum": ["monthly", "annual"]},
                    "include_content": {"type": "boolean"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100}
                }),
                &[],
            )
        },
    },
];

impl Skill for ReportPlugin {
    fn name(&self) -> &'static str {
        "report_plugin"
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
                "report.create" => write(ctx, &args, false).await,
                "report.upsert" => write(ctx, &args, true).await,
                "report.delete" => delete(ctx, &args).await,
                "report.list" => list(ctx, &args).await,
                other => Err(AgentError::NotFound(format!("no action {other} in report_plugin"))),
            }
        })
    }
}

async fn write(ctx: &SkillContext, args: &Args, replace: bool) -> Result<Value> {
    let range = Range::parse(&args.req_str("period")?, &args.req_str("period_start")?)?;
    let title = args.str("title")?.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| store::title(&range));
    let content = args.req_str("content")?;
    let r =
        NewReport { project_id: ctx.project_id, agent_id: Some(ctx.agent_id), range, title: &title, content: &content };
    let (id, created) =
        if replace { store::upsert(&ctx.db, &r).await? } else { (store::create(&ctx.db, &r).await?, true) };
    Ok(json!({
        "report_id": id,
        "created": created,
        "period": range.period.as_str(),
        "period_start": range.key(),
        "title": title,
    }))
}

async fn delete(ctx: &SkillContext, args: &Args) -> Result<Value> {
    let id = args.req_int("report_id")?;
    if !store::delete(&ctx.db, ctx.project_id, id).await? {
        return Err(AgentError::NotFound(format!("report {id} not found in your project")));
    }
    Ok(json!({"deleted": true, "report_id": id}))
}

async fn list(ctx: &SkillContext, args: &Args) -> Result<Value> {
    let limit = args.limit(24, 100)?;
    let with_content = args.bool("include_content")?.unwrap_or(false);
    let period = args.str("period")?;
    if let Some(p) = &period {
        crate::reports::period::Period::parse(p)?;
    }
    let mut sql = format!(
        "SELECT id, title, period, period_start, agent_id, updated_at{} FROM reports WHERE project_id = ?",
        if with_content { ", content" } else { "" }
    );
    let mut bind = vec![ctx.project_id.into()];
    if let Some(p) = period {
        sql.push_str(" AND period = ?");
        bind.push(p.into());
    }
    sql.push_str(" ORDER BY period_start DESC, id DESC LIMIT ?");
    bind.push(limit.into());
    let rows = ctx.db.fetch_all(&sql, &bind).await?;
    let reports: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = json!({
                "id": r.i64("id"),
                "title": r.str("title"),
                "period": r.str("period"),
                "period_start": r.str("period_start"),
                "agent_id": r.i64("agent_id"),
                "updated_at": to_rfc3339(r.i64("updated_at").unwrap_or_default()),
            });
            if with_content {
                v["content"] = json!(r.str("content"));
            }
            v
        })
        .collect();
    Ok(json!({"reports": reports}))
}
