//! `PATCH /api/v1/gateway-api-keys/{id}/limits`: changes a key's rate limits,
//! budgets and cache setting. Gateway API keys are otherwise immutable (the
//! generic update does not apply to them), so this is the one way to retune a
//! key without issuing a new one. Also the `x-spgw-cache` header, read and
//! written the same way by every chat surface.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::Value;
use spgw_routing::{CachePolicy, CacheStatus};
use spgw_store::repo::table::{self, Filter};

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::resources::{defs, hooks, service};
use crate::state::AppState;

/// Replaces a gateway API key's `limits` (an object, or `null` to remove them).
#[utoipa::path(patch, path = "/api/v1/gateway-api-keys/{id}/limits", tag = "resources",
    params(("id" = i64, Path, description = "Gateway API key id")),
    request_body(content = Object, description = "`{rpm, tpm, usd_per_day, usd_per_month, cache, cache_ttl_seconds}` (each optional), or null"),
    responses((status = 200, description = "The key as stored (without its secret)"),
              (status = 404, description = "No such key visible to the caller"),
              (status = 422, description = "A limit is invalid (the field is named)")))]
pub async fn set_key_limits(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(limits): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::BadRequest("id must be a positive integer".into()))?;
    let def = defs::by_singular("gateway-api-key").ok_or_else(|| ApiError::internal("no gateway-api-key type"))?;
    // 404 unless the caller owns the key (or is an admin).
    service::load(&state, &caller, def, id).await?;
    hooks::check_limits(Some(&limits))?;
    let stored = if limits.is_null() { spgw_store::Value::Null } else { spgw_store::Value::Text(limits.to_string()) };
    let now = spgw_core::time::now_ms();
    table::update(
        &state.db,
        "gateway_api_keys",
        &[("limits", stored), ("updated_at", now.into())],
        &[Filter::Eq("id", id.into())],
    )
    .await?;
    state.limits_changed();
    Ok(Json(service::get(&state, &caller, def, id).await?))
}

/// Request and response header of the response cache.
pub const CACHE_HEADER: &str = "x-spgw-cache";

/// The caller's cache choice: `x-spgw-cache: on|off` (absent: as the key's or user's limits say).
pub fn cache_policy(headers: &HeaderMap) -> ApiResult<CachePolicy> {
    let Some(v) = headers.get(CACHE_HEADER) else { return Ok(CachePolicy::Inherit) };
    v.to_str()
        .ok()
        .and_then(CachePolicy::parse)
        .ok_or_else(|| ApiError::BadRequest(format!("{CACHE_HEADER} must be on or off")))
}

/// [`cache_policy`] as an extractor (`Result<CacheChoice, ApiError>`, so each
/// surface answers a bad value in its own error shape, where the handler
/// checks it): the `HeaderMap` extractor would clone every header of every
/// chat request to read this one.
pub struct CacheChoice(pub CachePolicy);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CacheChoice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> ApiResult<Self> {
        cache_policy(&parts.headers).map(CacheChoice)
    }
}

/// Says `hit` or `miss` in `x-spgw-cache` when the cache was consulted.
pub fn set_cache_header(resp: &mut Response, status: CacheStatus) {
    if let Some(v) = status.header() {
        resp.headers_mut().insert(CACHE_HEADER, HeaderValue::from_static(v));
    }
}
