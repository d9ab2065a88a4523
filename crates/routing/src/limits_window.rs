//! The fixed windows limits are counted in: the minute (rpm, tpm), the UTC day
//! and the UTC month (budgets). A window is an integer index — counters are
//! keyed by it, so a new window starts from zero without any reset job — and
//! an end, for `Retry-After` and for the expiry of Redis counters.

use std::time::Duration;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// The windows containing one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The instant, ms since the epoch.
    pub now_ms: i64,
    /// Minutes since the epoch.
    pub minute: i64,
    pub minute_end_ms: i64,
    /// Days since the epoch (UTC).
    pub day: i64,
    pub day_start_ms: i64,
    pub day_end_ms: i64,
    /// Months since January 1970 (UTC).
    pub month: i64,
    pub month_start_ms: i64,
    pub month_end_ms: i64,
}

fn midnight_ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or_default()
}

impl Windows {
    /// The windows at `now_ms`.
    pub fn at(now_ms: i64) -> Windows {
        let minute = now_ms.div_euclid(MINUTE_MS);
        let day = now_ms.div_euclid(DAY_MS);
        let day_start_ms = day * DAY_MS;
        let date = DateTime::<Utc>::from_timestamp_millis(now_ms).unwrap_or_default().date_naive();
        let first = date.with_day(1).unwrap_or(date);
        let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
        Windows {
            now_ms,
            minute,
            minute_end_ms: (minute + 1) * MINUTE_MS,
            day,
            day_start_ms,
            day_end_ms: day_start_ms + DAY_MS,
            month: (i64::from(date.year()) - 1970) * 12 + i64::from(date.month0()),
            month_start_ms: midnight_ms(first),
            month_end_ms: midnight_ms(next),
        }
    }

    /// Time left until `end_ms`, at least one second (a `Retry-After` of 0 invites a busy loop).
    pub fn until(&self, end_ms: i64) -> Duration {
        Duration::from_millis((end_ms - self.now_ms).max(1000) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn minute_day_and_month_bounds() {
        let w = Windows::at(ms("2026-11-24T15:42:17.250Z"));
        assert_eq!(w.minute_end_ms, ms("2026-11-24T15:43:00Z"));
        assert_eq!(w.day_start_ms, ms("2026-11-24T00:00:00Z"));
        assert_eq!(w.day_end_ms, ms("2026-11-25T00:00:00Z"));
        assert_eq!(w.month_start_ms, ms("2026-11-01T00:00:00Z"));
        assert_eq!(w.month_end_ms, ms("2026-12-01T00:00:00Z"));
        assert_eq!(w.month, (2026 - 1970) * 12 + 10);
        assert_eq!(w.until(w.minute_end_ms), Duration::from_millis(42_750));
    }

    #[test]
    fn december_rolls_into_next_year_and_leap_february_has_29_days() {
        let dec = Windows::at(ms("2026-12-31T23:59:59.999Z"));
        assert_eq!(dec.month_end_ms, ms("2027-01-01T00:00:00Z"));
        let jan = Windows::at(dec.month_end_ms);
        assert_eq!(jan.month, dec.month + 1);
        assert_eq!(jan.day, dec.day + 1);
        assert_eq!(jan.minute, dec.minute + 1);
        assert_eq!(jan.month_start_ms, dec.month_end_ms);

        let feb = Windows::at(ms("2028-02-10T08:00:00Z"));
        assert_eq!(feb.month_end_ms - feb.month_start_ms, 29 * DAY_MS);
        let feb = Windows::at(ms("2027-02-10T08:00:00Z"));
        assert_eq!(feb.month_end_ms - feb.month_start_ms, 28 * DAY_MS);
    }

    #[test]
    fn window_starts_belong_to_the_new_window() {
        let start = ms("2026-11-25T00:00:00Z");
        let before = Windows::at(start - 1);
        let at = Windows::at(start);
        assert_eq!(at.day, before.day + 1);
        assert_eq!(at.day_start_ms, start);
        assert_eq!(before.day_end_ms, start);
        assert_eq!(at.month, before.month, "same month");
    }

    #[test]
    fn retry_after_is_never_below_a_second() {
        let w = Windows::at(ms("2026-11-24T15:42:59.900Z"));
        assert_eq!(w.until(w.minute_end_ms), Duration::from_secs(1));
    }
}
