//! The one error type of this crate. Every message is a single line that names
//! the key (or file, or variable) at fault, because it is what an operator sees
//! when start-up stops.

use std::path::PathBuf;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file (or the master key file) could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The configuration file is not valid JSON (with comments).
    #[error("invalid configuration file {origin}: {message}")]
    Syntax {
        /// Where the text came from (a path, or `<string>`).
        origin: String,
        /// What is wrong and where (line and column).
        message: String,
    },
    /// An `SPGW__…` environment variable does not name a known key.
    #[error("invalid configuration: {var}: {message}")]
    Env {
        /// The variable's name, as set.
        var: String,
        /// What is wrong with it.
        message: String,
    },
    /// A key has a value that is not allowed.
    #[error("invalid configuration: {key}{}: {message}", from_env_suffix(.from_env))]
    Invalid {
        /// Dotted path of the key, e.g. `database.max_idle` or `server.allowed_origins[1]`.
        key: String,
        /// What is wrong with it.
        message: String,
        /// The environment variable that set this key, when one did.
        from_env: Option<String>,
    },
    /// The master key file exists but does not hold a usable key.
    #[error("master key file {}: {message}", path.display())]
    MasterKeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl ConfigError {
    /// An invalid value at `key`.
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid { key: key.into(), message: message.into(), from_env: None }
    }

    /// The dotted key (or variable name) this error is about, when it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::Env { var, .. } => Some(var),
            ConfigError::Read { .. } | ConfigError::Syntax { .. } | ConfigError::MasterKeyFile { .. } => None,
        }
    }
}

fn from_env_suffix(from_env: &Option<String>) -> String {
    match from_env {
        Some(var) => format!(" (from {var})"),
        None => String::new(),
    }
}
