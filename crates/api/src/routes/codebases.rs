//! Codebase runs (SPEC §8), their logs, the coding actions over HTTP, and the
//! runner protocol that remote runners (`sp-gateway runner`) speak. Logic lives
//! in `spgw_runner`; these handlers check visibility and translate.
//!
//! Visibility: a codebase's runs are the business of its project's owner and of
//! admins (others get 404). The runner protocol is admins only: a claim hands
//! out the codebase's decrypted SSH private key.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use spgw_runner::{Codebase, LogEvent, NewRun, Outcome, RunStatus, RunnerError};

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::ApiError;
use crate::state::AppState;

/// An API error, or a runner error with its own stable code.
pub enum Error {
    Api(ApiError),
    Coded { status: StatusCode, code: &'static str, message: String },
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(e)
    }
}

impl From<RunnerError> for Error {
    fn from(e: RunnerError) -> Self {
        let coded = |status, code| Error::Coded { status, code, message: e.to_string() };
        match &e {
            RunnerError::Invalid { field, message } => Error::Api(ApiError::field(field.clone(), message.clone())),
            RunnerError::NotFound(m) => Error::Api(ApiError::NotFound(format!("{m} not found"))),
            RunnerError::Conflict(m) => Error::Api(ApiError::Conflict(m.clone())),
            RunnerError::LeaseLost(_) => coded(StatusCode::CONFLICT, "lease_lost"),
            RunnerError::HostKeyMismatch { .. } => coded(StatusCode::CONFLICT, "host_key_mismatch"),
            RunnerError::PathRefused(_) => coded(StatusCode::FORBIDDEN, "path_refused"),
            RunnerError::Action(_) => coded(StatusCode::UNPROCESSABLE_ENTITY, "action_failed"),
            RunnerError::Config(_) => coded(StatusCode::UNPROCESSABLE_ENTITY, "runner_config"),
            RunnerError::Ssh(_) => coded(StatusCode::BAD_GATEWAY, "ssh_error"),
            RunnerError::Gateway(_) | RunnerError::Refused(_) => coded(StatusCode::BAD_GATEWAY, "upstream_error"),
            RunnerError::Store(_) | RunnerError::Crypto(_) => Error::Api(ApiError::internal(&e)),
        }
    }
}

impl From<spgw_store::StoreError> for Error {
    fn from(e: spgw_store::StoreError) -> Self {
        Error::Api(e.into())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Api(e) => e.into_response(),
            Error::Coded { status, code, message } => {
                (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
            }
        }
    }
}

type Result<T, E = Error> = std::result::Result<T, E>;

/// The codebase, when the caller may see it (its project's owner, or an admin).
async fn visible(state: &AppState, caller: &Caller, id: i64) -> Result<Codebase> {
    match state.runs.codebase(id).await? {
        Some(cb) if caller.is_admin() || cb.owner_id == caller.user_id => Ok(cb),
        _ => Err(ApiError::NotFound(format!("codebase {id} not found")).into()),
    }
}

/// The run, when it belongs to a codebase the caller may see.
async fn visible_run(state: &AppState, caller: &Caller, id: i64, run_id: i64) -> Result<spgw_runner::Run> {
    visible(state, caller, id).await?;
    match state.runs.run(run_id).await? {
        Some(r) if r.codebase_id == id => Ok(r),
        _ => Err(ApiError::NotFound(format!("run {run_id} not found")).into()),
    }
}

fn admin_only(caller: &Caller) -> Result<()> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("the runner protocol is for admins' API keys (a claim carries SSH keys)".into()).into())
    }
}

/// Queues a run (`lint`, `test`, `build` or `custom`).
#[utoipa::path(post, path = "/api/v1/codebases/{id}/tasks", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id")),
    request_body(content = Value, description = "{kind: lint|test|build|custom, command?, assigned_tags?: [string], timeout_seconds?, sync?: bool}"),
    responses((status = 201, description = "The queued run"), (status = 404, description = "Not found"),
        (status = 409, description = "Codebase disabled"), (status = 422, description = "Invalid kind, command or runner settings")))]
