//! Primitives every other crate shares: encryption at rest, password and
//! API-key hashing, and the time representation used in storage.

pub mod apikey;
pub mod crypto;
pub mod json;
pub mod password;
pub mod time;

pub use crypto::{MasterKey, mask};

/// A `HashMap` with foldhash instead of std's SipHash, for the in-process
/// caches and counters every proxied request looks up (auth, models, keys,
/// limits, metrics): SipHash cost ~5k instructions per request there
/// (callgrind, bench/README.md, eighth session). Their keys are ids, route
/// templates, model names and SHA-256 digests, not strings an attacker picks
/// freely to force collisions; foldhash is still seeded per process.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Errors of the primitives.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("master key must be 32 bytes, base64 or hex encoded")]
    BadMasterKey,
    #[error("cannot decrypt a stored secret (wrong master key or corrupted value)")]
    Decrypt,
    #[error("password hashing failed: {0}")]
    Hash(String),
}
