//! Schedules: `{"at": time}`, `{"cron": pattern, "timezone"?: "Europe/Paris"}` or
//! `{"every_seconds": n, "start_at"?: time}`, with options
//! - `missed`: what to do with slots that passed while no gateway was running:
//!   `skip`, `run_once` (default: one catch-up run) or `run_all` (every slot within
//!   `missed_window_seconds`, default 86400, at most [`MAX_CATCH_UP`] runs);
//! - `overlap`: `skip` (default: a slot does not fire while an earlier occurrence of the
//!   same schedule is still pending or running) or `allow`;
//! - `when`: a [condition](crate::conditions) checked at each slot; when false the slot is
//!   recorded as skipped and no model is called.
//!
//! Cron patterns have 5 fields (minute precision) or 6 (seconds first), as `croner` reads them.

use std::collections::VecDeque;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use croner::Cron;
use serde_json::{Value as Json, json};

use crate::conditions::{self, Condition};
use crate::error::{Result, TaskError};

/// Most catch-up runs `run_all` starts at once.
pub const MAX_CATCH_UP: usize = 100;
/// Slots examined at most when catching up (cron patterns can be dense).
const MAX_SLOTS: usize = 10_000;
/// Cron steps examined at most per plan (a seconds pattern over a day is 86 400).
const MAX_STEPS: usize = 200_000;
const DEFAULT_WINDOW_SECONDS: i64 = 86_400;

/// When a schedule fires.
#[derive(Debug, Clone)]
pub enum When {
    /// Once, at this time (ms).
    At(i64),
    /// At every match of a cron pattern in a time zone.
    Cron { cron: Box<Cron>, pattern: String, tz: chrono_tz::Tz },
    /// Every `ms` milliseconds from the first slot.
    Every { ms: i64, start_at: Option<i64> },
}

/// Missed-run policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    Skip,
    RunOnce,
    RunAll,
}

/// A validated schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub when: When,
    pub missed: Missed,
    pub missed_window_ms: i64,
    /// Whether a slot may fire while an earlier occurrence is unfinished.
    pub allow_overlap: bool,
    /// Checked at each slot; false skips the slot without calling a model.
    pub condition: Option<Condition>,
}

fn bad(m: impl Into<String>) -> TaskError {
    TaskError::invalid("schedule", m)
}

const KEYS: &[&str] =
    &["at", "cron", "timezone", "every_seconds", "start_at", "missed", "missed_window_seconds", "overlap", "when"];

/// Parses and validates a schedule value; `null` or absent means none.
pub fn parse(v: Option<&Json>) -> Result<Option<Schedule>> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(None) };
    let obj = v.as_object().ok_or_else(|| bad("must be an object: {\"at\"}, {\"cron\"} or {\"every_seconds\"}"))?;
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(bad(format!("unknown key {k:?}; keys: {}", KEYS.join(", "))));
    }
    let time = |key: &str| -> Result<Option<i64>> {
        match obj.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(spgw_core::time::parse_rfc3339)
                .map(Some)
                .ok_or_else(|| bad(format!("{key} must be an RFC 3339 time"))),
        }
    };
    let given = ["at", "cron", "every_seconds"].iter().filter(|k| obj.contains_key(**k)).count();
    if given != 1 {
        return Err(bad("must contain exactly one of at, cron or every_seconds"));
    }
    let when = if let Some(at) = time("at")? {
        When::At(at)
    } else if let Some(c) = obj.get("cron") {
        let pattern =
            c.as_str().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| bad("cron must be a string"))?;
        let fields = pattern.split_whitespace().count();
        if !pattern.starts_with('@') && !(5..=6).contains(&fields) {
            return Err(bad("cron must have 5 fields (minute hour day month weekday) or 6 with seconds first"));
        }
        let cron = Cron::from_str(pattern).map_err(|e| bad(format!("cron {pattern:?} is invalid: {e}")))?;
        let tz = match obj.get("timezone") {
            None | Some(Json::Null) => chrono_tz::UTC,
            Some(t) => t
                .as_str()
                .and_then(|s| s.parse::<chrono_tz::Tz>().ok())
                .ok_or_else(|| bad("timezone must be an IANA time zone name such as Europe/Paris"))?,
        };
        let s = Schedule::bare(When::Cron { cron: Box::new(cron), pattern: pattern.to_string(), tz });
        // A pattern that never matches (e.g. 30 February) would never fire: refuse it now.
        if s.next_after(spgw_core::time::now_ms()).is_none() {
            return Err(bad(format!("cron {pattern:?} never fires")));
        }
        s.when
    } else {
        let n = obj
            .get("every_seconds")
            .and_then(Json::as_i64)
            .filter(|n| (1..=366 * 86_400).contains(n))
            .ok_or_else(|| bad("every_seconds must be an integer from 1 to 31622400"))?;
        When::Every { ms: n * 1000, start_at: time("start_at")? }
    };
    if obj.contains_key("timezone") && !matches!(when, When::Cron { .. }) {
        return Err(bad("timezone applies to cron schedules only"));
    }
    let missed = match obj.get("missed").and_then(Json::as_str) {
        None if obj.get("missed").is_none_or(Json::is_null) => Missed::RunOnce,
        Some("skip") => Missed::Skip,
        Some("run_once") => Missed::RunOnce,
        Some("run_all") => Missed::RunAll,
        _ => return Err(bad("missed must be skip, run_once or run_all")),
    };
    let window = match obj.get("missed_window_seconds") {
        None | Some(Json::Null) => DEFAULT_WINDOW_SECONDS,
        Some(v) => v
            .as_i64()
            .filter(|n| (0..=366 * 86_400).contains(n))
            .ok_or_else(|| bad("missed_window_seconds must be an integer from 0 to 31622400"))?,
    };
    let allow_overlap = match obj.get("overlap").and_then(Json::as_str) {
        None if obj.get("overlap").is_none_or(Json::is_null) => false,
        Some("skip") => false,
        Some("allow") => true,
        _ => return Err(bad("overlap must be skip or allow")),
    };
    let condition = match obj.get("when").filter(|v| !v.is_null()) {
        Some(c) => Some(conditions::parse("schedule.when", c)?),
        None => None,
    };
    Ok(Some(Schedule { when, missed, missed_window_ms: window * 1000, allow_overlap, condition }))
}

