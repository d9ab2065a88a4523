//! `living_document_plugin`: `living_document.upsert` and `living_document.list`.
//! Every change the agent makes is a revision authored by the agent, with its reason.

use futures::future::BoxFuture;
use serde_json::{Value, json};
use spgw_core::time::to_rfc3339;
use spgw_providers::ToolDef;
use spgw_tasks::Limits;

use super::args::Args;
use super::{Action, Skill, SkillContext, defs, object};
use crate::documents::{self, Author, Change, Target};
use crate::error::{AgentError, Result};

/// The `living_document_plugin` skill.
pub struct LivingDocumentPlugin;

static ACTIONS: &[Action] = &[
    Action {
        name: "living_document.upsert",
        description: "Create or update a living document of your project (matched by document_id, else by title). \
                      Fields you leave out keep their value. Every change is kept as a revision with your reason.",
        parameters: || {
            object(
                json!({
                    "document_id": {"type": "integer", "description": "The document to change (else matched by title)."},
                    "title": {"type": "string", "description": "Title; the key when document_id is not given."},
                    "new_title": {"type": "string", "description": "Rename the document."},
                    "content": {"type": "string", "description": "The full new content (Markdown)."},
                    "description": {"type": "string", "description": "Short summary."},
                    "extended_description": {"type": "string", "description": "Your understanding: constraints and objectives."},
                    "reason": {"type": "string", "description": "Why you change it (kept with the revision)."}
                }),
                &[],
            )
        },
    },
    Action {
        name: "living_document.list",
        description: "List the living documents of your project: id, title, description, revision, last update. \
                      With include_content, their content too.",
        parameters: || {
            object(
                json!({
                    "title_contains": {"type": "string"},
                    "include_content": {"type": "boolean"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100}
                }),
                &[],
            )
        },
    },
];

impl Skill for LivingDocumentPlugin {
    fn name(&self) -> &'static str {
        "living_document_plugin"
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
                "living_document.upsert" => upsert(ctx, &args).await,
                "living_document.list" => list(ctx, &args).await,
                other => Err(AgentError::NotFound(format!("no action {other} in living_document_plugin"))),
            }
        })
    }
}

async fn upsert(ctx: &SkillContext, args: &Args) -> Result<Value> {
    let id = args.int("document_id")?;
    let title = args.str("title")?;
    let target = match (id, title.as_deref()) {
        (Some(id), _) => Target::Id(id),
        (None, Some(t)) if !t.trim().is_empty() => Target::Title(t),
        _ => return Err(AgentError::invalid("title", "give document_id or title")),
    };
    let change = Change {
        // With an id, `title` renames; by title, only `new_title` does.
        title: args.str("new_title")?.or(if id.is_some() { title.clone() } else { None }),
        content: args.str("content")?,
        description: args.str("description")?,
        extended_description: args.str("extended_description")?,
        reason: args.str("reason")?,
    };
    let done = documents::upsert(&ctx.db, ctx.project_id, target, &change, Author::Agent(ctx.agent_id)).await?;
    Ok(json!({
        "document_id": done.id,
        "revision": done.revision,
        "created": done.created,
        "changed": done.changed,
    }))
}

async fn list(ctx: &SkillContext, args: &Args) -> Result<Value> {
    let limit = args.limit(50, 100)?;
    let contains = args.str("title_contains")?.map(|s| s.to_lowercase());
    let with_content = args.bool("include_content")?.unwrap_or(false);
    // Content can be large: read it only when asked for.
    let sql = format!(
        "SELECT id, title, description, extended_description, revision, updated_at{} FROM documents \
         WHERE project_id = ? ORDER BY updated_at DESC LIMIT 500",
        if with_content { ", content" } else { "" }
    );
    let rows = ctx.db.fetch_all(&sql, &[ctx.project_id.into()]).await?;
    let docs: Vec<Value> = rows
        .iter()
        .filter(|r| contains.as_ref().is_none_or(|c| r.str("title").unwrap_or_default().to_lowercase().contains(c)))
        .take(limit as usize)
        .map(|r| {
            let mut d = json!({
                "id": r.i64("id"),
                "title": r.str("title"),
                "description": r.str("description"),
                "extended_description": r.str("extended_description"),
                "revision": r.i64("revision"),
                "updated_at": to_rfc3339(r.i64("updated_at").unwrap_or_default()),
            });
            if with_content {
                d["content"] = json!(r.str("content"));
            }
            d
        })
        .collect();
    Ok(json!({"documents": docs}))
}
