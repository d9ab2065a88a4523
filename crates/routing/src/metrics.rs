//! Prometheus metrics: HTTP requests by route template, upstream calls, time
//! to first token, tokens and cost by provider and model, upstream errors,
//! limit refusals and cache results.
//!
//! Label sets are bounded: routes are templates (never raw paths), statuses
//! are classes, providers and models come from the catalog rows the router
//! resolved and are capped (`other` beyond the cap). The hot path never builds
//! a label set: handles per route and per model are resolved once and kept.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock, RwLock};

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use spgw_core::FastMap;

use crate::cache::CACHE_HIT;
use crate::limits::LimitRefusal;
use crate::log::LogEntry;

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Distinct provider/model pairs labelled before new ones are counted as `other`.
const MAX_MODELS: usize = 1000;
/// Distinct routes labelled before new ones are counted as `other`.
const MAX_ROUTES: usize = 500;

const STATUS: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
const METHODS: [&str; 8] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other"];
const TOKEN_KINDS: [&str; 4] = ["input", "output", "cached", "reasoning"];

fn class(status: u16) -> usize {
    match status {
        100..=599 => (status / 100 - 1) as usize,
        _ => 5,
    }
}

type L2 = [(&'static str, String); 2];
type L3 = [(&'static str, String); 3];
type Hist = Family<L3, Histogram, fn() -> Histogram>;
type Hist2 = Family<L2, Histogram, fn() -> Histogram>;
type Cost = Counter<f64, AtomicU64>;

fn http_buckets() -> Histogram {
    Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0])
}

fn upstream_buckets() -> Histogram {
    Histogram::new([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0])
}

fn claim_buckets() -> Histogram {
    Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0])
}

fn ttft_buckets() -> Histogram {
    Histogram::new([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0])
}

/// A metric created on first use, so series that never happen are not exported.
struct Lazy<M>(OnceLock<M>);

impl<M: Clone> Lazy<M> {
    fn new() -> Self {
        Lazy(OnceLock::new())
    }
    fn get(&self, make: impl FnOnce() -> M) -> &M {
        self.0.get_or_init(make)
    }
}

