//! Rows to JSON: times as RFC 3339, JSON columns parsed, 0/1 as booleans,
//! secrets masked, hashes never shown.

use std::collections::HashMap;

use serde_json::{Map, Value as Json, json};
use spgw_core::MasterKey;
use spgw_store::{Row, Value};

use super::defs::{Kind, ResourceDef};

/// Columns never shown.
const HIDDEN: &[&str] = &["password_hash", "key_hash", "token_hash", "lease_owner", "key_hint", "secret_hint"];
/// Columns holding JSON text.
const JSON_COLUMNS: &[&str] = &[
    "features",
    "output_formats",
    "pricing",
    "config",
    "limits",
    "job_tags",
    "tags",
    "schedule",
    "runtime_config",
    "args",
    "tools_cache",
    "mcp_config",
    "condition_spec",
    "task_template",
    "context",
    "assigned_tags",
    "value",
];
/// 0/1 columns.
const BOOL_COLUMNS: &[&str] = &["enabled", "builtin", "supports_mcp", "edited", "stream"];

/// Lookups a page of rows needs to render (provider names by id).
#[derive(Default)]
pub struct Context {
    pub provider_names: HashMap<i64, String>,
}

/// Renders one stored row of `def` as the API shows it.
pub fn row(def: &ResourceDef, r: &Row, ctx: &Context, key: &MasterKey) -> Json {
    let mut out = Map::new();
    for (col, v) in r.iter() {
        if HIDDEN.contains(&col) {
            continue;
        }
        let field = def.fields.iter().find(|f| f.column == col);
        let rendered = match field.map(|f| (f.name, f.kind)) {
            Some((name, Kind::ProviderName)) => {
                let id = v.as_i64().unwrap_or_default();
                out.insert("provider_id".into(), json!(id));
                out.insert(name.into(), json!(ctx.provider_names.get(&id)));
                continue;
            }
            Some((name, Kind::Secret { hint_column })) => {
                out.insert(name.into(), json!(r.str(hint_column).unwrap_or("****")));
                continue;
            }
            Some((name, Kind::SecretMap)) => {
                out.insert(name.into(), masked_map(v, key));
                continue;
            }
            Some((_, Kind::Password)) => continue,
            Some((name, kind)) => (name, value(col, v, Some(kind))),
            None => (col, value(col, v, None)),
        };
        out.insert(rendered.0.to_string(), rendered.1);
    }
    Json::Object(out)
}

fn value(col: &str, v: &Value, kind: Option<Kind>) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => {
            if matches!(kind, Some(Kind::Bool)) || BOOL_COLUMNS.contains(&col) {
                json!(*i != 0)
            } else if matches!(kind, Some(Kind::Time)) || col.ends_with("_at") || col.ends_with("_until") {
                json!(spgw_core::time::to_rfc3339(*i))
            } else {
                json!(i)
            }
        }
        Value::Float(f) => json!(f),
        Value::Text(s) => {
            let is_json = matches!(kind, Some(Kind::Json | Kind::Object | Kind::Tags)) || JSON_COLUMNS.contains(&col);
            if is_json { serde_json::from_str(s).unwrap_or_else(|_| json!(s)) } else { json!(s) }
        }
        Value::Bytes(b) => json!(format!("<{} bytes>", b.len())),
    }
}

/// An encrypted JSON object of secrets shown as its keys with masked values.
fn masked_map(v: &Value, key: &MasterKey) -> Json {
    let Some(stored) = v.as_str() else { return Json::Null };
    let Ok(plain) = key.decrypt(stored) else { return json!({}) };
    let Ok(Json::Object(map)) = serde_json::from_str::<Json>(&plain) else { return json!({}) };
    Json::Object(
        map.into_iter()
            .map(|(k, v)| {
                let masked = v.as_str().map(spgw_core::mask).unwrap_or_else(|| "****".into());
                (k, json!(masked))
            })
            .collect(),
    )
}
