//! The opt-in response cache for non-streamed chat calls: an exact match on
//! the normalised request (candidate models, messages, tools, parameters) and
//! the user, so one user never receives another's cached answer. Entries live
//! in memory (size-capped, oldest evicted first) or in Redis with a TTL. A hit
//! makes no upstream call, costs nothing, and is logged with the error code
//! `cache_hit` so it shows in the request log.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spgw_providers::{ChatRequest, ChatResponse};

use crate::models::Candidate;

/// The request log's error code for a call answered from the cache.
pub const CACHE_HIT: &str = "cache_hit";
/// Default memory budget of the in-memory cache.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;
/// Larger answers are not cached.
const MAX_ENTRY_BYTES: usize = 1 << 20;
/// Longest a lookup may wait for Redis before it counts as a miss.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// What the caller asked of the cache for one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CachePolicy {
    /// As the key's (else the user's) `limits.cache` says; off when neither says.
    #[default]
    Inherit,
    On,
    Off,
}

impl CachePolicy {
    /// Parses the `x-spgw-cache` request header (`on`/`off`, also `true`/`false`, `1`/`0`).
    pub fn parse(v: &str) -> Option<CachePolicy> {
        match v.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Some(CachePolicy::On),
            "off" | "false" | "0" | "no" => Some(CachePolicy::Off),
            _ => None,
        }
    }
}

/// Whether a call was answered from the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheStatus {
    /// Caching was off for this call.
    #[default]
    Bypass,
    Hit,
    Miss,
}

impl CacheStatus {
    /// The `x-spgw-cache` response header value, when the cache was consulted.
    pub fn header(&self) -> Option<&'static str> {
        match self {
            CacheStatus::Bypass => None,
            CacheStatus::Hit => Some("hit"),
            CacheStatus::Miss => Some("miss"),
        }
    }
}

/// A cached answer and the model that gave it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedReply {
    pub provider: String,
    pub model: String,
    pub response: ChatResponse,
}

/// The SHA-256 of a normalised request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey([u8; 32]);

/// The fields that decide an answer; `model` and `stream` are left out (the
/// candidates say which models, and only non-streamed calls are cached).
#[derive(Serialize)]
struct Normalised<'a> {
    v: u8,
    user: Option<i64>,
    models: Vec<(&'a str, &'a str)>,
    messages: &'a [spgw_providers::Message],
    tools: &'a [spgw_providers::ToolDef],
    tool_choice: &'a Option<spgw_providers::ToolChoice>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    max_tokens: Option<u32>,
    stop: &'a [String],
    response_format: &'a Option<spgw_providers::ResponseFormat>,
    reasoning: &'a Option<spgw_providers::Reasoning>,
    end_user: &'a Option<String>,
    extra: &'a serde_json::Map<String, serde_json::Value>,
}

impl CacheKey {
    /// The key of a request to `candidates` on behalf of `user_id`.
    pub fn of(req: &ChatRequest, candidates: &[Candidate], user_id: Option<i64>) -> CacheKey {
        let n = Normalised {
            v: 1,
            user: user_id,
            models: candidates.iter().map(|c| (c.provider.as_str(), c.code.as_str())).collect(),
            messages: &req.messages,
            tools: &req.tools,
            tool_choice: &req.tool_choice,
            temperature: req.temperature,
            top_p: req.top_p,
            max_tokens: req.max_tokens,
            stop: &req.stop,
            response_format: &req.response_format,
            reasoning: &req.reasoning,
            end_user: &req.user,
            extra: &req.extra,
        };
        let mut h = Sha256::new();
        // Hashing the JSON as it is written: no intermediate buffer. Writing to a hasher cannot fail.
        let _ = serde_json::to_writer(&mut h, &n);
        CacheKey(h.finalize().into())
    }

    fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

struct Slot {
    reply: Arc<CachedReply>,
    expires: Instant,
    size: usize,
    seq: u64,
}

#[derive(Default)]
struct Memory {
    map: HashMap<CacheKey, Slot>,
    /// Insertion order for eviction; entries whose `seq` no longer matches are stale.
    order: VecDeque<(CacheKey, u64)>,
    bytes: usize,
    seq: u64,
}

enum Store {
    Memory { max_bytes: usize, inner: Mutex<Memory> },
    Redis { conn: ConnectionManager, prefix: Arc<str> },
}

/// The response cache.
pub struct ResponseCache {
    store: Store,
}

impl ResponseCache {
    /// A cache in this process's memory holding at most `max_bytes` of answers.
    pub fn in_memory(max_bytes: usize) -> ResponseCache {
        ResponseCache { store: Store::Memory { max_bytes, inner: Mutex::new(Memory::default()) } }
    }

    /// A cache in Redis under `{prefix}cache:`, shared by every process.
    pub fn redis(conn: ConnectionManager, prefix: &str) -> ResponseCache {
        ResponseCache { store: Store::Redis { conn, prefix: format!("{prefix}cache:").into() } }
    }

    /// `memory` or `redis`.
    pub fn backend(&self) -> &'static str {
        match self.store {
            Store::Memory { .. } => "memory",
            Store::Redis { .. } => "redis",
        }
    }

