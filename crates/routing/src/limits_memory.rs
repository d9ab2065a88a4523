//! Limit counters in this process's memory: one small record per key or user
//! in a sharded map, each behind its own mutex, so a check is a hash lookup and
//! a few integer compares. A call counted against a key and its user takes both
//! locks, always key first, so the check and the count are one atomic step.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use spgw_core::FastMap;
use spgw_store::Db;

use crate::RouteError;
use crate::limits::{LimitKind, LimitRefusal, Rules, Subject, Subjects, Windows, logged_spend};

const SHARDS: usize = 16;

/// One subject's counters in the current windows.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    minute: i64,
    requests: i64,
    tokens: i64,
    /// The day and month the spend below belongs to; `None` until read from the request log.
    day: Option<i64>,
    day_nusd: i64,
    month: Option<i64>,
    month_nusd: i64,
}

impl Counters {
    fn roll_minute(&mut self, w: &Windows) {
        if self.minute != w.minute {
            self.minute = w.minute;
            self.requests = 0;
            self.tokens = 0;
        }
    }

    fn budgets_known(&self, w: &Windows) -> bool {
        self.day == Some(w.day) && self.month == Some(w.month)
    }

    /// Takes the logged spend; within the same window keeps whichever is larger,
    /// so a concurrent load never erases charges made meanwhile.
    fn load(&mut self, w: &Windows, day_nusd: i64, month_nusd: i64) {
        if self.day == Some(w.day) {
            self.day_nusd = self.day_nusd.max(day_nusd);
        } else {
            self.day = Some(w.day);
            self.day_nusd = day_nusd;
        }
        if self.month == Some(w.month) {
            self.month_nusd = self.month_nusd.max(month_nusd);
        } else {
            self.month = Some(w.month);
            self.month_nusd = month_nusd;
        }
    }

    /// The first limit a new call would break: (kind, used, limit).
    fn check(&mut self, r: &Rules, w: &Windows) -> Option<(LimitKind, i64, i64)> {
        self.roll_minute(w);
        if r.rpm >= 0 && self.requests + 1 > r.rpm {
            return Some((LimitKind::Rpm, self.requests, r.rpm));
        }
        if r.tpm >= 0 && self.tokens >= r.tpm {
            return Some((LimitKind::Tpm, self.tokens, r.tpm));
        }
        if r.day >= 0 && self.day_nusd >= r.day {
            return Some((LimitKind::UsdPerDay, self.day_nusd, r.day));
        }
        if r.month >= 0 && self.month_nusd >= r.month {
            return Some((LimitKind::UsdPerMonth, self.month_nusd, r.month));
        }
        None
    }

    fn charge(&mut self, w: &Windows, tokens: i64, nusd: i64) {
        self.roll_minute(w);
        self.tokens += tokens;
        if self.day == Some(w.day) {
            self.day_nusd += nusd;
        }
        if self.month == Some(w.month) {
            self.month_nusd += nusd;
        }
    }
}

type Slot = Arc<Mutex<Counters>>;

/// Counters of every subject seen with limits.
pub(crate) struct MemoryCounters {
    shards: Box<[RwLock<FastMap<Subject, Slot>>; SHARDS]>,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        MemoryCounters { shards: Box::new(std::array::from_fn(|_| RwLock::new(FastMap::default()))) }
    }
}

