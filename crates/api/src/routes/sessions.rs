//! Session endpoints (SPEC §3).

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use spgw_sessions::SessionStore;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Filters of the session list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SessionQuery {
    /// Sessions of this user (admins only for other users).
    pub user_id: Option<i64>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Lists sessions: a user's own; an admin's choice of user, or all.
#[utoipa::path(get, path = "/api/v1/session", tag = "sessions", params(SessionQuery),
    responses((status = 200, description = "{data: [session metadata]}")))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<SessionQuery>,
) -> ApiResult<Json<Value>> {
    let user = if caller.is_admin() { q.user_id } else { Some(caller.user_id) };
    if !caller.is_admin() && q.user_id.is_some_and(|u| u != caller.user_id) {
        return Ok(Json(json!({"data": []})));
    }
    let limit = q.limit.unwrap_or(state.config.limits.default_page_size).min(state.config.limits.max_page_size);
    let rows = state.sessions.list(user, limit as i64, q.offset.unwrap_or(0) as i64).await?;
    Ok(Json(json!({"data": rows.iter().map(|m| m.to_json()).collect::<Vec<_>>()})))
}

async fn owned(state: &AppState, caller: &Caller, id: &str) -> ApiResult<spgw_sessions::Session> {
    let s = state.sessions.load(id).await?;
    s.filter(|s| caller.is_admin() || s.meta.user_id == caller.user_id)
        .ok_or_else(|| ApiError::NotFound(format!("session {id} not found")))
}

/// One session with its history.
#[utoipa::path(get, path = "/api/v1/session/{session_id}", tag = "sessions",
    params(("session_id" = String, Path, description = "Session id")),
    responses((status = 200, description = "Metadata and messages"), (status = 404, description = "Not found")))]
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(owned(&state, &caller, &id).await?.to_json()))
}

/// Deletes a session from every store.
#[utoipa::path(delete, path = "/api/v1/session/{session_id}", tag = "sessions",
    params(("session_id" = String, Path, description = "Session id")),
    responses((status = 200, description = "{session_id, deleted: true}"), (status = 404, description = "Not found")))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    owned(&state, &caller, &id).await?;
    state.sessions.delete(&id).await?;
    Ok(Json(json!({"session_id": id, "deleted": true})))
}