/// Parses a schedule stored by this crate (already validated); `None` when absent or unreadable.
pub fn parse_stored(text: Option<&str>) -> Option<Schedule> {
    let v: Json = serde_json::from_str(text?).ok()?;
    parse(Some(&v)).ok().flatten()
}

/// What the scheduler does with the slots that are due.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Slots to fire, oldest first.
    pub fire: Vec<i64>,
    /// Slots recorded as missed (not run), oldest first.
    pub missed: Vec<i64>,
    /// Slots older than the catch-up window, not examined one by one (the first one is in `missed`).
    pub beyond_window: bool,
    /// The next slot after `now`, `None` when the schedule is over.
    pub next: Option<i64>,
}

impl Schedule {
    fn bare(when: When) -> Schedule {
        Schedule { when, missed: Missed::RunOnce, missed_window_ms: 0, allow_overlap: false, condition: None }
    }

    /// Whether it fires more than once.
    pub fn is_recurring(&self) -> bool {
        !matches!(self.when, When::At(_))
    }

    /// The first slot of a schedule created at `now` (a past `at` is due at once).
    pub fn first_slot(&self, now: i64) -> Option<i64> {
        match &self.when {
            When::At(at) => Some((*at).max(now)),
            When::Every { ms, start_at } => Some(match start_at {
                Some(s) if *s >= now => *s,
                // A past start keeps its phase: the first slot after now on its grid.
                Some(s) => s + ((now - s) / ms + 1) * ms,
                None => now + ms,
            }),
            When::Cron { .. } => self.next_after(now),
        }
    }

    /// The first slot strictly after `after` (ms).
    pub fn next_after(&self, after: i64) -> Option<i64> {
        match &self.when {
            When::At(at) => (*at > after).then_some(*at),
            When::Every { ms, .. } => Some(after + ms),
            When::Cron { cron, tz, .. } => {
                // Cron slots are whole seconds; croner would carry the milliseconds of `after` over.
                let t = Utc.timestamp_opt(after.div_euclid(1000), 0).single()?.with_timezone(tz);
                cron.find_next_occurrence(&t, false).ok().map(|d: DateTime<chrono_tz::Tz>| d.timestamp() * 1000)
            }
        }
    }

    /// The slot after `slot` on this schedule's grid (intervals step from the slot itself).
    fn step(&self, slot: i64) -> Option<i64> {
        self.next_after(slot)
    }

    /// The first slot at or after `t` on the grid through `anchor` (a known slot).
    fn first_at_or_after(&self, anchor: i64, t: i64) -> Option<i64> {
        match &self.when {
            When::Every { ms, .. } if t > anchor => Some(anchor + (t - anchor + ms - 1) / ms * ms),
            When::Every { .. } => Some(anchor),
            _ => self.next_after(t - 1),
        }
    }

