//! Task endpoints (SPEC §6): list, create, read, change, cancel, spawn, tags, views,
//! run history and schedule firings. Handlers parse, scope to the caller's projects
//! and call `spgw_tasks::service`; attachments and output downloads live in
//! `tasks/files.rs`, body parsing in `tasks/input.rs`.

pub(crate) mod files;
mod input;

pub use files::{attachment, attachments, output, upload};

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use spgw_tasks::{NewTask, TaskError, TaskFilter, TaskRow, TaskStatus, ledger, runs, schedule, service};

use crate::auth::Caller;
use crate::body::{JsonBody, JsonObject};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

impl From<TaskError> for ApiError {
    fn from(e: TaskError) -> Self {
        match e {
            TaskError::Invalid { field, message } => ApiError::field(field, message),
            TaskError::NotFound(m) => ApiError::NotFound(format!("{m} not found")),
            TaskError::Conflict(m) => ApiError::Conflict(m),
            TaskError::BadSignature(m) => ApiError::Forbidden(format!("webhook signature: {m}")),
            TaskError::Store(s) => s.into(),
        }
    }
}

/// Whether the caller may see project `project_id` (admins see all).
pub(crate) async fn can_see_project(state: &AppState, caller: &Caller, project_id: i64) -> ApiResult<bool> {
    if caller.is_admin() {
        return Ok(true);
    }
    let row = state.db.fetch_optional("SELECT user_id FROM projects WHERE id = ?", &[project_id.into()]).await?;
    Ok(row.and_then(|r| r.i64("user_id")) == Some(caller.user_id))
}

/// A task the caller may see, or 404.
pub(crate) async fn visible(state: &AppState, caller: &Caller, id: i64) -> ApiResult<TaskRow> {
    let task = service::get(&state.db, id).await?;
    if !can_see_project(state, caller, task.project_id).await? {
        return Err(ApiError::NotFound(format!("task {id} not found")));
    }
    Ok(task)
}

/// Query parameters of task lists and views.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub project_id: Option<i64>,
    /// One status or several, comma-separated (`pending,running`).
    pub status: Option<String>,
    /// Tasks carrying any of these tags (comma-separated).
    pub assigned_tags: Option<String>,
    /// Same as `assigned_tags`.
    pub tags: Option<String>,
    pub agent_id: Option<i64>,
    pub parent_task_id: Option<i64>,
    /// `scheduled`, `spawned`, `external`.
    pub kind: Option<String>,
    pub trigger_id: Option<i64>,
    /// Title contains this text.
    pub q: Option<String>,
    /// Include cancelled (soft-deleted) tasks.
    pub include_deleted: Option<bool>,
    /// Include completed tasks older than `tasks.hide_completed_after_hours`.
    pub include_hidden: Option<bool>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn split(s: &Option<String>) -> Vec<String> {
    s.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

async fn filter_of(state: &AppState, caller: &Caller, q: &ListQuery) -> ApiResult<TaskFilter> {
    let mut status = Vec::new();
    for s in split(&q.status) {
        status.push(TaskStatus::parse(&s).ok_or_else(|| {
            let all: Vec<&str> = TaskStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::BadRequest(format!("unknown status {s:?}; statuses: {}", all.join(", ")))
        })?);
    }
    let mut tags_any = split(&q.assigned_tags);
    tags_any.extend(split(&q.tags));
    let hours = state.settings.float("tasks.hide_completed_after_hours", 72.0).await;
    let hide = (hours > 0.0 && !q.include_hidden.unwrap_or(false))
        .then(|| spgw_core::time::now_ms() - (hours.min(1e6) * 3_600_000.0) as i64);
    Ok(TaskFilter {
        project_id: q.project_id,
        owner_user_id: (!caller.is_admin()).then_some(caller.user_id),
        status,
        tags_any,
        agent_id: q.agent_id,
        parent_task_id: q.parent_task_id,
        kind: q.kind.clone(),
        trigger_id: q.trigger_id,
        include_deleted: q.include_deleted.unwrap_or(false),
        hide_completed_before: hide,
        waiting_only: false,
        recurring_only: false,
        search: q.q.clone(),
        limit: Some(q.limit.unwrap_or(state.config.limits.default_page_size as i64)),
        offset: q.offset,
    })
}

/// Lists the caller's tasks (newest first). Completed tasks older than
/// `tasks.hide_completed_after_hours` (default 72, 0 disables) are left out unless `include_hidden=true`.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(ListQuery),
    responses((status = 200, description = "{data: [task], total, limit, offset}")))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let f = filter_of(&state, &caller, &q).await?;
    Ok(Json(serde_json::to_value(service::list(&state.db, &f).await?).map_err(ApiError::internal)?))
}

