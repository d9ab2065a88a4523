//! Finding due tasks and claiming them.
//!
//! A claim is a short transaction that first locks the task's project row
//! (`SELECT ... FOR UPDATE` on MySQL; a write on SQLite, which takes the database's
//! write lock), so claims in one project are serialised across every gateway process
//! and the concurrency counts read next are exact. Then a compare-and-set moves the
//! task to `running` under this worker's lease; only one process can win it.

use std::collections::HashMap;

use spgw_store::{Backend, Row, Tx, Value};

use super::Executor;
use crate::error::Result;
use crate::model::{TaskRow, tags_of};

/// A pending task, or a running one whose lease expired.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub task: TaskRow,
    pub expired: bool,
}

/// An enabled agent as the executor sees it.
#[derive(Debug, Clone)]
pub(super) struct AgentSlot {
    pub id: i64,
    pub project_id: i64,
    pub job_tags: Vec<String>,
    pub max_concurrent: i64,
    pub running: i64,
}

/// Agents and running counts of the projects a batch touches.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    pub agents: Vec<AgentSlot>,
    /// Running tasks (live lease) per project.
    pub project_running: HashMap<i64, i64>,
    /// `projects.max_concurrent_tasks` where set.
    pub project_limit: HashMap<i64, i64>,
}

/// Why a task cannot be given to an agent now.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum NoAgent {
    /// No enabled agent of the project has all the task's tags.
    NoMatch(Vec<String>),
    /// Matching agents exist but all are at their limit.
    Busy,
    /// The project runs as many tasks as it may.
    ProjectFull(i64),
}

impl NoAgent {
    pub fn reason(&self) -> String {
        match self {
            NoAgent::NoMatch(tags) if tags.is_empty() => "waiting: the project has no enabled agent".into(),
            NoAgent::NoMatch(tags) => {
                format!("waiting: no enabled agent of the project has the job tags [{}]", tags.join(", "))
            }
            NoAgent::Busy => "waiting: every matching agent is at its concurrency limit".into(),
            NoAgent::ProjectFull(n) => format!("waiting: the project already runs {n} tasks (its limit)"),
        }
    }
}

/// Whether an agent's job tags cover every tag of the task (case-insensitive).
pub(super) fn tags_match(job_tags: &[String], task_tags: &[String]) -> bool {
    task_tags.iter().all(|t| job_tags.iter().any(|j| j.eq_ignore_ascii_case(t)))
}

impl Snapshot {
    /// The agent to give `task` to: its own agent when that one is enabled, else the least
    /// busy enabled agent whose job tags match; or why there is none.
    pub fn pick(&self, task: &TaskRow, project_default: i64) -> Result<i64, NoAgent> {
        let limit = self.project_limit.get(&task.project_id).copied().unwrap_or(project_default);
        let running = self.project_running.get(&task.project_id).copied().unwrap_or(0);
        if running >= limit {
            return Err(NoAgent::ProjectFull(limit));
        }
        let in_project = self.agents.iter().filter(|a| a.project_id == task.project_id);
        // A task's own agent (set by its creator, or kept from an earlier attempt) wins while enabled.
        let own =
            task.agent_id.and_then(|id| self.agents.iter().find(|a| a.id == id && a.project_id == task.project_id));
        let candidates: Vec<&AgentSlot> = match own {
            Some(a) => vec![a],
            None => in_project.filter(|a| tags_match(&a.job_tags, &task.tags)).collect(),
        };
        if candidates.is_empty() {
            return Err(NoAgent::NoMatch(task.tags.clone()));
        }
        candidates
            .into_iter()
            .filter(|a| a.running < a.max_concurrent)
            .min_by_key(|a| (a.running, a.id))
            .map(|a| a.id)
            .ok_or(NoAgent::Busy)
    }