pub async fn queue(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<NewRun>,
) -> Result<(StatusCode, Json<Value>)> {
    let cb = visible(&state, &caller, id).await?;
    let run = state.runs.queue(&cb, &body, Some(caller.user_id)).await?;
    Ok((StatusCode::CREATED, Json(run.to_json())))
}

/// Filters of the run list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RunsQuery {
    /// How many recent runs (default 20, at most 500).
    pub limit: Option<i64>,
    /// Only runs in this status.
    pub status: Option<String>,
}

/// Lists recent runs of a codebase, newest first.
#[utoipa::path(get, path = "/api/v1/codebases/{id}/tasks", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id"), RunsQuery),
    responses((status = 200, description = "{data: [run]}"), (status = 404, description = "Not found")))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Query(q): Query<RunsQuery>,
) -> Result<Json<Value>> {
    visible(&state, &caller, id).await?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(RunStatus::parse(s).ok_or_else(|| ApiError::field("status", "unknown run status"))?),
    };
    let runs = state.runs.list(id, status, q.limit.unwrap_or(20)).await?;
    Ok(Json(json!({"data": runs.iter().map(|r| r.to_json()).collect::<Vec<_>>()})))
}

/// One run.
#[utoipa::path(get, path = "/api/v1/codebases/{id}/runs/{run_id}", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id"), ("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "The run: status, exit_code, error, command, timings"), (status = 404, description = "Not found")))]
pub async fn get_run(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, run_id)): Path<(i64, i64)>,
) -> Result<Json<Value>> {
    Ok(Json(visible_run(&state, &caller, id, run_id).await?.to_json()))
}

/// A run's whole log as text.
#[utoipa::path(get, path = "/api/v1/codebases/{id}/runs/{run_id}/log", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id"), ("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "text/plain log so far"), (status = 404, description = "Not found")))]
pub async fn log(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, run_id)): Path<(i64, i64)>,
) -> Result<Response> {
    visible_run(&state, &caller, id, run_id).await?;
    let text = state.runs.read_log(run_id).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// Follows a run's log: the stored chunks, then live ones, then `done`.
#[utoipa::path(get, path = "/api/v1/codebases/{id}/runs/{run_id}/log/stream", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id"), ("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "text/event-stream: `log` events {seq, text} (id = seq), then one `done` {status, exit_code, error}"),
        (status = 404, description = "Not found")))]
pub async fn log_stream(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, run_id)): Path<(i64, i64)>,
) -> Result<Sse<impl futures::Stream<Item = std::result::Result<Event, Infallible>>>> {
    visible_run(&state, &caller, id, run_id).await?;
    let events = state.runs.follow(run_id).map(|ev| {
        Ok(match ev {
            LogEvent::Chunk { seq, text } => {
                Event::default().event("log").id(seq.to_string()).data(json!({"seq": seq, "text": text}).to_string())
            }
            LogEvent::Done { status, exit_code, error } => Event::default()
                .event("done")
                .data(json!({"status": status.as_str(), "exit_code": exit_code, "error": error}).to_string()),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Cancels a run: queued runs at once, running ones as soon as their runner stops them.
#[utoipa::path(post, path = "/api/v1/codebases/{id}/runs/{run_id}/cancel", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id"), ("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "The run (cancelled, or running with cancel_requested)"),
        (status = 404, description = "Not found"), (status = 409, description = "Already finished")))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, run_id)): Path<(i64, i64)>,
) -> Result<Json<Value>> {
    visible_run(&state, &caller, id, run_id).await?;
    Ok(Json(state.runs.cancel(run_id).await?.to_json()))
}

/// The runner host key recorded on first use.
#[utoipa::path(get, path = "/api/v1/codebases/{id}/host-key", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id")),
    responses((status = 200, description = "{fingerprint, recorded_at} (null until the first connection)")))]
