//! The scheduler: a background worker that fires due schedules.
//!
//! A firing of a one-time (`at`) task makes the task itself `pending`. A firing of a
//! recurring (cron, interval) task creates an *occurrence*: a child task
//! (`kind = scheduled`, `parent_task_id` = the recurring task, `schedule_slot` = the
//! slot) that the executor runs like any other task, while the recurring task stays
//! `scheduled` with its `next_run_at` moved on. Every slot, fired or not, is one row in
//! the ledger (`schedule_firings`, unique per schedule and slot), written in the same
//! transaction as the occurrence and the compare-and-set of `next_run_at`, so a slot
//! fires at most once however many gateway processes run this loop.

use std::time::Duration;

use serde_json::{Value as Json, json};
use spgw_core::time::{now_ms, to_rfc3339};
use spgw_store::repo::settings::Settings;
use spgw_store::repo::table;
use spgw_store::{Db, Tx, Value};
use tokio_util::sync::CancellationToken;

use crate::conditions;
use crate::error::Result;
use crate::ledger::{self, Outcome};
use crate::model::TaskRow;
use crate::schedule::{self, Plan, Schedule};

/// Most missed slots written to the ledger per catch-up (the rest are summarised).
const MAX_MISSED_ROWS: usize = 100;

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// How often due schedules are looked for.
    pub tick: Duration,
    /// A slot this late (ms) still counts as on time.
    pub grace_ms: i64,
    /// Most schedules handled per tick.
    pub batch: i64,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions { tick: Duration::from_secs(1), grace_ms: 60_000, batch: 200 }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Runs created (occurrences, or one-time tasks made pending).
    pub fired: usize,
    pub missed: usize,
    pub skipped: usize,
}

/// Fires due task schedules.
#[derive(Clone)]
pub struct Scheduler {
    db: Db,
    worker: String,
    opts: SchedulerOptions,
    settings: Option<Settings>,
}

impl Scheduler {
    /// A scheduler writing the ledger as `worker`.
    pub fn new(db: Db, worker: impl Into<String>, opts: SchedulerOptions) -> Self {
        Scheduler { db, worker: worker.into(), opts, settings: None }
    }

