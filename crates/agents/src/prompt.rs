//! Prompts: the agent's system prompt (identity, role, soul, project and user
//! context), shared by the chat and the task runner, and the user message of
//! a task (title, description, attachments, context).

use std::fmt::Write;

use spgw_store::{Db, Row};
use spgw_tasks::{Attachment, TaskJob};

use crate::error::Result;
use crate::skills::SkillSet;

/// Most bytes of one text attachment put in the prompt.
pub const MAX_ATTACHMENT_BYTES: usize = 64 * 1024;
/// Most bytes of all text attachments put in the prompt.
pub const MAX_ATTACHMENTS_BYTES: usize = 256 * 1024;

/// The agent's system prompt: who it is, its soul, its project and the user it works for.
pub async fn agent_prompt(db: &Db, agent: &Row, username: &str) -> Result<String> {
    let mut s = format!("You are {}", agent.str("name").unwrap_or("an agent"));
    if let Some(t) = agent.str("job_title").filter(|t| !t.is_empty()) {
        let _ = write!(s, ", {t}");
    }
    s.push('.');
    if let Some(r) = agent.str("role").filter(|t| !t.is_empty()) {
        let _ = write!(s, "\nYour role: {r}");
    }
    if let Some(soul) = agent.str("soul").filter(|t| !t.is_empty()) {
        let _ = write!(s, "\n\n{soul}");
    }
    if let Some(pid) = agent.i64("project_id")
        && let Some(p) = db.fetch_optional("SELECT name, description FROM projects WHERE id = ?", &[pid.into()]).await?
    {
        let _ = write!(s, "\n\nProject: {}", p.str("name").unwrap_or_default());
        if let Some(d) = p.str("description").filter(|d| !d.is_empty()) {
            let _ = write!(s, " — {d}");
        }
    }
    let _ = write!(s, "\nYou are working for the user {username}.");
    Ok(s)
}

/// The username of a user id (empty when the user is gone).
pub async fn username(db: &Db, user_id: i64) -> Result<String> {
    let row = db.fetch_optional("SELECT username FROM users WHERE id = ?", &[user_id.into()]).await?;
    Ok(row.and_then(|r| r.str("username").map(str::to_owned)).unwrap_or_default())
}

/// What the system prompt adds when the agent has built-in tools.
pub fn skills_prompt(skills: &SkillSet) -> Option<String> {
    if skills.is_empty() {
        return None;
    }
    Some(format!(
        "You have these built-in tools: {}. They act on your project only; call them when the work needs them, \
         and do not repeat a call that already succeeded.",
        skills.plugin_names().join(", ")
    ))
}

/// What a task run adds to the system prompt.
pub fn task_instructions(job: &TaskJob) -> String {
    format!(
        "You are working on task #{} of your project. Do the work, using your tools where they help. \
         Your final reply is stored as the task's output: make it the result itself, complete and self-contained.",
        job.task_id
    )
}

fn is_text(a: &Attachment) -> bool {
    let ct = a.content_type.to_ascii_lowercase();
    if ct.starts_with("text/") || ["json", "xml", "yaml", "toml", "csv", "javascript"].iter().any(|t| ct.contains(t)) {
        return true;
    }
    let ext = a.filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    const TEXT: &[&str] = &[
        "txt", "md", "markdown", "csv", "tsv", "json", "yaml", "yml", "toml", "ini", "log", "xml", "html", "css", "js",
        "ts", "py", "rs", "go", "java", "c", "h", "cpp", "sh", "sql",
    ];
    TEXT.contains(&ext.as_str())
}

