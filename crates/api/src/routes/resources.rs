//! Handlers of the generic resource API (SPEC §4): parse, call the service.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use serde_json::Value;

use crate::auth::Caller;
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::resources::defs::{self, ResourceDef};
use crate::resources::input::Mode;
use crate::resources::service;
use crate::state::AppState;

fn list_type(name: &str) -> ApiResult<&'static ResourceDef> {
    defs::by_plural(name).ok_or_else(|| {
        ApiError::NotFound(format!("unknown type {name:?}; valid types: {}", defs::valid_names(true, |_| true)))
    })
}

fn verb_type(name: &str, verb: fn(&ResourceDef) -> bool) -> ApiResult<&'static ResourceDef> {
    defs::by_singular(name).filter(|d| verb(d)).ok_or_else(|| {
        ApiError::NotFound(format!("unknown type {name:?}; valid types: {}", defs::valid_names(false, verb)))
    })
}

fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::BadRequest(format!("id must be a positive integer, got {raw:?}")))
}

/// Lists rows of a type visible to the caller.
#[utoipa::path(get, path = "/api/v1/list/{type}", tag = "resources",
    params(("type" = String, Path, description = "providers, models, provider-keys, agents, projects, sessions, users, gateway-api-keys, gateway-config, tasks, reports, documents, codebases, resources, assets, credentials, mcp-tools"),
           ("limit" = Option<i64>, Query, description = "Page size (default 50, max 500)"),
           ("offset" = Option<i64>, Query, description = "Rows to skip")),
    responses((status = 200, description = "{data, total, limit, offset}"), (status = 404, description = "Unknown type")))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(kind): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Value>> {
    let def = list_type(&kind)?;
    Ok(Json(service::list(&state, &caller, def, &query).await?))
}

/// One row by id.
#[utoipa::path(get, path = "/api/v1/get/{type}/{id}", tag = "resources",
    params(("type" = String, Path, description = "Singular type name"), ("id" = i64, Path, description = "Row id")),
    responses((status = 200, description = "The row"), (status = 404, description = "Not found or not visible")))]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let def = verb_type(&kind, |_| true)?;
    Ok(Json(service::get(&state, &caller, def, parse_id(&id)?).await?))
}

/// Creates a row.
#[utoipa::path(post, path = "/api/v1/add/{type}", tag = "resources",
    params(("type" = String, Path, description = "agent, project, gateway-api-key, provider, provider-key, model, user, gateway-config, task, report, document, codebase, resource, asset, credential, mcp-tool")),
    request_body(content = Object, description = "The fields of the type"),
    responses((status = 201, description = "The row as stored (secrets masked)"), (status = 409, description = "Duplicate"),
              (status = 422, description = "A field is invalid")))]
pub async fn add(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(kind): Path<String>,
    JsonObject(body): JsonObject,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let def = verb_type(&kind, |d| d.verbs.add)?;
    Ok((StatusCode::CREATED, Json(service::add(&state, &caller, def, body).await?)))
}

/// Replaces a row (every required field must be given).
#[utoipa::path(put, path = "/api/v1/update/{type}/{id}", tag = "resources",
    params(("type" = String, Path, description = "Singular type name"), ("id" = i64, Path, description = "Row id")),
    request_body(content = Object, description = "All fields of the type"),
    responses((status = 200, description = "The row as stored"), (status = 404, description = "Not found"), (status = 422, description = "A field is invalid")))]
pub async fn replace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((kind, id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let def = verb_type(&kind, |d| d.verbs.update)?;
    Ok(Json(service::update(&state, &caller, def, parse_id(&id)?, body, Mode::Replace).await?))
}

/// Changes only the given fields of a row.
#[utoipa::path(patch, path = "/api/v1/update/{type}/{id}", tag = "resources",
    params(("type" = String, Path, description = "Singular type name"), ("id" = i64, Path, description = "Row id")),
    request_body(content = Object, description = "The fields to change"),
    responses((status = 200, description = "The row as stored"), (status = 404, description = "Not found"), (status = 422, description = "A field is invalid")))]
pub async fn patch(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((kind, id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<Value>> {
    let def = verb_type(&kind, |d| d.verbs.update)?;
    Ok(Json(service::update(&state, &caller, def, parse_id(&id)?, body, Mode::Patch).await?))
}

/// Deletes a row (tasks are cancelled and kept for history).
#[utoipa::path(delete, path = "/api/v1/del/{type}/{id}", tag = "resources",
    params(("type" = String, Path, description = "Singular type name, or session"), ("id" = i64, Path, description = "Row id")),
    responses((status = 200, description = "{id, deleted: true}"), (status = 404, description = "Not found")))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let def = verb_type(&kind, |d| d.verbs.del)?;
    let id = match (def.singular, id.parse::<i64>()) {
        (_, Ok(n)) if n > 0 => n,
        // Sessions are also addressed by their session id.
        ("session", _) => session_row_id(&state, &id).await?,
        _ => parse_id(&id)?,
    };
    Ok(Json(service::delete(&state, &caller, def, id).await?))
}

async fn session_row_id(state: &AppState, session_id: &str) -> ApiResult<i64> {
    let row = state.db.fetch_optional("SELECT id FROM sessions WHERE session_id = ?", &[session_id.into()]).await?;
    row.and_then(|r| r.i64("id")).ok_or_else(|| ApiError::NotFound(format!("session {session_id} not found")))
}
