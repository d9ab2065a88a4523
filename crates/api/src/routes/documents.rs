//! Living-document history: revisions (who or which agent, when, why) and
//! unified diffs between any two of them.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use spgw_agents::documents;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::resources::{defs, service};
use crate::state::AppState;

/// The document `id`, when the caller may see it.
async fn visible(state: &AppState, caller: &Caller, id: i64) -> ApiResult<()> {
    let def = defs::by_singular("document").ok_or_else(|| ApiError::internal("no document type"))?;
    service::load(state, caller, def, id).await.map(|_| ())
}

/// Every revision of a document, newest first (without content).
#[utoipa::path(get, path = "/api/v1/documents/{id}/revisions", tag = "documents",
    params(("id" = i64, Path, description = "Document id")),
    responses((status = 200, description = "{document_id, latest, data: [{revision, title, description, extended_description, author: {type: user|agent, id, name}, reason, created_at}]}"),
        (status = 404, description = "Not found or not visible")))]
pub async fn revisions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    let revs = documents::revisions(&state.db, id).await?;
    let latest = revs.first().map(|r| r.revision);
    Ok(Json(json!({"document_id": id, "latest": latest, "data": revs.iter().map(|r| r.to_json()).collect::<Vec<_>>()})))
}

/// One revision with its content.
#[utoipa::path(get, path = "/api/v1/documents/{id}/revisions/{rev}", tag = "documents",
    params(("id" = i64, Path, description = "Document id"), ("rev" = i64, Path, description = "Revision number")),
    responses((status = 200, description = "The revision, content included"), (status = 404, description = "Not found")))]
pub async fn revision(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, rev)): Path<(i64, i64)>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    Ok(Json(documents::revision(&state.db, id, rev).await?.to_json()))
}

/// Revisions to compare.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The older revision (default: the one before `to`).
    pub from: Option<i64>,
    /// The newer revision (default: the latest).
    pub to: Option<i64>,
}

/// A unified diff between two revisions, one section per changed field.
#[utoipa::path(get, path = "/api/v1/documents/{id}/diff", tag = "documents",
    params(("id" = i64, Path, description = "Document id"), DiffQuery),
    responses((status = 200, description = "{document_id, from, to, diff}: `diff` is a unified diff (`--- a/content@r1`, `+++ b/content@r2`), empty when nothing differs"),
        (status = 404, description = "Document or revision not found")))]
pub async fn diff(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    let to = match q.to {
        Some(t) => t,
        None => documents::latest_revision(&state.db, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("document {id} has no revisions")))?,
    };
    let from = q.from.unwrap_or((to - 1).max(1));
    let (a, b) = (documents::revision(&state.db, id, from).await?, documents::revision(&state.db, id, to).await?);
    Ok(Json(json!({
        "document_id": id,
        "from": from,
        "to": to,
        "from_author": a.to_json()["author"],
        "to_author": b.to_json()["author"],
        "to_reason": b.reason,
        "diff": documents::diff(&a, &b),
    })))
}
