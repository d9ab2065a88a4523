//! Primitives every other crate shares: encryption at rest, password and
//! API-key hashing, and the time representation used in storage.

pub mod apikey;
pub mod crypto;
pub mod password;
pub mod time;

pub use crypto::{MasterKey, mask};

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
