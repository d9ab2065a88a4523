//! The session time-to-live: a default from the configuration file, overridable at run time
//! through `gateway_config`.

use std::time::Duration;

use spgw_store::repo::settings::{Settings, json_f64};

/// `gateway_config` keys that override the default, first present wins, with their unit in ms.
const OVERRIDES: [(&str, f64); 3] =
    [("sessions.ttl_seconds", 1_000.0), ("sessions.ttl_hours", 3_600_000.0), ("sessions.ttl_days", 86_400_000.0)];

/// Longest TTL accepted (about ten years), so a typo cannot overflow timestamps.
const MAX_TTL_MS: f64 = 10.0 * 366.0 * 86_400_000.0;

/// Resolves the TTL on each create/append (the settings are cached, so this is cheap).
#[derive(Debug, Clone)]
pub(crate) struct Ttl {
    settings: Settings,
    default_ms: i64,
}

impl Ttl {
    pub(crate) fn new(settings: Settings, default: Duration) -> Ttl {
        Ttl { settings, default_ms: i64::try_from(default.as_millis()).unwrap_or(i64::MAX).max(1) }
    }

    /// The TTL in milliseconds now in force.
    pub(crate) async fn current_ms(&self) -> i64 {
        let values = self.settings.values().await;
        for (key, unit_ms) in OVERRIDES {
            let Some(raw) = values.get(key) else { continue };
            match json_f64(raw).map(|n| n * unit_ms) {
                Some(ms) if ms >= 1.0 => return ms.min(MAX_TTL_MS) as i64,
                // A bad value must not make sessions vanish (or live forever): say so and ignore it.
                _ => tracing::warn!(key, value = %raw, "ignoring gateway_config session TTL: not a positive number"),
            }
        }
        self.default_ms
    }
}
