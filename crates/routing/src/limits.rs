//! Rate limits and budgets per API key and per user, checked before every
//! upstream call ([`crate::Router::admit`]) and charged after it from the same
//! entries the request log records.
//!
//! Limits live in `gateway_api_keys.limits` and `users.limits` as
//! `{"rpm", "tpm", "usd_per_day", "usd_per_month", "cache", "cache_ttl_seconds"}`;
//! both the caller's key and its user must allow a call. `rpm` and `tpm` count
//! per fixed minute, budgets per UTC day and UTC month. Counters sit in memory
//! (one process) or in Redis (shared by every gateway process, one script call
//! per check). Budgets start from the spend already in `request_log`, so a
//! restart or a Redis flush does not hand out a fresh budget.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use spgw_core::FastMap;
use spgw_store::Db;

use crate::RouteError;
use crate::limits_memory::MemoryCounters;
use crate::limits_redis::RedisCounters;
pub use crate::limits_window::Windows;
use crate::log::LogEntry;

/// How long a subject's limits are trusted before the row is read again (writes
/// through the API invalidate at once on the node that made them).
const CONFIG_TTL: Duration = Duration::from_secs(5);
/// Response-cache TTL when the limits turn caching on without saying how long.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);
/// Longest cache TTL accepted (a day).
const MAX_CACHE_TTL_SECS: u64 = 86_400;

/// The limits of one API key or user, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// Model calls per minute.
    pub rpm: Option<u64>,
    /// Input plus output tokens per minute.
    pub tpm: Option<u64>,
    /// Spend per UTC day, in USD (catalog prices).
    pub usd_per_day: Option<f64>,
    /// Spend per UTC month, in USD.
    pub usd_per_month: Option<f64>,
    /// Turns the response cache on (or off) for this key's or user's calls.
    pub cache: Option<bool>,
    /// How long cached responses live.
    pub cache_ttl_seconds: Option<u64>,
}

const FIELDS: &str = "rpm, tpm, usd_per_day, usd_per_month, cache, cache_ttl_seconds";

fn invalid(field: &str, message: &str) -> RouteError {
    RouteError::InvalidLimits { field: format!("limits.{field}"), message: message.to_string() }
}

impl Limits {
    /// Validates a `limits` object; `null` means no limits.
    pub fn parse(v: &Value) -> Result<Limits, RouteError> {
        let mut l = Limits::default();
        if v.is_null() {
            return Ok(l);
        }
        let obj = v.as_object().ok_or_else(|| RouteError::InvalidLimits {
            field: "limits".into(),
            message: format!("must be an object with any of: {FIELDS}"),
        })?;
        for (k, val) in obj {
            if val.is_null() {
                continue;
            }
            let count = || val.as_u64().ok_or_else(|| invalid(k, "must be a non-negative integer"));
            let usd = || {
                val.as_f64().filter(|x| x.is_finite() && *x >= 0.0).ok_or_else(|| invalid(k, "must be a number ≥ 0"))
            };
            match k.as_str() {
                "rpm" => l.rpm = Some(count()?),
                "tpm" => l.tpm = Some(count()?),
                "usd_per_day" => l.usd_per_day = Some(usd()?),
                "usd_per_month" => l.usd_per_month = Some(usd()?),
                "cache" => l.cache = Some(val.as_bool().ok_or_else(|| invalid(k, "must be true or false"))?),
                "cache_ttl_seconds" => {
                    let n = count()?;
                    if n == 0 || n > MAX_CACHE_TTL_SECS {
                        return Err(invalid(k, "must be between 1 and 86400"));
                    }
                    l.cache_ttl_seconds = Some(n);
                }
                other => return Err(invalid(other, &format!("unknown limit; valid: {FIELDS}"))),
            }
        }
        Ok(l)
    }

