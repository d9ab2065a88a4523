//! Trigger endpoints (SPEC §7): CRUD, the signed webhook that fires a trigger, the
//! firing history and secret rotation. Handlers scope to the caller's projects and
//! call `spgw_tasks::triggers`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use spgw_tasks::triggers::{self, NewTrigger, Source, TriggerFilter, TriggerPatch, TriggerRow};

use super::tasks::can_see_project;
use crate::auth::Caller;
use crate::body::{JsonBody, JsonObject};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Headers a webhook signature may come in (`sha256=<hex HMAC-SHA256 of the raw body>`).
const SIGNATURE_HEADERS: &[&str] = &["x-signature-256", "x-hub-signature-256", "x-spgw-signature"];

async fn visible(state: &AppState, caller: &Caller, id: i64) -> ApiResult<TriggerRow> {
    let t = triggers::get(&state.db, id).await?;
    if !can_see_project(state, caller, t.project_id).await? {
        return Err(ApiError::NotFound(format!("trigger {id} not found")));
    }
    Ok(t)
}

fn to_json(t: &TriggerRow) -> ApiResult<Value> {
    serde_json::to_value(t).map_err(ApiError::internal)
}

/// Filters of the trigger list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TriggerQuery {
    pub project_id: Option<i64>,
    pub enabled: Option<bool>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Lists the caller's triggers.
#[utoipa::path(get, path = "/api/v1/triggers", tag = "triggers", params(TriggerQuery),
    responses((status = 200, description = "{data: [trigger], total}")))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<TriggerQuery>,
) -> ApiResult<Json<Value>> {
    let f = TriggerFilter {
        project_id: q.project_id,
        owner_user_id: (!caller.is_admin()).then_some(caller.user_id),
        enabled: q.enabled,
        limit: q.limit,
        offset: q.offset,
    };
    let (rows, total) = triggers::list(&state.db, &f).await?;
    Ok(Json(json!({"data": rows, "total": total})))
}

/// Creates a trigger. The response carries `webhook_secret` once: sign webhook bodies with it.
#[utoipa::path(post, path = "/api/v1/triggers", tag = "triggers",
    request_body(content = Object, description = "project_id, name, description, enabled, condition, schedule, task_template {title, description, tags, ...} with {{placeholders}}, cooldown_seconds"),
    responses((status = 201, description = "The trigger with its webhook_secret (shown once)"), (status = 409, description = "Name taken"), (status = 422, description = "A field is invalid")))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(mut t): JsonBody<NewTrigger>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if !can_see_project(&state, &caller, t.project_id).await? {
        return Err(ApiError::NotFound(format!("project {} not found", t.project_id)));
    }
    t.created_by = Some(caller.user_id);
    let (row, secret) = triggers::create(&state.db, &state.master_key, t).await?;
    let mut out = to_json(&row)?;
    out["webhook_secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(out)))
}

/// One trigger.
#[utoipa::path(get, path = "/api/v1/triggers/{id}", tag = "triggers", params(("id" = i64, Path, description = "Trigger id")),
    responses((status = 200, description = "The trigger"), (status = 404, description = "Not found")))]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(to_json(&visible(&state, &caller, id).await?)?))
}

const KEYS: &[&str] =
    &["name", "description", "enabled", "condition", "schedule", "task_template", "cooldown_seconds", "project_id"];

fn patch_of(cur: &TriggerRow, body: Map<String, Value>, full: bool) -> ApiResult<TriggerPatch> {
    if let Some(k) = body.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(ApiError::field(k.clone(), format!("unknown field; fields: {}", KEYS.join(", "))));
    }
    if let Some(v) = body.get("project_id").filter(|v| !v.is_null())
        && v.as_i64() != Some(cur.project_id)
    {
        return Err(ApiError::field("project_id", "cannot be changed"));
    }
    if full {
        for k in ["name", "task_template"] {
            if body.get(k).is_none_or(Value::is_null) {
                return Err(ApiError::field(k, "is required"));
            }
        }
    }
    let opt = |k: &str| -> Option<Option<Value>> {
        match body.get(k) {
            Some(v) => Some((!v.is_null()).then(|| v.clone())),
            None => full.then_some(None),
        }
    };
    let name = match body.get("name") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::field("name", "must be a string")),
        None => None,
    };
    let description = match body.get("description") {
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(Value::Null) => Some(None),
        Some(_) => return Err(ApiError::field("description", "must be a string")),
        None => full.then_some(None),
    };
    let enabled = match body.get("enabled") {
        Some(v) => Some(v.as_bool().ok_or_else(|| ApiError::field("enabled", "must be true or false"))?),
        None => full.then_some(true),
    };
    let cooldown_seconds = match body.get("cooldown_seconds") {
        Some(v) => Some(v.as_i64().ok_or_else(|| ApiError::field("cooldown_seconds", "must be an integer"))?),
        None => None,
    };
    Ok(TriggerPatch {
        name,
        description,
        enabled,
        condition: opt("condition"),
        schedule: opt("schedule"),
        task_template: body.get("task_template").cloned(),
        cooldown_seconds,
    })
}