pub async fn host_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let cb = visible(&state, &caller, id).await?;
    Ok(Json(json!({
        "codebase_id": id,
        "fingerprint": cb.host_key_fingerprint,
        "recorded_at": cb.host_key_recorded_at.map(spgw_core::time::to_rfc3339),
    })))
}

/// Forgets the recorded host key (after a legitimate change): the next connection records anew.
#[utoipa::path(delete, path = "/api/v1/codebases/{id}/host-key", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id")),
    responses((status = 200, description = "{codebase_id, fingerprint: null}")))]
pub async fn forget_host_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    visible(&state, &caller, id).await?;
    state.runs.forget_host_key(id).await?;
    Ok(Json(json!({"codebase_id": id, "fingerprint": null})))
}

/// A coding action called over HTTP.
#[derive(Debug, Deserialize)]
pub struct CodingCall {
    /// `coding.read_file`, ... (SPEC §9).
    pub tool: String,
    #[serde(default)]
    pub arguments: Value,
}

/// Runs one `coding_plugin` action on the codebase's checkout (what an agent's tool call does).
#[utoipa::path(post, path = "/api/v1/codebases/{id}/coding", tag = "codebases",
    params(("id" = i64, Path, description = "Codebase id")),
    request_body(content = Value, description = "{tool: coding.*, arguments: {...}}"),
    responses((status = 200, description = "{tool, result}"), (status = 403, description = "path_refused"),
        (status = 422, description = "action_failed / invalid arguments"), (status = 502, description = "ssh_error")))]
pub async fn coding(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    JsonBody(call): JsonBody<CodingCall>,
) -> Result<Json<Value>> {
    visible(&state, &caller, id).await?;
    if !spgw_runner::coding::TOOL_NAMES.contains(&call.tool.as_str()) {
        return Err(ApiError::field("tool", "not a coding_plugin action").into());
    }
    let ws = state.runs.coding(id).await?;
    let result = ws.call(&call.tool, &call.arguments).await?;
    tracing::info!(codebase_id = id, user_id = caller.user_id, tool = %call.tool, "coding action over HTTP");
    Ok(Json(json!({"tool": call.tool, "result": result})))
}

/// `POST /api/v1/runner/claim`.
#[derive(Debug, Deserialize)]
pub struct ClaimBody {
    pub runner_id: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Wait up to this long for a run (0–25 s).
    #[serde(default)]
    pub wait_seconds: u64,
}

fn runner_id(id: &str) -> Result<&str> {
    let id = id.trim();
    if id.is_empty() || id.len() > 191 {
        return Err(ApiError::field("runner_id", "must be 1 to 191 characters").into());
    }
    Ok(id)
}

/// Claims a queued run for a remote runner (admins only): the job with the SSH material.
#[utoipa::path(post, path = "/api/v1/runner/claim", tag = "runner",
    request_body(content = Value, description = "{runner_id, tags: [string], wait_seconds}"),
    responses((status = 200, description = "{job}: run, command, workspace, ssh {host, port, user, private_key, host_key_fingerprint}, lease"),
        (status = 204, description = "Nothing to run"), (status = 403, description = "Not an admin")))]
