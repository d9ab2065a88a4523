//! Why a routed call failed, with the HTTP status it should reach the caller with.

use std::time::Duration;

use spgw_providers::ProviderError;

use crate::limits::LimitRefusal;

/// A routing failure.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("unknown model {0}")]
    UnknownModel(String),
    #[error("model {0} is disabled")]
    ModelDisabled(String),
    #[error("provider {0} is disabled")]
    ProviderDisabled(String),
    #[error("no model of the agent can serve this request: {0}")]
    NoCandidate(String),
    #[error("no usable API key for provider {0}; add one with POST /api/v1/add/provider-key")]
    NoKey(String),
    #[error("every key of provider {provider} is rate limited")]
    KeysCooling { provider: String, retry_after: Duration },
    /// The upstream's own error, after retries and fallbacks.
    #[error("{provider}/{model}: {source}")]
    Provider { provider: String, model: String, source: ProviderError },
    #[error("storage: {0}")]
    Store(#[from] spgw_store::StoreError),
    #[error("stored provider key cannot be decrypted: {0}")]
    Key(#[from] spgw_core::CoreError),
    /// The caller's key or user has reached a rate limit or budget; no upstream call was made.
    #[error("{0}")]
    Limit(LimitRefusal),
    /// A `limits` object failed validation.
    #[error("{field}: {message}")]
    InvalidLimits { field: String, message: String },
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

impl RouteError {
    /// The HTTP status for the caller. Upstream client errors keep their
    /// status; a key the upstream refuses is the gateway's problem (502), not
    /// the caller's credentials (401).
    pub fn status(&self) -> u16 {
        match self {
            RouteError::UnknownModel(_) => 404,
            RouteError::ModelDisabled(_) | RouteError::ProviderDisabled(_) | RouteError::NoCandidate(_) => 422,
            RouteError::NoKey(_) => 503,
            RouteError::KeysCooling { .. } => 429,
            RouteError::Provider { source, .. } => match source {
                ProviderError::Auth { .. } => 502,
                ProviderError::RateLimited { .. } => 429,
                ProviderError::InvalidRequest { status, .. } => *status,
                ProviderError::Upstream { status, .. } if matches!(status, 503 | 504) => *status,
                ProviderError::Upstream { .. } | ProviderError::Decode(_) | ProviderError::Network(_) => 502,
                ProviderError::Timeout => 504,
                ProviderError::Unsupported(_) => 422,
            },
            RouteError::Store(_) | RouteError::Key(_) => 500,
            RouteError::Limit(_) => 429,
            RouteError::InvalidLimits { .. } => 422,
            RouteError::Redis(_) => 503,
        }
    }

    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            RouteError::UnknownModel(_) => "model_not_found",
            RouteError::ModelDisabled(_) | RouteError::ProviderDisabled(_) => "model_disabled",
            RouteError::NoCandidate(_) => "no_capable_model",
            RouteError::NoKey(_) => "no_provider_key",
            RouteError::KeysCooling { .. } => "rate_limited",
            RouteError::Provider { source, .. } => match source {
                ProviderError::Auth { .. } => "upstream_auth",
                ProviderError::RateLimited { .. } => "rate_limited",
                ProviderError::InvalidRequest { .. } => "upstream_invalid_request",
                ProviderError::Timeout => "upstream_timeout",
                ProviderError::Unsupported(_) => "unsupported",
                _ => "upstream_error",
            },
            RouteError::Store(_) | RouteError::Key(_) => "internal",
            RouteError::Limit(r) => r.kind.code(),
            RouteError::InvalidLimits { .. } => "invalid_field",
            RouteError::Redis(_) => "unavailable",
        }
    }

    /// When the caller may retry, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            RouteError::KeysCooling { retry_after, .. } => Some(*retry_after),
            RouteError::Limit(r) => Some(r.retry_after),
            RouteError::Provider { source: ProviderError::RateLimited { retry_after, .. }, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether falling back to another model may help.
    pub fn allows_fallback(&self) -> bool {
        match self {
            RouteError::Provider { source, .. } => {
                source.is_retryable() || matches!(source, ProviderError::Auth { .. })
            }
            RouteError::NoKey(_)
            | RouteError::KeysCooling { .. }
            | RouteError::ProviderDisabled(_)
            | RouteError::ModelDisabled(_) => true,
            _ => false,
        }
    }
}
