//! Conditions over a project's metrics, shared by triggers (`condition`) and
//! schedules (`when`): `{"metric": "failed_tasks", "hours": 24, "op": ">=", "value": 3}`,
//! combined with `{"all": [...]}`, `{"any": [...]}` and `{"not": {...}}`.
//!
//! Metrics (all scoped to the project):
//! - `failed_tasks` / `completed_tasks`: tasks that ended so in the last `hours` (default 24);
//! - `pending_tasks`: pending tasks created more than `older_than_minutes` ago (default 0);
//! - `running_tasks`: tasks running now;
//! - `spend_usd`: model spend in the last `hours` (default 24); `spend_today_usd`: since 00:00 UTC;
//! - `stale_documents`: living documents untouched for `days` (default 7), optionally one `title`.
//!
//! `op` is one of `>`, `>=`, `<`, `<=`, `==`, `!=` (default `>`); `value` defaults to 0, so
//! `{"metric": "pending_tasks"}` means "there is a pending task".

use serde_json::{Value as Json, json};
use spgw_store::{Db, Value};

use crate::error::{Result, TaskError};

const HOUR_MS: f64 = 3_600_000.0;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Check(Check),
}

/// One comparison of a metric with a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub metric: Metric,
    pub op: Op,
    pub value: f64,
}

/// What is measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    FailedTasks { hours: f64 },
    CompletedTasks { hours: f64 },
    PendingTasks { older_than_minutes: f64 },
    RunningTasks,
    SpendUsd { hours: f64 },
    SpendTodayUsd,
    StaleDocuments { days: f64, title: Option<String> },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            ">" | "gt" => Op::Gt,
            ">=" | "gte" => Op::Ge,
            "<" | "lt" => Op::Lt,
            "<=" | "lte" => Op::Le,
            "==" | "=" | "eq" => Op::Eq,
            "!=" | "ne" => Op::Ne,
            _ => return None,
        })
    }

    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Eq => (a - b).abs() < 1e-9,
            Op::Ne => (a - b).abs() >= 1e-9,
        }
    }
}

/// Parses a condition; `field` names it in errors (`condition`, `schedule.when`).
pub fn parse(field: &str, v: &Json) -> Result<Condition> {
    parse_depth(field, v, 0)
}

fn parse_depth(field: &str, v: &Json, depth: usize) -> Result<Condition> {
    let bad = |m: String| TaskError::invalid(field, m);
    if depth > 8 {
        return Err(bad("is nested too deeply (at most 8 levels)".into()));
    }
    let obj = v.as_object().ok_or_else(|| bad("must be an object such as {\"metric\": \"failed_tasks\"}".into()))?;
    for (key, make) in [("all", Condition::All as fn(Vec<Condition>) -> Condition), ("any", Condition::Any)] {
        if let Some(list) = obj.get(key) {
            let items = list
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| bad(format!("{key} must be a non-empty array")))?;
            let parsed = items.iter().map(|c| parse_depth(field, c, depth + 1)).collect::<Result<Vec<_>>>()?;
            return Ok(make(parsed));
        }
    }
    if let Some(inner) = obj.get("not") {
        return Ok(Condition::Not(Box::new(parse_depth(field, inner, depth + 1)?)));
    }
    let name = obj.get("metric").and_then(Json::as_str).ok_or_else(|| bad("needs metric, all, any or not".into()))?;
    let num = |key: &str, default: f64| -> Result<f64> {
        match obj.get(key) {
            None | Some(Json::Null) => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| bad(format!("{key} must be a non-negative number"))),
        }
    };
    let metric = match name {
        "failed_tasks" => Metric::FailedTasks { hours: num("hours", 24.0)? },
        "completed_tasks" => Metric::CompletedTasks { hours: num("hours", 24.0)? },
        "pending_tasks" => Metric::PendingTasks { older_than_minutes: num("older_than_minutes", 0.0)? },
        "running_tasks" => Metric::RunningTasks,
        "spend_usd" => Metric::SpendUsd { hours: num("hours", 24.0)? },
        "spend_today_usd" => Metric::SpendTodayUsd,
        "stale_documents" => Metric::StaleDocuments {
            days: num("days", 7.0)?,
            title: obj.get("title").and_then(Json::as_str).map(str::to_owned),
        },
        other => {
            return Err(bad(format!(
                "unknown metric {other:?}; metrics: failed_tasks, completed_tasks, pending_tasks, running_tasks, \
                 spend_usd, spend_today_usd, stale_documents"
            )));
        }
    };
    let op = match obj.get("op") {
        None | Some(Json::Null) => Op::Gt,
        Some(v) => v.as_str().and_then(Op::parse).ok_or_else(|| bad("op must be one of > >= < <= == !=".into()))?,
    };
    let value = match obj.get("value") {
        None | Some(Json::Null) => 0.0,
        Some(v) => v.as_f64().filter(|n| n.is_finite()).ok_or_else(|| bad("value must be a number".into()))?,
    };
    Ok(Condition::Check(Check { metric, op, value }))
}

/// The outcome of evaluating a condition: whether it holds, and what each metric measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub holds: bool,
    /// `[{"metric", "observed", "op", "value"}]`, for the firing history.
    pub observed: Vec<Json>,
}

/// Evaluates `c` for a project at time `now` (ms).
pub async fn evaluate(db: &Db, project_id: i64, c: &Condition, now: i64) -> Result<Evaluation> {
    let mut observed = Vec::new();
    let holds = eval(db, project_id, c, now, &mut observed).await?;
    Ok(Evaluation { holds, observed })
}

