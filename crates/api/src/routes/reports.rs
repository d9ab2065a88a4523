//! Reports: generation by an agent on demand, and Markdown download.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use spgw_agents::reports::ReportRequest;
use spgw_agents::reports::period::{Period, Range};

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::middleware::RequestId;
use crate::resources::hooks::check_ref;
use crate::resources::{defs, service};
use crate::state::AppState;

/// What to generate.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    pub project_id: i64,
    /// The agent that writes the report (of the same project).
    pub agent_id: i64,
    /// `monthly` or `annual`.
    pub period: String,
    /// A date in the period (`YYYY-MM-DD`); default: the last complete period.
    pub period_start: Option<String>,
}

fn report_def() -> ApiResult<&'static defs::ResourceDef> {
    defs::by_singular("report").ok_or_else(|| ApiError::internal("no report type"))
}

/// Has an agent write the report of a period from the project's facts, and
/// stores it (replacing that period's report).
#[utoipa::path(post, path = "/api/v1/reports/generate", tag = "reports", request_body = GenerateBody,
    responses((status = 201, description = "The stored report row, with `generation: {created, model, tokens, cost_usd}`"),
        (status = 404, description = "Project or agent not found"),
        (status = 422, description = "Invalid period, or the agent has no usable model"),
        (status = 502, description = "The agent's models failed")))]
pub async fn generate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    JsonBody(body): JsonBody<GenerateBody>,
) -> ApiResult<Response> {
    check_ref(&state, &caller, "project_id", "projects", body.project_id, None).await?;
    check_ref(&state, &caller, "agent_id", "agents", body.agent_id, Some(body.project_id)).await?;
    let range = match body.period_start.as_deref() {
        Some(start) => Range::parse(&body.period, start)?,
        None => Range::previous(Period::parse(&body.period)?, chrono::Utc::now().date_naive()),
    };
    let req = ReportRequest {
        project_id: body.project_id,
        agent_id: body.agent_id,
        range,
        user_id: caller.user_id,
        request_id,
        task_id: None,
    };
    let g = state.agents.generate_report(&req).await?;
    let mut row = service::get(&state, &caller, report_def()?, g.report_id).await?;
    row["generation"] = json!({"created": g.created, "model": g.model, "tokens": g.tokens, "cost_usd": g.cost_usd});
    Ok((StatusCode::CREATED, Json(row)).into_response())
}

/// The report as a Markdown file.
#[utoipa::path(get, path = "/api/v1/reports/{id}/download", tag = "reports",
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, description = "`text/markdown` attachment", content_type = "text/markdown"),
        (status = 404, description = "Not found or not visible")))]
pub async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let row = service::load(&state, &caller, report_def()?, id).await?;
    let name = format!(
        "report-{}-{}-{}.md",
        row.i64("project_id").unwrap_or_default(),
        row.str("period").unwrap_or("period"),
        row.str("period_start").unwrap_or("start")
    );
    let content = row.str("content").unwrap_or_default().to_string();
    Ok((
        [
            (header::CONTENT_TYPE, "text/markdown; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        content,
    )
        .into_response())
}
