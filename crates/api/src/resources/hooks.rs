//! Rules particular to one resource type: defaults, derived columns, rows in
//! other tables written in the same transaction, soft deletes.

use serde_json::{Map, Value as Json, json};
use spgw_store::repo::table::{self, Filter};
use spgw_store::{Row, Tx, Value};

use super::defs::{Field, ResourceDef};
use spgw_sessions::SessionStore;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Body keys a type accepts beyond its fields.
pub fn extra_keys(def: &ResourceDef) -> &'static [&'static str] {
    match def.singular {
        "provider" => &["api_key"],
        _ => &[],
    }
}

/// Filters applied to listings unless the query asks otherwise: cancelled
/// (soft-deleted) tasks are kept for history but not listed by default.
pub fn list_defaults(def: &ResourceDef, query: &[(String, String)], filters: &mut Vec<Filter>) {
    if def.singular == "task" && !query.iter().any(|(k, _)| k == "status") {
        filters.push(Filter::IsNull("deleted_at"));
    }
}

/// The id of the provider named `name`, or a 422 naming `field`.
pub async fn provider_id(state: &AppState, field: &str, name: &str) -> ApiResult<i64> {
    let row = table::find(&state.db, "providers", &[Filter::Eq("name", name.into())]).await?;
    row.and_then(|r| r.i64("id")).ok_or_else(|| ApiError::field(field, format!("unknown provider {name:?}")))
}

/// Checks that row `id` of `target` exists and the caller may see it; with
/// `same_project`, that it belongs to that project.
pub async fn check_ref(
    state: &AppState,
    caller: &Caller,
    field: &str,
    target: &str,
    id: i64,
    same_project: Option<i64>,
) -> ApiResult<()> {
    let missing = || ApiError::NotFound(format!("{field}: {} {id} not found", target.trim_end_matches('s')));
    let row = table::find(&state.db, target, &[Filter::Eq("id", Value::Int(id))]).await?.ok_or_else(missing)?;
    let visible = match target {
        "users" => caller.is_admin() || id == caller.user_id,
        "projects" => caller.is_admin() || row.i64("user_id") == Some(caller.user_id),
        _ => {
            let pid = row.i64("project_id").unwrap_or_default();
            caller.is_admin() || project_owner(state, pid).await? == Some(caller.user_id)
        }
    };
    if !visible {
        return Err(missing());
    }
    if let Some(pid) = same_project
        && row.i64("project_id") != Some(pid)
    {
        return Err(ApiError::field(
            field,
            format!("{} {id} belongs to another project", target.trim_end_matches('s')),
        ));
    }
    Ok(())
}

async fn project_owner(state: &AppState, project_id: i64) -> ApiResult<Option<i64>> {
    let row = table::find(&state.db, "projects", &[Filter::Eq("id", Value::Int(project_id))]).await?;
    Ok(row.and_then(|r| r.i64("user_id")))
}

