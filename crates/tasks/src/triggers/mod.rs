//! Triggers (SPEC §7): rules that create tasks from a template when a schedule slot
//! comes, when a condition over the project's metrics holds, or when a signed webhook
//! arrives (`POST /api/v1/triggers/{id}/fire`). A cooldown keeps a condition that stays
//! true from flooding the project with tasks; every firing (and every refused webhook)
//! is kept in `trigger_firings`.

mod evaluator;
mod fire;
mod template;

pub use evaluator::{TriggerEvaluator, TriggerOptions};
pub use fire::{FireResult, Source, fire_now, new_secret, sign, verify_signature};
pub use template::fill;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value as Json;
use spgw_core::MasterKey;
use spgw_core::time::now_ms;
use spgw_store::repo::table::{self, Filter};
use spgw_store::{Db, Row, Value};

use crate::error::{Result, TaskError};
use crate::{conditions, schedule};

/// Cooldown of a condition trigger created without one: at most one task an hour.
pub const DEFAULT_CONDITION_COOLDOWN_SECONDS: i64 = 3600;

/// A trigger as the API shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TriggerRow {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub condition: Option<Json>,
    pub schedule: Option<Json>,
    pub task_template: Json,
    pub cooldown_seconds: i64,
    #[serde(serialize_with = "opt_time")]
    pub next_run_at: Option<i64>,
    #[serde(serialize_with = "opt_time")]
    pub last_fired_at: Option<i64>,
    #[serde(serialize_with = "opt_time")]
    pub last_evaluated_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    /// Where a signed webhook fires it.
    pub webhook_url: String,
    #[serde(serialize_with = "opt_time")]
    pub created_at: Option<i64>,
    #[serde(serialize_with = "opt_time")]
    pub updated_at: Option<i64>,
    #[serde(skip)]
    pub(crate) secret_enc: Option<String>,
}

fn opt_time<S: Serializer>(ms: &Option<i64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&spgw_core::time::to_rfc3339(*ms)),
        None => s.serialize_none(),
    }
}

impl TriggerRow {
    /// Decodes a `SELECT * FROM triggers` row.
    pub fn from_row(r: &Row) -> TriggerRow {
        let json = |c: &str| r.str(c).and_then(|s| serde_json::from_str::<Json>(s).ok());
        let id = r.i64("id").unwrap_or_default();
        TriggerRow {
            id,
            project_id: r.i64("project_id").unwrap_or_default(),
            name: r.str("name").unwrap_or_default().to_string(),
            description: r.str("description").map(str::to_owned),
            enabled: r.bool("enabled"),
            condition: json("condition_spec"),
            schedule: json("schedule"),
            task_template: json("task_template").unwrap_or(Json::Null),
            cooldown_seconds: r.i64("cooldown_seconds").unwrap_or_default(),
            next_run_at: r.i64("next_run_at"),
            last_fired_at: r.i64("last_fired_at"),
            last_evaluated_at: r.i64("last_evaluated_at"),
            last_error: r.str("last_error").map(str::to_owned),
            created_by: r.i64("created_by"),
            webhook_url: format!("/api/v1/triggers/{id}/fire"),
            created_at: r.i64("created_at"),
            updated_at: r.i64("updated_at"),
            secret_enc: r.str("webhook_secret_enc").map(str::to_owned),
        }
    }
}

/// A trigger to create.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewTrigger {
    pub project_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    /// A [condition](crate::conditions) checked periodically (or at each schedule slot).
    pub condition: Option<Json>,
    /// A [schedule](crate::schedule) (`at`, `cron`, `every_seconds`).
    pub schedule: Option<Json>,
    /// The task to create: `{title, description, tags, priority, max_attempts, limits, context, agent_id}`;
    /// strings may hold `{{payload.x}}`, `{{trigger.name}}`, `{{fired_at}}`, `{{source}}`.
    pub task_template: Json,
    /// Minimum seconds between two firings (default 0; 3600 for condition triggers).
    pub cooldown_seconds: Option<i64>,
    #[serde(skip)]
    pub created_by: Option<i64>,
}

