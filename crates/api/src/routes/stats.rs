//! `GET /api/v1/stats`: the request log aggregated over time and by one
//! dimension (provider, model, project, API key, user, agent), for the
//! dashboard. One grouped SQL query does the work; the log's
//! `(…, created_at)` indexes serve it.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Extension, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use spgw_store::{Row, Value as V};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Query of `GET /api/v1/stats`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// Start, RFC 3339 (default: 24 hours before `to`).
    pub from: Option<String>,
    /// End, RFC 3339, exclusive (default: now).
    pub to: Option<String>,
    /// Bucket width: `minute`, `hour` or `day` (default: `hour` up to two days, else `day`).
    pub bucket: Option<String>,
    /// `provider` (default), `model`, `project`, `api_key`, `user` or `agent`.
    pub group_by: Option<String>,
    /// The viewer's offset from UTC in minutes (east positive), so day buckets start at local midnight.
    pub tz_offset_minutes: Option<i64>,
    /// Only requests made for this project.
    pub project_id: Option<i64>,
    /// Only calls to this provider.
    pub provider: Option<String>,
    /// Only calls to this model code.
    pub model: Option<String>,
    /// Only requests made with this gateway API key.
    pub api_key_id: Option<i64>,
}

/// The dimension rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq)]
enum GroupBy {
    Provider,
    Model,
    Project,
    ApiKey,
    User,
    Agent,
}

impl GroupBy {
    fn parse(s: Option<&str>) -> ApiResult<Self> {
        Ok(match s.unwrap_or("provider") {
            "provider" => GroupBy::Provider,
            "model" => GroupBy::Model,
            "project" => GroupBy::Project,
            "api_key" => GroupBy::ApiKey,
            "user" => GroupBy::User,
            "agent" => GroupBy::Agent,
            other => {
                return Err(ApiError::field(
                    "group_by",
                    format!("must be provider, model, project, api_key, user or agent, not {other:?}"),
                ));
            }
        })
    }

    /// The grouping columns and, for id columns, the table holding their names.
    fn columns(self) -> (&'static str, Option<(&'static str, &'static str)>) {
        match self {
            GroupBy::Provider => ("provider", None),
            GroupBy::Model => ("provider, model", None),
            GroupBy::Project => ("project_id", Some(("projects", "name"))),
            GroupBy::ApiKey => ("api_key_id", Some(("gateway_api_keys", "name"))),
            GroupBy::User => ("user_id", Some(("users", "username"))),
            GroupBy::Agent => ("agent_id", Some(("agents", "name"))),
        }
    }

    fn key(self, r: &Row) -> String {
        match self {
            GroupBy::Provider => r.str("provider").unwrap_or_default().to_string(),
            GroupBy::Model => {
                format!("{}/{}", r.str("provider").unwrap_or_default(), r.str("model").unwrap_or_default())
            }
            _ => r.i64(self.columns().0).map(|i| i.to_string()).unwrap_or_default(),
        }
    }
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Enough points for any chart; more is a mistake in the query.
const MAX_BUCKETS: i64 = 2_000;

fn time_param(name: &str, raw: Option<&str>, default: i64) -> ApiResult<i64> {
    match raw {
        None | Some("") => Ok(default),
        Some(t) => spgw_core::time::parse_rfc3339(t)
            .ok_or_else(|| ApiError::field(name, format!("must be an RFC 3339 time, got {t:?}"))),
    }
}

/// Sums of one bucket, one group, or everything.
#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    requests: i64,
    attempts: i64,
    errors: i64,
    input_tokens: i64,
    output_tokens: i64,
    cost_usd: f64,
    latency_ms: i64,
}

impl Sums {
    fn from_row(r: &Row) -> Sums {
        Sums {
            requests: r.i64("requests").unwrap_or_default(),
            attempts: r.i64("attempts").unwrap_or_default(),
            errors: r.i64("errors").unwrap_or_default(),
            input_tokens: r.i64("input_tokens").unwrap_or_default(),
            output_tokens: r.i64("output_tokens").unwrap_or_default(),
            cost_usd: r.f64("cost_usd").unwrap_or_default(),
            latency_ms: r.i64("latency_ms").unwrap_or_default(),
        }
    }

    fn add(&mut self, o: &Sums) {
        self.requests += o.requests;
        self.attempts += o.attempts;
        self.errors += o.errors;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cost_usd += o.cost_usd;
        self.latency_ms += o.latency_ms;
    }

    fn json(&self) -> Value {
        json!({
            "requests": self.requests,
            "attempts": self.attempts,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "avg_latency_ms": if self.attempts > 0 { self.latency_ms / self.attempts } else { 0 },
        })
    }
}

/// Aggregates of the columns every query here selects.
const SUMS: &str = "COUNT(DISTINCT request_id) AS requests, COUNT(*) AS attempts, \
    SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END) AS errors, \
    SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, \
    SUM(cost_usd) AS cost_usd, SUM(latency_ms) AS latency_ms";

/// Usage over time and by one dimension: requests (distinct request ids),
/// attempts (upstream calls, retries and fallbacks included), failed attempts,
/// tokens, cost and latency. Users see their own traffic; admins everyone's.
#[utoipa::path(get, path = "/api/v1/stats", tag = "operations", params(StatsQuery),
    responses((status = 200, description = "{from, to, bucket_seconds, group_by, totals, groups: [{key, label, ...sums}], series: [{t, key, ...sums}]}"),
              (status = 422, description = "A parameter is invalid")))]