    /// Decides which due slots fire, given the stored next slot `due` (≤ `now`), the time
    /// `now` and the `grace` (ms) within which a late slot still counts as on time.
    ///
    /// More than one due slot means the scheduler was not running at the earlier ones: those
    /// follow the missed-run policy. The latest due slot fires when it is within `grace`
    /// (every policy), or as the one catch-up run (`run_once`), or with the others (`run_all`).
    pub fn plan(&self, due: i64, now: i64, grace: i64) -> Plan {
        let mut plan = Plan::default();
        if due > now {
            plan.next = Some(due);
            return plan;
        }
        let window_start = now - self.missed_window_ms.max(grace);
        let mut first = Some(due);
        if due < window_start {
            // Too old to examine one by one: record the first, then resume inside the window.
            plan.missed.push(due);
            plan.beyond_window = true;
            first = self.first_at_or_after(due, window_start);
        }
        if let (When::Every { ms, .. }, Some(f)) = (&self.when, first) {
            // Intervals are arithmetic: jump straight to the last MAX_SLOTS slots.
            let count = (now - f) / ms + 1;
            if count > MAX_SLOTS as i64 {
                if !plan.beyond_window {
                    plan.missed.push(f);
                    plan.beyond_window = true;
                }
                first = Some(f + (count - MAX_SLOTS as i64) * ms);
            }
        }
        let mut slots: VecDeque<i64> = VecDeque::new();
        let mut cur = first;
        let mut steps = 0;
        while let Some(s) = cur {
            if s > now {
                break;
            }
            steps += 1;
            if steps > MAX_STEPS {
                cur = self.first_at_or_after(due, now + 1);
                break;
            }
            slots.push_back(s);
            if slots.len() > MAX_SLOTS
                && let Some(dropped) = slots.pop_front()
                && !plan.beyond_window
            {
                plan.missed.push(dropped);
                plan.beyond_window = true;
            }
            cur = self.step(s);
        }
        plan.next = cur;
        let slots: Vec<i64> = slots.into();
        let Some(&latest) = slots.last() else { return plan };
        let on_time = now - latest <= grace;
        match self.missed {
            Missed::Skip => {
                let (fire, missed) =
                    if on_time { (vec![latest], &slots[..slots.len() - 1]) } else { (vec![], &slots[..]) };
                plan.missed.extend_from_slice(missed);
                plan.fire = fire;
            }
            Missed::RunOnce => {
                plan.missed.extend_from_slice(&slots[..slots.len() - 1]);
                plan.fire = vec![latest];
            }
            Missed::RunAll => {
                let keep = slots.len().min(MAX_CATCH_UP);
                plan.missed.extend_from_slice(&slots[..slots.len() - keep]);
                plan.fire = slots[slots.len() - keep..].to_vec();
            }
        }
        plan
    }