fn eval<'a>(
    db: &'a Db,
    pid: i64,
    c: &'a Condition,
    now: i64,
    observed: &'a mut Vec<Json>,
) -> futures::future::BoxFuture<'a, Result<bool>> {
    Box::pin(async move {
        Ok(match c {
            Condition::All(cs) => {
                for c in cs {
                    if !eval(db, pid, c, now, observed).await? {
                        return Ok(false);
                    }
                }
                true
            }
            Condition::Any(cs) => {
                for c in cs {
                    if eval(db, pid, c, now, observed).await? {
                        return Ok(true);
                    }
                }
                false
            }
            Condition::Not(c) => !eval(db, pid, c, now, observed).await?,
            Condition::Check(check) => {
                let got = measure(db, pid, &check.metric, now).await?;
                // Counts read better as integers ("2 failures", not "2.0").
                let shown = if got.fract() == 0.0 && got.abs() < 9e15 { json!(got as i64) } else { json!(got) };
                observed.push(json!({"metric": metric_name(&check.metric), "observed": shown,
                    "op": op_name(check.op), "value": check.value}));
                check.op.holds(got, check.value)
            }
        })
    })
}

/// Measures one metric of a project.
pub async fn measure(db: &Db, pid: i64, m: &Metric, now: i64) -> Result<f64> {
    let since = |hours: f64| now - (hours * HOUR_MS) as i64;
    let (sql, args): (&str, Vec<Value>) = match m {
        Metric::FailedTasks { hours } => (
            "SELECT COUNT(*) AS n FROM tasks WHERE project_id = ? AND status = 'failed' AND finished_at >= ?",
            vec![pid.into(), since(*hours).into()],
        ),
        Metric::CompletedTasks { hours } => (
            "SELECT COUNT(*) AS n FROM tasks WHERE project_id = ? AND status = 'completed' AND finished_at >= ?",
            vec![pid.into(), since(*hours).into()],
        ),
        Metric::PendingTasks { older_than_minutes } => (
            "SELECT COUNT(*) AS n FROM tasks WHERE project_id = ? AND status = 'pending' AND deleted_at IS NULL \
             AND created_at <= ?",
            vec![pid.into(), (now - (older_than_minutes * 60_000.0) as i64).into()],
        ),
        Metric::RunningTasks => {
            ("SELECT COUNT(*) AS n FROM tasks WHERE project_id = ? AND status = 'running'", vec![pid.into()])
        }
        Metric::SpendUsd { hours } => (
            "SELECT COALESCE(SUM(cost_usd), 0) AS n FROM request_log WHERE project_id = ? AND created_at >= ?",
            vec![pid.into(), since(*hours).into()],
        ),
        Metric::SpendTodayUsd => (
            "SELECT COALESCE(SUM(cost_usd), 0) AS n FROM request_log WHERE project_id = ? AND created_at >= ?",
            vec![pid.into(), (now - now.rem_euclid(24 * HOUR_MS as i64)).into()],
        ),
        Metric::StaleDocuments { days, title: None } => (
            "SELECT COUNT(*) AS n FROM documents WHERE project_id = ? AND updated_at <= ?",
            vec![pid.into(), since(days * 24.0).into()],
        ),
        Metric::StaleDocuments { days, title: Some(t) } => (
            "SELECT COUNT(*) AS n FROM documents WHERE project_id = ? AND updated_at <= ? AND title = ?",
            vec![pid.into(), since(days * 24.0).into(), t.as_str().into()],
        ),
    };
    Ok(db.fetch_optional(sql, &args).await?.and_then(|r| r.f64("n")).unwrap_or(0.0))
}

fn metric_name(m: &Metric) -> &'static str {
    match m {
        Metric::FailedTasks { .. } => "failed_tasks",
        Metric::CompletedTasks { .. } => "completed_tasks",
        Metric::PendingTasks { .. } => "pending_tasks",
        Metric::RunningTasks => "running_tasks",
        Metric::SpendUsd { .. } => "spend_usd",
        Metric::SpendTodayUsd => "spend_today_usd",
        Metric::StaleDocuments { .. } => "stale_documents",
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Eq => "==",
        Op::Ne => "!=",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_conditions() {
        let c = parse(
            "condition",
            &json!({"all": [{"metric": "failed_tasks", "hours": 2, "op": ">=", "value": 3},
                            {"not": {"metric": "running_tasks"}}]}),
        )
        .unwrap();
        let Condition::All(items) = c else { panic!("not all") };
        assert_eq!(
            items[0],
            Condition::Check(Check { metric: Metric::FailedTasks { hours: 2.0 }, op: Op::Ge, value: 3.0 })
        );
        assert!(matches!(items[1], Condition::Not(_)));
    }

    #[test]
    fn rejects_unknown_metrics_and_ops() {
        let e = parse("condition", &json!({"metric": "moon_phase"})).unwrap_err();
        assert!(e.to_string().contains("unknown metric"), "{e}");
        assert!(parse("condition", &json!({"metric": "running_tasks", "op": "~"})).is_err());
        assert!(parse("condition", &json!({"all": []})).is_err());
        assert!(parse("condition", &json!("x")).is_err());
    }

    #[test]
    fn ops_compare() {
        assert!(Op::Gt.holds(1.0, 0.0) && !Op::Gt.holds(0.0, 0.0));
        assert!(Op::Ge.holds(3.0, 3.0) && Op::Le.holds(3.0, 3.0) && Op::Eq.holds(3.0, 3.0));
        assert!(Op::Ne.holds(1.0, 2.0) && Op::Lt.holds(1.0, 2.0));
    }
}