    /// Reads `tasks.missed_grace_seconds` from runtime settings (on every tick).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    async fn grace_ms(&self) -> i64 {
        match &self.settings {
            Some(s) => {
                let secs = s.float("tasks.missed_grace_seconds", self.opts.grace_ms as f64 / 1000.0).await;
                (secs.clamp(0.0, 86_400.0) * 1000.0) as i64
            }
            None => self.opts.grace_ms,
        }
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
                tracing::warn!(error = %e, "scheduler tick failed");
            }
        }
    }

    /// Handles every schedule due at `now` (ms); public so tests can drive the clock.
    pub async fn tick(&self, now: i64) -> Result<TickReport> {
        let rows = self
            .db
            .fetch_all(
                "SELECT * FROM tasks WHERE status = 'scheduled' AND next_run_at <= ? AND deleted_at IS NULL \
                 ORDER BY next_run_at LIMIT ?",
                &[now.into(), self.opts.batch.into()],
            )
            .await?;
        let mut report = TickReport::default();
        let grace = if rows.is_empty() { 0 } else { self.grace_ms().await };
        for r in &rows {
            let task = TaskRow::from_row(r);
            match self.fire(&task, now, grace).await {
                Ok(Some(r)) => {
                    report.fired += r.fired;
                    report.missed += r.missed;
                    report.skipped += r.skipped;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(task_id = task.id, error = %e, "cannot fire schedule"),
            }
        }
        Ok(report)
    }

    /// Fires one due task; `None` when another process got there first.
    async fn fire(&self, task: &TaskRow, now: i64, grace: i64) -> Result<Option<TickReport>> {
        let Some(due) = task.next_run_at else { return Ok(None) };
        let Some(sched) = schedule::parse(task.schedule.as_ref()).ok().flatten() else {
            // A `scheduled` task without a usable schedule (set by hand): run it now.
            let cols = [("status", Value::from("pending")), ("next_run_at", Value::Null)];
            table::update(&self.db, "tasks", &cols, &[table::Filter::Eq("id", task.id.into())]).await?;
            return Ok(None);
        };
        let plan = sched.plan(due, now, grace);
        let mut skip_reason = None;
        if !plan.fire.is_empty() {
            skip_reason = self.skip_reason(task, &sched, &plan, now).await?;
        }
        let mut tx = self.db.begin().await?;
        // Compare-and-set on the slot we read: exactly one process moves the schedule on.
        let moved = self.advance(&mut tx, task, &sched, &plan, skip_reason.is_some(), due, now).await?;
        if !moved {
            return Ok(None);
        }
        let key = ledger::task_key(task.id);
        let mut report = TickReport::default();
        let missed_reason = missed_reason(&sched, &plan);
        let skip_from = plan.missed.len().saturating_sub(MAX_MISSED_ROWS);
        for (i, slot) in plan.missed.iter().enumerate().skip(skip_from) {
            let reason = if i == skip_from && skip_from > 0 {
                format!("{missed_reason}; {skip_from} earlier missed slots not listed")
            } else {
                missed_reason.clone()
            };
            ledger::claim(&mut tx, &key, *slot, Outcome::Missed, Some(&reason), &self.worker).await?;
            report.missed += 1;
        }
        let catch_up = plan.fire.len() > 1 || plan.fire.first().is_some_and(|s| now - s > grace);
        for slot in &plan.fire {
            if let Some(why) = &skip_reason {
                ledger::claim(&mut tx, &key, *slot, Outcome::Skipped, Some(why), &self.worker).await?;
                report.skipped += 1;
                continue;
            }
            let reason = catch_up.then(|| format!("late run (missed policy {})", policy_name(&sched)));
            if !ledger::claim(&mut tx, &key, *slot, Outcome::Fired, reason.as_deref(), &self.worker).await? {
                tracing::warn!(task_id = task.id, slot = %to_rfc3339(*slot), "slot already in the ledger; not firing it again");
                continue;
            }
            let run_id = if sched.is_recurring() { occurrence(&mut tx, task, *slot, now).await? } else { task.id };
            ledger::link(&mut tx, &key, *slot, run_id).await?;
            report.fired += 1;
        }
        tx.commit().await?;
        if report.fired > 0 {
            tracing::info!(task_id = task.id, fired = report.fired, missed = report.missed, "schedule fired");
        }
        Ok(Some(report))
    }

    /// Why the due slots must not run: a false `when` condition, or an unfinished earlier run.
    async fn skip_reason(&self, task: &TaskRow, sched: &Schedule, plan: &Plan, now: i64) -> Result<Option<String>> {
        if let Some(c) = &sched.condition {
            let ev = conditions::evaluate(&self.db, task.project_id, c, now).await?;
            if !ev.holds {
                return Ok(Some(format!("nothing to do: when-condition false ({})", Json::Array(ev.observed))));
            }
        }
        // A catch-up batch (`run_all`) was asked for explicitly; overlap applies to single slots.
        if sched.is_recurring() && !sched.allow_overlap && plan.fire.len() == 1 {
            let open = self
                .db
                .fetch_optional(
                    "SELECT COUNT(*) AS n FROM tasks WHERE parent_task_id = ? AND schedule_slot IS NOT NULL \
                     AND status IN ('pending', 'running')",
                    &[task.id.into()],
                )
                .await?
                .and_then(|r| r.i64("n"))
                .unwrap_or(0);
            if open > 0 {
                return Ok(Some("the previous run is still pending or running (overlap: skip)".into()));
            }
        }
        Ok(None)
    }

    /// Moves the schedule past the handled slots; false when another process already did.
    #[allow(clippy::too_many_arguments)]
    async fn advance(
        &self,
        tx: &mut Tx,
        task: &TaskRow,
        sched: &Schedule,
        plan: &Plan,
        skipped: bool,
        due: i64,
        now: i64,
    ) -> Result<bool> {
        let (sql, args): (&str, Vec<Value>) = if sched.is_recurring() {
            match plan.next {
                Some(next) => (
                    "UPDATE tasks SET next_run_at = ?, updated_at = ? \
                     WHERE id = ? AND status = 'scheduled' AND deleted_at IS NULL AND next_run_at = ?",
                    vec![next.into(), now.into(), task.id.into(), due.into()],
                ),
                None => (
                    "UPDATE tasks SET status = 'completed', status_reason = 'the schedule has no further slots', \
                     next_run_at = NULL, finished_at = ?, updated_at = ? \
                     WHERE id = ? AND status = 'scheduled' AND deleted_at IS NULL AND next_run_at = ?",
                    vec![now.into(), now.into(), task.id.into(), due.into()],
                ),
            }
        } else if let (Some(slot), false) = (plan.fire.first(), skipped) {
            (
                "UPDATE tasks SET status = 'pending', next_run_at = NULL, schedule_slot = ?, updated_at = ? \
                 WHERE id = ? AND status = 'scheduled' AND deleted_at IS NULL AND next_run_at = ?",
                vec![(*slot).into(), now.into(), task.id.into(), due.into()],
            )
        } else if skipped {
            (
                "UPDATE tasks SET status = 'completed', status_reason = 'skipped: nothing to do at its time', \
                 next_run_at = NULL, finished_at = ?, updated_at = ? \
                 WHERE id = ? AND status = 'scheduled' AND deleted_at IS NULL AND next_run_at = ?",
                vec![now.into(), now.into(), task.id.into(), due.into()],
            )
        } else {
            (
                "UPDATE tasks SET status = 'cancelled', \
                 status_reason = 'missed its time while no gateway was running (missed policy skip)', \
                 next_run_at = NULL, finished_at = ?, updated_at = ? \
                 WHERE id = ? AND status = 'scheduled' AND deleted_at IS NULL AND next_run_at = ?",
                vec![now.into(), now.into(), task.id.into(), due.into()],
            )
        };
        Ok(tx.execute(sql, &args).await?.rows_affected == 1)
    }
}