/// A named view of the caller's tasks: `pending`, `scheduled`, `running`, `completed`, `failed`,
/// `cancelled`, `blocked`, `waiting` (pending with a reason, e.g. no matching agent), `recurring`,
/// `active` (pending, scheduled or running), `finished`, `all`. Takes the list's filters.
#[utoipa::path(get, path = "/api/v1/tasks/views/{view}", tag = "tasks",
    params(("view" = String, Path, description = "The view"), ListQuery),
    responses((status = 200, description = "{view, data: [task], total, limit, offset}"), (status = 404, description = "Unknown view")))]
pub async fn view(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let mut f = filter_of(&state, &caller, &q).await?;
    if !f.view(&name) {
        return Err(ApiError::NotFound(format!(
            "unknown view {name:?}; views: {}",
            spgw_tasks::model::VIEWS.join(", ")
        )));
    }
    let page = service::list(&state.db, &f).await?;
    let mut out = serde_json::to_value(page).map_err(ApiError::internal)?;
    out["view"] = json!(name);
    Ok(Json(out))
}

/// Creates a task (`kind` is `scheduled` with a schedule, `spawned` with a parent, else `external`).
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks",
    request_body(content = Object, description = "project_id, title, description, tags, schedule ({at} | {cron, timezone} | {every_seconds}, with missed, overlap, when), parent_task_id, priority, max_attempts, limits, context, agent_id"),
    responses((status = 201, description = "The task"), (status = 404, description = "Project not found"), (status = 422, description = "A field is invalid")))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(mut t): JsonBody<NewTask>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if !can_see_project(&state, &caller, t.project_id).await? {
        return Err(ApiError::NotFound(format!("project {} not found", t.project_id)));
    }
    t.created_by = Some(caller.user_id);
    let task = service::create(&state.db, t).await?;
    Ok((StatusCode::CREATED, Json(render(&state, task, false).await?)))
}

/// Creates a child task of `task_id` in its project (`kind = spawned`); it inherits what
/// is left of the parent's limits, and the parent's tags when it names none.
#[utoipa::path(post, path = "/api/v1/task/{task_id}/spawn", tag = "tasks",
    params(("task_id" = i64, Path, description = "Parent task")),
    request_body(content = Object, description = "title, description, tags, schedule, priority, max_attempts, limits, context, agent_id"),
    responses((status = 201, description = "The child task"), (status = 404, description = "Parent not found"), (status = 409, description = "Parent cancelled, or too many children")))]
pub async fn spawn(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(task_id): Path<i64>,
    JsonObject(mut body): JsonObject,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let parent = visible(&state, &caller, task_id).await?;
    // The parent decides the project; a matching project_id is tolerated.
    match body.remove("project_id") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_i64() == Some(parent.project_id) => {}
        Some(_) => return Err(ApiError::field("project_id", "a child task lives in its parent's project")),
    }
    body.remove("parent_task_id");
    let mut t: NewTask = input::new_task(body)?;
    t.created_by = Some(caller.user_id);
    let task = service::spawn(&state.db, task_id, t).await?;
    Ok((StatusCode::CREATED, Json(render(&state, task, false).await?)))
}

/// One task, with its attachments and, for a schedule, its next slots.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, description = "The task with `attachments` and `next_runs`"), (status = 404, description = "Not found")))]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let task = visible(&state, &caller, id).await?;
    Ok(Json(render(&state, task, true).await?))
}