fn lock(slot: &Slot) -> MutexGuard<'_, Counters> {
    // A panic while holding the lock leaves plain integers behind; they are still usable.
    slot.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryCounters {
    fn shard(&self, s: Subject) -> &RwLock<FastMap<Subject, Slot>> {
        let i = match s {
            Subject::ApiKey(id) => id.wrapping_mul(2),
            Subject::User(id) => id.wrapping_mul(2) + 1,
        };
        &self.shards[i.rem_euclid(SHARDS as i64) as usize]
    }

    fn existing(&self, s: Subject) -> Option<Slot> {
        self.shard(s).read().ok()?.get(&s).cloned()
    }

    fn slot(&self, s: Subject) -> Slot {
        if let Some(slot) = self.existing(s) {
            return slot;
        }
        match self.shard(s).write() {
            Ok(mut map) => map.entry(s).or_default().clone(),
            Err(_) => Slot::default(),
        }
    }

    /// Checks and, when allowed, counts one call against every subject.
    pub async fn admit(&self, db: &Db, subjects: &Subjects, w: &Windows) -> Result<Option<LimitRefusal>, RouteError> {
        let mut slots: [Option<(Subject, Rules, Slot)>; 2] = [None, None];
        for (i, (s, rules)) in subjects.iter().enumerate() {
            let slot = self.slot(*s);
            let known = lock(&slot).budgets_known(w);
            if rules.budgets() && !known {
                let (day, month) = logged_spend(db, *s, w).await?;
                lock(&slot).load(w, day, month);
            }
            slots[i] = Some((*s, *rules, slot));
        }
        let mut guards: [Option<(Subject, Rules, MutexGuard<'_, Counters>)>; 2] = [None, None];
        for (g, item) in guards.iter_mut().zip(slots.iter()) {
            if let Some((s, rules, slot)) = item {
                *g = Some((*s, *rules, lock(slot)));
            }
        }
        for (s, rules, c) in guards.iter_mut().flatten() {
            if let Some((kind, used, limit)) = c.check(rules, w) {
                return Ok(Some(LimitRefusal::new(*s, kind, used, limit, w)));
            }
        }
        for (_, _, c) in guards.iter_mut().flatten() {
            c.requests += 1;
        }
        Ok(None)
    }

    /// Charges tokens and nano-USD after a call.
    pub fn record(&self, subjects: &Subjects, w: &Windows, tokens: i64, nusd: i64) {
        for (s, _) in subjects.iter() {
            if let Some(slot) = self.existing(*s) {
                lock(&slot).charge(w, tokens, nusd);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Windows {
        Windows::at(ms)
    }

    #[test]
    fn rpm_counts_per_minute_and_resets_with_the_next() {
        let rules = Rules { rpm: 2, tpm: -1, day: -1, month: -1 };
        let mut c = Counters::default();
        let w = at(1_800_000_000_000);
        for _ in 0..2 {
            assert_eq!(c.check(&rules, &w), None);
            c.requests += 1;
        }
        assert_eq!(c.check(&rules, &w), Some((LimitKind::Rpm, 2, 2)));
        let next = at(w.minute_end_ms);
        assert_eq!(c.check(&rules, &next), None, "a new minute starts from zero");
    }

    #[test]
    fn tokens_and_budgets_refuse_once_reached() {
        let w = at(1_800_000_000_000);
        let mut c = Counters::default();
        c.load(&w, 0, 5);
        let tpm = Rules { rpm: -1, tpm: 100, day: -1, month: -1 };
        c.charge(&w, 99, 0);
        assert_eq!(c.check(&tpm, &w), None);
        c.charge(&w, 1, 0);
        assert_eq!(c.check(&tpm, &w), Some((LimitKind::Tpm, 100, 100)));

        let budget = Rules { rpm: -1, tpm: -1, day: 1_000, month: 10_000 };
        c.charge(&w, 0, 999);
        assert_eq!(c.check(&budget, &w), None);
        c.charge(&w, 0, 1);
        assert_eq!(c.check(&budget, &w), Some((LimitKind::UsdPerDay, 1_000, 1_000)));
        // The next day starts unknown (it must be read from the log again) and the month carries on.
        let tomorrow = at(w.day_end_ms + 1);
        assert!(!c.budgets_known(&tomorrow));
        c.load(&tomorrow, 0, 0);
        assert_eq!(c.month_nusd, 1_005, "the month keeps its spend: {c:?}");
    }

    #[test]
    fn a_second_load_in_the_same_window_never_lowers_the_spend() {
        let w = at(1_800_000_000_000);
        let mut c = Counters::default();
        c.load(&w, 10, 10);
        c.charge(&w, 0, 5);
        c.load(&w, 10, 10);
        assert_eq!((c.day_nusd, c.month_nusd), (15, 15));
    }
}
