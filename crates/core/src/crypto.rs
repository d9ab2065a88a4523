//! Secrets at rest: AES-256-GCM under the gateway's master key. Stored form is
//! `v1:` + base64(nonce ‖ ciphertext‖tag), so the scheme can change later
//! without guessing what an old value is.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::CoreError;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// The 256-bit key that encrypts provider keys, credentials and MCP secrets.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// From raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CoreError> {
        if bytes.len() != 32 {
            return Err(CoreError::BadMasterKey);
        }
        Ok(MasterKey { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)) })
    }

    /// From the configured text form: 64 hex digits or base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let text = text.trim();
        if text.len() == 64
            && let Ok(bytes) = hex::decode(text)
        {
            return Self::from_bytes(&bytes);
        }
        let bytes = B64.decode(text).map_err(|_| CoreError::BadMasterKey)?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key in its text form (base64), for first start.
    pub fn generate_text() -> String {
        let key = Aes256Gcm::generate_key(OsRng);
        B64.encode(key)
    }

    /// Encrypts a secret for storage.
    pub fn encrypt(&self, plaintext: &str) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ct = self.cipher.encrypt(&nonce, plaintext.as_bytes()).unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// Decrypts a stored secret.
    pub fn decrypt(&self, stored: &str) -> Result<String, CoreError> {
        let body = stored.strip_prefix(PREFIX).ok_or(CoreError::Decrypt)?;
        let raw = B64.decode(body).map_err(|_| CoreError::Decrypt)?;
        if raw.len() < NONCE_LEN {
            return Err(CoreError::Decrypt);
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let pt = self.cipher.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| CoreError::Decrypt)?;
        String::from_utf8(pt).map_err(|_| CoreError::Decrypt)
    }
}

/// A masked form of a secret that is safe to show: enough to recognise it,
/// never enough to use it (`sk-…wxyz`).
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "****".to_string();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = MasterKey::parse(&MasterKey::generate_text()).unwrap();
        let stored = key.encrypt("sk-secret-value");
        assert!(stored.starts_with("v1:"));
        assert!(!stored.contains("sk-secret"));
        assert_eq!(key.decrypt(&stored).unwrap(), "sk-secret-value");
        // Same plaintext, different nonce.
        assert_ne!(stored, key.encrypt("sk-secret-value"));
        let other = MasterKey::parse(&MasterKey::generate_text()).unwrap();
        assert!(other.decrypt(&stored).is_err());
        let mut tampered = stored.clone();
        tampered.pop();
        tampered.push('A');
        assert!(key.decrypt(&tampered).is_err() || tampered == stored);
    }

    #[test]
    fn parses_hex_and_rejects_short() {
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::parse("c2hvcnQ=").is_err());
    }

    #[test]
    fn masks() {
        assert_eq!(mask("sk-abcdefghijklmnop"), "sk-…mnop");
        assert_eq!(mask("short"), "****");
    }
}