/// Handles of one route and method.
struct RouteHandles {
    labels: (String, &'static str),
    requests: [Lazy<Counter>; 6],
    duration: [Lazy<Histogram>; 6],
}

/// Handles of one provider and model.
struct ModelHandles {
    provider: String,
    model: String,
    requests: [Lazy<Counter>; 6],
    duration: Histogram,
    /// Non-streamed, streamed.
    ttft: [Lazy<Histogram>; 2],
    tokens: [Counter; 4],
    cost: Cost,
}

type Routes = FastMap<String, Vec<Arc<RouteHandles>>>;
type Models = FastMap<String, FastMap<String, Arc<ModelHandles>>>;

/// Every metric of the gateway, in one registry.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<L3, Counter>,
    http_duration: Hist,
    upstream_requests: Family<L3, Counter>,
    upstream_duration: Hist2,
    ttft: Hist,
    tokens: Family<L3, Counter>,
    cost: Family<L2, Cost>,
    errors: Family<L2, Counter>,
    limited: Family<[(&'static str, &'static str); 2], Counter>,
    cache: Family<[(&'static str, &'static str); 1], Counter>,
    task_claims: Histogram,
    routes: RwLock<Routes>,
    models: RwLock<Models>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric registered (none has a value yet).
    pub fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(http_buckets),
            upstream_requests: Family::default(),
            upstream_duration: Family::new_with_constructor(upstream_buckets),
            ttft: Family::new_with_constructor(ttft_buckets),
            tokens: Family::default(),
            cost: Family::default(),
            errors: Family::default(),
            limited: Family::default(),
            cache: Family::default(),
            task_claims: claim_buckets(),
            routes: RwLock::new(FastMap::default()),
            models: RwLock::new(FastMap::default()),
        };
        let r = &mut m.registry;
        r.register(
            "spgw_http_requests",
            "HTTP requests by route template, method and status class",
            m.http_requests.clone(),
        );
        r.register(
            "spgw_http_request_duration_seconds",
            "HTTP request latency by route template, method and status class (streams: until the headers)",
            m.http_duration.clone(),
        );
        r.register(
            "spgw_upstream_requests",
            "Upstream model calls (every attempt) by provider, model and status class",
            m.upstream_requests.clone(),
        );
        r.register(
            "spgw_upstream_request_duration_seconds",
            "Upstream call latency (streams: until the last event) by provider and model",
            m.upstream_duration.clone(),
        );
        r.register(
            "spgw_upstream_ttft_seconds",
            "Time to first token of successful calls by provider, model and stream",
            m.ttft.clone(),
        );
        r.register(
            "spgw_tokens",
            "Tokens by provider, model and kind (input, output, cached, reasoning)",
            m.tokens.clone(),
        );
        r.register("spgw_cost_usd", "Cost in USD at catalog prices by provider and model", m.cost.clone());
        r.register("spgw_upstream_errors", "Failed upstream attempts by provider and error code", m.errors.clone());
        r.register(
            "spgw_rate_limited",
            "Calls refused by a key's or user's limit, by subject (api_key, user) and limit",
            m.limited.clone(),
        );
        r.register("spgw_cache_requests", "Response-cache lookups by result (hit, miss)", m.cache.clone());
        r.register(
            "spgw_task_claim_seconds",
            "Task executor: one claim (project lock, exact counts, compare-and-set, run row) from start to commit",
            m.task_claims.clone(),
        );
        m
    }

    /// Records how long one task claim took (the executor's observer).
    pub fn task_claim(&self, seconds: f64) {
        self.task_claims.observe(seconds);
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        out
    }

    fn route(&self, route: &str, method: &str) -> Arc<RouteHandles> {
        let method = METHODS.iter().copied().find(|m| *m == method).unwrap_or("other");
        if let Ok(map) = self.routes.read()
            && let Some(h) = map.get(route).and_then(|v| v.iter().find(|h| h.labels.1 == method))
        {
            return h.clone();
        }
        let Ok(mut map) = self.routes.write() else { return Arc::new(RouteHandles::new("other", method)) };
        let route = if map.len() >= MAX_ROUTES && !map.contains_key(route) { "other" } else { route };
        let list = map.entry(route.to_string()).or_default();
        if let Some(h) = list.iter().find(|h| h.labels.1 == method) {
            return h.clone();
        }
        let h = Arc::new(RouteHandles::new(route, method));
        list.push(h.clone());
        h
    }

    /// Counts one HTTP request. `route` is the matched route template (`None`: no route matched).
    pub fn observe_http(&self, route: Option<&str>, method: &str, status: u16, seconds: f64) {
        let h = self.route(route.unwrap_or("unmatched"), method);
        let c = class(status);
        let labels =
            || [("route", h.labels.0.clone()), ("method", h.labels.1.to_string()), ("status", STATUS[c].into())];
        h.requests[c].get(|| self.http_requests.get_or_create_owned(&labels())).inc();
        h.duration[c].get(|| self.http_duration.get_or_create_owned(&labels())).observe(seconds);
    }

    fn model(&self, provider: &str, model: &str) -> Arc<ModelHandles> {
        if let Ok(map) = self.models.read()
            && let Some(h) = map.get(provider).and_then(|m| m.get(model))
        {
            return h.clone();
        }
        let Ok(mut map) = self.models.write() else { return Arc::new(self.model_handles("other", "other")) };
        let total: usize = map.values().map(FastMap::len).sum();
        let known = map.get(provider).is_some_and(|m| m.contains_key(model));
        let (provider, model) = if total >= MAX_MODELS && !known { ("other", "other") } else { (provider, model) };
        if let Some(h) = map.get(provider).and_then(|m| m.get(model)) {
            return h.clone();
        }
        let h = Arc::new(self.model_handles(provider, model));
        map.entry(provider.to_string()).or_default().insert(model.to_string(), h.clone());
        h
    }

    fn model_handles(&self, provider: &str, model: &str) -> ModelHandles {
        let pm = [("provider", provider.to_string()), ("model", model.to_string())];
        let with = |k: &'static str, v: &str| [pm[0].clone(), pm[1].clone(), (k, v.to_string())];
        ModelHandles {
            provider: provider.to_string(),
            model: model.to_string(),
            requests: std::array::from_fn(|_| Lazy::new()),
            duration: self.upstream_duration.get_or_create_owned(&pm),
            ttft: [Lazy::new(), Lazy::new()],
            tokens: TOKEN_KINDS.map(|k| self.tokens.get_or_create_owned(&with("kind", k))),
            cost: self.cost.get_or_create_owned(&pm),
        }
    }

    /// Counts one recorded upstream attempt (called for every request-log entry).
    pub(crate) fn observe(&self, e: &LogEntry) {
        if e.error_code.as_deref() == Some(CACHE_HIT) {
            return;
        }
        let h = self.model(&e.provider, &e.model);
        let c = class(e.status_code);
        h.requests[c]
            .get(|| {
                let labels =
                    [("provider", h.provider.clone()), ("model", h.model.clone()), ("status", STATUS[c].into())];
                self.upstream_requests.get_or_create_owned(&labels)
            })
            .inc();
        h.duration.observe(e.latency_ms as f64 / 1000.0);
        if e.status_code == 200
            && let Some(t) = e.ttft_ms
        {
            let stream = e.stream as usize;
            h.ttft[stream]
                .get(|| {
                    let s = if e.stream { "true" } else { "false" };
                    let labels = [("provider", h.provider.clone()), ("model", h.model.clone()), ("stream", s.into())];
                    self.ttft.get_or_create_owned(&labels)
                })
                .observe(t as f64 / 1000.0);
        }
        for (counter, n) in h.tokens.iter().zip([e.input_tokens, e.output_tokens, e.cached_tokens, e.reasoning_tokens])
        {
            if n > 0 {
                counter.inc_by(n);
            }
        }
        if e.cost_usd > 0.0 {
            h.cost.inc_by(e.cost_usd);
        }
        if let Some(code) = &e.error_code {
            self.errors.get_or_create(&[("provider", h.provider.clone()), ("code", code.clone())]).inc();
        }
    }

    /// Counts a refusal by a limit.
    pub fn limited(&self, r: &LimitRefusal) {
        self.limited.get_or_create(&[("subject", r.subject.kind()), ("limit", r.kind.name())]).inc();
    }

    /// Counts a cache lookup.
    pub fn cache(&self, hit: bool) {
        self.cache.get_or_create(&[("result", if hit { "hit" } else { "miss" })]).inc();
    }
}

