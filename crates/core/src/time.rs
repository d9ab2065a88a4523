//! Times are stored as milliseconds since the Unix epoch (UTC) in every backend
//! and rendered as RFC 3339 at the API edge.

use chrono::{DateTime, SecondsFormat, Utc};

/// Now, in storage form.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// RFC 3339 with milliseconds and `Z`.
pub fn to_rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses RFC 3339 (any offset) into storage form.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text).ok().map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ms = parse_rfc3339("2026-11-24T10:00:00+01:00").unwrap();
        assert_eq!(to_rfc3339(ms), "2026-11-24T09:00:00.000Z");
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
