//! The configuration sections and their defaults. Defaults live only in the
//! `Default` impls here; `docs/sp-gateway.json` is checked against them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Secret;

/// `server`: where and how the HTTP server listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// Longest a request may take, in seconds; generous because LLM calls are long.
    pub request_timeout_secs: u64,
    /// How long shutdown waits for in-flight requests, in seconds.
    pub shutdown_grace_secs: u64,
    /// Origins allowed by CORS (`scheme://host[:port]`); empty means same-origin only.
    pub allowed_origins: Vec<String>,
    /// Folder for the SQLite file, uploads and the generated master key.
    pub data_dir: PathBuf,
    /// Public base URL of the gateway, used for links to uploads; `None` means relative links.
    pub public_url: Option<String>,
    /// Threads running requests; 0 means one per CPU the process may use.
    /// With one, the runtime is tokio's current-thread scheduler.
    pub worker_threads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".to_string(),
            port: 8080,
            request_timeout_secs: 300,
            shutdown_grace_secs: 20,
            allowed_origins: Vec::new(),
            data_dir: PathBuf::from("./data"),
            public_url: None,
            worker_threads: 0,
        }
    }
}

impl ServerConfig {
    /// `request_timeout_secs` as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// `shutdown_grace_secs` as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// `database`: the SQL store.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite:…` or `mysql://`/`mariadb://…`; `None` means SQLite in `server.data_dir`.
    pub url: Option<String>,
    /// Most connections in the pool (the request log's writer has one more of its own).
    pub max_open: u32,
    /// Connections kept open while idle; at most `max_open`.
    pub max_idle: u32,
    /// How long to wait for a connection, in seconds.
    pub connect_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: None, max_open: 10, max_idle: 2, connect_timeout_secs: 10 }
    }
}

impl DatabaseConfig {
    /// `connect_timeout_secs` as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }
}

// The URL may carry a password (atuin's `DbSettings` does the same).
impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("max_open", &self.max_open)
            .field("max_idle", &self.max_idle)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .finish()
    }
}

/// `redis`: the live session store.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://` or `rediss://` URL; `None` keeps live sessions in the SQL database only.
    pub url: Option<String>,
    /// Default session time-to-live, in seconds (7 days).
    pub session_ttl_secs: u64,
    /// Prefix of every key the gateway writes, so several gateways can share a server.
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig { url: None, session_ttl_secs: 7 * 24 * 3600, key_prefix: "spgw:".to_string() }
    }
}

impl RedisConfig {
    /// `session_ttl_secs` as a duration.
    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl_secs)
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("session_ttl_secs", &self.session_ttl_secs)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// `logging`: what is logged and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// A `tracing_subscriber::EnvFilter` directive, e.g. `info` or `info,sqlx=warn`.
    pub level: String,
    /// Line format.
    pub format: LogFormat,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig { level: "info".to_string(), format: LogFormat::Text }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `security`: the master key that encrypts secrets at rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// The key inline: 64 hex digits or base64 of 32 bytes.
    pub master_key: Option<Secret>,
    /// A file holding the key in the same form; exclusive with `master_key`.
    pub master_key_file: Option<PathBuf>,
}

/// `limits`: request sizes and paging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body, in bytes, on upload routes.
    pub max_body_bytes: usize,
    /// Largest JSON request body, in bytes.
    pub max_json_bytes: usize,
    /// Page size of list endpoints when none is asked for.
    pub default_page_size: u32,
    /// Largest page size a client may ask for.
    pub max_page_size: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 32 * 1024 * 1024,
            max_json_bytes: 4 * 1024 * 1024,
            default_page_size: 50,
            max_page_size: 500,
        }
    }
}

/// `mcp`: external MCP servers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpConfig {
    /// Commands a stdio MCP server may run (exact program names or absolute
    /// paths). Empty (the default): no stdio server can be added or started.
    pub stdio_allowlist: Vec<String>,
}

/// A URL with its password, if any, replaced; unparsable text is not shown at all.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                // Fails only for URLs that cannot have a password, which then have none.
                let _ = url.set_password(Some("redacted"));
            }
            url.into()
        }
        Err(_) => "[unparsable url]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_debug_hide_passwords() {
        let db = DatabaseConfig { url: Some("mysql://root:s3cret@db:3306/gw".into()), ..Default::default() };
        let shown = format!("{db:?}");
        assert!(!shown.contains("s3cret") && shown.contains("mysql://root:redacted@db:3306/gw"), "{shown}");
        let redis = RedisConfig { url: Some("rediss://:pw123@cache:6380/0".into()), ..Default::default() };
        let shown = format!("{redis:?}");
        assert!(!shown.contains("pw123") && shown.contains("rediss://:redacted@cache:6380/0"), "{shown}");
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
        assert_eq!(redact_url("::not a url::"), "[unparsable url]");
    }

    #[test]
    fn durations() {
        let server = ServerConfig::default();
        assert_eq!(server.request_timeout(), Duration::from_secs(300));
        assert_eq!(server.shutdown_grace(), Duration::from_secs(20));
        assert_eq!(DatabaseConfig::default().connect_timeout(), Duration::from_secs(10));
        assert_eq!(RedisConfig::default().session_ttl(), Duration::from_secs(604_800));
    }
}
