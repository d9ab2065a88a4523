//! The generic resource service: scoping, validation, type-specific rules and
//! multi-row writes (in one transaction) for every type of SPEC §4.

use serde_json::{Map, Value as Json, json};
use spgw_store::repo::table::{self, Filter, Page};
use spgw_store::{Row, Value};

use super::defs::{Field, Kind, ResourceDef, Scope};
use super::input::{self, Mode};
use super::{hooks, render};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Filters that restrict rows of `def` to what `caller` may see.
pub fn visibility(def: &ResourceDef, caller: &Caller) -> ApiResult<Vec<Filter>> {
    if caller.is_admin() {
        return Ok(Vec::new());
    }
    let uid = Value::Int(caller.user_id);
    Ok(match def.scope {
        Scope::SharedCatalog => Vec::new(),
        Scope::AdminOnly => return Err(ApiError::Forbidden(format!("{} is for admins only", def.plural))),
        Scope::Owner => vec![Filter::Eq("user_id", uid)],
        Scope::Users => vec![Filter::Eq("id", uid)],
        Scope::Project if def.table == "mcp_tools" => vec![Filter::Sql(
            "project_id IS NULL OR project_id IN (SELECT id FROM projects WHERE user_id = ?)",
            vec![uid],
        )],
        Scope::Project => vec![Filter::Sql("project_id IN (SELECT id FROM projects WHERE user_id = ?)", vec![uid])],
    })
}

/// Refuses writes a non-admin may not make on this type.
fn check_write(def: &ResourceDef, caller: &Caller, verb: &str) -> ApiResult<()> {
    if caller.is_admin() {
        return Ok(());
    }
    match def.scope {
        Scope::SharedCatalog | Scope::AdminOnly => {
            Err(ApiError::Forbidden(format!("only admins may {verb} {}", def.plural)))
        }
        Scope::Users if verb != "update" => Err(ApiError::Forbidden(format!("only admins may {verb} users"))),
        _ => Ok(()),
    }
}

fn not_found(def: &ResourceDef, id: i64) -> ApiError {
    ApiError::NotFound(format!("{} {id} not found", def.singular))
}

/// Renders rows with the lookups they need.
pub async fn render_rows(state: &AppState, def: &'static ResourceDef, rows: &[Row]) -> ApiResult<Vec<Json>> {
    let mut ctx = render::Context::default();
    if def.fields.iter().any(|f| f.kind == Kind::ProviderName) {
        for r in state.db.fetch_all("SELECT id, name FROM providers", &[]).await? {
            ctx.provider_names.insert(r.i64("id").unwrap_or_default(), r.str("name").unwrap_or_default().into());
        }
    }
    let mut out: Vec<Json> = rows.iter().map(|r| render::row(def, r, &ctx, &state.master_key)).collect();
    hooks::decorate(state, def, &mut out).await?;
    Ok(out)
}

/// `GET /list/{type}`: a page of visible rows, filtered by query parameters.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    def: &'static ResourceDef,
    query: &[(String, String)],
) -> ApiResult<Json> {
    let mut filters = visibility(def, caller)?;
    let (mut limit, mut offset) = (state.config.limits.default_page_size as i64, 0i64);
    for (k, v) in query {
        match k.as_str() {
            "limit" => {
                limit = v.parse().map_err(|_| ApiError::BadRequest("limit must be an integer".into()))?;
                limit = limit.clamp(1, state.config.limits.max_page_size as i64);
            }
            "offset" => {
                offset = v.parse::<i64>().map_err(|_| ApiError::BadRequest("offset must be an integer".into()))?.max(0);
            }
            name => {
                let field = def.field(name).filter(|f| f.filter).ok_or_else(|| {
                    let valid: Vec<&str> = def.fields.iter().filter(|f| f.filter).map(|f| f.name).collect();
                    ApiError::BadRequest(format!(
                        "unknown filter {name} for {}; filters: limit, offset, {}",
                        def.plural,
                        valid.join(", ")
                    ))
                })?;
                filters.push(filter_for(state, field, v).await?);
            }
        }
    }
    hooks::list_defaults(def, query, &mut filters);
    let Page { rows, total, capped } =
        table::list_as(&state.db, def.table, &filters, limit, offset, def.listing()).await?;
    let data = render_rows(state, def, &rows).await?;
    Ok(json!({"data": data, "total": total, "total_capped": capped, "limit": limit, "offset": offset}))
}

