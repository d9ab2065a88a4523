//! Image uploads (project logos, agent avatars), stored under
//! `<data_dir>/uploads` with unguessable names and served at `/uploads`.

use axum::Json;
use axum::extract::{Extension, Multipart, Path, State};
use serde_json::Value;
use spgw_store::Value as V;
use spgw_store::repo::table::{self, Filter};
use tower_http::services::ServeDir;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::resources::{defs, service};
use crate::state::AppState;

/// Largest accepted image.
const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// The static file service for `/uploads`.
pub fn serve_dir(state: &AppState) -> ServeDir {
    ServeDir::new(state.config.server.data_dir.join("uploads"))
}

/// The image type of some bytes, by their signature (never by the client's word).
fn image_ext(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("jpg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

/// Reads the `file` field of a multipart body.
async fn read_file(mut form: Multipart) -> ApiResult<Vec<u8>> {
    while let Some(field) = form.next_field().await.map_err(|e| ApiError::BadRequest(e.body_text()))? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
            if bytes.len() > MAX_IMAGE_BYTES {
                return Err(ApiError::PayloadTooLarge(MAX_IMAGE_BYTES));
            }
            return Ok(bytes.to_vec());
        }
    }
    Err(ApiError::field("file", "is required (multipart field `file`)"))
}

async fn store_image(state: &AppState, folder: &str, id: i64, bytes: &[u8]) -> ApiResult<String> {
    let ext = image_ext(bytes).ok_or_else(|| ApiError::field("file", "must be a PNG, JPEG, GIF or WebP image"))?;
    let name = format!("{id}-{}.{ext}", &spgw_core::apikey::random_token()[..16]);
    let dir = state.config.server.data_dir.join("uploads").join(folder);
    tokio::fs::create_dir_all(&dir).await.map_err(ApiError::internal)?;
    tokio::fs::write(dir.join(&name), bytes).await.map_err(ApiError::internal)?;
    Ok(format!("/uploads/{folder}/{name}"))
}

async fn set_image(
    state: &AppState,
    caller: &Caller,
    kind: &str,
    id: i64,
    column: &'static str,
    form: Multipart,
) -> ApiResult<Json<Value>> {
    let def = defs::by_singular(kind).ok_or_else(|| ApiError::internal("unknown upload type"))?;
    service::load(state, caller, def, id).await?;
    let bytes = read_file(form).await?;
    let url = store_image(state, def.table, id, &bytes).await?;
    let cols = [(column, V::Text(url)), ("updated_at", V::Int(spgw_core::time::now_ms()))];
    table::update(&state.db, def.table, &cols, &[Filter::Eq("id", V::Int(id))]).await?;
    Ok(Json(service::get(state, caller, def, id).await?))
}

/// Uploads a project's logo (multipart field `file`).
#[utoipa::path(post, path = "/api/v1/projects/{id}/logo", tag = "resources",
    params(("id" = i64, Path, description = "Project id")),
    request_body(content_type = "multipart/form-data", content = String, description = "Field `file`: PNG, JPEG, GIF or WebP, at most 5 MiB"),
    responses((status = 200, description = "The project with its logo_url")))]
pub async fn project_logo(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    form: Multipart,
) -> ApiResult<Json<Value>> {
    set_image(&state, &caller, "project", id, "logo_url", form).await
}

/// Uploads an agent's avatar (multipart field `file`).
#[utoipa::path(post, path = "/api/v1/agents/{id}/avatar", tag = "resources",
    params(("id" = i64, Path, description = "Agent id")),
    request_body(content_type = "multipart/form-data", content = String, description = "Field `file`: PNG, JPEG, GIF or WebP, at most 5 MiB"),
    responses((status = 200, description = "The agent with its avatar_url")))]
pub async fn agent_avatar(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    form: Multipart,
) -> ApiResult<Json<Value>> {
    set_image(&state, &caller, "agent", id, "avatar_url", form).await
}