/// Changes the given fields of a trigger.
#[utoipa::path(patch, path = "/api/v1/triggers/{id}", tag = "triggers", params(("id" = i64, Path, description = "Trigger id")),
    request_body(content = Object, description = "Any of name, description, enabled, condition, schedule, task_template, cooldown_seconds"),
    responses((status = 200, description = "The trigger"), (status = 404, description = "Not found"), (status = 422, description = "A field is invalid")))]
pub async fn patch(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let cur = visible(&state, &caller, id).await?;
    let row = triggers::update(&state.db, id, patch_of(&cur, body, false)?).await?;
    Ok(Json(to_json(&row)?))
}

/// Replaces a trigger (`name` and `task_template` required; absent optional fields are cleared).
#[utoipa::path(put, path = "/api/v1/triggers/{id}", tag = "triggers", params(("id" = i64, Path, description = "Trigger id")),
    request_body(content = Object, description = "name, task_template and the other fields"),
    responses((status = 200, description = "The trigger"), (status = 404, description = "Not found"), (status = 422, description = "A field is invalid")))]
pub async fn replace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let cur = visible(&state, &caller, id).await?;
    let row = triggers::update(&state.db, id, patch_of(&cur, body, true)?).await?;
    Ok(Json(to_json(&row)?))
}

/// Deletes a trigger and its history (the tasks it created stay).
#[utoipa::path(delete, path = "/api/v1/triggers/{id}", tag = "triggers", params(("id" = i64, Path, description = "Trigger id")),
    responses((status = 200, description = "{id, deleted: true}"), (status = 404, description = "Not found")))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    triggers::delete(&state.db, id).await?;
    Ok(Json(json!({"id": id, "deleted": true})))
}

/// Fires a trigger. From another system: sign the raw body with the trigger's secret
/// (`X-Signature-256: sha256=<hex HMAC-SHA256>`); no API key needed. A signed-in owner may
/// fire it without a signature. The JSON body is the payload that fills `{{payload.*}}`.
/// The cooldown and the trigger's condition apply; a refusal answers 200 with `fired: false`.
#[utoipa::path(post, path = "/api/v1/triggers/{id}/fire", tag = "triggers", security(()),
    params(("id" = i64, Path, description = "Trigger id"),
           ("X-Signature-256" = Option<String>, Header, description = "sha256=<hex HMAC-SHA256 of the raw body under the trigger's secret>")),
    request_body(content = Object, description = "Any JSON payload"),
    responses((status = 202, description = "{fired: true, task_id}"), (status = 200, description = "{fired: false, outcome, reason}"),
              (status = 401, description = "No signature and not signed in"), (status = 403, description = "Bad signature"), (status = 404, description = "Not found")))]
pub async fn fire(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let signature = SIGNATURE_HEADERS.iter().find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()));
    let not_found = || ApiError::NotFound(format!("trigger {id} not found"));
    let trigger = triggers::get(&state.db, id).await.map_err(|_| not_found())?;
    let source = match signature {
        Some(sig) => {
            triggers::verify_signature(&state.master_key, &trigger, &body, Some(sig))?;
            Source::Webhook
        }
        None => {
            let caller = crate::auth::resolve(&state, &headers).await?.ok_or(ApiError::Unauthenticated)?;
            if !can_see_project(&state, &caller, trigger.project_id).await? {
                return Err(not_found());
            }
            Source::Manual
        }
    };
    let payload = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::InvalidJson(e.to_string()))?
    };
    let r = triggers::fire_now(&state.db, &trigger, source, payload).await?;
    let status = if r.fired { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(serde_json::to_value(r).map_err(ApiError::internal)?)))
}

/// Paging of the history.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiringsQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The trigger's history, newest first: fired (with the task), or refused and why.
#[utoipa::path(get, path = "/api/v1/triggers/{id}/firings", tag = "triggers",
    params(("id" = i64, Path, description = "Trigger id"), FiringsQuery),
    responses((status = 200, description = "{data: [{id, source, outcome, reason, task_id, payload, created_at}]}")))]
pub async fn firings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(q): Query<FiringsQuery>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    let rows = triggers::firings(&state.db, id, q.limit.unwrap_or(100), q.offset.unwrap_or(0)).await?;
    Ok(Json(json!({"data": rows})))
}

/// Replaces the webhook secret; the new one is in the response, once.
#[utoipa::path(post, path = "/api/v1/triggers/{id}/rotate-secret", tag = "triggers", params(("id" = i64, Path, description = "Trigger id")),
    responses((status = 200, description = "{id, webhook_secret}")))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    let secret = triggers::rotate_secret(&state.db, &state.master_key, id).await?;
    Ok(Json(json!({"id": id, "webhook_secret": secret})))
}
