//! The task service: the stable functions the API and the agents' skills call.
//! Every function works on the database alone, so any gateway process can call it;
//! the executor notices changes (cancellation, new tasks) by polling.

use serde_json::{Value as Json, json};
use spgw_core::time::now_ms;
use spgw_store::repo::table;
use spgw_store::{Db, Value};

use crate::error::{Result, TaskError};
use crate::limits;
use crate::model::{NewTask, TagCount, TaskFilter, TaskPage, TaskPatch, TaskRow, TaskStatus, tags_of};
use crate::schedule::{self, Schedule};

/// Deepest chain of spawned tasks (a task spawning itself forever costs money).
pub const MAX_SPAWN_DEPTH: usize = 8;
/// Most unfinished children one task may have.
pub const MAX_OPEN_CHILDREN: i64 = 100;
const MAX_TAGS: usize = 32;
const MAX_CONTEXT_BYTES: usize = 64 * 1024;
const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

/// Normalises tags: trimmed, non-empty, at most 64 characters, no duplicates (case-insensitive).
pub fn clean_tags(field: &str, tags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > 64 || t.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err(TaskError::invalid(
                field,
                format!("tag {t:?} must be 1 to 64 printable characters, no quotes"),
            ));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(t)) {
            out.push(t.to_string());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(TaskError::invalid(field, format!("at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

fn check_title(title: &str) -> Result<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 191 {
        return Err(TaskError::invalid("title", "must be 1 to 191 characters"));
    }
    Ok(t.to_string())
}

fn check_context(v: &Json) -> Result<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    let text = v.to_string();
    if text.len() > MAX_CONTEXT_BYTES {
        return Err(TaskError::invalid("context", format!("must be at most {MAX_CONTEXT_BYTES} bytes of JSON")));
    }
    Ok(Some(text))
}

fn check_attempts(n: i64) -> Result<i64> {
    if !(1..=10).contains(&n) {
        return Err(TaskError::invalid("max_attempts", "must be from 1 to 10"));
    }
    Ok(n)
}

async fn project_exists(db: &Db, project_id: i64) -> Result<()> {
    match db.fetch_optional("SELECT id FROM projects WHERE id = ?", &[project_id.into()]).await? {
        Some(_) => Ok(()),
        None => Err(TaskError::NotFound(format!("project {project_id}"))),
    }
}

async fn agent_in_project(db: &Db, agent_id: i64, project_id: i64) -> Result<()> {
    let row = db.fetch_optional("SELECT project_id FROM agents WHERE id = ?", &[agent_id.into()]).await?;
    match row.and_then(|r| r.i64("project_id")) {
        None => Err(TaskError::NotFound(format!("agent {agent_id}"))),
        Some(p) if p != project_id => Err(TaskError::invalid("agent_id", "the agent belongs to another project")),
        Some(_) => Ok(()),
    }
}

/// Creates a task. Validates the schedule (croner, IANA time zones) and computes its
/// first run; a task with a parent is `spawned` and inherits what is left of the
/// parent's limits (and its creator when none is given).
pub async fn create(db: &Db, t: NewTask) -> Result<TaskRow> {
    let values = prepare(db, t).await?;
    let id = table::insert(db, "tasks", &values).await?;
    get(db, id).await
}

/// Validates a new task and returns its columns, for callers that insert it inside
/// their own transaction (triggers) with [`insert_tx`].
pub async fn prepare(db: &Db, mut t: NewTask) -> Result<Vec<(&'static str, Value)>> {
    let title = check_title(&t.title)?;
    project_exists(db, t.project_id).await?;
    let tags = clean_tags("tags", &t.tags)?;
    let sched = schedule::parse(t.schedule.as_ref())?;
    let mut limits = match &t.limits {
        Some(l) => limits::validate("limits", l)?,
        None => None,
    };
    let context = match &t.context {
        Some(c) => check_context(c)?,
        None => None,
    };
    let max_attempts = check_attempts(t.max_attempts.unwrap_or(3))?;
    if let Some(a) = t.agent_id {
        agent_in_project(db, a, t.project_id).await?;
    }
    if let Some(pid) = t.parent_task_id {
        let parent = get(db, pid).await.map_err(|_| TaskError::NotFound(format!("parent task {pid}")))?;
        if parent.project_id != t.project_id {
            return Err(TaskError::invalid("parent_task_id", "the parent task belongs to another project"));
        }
        check_spawn_budget(db, &parent).await?;
        let left = limits::remaining(
            &limits::from_json(parent.limits.as_ref()),
            parent.tokens_used.max(0) as u64,
            parent.cost_usd,
        );
        let own = limits::from_json(limits.as_ref());
        limits = limits::to_json(&limits::tightest(&own, &left));
        if t.created_by.is_none() {
            t.created_by = parent.created_by;
        }
    }
    let now = now_ms();
    let kind = if sched.is_some() {
        "scheduled"
    } else if t.parent_task_id.is_some() {
        "spawned"
    } else {
        "external"
    };
    let status = if sched.is_some() { TaskStatus::Scheduled } else { TaskStatus::Pending };
    Ok(vec![
        ("project_id", t.project_id.into()),
        ("parent_task_id", t.parent_task_id.into()),
        ("title", title.into()),
        ("description", t.description.clone().into()),
        ("tags", json!(tags).to_string().into()),
        ("kind", kind.into()),
        ("status", status.as_str().into()),
        ("schedule", t.schedule.as_ref().filter(|s| !s.is_null()).map(Json::to_string).into()),
        ("next_run_at", sched.as_ref().and_then(|s| s.first_slot(now)).into()),
        ("priority", t.priority.into()),
        ("agent_id", t.agent_id.into()),
        ("max_attempts", max_attempts.into()),
        ("limits", limits.map(|l| l.to_string()).into()),
        ("context", context.into()),
        ("created_by", t.created_by.into()),
        ("created_by_agent", t.created_by_agent.into()),
        ("trigger_id", t.trigger_id.into()),
        ("created_at", now.into()),
        ("updated_at", now.into()),
    ])
}

/// Inserts columns from [`prepare`] inside a transaction; returns the new task's id.
pub async fn insert_tx(tx: &mut spgw_store::Tx, values: &[(&'static str, Value)]) -> Result<i64> {
    Ok(table::insert_tx(tx, "tasks", values).await?)
}

/// Refuses a spawn that would go too deep or open too many children.
async fn check_spawn_budget(db: &Db, parent: &TaskRow) -> Result<()> {
    let mut depth = 1;
    let mut cur = parent.parent_task_id;
    while let Some(id) = cur {
        depth += 1;
        if depth >= MAX_SPAWN_DEPTH {
            return Err(TaskError::Conflict(format!("tasks may nest at most {MAX_SPAWN_DEPTH} levels deep")));
        }
        cur = db
            .fetch_optional("SELECT parent_task_id FROM tasks WHERE id = ?", &[id.into()])
            .await?
            .and_then(|r| r.i64("parent_task_id"));
    }
    let open = db
        .fetch_optional(
            "SELECT COUNT(*) AS n FROM tasks WHERE parent_task_id = ? AND status IN ('pending', 'running', 'scheduled')",
            &[parent.id.into()],
        )
        .await?
        .and_then(|r| r.i64("n"))
        .unwrap_or(0);
    if open >= MAX_OPEN_CHILDREN {
        return Err(TaskError::Conflict(format!("task {} already has {open} unfinished children", parent.id)));
    }
    Ok(())
}

/// Creates a child of `parent_id` in the parent's project (`kind = spawned`).
pub async fn spawn(db: &Db, parent_id: i64, mut t: NewTask) -> Result<TaskRow> {
    let parent = get(db, parent_id).await?;
    if parent.deleted_at.is_some() {
        return Err(TaskError::Conflict(format!("task {parent_id} is cancelled")));
    }
    t.project_id = parent.project_id;
    t.parent_task_id = Some(parent_id);
    if t.tags.is_empty() {
        t.tags = parent.tags.clone();
    }
    create(db, t).await
}

/// One task by id, cancelled ones included.
pub async fn get(db: &Db, id: i64) -> Result<TaskRow> {
    let row = db.fetch_optional("SELECT * FROM tasks WHERE id = ?", &[id.into()]).await?;
    row.map(|r| TaskRow::from_row(&r)).ok_or_else(|| TaskError::NotFound(format!("task {id}")))
}

/// Escapes `!`, `%` and `_` for `LIKE ... ESCAPE '!'`.
fn like_escape(s: &str) -> String {
    s.replace('!', "!!").replace('%', "!%").replace('_', "!_")
}

fn where_of(f: &TaskFilter) -> (String, Vec<Value>) {
    let mut parts: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let eqs: [(&str, Option<Value>); 5] = [
        ("project_id", f.project_id.map(Value::Int)),
        ("agent_id", f.agent_id.map(Value::Int)),
        ("parent_task_id", f.parent_task_id.map(Value::Int)),
        ("kind", f.kind.as_deref().map(Value::from)),
        ("trigger_id", f.trigger_id.map(Value::Int)),
    ];
    for (col, v) in eqs {
        if let Some(v) = v {
            parts.push(format!("{col} = ?"));
            args.push(v);
        }
    }
    if let Some(u) = f.owner_user_id {
        parts.push("project_id IN (SELECT id FROM projects WHERE user_id = ?)".into());
        args.push(u.into());
    }
    if !f.status.is_empty() {
        parts.push(format!("status IN ({})", vec!["?"; f.status.len()].join(", ")));
        args.extend(f.status.iter().map(|s| Value::from(s.as_str())));
    }
    if !f.include_deleted && !f.status.contains(&TaskStatus::Cancelled) {
        parts.push("deleted_at IS NULL".into());
    }
    if !f.tags_any.is_empty() {
        let ors = vec!["tags LIKE ? ESCAPE '!'"; f.tags_any.len()].join(" OR ");
        parts.push(format!("({ors})"));
        for t in &f.tags_any {
            args.push(format!("%{}%", like_escape(&json!(t.trim()).to_string())).into());
        }
    }
    if let Some(before) = f.hide_completed_before {
        parts.push("NOT (status = 'completed' AND finished_at IS NOT NULL AND finished_at < ?)".into());
        args.push(before.into());
    }
    if f.recurring_only {
        // Stored schedules are JSON written by this crate: a one-time one has an "at" key.
        parts.push("schedule IS NOT NULL AND schedule NOT LIKE '%\"at\":%'".into());
    }
    if f.waiting_only {
        parts.push("status = 'pending' AND status_reason IS NOT NULL".into());
    }
    if let Some(q) = f.search.as_deref().filter(|q| !q.trim().is_empty()) {
        parts.push("title LIKE ? ESCAPE '!'".into());
        args.push(format!("%{}%", like_escape(q.trim())).into());
    }
    let sql = if parts.is_empty() { String::new() } else { format!(" WHERE {}", parts.join(" AND ")) };
    (sql, args)
}

/// Lists tasks, newest first.
pub async fn list(db: &Db, f: &TaskFilter) -> Result<TaskPage> {
    let (clause, args) = where_of(f);
    let limit = f.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let offset = f.offset.unwrap_or(0).max(0);
    let sql = format!("SELECT * FROM tasks{clause} ORDER BY id DESC LIMIT ? OFFSET ?");
    // A title search or a tag filter cannot use an index: counting its matches would
    // scan every task, so it only looks one row past the page.
    let page = if f.search.as_deref().is_some_and(|q| !q.trim().is_empty()) || !f.tags_any.is_empty() {
        table::page_ahead(db, &sql, &args, limit, offset).await?
    } else {
        table::page_counted(db, ("tasks", &clause), &sql, &args, limit, offset).await?
    };
    let data = page.rows.iter().map(TaskRow::from_row).collect();
    Ok(TaskPage { data, total: page.total, total_capped: page.capped, limit, offset })
}

/// Every tag on live tasks (of one project, or of one owner's projects), most used first.
pub async fn tags(db: &Db, project_id: Option<i64>, owner_user_id: Option<i64>) -> Result<Vec<TagCount>> {
    let f = TaskFilter { project_id, owner_user_id, ..TaskFilter::default() };
    let (clause, args) = where_of(&f);
    let rows = db.fetch_all(&format!("SELECT tags FROM tasks{clause}"), &args).await?;
    let mut counts: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for r in &rows {
        for t in tags_of(r.str("tags")) {
            *counts.entry(t).or_default() += 1;
        }
    }
    let mut out: Vec<TagCount> = counts.into_iter().map(|(tag, count)| TagCount { tag, count }).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.tag.cmp(&b.tag)));
    Ok(out)
}

/// Applies a patch. A new schedule recomputes the next run (and makes a waiting task
/// `scheduled`); `status` can re-queue (`pending`), finish or cancel the task.
pub async fn update(db: &Db, id: i64, p: TaskPatch) -> Result<TaskRow> {
    let cur = get(db, id).await?;
    match p.status {
        Some(TaskStatus::Cancelled) => return cancel(db, id).await,
        Some(s @ (TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Blocked)) => {
            apply_fields(db, &cur, &p).await?;
            let output = p.output.clone().unwrap_or(None);
            return finish(db, id, output, s).await;
        }
        Some(TaskStatus::Running | TaskStatus::Scheduled) => {
            return Err(TaskError::invalid("status", "can be set to pending, completed, failed, blocked or cancelled"));
        }
        Some(TaskStatus::Pending) | None => {}
    }
    apply_fields(db, &cur, &p).await?;
    if p.status == Some(TaskStatus::Pending) {
        requeue(db, &get(db, id).await?).await?;
    }
    get(db, id).await
}

async fn apply_fields(db: &Db, cur: &TaskRow, p: &TaskPatch) -> Result<()> {
    let mut cols: Vec<(&str, Value)> = Vec::new();
    if let Some(t) = &p.title {
        cols.push(("title", check_title(t)?.into()));
    }
    if let Some(d) = &p.description {
        cols.push(("description", d.clone().into()));
    }
    if let Some(t) = &p.tags {
        cols.push(("tags", json!(clean_tags("tags", t)?).to_string().into()));
    }
    if let Some(n) = p.priority {
        cols.push(("priority", n.into()));
    }
    if let Some(n) = p.max_attempts {
        cols.push(("max_attempts", check_attempts(n)?.into()));
    }
    if let Some(l) = &p.limits {
        let v = match l {
            Some(l) => limits::validate("limits", l)?,
            None => None,
        };
        cols.push(("limits", v.map(|l| l.to_string()).into()));
    }
    if let Some(c) = &p.context {
        let v = match c {
            Some(c) => check_context(c)?,
            None => None,
        };
        cols.push(("context", v.into()));
    }
    if let Some(a) = p.agent_id {
        if let Some(a) = a {
            agent_in_project(db, a, cur.project_id).await?;
        }
        cols.push(("agent_id", a.into()));
    }
    if let Some(o) = &p.output {
        cols.push(("output", o.clone().into()));
    }
    if let Some(s) = &p.schedule {
        let sched = schedule::parse(s.as_ref())?;
        schedule_columns(cur, s.as_ref(), sched.as_ref(), &mut cols);
    }
    if cols.is_empty() {
        return Ok(());
    }
    cols.push(("updated_at", now_ms().into()));
    table::update(db, "tasks", &cols, &[table::Filter::Eq("id", cur.id.into())]).await?;
    Ok(())
}

/// Columns a schedule change sets: the schedule, its next run, and the state of a waiting task.
pub fn schedule_columns(
    cur: &TaskRow,
    raw: Option<&Json>,
    sched: Option<&Schedule>,
    cols: &mut Vec<(&'static str, Value)>,
) {
    let now = now_ms();
    cols.push(("schedule", raw.filter(|v| !v.is_null()).map(Json::to_string).into()));
    cols.push(("next_run_at", sched.and_then(|s| s.first_slot(now)).into()));
    // Only a task waiting for its turn changes state; a running one finishes first.
    if matches!(cur.status, TaskStatus::Pending | TaskStatus::Scheduled) {
        let status = if sched.is_some() { TaskStatus::Scheduled } else { TaskStatus::Pending };
        cols.push(("status", status.as_str().into()));
        if sched.is_some() {
            cols.push(("kind", "scheduled".into()));
        }
    }
}

/// Makes a finished task run again from attempt 1.
async fn requeue(db: &Db, cur: &TaskRow) -> Result<()> {
    if cur.status == TaskStatus::Running {
        return Err(TaskError::Conflict(format!("task {} is running; cancel it first", cur.id)));
    }
    let sched = schedule::parse(cur.schedule.as_ref())?;
    let now = now_ms();
    let (status, next) = match &sched {
        Some(s) => (TaskStatus::Scheduled, s.first_slot(now)),
        None => (TaskStatus::Pending, None),
    };
    let cols: Vec<(&str, Value)> = vec![
        ("status", status.as_str().into()),
        ("status_reason", Value::Null),
        ("next_run_at", next.into()),
        ("attempts", 0.into()),
        ("error", Value::Null),
        ("finished_at", Value::Null),
        ("deleted_at", Value::Null),
        ("lease_owner", Value::Null),
        ("lease_expires_at", Value::Null),
        ("updated_at", now.into()),
    ];
    table::update(db, "tasks", &cols, &[table::Filter::Eq("id", cur.id.into())]).await?;
    Ok(())
}

/// Finishes a task with `output` and a final `status` (completed, failed or blocked),
/// as the `task.finish` skill does. On a running task the executor's run keeps its
/// lease and still records tokens and cost when it returns, but no longer changes
/// the status or output.
pub async fn finish(db: &Db, id: i64, output: Option<String>, status: TaskStatus) -> Result<TaskRow> {
    if !matches!(status, TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Blocked) {
        return Err(TaskError::invalid("status", "must be completed, failed or blocked"));
    }
    let cur = get(db, id).await?;
    if cur.deleted_at.is_some() || cur.status == TaskStatus::Cancelled {
        return Err(TaskError::Conflict(format!("task {id} is cancelled")));
    }
    if cur.is_recurring() {
        return Err(TaskError::Conflict(format!("task {id} is recurring; cancel it to stop its schedule")));
    }
    let now = now_ms();
    let mut cols: Vec<(&str, Value)> = vec![
        ("status", status.as_str().into()),
        ("status_reason", Value::Null),
        ("next_run_at", Value::Null),
        ("finished_at", now.into()),
        ("updated_at", now.into()),
    ];
    if let Some(o) = output {
        cols.push(("output", o.into()));
    }
    table::update(db, "tasks", &cols, &[table::Filter::Eq("id", id.into())]).await?;
    get(db, id).await
}

/// Cancels a task: a soft delete (kept for history). A waiting or running task
/// becomes `cancelled` (the executor running it notices within a second and stops
/// the agent); a finished one keeps its status. Unfinished children and occurrences
/// are cancelled with it.
pub async fn cancel(db: &Db, id: i64) -> Result<TaskRow> {
    let cur = get(db, id).await?;
    // The whole unfinished tree first, then one transaction that cancels it leaves
    // first: while a child is cancelled its parent still holds its agent, so the
    // executor cannot start a child in the moment between the two writes.
    let mut tree = vec![cur.id];
    let mut next = 0;
    while next < tree.len() && tree.len() < 10_000 {
        let children = db
            .fetch_all(
                "SELECT id FROM tasks WHERE parent_task_id = ? AND status IN ('pending', 'scheduled', 'running')",
                &[tree[next].into()],
            )
            .await?;
        tree.extend(children.iter().filter_map(|r| r.i64("id")));
        next += 1;
    }
    let now = now_ms();
    let mut tx = db.begin().await?;
    for tid in tree.iter().rev() {
        tx.execute(
            "UPDATE tasks SET status = 'cancelled', status_reason = 'cancelled', next_run_at = NULL, \
             finished_at = ?, deleted_at = ?, updated_at = ? \
             WHERE id = ? AND status IN ('pending', 'scheduled', 'running')",
            &[now.into(), now.into(), now.into(), (*tid).into()],
        )
        .await?;
        tx.execute(
            "UPDATE tasks SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
            &[now.into(), now.into(), (*tid).into()],
        )
        .await?;
    }
    tx.commit().await?;
    get(db, id).await
}
