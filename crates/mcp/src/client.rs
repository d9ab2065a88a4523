//! Starting one MCP client session over either transport.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Map, Value};

use crate::error::{McpError, Result};

/// A live client session (the SDK's running service; `()` answers nothing server-initiated).
pub type Session = RunningService<RoleClient, ()>;

/// A server as configured, with its secrets already resolved.
pub enum Endpoint {
    /// A child process: program, arguments, and its whole environment.
    Stdio { command: String, args: Vec<String>, env: Vec<(String, String)> },
    /// Streamable HTTP: URL and extra request headers.
    Http { url: String, headers: Map<String, Value> },
}

/// Starts (stdio) or reaches (HTTP) the server and runs the `initialize`
/// handshake, all within `timeout`.
pub async fn connect(endpoint: &Endpoint, timeout: Duration) -> Result<Session> {
    let fut = async {
        match endpoint {
            Endpoint::Stdio { command, args, env } => {
                let mut cmd = tokio::process::Command::new(command);
                // Never the gateway's own environment (its database URL, master key, ...):
                // only what the server was configured with.
                cmd.args(args).env_clear().envs(env.iter().map(|(k, v)| (k, v))).kill_on_drop(true);
                let (transport, _) = TokioChildProcess::builder(cmd)
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|e| McpError::Connect(format!("cannot start {command}: {e}")))?;
                ().serve(transport).await.map_err(|e| McpError::Connect(tidy(&e.to_string())))
            }
            Endpoint::Http { url, headers } => {
                // The SDK's reqwest is built without a crypto provider so that it shares this
                // one (ring, as the rest of the gateway); an error means one is installed already.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut custom = HashMap::new();
                for (k, v) in headers {
                    let name = http::HeaderName::try_from(k.as_str())
                        .map_err(|_| McpError::Refused(format!("invalid header name {k}")))?;
                    let value = http::HeaderValue::try_from(v.as_str().unwrap_or(""))
                        .map_err(|_| McpError::Refused(format!("invalid value for header {k}")))?;
                    custom.insert(name, value);
                }
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(custom);
                // A restarted server answers the old session id with 404: the SDK opens a new
                // session and resends that (unprocessed) request once.
                config.reinit_on_expired_session = true;
                let transport = StreamableHttpClientTransport::from_config(config);
                ().serve(transport).await.map_err(|e| McpError::Connect(tidy(&e.to_string())))
            }
        }
    };
    tokio::time::timeout(timeout, fut).await.map_err(|_| McpError::Timeout(timeout.as_secs()))?
}

/// An SDK error without the transport's Rust type name, which it embeds in
/// brackets (`Transport [rmcp::transport::worker::WorkerTransport<...>] error: ...`).
pub(crate) fn tidy(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut depth = 0usize;
    let mut rest = message;
    while let Some(i) = rest.find(['[', ']']) {
        if depth == 0 {
            out.push_str(&rest[..i]);
        }
        if rest.as_bytes()[i] == b'[' {
            depth += 1;
        } else {
            depth = depth.saturating_sub(1);
        }
        rest = &rest[i + 1..];
    }
    if depth == 0 {
        out.push_str(rest);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn sdk_type_names_are_dropped_from_errors() {
        let raw = "Send message error Transport [rmcp::transport::worker::WorkerTransport<rmcp::X<reqwest::Client>>] error: \
                   Client error: error sending request for url (http://127.0.0.1:9/mcp), when send initialize request";
        assert_eq!(
            super::tidy(raw),
            "Send message error Transport error: Client error: error sending request for url (http://127.0.0.1:9/mcp), when send initialize request"
        );
        assert_eq!(super::tidy("plain"), "plain");
    }
}
