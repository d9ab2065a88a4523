//! Secret values and the master key's source. Secrets never print in `Debug`
//! or serialise, so logging the configuration cannot leak them.

use std::fmt;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize, Serializer};

use crate::ConfigError;

/// Text shown in place of a secret.
const REDACTED: &str = "[redacted]";

/// A secret string: readable through [`Secret::expose`], redacted everywhere else.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// Checks the text form of a master key, as spgw-core reads it: 64 hex digits
/// or standard base64 of exactly 32 bytes. The message never contains the key.
pub fn check_master_key(text: &str) -> Result<(), String> {
    let text = text.trim();
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(());
    }
    match B64.decode(text) {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        Ok(bytes) => Err(format!("must be 32 bytes (64 hex digits or base64), got {} bytes of base64", bytes.len())),
        Err(_) => Err(format!(
            "must be 32 bytes as 64 hex digits or base64, got {} characters that are neither",
            text.chars().count()
        )),
    }
}

/// Where the master key that encrypts stored secrets comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// `security.master_key`, given inline.
    Inline(Secret),
    /// `security.master_key_file`, which must exist.
    File(PathBuf),
    /// Neither was set: a key file in `server.data_dir`, created on first start.
    Generated(PathBuf),
}

impl MasterKeySource {
    /// The key's text form. A [`MasterKeySource::Generated`] file that does not
    /// exist yet is created (mode 0600) with the text `generate` returns, e.g.
    /// `spgw_core::crypto::MasterKey::generate_text`.
    pub fn load_or_create(&self, generate: impl FnOnce() -> String) -> Result<Secret, ConfigError> {
        match self {
            MasterKeySource::Inline(secret) => {
                check_master_key(secret.expose()).map_err(|m| ConfigError::invalid("security.master_key", m))?;
                Ok(Secret::new(secret.expose().trim()))
            }
            MasterKeySource::File(path) => read_master_key_file(path),
            MasterKeySource::Generated(path) => match create_key_file(path, generate) {
                Ok(secret) => Ok(secret),
                // Already there (from an earlier start, or a concurrent one): use it.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => read_master_key_file(path),
                Err(source) => Err(ConfigError::Read { path: path.clone(), source }),
            },
        }
    }
}

/// Reads and checks a master key file (surrounding whitespace ignored).
pub fn read_master_key_file(path: &Path) -> Result<Secret, ConfigError> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    let text = text.trim();
    check_master_key(text).map_err(|message| ConfigError::MasterKeyFile { path: path.to_path_buf(), message })?;
    Ok(Secret::new(text))
}

/// Writes a new key file, never overwriting one (`create_new`), readable by the owner only.
fn create_key_file(path: &Path, generate: impl FnOnce() -> String) -> std::io::Result<Secret> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let text = generate();
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(Secret::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("spgw-config-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn secret_is_redacted_in_debug_and_json() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        assert_eq!(s.expose(), "hunter2");
        let source = MasterKeySource::Inline(s);
        assert!(!format!("{source:?}").contains("hunter2"));
    }

    #[test]
    fn master_key_forms() {
        assert!(check_master_key(HEX_KEY).is_ok());
        assert!(check_master_key(&format!(" {} \n", HEX_KEY.to_uppercase())).is_ok());
        assert!(check_master_key(&B64.encode([7u8; 32])).is_ok());
        let short = check_master_key(&B64.encode([7u8; 16])).unwrap_err();
        assert!(short.contains("got 16 bytes"), "{short}");
        let junk = check_master_key("not a key!").unwrap_err();
        assert!(!junk.contains("not a key"), "the message must not echo the key: {junk}");
        // 63 hex digits are neither hex of 32 bytes nor valid base64.
        assert!(check_master_key(&HEX_KEY[1..]).is_err());
    }

    #[test]
    fn generated_key_is_created_once_then_reused() {
        let dir = temp_dir("gen");
        let path = dir.join("nested").join("master.key");
        let source = MasterKeySource::Generated(path.clone());
        let first = source.load_or_create(|| B64.encode([1u8; 32])).unwrap();
        let second = source.load_or_create(|| B64.encode([2u8; 32])).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.expose(), B64.encode([1u8; 32]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn key_file_errors_name_the_file() {
        let dir = temp_dir("bad");
        fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.key");
        fs::write(&bad, "c2hvcnQ=\n").unwrap();
        let err = MasterKeySource::File(bad.clone()).load_or_create(String::new).unwrap_err().to_string();
        assert!(err.contains("bad.key") && err.contains("got 5 bytes"), "{err}");
        let missing = MasterKeySource::File(dir.join("missing.key")).load_or_create(String::new).unwrap_err();
        assert!(matches!(missing, ConfigError::Read { .. }), "{missing}");
        let good = dir.join("good.key");
        fs::write(&good, format!("{HEX_KEY}\n")).unwrap();
        assert_eq!(read_master_key_file(&good).unwrap().expose(), HEX_KEY);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn inline_key_is_checked_and_trimmed() {
        let ok = MasterKeySource::Inline(Secret::new(format!("{HEX_KEY}\n"))).load_or_create(String::new).unwrap();
        assert_eq!(ok.expose(), HEX_KEY);
        let err = MasterKeySource::Inline(Secret::new("abc")).load_or_create(String::new).unwrap_err();
        assert_eq!(err.key(), Some("security.master_key"));
    }
}
