//! The trigger evaluator: a background worker that fires scheduled triggers at their
//! slots (through the same ledger as task schedules, so a slot fires once across
//! processes) and evaluates condition triggers every `interval`.

use std::time::Duration;

use serde_json::Value as Json;
use spgw_core::time::now_ms;
use spgw_store::Db;
use spgw_store::repo::settings::Settings;
use tokio_util::sync::CancellationToken;

use super::TriggerRow;
use super::fire::{FireResult, Source, fire_in, record};
use crate::conditions;
use crate::error::Result;
use crate::ledger::{self, Outcome};
use crate::schedule;

/// Evaluator settings.
#[derive(Debug, Clone)]
pub struct TriggerOptions {
    /// How often scheduled triggers are looked at.
    pub tick: Duration,
    /// How often each condition trigger is evaluated.
    pub interval: Duration,
    /// A slot this late (ms) still counts as on time.
    pub grace_ms: i64,
}

impl Default for TriggerOptions {
    fn default() -> Self {
        TriggerOptions { tick: Duration::from_secs(1), interval: Duration::from_secs(30), grace_ms: 60_000 }
    }
}

/// Fires triggers whose slot came or whose condition holds.
#[derive(Clone)]
pub struct TriggerEvaluator {
    db: Db,
    worker: String,
    opts: TriggerOptions,
    settings: Option<Settings>,
}

impl TriggerEvaluator {
    /// An evaluator writing the ledger as `worker`.
    pub fn new(db: Db, worker: impl Into<String>, opts: TriggerOptions) -> Self {
        TriggerEvaluator { db, worker: worker.into(), opts, settings: None }
    }

    /// Reads `tasks.trigger_interval_seconds` from runtime settings (on every tick).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    async fn interval_ms(&self) -> i64 {
        let default = self.opts.interval.as_secs_f64();
        let secs = match &self.settings {
            Some(s) => s.float("tasks.trigger_interval_seconds", default).await,
            None => default,
        };
        (secs.clamp(0.1, 86_400.0) * 1000.0) as i64
    }

    /// Runs until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.opts.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.tick(now_ms()).await {
                tracing::warn!(error = %e, "trigger evaluation failed");
            }
        }
    }

    /// Handles what is due at `now`; returns how many tasks were created.
    pub async fn tick(&self, now: i64) -> Result<usize> {
        let mut fired = 0;
        let due = self
            .db
            .fetch_all(
                "SELECT * FROM triggers WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ? \
                 ORDER BY next_run_at LIMIT 100",
                &[now.into()],
            )
            .await?;
        for r in &due {
            let t = TriggerRow::from_row(r);
            match self.fire_scheduled(&t, now).await {
                Ok(n) => fired += n,
                Err(e) => tracing::warn!(trigger_id = t.id, error = %e, "cannot fire scheduled trigger"),
            }
        }
        let interval_ms = self.interval_ms().await;
        let watched = self
            .db
            .fetch_all(
                "SELECT * FROM triggers WHERE enabled = 1 AND schedule IS NULL AND condition_spec IS NOT NULL \
                 AND (last_evaluated_at IS NULL OR last_evaluated_at <= ?) ORDER BY id LIMIT 500",
                &[(now - interval_ms).into()],
            )
            .await?;
        for r in &watched {
            let t = TriggerRow::from_row(r);
            match self.fire_condition(&t, now, interval_ms).await {
                Ok(true) => fired += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(trigger_id = t.id, error = %e, "cannot evaluate trigger"),
            }
        }
        Ok(fired)
    }

    async fn fire_condition(&self, t: &TriggerRow, now: i64, interval_ms: i64) -> Result<bool> {
        // Several processes evaluate the same triggers; half an interval keeps them from each firing.
        let cooldown_ms = (t.cooldown_seconds * 1000).max(interval_ms / 2);
        if t.last_fired_at.is_some_and(|l| l > now - cooldown_ms) {
            return Ok(false);
        }
        self.db.execute("UPDATE triggers SET last_evaluated_at = ? WHERE id = ?", &[now.into(), t.id.into()]).await?;
        let Some(cond) = t.condition.as_ref().and_then(|c| conditions::parse("condition", c).ok()) else {
            return Ok(false);
        };
        let ev = conditions::evaluate(&self.db, t.project_id, &cond, now).await?;
        if !ev.holds {
            return Ok(false);
        }
        let mut tx = self.db.begin().await?;
        let r =
            fire_in(&self.db, &mut tx, t, Source::Condition, Json::Null, ev.observed, cooldown_ms, false, now).await?;
        tx.commit().await?;
        Ok(r.fired)
    }

    async fn fire_scheduled(&self, t: &TriggerRow, now: i64) -> Result<usize> {
        let Some(due) = t.next_run_at else { return Ok(0) };
        let Some(sched) = schedule::parse(t.schedule.as_ref()).ok().flatten() else {
            self.db.execute("UPDATE triggers SET next_run_at = NULL WHERE id = ?", &[t.id.into()]).await?;
            return Ok(0);
        };
        let plan = sched.plan(due, now, self.opts.grace_ms);
        // The trigger's condition gates its slots, as a task's `when` does.
        let mut gate: Option<(bool, Vec<Json>)> = None;
        if !plan.fire.is_empty()
            && let Some(c) = t.condition.as_ref().and_then(|c| conditions::parse("condition", c).ok())
        {
            let ev = conditions::evaluate(&self.db, t.project_id, &c, now).await?;
            gate = Some((ev.holds, ev.observed));
        }
        let mut tx = self.db.begin().await?;
        let moved = tx
            .execute(
                "UPDATE triggers SET next_run_at = ? WHERE id = ? AND enabled = 1 \
                 AND next_run_at = ?",
                &[plan.next.into(), t.id.into(), due.into()],
            )
            .await?
            .rows_affected
            == 1;
        if !moved {
            return Ok(0);
        }
        let key = ledger::trigger_key(t.id);
        for slot in plan.missed.iter().rev().take(100) {
            ledger::claim(
                &mut tx,
                &key,
                *slot,
                Outcome::Missed,
                Some("no gateway ran this slot in time"),
                &self.worker,
            )
            .await?;
        }
        let mut fired = 0;
        for slot in &plan.fire {
            if !ledger::claim(&mut tx, &key, *slot, Outcome::Fired, None, &self.worker).await? {
                continue;
            }
            let observed = match &gate {
                Some((false, observed)) => {
                    let why = format!("condition false: {}", Json::Array(observed.clone()));
                    ledger::settle(&mut tx, &key, *slot, Outcome::Skipped, Some(&why), None).await?;
                    let r = FireResult { fired: false, task_id: None, outcome: "condition_false", reason: Some(why) };
                    record(&mut tx, t.id, Source::Schedule, &r, None, now).await?;
                    continue;
                }
                Some((true, observed)) => observed.clone(),
                None => Vec::new(),
            };
            let r = fire_in(
                &self.db,
                &mut tx,
                t,
                Source::Schedule,
                Json::Null,
                observed,
                t.cooldown_seconds * 1000,
                true,
                now,
            )
            .await?;
            if r.fired {
                ledger::link(&mut tx, &key, *slot, r.task_id.unwrap_or_default()).await?;
                fired += 1;
            } else {
                ledger::settle(&mut tx, &key, *slot, Outcome::Skipped, r.reason.as_deref(), None).await?;
            }
        }
        tx.commit().await?;
        Ok(fired)
    }
}
