//! `GET /metrics` (Prometheus text format) and the middleware that counts
//! every HTTP request by its route template.
//!
//! The endpoint needs no authentication by default, as Prometheus scrapers
//! expect; it shows only counts by route template, provider, model, status
//! class and error code — no ids, keys or prompts. Set the runtime setting
//! `metrics.require_auth` to `true` to require an admin's API key or login.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use spgw_routing::Metrics;
use std::sync::Arc;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `gateway_config` key: require an admin to read `/metrics` (default false).
pub const REQUIRE_AUTH: &str = "metrics.require_auth";

/// Every metric of this process, in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format (version 0.0.4)"),
              (status = 401, description = "`metrics.require_auth` is on and no credentials were sent"),
              (status = 403, description = "`metrics.require_auth` is on and the caller is not an admin")))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if state.settings.bool(REQUIRE_AUTH, false).await {
        let caller = crate::auth::resolve(&state, &headers).await?.ok_or(ApiError::Unauthenticated)?;
        if !caller.is_admin() {
            return Err(ApiError::Forbidden("metrics are for admins only (metrics.require_auth)".into()));
        }
    }
    let body = state.router.metrics().map(|m| m.encode()).unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(spgw_routing::metrics::CONTENT_TYPE))], body).into_response())
}

/// Middleware: counts the request and its latency by route template, method and status class.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // The template (`/api/v1/update/{kind}/{id}`), never the raw path: label sets stay bounded.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let resp = next.run(req).await;
    metrics.observe_http(
        route.as_ref().map(MatchedPath::as_str),
        method.as_str(),
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
