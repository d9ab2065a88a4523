//! The client manager: one live session per `mcp_tools` row, tool discovery
//! cached in `tools_cache`, the health status in `status` (with `checked_at`
//! and `last_error`), calls with the server's timeout and output cap (see
//! [`crate::limits`]) and the replay rule of the crate docs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, PingRequest};
use serde_json::{Map, Value};
use spgw_core::MasterKey;
use spgw_store::repo::settings::Settings;
use spgw_store::{Db, Row};
use tokio::sync::Mutex;

use rmcp::service::{Peer, RoleClient, ServiceError};

use crate::client::{self, Endpoint, Session};
use crate::error::{McpError, Result};
use crate::{limits, output};

/// A server's tools as last discovered.
#[derive(Debug, Clone)]
pub struct ServerTools {
    /// `ok`, `unreachable`, `error`, `disabled` or `unknown` (never tried).
    pub status: String,
    /// When the tools were last listed (ms since the epoch).
    pub refreshed_at: Option<i64>,
    /// When the server was last checked or used with a change of status (ms since the epoch).
    pub checked_at: Option<i64>,
    /// Why the last check failed.
    pub last_error: Option<String>,
    /// The tools as the server describes them (name, description, inputSchema, annotations).
    pub tools: Vec<Value>,
}

/// A live session and the row version it was opened for.
struct Live {
    session: Session,
    updated_at: i64,
    http: bool,
    last_used: Instant,
}

/// An HTTP session idle longer than this (0.1 s) is pinged before use: a restarted
/// server may answer a stale session id with something other than 404 (which
/// the SDK would recover from), and a request on it would hang until timeout.
const PROBE_AFTER: Duration = Duration::from_millis(100);
/// How long that ping may take before the session is replaced.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// One server's session, locked while it is (re)opened.
type Slot = Arc<Mutex<Option<Live>>>;

/// External MCP servers, keyed by `mcp_tools.id` (cheap to clone).
#[derive(Clone)]
pub struct McpManager {
    db: Db,
    key: MasterKey,
    allowlist: Arc<Vec<String>>,
    settings: Option<Settings>,
    live: Arc<Mutex<HashMap<i64, Slot>>>,
}

impl McpManager {
    /// A manager over the database; `allowlist` is `mcp.stdio_allowlist` from the configuration.
    pub fn new(db: Db, key: MasterKey, allowlist: Vec<String>) -> Self {
        McpManager { db, key, allowlist: Arc::new(allowlist), settings: None, live: Arc::default() }
    }

    /// Reads the `mcp.*` limits and the health interval from runtime settings.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    pub(crate) fn settings(&self) -> Option<&Settings> {
        self.settings.as_ref()
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Whether this process holds a session with server `id`.
    pub(crate) async fn is_live(&self, id: i64) -> bool {
        let slot = self.live.lock().await.get(&id).cloned();
        match slot {
            Some(slot) => slot.lock().await.is_some(),
            None => false,
        }
    }

    /// Whether a stdio command may run (exact program name or absolute path on the list).
    pub fn command_allowed(&self, command: &str) -> bool {
        self.allowlist.iter().any(|a| a == command)
    }

    /// The cached tools of server `id` (listing them first if never done).
    pub async fn tools(&self, id: i64) -> Result<ServerTools> {
        let row = self.row(id).await?;
        if row.i64("refreshed_at").is_none() && row.bool("enabled") {
            return self.refresh(id).await;
        }
        Ok(cached(&row))
    }

    /// Lists the server's tools now, stores them and the health status.
    pub async fn refresh(&self, id: i64) -> Result<ServerTools> {
        let row = self.row(id).await?;
        let tools = match self.with_session(&row, |peer| async move { peer.list_all_tools().await }).await {
            Ok(tools) => tools,
            Err(e) => {
                // Connection failures are recorded where they happen; a server that answers
                // the listing with an error, or cannot be started as configured, is unhealthy too.
                if row.bool("enabled") && matches!(e, McpError::Call(_) | McpError::Refused(_)) {
                    self.set_status(id, "error", Some(&e.to_string())).await;
                }
                return Err(e);
            }
        };
        let tools: Vec<Value> = tools.iter().filter_map(|t| serde_json::to_value(t).ok()).collect();
        let now = spgw_core::time::now_ms();
        self.db
            .execute(
                "UPDATE mcp_tools SET tools_cache = ?, refreshed_at = ?, checked_at = ?, status = 'ok', \
                 last_error = NULL WHERE id = ?",
                &[Value::Array(tools.clone()).to_string().into(), now.into(), now.into(), id.into()],
            )
            .await?;
        Ok(ServerTools { status: "ok".into(), refreshed_at: Some(now), checked_at: Some(now), last_error: None, tools })
    }