pub async fn runner_claim(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<ClaimBody>,
) -> Result<Response> {
    admin_only(&caller)?;
    let id = runner_id(&body.runner_id)?;
    let wait = Duration::from_secs(body.wait_seconds.min(25));
    Ok(match state.runs.claim_wait(id, &body.tags, wait).await? {
        Some(job) => Json(json!({"job": job})).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Identifies the runner holding a run.
#[derive(Debug, Deserialize)]
pub struct RunnerRef {
    pub runner_id: String,
}

/// Renews a run's lease; answers whether a cancel was asked for.
#[utoipa::path(post, path = "/api/v1/runner/runs/{run_id}/heartbeat", tag = "runner",
    params(("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "{cancel_requested, lease_expires_at}"), (status = 409, description = "lease_lost")))]
pub async fn runner_heartbeat(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(run_id): Path<i64>,
    JsonBody(body): JsonBody<RunnerRef>,
) -> Result<Json<Value>> {
    admin_only(&caller)?;
    let hb = state.runs.heartbeat(run_id, runner_id(&body.runner_id)?).await?;
    Ok(Json(json!(hb)))
}

/// A log chunk from a runner.
#[derive(Debug, Deserialize)]
pub struct LogBody {
    pub runner_id: String,
    pub seq: i64,
    pub text: String,
}

/// Appends a log chunk (idempotent per `seq`).
#[utoipa::path(post, path = "/api/v1/runner/runs/{run_id}/log", tag = "runner",
    params(("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "{truncated}"), (status = 409, description = "lease_lost")))]
pub async fn runner_log(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(run_id): Path<i64>,
    JsonBody(body): JsonBody<LogBody>,
) -> Result<Json<Value>> {
    admin_only(&caller)?;
    let appended = state.runs.append_log(run_id, runner_id(&body.runner_id)?, body.seq, &body.text).await?;
    Ok(Json(json!(appended)))
}

/// A host key seen on first use.
#[derive(Debug, Deserialize)]
pub struct HostKeyBody {
    pub runner_id: String,
    pub fingerprint: String,
}

/// Records the host key a runner saw on first use; 409 when another was recorded.
#[utoipa::path(post, path = "/api/v1/runner/runs/{run_id}/host-key", tag = "runner",
    params(("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "{recorded: true}"), (status = 409, description = "host_key_mismatch or lease_lost")))]
pub async fn runner_host_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(run_id): Path<i64>,
    JsonBody(body): JsonBody<HostKeyBody>,
) -> Result<Json<Value>> {
    admin_only(&caller)?;
    let run = state.runs.run(run_id).await?.ok_or(RunnerError::LeaseLost(run_id))?;
    if run.status != RunStatus::Running || run.runner_id.as_deref() != Some(runner_id(&body.runner_id)?) {
        return Err(RunnerError::LeaseLost(run_id).into());
    }
    state.runs.record_host_key(run.codebase_id, &body.fingerprint).await?;
    Ok(Json(json!({"recorded": true})))
}

/// How a remote run ended.
#[derive(Debug, Deserialize)]
pub struct FinishBody {
    pub runner_id: String,
    pub status: RunStatus,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
}

/// Finishes a run with a terminal status.
#[utoipa::path(post, path = "/api/v1/runner/runs/{run_id}/finish", tag = "runner",
    params(("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "The finished run"), (status = 409, description = "lease_lost")))]
pub async fn runner_finish(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(run_id): Path<i64>,
    JsonBody(body): JsonBody<FinishBody>,
) -> Result<Json<Value>> {
    admin_only(&caller)?;
    let outcome = Outcome { status: body.status, exit_code: body.exit_code, error: body.error };
    Ok(Json(state.runs.finish(run_id, runner_id(&body.runner_id)?, &outcome).await?.to_json()))
}

/// A run given back.
#[derive(Debug, Deserialize)]
pub struct ReleaseBody {
    pub runner_id: String,
    #[serde(default)]
    pub reason: String,
}

/// Gives a claimed run back to the queue (the runner is shutting down).
#[utoipa::path(post, path = "/api/v1/runner/runs/{run_id}/release", tag = "runner",
    params(("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "The run, queued again"), (status = 409, description = "lease_lost")))]
pub async fn runner_release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(run_id): Path<i64>,
    JsonBody(body): JsonBody<ReleaseBody>,
) -> Result<Json<Value>> {
    admin_only(&caller)?;
    let reason: String = body.reason.chars().take(500).collect();
    let reason = if reason.is_empty() { "no reason given".to_string() } else { reason };
    Ok(Json(state.runs.release(run_id, runner_id(&body.runner_id)?, &reason).await?.to_json()))
}
