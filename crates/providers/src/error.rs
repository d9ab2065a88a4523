//! Errors from talking to an upstream provider.

use std::time::Duration;

/// What went wrong calling a provider. The gateway uses the variant to decide
/// whether to retry, fall back to the next model, or cool down / disable a key.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// 401/403: the key is wrong or revoked; the key pool marks it failing.
    #[error("upstream rejected the API key ({status}): {message}")]
    Auth { status: u16, message: String },
    /// 429: the key pool cools this key for `retry_after` (when the upstream sent one).
    #[error("upstream rate limit: {message}")]
    RateLimited { retry_after: Option<Duration>, message: String },
    /// 400/404/413/422: the request itself is wrong; retrying will not help.
    #[error("upstream refused the request ({status}): {message}")]
    InvalidRequest { status: u16, message: String, body: String },
    /// 5xx or 529 (overloaded): worth retrying or falling back.
    #[error("upstream error ({status}): {message}")]
    Upstream { status: u16, message: String, body: String },
    /// Connect/read timeout.
    #[error("upstream timed out")]
    Timeout,
    /// Connection failures and other transport errors.
    #[error("upstream unreachable: {0}")]
    Network(String),
    /// The upstream answered something we could not parse.
    #[error("unexpected upstream response: {0}")]
    Decode(String),
    /// The model or provider does not support what was asked (e.g. tools on an
    /// embeddings model); raised before any call is made.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl ProviderError {
    /// Worth trying again (same key later, or the next key / model).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Upstream { .. }
                | ProviderError::Timeout
                | ProviderError::Network(_)
        )
    }

    /// The HTTP status the upstream answered with, when there was one.
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            ProviderError::Auth { status, .. }
            | ProviderError::InvalidRequest { status, .. }
            | ProviderError::Upstream { status, .. } => Some(*status),
            ProviderError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for ProviderError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            ProviderError::Timeout
        } else if e.is_decode() {
            ProviderError::Decode(e.to_string())
        } else {
            ProviderError::Network(e.to_string())
        }
    }
}