async fn filter_for(state: &AppState, field: &'static Field, raw: &str) -> ApiResult<Filter> {
    let bad = |what: &str| ApiError::BadRequest(format!("filter {} must be {what}", field.name));
    let value = match field.kind {
        Kind::Bool => match raw {
            "true" | "1" => Value::Int(1),
            "false" | "0" => Value::Int(0),
            _ => return Err(bad("true or false")),
        },
        Kind::Int | Kind::Ref { .. } => Value::Int(raw.parse().map_err(|_| bad("an integer"))?),
        Kind::ProviderName => Value::Int(hooks::provider_id(state, field.name, raw).await?),
        _ => Value::Text(raw.to_string()),
    };
    Ok(Filter::Eq(field.column, value))
}

/// Loads one visible row or 404.
pub async fn load(state: &AppState, caller: &Caller, def: &'static ResourceDef, id: i64) -> ApiResult<Row> {
    let mut filters = visibility(def, caller)?;
    filters.push(Filter::Eq("id", Value::Int(id)));
    table::find(&state.db, def.table, &filters).await?.ok_or_else(|| not_found(def, id))
}

/// `GET` of one row.
pub async fn get(state: &AppState, caller: &Caller, def: &'static ResourceDef, id: i64) -> ApiResult<Json> {
    let row = load(state, caller, def, id).await?;
    one(state, def, &row).await
}

async fn one(state: &AppState, def: &'static ResourceDef, row: &Row) -> ApiResult<Json> {
    Ok(render_rows(state, def, std::slice::from_ref(row)).await?.pop().unwrap_or(Json::Null))
}

