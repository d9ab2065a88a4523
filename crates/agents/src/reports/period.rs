//! Report periods: a calendar month or year, in UTC.

use chrono::{Datelike, NaiveDate};

use crate::error::{AgentError, Result};

/// How long a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Monthly,
    Annual,
}

impl Period {
    /// `monthly` or `annual`.
    pub fn parse(s: &str) -> Result<Period> {
        match s {
            "monthly" => Ok(Period::Monthly),
            "annual" => Ok(Period::Annual),
            other => Err(AgentError::invalid("period", format!("must be monthly or annual, not {other:?}"))),
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Monthly => "monthly",
            Period::Annual => "annual",
        }
    }
}

/// One period: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub period: Period,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Range {
    /// The period that contains `date` (so `2026-03-15` is March 2026).
    pub fn containing(period: Period, date: NaiveDate) -> Range {
        let start = match period {
            Period::Monthly => date.with_day(1),
            Period::Annual => NaiveDate::from_ymd_opt(date.year(), 1, 1),
        }
        .unwrap_or(date);
        let end = match period {
            Period::Monthly if start.month() == 12 => NaiveDate::from_ymd_opt(start.year() + 1, 1, 1),
            Period::Monthly => NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1),
            Period::Annual => NaiveDate::from_ymd_opt(start.year() + 1, 1, 1),
        }
        .unwrap_or(start);
        Range { period, start, end }
    }

    /// The period of `period` that contains the date `start` (`YYYY-MM-DD`).
    pub fn parse(period: &str, start: &str) -> Result<Range> {
        let period = Period::parse(period)?;
        let date = NaiveDate::parse_from_str(start.trim(), "%Y-%m-%d")
            .map_err(|_| AgentError::invalid("period_start", "must be a date YYYY-MM-DD"))?;
        Ok(Range::containing(period, date))
    }

    /// The last complete period before `today` (what a scheduled report covers).
    pub fn previous(period: Period, today: NaiveDate) -> Range {
        let current = Range::containing(period, today);
        Range::containing(period, current.start.pred_opt().unwrap_or(current.start))
    }

    /// `period_start` as stored (`YYYY-MM-DD`), part of the report's unique key.
    pub fn key(&self) -> String {
        self.start.format("%Y-%m-%d").to_string()
    }

    /// `March 2026` or `2026`.
    pub fn label(&self) -> String {
        match self.period {
            Period::Monthly => self.start.format("%B %Y").to_string(),
            Period::Annual => self.start.format("%Y").to_string(),
        }
    }

    /// Start and end in storage form (ms since the epoch, UTC midnight).
    pub fn bounds_ms(&self) -> (i64, i64) {
        let ms = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or_default();
        (ms(self.start), ms(self.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_are_calendar_months_and_years() {
        let r = Range::parse("monthly", "2026-03-15").unwrap();
        assert_eq!((r.start, r.end), (d("2026-03-01"), d("2026-04-01")));
        assert_eq!(r.key(), "2026-03-01");
        assert_eq!(r.label(), "March 2026");
        let dec = Range::parse("monthly", "2025-12-01").unwrap();
        assert_eq!(dec.end, d("2026-01-01"));
        let y = Range::parse("annual", "2025-07-04").unwrap();
        assert_eq!((y.start, y.end, y.label()), (d("2025-01-01"), d("2026-01-01"), "2025".to_string()));
        let (a, b) = y.bounds_ms();
        assert_eq!(b - a, 365 * 24 * 3600 * 1000);
        assert!(Range::parse("weekly", "2025-01-01").is_err());
        assert!(Range::parse("monthly", "March").is_err());
    }

    #[test]
    fn scheduled_reports_cover_the_last_complete_period() {
        assert_eq!(Range::previous(Period::Monthly, d("2026-03-01")).start, d("2026-02-01"));
        assert_eq!(Range::previous(Period::Monthly, d("2026-01-20")).start, d("2025-12-01"));
        assert_eq!(Range::previous(Period::Annual, d("2026-01-01")).start, d("2025-01-01"));
    }
}
