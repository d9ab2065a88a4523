//! Checks that a deserialised configuration makes sense; each failure names its key.

use url::Url;

use crate::secret::check_master_key;
use crate::{Config, ConfigError};

/// Levels `tracing` knows, plus `off`.
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

impl Config {
    /// Checks values serde cannot: ranges, relations between keys, URL schemes.
    /// Returns the first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        if server.host.trim().is_empty() {
            return Err(ConfigError::invalid("server.host", "must not be empty"));
        }
        at_least("server.request_timeout_secs", server.request_timeout_secs, 1)?;
        // Each one is an OS thread started at once; past this a typo, not a machine.
        if server.worker_threads > MAX_WORKER_THREADS {
            return Err(ConfigError::invalid(
                "server.worker_threads",
                format!("must be at most {MAX_WORKER_THREADS} (0: one per CPU), got {}", server.worker_threads),
            ));
        }
        for (i, origin) in server.allowed_origins.iter().enumerate() {
            check_origin(origin).map_err(|m| ConfigError::invalid(format!("server.allowed_origins[{i}]"), m))?;
        }
        if server.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("server.data_dir", "must not be empty"));
        }
        if let Some(public) = &server.public_url {
            check_url(public, &["http", "https"]).map_err(|m| ConfigError::invalid("server.public_url", m))?;
        }

        let db = &self.database;
        if let Some(url) = &db.url {
            check_database_url(url).map_err(|m| ConfigError::invalid("database.url", m))?;
        }
        at_least("database.max_open", db.max_open.into(), 1)?;
        if db.max_idle > db.max_open {
            return Err(ConfigError::invalid(
                "database.max_idle",
                format!("{} is more than database.max_open ({})", db.max_idle, db.max_open),
            ));
        }
        at_least("database.connect_timeout_secs", db.connect_timeout_secs, 1)?;

        let redis = &self.redis;
        if let Some(url) = &redis.url {
            check_url(url, &["redis", "rediss"]).map_err(|m| ConfigError::invalid("redis.url", m))?;
        }
        at_least("redis.session_ttl_secs", redis.session_ttl_secs, 1)?;
        if redis.key_prefix.chars().any(char::is_whitespace) {
            return Err(ConfigError::invalid("redis.key_prefix", "must not contain whitespace"));
        }

        check_log_level(&self.logging.level).map_err(|m| ConfigError::invalid("logging.level", m))?;

        let security = &self.security;
        if let Some(key) = &security.master_key {
            if security.master_key_file.is_some() {
                return Err(ConfigError::invalid(
                    "security.master_key",
                    "set either security.master_key or security.master_key_file, not both",
                ));
            }
            check_master_key(key.expose()).map_err(|m| ConfigError::invalid("security.master_key", m))?;
        }
        if security.master_key_file.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err(ConfigError::invalid("security.master_key_file", "must not be empty"));
        }

        let limits = &self.limits;
        at_least("limits.max_body_bytes", limits.max_body_bytes as u64, 1)?;
        at_least("limits.max_json_bytes", limits.max_json_bytes as u64, 1)?;
        at_least("limits.default_page_size", limits.default_page_size.into(), 1)?;
        if limits.max_page_size < limits.default_page_size {
            return Err(ConfigError::invalid(
                "limits.max_page_size",
                format!(
                    "{} is less than limits.default_page_size ({})",
                    limits.max_page_size, limits.default_page_size
                ),
            ));
        }
        Ok(())
    }
}

/// The most request threads `server.worker_threads` may ask for.
const MAX_WORKER_THREADS: usize = 1024;

fn at_least(key: &str, value: u64, min: u64) -> Result<(), ConfigError> {
    if value < min { Err(ConfigError::invalid(key, format!("must be at least {min}, got {value}"))) } else { Ok(()) }
}

/// Parses `raw` and checks its scheme is one of `schemes` and that it has a host.
/// Messages never echo the URL, which may hold a password.
fn check_url(raw: &str, schemes: &[&str]) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!("unsupported scheme `{}` (expected {})", url.scheme(), schemes.join(" or ")));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("URL has no host".to_string());
    }
    Ok(url)
}

/// `sqlite:` URLs are paths (`sqlite://./data/x.db`, `sqlite::memory:`) and need
/// no host; `mysql://` and `mariadb://` do.
fn check_database_url(raw: &str) -> Result<(), String> {
    let url = Url::parse(raw).map_err(|e| format!("not a valid URL: {e}"))?;
    match url.scheme() {
        "sqlite" => Ok(()),
        "mysql" | "mariadb" => check_url(raw, &["mysql", "mariadb"]).map(drop),
        other => Err(format!("unsupported scheme `{other}` (expected sqlite, mysql or mariadb)")),
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing after.
fn check_origin(raw: &str) -> Result<(), String> {
    let url = check_url(raw, &["http", "https"])?;
    let origin = url.origin().ascii_serialization();
    if origin != raw.trim_end_matches('/') {
        return Err(format!(
            "must be an origin as browsers send it, like `{origin}` (no path, query, user or default port)"
        ));
    }
    Ok(())
}

/// An `EnvFilter` directive list: each part is a level, or `target=level`, or a
/// span filter (`[span]`) we leave to `EnvFilter`. A bare word that is not a
/// level is rejected: in a configuration file it is almost always a typo
/// (`infp`), where `EnvFilter` would silently read it as a target.
fn check_log_level(directives: &str) -> Result<(), String> {
    let is_level = |s: &str| LEVELS.contains(&s.trim().to_ascii_lowercase().as_str());
    if directives.trim().is_empty() {
        return Err(format!("must not be empty (one of {})", LEVELS.join(", ")));
    }
    for part in directives.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.contains('[') {
            continue;
        }
        let level = part.rsplit_once('=').map_or(part, |(_, level)| level);
        if !is_level(level) {
            return Err(format!("unknown level `{level}` in `{part}` (expected one of {})", LEVELS.join(", ")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels() {
        for ok in ["info", "INFO", "info,sqlx=warn", "warn, sp_gateway::api=debug", "off", "debug,[request]=trace"] {
            assert!(check_log_level(ok).is_ok(), "{ok}");
        }
        for bad in ["", "infp", "info,sqlx=loud", "sqlx"] {
            assert!(check_log_level(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn database_urls() {
        for ok in [
            "sqlite://./data/x.db",
            "sqlite:///var/lib/spgw/x.db?mode=rwc",
            "sqlite::memory:",
            "mysql://root@127.0.0.1:3306/test",
            "mariadb://u:p@db/gw",
        ] {
            assert!(check_database_url(ok).is_ok(), "{ok}");
        }
        assert!(check_database_url("postgres://db/x").unwrap_err().contains("`postgres`"));
        assert!(check_database_url("mysql:nohost").unwrap_err().contains("no host"));
        assert!(check_database_url("mysql://root@db:99999/x").unwrap_err().contains("not a valid URL"));
        assert!(check_database_url("just words").unwrap_err().contains("not a valid URL"));
    }

    #[test]
    fn origins() {
        assert!(check_origin("http://localhost:5173").is_ok());
        assert!(check_origin("https://gw.example.com/").is_ok());
        assert!(check_origin("https://gw.example.com/app").is_err());
        assert!(check_origin("*").is_err());
        assert!(check_origin("ftp://x").is_err());
    }
}