/// Converts validated fields into column values, resolving references,
/// encrypting secrets and hashing passwords.
async fn columns(
    state: &AppState,
    caller: &Caller,
    fields: &[(&'static Field, Json)],
    project_id: Option<i64>,
) -> ApiResult<Vec<(&'static str, Value)>> {
    let mut out = Vec::with_capacity(fields.len() + 3);
    for (field, v) in fields {
        if field.column.is_empty() {
            continue; // handled by a hook (agent models)
        }
        match field.kind {
            Kind::Secret { hint_column } => {
                let s = input::string_of(field.name, v)?;
                input::check_text(field, s)?;
                out.push((field.column, Value::Text(state.master_key.encrypt(s))));
                out.push((hint_column, Value::Text(spgw_core::mask(s))));
            }
            Kind::SecretMap => {
                if v.is_null() {
                    out.push((field.column, Value::Null));
                    continue;
                }
                let map = v.as_object().ok_or_else(|| ApiError::field(field.name, "must be an object of strings"))?;
                if map.values().any(|x| !x.is_string()) {
                    return Err(ApiError::field(field.name, "must be an object of strings"));
                }
                out.push((field.column, Value::Text(state.master_key.encrypt(&v.to_string()))));
            }
            Kind::Password => {
                let s = input::string_of(field.name, v)?;
                if s.chars().count() < 8 {
                    return Err(ApiError::field(field.name, "must be at least 8 characters"));
                }
                input::check_text(field, s)?;
                let owned = s.to_string();
                let hash = tokio::task::spawn_blocking(move || spgw_core::password::hash(&owned))
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(ApiError::internal)?;
                out.push((field.column, Value::Text(hash)));
            }
            Kind::ProviderName => {
                let name = input::string_of(field.name, v)?;
                out.push((field.column, Value::Int(hooks::provider_id(state, field.name, name).await?)));
            }
            Kind::Ref { table: target, same_project } if !v.is_null() => {
                let value = input::plain_value(field, v)?;
                let id = value.as_i64().unwrap_or_default();
                hooks::check_ref(state, caller, field.name, target, id, same_project.then_some(project_id).flatten())
                    .await?;
                out.push((field.column, value));
            }
            _ => out.push((field.column, input::plain_value(field, v)?)),
        }
    }
    Ok(out)
}

/// `POST /add/{type}`.
pub async fn add(
    state: &AppState,
    caller: &Caller,
    def: &'static ResourceDef,
    body: Map<String, Json>,
) -> ApiResult<Json> {
    if !def.verbs.add {
        return Err(ApiError::MethodNotAllowed(format!("{} cannot be added", def.plural)));
    }
    check_write(def, caller, "add")?;
    let (fields, extras) = input::fields_of(def, body, Mode::Add, hooks::extra_keys(def))?;
    let project_id = project_of(&fields)?;
    if let Some(pid) = project_id {
        hooks::check_ref(state, caller, "project_id", "projects", pid, None).await?;
    }
    let mut cols = columns(state, caller, &fields, project_id).await?;
    let mut response_extra = Map::new();
    hooks::before_add(caller, def, &fields, &mut cols, &mut response_extra).await?;
    let now = spgw_core::time::now_ms();
    cols.push(("created_at", Value::Int(now)));
    if def.table != "task_attachments" {
        cols.push(("updated_at", Value::Int(now)));
    }
    let mut tx = state.db.begin().await?;
    let id = table::insert_tx(&mut tx, def.table, &cols).await?;
    hooks::after_write(state, caller, def, id, &fields, &extras, &mut tx, true).await?;
    tx.commit().await?;
    after_commit(state, def).await;
    let row = table::get(&state.db, def.table, &[Filter::Eq("id", Value::Int(id))]).await?;
    let mut out = one(state, def, &row).await?;
    if let Json::Object(o) = &mut out {
        o.extend(response_extra);
    }
    Ok(out)
}

/// `PUT`/`PATCH /update/{type}/{id}`.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    def: &'static ResourceDef,
    id: i64,
    body: Map<String, Json>,
    mode: Mode,
) -> ApiResult<Json> {
    if !def.verbs.update {
        return Err(ApiError::MethodNotAllowed(format!("{} cannot be updated", def.plural)));
    }
    check_write(def, caller, "update")?;
    let existing = load(state, caller, def, id).await?;
    let (fields, extras) = input::fields_of(def, body, mode, hooks::extra_keys(def))?;
    let project_id = existing.i64("project_id");
    if let Some((_, v)) = fields.iter().find(|(f, _)| f.name == "project_id")
        && v.as_i64() != project_id
    {
        return Err(ApiError::field("project_id", "cannot be changed; create the row in the other project instead"));
    }
    let mut cols = columns(state, caller, &fields, project_id).await?;
    hooks::before_update(state, caller, def, &existing, &fields, &mut cols)?;
    cols.push(("updated_at", Value::Int(spgw_core::time::now_ms())));
    let mut tx = state.db.begin().await?;
    table::update_tx(&mut tx, def.table, &cols, &[Filter::Eq("id", Value::Int(id))]).await?;
    hooks::after_write(state, caller, def, id, &fields, &extras, &mut tx, false).await?;
    tx.commit().await?;
    after_commit(state, def).await;
    let row = table::get(&state.db, def.table, &[Filter::Eq("id", Value::Int(id))]).await?;
    one(state, def, &row).await
}

/// `DELETE /del/{type}/{id}`.
pub async fn delete(state: &AppState, caller: &Caller, def: &'static ResourceDef, id: i64) -> ApiResult<Json> {
    if !def.verbs.del {
        return Err(ApiError::MethodNotAllowed(format!("{} cannot be deleted", def.plural)));
    }
    check_write(def, caller, "delete")?;
    let row = load(state, caller, def, id).await?;
    hooks::delete(state, caller, def, &row).await?;
    after_commit(state, def).await;
    Ok(json!({"id": id, "deleted": true}))
}

fn project_of(fields: &[(&'static Field, Json)]) -> ApiResult<Option<i64>> {
    match fields.iter().find(|(f, _)| f.name == "project_id") {
        Some((_, Json::Null)) | None => Ok(None),
        Some((_, v)) => v.as_i64().map(Some).ok_or_else(|| ApiError::field("project_id", "must be an integer id")),
    }
}

/// Caches that must see a write at once.
async fn after_commit(state: &AppState, def: &ResourceDef) {
    match def.table {
        "providers" | "models" | "provider_keys" => state.catalog_changed(),
        "users" => {
            state.auth.clear();
            state.limits_changed();
        }
        "gateway_api_keys" => state.limits_changed(),
        "gateway_config" => {
            state.settings.invalidate().await;
        }
        _ => {}
    }
}
