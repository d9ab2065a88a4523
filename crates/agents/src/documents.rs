//! Living documents: knowledge an agent keeps up to date. Every change is a
//! revision row (a full copy of the fields, its author — a user or an agent —,
//! when, and why), written in the same transaction as the document, so the
//! history can be read back and diffed between any two revisions.

use serde_json::{Value as Json, json};
use similar::TextDiff;
use spgw_core::time::{now_ms, to_rfc3339};
use spgw_store::repo::table;
use spgw_store::{Db, Row, StoreError, Tx, Value};

use crate::error::{AgentError, Result};

/// Longest title (the column's width).
pub const MAX_TITLE: usize = 191;
/// Longest content an agent may write in one go.
pub const MAX_CONTENT: usize = 1024 * 1024;

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    User(i64),
    Agent(i64),
}

/// The fields a change sets; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub title: Option<String>,
    pub content: Option<String>,
    pub description: Option<String>,
    pub extended_description: Option<String>,
    /// Why (stored on the revision).
    pub reason: Option<String>,
}

/// Which document a change is for.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// This id (it must belong to the project).
    Id(i64),
    /// The project's document with this title, created when there is none.
    Title(&'a str),
}

/// The result of an upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    pub id: i64,
    pub revision: i64,
    pub created: bool,
    /// False when the change set every field to what it already was (no revision is made).
    pub changed: bool,
}

const FIELDS: [&str; 4] = ["title", "description", "extended_description", "content"];

fn check(change: &Change) -> Result<()> {
    if let Some(t) = &change.title
        && (t.trim().is_empty() || t.chars().count() > MAX_TITLE)
    {
        return Err(AgentError::invalid("title", format!("must be 1-{MAX_TITLE} characters")));
    }
    for (name, v) in [
        ("content", &change.content),
        ("description", &change.description),
        ("extended_description", &change.extended_description),
        ("reason", &change.reason),
    ] {
        if v.as_ref().is_some_and(|s| s.len() > MAX_CONTENT) {
            return Err(AgentError::invalid(name, format!("longer than {MAX_CONTENT} bytes")));
        }
    }
    Ok(())
}

fn value_of<'a>(change: &'a Change, field: &str) -> Option<&'a String> {
    match field {
        "title" => change.title.as_ref(),
        "description" => change.description.as_ref(),
        "extended_description" => change.extended_description.as_ref(),
        _ => change.content.as_ref(),
    }
}

/// Creates or changes a living document of `project_id`, recording a revision.
pub async fn upsert(db: &Db, project_id: i64, target: Target<'_>, change: &Change, author: Author) -> Result<Upserted> {
    check(change)?;
    // A concurrent create of the same title loses on the unique key; the
    // second attempt then finds the row and updates it.
    for attempt in 0..2 {
        match try_upsert(db, project_id, target, change, author).await {
            Err(AgentError::Store(StoreError::Conflict(_))) if attempt == 0 => continue,
            other => return other,
        }
    }
    Err(AgentError::Unavailable("the document changed concurrently; try again".into()))
}