    /// The counting rules these limits impose.
    pub(crate) fn rules(&self) -> Rules {
        let n = |v: Option<u64>| v.map_or(-1, |x| x.min(i64::MAX as u64) as i64);
        Rules {
            rpm: n(self.rpm),
            tpm: n(self.tpm),
            day: usd_rule(self.usd_per_day),
            month: usd_rule(self.usd_per_month),
        }
    }
}

/// Nano-dollars: integer counters keep Redis `INCRBY` exact and cheap calls visible.
pub(crate) fn nano_usd(usd: f64) -> i64 {
    (usd * 1e9).round() as i64
}

fn usd_rule(v: Option<f64>) -> i64 {
    v.map_or(-1, nano_usd)
}

/// Limits as integers; -1 means "no limit" (the Redis script uses the same convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rules {
    pub rpm: i64,
    pub tpm: i64,
    /// Nano-USD per day / month.
    pub day: i64,
    pub month: i64,
}

impl Rules {
    /// Whether anything is counted at all.
    pub fn any(&self) -> bool {
        self.rpm >= 0 || self.tpm >= 0 || self.budgets()
    }

    /// Whether a budget is set (spend must be known).
    pub fn budgets(&self) -> bool {
        self.day >= 0 || self.month >= 0
    }
}

/// Whose limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    ApiKey(i64),
    User(i64),
}

impl Subject {
    /// `api_key` or `user`, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::ApiKey(_) => "api_key",
            Subject::User(_) => "user",
        }
    }

    /// The `request_log` column identifying this subject.
    pub(crate) fn log_column(&self) -> &'static str {
        match self {
            Subject::ApiKey(_) => "api_key_id",
            Subject::User(_) => "user_id",
        }
    }

    /// The row id.
    pub fn id(&self) -> i64 {
        match self {
            Subject::ApiKey(id) | Subject::User(id) => *id,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::ApiKey(id) => write!(f, "API key {id}"),
            Subject::User(id) => write!(f, "user {id}"),
        }
    }
}

/// Which limit refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Rpm,
    Tpm,
    UsdPerDay,
    UsdPerMonth,
}

impl LimitKind {
    /// The key in the `limits` object (also the metrics label).
    pub fn name(&self) -> &'static str {
        match self {
            LimitKind::Rpm => "rpm",
            LimitKind::Tpm => "tpm",
            LimitKind::UsdPerDay => "usd_per_day",
            LimitKind::UsdPerMonth => "usd_per_month",
        }
    }

    /// The stable error code a refusal carries.
    pub fn code(&self) -> &'static str {
        match self {
            LimitKind::Rpm | LimitKind::Tpm => "rate_limit_exceeded",
            LimitKind::UsdPerDay | LimitKind::UsdPerMonth => "budget_exceeded",
        }
    }

    /// Decodes the Redis script's limit number (1-4).
    pub(crate) fn from_index(i: i64) -> LimitKind {
        match i {
            1 => LimitKind::Rpm,
            2 => LimitKind::Tpm,
            3 => LimitKind::UsdPerDay,
            _ => LimitKind::UsdPerMonth,
        }
    }
}

/// A call refused by a limit, with when it may be retried.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitRefusal {
    pub subject: Subject,
    pub kind: LimitKind,
    /// The limit (requests, tokens, or USD).
    pub limit: f64,
    /// What the window has used so far, in the same unit.
    pub used: f64,
    pub retry_after: Duration,
    /// When the window rolls over (ms since the epoch).
    pub resets_at_ms: i64,
}

impl LimitRefusal {
    /// Builds a refusal from counter values (`used`/`limit` in requests, tokens or nano-USD).
    pub(crate) fn new(subject: Subject, kind: LimitKind, used: i64, limit: i64, w: &Windows) -> LimitRefusal {
        let (scale, end) = match kind {
            LimitKind::Rpm | LimitKind::Tpm => (1.0, w.minute_end_ms),
            LimitKind::UsdPerDay => (1e-9, w.day_end_ms),
            LimitKind::UsdPerMonth => (1e-9, w.month_end_ms),
        };
        LimitRefusal {
            subject,
            kind,
            limit: limit as f64 * scale,
            used: used as f64 * scale,
            retry_after: w.until(end),
            resets_at_ms: end,
        }
    }
}

