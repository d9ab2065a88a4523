//! Files attached to tasks, stored under `<data_dir>/attachments/<task_id>/` with
//! unguessable names; the row keeps the path relative to the data directory.

use std::path::{Path, PathBuf};

use rand::RngCore;
use serde::Serialize;
use spgw_core::time::{now_ms, to_rfc3339};
use spgw_store::repo::table;
use spgw_store::{Db, Row};

use crate::error::{Result, TaskError};

/// An attachment as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentRow {
    pub id: i64,
    pub task_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Where to download it (authenticated).
    pub url: String,
    pub created_at: String,
    #[serde(skip)]
    pub storage_path: String,
}

impl AttachmentRow {
    fn from_row(r: &Row) -> AttachmentRow {
        let (id, task_id) = (r.i64("id").unwrap_or_default(), r.i64("task_id").unwrap_or_default());
        AttachmentRow {
            id,
            task_id,
            filename: r.str("filename").unwrap_or_default().to_string(),
            content_type: r.str("content_type").unwrap_or_default().to_string(),
            size_bytes: r.i64("size_bytes").unwrap_or_default(),
            url: format!("/api/v1/tasks/{task_id}/attachments/{id}"),
            created_at: to_rfc3339(r.i64("created_at").unwrap_or_default()),
            storage_path: r.str("storage_path").unwrap_or_default().to_string(),
        }
    }
}

/// A file name safe on disk: letters, digits, `.`, `-`, `_`; at most 100 characters.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .take(100)
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() { "file".into() } else { trimmed.to_string() }
}

/// Stores a file for a task and records it.
pub async fn add(
    db: &Db,
    data_dir: &Path,
    task_id: i64,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<AttachmentRow> {
    let mut nonce = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut nonce);
    let shown = filename.trim();
    let shown: String = if shown.is_empty() { "file".into() } else { shown.chars().take(255).collect() };
    let rel = format!("attachments/{task_id}/{}-{}", hex::encode(nonce), safe_name(&shown));
    let path = data_dir.join(&rel);
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(|e| io_error("create the attachment folder", e))?;
    }
    tokio::fs::write(&path, bytes).await.map_err(|e| io_error("write the attachment", e))?;
    let content_type = if content_type.trim().is_empty() { "application/octet-stream" } else { content_type.trim() };
    let values = [
        ("task_id", task_id.into()),
        ("filename", shown.into()),
        ("content_type", content_type.chars().take(191).collect::<String>().into()),
        ("size_bytes", (bytes.len() as i64).into()),
        ("storage_path", rel.into()),
        ("created_at", now_ms().into()),
    ];
    let id = match table::insert(db, "task_attachments", &values).await {
        Ok(id) => id,
        Err(e) => {
            // Do not leave an orphan file behind a failed insert.
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e.into());
        }
    };
    get(db, task_id, id).await.map(|(a, _)| a)
}

fn io_error(what: &str, e: std::io::Error) -> TaskError {
    TaskError::Store(spgw_store::StoreError::Decode(format!("cannot {what}: {e}")))
}

/// A task's attachments, oldest first.
pub async fn list(db: &Db, task_id: i64) -> Result<Vec<AttachmentRow>> {
    let rows = db.fetch_all("SELECT * FROM task_attachments WHERE task_id = ? ORDER BY id", &[task_id.into()]).await?;
    Ok(rows.iter().map(AttachmentRow::from_row).collect())
}

/// One attachment of a task and its relative storage path.
pub async fn get(db: &Db, task_id: i64, id: i64) -> Result<(AttachmentRow, PathBuf)> {
    let row = db
        .fetch_optional("SELECT * FROM task_attachments WHERE id = ? AND task_id = ?", &[id.into(), task_id.into()])
        .await?
        .ok_or_else(|| TaskError::NotFound(format!("attachment {id} of task {task_id}")))?;
    let a = AttachmentRow::from_row(&row);
    let path = PathBuf::from(&a.storage_path);
    Ok((a, path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_made_safe() {
        assert_eq!(super::safe_name("../../etc/passwd"), "passwd");
        assert_eq!(super::safe_name("my report (v2).pdf"), "my_report__v2_.pdf");
        assert_eq!(super::safe_name(".hidden"), "hidden");
        assert_eq!(super::safe_name(""), "file");
        assert_eq!(super::safe_name("C:\\x\\y.txt"), "y.txt");
    }
}