impl RouteHandles {
    fn new(route: &str, method: &'static str) -> Self {
        RouteHandles {
            labels: (route.to_string(), method),
            requests: std::array::from_fn(|_| Lazy::new()),
            duration: std::array::from_fn(|_| Lazy::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: u16, error: Option<&str>) -> LogEntry {
        LogEntry {
            provider: "openai".into(),
            model: "gpt-5-mini".into(),
            status_code: status,
            error_code: error.map(str::to_owned),
            input_tokens: 10,
            output_tokens: 5,
            cost_usd: 0.25,
            latency_ms: 1200,
            ttft_ms: Some(300),
            stream: true,
            ..LogEntry::default()
        }
    }

    #[test]
    fn upstream_entries_become_counters_and_histograms() {
        let m = Metrics::new();
        m.observe(&entry(200, None));
        m.observe(&entry(200, None));
        m.observe(&entry(502, Some("upstream_error")));
        m.observe(&entry(200, Some(CACHE_HIT)));
        m.observe_http(Some("/api/v1/chat"), "POST", 200, 0.002);
        m.observe_http(None, "BREW", 404, 0.0001);
        m.task_claim(0.003);
        let text = m.encode();
        let line = |prefix: &str| {
            text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in\n{text}")).to_string()
        };
        assert!(
            line(r#"spgw_upstream_requests_total{provider="openai",model="gpt-5-mini",status="2xx"}"#).ends_with(" 2")
        );
        assert!(
            line(r#"spgw_upstream_requests_total{provider="openai",model="gpt-5-mini",status="5xx"}"#).ends_with(" 1")
        );
        assert!(line(r#"spgw_tokens_total{provider="openai",model="gpt-5-mini",kind="input"}"#).ends_with(" 30"));
        assert!(line(r#"spgw_task_claim_seconds_bucket{le="0.005"}"#).ends_with(" 1"));
        assert!(line(r#"spgw_task_claim_seconds_bucket{le="0.0025"}"#).ends_with(" 0"));
        assert!(line(r#"spgw_cost_usd_total{provider="openai",model="gpt-5-mini"}"#).ends_with(" 0.75"));
        assert!(
            line(r#"spgw_upstream_ttft_seconds_count{provider="openai",model="gpt-5-mini",stream="true"}"#)
                .ends_with(" 2")
        );
        assert!(line(r#"spgw_upstream_errors_total{provider="openai",code="upstream_error"}"#).ends_with(" 1"));
        assert!(line(r#"spgw_http_requests_total{route="/api/v1/chat",method="POST",status="2xx"}"#).ends_with(" 1"));
        assert!(line(r#"spgw_http_requests_total{route="unmatched",method="other",status="4xx"}"#).ends_with(" 1"));
        assert!(!text.contains("cache_hit"), "a cache hit is not an upstream call");
    }

    #[test]
    fn model_labels_are_capped() {
        let m = Metrics::new();
        for i in 0..MAX_MODELS + 5 {
            let mut e = entry(200, None);
            e.model = format!("m{i}");
            m.observe(&e);
        }
        let text = m.encode();
        assert!(text.contains(r#"spgw_upstream_requests_total{provider="other",model="other",status="2xx"} 5"#));
    }
}
