//! The attempt loop: candidates in order, keys round-robin, retries with
//! backoff on retryable errors only, every attempt logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use spgw_core::MasterKey;
use spgw_providers::{ChatRequest, ChatResponse, Endpoint, EventStream, Http, HttpOptions, ProviderError};
use spgw_store::Db;
use spgw_store::repo::settings::{Settings, int_in};

use crate::cache::{CACHE_HIT, CacheKey, CachePolicy, CacheStatus, CachedReply, ResponseCache};
use crate::keys::KeyPool;
use crate::limits::{Admission, DEFAULT_CACHE_TTL, Limiter};
use crate::log::{LogEntry, RequestLog};
use crate::metrics::Metrics;
use crate::models::{Candidate, ModelCache};
use crate::stream::RoutedStream;
use crate::{RouteError, retry};

/// Timeouts and attempt limits.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    pub connect_timeout: Duration,
    /// Until the upstream's response headers (for streams: its first byte).
    pub first_byte_timeout: Duration,
    /// A whole non-streamed call.
    pub total_timeout: Duration,
    /// Longest silence between two events of a stream.
    pub stream_idle_timeout: Duration,
    /// Attempts per candidate model (first try included).
    pub max_attempts: u32,
}

impl Default for RouterOptions {
    fn default() -> Self {
        RouterOptions {
            connect_timeout: Duration::from_secs(10),
            first_byte_timeout: Duration::from_secs(120),
            total_timeout: Duration::from_secs(600),
            stream_idle_timeout: Duration::from_secs(120),
            max_attempts: 3,
        }
    }
}

/// Who and what a call is for, as the request log records it.
#[derive(Debug, Clone, Default)]
pub struct CallMeta {
    pub request_id: String,
    pub user_id: Option<i64>,
    pub api_key_id: Option<i64>,
    pub project_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub task_id: Option<i64>,
    pub session_id: Option<String>,
    /// `chat`, `openai.chat_completions`, `anthropic.messages`, `agent`...
    pub endpoint: &'static str,
    /// What the caller asked for, as `provider/model`.
    pub requested_model: Option<String>,
    /// The response cache for this call (`x-spgw-cache`); non-streamed chat only.
    pub cache: CachePolicy,
}

impl CallMeta {
    pub(crate) fn entry(&self, cand: &Candidate, stream: bool) -> LogEntry {
        LogEntry {
            request_id: self.request_id.clone(),
            user_id: self.user_id,
            api_key_id: self.api_key_id,
            project_id: self.project_id,
            agent_id: self.agent_id,
            task_id: self.task_id,
            session_id: self.session_id.clone(),
            endpoint: self.endpoint,
            provider: cand.provider.clone(),
            model: cand.code.clone(),
            requested_model: self.requested_model.clone(),
            stream,
            created_at: spgw_core::time::now_ms(),
            ..LogEntry::default()
        }
    }
}

/// A finished non-streamed call.
#[derive(Debug)]
pub struct ChatOutcome {
    pub response: ChatResponse,
    /// The model that answered (after any fallback).
    pub model: Candidate,
    pub cost_usd: f64,
    pub latency_ms: u64,
    /// Upstream attempts made, failed ones included.
    pub attempts: u32,
    /// Whether the answer came from the response cache (`Bypass` when caching was off).
    pub cache: CacheStatus,
}

enum Mode {
    Chat,
    Stream,
}

enum Output {
    Chat(ChatResponse),
    Stream(EventStream),
}

/// Routes model calls.
pub struct Router {
    http: Http,
    pub models: ModelCache,
    pub keys: KeyPool,
    log: RequestLog,
    opts: RouterOptions,
    settings: Option<Settings>,
    limiter: Option<Arc<Limiter>>,
    metrics: Option<Arc<Metrics>>,
    cache: Option<Arc<ResponseCache>>,
}

/// `gateway_config` keys that tune the router at run time.
pub const SETTING_KEYS: &[&str] = &[
    "routing.first_byte_timeout_ms",
    "routing.total_timeout_ms",
    "routing.stream_idle_timeout_ms",
    "routing.max_attempts",
];