impl fmt::Display for LimitRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.retry_after.as_secs().max(1);
        let (s, limit, used) = (self.subject, self.limit, self.used);
        match self.kind {
            LimitKind::Rpm => {
                write!(f, "rate limit reached: {s} allows {limit} requests per minute; retry in {secs} s")
            }
            LimitKind::Tpm => write!(
                f,
                "token rate limit reached: {s} has used {used} of its {limit} tokens this minute; retry in {secs} s"
            ),
            LimitKind::UsdPerDay | LimitKind::UsdPerMonth => write!(
                f,
                "budget exhausted: {s} has spent ${used:.6} of its ${limit} {} budget; it resets at {}",
                if self.kind == LimitKind::UsdPerDay { "daily (UTC)" } else { "monthly (UTC)" },
                spgw_core::time::to_rfc3339(self.resets_at_ms)
            ),
        }
    }
}

/// What the limits say about a call they let through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Admission {
    /// The key's (else the user's) `cache` setting, if either sets one.
    pub cache: Option<bool>,
    /// The key's (else the user's) `cache_ttl_seconds`, if either sets one.
    pub cache_ttl: Option<Duration>,
}

/// Where counters live.
enum Counters {
    Memory(MemoryCounters),
    Redis(RedisCounters),
}

type ConfigEntry = (Option<Arc<Limits>>, Instant, u64);

/// Checks and charges limits.
pub struct Limiter {
    db: Db,
    counters: Counters,
    generation: AtomicU64,
    configs: RwLock<FastMap<Subject, ConfigEntry>>,
    /// Last time a backend failure was logged (ms), so an outage logs once in a while, not per call.
    warned_at: AtomicI64,
}

impl Limiter {
    /// Counters in this process's memory (limits are per process).
    pub fn in_memory(db: Db) -> Limiter {
        Limiter::with(db, Counters::Memory(MemoryCounters::default()))
    }

    /// Counters in Redis under `{prefix}limits:`, shared by every process using it.
    pub fn redis(db: Db, conn: redis::aio::ConnectionManager, prefix: &str) -> Limiter {
        Limiter::with(db, Counters::Redis(RedisCounters::new(conn, prefix)))
    }

    fn with(db: Db, counters: Counters) -> Limiter {
        Limiter {
            db,
            counters,
            generation: AtomicU64::new(0),
            configs: RwLock::new(FastMap::default()),
            warned_at: AtomicI64::new(0),
        }
    }