    /// Calls `tool` on server `id`; returns the result as text for the model and
    /// whether the server marked it an error.
    pub async fn call(&self, id: i64, tool: &str, arguments: Map<String, Value>) -> Result<(String, bool)> {
        let row = self.row(id).await?;
        let max_output = limits::of(&row, self.settings()).await.max_output;
        let cached = cached(&row);
        let spec = cached.tools.iter().find(|t| t["name"] == tool);
        let annotations = spec.map(|t| &t["annotations"]);
        let repeatable = annotations
            .is_some_and(|a| a["readOnlyHint"].as_bool() == Some(true) || a["idempotentHint"].as_bool() == Some(true));
        let attempt = |peer: Peer<RoleClient>| {
            let mut params = CallToolRequestParams::new(tool.to_string());
            params.arguments = Some(arguments.clone());
            async move { peer.call_tool(params).await }
        };
        let result = match self.with_session(&row, attempt).await {
            Err(McpError::Lost(_)) if repeatable => self.with_session(&row, attempt).await,
            Err(McpError::Lost(_)) => Err(McpError::Lost(format!("tools/call {tool}"))),
            other => other,
        }?;
        let result = serde_json::to_value(&result).unwrap_or(Value::Null);
        Ok(output::render(&result, max_output))
    }

    /// Closes the session of server `id` (after a change or delete of its row).
    pub async fn close(&self, id: i64) {
        let slot = self.live.lock().await.remove(&id);
        if let Some(slot) = slot
            && let Some(live) = slot.lock().await.take()
        {
            let _ = live.session.cancel().await;
        }
    }

    /// Closes every session (shutdown): stdio servers are stopped, HTTP sessions deleted.
    pub async fn shutdown(&self) {
        let ids: Vec<i64> = self.live.lock().await.keys().copied().collect();
        for id in ids {
            self.close(id).await;
        }
    }

    /// Runs `f` on the peer of the live session of the server in `row`, opening
    /// one when there is none, the old one closed, or the row changed since. A
    /// broken connection drops the session (the next use reconnects) and is
    /// reported as [`McpError::Lost`]; the status columns follow.
    async fn with_session<F, Fut, T>(&self, row: &Row, f: F) -> Result<T>
    where
        F: FnOnce(Peer<RoleClient>) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, ServiceError>>,
    {
        let id = row.i64("id").unwrap_or_default();
        if !row.bool("enabled") {
            self.set_status(id, "disabled", None).await;
            return Err(McpError::Refused(format!("MCP server {} is disabled", name(row))));
        }
        let limits = limits::of(row, self.settings()).await;
        let updated_at = row.i64("updated_at").unwrap_or_default();
        let slot = self.live.lock().await.entry(id).or_default().clone();
        let peer = {
            let mut guard = slot.lock().await;
            let mut stale = guard.as_ref().is_none_or(|l| {
                l.updated_at != updated_at || l.session.is_closed() || l.session.peer().is_transport_closed()
            });
            if let Some(l) = guard.as_ref().filter(|l| !stale && l.http && l.last_used.elapsed() > PROBE_AFTER) {
                let ping = PingRequest { method: Default::default(), extensions: Default::default() };
                let alive = tokio::time::timeout(PROBE_TIMEOUT, l.session.peer().send_request(ping.into())).await;
                if !matches!(alive, Ok(Ok(_))) {
                    tracing::info!(mcp_tool_id = id, "MCP session did not answer a ping; opening a new one");
                    stale = true;
                }
            }
            if stale {
                if let Some(old) = guard.take() {
                    let _ = old.session.cancel().await;
                }
                let endpoint = self.endpoint(row).await?;
                match client::connect(&endpoint, limits.connect).await {
                    Ok(session) => {
                        let http = matches!(endpoint, Endpoint::Http { .. });
                        *guard = Some(Live { session, updated_at, http, last_used: Instant::now() })
                    }
                    Err(e) => {
                        self.set_status(id, "unreachable", Some(&e.to_string())).await;
                        return Err(e);
                    }
                }
            }
            match guard.as_ref() {
                Some(l) => l.session.peer().clone(),
                None => return Err(McpError::Connect("no session".into())),
            }
        };
        let outcome = tokio::time::timeout(limits.call, f(peer.clone())).await;
        match outcome {
            Ok(Ok(v)) => {
                if let Some(l) = slot.lock().await.as_mut() {
                    l.last_used = Instant::now();
                }
                if row.str("status") != Some("ok") {
                    self.set_status(id, "ok", None).await;
                }
                Ok(v)
            }
            Err(_) => {
                let e = McpError::Timeout(limits.call.as_secs());
                self.set_status(id, "error", Some(&e.to_string())).await;
                Err(e)
            }
            Ok(Err(e)) => {
                let broken = peer.is_transport_closed()
                    || matches!(e, ServiceError::TransportClosed | ServiceError::TransportSend(_));
                if broken {
                    if let Some(old) = slot.lock().await.take() {
                        let _ = old.session.cancel().await;
                    }
                    let e = client::tidy(&e.to_string());
                    self.set_status(id, "unreachable", Some(&e)).await;
                    Err(McpError::Lost(e))
                } else {
                    Err(McpError::Call(client::tidy(&e.to_string())))
                }
            }
        }
    }

