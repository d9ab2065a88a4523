//! Turning a JSON body into validated column values, field by field, with an
//! error that names the field.

use serde_json::{Map, Value as Json};
use spgw_store::Value;

use super::defs::{Field, Kind, ResourceDef};
use crate::error::{ApiError, ApiResult};

/// Text longer than this is refused unless a field sets its own cap.
const DEFAULT_TEXT_CAP: usize = 1 << 20;

/// Keys a client may send back unchanged from a response; they are not writable.
const IGNORED: &[&str] = &["id", "created_at", "updated_at"];

/// How a body is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Add,
    /// PUT: every required field must be present; absent optional fields are cleared.
    Replace,
    /// PATCH: only the given fields change.
    Patch,
}

/// The fields given in a body, and the extra keys the type accepts.
pub type Given = (Vec<(&'static Field, Json)>, Map<String, Json>);

/// Splits a body into (field, value) pairs, refusing unknown fields and, in
/// Add/Replace mode, missing required ones. `extra` names keys a type accepts
/// beyond its fields (handled by the service).
pub fn fields_of(
    def: &'static ResourceDef,
    mut body: Map<String, Json>,
    mode: Mode,
    extra: &[&str],
) -> ApiResult<Given> {
    let mut extras = Map::new();
    for key in extra {
        if let Some(v) = body.remove(*key) {
            extras.insert((*key).to_string(), v);
        }
    }
    for key in IGNORED {
        body.remove(*key);
    }
    if let Some(unknown) = body.keys().find(|k| def.field(k).is_none()) {
        let valid: Vec<&str> = def.fields.iter().map(|f| f.name).chain(extra.iter().copied()).collect();
        return Err(ApiError::field(unknown.clone(), format!("unknown field; valid fields: {}", valid.join(", "))));
    }
    let mut out = Vec::with_capacity(def.fields.len());
    for field in def.fields {
        match body.remove(field.name) {
            Some(v) => {
                if field.required && v.is_null() && mode != Mode::Patch {
                    return Err(ApiError::field(field.name, "is required"));
                }
                out.push((field, v));
            }
            None if field.required && mode != Mode::Patch => {
                return Err(ApiError::field(field.name, "is required"));
            }
            // PUT clears absent content, but keeps state and settings (flags,
            // numbers, enumerations such as a task's status) that have no empty value.
            None if mode == Mode::Replace && !keeps_on_replace(field) => out.push((field, Json::Null)),
            None => {}
        }
    }
    Ok((out, extras))
}

fn keeps_on_replace(field: &Field) -> bool {
    matches!(field.kind, Kind::Bool | Kind::Int | Kind::Float | Kind::SecretMap)
        || !field.one_of.is_empty()
        || matches!(field.name, "user_id" | "project_id")
}

/// Converts a plain field (no lookups, no secrets) to its stored value.
pub fn plain_value(field: &Field, v: &Json) -> ApiResult<Value> {
    if v.is_null() {
        if field.required {
            return Err(ApiError::field(field.name, "must not be null"));
        }
        return Ok(match field.kind {
            Kind::Bool => Value::Int(0),
            Kind::Tags => Value::Text("[]".into()),
            _ => Value::Null,
        });
    }
    let wrong = |what: &str| ApiError::field(field.name, format!("must be {what}"));
    Ok(match field.kind {
        Kind::Text => {
            let s = v.as_str().ok_or_else(|| wrong("a string"))?;
            check_text(field, s)?;
            Value::Text(s.to_string())
        }
        Kind::Int => Value::Int(v.as_i64().ok_or_else(|| wrong("an integer"))?),
        Kind::Float => Value::Float(v.as_f64().ok_or_else(|| wrong("a number"))?),
        Kind::Bool => Value::Int(v.as_bool().ok_or_else(|| wrong("true or false"))? as i64),
        Kind::Json => Value::Text(v.to_string()),
        Kind::Object => {
            if !v.is_object() {
                return Err(wrong("an object"));
            }
            Value::Text(v.to_string())
        }
        Kind::Tags => {
            let items = v.as_array().ok_or_else(|| wrong("an array of strings"))?;
            for item in items {
                let s = item.as_str().ok_or_else(|| wrong("an array of strings"))?;
                if s.is_empty() || s.len() > 191 {
                    return Err(ApiError::field(field.name, "items must be 1 to 191 characters"));
                }
            }
            Value::Text(v.to_string())
        }
        Kind::Time => {
            let s = v.as_str().ok_or_else(|| wrong("an RFC 3339 time"))?;
            Value::Int(spgw_core::time::parse_rfc3339(s).ok_or_else(|| wrong("an RFC 3339 time"))?)
        }
        Kind::Date => {
            let s = v.as_str().ok_or_else(|| wrong("a date (YYYY-MM-DD)"))?;
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| wrong("a date (YYYY-MM-DD)"))?;
            Value::Text(s.to_string())
        }
        Kind::Ref { .. } => Value::Int(v.as_i64().filter(|n| *n > 0).ok_or_else(|| wrong("a positive integer id"))?),
        Kind::Secret { .. } | Kind::SecretMap | Kind::Password | Kind::ProviderName => {
            return Err(ApiError::internal(format!("field {} needs the service", field.name)));
        }
    })
}

/// Length and allowed-value checks of a text field.
pub fn check_text(field: &Field, s: &str) -> ApiResult<()> {
    let cap = if field.max_len > 0 { field.max_len } else { DEFAULT_TEXT_CAP };
    if s.len() > cap {
        return Err(ApiError::field(field.name, format!("must be at most {cap} bytes")));
    }
    if field.required && s.trim().is_empty() {
        return Err(ApiError::field(field.name, "must not be empty"));
    }
    if !field.one_of.is_empty() && !field.one_of.contains(&s) {
        return Err(ApiError::field(field.name, format!("must be one of: {}", field.one_of.join(", "))));
    }
    Ok(())
}

/// A required string from the body of an extra key.
pub fn string_of<'a>(name: &str, v: &'a Json) -> ApiResult<&'a str> {
    v.as_str().ok_or_else(|| ApiError::field(name, "must be a string"))
}
