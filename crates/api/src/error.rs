//! The API's one error type, mapped to HTTP once: `{"error":{"code","message"}}`
//! with a stable machine code and the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use spgw_store::StoreError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// A field failed validation; `field` names it.
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid username or password")]
    BadLogin,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large (limit {0} bytes)")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    Unavailable(String),
    /// A routed model call failed; status and code come from the router.
    #[error("{message}")]
    Upstream { status: u16, code: &'static str, message: String, retry_after: Option<std::time::Duration> },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A validation error on one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidField { field: field.into(), message: message.into() }
    }

    /// An internal error; the detail is logged, never sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError::Internal(detail.to_string())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            ApiError::InvalidField { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::BadLogin => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Upstream { status, code, .. } => {
                (StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY), code)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(c) => {
                ApiError::Conflict(format!("a row with the same unique value already exists ({c})"))
            }
            StoreError::ForeignKey(c) => {
                ApiError::Conflict(format!("the row is referenced by, or references, a missing row ({c})"))
            }
            StoreError::NotFound => ApiError::NotFound("not found".into()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<spgw_sessions::SessionError> for ApiError {
    fn from(e: spgw_sessions::SessionError) -> Self {
        use spgw_sessions::SessionError as S;
        match e {
            S::NotFound => ApiError::NotFound("session not found".into()),
            S::TooManyMessages { .. } | S::TooLarge { .. } => ApiError::Conflict(format!("{e}; start a new session")),
            S::Redis(r) => ApiError::Unavailable(format!("session store unavailable: {r}")),
            S::Store(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            // Logged once here; the request-id span ties it to the request line.
            tracing::error!(error = %detail, "internal error");
        }
        let mut body = json!({"error": {"code": code, "message": self.to_string()}});
        if let ApiError::InvalidField { field, .. } = &self {
            body["error"]["field"] = json!(field);
        }
        let mut resp = (status, Json(body)).into_response();
        if let ApiError::Upstream { retry_after: Some(ra), .. } = &self
            && let Ok(v) = axum::http::HeaderValue::from_str(&ra.as_secs().max(1).to_string())
        {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Result alias for handlers and services.
pub type ApiResult<T> = Result<T, ApiError>;