/// Changes to a trigger; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct TriggerPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub condition: Option<Option<Json>>,
    pub schedule: Option<Option<Json>>,
    pub task_template: Option<Json>,
    pub cooldown_seconds: Option<i64>,
}

/// Which triggers to list.
#[derive(Debug, Clone, Default)]
pub struct TriggerFilter {
    pub project_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub enabled: Option<bool>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn check_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 191 {
        return Err(TaskError::invalid("name", "must be 1 to 191 characters"));
    }
    Ok(n.to_string())
}

fn check_cooldown(n: i64) -> Result<i64> {
    if !(0..=366 * 86_400).contains(&n) {
        return Err(TaskError::invalid("cooldown_seconds", "must be from 0 to 31622400"));
    }
    Ok(n)
}

fn json_text(v: Option<&Json>) -> Value {
    v.filter(|v| !v.is_null()).map(Json::to_string).into()
}

/// Creates a trigger. Returns it with its webhook secret, shown this once.
pub async fn create(db: &Db, key: &MasterKey, t: NewTrigger) -> Result<(TriggerRow, String)> {
    let name = check_name(&t.name)?;
    if db.fetch_optional("SELECT id FROM projects WHERE id = ?", &[t.project_id.into()]).await?.is_none() {
        return Err(TaskError::NotFound(format!("project {}", t.project_id)));
    }
    let cond = t.condition.as_ref().filter(|c| !c.is_null());
    if let Some(c) = cond {
        conditions::parse("condition", c)?;
    }
    let sched = schedule::parse(t.schedule.as_ref())?;
    template::validate(db, t.project_id, &t.task_template).await?;
    let default_cooldown = if cond.is_some() && sched.is_none() { DEFAULT_CONDITION_COOLDOWN_SECONDS } else { 0 };
    let cooldown = check_cooldown(t.cooldown_seconds.unwrap_or(default_cooldown))?;
    let secret = new_secret();
    let now = now_ms();
    let values: Vec<(&str, Value)> = vec![
        ("project_id", t.project_id.into()),
        ("name", name.into()),
        ("description", t.description.clone().into()),
        ("enabled", t.enabled.unwrap_or(true).into()),
        ("condition_spec", json_text(cond)),
        ("schedule", json_text(t.schedule.as_ref())),
        ("task_template", t.task_template.to_string().into()),
        ("cooldown_seconds", cooldown.into()),
        ("next_run_at", sched.and_then(|s| s.first_slot(now)).into()),
        ("webhook_secret_enc", key.encrypt(&secret).into()),
        ("created_by", t.created_by.into()),
        ("created_at", now.into()),
        ("updated_at", now.into()),
    ];
    let id = table::insert(db, "triggers", &values).await?;
    Ok((get(db, id).await?, secret))
}

/// One trigger.
pub async fn get(db: &Db, id: i64) -> Result<TriggerRow> {
    let row = table::find(db, "triggers", &[Filter::Eq("id", id.into())]).await?;
    row.map(|r| TriggerRow::from_row(&r)).ok_or_else(|| TaskError::NotFound(format!("trigger {id}")))
}

/// Lists triggers, newest first; returns the page and the total.
pub async fn list(db: &Db, f: &TriggerFilter) -> Result<(Vec<TriggerRow>, i64)> {
    let mut filters = Vec::new();
    if let Some(p) = f.project_id {
        filters.push(Filter::Eq("project_id", p.into()));
    }
    if let Some(e) = f.enabled {
        filters.push(Filter::Eq("enabled", e.into()));
    }
    if let Some(u) = f.owner_user_id {
        filters.push(Filter::Sql("project_id IN (SELECT id FROM projects WHERE user_id = ?)", vec![u.into()]));
    }
    let page = table::list(db, "triggers", &filters, f.limit.unwrap_or(50).clamp(1, 500), f.offset.unwrap_or(0).max(0))
        .await?;
    Ok((page.rows.iter().map(TriggerRow::from_row).collect(), page.total))
}