async fn try_upsert(db: &Db, project_id: i64, target: Target<'_>, change: &Change, author: Author) -> Result<Upserted> {
    let mut tx = db.begin().await?;
    let existing = match target {
        Target::Id(id) => Some(
            tx.fetch_optional(
                "SELECT * FROM documents WHERE id = ? AND project_id = ?",
                &[id.into(), project_id.into()],
            )
            .await?
            .ok_or_else(|| AgentError::NotFound(format!("document {id} not found in this project")))?,
        ),
        Target::Title(t) => {
            tx.fetch_optional(
                "SELECT * FROM documents WHERE project_id = ? AND title = ?",
                &[project_id.into(), t.into()],
            )
            .await?
        }
    };
    let now = now_ms();
    let Some(doc) = existing else {
        let title = change.title.as_deref().or(match target {
            Target::Title(t) => Some(t),
            Target::Id(_) => None,
        });
        let title =
            title.filter(|t| !t.trim().is_empty()).ok_or_else(|| AgentError::invalid("title", "is required"))?;
        if title.chars().count() > MAX_TITLE {
            return Err(AgentError::invalid("title", format!("must be 1-{MAX_TITLE} characters")));
        }
        let agent = match author {
            Author::Agent(a) => Value::Int(a),
            Author::User(_) => Value::Null,
        };
        let cols = [
            ("project_id", Value::Int(project_id)),
            ("agent_id", agent),
            ("title", title.into()),
            ("description", change.description.clone().into()),
            ("extended_description", change.extended_description.clone().into()),
            ("content", change.content.clone().into()),
            ("revision", Value::Int(1)),
            ("created_at", Value::Int(now)),
            ("updated_at", Value::Int(now)),
        ];
        let id = table::insert_tx(&mut tx, "documents", &cols).await?;
        record_revision(&mut tx, id, author, change.reason.as_deref().or(Some("created")), now).await?;
        tx.commit().await?;
        return Ok(Upserted { id, revision: 1, created: true, changed: true });
    };

    let id = doc.i64("id").unwrap_or_default();
    let mut sets: Vec<(&str, Value)> = Vec::new();
    for f in FIELDS {
        if let Some(v) = value_of(change, f)
            && doc.str(f) != Some(v.as_str())
        {
            sets.push((f, v.clone().into()));
        }
    }
    if sets.is_empty() {
        tx.commit().await?;
        return Ok(Upserted { id, revision: doc.i64("revision").unwrap_or(1), created: false, changed: false });
    }
    sets.push(("updated_at", Value::Int(now)));
    let assignments: Vec<String> = sets.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let sql = format!("UPDATE documents SET {}, revision = revision + 1 WHERE id = ?", assignments.join(", "));
    let mut args: Vec<Value> = sets.into_iter().map(|(_, v)| v).collect();
    args.push(Value::Int(id));
    tx.execute(&sql, &args).await?;
    let revision = record_revision(&mut tx, id, author, change.reason.as_deref(), now).await?;
    tx.commit().await?;
    Ok(Upserted { id, revision, created: false, changed: true })
}

/// Copies the document as it now is into a revision row; returns its number.
pub async fn record_revision(tx: &mut Tx, doc_id: i64, author: Author, reason: Option<&str>, now: i64) -> Result<i64> {
    let doc = tx
        .fetch_optional("SELECT * FROM documents WHERE id = ?", &[doc_id.into()])
        .await?
        .ok_or_else(|| AgentError::NotFound(format!("document {doc_id} not found")))?;
    let (user, agent) = match author {
        Author::User(u) => (Value::Int(u), Value::Null),
        Author::Agent(a) => (Value::Null, Value::Int(a)),
    };
    let revision = doc.i64("revision").unwrap_or(1);
    let cols = [
        ("document_id", Value::Int(doc_id)),
        ("revision", Value::Int(revision)),
        ("title", doc.get("title").clone()),
        ("description", doc.get("description").clone()),
        ("extended_description", doc.get("extended_description").clone()),
        ("content", doc.get("content").clone()),
        ("author_user_id", user),
        ("author_agent_id", agent),
        ("reason", reason.filter(|r| !r.trim().is_empty()).into()),
        ("created_at", Value::Int(now)),
    ];
    table::insert_tx(tx, "document_revisions", &cols).await?;
    Ok(revision)
}

/// One stored revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub document_id: i64,
    pub revision: i64,
    pub title: String,
    pub description: Option<String>,
    pub extended_description: Option<String>,
    /// `None` in listings (which leave content out) and when the document had none.
    pub content: Option<String>,
    pub author: Option<Author>,
    /// The author's username or agent name, when it still exists.
    pub author_name: Option<String>,
    pub reason: Option<String>,
    pub created_at: i64,
}

impl Revision {
    fn from_row(r: &Row) -> Revision {
        let author = match (r.i64("author_user_id"), r.i64("author_agent_id")) {
            (_, Some(a)) => Some(Author::Agent(a)),
            (Some(u), None) => Some(Author::User(u)),
            _ => None,
        };
        let text = |c: &str| r.str(c).map(str::to_owned);
        Revision {
            document_id: r.i64("document_id").unwrap_or_default(),
            revision: r.i64("revision").unwrap_or_default(),
            title: text("title").unwrap_or_default(),
            description: text("description"),
            extended_description: text("extended_description"),
            content: text("content"),
            author,
            author_name: text("agent_name").or_else(|| text("username")),
            reason: text("reason"),
            created_at: r.i64("created_at").unwrap_or_default(),
        }
    }

    /// The API shape.
    pub fn to_json(&self) -> Json {
        let author = match self.author {
            Some(Author::User(id)) => json!({"type": "user", "id": id, "name": self.author_name}),
            Some(Author::Agent(id)) => json!({"type": "agent", "id": id, "name": self.author_name}),
            None => Json::Null,
        };
        let mut v = json!({
            "document_id": self.document_id,
            "revision": self.revision,
            "title": self.title,
            "description": self.description,
            "extended_description": self.extended_description,
            "author": author,
            "reason": self.reason,
            "created_at": to_rfc3339(self.created_at),
        });
        if let Some(c) = &self.content {
            v["content"] = json!(c);
        }
        v
    }