/// The task as JSON; with `detail`, its attachments and upcoming slots.
async fn render(state: &AppState, task: TaskRow, detail: bool) -> ApiResult<Value> {
    let mut out = serde_json::to_value(&task).map_err(ApiError::internal)?;
    if detail {
        let files = spgw_tasks::attachments::list(&state.db, task.id).await?;
        out["attachments"] = serde_json::to_value(files).map_err(ApiError::internal)?;
        out["next_runs"] = json!(next_runs(&task, 5));
    }
    Ok(out)
}

/// The next `n` slots of a scheduled task, from its stored next run.
fn next_runs(task: &TaskRow, n: usize) -> Vec<String> {
    let (Some(first), Ok(Some(s))) = (task.next_run_at, schedule::parse(task.schedule.as_ref())) else {
        return Vec::new();
    };
    if task.status != TaskStatus::Scheduled {
        return Vec::new();
    }
    std::iter::successors(Some(first), |prev| s.next_after(*prev)).take(n).map(spgw_core::time::to_rfc3339).collect()
}

/// Changes the given fields (`status`: `pending` re-queues, `completed`/`failed`/`blocked` finish, `cancelled` cancels).
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Object, description = "Any of title, description, tags, schedule, priority, max_attempts, limits, context, agent_id, status, output"),
    responses((status = 200, description = "The task"), (status = 404, description = "Not found"), (status = 422, description = "A field is invalid")))]
pub async fn patch(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let cur = visible(&state, &caller, id).await?;
    let p = input::patch(&cur, body, false)?;
    let task = service::update(&state.db, id, p).await?;
    Ok(Json(render(&state, task, true).await?))
}

/// Replaces the task's editable fields (`title` required; absent fields are reset).
#[utoipa::path(put, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = i64, Path, description = "Task id")),
    request_body(content = Object, description = "title and the other editable fields"),
    responses((status = 200, description = "The task"), (status = 404, description = "Not found"), (status = 422, description = "A field is invalid")))]
pub async fn replace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let cur = visible(&state, &caller, id).await?;
    let p = input::patch(&cur, body, true)?;
    let task = service::update(&state.db, id, p).await?;
    Ok(Json(render(&state, task, true).await?))
}

/// Cancels a task: a soft delete, kept for history. A running task is stopped; unfinished
/// children and occurrences are cancelled with it.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, description = "The cancelled task"), (status = 404, description = "Not found")))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    let task = service::cancel(&state.db, id).await?;
    Ok(Json(render(&state, task, false).await?))
}

/// Every tag on the caller's live tasks with its count, most used first.
#[utoipa::path(get, path = "/api/v1/tasks/tags", tag = "tasks",
    params(("project_id" = Option<i64>, Query, description = "Only this project")),
    responses((status = 200, description = "{data: [{tag, count}], tags: [tag]}")))]
pub async fn tags(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let owner = (!caller.is_admin()).then_some(caller.user_id);
    let counts = service::tags(&state.db, q.project_id, owner).await?;
    let names: Vec<&str> = counts.iter().map(|c| c.tag.as_str()).collect();
    Ok(Json(json!({"data": counts, "tags": names})))
}

/// Paging of histories.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    pub limit: Option<i64>,
}

/// The task's runs, one per attempt (newest first); a recurring task lists its occurrences' runs.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/runs", tag = "tasks",
    params(("id" = i64, Path, description = "Task id"), HistoryQuery),
    responses((status = 200, description = "{data: [{id, task_id, attempt, agent_id, worker, status, error, tokens, cost_usd, slot, started_at, finished_at}]}")))]
pub async fn task_runs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    let rows = runs::list(&state.db, id, q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"data": rows})))
}

/// The schedule's ledger: one row per slot (`fired`, `missed` or `skipped`), newest slot first.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/firings", tag = "tasks",
    params(("id" = i64, Path, description = "Task id"), HistoryQuery),
    responses((status = 200, description = "{data: [{slot, outcome, reason, task_id, worker, created_at}]}")))]
pub async fn firings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    let rows = ledger::list(&state.db, &ledger::task_key(id), q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"data": rows})))
}
