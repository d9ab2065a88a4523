//! Per-server limits: a server's own columns (`call_timeout_seconds`,
//! `max_output_bytes`), else the runtime settings (`mcp.*` in `gateway_config`),
//! else the defaults below. Read when a call starts, so a change applies to the
//! next call without a restart.

use std::time::Duration;

use spgw_store::Row;
use spgw_store::repo::settings::Settings;

/// `mcp.call_timeout_seconds`: one `tools/list` or `tools/call`.
pub const CALL_TIMEOUT_SECS: i64 = 60;
/// `mcp.connect_timeout_seconds`: starting a server plus the `initialize` handshake.
pub const CONNECT_TIMEOUT_SECS: i64 = 30;
/// `mcp.max_output_bytes`: the text of one tool result handed to the model.
pub const MAX_OUTPUT_BYTES: i64 = 64 * 1024;
/// `mcp.health_interval_seconds`: how often servers are checked in the background (0: never).
pub const HEALTH_INTERVAL_SECS: i64 = 60;

/// Bounds every source is clamped to.
pub const CALL_TIMEOUT_RANGE: (i64, i64) = (1, 3600);
pub const CONNECT_TIMEOUT_RANGE: (i64, i64) = (1, 300);
pub const MAX_OUTPUT_RANGE: (i64, i64) = (1024, 16 * 1024 * 1024);

/// The limits one server's calls run under.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub call: Duration,
    pub connect: Duration,
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call: Duration::from_secs(CALL_TIMEOUT_SECS as u64),
            connect: Duration::from_secs(CONNECT_TIMEOUT_SECS as u64),
            max_output: MAX_OUTPUT_BYTES as usize,
        }
    }
}

fn clamp(v: i64, (lo, hi): (i64, i64)) -> i64 {
    v.clamp(lo, hi)
}

/// The limits of the server in `row`.
pub async fn of(row: &Row, settings: Option<&Settings>) -> Limits {
    let (call, connect, output) = match settings {
        Some(s) => (
            s.int("mcp.call_timeout_seconds", CALL_TIMEOUT_SECS).await,
            s.int("mcp.connect_timeout_seconds", CONNECT_TIMEOUT_SECS).await,
            s.int("mcp.max_output_bytes", MAX_OUTPUT_BYTES).await,
        ),
        None => (CALL_TIMEOUT_SECS, CONNECT_TIMEOUT_SECS, MAX_OUTPUT_BYTES),
    };
    resolve(row.i64("call_timeout_seconds"), row.i64("max_output_bytes"), call, connect, output)
}

/// A server's own values win over the gateway-wide ones; all are clamped.
fn resolve(row_call: Option<i64>, row_output: Option<i64>, call: i64, connect: i64, output: i64) -> Limits {
    Limits {
        call: Duration::from_secs(clamp(row_call.unwrap_or(call), CALL_TIMEOUT_RANGE) as u64),
        connect: Duration::from_secs(clamp(connect, CONNECT_TIMEOUT_RANGE) as u64),
        max_output: clamp(row_output.unwrap_or(output), MAX_OUTPUT_RANGE) as usize,
    }
}

/// How often the background health check runs, `None` when switched off.
pub async fn health_interval(settings: Option<&Settings>) -> Option<Duration> {
    let secs = match settings {
        Some(s) => s.int("mcp.health_interval_seconds", HEALTH_INTERVAL_SECS).await,
        None => HEALTH_INTERVAL_SECS,
    };
    (secs > 0).then(|| Duration::from_secs(secs.min(86_400) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_overrides_the_settings_within_bounds() {
        let l = resolve(Some(5), Some(2048), 60, 30, 65536);
        assert_eq!((l.call, l.max_output), (Duration::from_secs(5), 2048));
        let l = resolve(None, None, 90, 10, 100_000);
        assert_eq!((l.call, l.connect, l.max_output), (Duration::from_secs(90), Duration::from_secs(10), 100_000));
        // Nonsense is clamped, never zero or unbounded.
        let l = resolve(Some(0), Some(1), -4, 100_000, 0);
        assert_eq!((l.call, l.connect, l.max_output), (Duration::from_secs(1), Duration::from_secs(300), 1024));
        let l = resolve(Some(1_000_000), Some(i64::MAX), 60, 30, 65536);
        assert_eq!((l.call.as_secs(), l.max_output), (3600, 16 * 1024 * 1024));
    }
}