pub async fn stats(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<Value>> {
    let to = time_param("to", q.to.as_deref(), spgw_core::time::now_ms())?;
    let from = time_param("from", q.from.as_deref(), to - DAY)?;
    if from >= to {
        return Err(ApiError::field("from", "must be before `to`"));
    }
    let bucket = match q.bucket.as_deref() {
        None | Some("") if to - from <= 2 * DAY => HOUR,
        None | Some("") => DAY,
        Some("minute") => MINUTE,
        Some("hour") => HOUR,
        Some("day") => DAY,
        Some(other) => return Err(ApiError::field("bucket", format!("must be minute, hour or day, not {other:?}"))),
    };
    if (to - from) / bucket > MAX_BUCKETS {
        return Err(ApiError::field("bucket", format!("too small for the range: more than {MAX_BUCKETS} buckets")));
    }
    let offset = q.tz_offset_minutes.unwrap_or(0).clamp(-14 * 60, 14 * 60) * MINUTE;
    let group = GroupBy::parse(q.group_by.as_deref())?;

    let mut filter = String::from("created_at >= ? AND created_at < ?");
    let mut args = vec![V::Int(from), V::Int(to)];
    if !caller.is_admin() {
        filter.push_str(" AND user_id = ?");
        args.push(V::Int(caller.user_id));
    }
    let optional = [
        ("project_id", q.project_id.map(V::Int)),
        ("provider", q.provider.clone().map(V::Text)),
        ("model", q.model.clone().map(V::Text)),
        ("api_key_id", q.api_key_id.map(V::Int)),
    ];
    for (col, v) in optional {
        if let Some(v) = v {
            filter.push_str(&format!(" AND {col} = ?"));
            args.push(v);
        }
    }

    // Bucket start in UTC ms, aligned to the viewer's local clock. The numbers are ours, not the caller's text.
    let t = format!("((created_at + {offset}) - ((created_at + {offset}) % {bucket}) - {offset})");
    let (cols, names) = group.columns();
    let sql =
        format!("SELECT {t} AS t, {cols}, {SUMS} FROM request_log WHERE {filter} GROUP BY {t}, {cols} ORDER BY t");
    let rows = state.db.fetch_all(&sql, &args).await?;
    let total_sql = format!("SELECT {SUMS} FROM request_log WHERE {filter}");
    let totals = state.db.fetch_optional(&total_sql, &args).await?.map(|r| Sums::from_row(&r)).unwrap_or_default();

    let mut groups: BTreeMap<String, Sums> = BTreeMap::new();
    let mut series = Vec::with_capacity(rows.len());
    for r in &rows {
        let key = group.key(r);
        let sums = Sums::from_row(r);
        groups.entry(key.clone()).or_default().add(&sums);
        let mut point = sums.json();
        point["t"] = json!(spgw_core::time::to_rfc3339(r.i64("t").unwrap_or_default()));
        point["key"] = json!(key);
        series.push(point);
    }
    let labels = match names {
        Some((table, column)) => labels(&state, table, column, groups.keys()).await?,
        None => HashMap::new(),
    };
    let mut groups: Vec<(String, Sums)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(&b.0)));
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(key, sums)| {
            let mut g = sums.json();
            g["label"] = json!(labels.get(&key).cloned().unwrap_or_else(|| default_label(group, &key)));
            g["key"] = json!(key);
            g
        })
        .collect();
    Ok(Json(json!({
        "from": spgw_core::time::to_rfc3339(from),
        "to": spgw_core::time::to_rfc3339(to),
        "bucket_seconds": bucket / 1000,
        "group_by": q.group_by.as_deref().unwrap_or("provider"),
        "totals": totals.json(),
        "groups": groups,
        "series": series,
    })))
}

fn default_label(group: GroupBy, key: &str) -> String {
    match (group, key) {
        (GroupBy::Project | GroupBy::Agent, "") => "(none)".into(),
        (GroupBy::ApiKey, "") => "(signed-in session)".into(),
        (GroupBy::User, "") => "(unknown)".into(),
        (GroupBy::Project, k) => format!("project {k}"),
        (GroupBy::ApiKey, k) => format!("key {k}"),
        (GroupBy::User, k) => format!("user {k}"),
        (GroupBy::Agent, k) => format!("agent {k}"),
        (_, k) => k.to_string(),
    }
}

/// Names of the rows with these ids (keys that are not ids are skipped).
async fn labels<'a>(
    state: &AppState,
    table: &str,
    column: &str,
    keys: impl Iterator<Item = &'a String>,
) -> ApiResult<HashMap<String, String>> {
    let ids: Vec<V> = keys.filter_map(|k| k.parse::<i64>().ok()).map(V::Int).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let sql = format!("SELECT id, {column} AS label FROM {table} WHERE id IN ({marks})");
    let rows = state.db.fetch_all(&sql, &ids).await?;
    Ok(rows.iter().filter_map(|r| Some((r.i64("id")?.to_string(), r.str("label")?.to_string()))).collect())
}