fn given<'a>(fields: &'a [(&'static Field, Json)], name: &str) -> Option<&'a Json> {
    fields.iter().find(|(f, _)| f.name == name).map(|(_, v)| v)
}

fn set(cols: &mut Vec<(&'static str, Value)>, column: &'static str, v: Value) {
    match cols.iter_mut().find(|(c, _)| *c == column) {
        Some(slot) => slot.1 = v,
        None => cols.push((column, v)),
    }
}

fn has(cols: &[(&'static str, Value)], column: &str) -> bool {
    cols.iter().any(|(c, v)| *c == column && !v.is_null())
}

/// Defaults and derived columns of a new row.
pub async fn before_add(
    caller: &Caller,
    def: &ResourceDef,
    fields: &[(&'static Field, Json)],
    cols: &mut Vec<(&'static str, Value)>,
    response_extra: &mut Map<String, Json>,
) -> ApiResult<()> {
    if def.fields.iter().any(|f| f.name == "user_id") && def.table != "sessions" && !has(cols, "user_id") {
        set(cols, "user_id", Value::Int(caller.user_id));
    }
    match def.singular {
        "provider" => {
            let name = given(fields, "name").and_then(Json::as_str).unwrap_or_default().to_string();
            check_url("base_url", given(fields, "base_url"))?;
            if !has(cols, "display_name") {
                set(cols, "display_name", Value::Text(name.clone()));
            }
            if !has(cols, "protocol") {
                let protocol = match name.as_str() {
                    "anthropic" => "anthropic",
                    "google" => "google",
                    _ => "openai",
                };
                set(cols, "protocol", protocol.into());
            }
        }
        "model" => {
            if !has(cols, "name") {
                let code = given(fields, "model_code").and_then(Json::as_str).unwrap_or_default();
                set(cols, "name", code.into());
            }
            for c in ["features", "output_formats"] {
                if !has(cols, c) {
                    set(cols, c, "[]".into());
                }
            }
            set(cols, "source", "operator".into());
        }
        "gateway-api-key" => {
            check_limits(given(fields, "limits"))?;
            let key = spgw_core::apikey::generate();
            set(cols, "key_hash", Value::Text(key.hash));
            set(cols, "prefix", Value::Text(key.prefix));
            response_extra.insert("key".into(), json!(key.key));
        }
        "user" => check_limits(given(fields, "limits"))?,
        "agent" if !has(cols, "job_tags") => set(cols, "job_tags", "[]".into()),
        "task" => {
            if !has(cols, "tags") {
                set(cols, "tags", "[]".into());
            }
            set(cols, "created_by", Value::Int(caller.user_id));
            // The same validation and first slot as the task service (croner, time zones).
            let sched = spgw_tasks::schedule::parse(given(fields, "schedule"))?;
            let kind = if sched.is_some() {
                "scheduled"
            } else if has(cols, "parent_task_id") {
                "spawned"
            } else {
                "external"
            };
            if !has(cols, "kind") {
                set(cols, "kind", kind.into());
            }
            if !has(cols, "status") {
                set(cols, "status", if sched.is_some() { "scheduled" } else { "pending" }.into());
            }
            let now = spgw_core::time::now_ms();
            set(cols, "next_run_at", sched.as_ref().and_then(|s| s.first_slot(now)).into());
        }
        "codebase" => check_runtime_config(given(fields, "runtime_config"))?,
        "mcp-tool" => check_mcp_tool(caller, fields, None)?,
        _ => {}
    }
    Ok(())
}

/// Derived columns of an update.
pub fn before_update(
    _state: &AppState,
    caller: &Caller,
    def: &ResourceDef,
    existing: &Row,
    fields: &[(&'static Field, Json)],
    cols: &mut Vec<(&'static str, Value)>,
) -> ApiResult<()> {
    match def.singular {
        "provider" => check_url("base_url", given(fields, "base_url"))?,
        // The catalog sync must not overwrite what an operator changed.
        "model" => set(cols, "edited", Value::Int(1)),
        "user" if !caller.is_admin() => {
            for f in ["role", "enabled", "limits"] {
                if given(fields, f).is_some() {
                    return Err(ApiError::Forbidden(format!("only admins may change {f}")));
                }
            }
        }
        "user" => check_limits(given(fields, "limits"))?,
        "task" => {
            if let Some(v) = given(fields, "schedule") {
                let sched = spgw_tasks::schedule::parse(Some(v))?;
                let mut derived = Vec::new();
                let cur = spgw_tasks::TaskRow::from_row(existing);
                spgw_tasks::service::schedule_columns(&cur, Some(v), sched.as_ref(), &mut derived);
                for (column, value) in derived.into_iter().filter(|(c, _)| *c != "schedule") {
                    set(cols, column, value);
                }
            }
        }
        "codebase" => check_runtime_config(given(fields, "runtime_config"))?,
        "mcp-tool" => check_mcp_tool(caller, fields, Some(existing))?,
        "provider-key" if given(fields, "key").is_some() => {
            set(cols, "cooldown_until", Value::Null);
            set(cols, "last_error", Value::Null);
            if given(fields, "status").is_none() {
                set(cols, "status", "ok".into());
            }
        }
        _ => {}
    }
    Ok(())
}

/// Rows in other tables that belong to the write, in the same transaction.
#[allow(clippy::too_many_arguments)]
pub async fn after_write(
    state: &AppState,
    caller: &Caller,
    def: &ResourceDef,
    id: i64,
    fields: &[(&'static Field, Json)],
    extras: &Map<String, Json>,
    tx: &mut Tx,
    is_add: bool,
) -> ApiResult<()> {
    match def.singular {
        "mcp-tool" => {
            // The written row, whichever fields this request changed.
            let row = tx.fetch_optional("SELECT transport, command FROM mcp_tools WHERE id = ?", &[id.into()]).await?;
            let command = row.as_ref().filter(|r| r.str("transport") == Some("stdio")).and_then(|r| r.str("command"));
            if let Some(command) = command
                && !state.mcp.command_allowed(command)
            {
                return Err(ApiError::field("command", "is not on mcp.stdio_allowlist in the server configuration"));
            }
        }
        "provider" => {
            if let Some(v) = extras.get("api_key").filter(|v| !v.is_null()) {
                let key = v
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| ApiError::field("api_key", "must be a non-empty string"))?;
                upsert_default_key(state, tx, id, key).await?;
            }
        }
        "agent" => {
            if let Some(models) = given(fields, "models") {
                replace_agent_models(tx, id, models).await?;
            }
        }
        "document" => {
            let changed =
                ["title", "content", "description", "extended_description"].iter().any(|f| given(fields, f).is_some());
            if is_add || changed {
                record_revision(tx, caller, id, is_add).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

async fn upsert_default_key(state: &AppState, tx: &mut Tx, provider_id: i64, key: &str) -> ApiResult<()> {
    let now = spgw_core::time::now_ms();
    let enc = Value::Text(state.master_key.encrypt(key));
    let hint = Value::Text(spgw_core::mask(key));
    let filters = [Filter::Eq("provider_id", Value::Int(provider_id)), Filter::Eq("name", "default".into())];
    // A new key value starts healthy: no failing status, no cool-down.
    let cols = [
        ("key_enc", enc.clone()),
        ("key_hint", hint.clone()),
        ("status", "ok".into()),
        ("cooldown_until", Value::Null),
        ("last_error", Value::Null),
        ("updated_at", now.into()),
    ];
    if table::update_tx(tx, "provider_keys", &cols, &filters).await? == 0 {
        let cols = [
            ("provider_id", Value::Int(provider_id)),
            ("name", "default".into()),
            ("key_enc", enc),
            ("key_hint", hint),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ];
        table::insert_tx(tx, "provider_keys", &cols).await?;
    }
    Ok(())
}

async fn replace_agent_models(tx: &mut Tx, agent_id: i64, models: &Json) -> ApiResult<()> {
    let items = match models {
        Json::Null => &Vec::new(),
        Json::Array(a) => a,
        _ => return Err(ApiError::field("models", "must be an array of {provider, model_code}")),
    };
    if items.len() > 32 {
        return Err(ApiError::field("models", "at most 32 models"));
    }
    tx.execute("DELETE FROM agent_models WHERE agent_id = ?", &[agent_id.into()]).await?;
    for (i, item) in items.iter().enumerate() {
        let provider = item.get("provider").and_then(Json::as_str);
        let code = item.get("model_code").and_then(Json::as_str);
        let (Some(provider), Some(code)) = (provider, code) else {
            return Err(ApiError::field(format!("models[{i}]"), "must be {\"provider\", \"model_code\"}"));
        };
        let sql =
            "SELECT m.id FROM models m JOIN providers p ON p.id = m.provider_id WHERE p.name = ? AND m.model_code = ?";
        let model_id = tx
            .fetch_optional(sql, &[provider.into(), code.into()])
            .await?
            .and_then(|r| r.i64("id"))
            .ok_or_else(|| ApiError::field(format!("models[{i}]"), format!("unknown model {provider}/{code}")))?;
        let cols = [
            ("agent_id", Value::Int(agent_id)),
            ("model_id", Value::Int(model_id)),
            ("priority", Value::Int(i as i64)),
        ];
        table::insert_tx(tx, "agent_models", &cols).await?;
    }
    Ok(())
}

/// A user's edit through the resource API is a revision like an agent's
/// (`spgw_agents::documents::record_revision`); an update bumps the number first.
async fn record_revision(tx: &mut Tx, caller: &Caller, doc_id: i64, is_add: bool) -> ApiResult<()> {
    if !is_add {
        tx.execute("UPDATE documents SET revision = revision + 1 WHERE id = ?", &[doc_id.into()]).await?;
    }
    let author = spgw_agents::documents::Author::User(caller.user_id);
    spgw_agents::documents::record_revision(tx, doc_id, author, None, spgw_core::time::now_ms())
        .await
        .map_err(ApiError::internal)?;
    Ok(())
}

/// Deletes a row the way its type wants (tasks are cancelled, not erased).
pub async fn delete(state: &AppState, caller: &Caller, def: &ResourceDef, row: &Row) -> ApiResult<()> {
    let id = row.i64("id").unwrap_or_default();
    let by_id = [Filter::Eq("id", Value::Int(id))];
    match def.singular {
        "task" => {
            // A soft delete that also stops a running task and its unfinished children.
            spgw_tasks::service::cancel(&state.db, id).await?;
            return Ok(());
        }
        "user" if id == caller.user_id => {
            return Err(ApiError::Conflict("you cannot delete the user you are signed in as".into()));
        }
        "gateway-api-key" => state.auth.forget_key(row.str("key_hash").unwrap_or_default()),
        // Its live session ends with it (a stdio server is stopped, an HTTP session deleted).
        "mcp-tool" => state.mcp.close(id).await,
        // Through the session store, so the live history (Redis) goes too.
        "session" => {
            state.sessions.delete(row.str("session_id").unwrap_or_default()).await?;
            return Ok(());
        }
        _ => {}
    }
    table::delete(&state.db, def.table, &by_id).await?;
    Ok(())
}

/// Adds what a rendered row shows from other tables (an agent's ordered models).
pub async fn decorate(state: &AppState, def: &ResourceDef, rows: &mut [Json]) -> ApiResult<()> {
    if def.singular != "agent" || rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Value> = rows.iter().filter_map(|r| r.get("id").and_then(Json::as_i64)).map(Value::Int).collect();
    let marks = vec!["?"; ids.len()].join(", ");
    let sql = format!(
        "SELECT am.agent_id, m.model_code, p.name AS provider FROM agent_models am \
         JOIN models m ON m.id = am.model_id JOIN providers p ON p.id = m.provider_id \
         WHERE am.agent_id IN ({marks}) ORDER BY am.agent_id, am.priority"
    );
    let found = state.db.fetch_all(&sql, &ids).await?;
    for r in rows.iter_mut() {
        let id = r.get("id").and_then(Json::as_i64);
        let models: Vec<Json> = found
            .iter()
            .filter(|m| m.i64("agent_id") == id)
            .map(|m| json!({"provider": m.str("provider"), "model_code": m.str("model_code")}))
            .collect();
        r["models"] = Json::Array(models);
    }
    Ok(())
}

/// Validates a `limits` object (rate limits, budgets, cache), naming the bad field.
pub fn check_limits(v: Option<&Json>) -> ApiResult<()> {
    let Some(v) = v else { return Ok(()) };
    match spgw_routing::Limits::parse(v) {
        Ok(_) => Ok(()),
        Err(spgw_routing::RouteError::InvalidLimits { field, message }) => Err(ApiError::field(field, message)),
        Err(e) => Err(ApiError::field("limits", e.to_string())),
    }
}

fn check_url(field: &str, v: Option<&Json>) -> ApiResult<()> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(()) };
    let s = v.as_str().unwrap_or_default();
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(ApiError::field(field, "must be an http(s) URL")),
    }
}

fn check_runtime_config(v: Option<&Json>) -> ApiResult<()> {
    let Some(runner) = v.and_then(|c| c.get("runner")) else { return Ok(()) };
    let Some(runner) = runner.as_object() else {
        return Err(ApiError::field("runtime_config.runner", "must be an object"));
    };
    for key in ["host", "ssh_user", "workspace_root"] {
        if let Some(val) = runner.get(key)
            && !val.is_string()
        {
            return Err(ApiError::field(format!("runtime_config.runner.{key}"), "must be a string"));
        }
    }
    if let Some(root) = runner.get("workspace_root").and_then(Json::as_str)
        && !root.starts_with('/')
    {
        return Err(ApiError::field("runtime_config.runner.workspace_root", "must be an absolute path"));
    }
    Ok(())
}

fn check_mcp_tool(caller: &Caller, fields: &[(&'static Field, Json)], existing: Option<&Row>) -> ApiResult<()> {
    let pick = |name: &str| -> Option<Json> {
        match given(fields, name) {
            Some(v) => Some(v.clone()),
            None => existing.and_then(|r| r.str(name).map(|s| json!(s))),
        }
    };
    let transport = pick("transport").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    for (name, (lo, hi)) in [
        ("call_timeout_seconds", spgw_mcp::limits::CALL_TIMEOUT_RANGE),
        ("max_output_bytes", spgw_mcp::limits::MAX_OUTPUT_RANGE),
    ] {
        if let Some(v) = given(fields, name).and_then(Json::as_i64)
            && !(lo..=hi).contains(&v)
        {
            return Err(ApiError::field(name, format!("must be between {lo} and {hi}")));
        }
    }
    let global = match given(fields, "project_id") {
        Some(v) => v.is_null(),
        None => existing.map(|r| r.get("project_id").is_null()).unwrap_or(true),
    };
    if global && !caller.is_admin() {
        return Err(ApiError::field("project_id", "is required (only admins register global MCP servers)"));
    }
    match transport.as_str() {
        "stdio" => {
            if !caller.is_admin() {
                return Err(ApiError::Forbidden("only admins may register stdio MCP servers".into()));
            }
            if pick("command").and_then(|v| v.as_str().map(str::is_empty)).unwrap_or(true) {
                return Err(ApiError::field("command", "is required for the stdio transport"));
            }
        }
        "http" => {
            check_url("url", Some(&pick("url").unwrap_or(Json::Null)).filter(|v| !v.is_null())).and_then(|_| {
                if pick("url").is_none_or(|v| v.is_null()) {
                    Err(ApiError::field("url", "is required for the http transport"))
                } else {
                    Ok(())
                }
            })?
        }
        _ => {}
    }
    Ok(())
}
