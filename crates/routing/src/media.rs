//! Media calls (embeddings, images, audio, video) through the same key pool,
//! retry rules and request log as chat: [`Router::call_with_keys`] runs any
//! adapter call with a healthy key, rotating past refused or rate-limited
//! keys, retrying retryable failures with backoff and logging every failed
//! attempt; [`Router::record_media`] logs the successful call with its cost.

use std::future::Future;
use std::time::{Duration, Instant};

use spgw_providers::{Endpoint, ProviderError, Usage};

use crate::call::{CallMeta, Router, error_code};
use crate::models::Candidate;
use crate::{RouteError, retry};

/// Limits of one media call.
#[derive(Debug, Clone, Copy)]
pub struct MediaLimits {
    /// The whole call, polling of long-running operations included.
    pub timeout: Duration,
    /// Attempts (first try included), as `routing.max_attempts`.
    pub max_attempts: u32,
    /// Whether a timeout is worth another attempt. Not for a long-running
    /// generation that already ran out its time: a retry would pay for it again.
    pub retry_timeouts: bool,
}

/// A successful media call.
#[derive(Debug)]
pub struct MediaOutcome<T> {
    pub output: T,
    /// Upstream attempts made, failed ones included.
    pub attempts: u32,
    pub latency_ms: u64,
}

/// What a successful media call consumed, for its log row.
#[derive(Debug, Clone, Copy, Default)]
pub struct MediaUsage {
    pub usage: Usage,
    pub cost_usd: f64,
}

impl Router {
    /// Admits the call against the caller's rate limits and budgets, then
    /// calls `call` with a key of `cand`'s provider until it succeeds, the
    /// error is not worth retrying, or `limits.max_attempts` is reached. A
    /// 401/403 marks the key failing and the next key is tried at once; a 429
    /// cools the key and moves on (or waits a short `Retry-After`); 5xx and
    /// network errors back off and retry. Each failure is one request-log row.
    pub async fn call_with_keys<T, F, Fut>(
        &self,
        cand: &Candidate,
        meta: &CallMeta,
        limits: MediaLimits,
        mut call: F,
    ) -> Result<MediaOutcome<T>, RouteError>
    where
        F: FnMut(Endpoint) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        if !cand.provider_enabled {
            return Err(RouteError::ProviderDisabled(cand.provider.clone()));
        }
        if !cand.enabled {
            return Err(RouteError::ModelDisabled(cand.label()));
        }
        // Rate limits and budgets apply to media as to chat.
        self.admit(meta).await?;
        let start = Instant::now();
        let mut exclude: Vec<i64> = Vec::new();
        let mut tries = 0u32;
        let mut last: Option<ProviderError> = None;
        loop {
            let lease = match self.keys.pick(cand.provider_id, &cand.provider, &exclude).await {
                Ok(l) => l,
                Err(e) => return Err(last.take().map(|pe| provider_error(cand, pe)).unwrap_or(e)),
            };
            tries += 1;
            let t0 = Instant::now();
            let ep = Endpoint { base_url: cand.base_url.clone(), api_key: lease.secret };
            let result = tokio::time::timeout(limits.timeout, call(ep)).await.unwrap_or(Err(ProviderError::Timeout));
            let err = match result {
                Ok(output) => {
                    return Ok(MediaOutcome {
                        output,
                        attempts: tries,
                        latency_ms: start.elapsed().as_millis() as u64,
                    });
                }
                Err(e) => e,
            };
            let mut entry = meta.entry(cand, false);
            entry.latency_ms = t0.elapsed().as_millis() as u64;
            entry.status_code =
                err.upstream_status().unwrap_or(if matches!(err, ProviderError::Timeout) { 504 } else { 502 });
            entry.error_code = Some(error_code(&err).to_string());
            self.log().log(entry).await;
            tracing::warn!(model = %cand.label(), key_id = lease.key_id, error = %err, "media attempt failed");

            let wait = match &err {
                ProviderError::Auth { message, .. } => {
                    self.keys.mark_failing(lease.key_id, message).await;
                    exclude.push(lease.key_id);
                    None
                }
                ProviderError::RateLimited { retry_after, .. } => {
                    self.keys.cool_down(lease.key_id, *retry_after).await;
                    exclude.push(lease.key_id);
                    match self.keys.pick(cand.provider_id, &cand.provider, &exclude).await {
                        Ok(_) => None,
                        Err(RouteError::KeysCooling { retry_after: ra, .. }) if ra <= retry::MAX_WAIT => {
                            exclude.clear();
                            Some(ra)
                        }
                        Err(_) => return Err(provider_error(cand, err)),
                    }
                }
                ProviderError::Timeout if !limits.retry_timeouts => return Err(provider_error(cand, err)),
                e if e.is_retryable() => Some(retry::delay(tries, None)),
                _ => return Err(provider_error(cand, err)),
            };
            if tries >= limits.max_attempts.max(1) {
                return Err(provider_error(cand, err));
            }
            if let Some(d) = wait {
                tokio::time::sleep(d).await;
            }
            last = Some(err);
        }
    }

    /// Logs a successful media call: tokens, cost and latency.
    pub async fn record_media(&self, cand: &Candidate, meta: &CallMeta, used: MediaUsage, latency_ms: u64) {
        let mut e = meta.entry(cand, false);
        e.status_code = 200;
        e.input_tokens = used.usage.input_tokens;
        e.output_tokens = used.usage.output_tokens;
        e.cost_usd = used.cost_usd;
        e.latency_ms = latency_ms;
        e.ttft_ms = Some(latency_ms);
        self.log().log(e).await;
    }
}

fn provider_error(cand: &Candidate, source: ProviderError) -> RouteError {
    RouteError::Provider { provider: cand.provider.clone(), model: cand.code.clone(), source }
}
