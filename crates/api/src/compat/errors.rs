//! Errors in each compatible surface's own shape. The API keeps its one error
//! type ([`ApiError`]); these wrappers only render it the way the official SDKs
//! expect, so an SDK raises its own exception class for each status:
//!
//! - OpenAI: `{"error":{"message","type","param","code"}}`; `type` is
//!   `invalid_request_error` (4xx), `permission_error` (403), `rate_limit_error`
//!   (429; `insufficient_quota` for a spent budget) or `server_error` (5xx);
//!   `code` is OpenAI's where it has one (`invalid_api_key`, `model_not_found`,
//!   `rate_limit_exceeded`, `insufficient_quota`), else ours.
//! - Anthropic: `{"type":"error","error":{"type","message"}}` with Anthropic's
//!   types (`invalid_request_error`, `authentication_error`, `permission_error`,
//!   `not_found_error`, `request_too_large`, `rate_limit_error`, `api_error`,
//!   `overloaded_error`).
//!
//! Neither API answers 422, so a 422 (a field of the wrong type, a model without
//! a needed feature) is a 400 here. `Retry-After` is kept.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use spgw_providers::ProviderError;
use spgw_routing::RouteError;

use crate::error::ApiError;

/// The parts both shapes are built from.
struct Described {
    status: u16,
    /// Our stable machine code (OpenAI's `code`), when there is one.
    code: Option<&'static str>,
    /// The offending field (OpenAI's `param`).
    param: Option<String>,
    message: String,
    retry_after: Option<Duration>,
}

fn describe(e: &ApiError) -> Described {
    let mut d = Described { status: 400, code: None, param: None, message: e.to_string(), retry_after: None };
    match e {
        ApiError::BadRequest(_) => {}
        ApiError::InvalidJson(_) => d.code = Some("invalid_json"),
        ApiError::InvalidField { field, message } => {
            d.param = Some(field.clone());
            d.message = format!("{field}: {message}");
        }
        ApiError::Unauthenticated | ApiError::BadLogin => {
            d.status = 401;
            d.code = Some("invalid_api_key");
            d.message = "missing or invalid API key: send a gateway API key as `Authorization: Bearer KEY`, \
                         `X-API-Key` or `x-api-key`"
                .into();
        }
        ApiError::Forbidden(_) => d.status = 403,
        ApiError::NotFound(_) => (d.status, d.code) = (404, Some("not_found")),
        ApiError::MethodNotAllowed(_) => d.status = 405,
        ApiError::Conflict(_) => d.status = 409,
        ApiError::PayloadTooLarge(_) => (d.status, d.code) = (413, Some("payload_too_large")),
        ApiError::Unavailable(_) => d.status = 503,
        ApiError::Internal(detail) => {
            // Logged once here, like the native shape does; the detail never leaves.
            tracing::error!(error = %detail, "internal error");
            (d.status, d.message) = (500, "internal error".into());
        }
        ApiError::Upstream { status, code, retry_after, .. } => {
            d.status = if *status == 422 { 400 } else { *status };
            d.code = Some(code);
            d.retry_after = *retry_after;
        }
    }
    d
}

fn with_retry_after(mut resp: Response, retry_after: Option<Duration>) -> Response {
    if let Some(ra) = retry_after
        && let Ok(v) = HeaderValue::from_str(&ra.as_secs().max(1).to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY)
}

/// The OpenAI `error` object for an error (also sent inside a failing stream).
fn openai_body(d: &Described) -> serde_json::Value {
    let (kind, code) = match d.status {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        403 => ("permission_error", d.code),
        404 if d.code == Some("model_not_found") => ("invalid_request_error", d.code),
        // A spent budget is OpenAI's "insufficient_quota"; any other 429 a rate limit.
        429 if d.code == Some("budget_exceeded") => ("insufficient_quota", Some("insufficient_quota")),
        429 => ("rate_limit_error", Some("rate_limit_exceeded")),
        s if s >= 500 => ("server_error", d.code),
        _ => ("invalid_request_error", d.code),
    };
    json!({"error": {"message": d.message, "type": kind, "param": d.param, "code": code}})
}

/// Anthropic's error `type` for a status.
fn anthropic_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

fn anthropic_body(d: &Described) -> serde_json::Value {
    json!({"type": "error", "error": {"type": anthropic_type(d.status), "message": d.message}})
}

