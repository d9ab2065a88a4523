//! Provider keys: several per provider, spread round-robin over the healthy
//! ones. A key the upstream refuses (401/403) is marked `failing` in the
//! database and skipped until an operator sets it back to `ok`; a 429 cools the
//! key for its `Retry-After` (recorded in `cooldown_until` so other nodes skip
//! it too). Keys are decrypted when loaded and kept only in memory.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use spgw_core::FastMap;
use spgw_core::MasterKey;
use spgw_core::time::now_ms;
use spgw_store::Db;

use crate::RouteError;

/// How long the loaded key list is trusted before re-reading the table.
const REFRESH: Duration = Duration::from_secs(2);
/// Cool-down after a 429 without `Retry-After`.
const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Entry {
    id: i64,
    secret: String,
    failing: bool,
    cooldown_until_ms: i64,
}

struct ProviderKeys {
    loaded: Instant,
    keys: Vec<Entry>,
    next: usize,
}

/// A key chosen for one attempt.
pub struct Lease {
    pub key_id: i64,
    pub secret: String,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lease({})", self.key_id)
    }
}

/// The keys of every provider.
pub struct KeyPool {
    db: Db,
    master_key: MasterKey,
    providers: Mutex<FastMap<i64, ProviderKeys>>,
}

impl KeyPool {
    /// A pool reading `provider_keys` from `db`.
    pub fn new(db: Db, master_key: MasterKey) -> Self {
        KeyPool { db, master_key, providers: Mutex::new(FastMap::default()) }
    }

    /// Forgets loaded keys (a key was written through the API).
    pub fn invalidate(&self) {
        if let Ok(mut p) = self.providers.lock() {
            p.clear();
        }
    }

    async fn load(&self, provider_id: i64) -> Result<Vec<Entry>, RouteError> {
        let rows = self
            .db
            .fetch_all(
                "SELECT id, key_enc, status, cooldown_until FROM provider_keys WHERE provider_id = ? AND enabled = 1 ORDER BY id",
                &[provider_id.into()],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let secret = self.master_key.decrypt(r.str("key_enc").unwrap_or_default())?;
            out.push(Entry {
                id: r.i64("id").unwrap_or_default(),
                secret,
                failing: r.str("status") == Some("failing"),
                cooldown_until_ms: r.i64("cooldown_until").unwrap_or(0),
            });
        }
        Ok(out)
    }

    fn fresh(&self, provider_id: i64) -> bool {
        self.providers
            .lock()
            .ok()
            .and_then(|p| p.get(&provider_id).map(|k| k.loaded.elapsed() < REFRESH))
            .unwrap_or(false)
    }

    /// A healthy key of the provider, not one of `exclude`, round-robin.
    pub async fn pick(&self, provider_id: i64, provider: &str, exclude: &[i64]) -> Result<Lease, RouteError> {
        if !self.fresh(provider_id) {
            let keys = self.load(provider_id).await?;
            if let Ok(mut p) = self.providers.lock() {
                let next = p.get(&provider_id).map(|k| k.next).unwrap_or(0);
                p.insert(provider_id, ProviderKeys { loaded: Instant::now(), keys, next });
            }
        }
        let now = now_ms();
        let mut guard = self.providers.lock().map_err(|_| RouteError::NoKey(provider.to_string()))?;
        let pk = guard.get_mut(&provider_id).ok_or_else(|| RouteError::NoKey(provider.to_string()))?;
        let n = pk.keys.len();
        let mut soonest: Option<i64> = None;
        for i in 0..n {
            let idx = (pk.next + i) % n;
            let k = &pk.keys[idx];
            if k.failing || exclude.contains(&k.id) {
                continue;
            }
            if k.cooldown_until_ms > now {
                soonest = Some(soonest.map_or(k.cooldown_until_ms, |s| s.min(k.cooldown_until_ms)));
                continue;
            }
            pk.next = idx + 1;
            return Ok(Lease { key_id: k.id, secret: k.secret.clone() });
        }
        match soonest {
            Some(until) => Err(RouteError::KeysCooling {
                provider: provider.to_string(),
                retry_after: Duration::from_millis((until - now).max(0) as u64),
            }),
            None => Err(RouteError::NoKey(provider.to_string())),
        }
    }

    fn update(&self, key_id: i64, f: impl Fn(&mut Entry)) {
        if let Ok(mut p) = self.providers.lock() {
            for pk in p.values_mut() {
                pk.keys.iter_mut().filter(|k| k.id == key_id).for_each(&f);
            }
        }
    }

    /// The upstream refused the key: skip it from now on, everywhere.
    pub async fn mark_failing(&self, key_id: i64, message: &str) {
        self.update(key_id, |k| k.failing = true);
        let msg: String = message.chars().take(500).collect();
        let r = self
            .db
            .execute(
                "UPDATE provider_keys SET status = 'failing', last_error = ?, updated_at = ? WHERE id = ?",
                &[msg.into(), now_ms().into(), key_id.into()],
            )
            .await;
        if let Err(e) = r {
            tracing::warn!(key_id, error = %e, "could not record a failing provider key");
        }
    }

    /// The upstream rate-limited the key: cool it down.
    pub async fn cool_down(&self, key_id: i64, retry_after: Option<Duration>) {
        let until = now_ms() + retry_after.unwrap_or(DEFAULT_COOLDOWN).as_millis() as i64;
        self.update(key_id, |k| k.cooldown_until_ms = until);
        let r = self
            .db
            .execute("UPDATE provider_keys SET cooldown_until = ? WHERE id = ?", &[until.into(), key_id.into()])
            .await;
        if let Err(e) = r {
            tracing::warn!(key_id, error = %e, "could not record a provider key cool-down");
        }
    }
}