    /// `memory` or `redis`.
    pub fn backend(&self) -> &'static str {
        match self.counters {
            Counters::Memory(_) => "memory",
            Counters::Redis(_) => "redis",
        }
    }

    /// Forgets cached limits (a key's or user's limits were written through the API).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut c) = self.configs.write() {
            c.clear();
        }
    }

    fn cached(&self, s: Subject, fresh_only: bool) -> Option<Option<Arc<Limits>>> {
        let generation = self.generation.load(Ordering::Relaxed);
        let map = self.configs.read().ok()?;
        let (limits, at, g) = map.get(&s)?;
        (*g == generation && (!fresh_only || at.elapsed() < CONFIG_TTL)).then(|| limits.clone())
    }

    /// A subject's limits (`None`: unlimited), cached for a few seconds.
    pub async fn limits(&self, s: Subject) -> Result<Option<Arc<Limits>>, RouteError> {
        if let Some(l) = self.cached(s, true) {
            return Ok(l);
        }
        let generation = self.generation.load(Ordering::Relaxed);
        let sql = match s {
            Subject::ApiKey(_) => "SELECT limits FROM gateway_api_keys WHERE id = ?",
            Subject::User(_) => "SELECT limits FROM users WHERE id = ?",
        };
        let row = self.db.fetch_optional(sql, &[s.id().into()]).await?;
        let text = row.as_ref().and_then(|r| r.str("limits")).filter(|t| !t.trim().is_empty());
        let limits = match text.map(|t| serde_json::from_str::<Value>(t).map_err(|e| e.to_string())) {
            None => None,
            Some(Ok(v)) => match Limits::parse(&v) {
                Ok(l) => Some(l).filter(|l| *l != Limits::default()).map(Arc::new),
                Err(e) => {
                    tracing::warn!(subject = %s, error = %e, "ignoring invalid stored limits");
                    None
                }
            },
            Some(Err(e)) => {
                tracing::warn!(subject = %s, error = %e, "ignoring stored limits that are not JSON");
                None
            }
        };
        if let Ok(mut map) = self.configs.write() {
            map.insert(s, (limits.clone(), Instant::now(), generation));
        }
        Ok(limits)
    }

    /// Checks every limit of the caller's key and user, counting the call when
    /// they all allow it.
    pub async fn admit(&self, user_id: Option<i64>, api_key_id: Option<i64>) -> Result<Admission, RouteError> {
        let key = match api_key_id {
            Some(id) => self.limits(Subject::ApiKey(id)).await?.map(|l| (Subject::ApiKey(id), l)),
            None => None,
        };
        let user = match user_id {
            Some(id) => self.limits(Subject::User(id)).await?.map(|l| (Subject::User(id), l)),
            None => None,
        };
        let pick = |f: fn(&Limits) -> Option<u64>| {
            key.as_ref().and_then(|(_, l)| f(l)).or_else(|| user.as_ref().and_then(|(_, l)| f(l)))
        };
        let admission = Admission {
            cache: key.as_ref().and_then(|(_, l)| l.cache).or_else(|| user.as_ref().and_then(|(_, l)| l.cache)),
            cache_ttl: pick(|l| l.cache_ttl_seconds).map(Duration::from_secs),
        };
        // The key first: it is the narrower limit and the one a client can fix.
        let mut subjects = Subjects::default();
        for (s, l) in [key, user].into_iter().flatten() {
            subjects.push(s, l.rules());
        }
        if subjects.is_empty() {
            return Ok(admission);
        }
        let w = Windows::at(spgw_core::time::now_ms());
        let refused = match &self.counters {
            Counters::Memory(m) => m.admit(&self.db, &subjects, &w).await?,
            Counters::Redis(r) => match r.admit(&self.db, &subjects, &w).await {
                Ok(refused) => refused,
                Err(e) => {
                    // Fail open: an outage of the shared counters must not stop all traffic.
                    self.warn_backend(&e);
                    None
                }
            },
        };
        match refused {
            Some(r) => Err(RouteError::Limit(r)),
            None => Ok(admission),
        }
    }

    /// Charges a recorded attempt's tokens and cost to its key and user.
    pub(crate) fn record(&self, e: &LogEntry) {
        let tokens = (e.input_tokens + e.output_tokens) as i64;
        let cost = nano_usd(e.cost_usd);
        if tokens <= 0 && cost <= 0 {
            return;
        }
        let mut subjects = Subjects::default();
        let candidates = [e.api_key_id.map(Subject::ApiKey), e.user_id.map(Subject::User)];
        for s in candidates.into_iter().flatten() {
            // Only subjects admitted with limits moments ago are in the cache; others count nothing.
            if let Some(Some(l)) = self.cached(s, false) {
                subjects.push(s, l.rules());
            }
        }
        if subjects.is_empty() {
            return;
        }
        let w = Windows::at(spgw_core::time::now_ms());
        match &self.counters {
            Counters::Memory(m) => m.record(&subjects, &w, tokens, cost),
            Counters::Redis(r) => r.record(&subjects, &w, tokens, cost),
        }
    }

    fn warn_backend(&self, e: &RouteError) {
        let now = spgw_core::time::now_ms();
        let last = self.warned_at.load(Ordering::Relaxed);
        if now - last > 10_000
            && self.warned_at.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!(error = %e, "rate-limit counters unavailable; letting calls through unchecked");
        }
    }
}

