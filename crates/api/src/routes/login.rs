//! Username/password sign-in with an HttpOnly session cookie.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use spgw_store::repo::{auth as repo, users};
use utoipa::ToSchema;

use crate::auth::{Caller, SESSION_COOKIE, session_token};
use crate::body::JsonObject;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Sign-in form.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

fn cookie(state: &AppState, token: &str, max_age: u64) -> ApiResult<HeaderValue> {
    let secure = state.config.server.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let v = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&v).map_err(ApiError::internal)
}

/// Signs in and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/login", tag = "auth", security(()), request_body = LoginRequest,
    responses((status = 200, description = "Signed in; cookie set"), (status = 401, description = "Wrong username or password")))]
pub async fn login(State(state): State<AppState>, JsonObject(body): JsonObject) -> ApiResult<Response> {
    let form: LoginRequest =
        serde_json::from_value(serde_json::Value::Object(body)).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    let user = users::by_username(&state.db, &form.username).await?;
    // Verify against a dummy hash when the user is unknown, so timing does not reveal which usernames exist.
    let stored = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_string());
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || spgw_core::password::verify(&password, &stored))
        .await
        .map_err(ApiError::internal)?;
    let user = match user {
        Some(u) if ok && u.enabled => u,
        _ => return Err(ApiError::BadLogin),
    };
    let token = spgw_core::apikey::random_token();
    let ttl = state.config.redis.session_ttl_secs;
    let expires_at = spgw_core::time::now_ms() + (ttl as i64) * 1000;
    repo::create_session(&state.db, &spgw_core::apikey::hash(&token), &user, expires_at).await?;
    let body = json!({
        "user": {"id": user.id, "username": user.username, "role": user.role},
        "expires_at": spgw_core::time::to_rfc3339(expires_at),
    });
    Ok(([(SET_COOKIE, cookie(&state, &token, ttl)?)], Json(body)).into_response())
}

const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2tM3V1dqnOxbkDf8mhG1xHYJmJ6a6uB3K1ZqY8S3k5Y";

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/logout", tag = "auth", security(()), responses((status = 204, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = session_token(&headers) {
        repo::delete_session(&state.db, &spgw_core::apikey::hash(token)).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie(&state, "", 0)?)]).into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, description = "The caller")))]
pub async fn me(Extension(caller): Extension<Caller>) -> Json<serde_json::Value> {
    Json(
        json!({"id": caller.user_id, "username": &*caller.username, "role": &*caller.role, "api_key_id": caller.api_key_id}),
    )
}