impl Router {
    /// A router over the catalog tables of `db`.
    pub fn new(db: Db, master_key: MasterKey, log: RequestLog, opts: RouterOptions) -> Result<Router, reqwest::Error> {
        let http = Http::new(&HttpOptions { connect_timeout: opts.connect_timeout, ..HttpOptions::default() })?;
        Ok(Router {
            http,
            models: ModelCache::new(db.clone()),
            keys: KeyPool::new(db, master_key),
            log,
            opts,
            settings: None,
            limiter: None,
            metrics: None,
            cache: None,
        })
    }

    /// Checks rate limits and budgets before every upstream call, and charges
    /// usage to keys and users from the request log's entries.
    pub fn with_limiter(mut self, limiter: Arc<Limiter>) -> Self {
        self.log.limiter = Some(limiter.clone());
        self.limiter = Some(limiter);
        self
    }

    /// Counts every attempt, refusal and cache lookup in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.log.metrics = Some(metrics.clone());
        self.metrics = Some(metrics);
        self
    }

    /// Answers repeated non-streamed calls from `cache` when the key, the user or the request turns it on.
    pub fn with_cache(mut self, cache: Arc<ResponseCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The limiter, if limits are enforced.
    pub fn limiter(&self) -> Option<&Arc<Limiter>> {
        self.limiter.as_ref()
    }

    /// The metrics, if collected.
    pub fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.metrics.as_ref()
    }

    /// Checks the caller's rate limits and budgets and counts the call. Every
    /// path to an upstream calls this first (chat, streams, media); a refusal
    /// is [`RouteError::Limit`] (429 with `Retry-After`).
    pub async fn admit(&self, meta: &CallMeta) -> Result<Admission, RouteError> {
        let Some(limiter) = &self.limiter else { return Ok(Admission::default()) };
        let result = limiter.admit(meta.user_id, meta.api_key_id).await;
        if let (Err(RouteError::Limit(r)), Some(m)) = (&result, &self.metrics) {
            m.limited(r);
        }
        result
    }

    /// The cache TTL for a call, when it is to be cached.
    fn cache_ttl(&self, meta: &CallMeta, admission: &Admission) -> Option<Duration> {
        self.cache.as_ref()?;
        let on = match meta.cache {
            CachePolicy::On => true,
            CachePolicy::Off => false,
            CachePolicy::Inherit => admission.cache == Some(true),
        };
        on.then(|| admission.cache_ttl.unwrap_or(DEFAULT_CACHE_TTL))
    }

    /// A cached answer for the call, logged as a free `cache_hit` attempt.
    async fn cached(&self, key: &CacheKey, candidates: &[Candidate], meta: &CallMeta) -> Option<ChatOutcome> {
        let cache = self.cache.as_ref()?;
        let start = Instant::now();
        let hit = cache.get(key).await.and_then(|hit| {
            let CachedReply { provider, model, response } = hit;
            let cand = candidates
                .iter()
                .find(|c| c.provider == provider && c.code == model && c.enabled && c.provider_enabled)?;
            Some((cand.clone(), response))
        });
        if let Some(m) = &self.metrics {
            m.cache(hit.is_some());
        }
        let (cand, response) = hit?;
        let latency_ms = start.elapsed().as_millis() as u64;
        let mut e = meta.entry(&cand, false);
        e.status_code = 200;
        e.error_code = Some(CACHE_HIT.to_string());
        e.latency_ms = latency_ms;
        self.log.log(e).await;
        Some(ChatOutcome { response, model: cand, cost_usd: 0.0, latency_ms, attempts: 0, cache: CacheStatus::Hit })
    }

    /// Reads timeouts and attempt limits from runtime settings on every call
    /// (defaults: the options given to `new`).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    async fn options(&self) -> RouterOptions {
        let mut o = self.opts.clone();
        if let Some(s) = &self.settings {
            // One snapshot for all four: each `Settings::int` takes the cache's lock.
            let values = s.values().await;
            let int = |key: &str, default: i64| int_in(&values, key, default);
            let ms = |d: Duration| d.as_millis() as i64;
            let get = |v: i64| Duration::from_millis(v.max(1) as u64);
            o.first_byte_timeout = get(int(SETTING_KEYS[0], ms(o.first_byte_timeout)));
            o.total_timeout = get(int(SETTING_KEYS[1], ms(o.total_timeout)));
            o.stream_idle_timeout = get(int(SETTING_KEYS[2], ms(o.stream_idle_timeout)));
            o.max_attempts = int(SETTING_KEYS[3], o.max_attempts as i64).clamp(1, 10) as u32;
        }
        o
    }

    /// The shared HTTP client (connection pools per upstream host).
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The request log.
    pub fn log(&self) -> &RequestLog {
        &self.log
    }

    /// A non-streamed chat, with fallback along `candidates`.
    pub async fn chat(
        &self,
        req: ChatRequest,
        candidates: &[Candidate],
        meta: &CallMeta,
    ) -> Result<ChatOutcome, RouteError> {
        let start = Instant::now();
        let admission = self.admit(meta).await?;
        let ttl = self.cache_ttl(meta, &admission);
        let key = ttl.map(|_| CacheKey::of(&req, candidates, meta.user_id));
        if let Some(k) = &key
            && let Some(hit) = self.cached(k, candidates, meta).await
        {
            return Ok(hit);
        }
        let opts = self.options().await;
        // Boxed: the attempt future holds the whole upstream call (the HTTP client's included) and
        // would otherwise be copied, by value, into every future and middleware layer above it.
        let (out, cand, attempts) = Box::pin(self.run(req, candidates, meta, Mode::Chat, &opts)).await?;
        let Output::Chat(response) = out else { unreachable!("run returns the output of the mode it was given") };
        let cost_usd = cand.pricing.chat_cost(&response.usage);
        let latency_ms = start.elapsed().as_millis() as u64;
        let mut e = meta.entry(&cand, false);
        e.status_code = 200;
        e.input_tokens = response.usage.input_tokens;
        e.output_tokens = response.usage.output_tokens;
        e.cached_tokens = response.usage.cached_input_tokens;
        e.reasoning_tokens = response.usage.reasoning_tokens;
        e.cost_usd = cost_usd;
        e.latency_ms = latency_ms;
        e.ttft_ms = Some(latency_ms);
        self.log.log(e).await;
        let mut cache = CacheStatus::Bypass;
        if let (Some(k), Some(ttl), Some(c)) = (key, ttl, &self.cache) {
            let reply =
                CachedReply { provider: cand.provider.clone(), model: cand.code.clone(), response: response.clone() };
            c.put(k, reply, ttl);
            cache = CacheStatus::Miss;
        }
        Ok(ChatOutcome { response, model: cand, cost_usd, latency_ms, attempts, cache })
    }

    /// A streamed chat. Fallback happens only before the first byte; after
    /// that an upstream failure ends the stream with an error event.
    pub async fn chat_stream(
        &self,
        req: ChatRequest,
        candidates: &[Candidate],
        meta: CallMeta,
    ) -> Result<RoutedStream, RouteError> {
        let start = Instant::now();
        self.admit(&meta).await?;
        let opts = self.options().await;
        let (out, cand, attempts) = Box::pin(self.run(req, candidates, &meta, Mode::Stream, &opts)).await?;
        let Output::Stream(inner) = out else { unreachable!("run returns the output of the mode it was given") };
        Ok(RoutedStream::new(inner, cand, meta, self.log.clone(), start, opts.stream_idle_timeout, attempts))
    }

    async fn run(
        &self,
        mut req: ChatRequest,
        candidates: &[Candidate],
        meta: &CallMeta,
        mode: Mode,
        opts: &RouterOptions,
    ) -> Result<(Output, Candidate, u32), RouteError> {
        let mut attempts = 0;
        let mut last: Option<RouteError> = None;
        for (i, cand) in candidates.iter().enumerate() {
            let result = if !cand.provider_enabled {
                Err(RouteError::ProviderDisabled(cand.provider.clone()))
            } else if !cand.enabled {
                Err(RouteError::ModelDisabled(cand.label()))
            } else {
                req.model.clone_from(&cand.code);
                self.try_model(&req, cand, meta, &mode, opts, &mut attempts).await
            };
            match result {
                Ok(out) => return Ok((out, cand.clone(), attempts)),
                Err(e) if e.allows_fallback() && i + 1 < candidates.len() => {
                    tracing::warn!(model = %cand.label(), error = %e, "falling back to the next model");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| RouteError::NoCandidate("no models".into())))
    }

    async fn try_model(
        &self,
        req: &ChatRequest,
        cand: &Candidate,
        meta: &CallMeta,
        mode: &Mode,
        opts: &RouterOptions,
        attempts: &mut u32,
    ) -> Result<Output, RouteError> {
        let mut exclude: Vec<i64> = Vec::new();
        let mut tries = 0u32;
        let mut last: Option<ProviderError> = None;
        loop {
            let lease = match self.keys.pick(cand.provider_id, &cand.provider, &exclude).await {
                Ok(l) => l,
                // Out of keys after failures: the caller hears what the upstream said.
                Err(e) => return Err(last.take().map(|pe| provider_error(cand, pe)).unwrap_or(e)),
            };
            let ep = Endpoint { base_url: cand.base_url.clone(), api_key: lease.secret };
            tries += 1;
            *attempts += 1;
            let t0 = Instant::now();
            let result = match mode {
                Mode::Chat => {
                    with_timeout(opts.total_timeout, spgw_providers::chat(cand.protocol, &self.http, &ep, req))
                        .await
                        .map(Output::Chat)
                }
                Mode::Stream => with_timeout(
                    opts.first_byte_timeout,
                    spgw_providers::chat_stream(cand.protocol, &self.http, &ep, req),
                )
                .await
                .map(Output::Stream),
            };
            let err = match result {
                Ok(out) => return Ok(out),
                Err(e) => e,
            };
            let mut entry = meta.entry(cand, matches!(mode, Mode::Stream));
            entry.latency_ms = t0.elapsed().as_millis() as u64;
            entry.status_code =
                err.upstream_status().unwrap_or(if matches!(err, ProviderError::Timeout) { 504 } else { 502 });
            entry.error_code = Some(error_code(&err).to_string());
            self.log.log(entry).await;
            tracing::warn!(model = %cand.label(), key_id = lease.key_id, error = %err, "upstream attempt failed");

            let wait = match &err {
                ProviderError::Auth { message, .. } => {
                    self.keys.mark_failing(lease.key_id, message).await;
                    exclude.push(lease.key_id);
                    None
                }
                ProviderError::RateLimited { retry_after, .. } => {
                    self.keys.cool_down(lease.key_id, *retry_after).await;
                    exclude.push(lease.key_id);
                    // Another key may be free right now; if not, `pick` says how long to wait.
                    match self.keys.pick(cand.provider_id, &cand.provider, &exclude).await {
                        Ok(_) => None,
                        Err(RouteError::KeysCooling { retry_after: ra, .. }) if ra <= retry::MAX_WAIT => {
                            exclude.clear();
                            Some(ra)
                        }
                        Err(_) => return Err(provider_error(cand, err)),
                    }
                }
                e if e.is_retryable() => Some(retry::delay(tries, None)),
                _ => return Err(provider_error(cand, err)),
            };
            if tries >= opts.max_attempts {
                return Err(provider_error(cand, err));
            }
            if let Some(d) = wait {
                tokio::time::sleep(d).await;
            }
            last = Some(err);
        }
    }
}

async fn with_timeout<T>(
    limit: Duration,
    fut: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    tokio::time::timeout(limit, fut).await.unwrap_or(Err(ProviderError::Timeout))
}

fn provider_error(cand: &Candidate, source: ProviderError) -> RouteError {
    RouteError::Provider { provider: cand.provider.clone(), model: cand.code.clone(), source }
}

/// The log's error code for an upstream failure.
pub(crate) fn error_code(e: &ProviderError) -> &'static str {
    match e {
        ProviderError::Auth { .. } => "upstream_auth",
        ProviderError::RateLimited { .. } => "rate_limited",
        ProviderError::InvalidRequest { .. } => "upstream_invalid_request",
        ProviderError::Upstream { .. } => "upstream_error",
        ProviderError::Timeout => "upstream_timeout",
        ProviderError::Network(_) => "upstream_unreachable",
        ProviderError::Decode(_) => "upstream_decode",
        ProviderError::Unsupported(_) => "unsupported",
    }
}
