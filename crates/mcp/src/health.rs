//! The background health check: every `mcp.health_interval_seconds` (default
//! 60; 0 switches it off) each server this process should watch is asked for
//! its tools, which both proves it alive and refreshes the cached tool list. The
//! outcome lands in `status`, `checked_at` and `last_error`, so an idle server
//! that died shows `unreachable` without anyone calling it, and one that came
//! back shows `ok` again.
//!
//! Watched: every enabled HTTP server (reaching it is cheap), and a stdio server
//! when this process runs it or its last check failed. A stdio server nobody
//! used here is not started just to be checked: that would start every stdio
//! server on every gateway node. A disabled server's session is closed.

use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::limits;
use crate::manager::McpManager;

/// Checks run at once.
const PARALLEL: usize = 8;
/// How often the interval setting is re-read.
const RECHECK: Duration = Duration::from_secs(5);

impl McpManager {
    /// Starts the health loop; abort the handle to stop it.
    pub fn spawn_health(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut last = Instant::now();
            loop {
                // Re-read every few seconds, so a change of the setting applies without a restart.
                let every = limits::health_interval(me.settings()).await;
                if let Some(every) = every
                    && last.elapsed() >= every
                {
                    last = Instant::now();
                    let n = me.check_all().await;
                    tracing::debug!(checked = n, "MCP health check done");
                }
                tokio::time::sleep(every.unwrap_or(RECHECK).min(RECHECK)).await;
            }
        })
    }

    /// Checks every watched server now; returns how many were checked.
    pub async fn check_all(&self) -> usize {
        let rows = match self.db().fetch_all("SELECT id, transport, enabled, status FROM mcp_tools", &[]).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "MCP health check cannot read the servers");
                return 0;
            }
        };
        let mut due = Vec::new();
        for r in &rows {
            let id = r.i64("id").unwrap_or_default();
            if !r.bool("enabled") {
                self.close(id).await;
                if r.str("status") != Some("disabled") {
                    self.set_status(id, "disabled", None).await;
                }
                continue;
            }
            let failed = matches!(r.str("status"), Some("unreachable" | "error"));
            if r.str("transport") == Some("http") || failed || self.is_live(id).await {
                due.push(id);
            }
        }
        let n = due.len();
        futures::stream::iter(due)
            .for_each_concurrent(PARALLEL, |id| async move {
                // `refresh` records the outcome (ok, or unreachable/error with the reason).
                if let Err(e) = self.refresh(id).await {
                    tracing::info!(mcp_tool_id = id, error = %e, "MCP server failed its health check");
                }
            })
            .await;
        n
    }
}