/// The user message of a task: its title, description, tags, text
/// attachments inlined (up to [`MAX_ATTACHMENT_BYTES`] each and
/// [`MAX_ATTACHMENTS_BYTES`] in all), other attachments by name, and any context.
pub async fn task_prompt(job: &TaskJob) -> String {
    let mut s = format!("Task #{}: {}", job.task_id, job.title.trim());
    if !job.description.trim().is_empty() {
        let _ = write!(s, "\n\n{}", job.description.trim());
    }
    if !job.tags.is_empty() {
        let _ = write!(s, "\n\nTags: {}", job.tags.join(", "));
    }
    let ctx = job.context.as_object().filter(|o| !o.is_empty());
    if let Some(ctx) = ctx {
        let _ = write!(s, "\n\nContext: {}", serde_json::Value::Object(ctx.clone()));
    }
    let mut budget = MAX_ATTACHMENTS_BYTES;
    let mut listed = Vec::new();
    for a in &job.attachments {
        let inline = if is_text(a) && budget > 0 { read_text(a, budget.min(MAX_ATTACHMENT_BYTES)).await } else { None };
        match inline {
            Some((text, truncated)) => {
                budget = budget.saturating_sub(text.len());
                let note = if truncated { " (truncated)" } else { "" };
                let _ = write!(s, "\n\nAttachment {}{note}:\n```\n{}\n```", a.filename, text.trim_end());
            }
            None => listed.push(format!("- {} ({}, {} bytes)", a.filename, a.content_type, a.size_bytes)),
        }
    }
    if !listed.is_empty() {
        let _ = write!(s, "\n\nOther attachments (not shown):\n{}", listed.join("\n"));
    }
    s
}

/// Up to `max` bytes of a UTF-8 file (cut at a character boundary), and whether it was cut.
async fn read_text(a: &Attachment, max: usize) -> Option<(String, bool)> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(&a.path).await.ok()?;
    let mut buf = Vec::with_capacity(max.min(a.size_bytes.max(0) as usize) + 1);
    file.take(max as u64 + 1).read_to_end(&mut buf).await.ok()?;
    let truncated = buf.len() > max;
    buf.truncate(max);
    let text = match String::from_utf8(buf) {
        Ok(t) => t,
        // A cut in the middle of a character is fine; anything else is not text.
        Err(e) if truncated && e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).ok()?
        }
        Err(_) => return None,
    };
    Some((text, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spgw_tasks::Limits;
    use tokio_util::sync::CancellationToken;

    fn job(attachments: Vec<Attachment>) -> TaskJob {
        TaskJob {
            task_id: 7,
            project_id: 1,
            agent_id: 2,
            user_id: 3,
            title: "Summarise the logs".into(),
            description: "Look for errors.".into(),
            tags: vec!["ops".into()],
            attachments,
            session_id: None,
            limits: Limits::default(),
            attempt: 1,
            context: json!({"trigger": "disk-full"}),
            cancel: CancellationToken::new(),
        }
    }

    fn attachment(dir: &std::path::Path, name: &str, ct: &str, bytes: &[u8]) -> Attachment {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        Attachment { id: 1, filename: name.into(), content_type: ct.into(), size_bytes: bytes.len() as i64, path }
    }

    #[tokio::test]
    async fn task_prompt_inlines_text_and_lists_the_rest() {
        let dir = std::env::temp_dir().join(format!("spgw-prompt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = "é".repeat(MAX_ATTACHMENT_BYTES); // two bytes each: cut mid-file, on a boundary
        let j = job(vec![
            attachment(&dir, "app.log", "application/octet-stream", b"ERROR disk full\n"),
            attachment(&dir, "photo.png", "image/png", &[0x89, b'P', b'N', b'G']),
            attachment(&dir, "notes.txt", "text/plain", big.as_bytes()),
            attachment(&dir, "blob.txt", "text/plain", &[0xff, 0xfe, 0x00]),
        ]);
        let p = task_prompt(&j).await;
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(p.starts_with("Task #7: Summarise the logs\n\nLook for errors.\n\nTags: ops"), "{p}");
        assert!(p.contains(r#"Context: {"trigger":"disk-full"}"#), "{p}");
        assert!(p.contains("Attachment app.log:\n```\nERROR disk full\n```"), "{p}");
        assert!(p.contains("Attachment notes.txt (truncated):"), "{p}");
        assert!(p.contains("- photo.png (image/png, 4 bytes)"), "{p}");
        assert!(p.contains("- blob.txt (text/plain, 3 bytes)"), "not UTF-8: listed, not inlined: {p}");
        assert!(p.len() < MAX_ATTACHMENTS_BYTES, "bounded: {}", p.len());
    }
}
