//! External MCP servers beyond the resource API: their discovered tools and a
//! refresh. Visibility is the `mcp-tool` resource's (a server the caller cannot
//! see is 404); secrets never appear here, only tool names, descriptions and
//! schemas. Logic lives in `spgw_mcp`.

use axum::Json;
use axum::extract::{Extension, Path, State};
use serde_json::{Value, json};
use spgw_mcp::{McpError, ServerTools};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::resources::{defs, service};
use crate::state::AppState;

fn to_api(e: McpError) -> ApiError {
    match e {
        McpError::Store(s) => s.into(),
        McpError::NotFound(m) => ApiError::NotFound(m),
        McpError::Refused(m) => ApiError::Conflict(m),
        other => ApiError::Upstream { status: 502, code: "mcp_error", message: other.to_string(), retry_after: None },
    }
}

/// Checks the caller may see server `id`.
async fn visible(state: &AppState, caller: &Caller, id: i64) -> ApiResult<()> {
    let def = defs::by_plural("mcp-tools").ok_or_else(|| ApiError::Internal("mcp-tools type missing".into()))?;
    service::load(state, caller, def, id).await.map(|_| ())
}

fn render(id: i64, t: ServerTools) -> Value {
    json!({
        "id": id,
        "status": t.status,
        "refreshed_at": t.refreshed_at.map(spgw_core::time::to_rfc3339),
        "checked_at": t.checked_at.map(spgw_core::time::to_rfc3339),
        "last_error": t.last_error,
        "tools": t.tools.iter().map(|t| json!({
            "name": t["name"],
            "title": t.get("title"),
            "description": t.get("description"),
            "input_schema": t.get("inputSchema"),
            "annotations": t.get("annotations"),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/mcp-tools/{id}/tools`: the cached tools (listed first when never listed).
#[utoipa::path(get, path = "/api/v1/mcp-tools/{id}/tools", tag = "mcp",
    params(("id" = i64, Path, description = "MCP server (mcp-tool) id")),
    responses((status = 200, description = "status, refreshed_at and the tools with their schemas"),
        (status = 404, description = "Not found"), (status = 502, description = "The server failed")))]
pub async fn tools(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    Ok(Json(render(id, state.mcp.tools(id).await.map_err(to_api)?)))
}

/// `POST /api/v1/mcp-tools/{id}/refresh`: lists the tools now (reconnecting if needed).
#[utoipa::path(post, path = "/api/v1/mcp-tools/{id}/refresh", tag = "mcp",
    params(("id" = i64, Path, description = "MCP server (mcp-tool) id")),
    responses((status = 200, description = "status, refreshed_at and the tools with their schemas"),
        (status = 404, description = "Not found"), (status = 502, description = "The server failed")))]
pub async fn refresh(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    visible(&state, &caller, id).await?;
    Ok(Json(render(id, state.mcp.refresh(id).await.map_err(to_api)?)))
}
