//! The route table: paths to handlers, nothing else. Every route requires
//! authentication except those in `public`.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::compat;
use crate::error::ApiError;
use crate::state::AppState;

mod chat;
mod codebases;
mod documents;
mod health;
pub mod limits;
mod login;
mod mcp_server;
mod mcp_tools;
pub mod metrics;
pub mod openapi;
mod reports;
mod resources;
mod sessions;
mod settings;
mod stats;
mod tasks;
mod triggers;
mod uploads;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let limits = &state.config.limits;
    let public = Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::metrics))
        .route("/api/v1/login", post(login::login))
        .route("/api/v1/logout", post(login::logout))
        .route("/api/v1/openapi.json", get(openapi::document));

    let uploads = Router::new()
        .route("/api/v1/projects/{id}/logo", post(uploads::project_logo))
        .route("/api/v1/agents/{id}/avatar", post(uploads::agent_avatar))
        .route("/api/v1/tasks/{id}/attachments", post(tasks::upload).get(tasks::attachments))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes));

    // Webhooks authenticate by signature (or a signed-in owner), checked in the handler.
    let webhooks = Router::new()
        .route("/api/v1/triggers/{id}/fire", post(triggers::fire))
        .layer(DefaultBodyLimit::max(limits.max_json_bytes));

    let protected = Router::new()
        .route("/api/v1/me", get(login::me))
        .route("/api/v1/stats", get(stats::stats))
        .route("/api/v1/settings/known", get(settings::known))
        .route("/api/v1/chat", post(chat::chat))
        .route("/api/v1/reports/generate", post(reports::generate))
        .route("/api/v1/reports/{id}/download", get(reports::download))
        .route("/api/v1/documents/{id}/revisions", get(documents::revisions))
        .route("/api/v1/documents/{id}/revisions/{rev}", get(documents::revision))
        .route("/api/v1/documents/{id}/diff", get(documents::diff))
        .route("/api/v1/codebases/{id}/tasks", get(codebases::list).post(codebases::queue))
        .route("/api/v1/codebases/{id}/runs/{run_id}", get(codebases::get_run))
        .route("/api/v1/codebases/{id}/runs/{run_id}/log", get(codebases::log))
        .route("/api/v1/codebases/{id}/runs/{run_id}/log/stream", get(codebases::log_stream))
        .route("/api/v1/codebases/{id}/runs/{run_id}/cancel", post(codebases::cancel))
        .route("/api/v1/codebases/{id}/host-key", get(codebases::host_key).delete(codebases::forget_host_key))
        .route("/api/v1/codebases/{id}/coding", post(codebases::coding))
        .route("/api/v1/mcp-tools/{id}/tools", get(mcp_tools::tools))
        .route("/api/v1/mcp-tools/{id}/refresh", post(mcp_tools::refresh))
        .route("/mcp", post(mcp_server::post).get(mcp_server::not_allowed).delete(mcp_server::not_allowed))
        .route("/api/v1/runner/claim", post(codebases::runner_claim))
        .route("/api/v1/runner/runs/{run_id}/heartbeat", post(codebases::runner_heartbeat))
        .route("/api/v1/runner/runs/{run_id}/log", post(codebases::runner_log))
        .route("/api/v1/runner/runs/{run_id}/host-key", post(codebases::runner_host_key))
        .route("/api/v1/runner/runs/{run_id}/finish", post(codebases::runner_finish))
        .route("/api/v1/runner/runs/{run_id}/release", post(codebases::runner_release))
        .route("/api/v1/tasks", get(tasks::list).post(tasks::create))
        .route("/api/v1/tasks/tags", get(tasks::tags))
        .route("/api/v1/tasks/views/{view}", get(tasks::view))
        .route("/api/v1/tasks/{id}", get(tasks::get).put(tasks::replace).patch(tasks::patch).delete(tasks::cancel))
        .route("/api/v1/tasks/{id}/output.txt", get(tasks::output))
        .route("/api/v1/tasks/{id}/attachments/{attachment_id}", get(tasks::attachment))
        .route("/api/v1/tasks/{id}/runs", get(tasks::task_runs))
        .route("/api/v1/tasks/{id}/firings", get(tasks::firings))
        .route("/api/v1/task/{task_id}/spawn", post(tasks::spawn))
        .route("/api/v1/triggers", get(triggers::list).post(triggers::create))
        .route(
            "/api/v1/triggers/{id}",
            get(triggers::get).put(triggers::replace).patch(triggers::patch).delete(triggers::delete),
        )
        .route("/api/v1/triggers/{id}/firings", get(triggers::firings))
        .route("/api/v1/triggers/{id}/rotate-secret", post(triggers::rotate_secret))
        .route("/api/v1/session", get(sessions::list))
        .route("/api/v1/session/{session_id}", get(sessions::get).delete(sessions::delete))
        .route("/api/v1/list/{kind}", get(resources::list))
        .route("/api/v1/get/{kind}/{id}", get(resources::get))
        .route("/api/v1/add/{kind}", post(resources::add))
        .route("/api/v1/update/{kind}/{id}", axum::routing::put(resources::replace).patch(resources::patch))
        .route("/api/v1/del/{kind}/{id}", axum::routing::delete(resources::delete))
        .route("/api/v1/gateway-api-keys/{id}/limits", axum::routing::patch(limits::set_key_limits))
        .layer(DefaultBodyLimit::max(limits.max_json_bytes))
        .merge(uploads)
        .merge(crate::media::routes(&state))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::require));

    // The drop-in OpenAI and Anthropic surfaces, each answering in its own error shape (401 included).
    let openai = Router::new()
        .route("/v1/chat/completions", post(compat::openai::chat_completions))
        .route("/v1/models", get(compat::openai::list_models))
        .route("/v1/models/{*model}", get(compat::openai::get_model))
        // The body limit and the authentication in one `route_layer`: each call boxes
        // every route once more, and each box is cloned per request (the hot path).
        .route_layer(
            tower::ServiceBuilder::new()
                .layer(DefaultBodyLimit::max(limits.max_body_bytes))
                .layer(axum::middleware::from_fn_with_state(state.clone(), compat::authenticate_openai)),
        );
    let anthropic = Router::new()
        .route("/v1/messages", post(compat::anthropic::messages))
        .route("/v1/messages/count_tokens", post(compat::anthropic::count_tokens))
        .route_layer(
            tower::ServiceBuilder::new()
                .layer(DefaultBodyLimit::max(limits.max_body_bytes))
                .layer(axum::middleware::from_fn_with_state(state.clone(), compat::authenticate_anthropic)),
        );

    Router::new()
        .merge(public)
        .merge(webhooks)
        .merge(protected)
        .merge(openai)
        .merge(crate::media::compat_routes(&state))
        .merge(anthropic)
        .nest_service("/uploads", uploads::serve_dir(&state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// No route matched: the web UI's files and client-side routes, else a 404 in
/// the error shape of the surface the path belongs to.
async fn not_found(req: axum::extract::Request) -> axum::response::Response {
    let path = req.uri().path();
    if let Some(ui) = spgw_web::respond(req.method(), path, req.headers()) {
        return ui;
    }
    compat::shaped(path, ApiError::NotFound(format!("no route for {path}")))
}

/// A known path with a method it does not take: 405 with a JSON error in the
/// surface's shape (axum adds the `Allow` header), where axum's own is bare.
async fn method_not_allowed(req: axum::extract::Request) -> axum::response::Response {
    let path = req.uri().path();
    compat::shaped(path, ApiError::MethodNotAllowed(format!("{} is not allowed on {path}", req.method())))
}