    /// The row of server `id`.
    pub(crate) async fn row(&self, id: i64) -> Result<Row> {
        self.db
            .fetch_optional("SELECT * FROM mcp_tools WHERE id = ?", &[id.into()])
            .await?
            .ok_or_else(|| McpError::NotFound(id.to_string()))
    }

    /// Records a check's outcome: the status, when, and the error (cut, never a secret:
    /// errors name the server's URL or command, not its headers or environment).
    pub(crate) async fn set_status(&self, id: i64, status: &str, error: Option<&str>) {
        let error = error.map(|e| output::cap(e.to_string(), 1000));
        let now = spgw_core::time::now_ms();
        if let Err(e) = self
            .db
            .execute(
                "UPDATE mcp_tools SET status = ?, last_error = ?, checked_at = ? WHERE id = ?",
                &[status.into(), error.into(), now.into(), id.into()],
            )
            .await
        {
            tracing::warn!(mcp_tool_id = id, error = %e, "cannot record MCP server status");
        }
    }

    /// The transport of a row with its secrets decrypted and `credential:NAME`
    /// references resolved from the server's project, at start only.
    async fn endpoint(&self, row: &Row) -> Result<Endpoint> {
        match row.str("transport") {
            Some("stdio") => {
                let command = row.str("command").unwrap_or_default().to_string();
                if !self.command_allowed(&command) {
                    return Err(McpError::Refused(format!(
                        "command {command} is not on mcp.stdio_allowlist in the configuration"
                    )));
                }
                let args: Vec<String> = row.str("args").and_then(|a| serde_json::from_str(a).ok()).unwrap_or_default();
                let mut env = Vec::new();
                for (k, v) in self.secret_map(row, "env_enc")? {
                    let value = self.resolve(row, v.as_str().unwrap_or_default()).await?;
                    env.push((k, value));
                }
                Ok(Endpoint::Stdio { command, args, env })
            }
            Some("http") => {
                let mut headers = Map::new();
                for (k, v) in self.secret_map(row, "headers_enc")? {
                    let value = self.resolve(row, v.as_str().unwrap_or_default()).await?;
                    headers.insert(k, Value::String(value));
                }
                Ok(Endpoint::Http { url: row.str("url").unwrap_or_default().to_string(), headers })
            }
            other => Err(McpError::Refused(format!("unknown transport {}", other.unwrap_or("(none)")))),
        }
    }

    fn secret_map(&self, row: &Row, column: &str) -> Result<Map<String, Value>> {
        let Some(enc) = row.str(column) else { return Ok(Map::new()) };
        let plain = self
            .key
            .decrypt(enc)
            .map_err(|_| McpError::Refused(format!("{column} of MCP server {} cannot be decrypted", name(row))))?;
        Ok(serde_json::from_str(&plain).unwrap_or_default())
    }

    /// `credential:NAME` → that credential's secret in the server's project; other values as they are.
    async fn resolve(&self, row: &Row, value: &str) -> Result<String> {
        let Some(cred) = value.strip_prefix(CREDENTIAL_PREFIX) else { return Ok(value.to_string()) };
        let Some(project) = row.i64("project_id") else {
            return Err(McpError::Refused(format!("{value}: a global MCP server has no project credentials")));
        };
        let found = self
            .db
            .fetch_optional(
                "SELECT secret_enc FROM credentials WHERE project_id = ? AND name = ?",
                &[project.into(), cred.into()],
            )
            .await?;
        let enc = found
            .as_ref()
            .and_then(|r| r.str("secret_enc"))
            .ok_or_else(|| McpError::Refused(format!("credential {cred} not found in the server's project")))?;
        self.key.decrypt(enc).map_err(|_| McpError::Refused(format!("credential {cred} cannot be decrypted")))
    }
}

/// Values of `env`/`headers` that name a credential instead of holding a secret.
pub const CREDENTIAL_PREFIX: &str = "credential:";

fn name(row: &Row) -> String {
    row.str("name").unwrap_or_default().to_string()
}

/// The tools cached on the row.
fn cached(row: &Row) -> ServerTools {
    ServerTools {
        status: row.str("status").unwrap_or("unknown").to_string(),
        refreshed_at: row.i64("refreshed_at"),
        checked_at: row.i64("checked_at"),
        last_error: row.str("last_error").map(str::to_owned),
        tools: row.str("tools_cache").and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default(),
    }
}