fn policy_name(s: &Schedule) -> &'static str {
    match s.missed {
        schedule::Missed::Skip => "skip",
        schedule::Missed::RunOnce => "run_once",
        schedule::Missed::RunAll => "run_all",
    }
}

fn missed_reason(s: &Schedule, plan: &Plan) -> String {
    let mut r = format!("no gateway ran this slot in time (missed policy {})", policy_name(s));
    if plan.beyond_window {
        r.push_str("; older than the catch-up window");
    }
    r
}

/// Creates the occurrence of a recurring task for `slot`.
async fn occurrence(tx: &mut Tx, t: &TaskRow, slot: i64, now: i64) -> Result<i64> {
    let stamp = json!({"task_id": t.id, "slot": to_rfc3339(slot)});
    let context = match t.context.clone() {
        Some(Json::Object(mut m)) => {
            m.insert("schedule".into(), stamp);
            Json::Object(m)
        }
        Some(other) => json!({"value": other, "schedule": stamp}),
        None => json!({"schedule": stamp}),
    };
    let values: Vec<(&str, Value)> = vec![
        ("project_id", t.project_id.into()),
        ("parent_task_id", t.id.into()),
        ("title", t.title.clone().into()),
        ("description", t.description.clone().into()),
        ("tags", json!(t.tags).to_string().into()),
        ("kind", "scheduled".into()),
        ("status", "pending".into()),
        ("schedule_slot", slot.into()),
        ("priority", t.priority.into()),
        ("agent_id", t.agent_id.into()),
        ("max_attempts", t.max_attempts.into()),
        ("limits", t.limits.as_ref().map(Json::to_string).into()),
        ("context", context.to_string().into()),
        ("created_by", t.created_by.into()),
        ("created_by_agent", t.created_by_agent.into()),
        ("trigger_id", t.trigger_id.into()),
        ("created_at", now.into()),
        ("updated_at", now.into()),
    ];
    Ok(table::insert_tx(tx, "tasks", &values).await?)
}
