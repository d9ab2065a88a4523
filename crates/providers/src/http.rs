//! HTTP plumbing shared by the adapters: sending JSON, mapping error answers,
//! and reading SSE streams event by event.

use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::client::Upstream;
use crate::error::ProviderError;

/// Checks an upstream answer; on a non-2xx status turns it into a [`ProviderError`]
/// with the provider's own message.
pub async fn check<R: Answer>(resp: R) -> Result<R, ProviderError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let retry_after = retry_after(resp.headers());
    let body = resp.text().await;
    Err(error_from_parts(status, retry_after, body))
}

/// An answer [`check`] reads: reqwest's, or the chat path's [`Upstream`].
pub trait Answer: Sized {
    fn status(&self) -> reqwest::StatusCode;
    fn headers(&self) -> &reqwest::header::HeaderMap;
    /// The body as text (empty when it cannot be read).
    fn text(self) -> impl Future<Output = String> + Send;
}

impl Answer for reqwest::Response {
    fn status(&self) -> reqwest::StatusCode {
        self.status()
    }
    fn headers(&self) -> &reqwest::header::HeaderMap {
        self.headers()
    }
    async fn text(self) -> String {
        self.text().await.unwrap_or_default()
    }
}

impl Answer for Upstream {
    fn status(&self) -> reqwest::StatusCode {
        self.status()
    }
    fn headers(&self) -> &reqwest::header::HeaderMap {
        self.headers()
    }
    async fn text(self) -> String {
        self.bytes().await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

/// Builds the error for an upstream status and body.
pub fn error_from_parts(status: u16, retry_after: Option<Duration>, body: String) -> ProviderError {
    let message = error_message(&body).unwrap_or_else(|| truncate(&body, 500));
    match status {
        401 | 403 => ProviderError::Auth { status, message },
        429 => ProviderError::RateLimited { retry_after, message },
        400..=499 => ProviderError::InvalidRequest { status, message, body },
        _ => ProviderError::Upstream { status, message, body },
    }
}

/// `Retry-After` (seconds), or OpenAI's `x-ratelimit-reset-requests`-style
/// hints are ignored: only the standard header is trusted.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<f64>().ok().filter(|s| *s >= 0.0).map(Duration::from_secs_f64)
}

/// The human message inside the usual error bodies:
/// OpenAI/xAI/DeepSeek/HF `{"error":{"message"}}` or `{"error":"..."}`,
/// Anthropic `{"type":"error","error":{"message"}}`, Google `{"error":{"message"}}`.
pub fn error_message(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let err = v.get("error")?;
    match err {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The SSE events of a streaming answer, parsed as bytes arrive (never buffered whole).
pub fn sse_events(resp: impl Into<Upstream>) -> impl Stream<Item = Result<Event, ProviderError>> + Send + 'static {
    resp.into().bytes_stream().eventsource().map(|r| {
        r.map_err(|e| match e {
            EventStreamError::Transport(e) => e,
            e => ProviderError::Network(e.to_string()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_statuses_and_messages() {
        let e = error_from_parts(401, None, r#"{"error":{"message":"Incorrect API key"}}"#.into());
        assert!(matches!(e, ProviderError::Auth { status: 401, ref message } if message == "Incorrect API key"));
        let e = error_from_parts(
            429,
            Some(Duration::from_secs(3)),
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.into(),
        );
        assert!(matches!(e, ProviderError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3)));
        let e = error_from_parts(529, None, "overloaded".into());
        assert!(e.is_retryable());
        let e = error_from_parts(400, None, r#"{"error":"bad"}"#.into());
        assert!(matches!(e, ProviderError::InvalidRequest { ref message, .. } if message == "bad"));
    }
}