/// An [`ApiError`] rendered in OpenAI's error shape.
#[derive(Debug)]
pub struct OpenAiError(pub ApiError);

/// An [`ApiError`] rendered in Anthropic's error shape.
#[derive(Debug)]
pub struct AnthropicError(pub ApiError);

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let d = describe(&self.0);
        with_retry_after((status(d.status), Json(openai_body(&d))).into_response(), d.retry_after)
    }
}

impl IntoResponse for AnthropicError {
    fn into_response(self) -> Response {
        let d = describe(&self.0);
        with_retry_after((status(d.status), Json(anthropic_body(&d))).into_response(), d.retry_after)
    }
}

macro_rules! conversions {
    ($($t:ident),*) => {$(
        impl From<ApiError> for $t {
            fn from(e: ApiError) -> Self {
                $t(e)
            }
        }
        impl From<RouteError> for $t {
            fn from(e: RouteError) -> Self {
                $t(ApiError::from(e))
            }
        }
    )*};
}
conversions!(OpenAiError, AnthropicError);

/// A translation failure of the client's own request (an unsupported
/// `tool_choice`, an audio part...) is the client's 400.
pub fn bad_input(e: ProviderError) -> ApiError {
    match e {
        ProviderError::Unsupported(m) => ApiError::BadRequest(format!("unsupported: {m}")),
        ProviderError::InvalidRequest { message, .. } => ApiError::BadRequest(message),
        other => ApiError::BadRequest(other.to_string()),
    }
}

/// The error a stream reports after it started, as the data of OpenAI's
/// `data: {"error":{...}}` chunk.
pub fn openai_stream_error(e: RouteError) -> String {
    openai_body(&describe(&ApiError::from(e))).to_string()
}

/// The error a stream reports after it started, as the data of Anthropic's
/// `event: error`.
pub fn anthropic_stream_error(e: RouteError) -> String {
    anthropic_body(&describe(&ApiError::from(e))).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(resp: Response) -> (u16, serde_json::Value, Option<String>) {
        let status = resp.status().as_u16();
        let ra = resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap_or_default();
        (status, serde_json::from_slice(&bytes).unwrap_or_default(), ra)
    }

    #[tokio::test]
    async fn each_surface_has_its_own_shape() {
        let limited = || RouteError::KeysCooling { provider: "openai".into(), retry_after: Duration::from_secs(7) };
        let (s, v, ra) = body(OpenAiError::from(limited()).into_response()).await;
        assert_eq!((s, ra.as_deref()), (429, Some("7")));
        assert_eq!(v["error"]["type"], "rate_limit_error");
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert!(v["error"]["param"].is_null() && v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        let (s, v, ra) = body(AnthropicError::from(limited()).into_response()).await;
        assert_eq!((s, ra.as_deref()), (429, Some("7")));
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "rate_limit_error");

        let (s, v, _) = body(AnthropicError(ApiError::Unauthenticated).into_response()).await;
        assert_eq!((s, v["error"]["type"].as_str()), (401, Some("authentication_error")));
        let (s, v, _) = body(OpenAiError(ApiError::Unauthenticated).into_response()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (401, Some("invalid_api_key")));

        let unknown = RouteError::UnknownModel("openai/gpt-0".into());
        let (s, v, _) = body(OpenAiError::from(unknown).into_response()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (404, Some("model_not_found")));
        let (s, v, _) = body(AnthropicError::from(RouteError::UnknownModel("x".into())).into_response()).await;
        assert_eq!((s, v["error"]["type"].as_str()), (404, Some("not_found_error")));

        // A field of the wrong type is OpenAI's 400 naming the param.
        let (s, v, _) = body(OpenAiError(ApiError::field("messages[0].role", "unknown variant")).into_response()).await;
        assert_eq!((s, v["error"]["param"].as_str()), (400, Some("messages[0].role")));

        let overloaded = RouteError::Provider {
            provider: "anthropic".into(),
            model: "m".into(),
            source: ProviderError::Upstream { status: 503, message: "busy".into(), body: String::new() },
        };
        let v: serde_json::Value = serde_json::from_str(&anthropic_stream_error(overloaded)).unwrap_or_default();
        assert_eq!(v["error"]["type"], "api_error");
    }
}