    fn field(&self, name: &str) -> &str {
        match name {
            "title" => &self.title,
            "description" => self.description.as_deref().unwrap_or_default(),
            "extended_description" => self.extended_description.as_deref().unwrap_or_default(),
            _ => self.content.as_deref().unwrap_or_default(),
        }
    }
}

const REVISION_SELECT: &str = "SELECT r.*, u.username, a.name AS agent_name FROM document_revisions r \
     LEFT JOIN users u ON u.id = r.author_user_id LEFT JOIN agents a ON a.id = r.author_agent_id";

/// Every revision of a document, newest first, without content.
pub async fn revisions(db: &Db, doc_id: i64) -> Result<Vec<Revision>> {
    let sql = format!("{REVISION_SELECT} WHERE r.document_id = ? ORDER BY r.revision DESC");
    let rows = db.fetch_all(&sql, &[doc_id.into()]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let mut rev = Revision::from_row(r);
            rev.content = None;
            rev
        })
        .collect())
}

/// One revision with its content.
pub async fn revision(db: &Db, doc_id: i64, revision: i64) -> Result<Revision> {
    let sql = format!("{REVISION_SELECT} WHERE r.document_id = ? AND r.revision = ?");
    let row = db.fetch_optional(&sql, &[doc_id.into(), revision.into()]).await?;
    row.map(|r| Revision::from_row(&r))
        .ok_or_else(|| AgentError::NotFound(format!("revision {revision} of document {doc_id} not found")))
}

/// The newest revision number of a document.
pub async fn latest_revision(db: &Db, doc_id: i64) -> Result<Option<i64>> {
    let row = db
        .fetch_optional("SELECT MAX(revision) AS r FROM document_revisions WHERE document_id = ?", &[doc_id.into()])
        .await?;
    Ok(row.and_then(|r| r.i64("r")))
}

/// A unified diff from one revision to another: one section per field that
/// differs (`--- a/content@r1` / `+++ b/content@r2`), empty when none does.
pub fn diff(from: &Revision, to: &Revision) -> String {
    let mut out = String::new();
    for f in FIELDS {
        let (a, b) = (from.field(f), to.field(f));
        if a == b {
            continue;
        }
        let diff = TextDiff::from_lines(a, b);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{f}@r{}", from.revision), &format!("b/{f}@r{}", to.revision))
            .to_string();
        out.push_str(&text);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(n: i64, title: &str, content: &str) -> Revision {
        Revision {
            document_id: 1,
            revision: n,
            title: title.into(),
            description: None,
            extended_description: None,
            content: Some(content.into()),
            author: Some(Author::Agent(2)),
            author_name: Some("scribe".into()),
            reason: None,
            created_at: 0,
        }
    }

    #[test]
    fn diff_shows_changed_fields_only() {
        let a = rev(1, "Plan", "one\ntwo\nthree\n");
        let b = rev(3, "Plan", "one\n2\nthree\nfour\n");
        let d = diff(&a, &b);
        assert!(d.starts_with("--- a/content@r1\n+++ b/content@r3\n"), "{d}");
        assert!(d.contains("\n-two\n+2\n three\n+four\n"), "{d}");
        assert!(!d.contains("title"), "unchanged title is not in the diff: {d}");
        assert_eq!(diff(&a, &a), "");
        let renamed = rev(2, "Roadmap", "one\ntwo\nthree\n");
        let d = diff(&a, &renamed);
        assert!(d.contains("-Plan") && d.contains("+Roadmap"), "{d}");
    }

    #[test]
    fn revision_json_names_its_author() {
        let v = rev(1, "Plan", "x").to_json();
        assert_eq!(v["author"], json!({"type": "agent", "id": 2, "name": "scribe"}));
        assert_eq!(v["content"], "x");
        assert_eq!(v["created_at"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn changes_are_checked() {
        let long = Change { title: Some("x".repeat(MAX_TITLE + 1)), ..Change::default() };
        assert!(matches!(check(&long), Err(AgentError::Invalid { field, .. }) if field == "title"));
        assert!(check(&Change { title: Some(" ".into()), ..Change::default() }).is_err());
        assert!(check(&Change { content: Some("ok".into()), ..Change::default() }).is_ok());
    }
}
