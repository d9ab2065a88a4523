//! The facts a report is written from: what the project's tasks achieved and
//! missed, what its model calls cost (from the request log, the gateway's own
//! metering), and which living documents changed, in one period.

use std::fmt::Write;

use chrono::DateTime;
use spgw_store::Db;

use super::period::Range;
use crate::error::Result;

/// Most tasks listed per outcome; the rest are counted.
const MAX_TASKS: i64 = 200;

/// A finished task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFact {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub finished_at: i64,
    pub error: Option<String>,
}

/// Spend on one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Spend {
    pub provider: String,
    pub model: String,
    pub calls: i64,
    pub failed_calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

/// A document changed in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentFact {
    pub id: i64,
    pub title: String,
    pub revisions: i64,
}

/// Everything a report is written from.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub project: String,
    pub range: Range,
    pub completed: Vec<TaskFact>,
    pub completed_total: i64,
    /// Failed or blocked.
    pub failed: Vec<TaskFact>,
    pub failed_total: i64,
    pub spend: Vec<Spend>,
    pub documents: Vec<DocumentFact>,
}

async fn tasks(db: &Db, project_id: i64, from: i64, to: i64, statuses: &str) -> Result<(Vec<TaskFact>, i64)> {
    let base =
        format!("FROM tasks WHERE project_id = ? AND status IN ({statuses}) AND finished_at >= ? AND finished_at < ?");
    let args = [project_id.into(), from.into(), to.into()];
    let total =
        db.fetch_optional(&format!("SELECT COUNT(*) AS n {base}"), &args).await?.and_then(|r| r.i64("n")).unwrap_or(0);
    let sql = format!("SELECT id, title, status, finished_at, error {base} ORDER BY finished_at, id LIMIT {MAX_TASKS}");
    let rows = db.fetch_all(&sql, &args).await?;
    let list = rows
        .iter()
        .map(|r| TaskFact {
            id: r.i64("id").unwrap_or_default(),
            title: r.str("title").unwrap_or_default().to_string(),
            status: r.str("status").unwrap_or_default().to_string(),
            finished_at: r.i64("finished_at").unwrap_or_default(),
            error: r.str("error").map(|e| e.chars().take(200).collect()),
        })
        .collect();
    Ok((list, total))
}

/// Gathers the facts of `project_id` for `range`.
pub async fn gather(db: &Db, project_id: i64, range: Range) -> Result<Facts> {
    let (from, to) = range.bounds_ms();
    let project = db
        .fetch_optional("SELECT name FROM projects WHERE id = ?", &[project_id.into()])
        .await?
        .and_then(|r| r.str("name").map(str::to_owned))
        .unwrap_or_default();
    let (completed, completed_total) = tasks(db, project_id, from, to, "'completed'").await?;
    let (failed, failed_total) = tasks(db, project_id, from, to, "'failed', 'blocked'").await?;
    let rows = db
        .fetch_all(
            "SELECT provider, model, COUNT(*) AS calls, \
             SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END) AS failed_calls, \
             SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(cost_usd) AS cost_usd \
             FROM request_log WHERE project_id = ? AND created_at >= ? AND created_at < ? \
             GROUP BY provider, model ORDER BY cost_usd DESC, provider, model",
            &[project_id.into(), from.into(), to.into()],
        )
        .await?;
    let spend = rows
        .iter()
        .map(|r| Spend {
            provider: r.str("provider").unwrap_or_default().to_string(),
            model: r.str("model").unwrap_or_default().to_string(),
            calls: r.i64("calls").unwrap_or(0),
            failed_calls: r.i64("failed_calls").unwrap_or(0),
            input_tokens: r.i64("input_tokens").unwrap_or(0),
            output_tokens: r.i64("output_tokens").unwrap_or(0),
            cost_usd: r.f64("cost_usd").unwrap_or(0.0),
        })
        .collect();
    let rows = db
        .fetch_all(
            "SELECT d.id, d.title, COUNT(*) AS revisions FROM document_revisions r \
             JOIN documents d ON d.id = r.document_id \
             WHERE d.project_id = ? AND r.created_at >= ? AND r.created_at < ? \
             GROUP BY d.id, d.title ORDER BY d.title",
            &[project_id.into(), from.into(), to.into()],
        )
        .await?;
    let documents = rows
        .iter()
        .map(|r| DocumentFact {
            id: r.i64("id").unwrap_or_default(),
            title: r.str("title").unwrap_or_default().to_string(),
            revisions: r.i64("revisions").unwrap_or(0),
        })
        .collect();
    Ok(Facts { project, range, completed, completed_total, failed, failed_total, spend, documents })
}