/// The (at most two) subjects a call is counted against, without allocating.
#[derive(Debug, Default)]
pub(crate) struct Subjects {
    items: [Option<(Subject, Rules)>; 2],
}

impl Subjects {
    /// Adds a subject that counts something.
    pub(crate) fn push(&mut self, s: Subject, rules: Rules) {
        if !rules.any() {
            return;
        }
        if let Some(slot) = self.items.iter_mut().find(|i| i.is_none()) {
            *slot = Some((s, rules));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items[0].is_none()
    }

    /// The subjects in order.
    pub fn iter(&self) -> impl Iterator<Item = &(Subject, Rules)> {
        self.items.iter().flatten()
    }
}

/// Spend of a subject already in the request log for the day and month of `w`, in nano-USD.
pub(crate) async fn logged_spend(db: &Db, s: Subject, w: &Windows) -> Result<(i64, i64), RouteError> {
    let sql = format!(
        "SELECT COALESCE(SUM(CASE WHEN created_at >= ? THEN cost_usd ELSE 0 END), 0) AS day_usd, \
         COALESCE(SUM(cost_usd), 0) AS month_usd FROM request_log WHERE {} = ? AND created_at >= ?",
        s.log_column()
    );
    let row = db.fetch_optional(&sql, &[w.day_start_ms.into(), s.id().into(), w.month_start_ms.into()]).await?;
    let get = |c: &str| row.as_ref().and_then(|r| r.f64(c)).unwrap_or(0.0);
    Ok((nano_usd(get("day_usd")), nano_usd(get("month_usd"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_every_field_and_names_the_bad_one() {
        let l = Limits::parse(&json!({"rpm": 60, "tpm": 10000, "usd_per_day": 1.5, "usd_per_month": 20,
            "cache": true, "cache_ttl_seconds": 600}))
        .unwrap();
        assert_eq!(l.rpm, Some(60));
        assert_eq!(l.usd_per_month, Some(20.0));
        assert_eq!(l.rules(), Rules { rpm: 60, tpm: 10000, day: 1_500_000_000, month: 20_000_000_000 });
        assert_eq!(Limits::parse(&Value::Null).unwrap(), Limits::default());
        assert!(!Limits::parse(&json!({"cache": true})).unwrap().rules().any());

        let err = |v: Value| match Limits::parse(&v) {
            Err(RouteError::InvalidLimits { field, .. }) => field,
            other => panic!("expected invalid limits, got {other:?}"),
        };
        assert_eq!(err(json!({"rpm": -1})), "limits.rpm");
        assert_eq!(err(json!({"usd_per_day": "1"})), "limits.usd_per_day");
        assert_eq!(err(json!({"rps": 3})), "limits.rps");
        assert_eq!(err(json!({"cache_ttl_seconds": 0})), "limits.cache_ttl_seconds");
        assert_eq!(err(json!([1])), "limits");
    }

    #[test]
    fn refusal_messages_say_what_and_when() {
        let w = Windows::at(spgw_core::time::parse_rfc3339("2026-11-24T10:00:30Z").unwrap());
        let r = LimitRefusal::new(Subject::ApiKey(7), LimitKind::Rpm, 2, 2, &w);
        assert_eq!(r.retry_after, Duration::from_secs(30));
        assert_eq!(r.to_string(), "rate limit reached: API key 7 allows 2 requests per minute; retry in 30 s");
        let r = LimitRefusal::new(Subject::User(3), LimitKind::UsdPerDay, 12_000, 10_000, &w);
        assert!(r.to_string().contains("user 3 has spent $0.000012 of its $0.00001 daily (UTC) budget"), "{r}");
        assert!(r.to_string().ends_with("2026-11-25T00:00:00.000Z"), "{r}");
        assert_eq!(r.kind.code(), "budget_exceeded");
    }
}