    /// Counts a claim made in this batch.
    pub fn took(&mut self, project_id: i64, agent_id: i64) {
        *self.project_running.entry(project_id).or_default() += 1;
        if let Some(a) = self.agents.iter_mut().find(|a| a.id == agent_id) {
            a.running += 1;
        }
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Executor {
    /// Due pending tasks and expired leases, most urgent first.
    pub(super) async fn candidates(&self, now: i64, limit: i64) -> Result<Vec<Candidate>> {
        let expired = self
            .db
            .fetch_all(
                "SELECT * FROM tasks WHERE status = 'running' AND lease_expires_at < ? ORDER BY lease_expires_at LIMIT ?",
                &[now.into(), limit.into()],
            )
            .await?;
        let pending = self
            .db
            .fetch_all(
                "SELECT * FROM tasks WHERE status = 'pending' AND deleted_at IS NULL \
                 AND (next_run_at IS NULL OR next_run_at <= ?) ORDER BY priority DESC, id LIMIT ?",
                &[now.into(), limit.into()],
            )
            .await?;
        let mut out: Vec<Candidate> =
            expired.iter().map(|r| Candidate { task: TaskRow::from_row(r), expired: true }).collect();
        out.extend(pending.iter().map(|r| Candidate { task: TaskRow::from_row(r), expired: false }));
        Ok(out)
    }

    /// Agents and counts of the given projects.
    pub(super) async fn snapshot(&self, projects: &[i64], now: i64) -> Result<Snapshot> {
        let mut snap = Snapshot::default();
        if projects.is_empty() {
            return Ok(snap);
        }
        let ids: Vec<Value> = projects.iter().map(|p| Value::Int(*p)).collect();
        let marks = placeholders(ids.len());
        let agents = self
            .db
            .fetch_all(
                &format!(
                    "SELECT id, project_id, job_tags, max_concurrent_tasks FROM agents \
                     WHERE enabled = 1 AND project_id IN ({marks})"
                ),
                &ids,
            )
            .await?;
        let mut args = ids.clone();
        args.push(now.into());
        let counts = self
            .db
            .fetch_all(
                &format!(
                    "SELECT project_id, agent_id, COUNT(*) AS n FROM tasks WHERE project_id IN ({marks}) \
                     AND status = 'running' AND lease_expires_at >= ? GROUP BY project_id, agent_id"
                ),
                &args,
            )
            .await?;
        let mut per_agent: HashMap<i64, i64> = HashMap::new();
        for c in &counts {
            let n = c.i64("n").unwrap_or(0);
            *snap.project_running.entry(c.i64("project_id").unwrap_or_default()).or_default() += n;
            if let Some(a) = c.i64("agent_id") {
                *per_agent.entry(a).or_default() += n;
            }
        }
        snap.agents = agents.iter().map(|r| agent_slot(r, &per_agent)).collect();
        let limits = self
            .db
            .fetch_all(
                &format!(
                    "SELECT id, max_concurrent_tasks FROM projects WHERE id IN ({marks}) \
                     AND max_concurrent_tasks IS NOT NULL"
                ),
                &ids,
            )
            .await?;
        for r in &limits {
            snap.project_limit
                .insert(r.i64("id").unwrap_or_default(), r.i64("max_concurrent_tasks").unwrap_or(1).max(1));
        }
        Ok(snap)
    }

    /// Claims `c` for `agent_id` under the project lock, re-checking limits with exact counts.
    /// Returns the claimed task (with its new attempt number) and the run row id.
    pub(super) async fn claim(
        &self,
        c: &Candidate,
        agent_id: i64,
        project_default: i64,
    ) -> Result<Option<(TaskRow, i64)>> {
        let t = &c.task;
        let mut tx = self.db.begin().await?;
        lock_project(&mut tx, self.db.backend(), t.project_id).await?;
        // The clock is read only once the lock is held: a batch of claims can wait on the
        // lock for longer than a lease, and a lease computed from the poll's start could
        // already be expired when written, letting another process take a live run over.
        let now = spgw_core::time::now_ms();
        let Some(row) = tx.fetch_optional("SELECT * FROM tasks WHERE id = ?", &[t.id.into()]).await? else {
            return Ok(None);
        };
        let fresh = TaskRow::from_row(&row);
        let claimable = match fresh.status {
            crate::TaskStatus::Pending => fresh.deleted_at.is_none() && fresh.next_run_at.is_none_or(|n| n <= now),
            crate::TaskStatus::Running => fresh.lease_expires_at.is_some_and(|l| l < now),
            _ => false,
        };
        if !claimable {
            return Ok(None);
        }
        if fresh.status == crate::TaskStatus::Running {
            // The previous holder stopped renewing: its run is lost.
            tx.execute(
                "UPDATE task_runs SET status = 'lost', finished_at = ?, error = ? \
                 WHERE task_id = ? AND status = 'running'",
                &[
                    now.into(),
                    format!("lease of {} expired; taken over", fresh.lease_owner.as_deref().unwrap_or("?")).into(),
                    t.id.into(),
                ],
            )
            .await?;
            if fresh.attempts >= fresh.max_attempts {
                tx.execute(
                    "UPDATE tasks SET status = 'failed', error = ?, status_reason = NULL, lease_owner = NULL, \
                     lease_expires_at = NULL, finished_at = ?, updated_at = ? WHERE id = ?",
                    &[
                        "the gateway running the last attempt stopped answering (lease expired)".into(),
                        now.into(),
                        now.into(),
                        t.id.into(),
                    ],
                )
                .await?;
                tx.commit().await?;
                return Ok(None);
            }
        }
        let project_running = count(&mut tx, "project_id", t.project_id, now).await?;
        let project_limit = tx
            .fetch_optional("SELECT max_concurrent_tasks FROM projects WHERE id = ?", &[t.project_id.into()])
            .await?
            .and_then(|r| r.i64("max_concurrent_tasks"))
            .unwrap_or(project_default)
            .max(1);
        let agent_limit = tx
            .fetch_optional("SELECT max_concurrent_tasks FROM agents WHERE id = ? AND enabled = 1", &[agent_id.into()])
            .await?
            .and_then(|r| r.i64("max_concurrent_tasks"));
        let Some(agent_limit) = agent_limit else { return Ok(None) };
        if project_running >= project_limit || count(&mut tx, "agent_id", agent_id, now).await? >= agent_limit.max(1) {
            return Ok(None);
        }
        let lease_until = now + self.lease_ms();
        let won = tx
            .execute(
                "UPDATE tasks SET status = 'running', agent_id = ?, lease_owner = ?, lease_expires_at = ?, \
                 attempts = attempts + 1, started_at = ?, status_reason = NULL, finished_at = NULL, updated_at = ? \
                 WHERE id = ? AND attempts = ? AND ((status = 'pending' AND deleted_at IS NULL) \
                 OR (status = 'running' AND lease_expires_at < ?))",
                &[
                    agent_id.into(),
                    self.worker.as_str().into(),
                    lease_until.into(),
                    now.into(),
                    now.into(),
                    t.id.into(),
                    fresh.attempts.into(),
                    now.into(),
                ],
            )
            .await?
            .rows_affected
            == 1;
        if !won {
            return Ok(None);
        }
        let attempt = fresh.attempts + 1;
        let run_id = spgw_store::repo::table::insert_tx(
            &mut tx,
            "task_runs",
            &[
                ("task_id", t.id.into()),
                ("attempt", attempt.into()),
                ("agent_id", agent_id.into()),
                ("worker", self.worker.as_str().into()),
                ("status", "running".into()),
                ("session_id", fresh.session_id.clone().into()),
                ("started_at", now.into()),
            ],
        )
        .await?;
        tx.commit().await?;
        let mut claimed = fresh;
        claimed.status = crate::TaskStatus::Running;
        claimed.agent_id = Some(agent_id);
        claimed.attempts = attempt;
        claimed.lease_owner = Some(self.worker.clone());
        claimed.lease_expires_at = Some(lease_until);
        Ok(Some((claimed, run_id)))
    }

    /// Shows why a pending task waits (written only when the reason changes).
    pub(super) async fn set_waiting(&self, task_id: i64, reason: &str) -> Result<()> {
        self.db
            .execute(
                "UPDATE tasks SET status_reason = ? WHERE id = ? AND status = 'pending' \
                 AND (status_reason IS NULL OR status_reason <> ?)",
                &[reason.into(), task_id.into(), reason.into()],
            )
            .await?;
        Ok(())
    }
}

fn agent_slot(r: &Row, per_agent: &HashMap<i64, i64>) -> AgentSlot {
    let id = r.i64("id").unwrap_or_default();
    AgentSlot {
        id,
        project_id: r.i64("project_id").unwrap_or_default(),
        job_tags: tags_of(r.str("job_tags")),
        max_concurrent: r.i64("max_concurrent_tasks").unwrap_or(1).max(1),
        running: per_agent.get(&id).copied().unwrap_or(0),
    }
}

/// Serialises claims within one project across processes (see the module doc).
pub(super) async fn lock_project(tx: &mut Tx, backend: Backend, project_id: i64) -> Result<()> {
    match backend {
        Backend::MySql => {
            tx.fetch_optional("SELECT id FROM projects WHERE id = ? FOR UPDATE", &[project_id.into()]).await?;
        }
        Backend::Sqlite => {
            tx.execute(
                "UPDATE projects SET max_concurrent_tasks = max_concurrent_tasks WHERE id = ?",
                &[project_id.into()],
            )
            .await?;
        }
    }
    Ok(())
}

async fn count(tx: &mut Tx, column: &str, id: i64, now: i64) -> Result<i64> {
    let sql =
        format!("SELECT COUNT(*) AS n FROM tasks WHERE {column} = ? AND status = 'running' AND lease_expires_at >= ?");
    Ok(tx.fetch_optional(&sql, &[id.into(), now.into()]).await?.and_then(|r| r.i64("n")).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(project_id: i64, tags: &[&str], agent_id: Option<i64>) -> TaskRow {
        TaskRow { project_id, tags: tags.iter().map(|s| s.to_string()).collect(), agent_id, ..TaskRow::default() }
    }

    fn agent(id: i64, tags: &[&str], max: i64, running: i64) -> AgentSlot {
        AgentSlot {
            id,
            project_id: 1,
            job_tags: tags.iter().map(|s| s.to_string()).collect(),
            max_concurrent: max,
            running,
        }
    }

    #[test]
    fn picks_the_least_busy_matching_agent() {
        let snap = Snapshot {
            agents: vec![agent(1, &["docs"], 2, 1), agent(2, &["Docs", "code"], 2, 0), agent(3, &["code"], 5, 0)],
            ..Snapshot::default()
        };
        assert_eq!(snap.pick(&task(1, &["docs"], None), 10), Ok(2));
        assert_eq!(snap.pick(&task(1, &["docs", "code"], None), 10), Ok(2));
        assert_eq!(snap.pick(&task(1, &[], None), 10), Ok(2));
        assert_eq!(snap.pick(&task(1, &["sales"], None), 10), Err(NoAgent::NoMatch(vec!["sales".into()])));
        // A task's own agent wins over tag matching.
        assert_eq!(snap.pick(&task(1, &["docs"], Some(3)), 10), Ok(3));
    }

    #[test]
    fn respects_agent_and_project_limits() {
        let mut snap = Snapshot { agents: vec![agent(1, &["docs"], 1, 0)], ..Snapshot::default() };
        let t = task(1, &["docs"], None);
        assert_eq!(snap.pick(&t, 10), Ok(1));
        snap.took(1, 1);
        assert_eq!(snap.pick(&t, 10), Err(NoAgent::Busy));
        snap.agents[0].max_concurrent = 5;
        snap.project_limit.insert(1, 1);
        assert_eq!(snap.pick(&t, 10), Err(NoAgent::ProjectFull(1)));
        assert!(NoAgent::NoMatch(vec!["a".into()]).reason().contains("[a]"));
    }
}