    /// The cached answer for `key`, if fresh. A Redis failure is a miss.
    pub async fn get(&self, key: &CacheKey) -> Option<CachedReply> {
        match &self.store {
            Store::Memory { inner, .. } => {
                let mut m = inner.lock().ok()?;
                let slot = m.map.get(key)?;
                if slot.expires > Instant::now() {
                    return Some(CachedReply::clone(&slot.reply));
                }
                if let Some(old) = m.map.remove(key) {
                    m.bytes -= old.size;
                }
                None
            }
            Store::Redis { conn, prefix } => {
                let (mut conn, mut cmd) = (conn.clone(), redis::cmd("GET"));
                cmd.arg(format!("{prefix}{}", key.hex()));
                match tokio::time::timeout(REDIS_TIMEOUT, cmd.query_async::<Option<Vec<u8>>>(&mut conn)).await {
                    Ok(Ok(Some(bytes))) => serde_json::from_slice(&bytes).ok(),
                    Ok(Ok(None)) => None,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "response cache lookup failed; treated as a miss");
                        None
                    }
                    Err(_) => None,
                }
            }
        }
    }

    /// Stores an answer for `ttl`. Never makes the caller wait for Redis.
    pub fn put(&self, key: CacheKey, reply: CachedReply, ttl: Duration) {
        let Ok(bytes) = serde_json::to_vec(&reply) else { return };
        if bytes.len() > MAX_ENTRY_BYTES {
            return;
        }
        match &self.store {
            Store::Memory { max_bytes, inner } => {
                if let Ok(mut m) = inner.lock() {
                    m.insert(key, reply, bytes.len(), ttl, *max_bytes);
                }
            }
            Store::Redis { conn, prefix } => {
                let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
                let (mut conn, name) = (conn.clone(), format!("{prefix}{}", key.hex()));
                let ttl_ms = ttl.as_millis().max(1) as u64;
                rt.spawn(async move {
                    let mut cmd = redis::cmd("SET");
                    cmd.arg(name).arg(bytes).arg("PX").arg(ttl_ms);
                    if let Ok(Err(e)) = tokio::time::timeout(REDIS_TIMEOUT * 4, cmd.query_async::<()>(&mut conn)).await
                    {
                        tracing::warn!(error = %e, "could not store a response in the cache");
                    }
                });
            }
        }
    }
}

/// Most entries kept in memory whatever their size, so tiny answers cannot grow the map without bound.
const MAX_ENTRIES: usize = 100_000;

impl Memory {
    fn insert(&mut self, key: CacheKey, reply: CachedReply, size: usize, ttl: Duration, max_bytes: usize) {
        self.seq += 1;
        let slot = Slot { reply: Arc::new(reply), expires: Instant::now() + ttl, size, seq: self.seq };
        if let Some(old) = self.map.insert(key, slot) {
            self.bytes -= old.size;
        }
        self.bytes += size;
        self.order.push_back((key, self.seq));
        while self.bytes > max_bytes || self.map.len() > MAX_ENTRIES {
            let Some((k, seq)) = self.order.pop_front() else { break };
            if self.map.get(&k).is_some_and(|s| s.seq == seq)
                && let Some(old) = self.map.remove(&k)
            {
                self.bytes -= old.size;
            }
        }
        // Replaced or expired-and-removed keys leave stale order entries; drop them now and then.
        if self.order.len() > 2 * self.map.len() + 1024 {
            let map = &self.map;
            self.order.retain(|(k, seq)| map.get(k).is_some_and(|s| s.seq == *seq));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spgw_providers::{ContentPart, FinishReason, Message, Role, Usage};

    fn reply(text: &str) -> CachedReply {
        CachedReply {
            provider: "openai".into(),
            model: "gpt-5-mini".into(),
            response: ChatResponse {
                id: "r".into(),
                model: "gpt-5-mini".into(),
                content: vec![ContentPart::text(text)],
                tool_calls: vec![],
                finish_reason: FinishReason::Stop,
                usage: Usage { input_tokens: 3, output_tokens: 4, ..Usage::default() },
                raw: None,
            },
        }
    }

    fn req(text: &str) -> ChatRequest {
        ChatRequest { messages: vec![Message::text(Role::User, text)], ..ChatRequest::default() }
    }

    #[test]
    fn keys_differ_by_content_parameters_and_user_only() {
        let a = CacheKey::of(&req("hi"), &[], Some(1));
        assert_eq!(a, CacheKey::of(&req("hi"), &[], Some(1)));
        let mut streamed = req("hi");
        streamed.stream = true;
        streamed.model = "other".into();
        assert_eq!(a, CacheKey::of(&streamed, &[], Some(1)), "model and stream do not matter");
        assert_ne!(a, CacheKey::of(&req("hi!"), &[], Some(1)));
        assert_ne!(a, CacheKey::of(&req("hi"), &[], Some(2)), "users never share entries");
        let mut warm = req("hi");
        warm.temperature = Some(0.7);
        assert_ne!(a, CacheKey::of(&warm, &[], Some(1)));
    }

    #[tokio::test]
    async fn memory_entries_expire_and_the_oldest_are_evicted_past_the_size_cap() {
        let size = serde_json::to_vec(&reply("x")).unwrap().len();
        let cache = ResponseCache::in_memory(size * 2);
        let (k1, k2, k3) = (
            CacheKey::of(&req("1"), &[], None),
            CacheKey::of(&req("2"), &[], None),
            CacheKey::of(&req("3"), &[], None),
        );
        cache.put(k1, reply("x"), Duration::from_secs(60));
        cache.put(k2, reply("y"), Duration::from_secs(60));
        assert_eq!(cache.get(&k1).await.unwrap().response.text(), "x");
        cache.put(k3, reply("z"), Duration::from_secs(60));
        assert!(cache.get(&k1).await.is_none(), "the oldest entry made room");
        assert_eq!(cache.get(&k3).await.unwrap().response.text(), "z");

        let short = ResponseCache::in_memory(DEFAULT_MAX_BYTES);
        short.put(k1, reply("x"), Duration::from_millis(30));
        assert!(short.get(&k1).await.is_some());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(short.get(&k1).await.is_none(), "expired");
    }
}
