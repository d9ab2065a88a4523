//! Task request bodies: a new task from a JSON object, and PUT/PATCH bodies as a
//! [`TaskPatch`] (absent leaves a field alone on PATCH and resets it on PUT; `null` clears).

use serde_json::{Map, Value};
use spgw_tasks::{NewTask, TaskPatch, TaskRow, TaskStatus};

use crate::error::{ApiError, ApiResult};

const PATCH_KEYS: &[&str] = &[
    "title",
    "description",
    "tags",
    "schedule",
    "priority",
    "max_attempts",
    "limits",
    "context",
    "agent_id",
    "status",
    "output",
    "project_id",
    "parent_task_id",
];

/// A new task from a body, with the failing field named.
pub fn new_task(body: Map<String, Value>) -> ApiResult<NewTask> {
    serde_path_to_error::deserialize::<_, NewTask>(Value::Object(body)).map_err(|e| {
        let path = e.path().to_string();
        ApiError::field(if path == "." { "body".into() } else { path }, e.into_inner().to_string())
    })
}

fn text(field: &str, v: &Value) -> ApiResult<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ApiError::field(field, "must be a string")),
    }
}

fn int(field: &str, v: &Value) -> ApiResult<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        v => v.as_i64().map(Some).ok_or_else(|| ApiError::field(field, "must be an integer")),
    }
}

/// A PATCH (or, with `full`, PUT) body as a patch of `cur`.
pub fn patch(cur: &TaskRow, body: Map<String, Value>, full: bool) -> ApiResult<TaskPatch> {
    if let Some(k) = body.keys().find(|k| !PATCH_KEYS.contains(&k.as_str())) {
        return Err(ApiError::field(k.clone(), format!("unknown field; fields: {}", PATCH_KEYS.join(", "))));
    }
    if let Some(v) = body.get("project_id").filter(|v| !v.is_null())
        && v.as_i64() != Some(cur.project_id)
    {
        return Err(ApiError::field("project_id", "cannot be changed; create the task in the other project instead"));
    }
    if let Some(v) = body.get("parent_task_id").filter(|v| !v.is_null())
        && v.as_i64() != cur.parent_task_id
    {
        return Err(ApiError::field("parent_task_id", "cannot be changed"));
    }
    if full && !body.get("title").is_some_and(Value::is_string) {
        return Err(ApiError::field("title", "is required"));
    }
    let get = |k: &str| body.get(k);
    let mut p = TaskPatch::default();
    if let Some(v) = get("title") {
        p.title = Some(text("title", v)?.ok_or_else(|| ApiError::field("title", "must be a string"))?);
    }
    let reset = |present: bool| full && !present;
    p.description = match get("description") {
        Some(v) => Some(text("description", v)?),
        None => reset(false).then_some(None),
    };
    p.tags = match get("tags") {
        Some(Value::Null) => Some(Vec::new()),
        Some(v) => Some(
            serde_json::from_value::<Vec<String>>(v.clone())
                .map_err(|_| ApiError::field("tags", "must be an array of strings"))?,
        ),
        None => reset(false).then(Vec::new),
    };
    p.schedule = match get("schedule") {
        Some(v) => Some((!v.is_null()).then(|| v.clone())),
        None => reset(false).then_some(None),
    };
    p.priority = match get("priority") {
        Some(v) => Some(int("priority", v)?.unwrap_or(0)),
        None => reset(false).then_some(0),
    };
    p.max_attempts = match get("max_attempts") {
        Some(v) => Some(int("max_attempts", v)?.unwrap_or(3)),
        None => reset(false).then_some(3),
    };
    p.limits = match get("limits") {
        Some(v) => Some((!v.is_null()).then(|| v.clone())),
        None => reset(false).then_some(None),
    };
    p.context = match get("context") {
        Some(v) => Some((!v.is_null()).then(|| v.clone())),
        None => reset(false).then_some(None),
    };
    p.agent_id = match get("agent_id") {
        Some(v) => Some(int("agent_id", v)?),
        None => reset(false).then_some(None),
    };
    if let Some(v) = get("status") {
        let s = v
            .as_str()
            .and_then(TaskStatus::parse)
            .ok_or_else(|| ApiError::field("status", "must be pending, completed, failed, blocked or cancelled"))?;
        p.status = Some(s);
    }
    if let Some(v) = get("output") {
        p.output = Some(text("output", v)?);
    }
    Ok(p)
}