    /// A short description for the API (`next_runs`, UI).
    pub fn describe(&self) -> Json {
        match &self.when {
            When::At(at) => json!({"type": "at", "at": spgw_core::time::to_rfc3339(*at)}),
            When::Cron { pattern, tz, .. } => json!({"type": "cron", "cron": pattern, "timezone": tz.name()}),
            When::Every { ms, .. } => json!({"type": "every", "every_seconds": ms / 1000}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        spgw_core::time::parse_rfc3339(s).unwrap()
    }

    fn sched(v: Json) -> Schedule {
        parse(Some(&v)).unwrap().unwrap()
    }

    #[test]
    fn validates_shapes() {
        assert!(parse(None).unwrap().is_none());
        assert!(parse(Some(&Json::Null)).unwrap().is_none());
        for bad in [
            json!({"cron": "every day"}),
            json!({"cron": "61 * * * *"}),
            json!({"cron": "0 0 30 2 *"}),
            json!({"every_seconds": 0}),
            json!({"at": "tomorrow"}),
            json!({"at": "2030-01-01T00:00:00Z", "cron": "* * * * *"}),
            json!({"cron": "* * * * *", "timezone": "Mars/Olympus"}),
            json!({"cron": "* * * * *", "missed": "sometimes"}),
            json!({"cron": "* * * * *", "colour": "red"}),
            json!({"every_seconds": 5, "when": {"metric": "nope"}}),
            json!([1]),
        ] {
            let e = parse(Some(&bad)).unwrap_err();
            assert!(matches!(&e, TaskError::Invalid { field, .. } if field.starts_with("schedule")), "{bad}: {e}");
        }
        let s =
            sched(json!({"cron": "0 9 * * 1", "timezone": "Europe/Paris", "missed": "run_all", "overlap": "allow"}));
        assert_eq!(s.missed, Missed::RunAll);
        assert!(s.allow_overlap && s.is_recurring());
    }

    #[test]
    fn cron_next_run_honours_time_zone() {
        let s = sched(json!({"cron": "0 9 * * *", "timezone": "Europe/Paris"}));
        // 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
        assert_eq!(s.next_after(ms("2026-01-10T12:00:00Z")), Some(ms("2026-01-11T08:00:00Z")));
        assert_eq!(s.next_after(ms("2026-07-10T12:00:00Z")), Some(ms("2026-07-11T07:00:00Z")));
        let utc = sched(json!({"cron": "*/15 * * * *"}));
        assert_eq!(utc.next_after(ms("2026-01-10T12:00:00Z")), Some(ms("2026-01-10T12:15:00Z")));
        let secs = sched(json!({"cron": "*/10 * * * * *"}));
        assert_eq!(secs.next_after(ms("2026-01-10T12:00:03Z")), Some(ms("2026-01-10T12:00:10Z")));
        // Slots are whole seconds whatever the milliseconds of the time they follow.
        assert_eq!(secs.next_after(ms("2026-01-10T12:00:03.987Z")), Some(ms("2026-01-10T12:00:10Z")));
        assert_eq!(utc.next_after(ms("2026-01-10T12:15:00.500Z")), Some(ms("2026-01-10T12:30:00Z")));
    }

    #[test]
    fn first_slots() {
        let now = ms("2026-01-10T12:00:00Z");
        assert_eq!(sched(json!({"every_seconds": 60})).first_slot(now), Some(now + 60_000));
        let anchored = sched(json!({"every_seconds": 60, "start_at": "2026-01-10T11:59:30Z"}));
        assert_eq!(anchored.first_slot(now), Some(ms("2026-01-10T12:00:30Z")));
        let past_at = sched(json!({"at": "2020-01-01T00:00:00Z"}));
        assert_eq!(past_at.first_slot(now), Some(now));
        assert_eq!(past_at.next_after(now), None);
    }

    #[test]
    fn plan_on_time_fires_the_slot() {
        let s = sched(json!({"every_seconds": 10}));
        let p = s.plan(1_000_000, 1_000_500, 60_000);
        assert_eq!(p.fire, vec![1_000_000]);
        assert!(p.missed.is_empty());
        assert_eq!(p.next, Some(1_010_000));
        assert_eq!(s.plan(2_000, 1_000, 60_000), Plan { next: Some(2_000), ..Plan::default() });
    }

    #[test]
    fn plan_follows_the_missed_policy() {
        // Down from slot 100 s to 165 s: slots 100..=160 are due, 7 of them.
        let due = 100_000;
        let now = 165_000;
        let slots: Vec<i64> = (0..7).map(|i| due + i * 10_000).collect();
        let grace = 2_000;
        let skip = sched(json!({"every_seconds": 10, "missed": "skip"})).plan(due, now, grace);
        assert!(skip.fire.is_empty(), "the latest slot (160 s) is 5 s late, beyond the grace");
        assert_eq!(skip.missed, slots);
        assert_eq!(skip.next, Some(170_000));
        let once = sched(json!({"every_seconds": 10})).plan(due, now, grace);
        assert_eq!(once.fire, vec![160_000]);
        assert_eq!(once.missed, slots[..6].to_vec());
        let all = sched(json!({"every_seconds": 10, "missed": "run_all"})).plan(due, now, grace);
        assert_eq!(all.fire, slots);
        assert!(all.missed.is_empty());
        // On time, `skip` still fires the current slot.
        let skip_on_time = sched(json!({"every_seconds": 10, "missed": "skip"})).plan(due, 160_500, grace);
        assert_eq!(skip_on_time.fire, vec![160_000]);
        assert_eq!(skip_on_time.missed.len(), 6);
    }

    #[test]
    fn plan_bounds_catch_up_by_the_window() {
        let s = sched(json!({"every_seconds": 1, "missed": "run_all", "missed_window_seconds": 30}));
        let p = s.plan(0, 1_000_000, 1_000);
        assert!(p.beyond_window);
        assert_eq!(p.missed, vec![0]);
        assert_eq!(p.fire.len(), 31, "slots 970..=1000 s lie in the window");
        assert_eq!(p.fire.first(), Some(&970_000));
        assert_eq!(p.next, Some(1_001_000));
        let many = sched(json!({"every_seconds": 1, "missed": "run_all"})).plan(0, 500_000, 1_000);
        assert_eq!(many.fire.len(), MAX_CATCH_UP);
        assert_eq!(many.fire.last(), Some(&500_000));
    }

    #[test]
    fn at_fires_once_or_is_missed() {
        let at = sched(json!({"at": "2026-01-10T12:00:00Z"}));
        let t = ms("2026-01-10T12:00:00Z");
        assert_eq!(at.plan(t, t + 500, 60_000).fire, vec![t]);
        assert_eq!(at.plan(t, t + 500, 60_000).next, None);
        let late = at.plan(t, t + 3_600_000, 60_000);
        assert_eq!(late.fire, vec![t], "run_once runs a late one-time task");
        let skip = sched(json!({"at": "2026-01-10T12:00:00Z", "missed": "skip"})).plan(t, t + 3_600_000, 60_000);
        assert!(skip.fire.is_empty());
        assert_eq!(skip.missed, vec![t]);
    }
}