fn day(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

impl Facts {
    /// Whether nothing at all happened in the period.
    pub fn is_empty(&self) -> bool {
        self.completed_total == 0 && self.failed_total == 0 && self.spend.is_empty() && self.documents.is_empty()
    }

    /// Total spend in the period.
    pub fn total_cost(&self) -> f64 {
        self.spend.iter().map(|s| s.cost_usd).sum()
    }

    /// The facts as Markdown: what the agent is given, and the body of a
    /// report written without a model when there is nothing to tell.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "## Tasks completed ({})", self.completed_total);
        if self.completed.is_empty() {
            s.push_str("None.\n");
        }
        for t in &self.completed {
            let _ = writeln!(s, "- #{} {} (finished {})", t.id, t.title, day(t.finished_at));
        }
        if self.completed_total > self.completed.len() as i64 {
            let _ = writeln!(s, "- … and {} more", self.completed_total - self.completed.len() as i64);
        }
        let _ = writeln!(s, "\n## Tasks failed or blocked ({})", self.failed_total);
        if self.failed.is_empty() {
            s.push_str("None.\n");
        }
        for t in &self.failed {
            let why = t.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
            let _ = writeln!(s, "- #{} {} ({}, {}){why}", t.id, t.title, t.status, day(t.finished_at));
        }
        if self.failed_total > self.failed.len() as i64 {
            let _ = writeln!(s, "- … and {} more", self.failed_total - self.failed.len() as i64);
        }
        let _ = writeln!(s, "\n## Spend by model (total ${:.4})", self.total_cost());
        if self.spend.is_empty() {
            s.push_str("No model calls.\n");
        } else {
            s.push_str("| provider | model | calls | failed | input tokens | output tokens | cost (USD) |\n");
            s.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
            for m in &self.spend {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {:.4} |",
                    m.provider, m.model, m.calls, m.failed_calls, m.input_tokens, m.output_tokens, m.cost_usd
                );
            }
        }
        let _ = writeln!(s, "\n## Living documents changed ({})", self.documents.len());
        if self.documents.is_empty() {
            s.push_str("None.\n");
        }
        for d in &self.documents {
            let _ = writeln!(
                s,
                "- {} (#{}, {} revision{})",
                d.title,
                d.id,
                d.revisions,
                if d.revisions == 1 { "" } else { "s" }
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::super::period::Period;
    use super::*;

    #[test]
    fn markdown_lists_every_fact() {
        let range = Range::parse("monthly", "2026-02-01").unwrap();
        let (from, _) = range.bounds_ms();
        let f = Facts {
            project: "Apollo".into(),
            range,
            completed: vec![TaskFact {
                id: 3,
                title: "Ship".into(),
                status: "completed".into(),
                finished_at: from,
                error: None,
            }],
            completed_total: 5,
            failed: vec![],
            failed_total: 0,
            spend: vec![Spend {
                provider: "openai".into(),
                model: "gpt-5-mini".into(),
                calls: 4,
                failed_calls: 1,
                input_tokens: 100,
                output_tokens: 50,
                cost_usd: 0.25,
            }],
            documents: vec![DocumentFact { id: 9, title: "Runbook".into(), revisions: 2 }],
        };
        let md = f.to_markdown();
        assert!(md.contains("- #3 Ship (finished 2026-02-01)"), "{md}");
        assert!(md.contains("… and 4 more"), "{md}");
        assert!(md.contains("| openai | gpt-5-mini | 4 | 1 | 100 | 50 | 0.2500 |"), "{md}");
        assert!(md.contains("total $0.2500"), "{md}");
        assert!(md.contains("- Runbook (#9, 2 revisions)"), "{md}");
        assert!(!f.is_empty());
        let empty = Facts { completed: vec![], completed_total: 0, spend: vec![], documents: vec![], ..f };
        assert!(empty.is_empty());
        assert_eq!(empty.range.period, Period::Monthly);
    }
}
