//! SP Gateway's start-up configuration, in layers: built-in defaults, then a
//! JSON file (comments allowed), then `SPGW__SECTION__KEY` environment
//! variables. Unknown keys are rejected and every error is one line naming the
//! key. Runtime settings live in the `gateway_config` table, not here.
//!
//! ```no_run
//! let config = spgw_config::load(None, std::env::vars())?;
//! println!("listening on {}:{}", config.server.host, config.server.port);
//! # Ok::<(), spgw_config::ConfigError>(())
//! ```

mod env;
mod error;
mod jsonc;
mod secret;
mod sections;
mod validate;

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use error::ConfigError;
pub use secret::{MasterKeySource, Secret, check_master_key, read_master_key_file};
pub use sections::{
    DatabaseConfig, LimitsConfig, LogFormat, LoggingConfig, McpConfig, RedisConfig, SecurityConfig, ServerConfig,
    redact_url,
};

/// File read from the working directory when neither `--config` nor `CONFIG_PATH` names one.
pub const DEFAULT_CONFIG_FILE: &str = "sp-gateway.json";

/// Name of the generated master key file inside `server.data_dir`.
pub const MASTER_KEY_FILE_NAME: &str = "master.key";

/// The whole start-up configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP server.
    pub server: ServerConfig,
    /// SQL database.
    pub database: DatabaseConfig,
    /// Redis, for live sessions.
    pub redis: RedisConfig,
    /// Logging.
    pub logging: LoggingConfig,
    /// Master key for secrets at rest.
    pub security: SecurityConfig,
    /// Body sizes and page sizes.
    pub limits: LimitsConfig,
    /// External MCP servers.
    pub mcp: McpConfig,
}

/// The SQL backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseBackend {
    /// Embedded SQLite (`sqlite:`).
    Sqlite,
    /// MySQL or MariaDB (`mysql:`, `mariadb:`).
    MySql,
}

impl Config {
    /// The database URL, defaulting to a SQLite file in `server.data_dir`
    /// (created when missing: `mode=rwc`).
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.server.data_dir.join("sp-gateway.db").display()),
        }
    }

    /// Which backend [`Config::database_url`] selects (it was validated at load).
    pub fn database_backend(&self) -> DatabaseBackend {
        match self.database.url.as_deref() {
            Some(url) if url.starts_with("mysql:") || url.starts_with("mariadb:") => DatabaseBackend::MySql,
            _ => DatabaseBackend::Sqlite,
        }
    }

    /// Where the master key comes from: inline, a given file, or a file generated in `server.data_dir`.
    pub fn master_key_source(&self) -> MasterKeySource {
        match (&self.security.master_key, &self.security.master_key_file) {
            (Some(key), _) => MasterKeySource::Inline(key.clone()),
            (None, Some(path)) => MasterKeySource::File(path.clone()),
            (None, None) => MasterKeySource::Generated(self.server.data_dir.join(MASTER_KEY_FILE_NAME)),
        }
    }
}

/// Loads the configuration: the file `cli_path`, else `CONFIG_PATH` from `env`,
/// else `./sp-gateway.json` when it exists, else nothing; then the `SPGW__`
/// overrides from `env`; then validation. Pass `std::env::vars()` as `env`.
pub fn load(cli_path: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
    let env = env::EnvVars::collect(env);
    let path = match (cli_path, env.config_path.as_deref()) {
        (Some(path), _) => Some(path.to_path_buf()),
        (None, Some(path)) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|p| p.is_file()),
    };
    let tree = match &path {
        Some(path) => {
            let text = fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            parse_tree(&text, &path.display().to_string())?
        }
        None => Map::new(),
    };
    build(tree, &env.overrides)
}

/// Like [`load`], with the file's text given instead of read (`CONFIG_PATH` is ignored).
pub fn load_str(text: &str, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
    let env = env::EnvVars::collect(env);
    build(parse_tree(text, "<string>")?, &env.overrides)
}

/// Parses JSON-with-comments text into the top-level object; blank text is an empty object.
fn parse_tree(text: &str, origin: &str) -> Result<Map<String, Value>, ConfigError> {
    let syntax = |message: String| ConfigError::Syntax { origin: origin.to_string(), message };
    let json = jsonc::strip(text).map_err(syntax)?;
    if json.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(&json).map_err(|e| syntax(e.to_string()))? {
        Value::Object(map) => Ok(map),
        _ => Err(syntax("the top level must be a JSON object".to_string())),
    }
}

/// Applies environment overrides to the file's tree, deserialises and validates.
fn build(mut tree: Map<String, Value>, overrides: &[(String, String)]) -> Result<Config, ConfigError> {
    // The serialised defaults list every key, so the environment is checked against the real structs.
    let defaults = serde_json::to_value(Config::default())
        .map_err(|e| ConfigError::invalid("(defaults)", format!("cannot serialise: {e}")))?;
    let from_env = env::apply(&mut tree, &defaults, overrides)?;
    let config = serde_path_to_error::deserialize::<_, Config>(Value::Object(tree)).map_err(|e| {
        let key = match e.path().to_string() {
            root if root == "." => "(top level)".to_string(),
            path => path,
        };
        ConfigError::invalid(key, e.inner().to_string())
    });
    let config = config.and_then(|c| c.validate().map(|()| c));
    config.map_err(|e| name_env_var(e, &from_env))
}

/// Adds the variable that set the failing key (or its parent list) to an `Invalid` error.
fn name_env_var(err: ConfigError, set_by_env: &[env::EnvKey]) -> ConfigError {
    match err {
        ConfigError::Invalid { key, message, from_env: None } => {
            let covers =
                |path: &str| key.strip_prefix(path).is_some_and(|rest| rest.is_empty() || rest.starts_with(['[', '.']));
            let from_env = set_by_env.iter().find(|(path, _)| covers(path)).map(|(_, var)| var.clone());
            ConfigError::Invalid { key, message, from_env }
        }
        other => other,
    }
}
