//! Task files: attachments (multipart upload, listing, authenticated download) and
//! the output as a text download.

use axum::Json;
use axum::extract::{Extension, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use spgw_tasks::attachments;

use super::visible;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Default largest attachment (`tasks.max_attachment_bytes`), never above `limits.max_body_bytes`.
const DEFAULT_MAX_ATTACHMENT: i64 = 10 * 1024 * 1024;

/// The output of a task as a plain-text download (empty while it has none).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/output.txt", tag = "tasks", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, description = "text/plain", content_type = "text/plain"), (status = 404, description = "Not found")))]
pub async fn output(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let task = visible(&state, &caller, id).await?;
    let disposition = format!("attachment; filename=\"task-{id}-output.txt\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(ApiError::internal)?),
        ],
        task.output.unwrap_or_default(),
    )
        .into_response())
}

/// Attaches files to a task (multipart fields `file` or `files`, one or several).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/attachments", tag = "tasks", params(("id" = i64, Path, description = "Task id")),
    request_body(content_type = "multipart/form-data", content = String, description = "Fields `file` or `files` (repeatable); each at most `tasks.max_attachment_bytes` (default 10 MiB)"),
    responses((status = 201, description = "{data: [attachment]}"), (status = 413, description = "A file is too large"), (status = 422, description = "No file")))]
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let task = visible(&state, &caller, id).await?;
    let cap = state.config.limits.max_body_bytes as i64;
    let max =
        state.settings.int("tasks.max_attachment_bytes", DEFAULT_MAX_ATTACHMENT).await.clamp(1, cap.max(1)) as usize;
    let mut stored = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|e| ApiError::BadRequest(e.body_text()))? {
        if !matches!(field.name(), Some("file" | "files" | "files[]")) {
            continue;
        }
        let filename = field.file_name().unwrap_or("file").to_string();
        let content_type = field.content_type().unwrap_or("application/octet-stream").to_string();
        let bytes = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(cap as usize)
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })?;
        if bytes.len() > max {
            return Err(ApiError::PayloadTooLarge(max));
        }
        let data_dir = &state.config.server.data_dir;
        stored.push(attachments::add(&state.db, data_dir, task.id, &filename, &content_type, &bytes).await?);
    }
    if stored.is_empty() {
        return Err(ApiError::field("file", "is required (multipart field `file` or `files`)"));
    }
    Ok((StatusCode::CREATED, Json(json!({"data": stored}))))
}

/// The task's attachments.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/attachments", tag = "tasks", params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, description = "{data: [attachment]}")))]
pub async fn attachments(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    Ok(Json(json!({"data": attachments::list(&state.db, id).await?})))
}

/// Downloads one attachment (always as a download, never rendered inline).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/attachments/{attachment_id}", tag = "tasks",
    params(("id" = i64, Path, description = "Task id"), ("attachment_id" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The file"), (status = 404, description = "Not found")))]
pub async fn attachment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, attachment_id)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    visible(&state, &caller, id).await?;
    let (a, rel) = attachments::get(&state.db, id, attachment_id).await?;
    let bytes = tokio::fs::read(state.config.server.data_dir.join(rel))
        .await
        .map_err(|_| ApiError::NotFound(format!("the file of attachment {attachment_id} is gone")))?;
    let ascii: String =
        a.filename.chars().map(|c| if c.is_ascii_graphic() && c != '"' || c == ' ' { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"");
    let ct = HeaderValue::from_str(&a.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(ApiError::internal)?),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        bytes,
    )
        .into_response())
}