/// Applies a patch; a new schedule recomputes the next slot.
pub async fn update(db: &Db, id: i64, p: TriggerPatch) -> Result<TriggerRow> {
    let cur = get(db, id).await?;
    let mut cols: Vec<(&str, Value)> = Vec::new();
    if let Some(n) = &p.name {
        cols.push(("name", check_name(n)?.into()));
    }
    if let Some(d) = &p.description {
        cols.push(("description", d.clone().into()));
    }
    if let Some(e) = p.enabled {
        cols.push(("enabled", e.into()));
    }
    if let Some(c) = &p.condition {
        if let Some(c) = c.as_ref().filter(|c| !c.is_null()) {
            conditions::parse("condition", c)?;
        }
        cols.push(("condition_spec", json_text(c.as_ref())));
    }
    if let Some(s) = &p.schedule {
        let sched = schedule::parse(s.as_ref())?;
        cols.push(("schedule", json_text(s.as_ref())));
        cols.push(("next_run_at", sched.and_then(|s| s.first_slot(now_ms())).into()));
    }
    if let Some(t) = &p.task_template {
        template::validate(db, cur.project_id, t).await?;
        cols.push(("task_template", t.to_string().into()));
    }
    if let Some(c) = p.cooldown_seconds {
        cols.push(("cooldown_seconds", check_cooldown(c)?.into()));
    }
    if !cols.is_empty() {
        cols.push(("updated_at", now_ms().into()));
        table::update(db, "triggers", &cols, &[Filter::Eq("id", id.into())]).await?;
    }
    get(db, id).await
}

/// Deletes a trigger (its firing history goes with it; tasks it made stay).
pub async fn delete(db: &Db, id: i64) -> Result<()> {
    if table::delete(db, "triggers", &[Filter::Eq("id", id.into())]).await? == 0 {
        return Err(TaskError::NotFound(format!("trigger {id}")));
    }
    Ok(())
}

/// Replaces a trigger's webhook secret; returns the new one (shown once).
pub async fn rotate_secret(db: &Db, key: &MasterKey, id: i64) -> Result<String> {
    get(db, id).await?;
    let secret = new_secret();
    let cols = [("webhook_secret_enc", Value::from(key.encrypt(&secret))), ("updated_at", now_ms().into())];
    table::update(db, "triggers", &cols, &[Filter::Eq("id", id.into())]).await?;
    Ok(secret)
}

/// One row of a trigger's history.
#[derive(Debug, Clone, Serialize)]
pub struct TriggerFiring {
    pub id: i64,
    pub trigger_id: i64,
    /// `schedule`, `condition`, `webhook` or `manual`.
    pub source: String,
    /// `fired`, `cooldown`, `condition_false`, `disabled` or `error`.
    pub outcome: String,
    pub reason: Option<String>,
    pub task_id: Option<i64>,
    pub payload: Option<Json>,
    pub created_at: String,
}

/// A trigger's latest firings, newest first.
pub async fn firings(db: &Db, trigger_id: i64, limit: i64, offset: i64) -> Result<Vec<TriggerFiring>> {
    let rows = db
        .fetch_all(
            "SELECT * FROM trigger_firings WHERE trigger_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            &[trigger_id.into(), limit.clamp(1, 500).into(), offset.max(0).into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TriggerFiring {
            id: r.i64("id").unwrap_or_default(),
            trigger_id,
            source: r.str("source").unwrap_or_default().to_string(),
            outcome: r.str("outcome").unwrap_or_default().to_string(),
            reason: r.str("reason").map(str::to_owned),
            task_id: r.i64("task_id"),
            payload: r.str("payload").and_then(|s| serde_json::from_str(s).ok()),
            created_at: spgw_core::time::to_rfc3339(r.i64("created_at").unwrap_or_default()),
        })
        .collect())
}
