//! `GET /api/v1/settings/known`: every runtime setting (`gateway_config` key)
//! the gateway documents, with its default, meaning and current value. The
//! list is the "Runtime settings" table of `docs/api.md`, compiled in, so the
//! document and the settings screen of the UI cannot disagree: documenting a
//! key is what makes it appear in the UI.

use axum::Json;
use axum::extract::{Extension, State};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const API_DOC: &str = include_str!("../../../../docs/api.md");

/// One documented runtime setting.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownSetting {
    pub key: String,
    /// The default as the document states it (`3 (1–100)`, `true`, ...).
    pub default: String,
    /// `integer`, `number`, `boolean` or `string`, read from the default.
    pub kind: &'static str,
    pub meaning: String,
}

fn strip_code(s: &str) -> String {
    s.trim().replace('`', "")
}

/// The kind of a setting from its documented default's first word.
fn kind_of(default: &str, key: &str) -> &'static str {
    let first = default.split_whitespace().next().unwrap_or_default();
    match first {
        "true" | "false" => "boolean",
        _ if first.parse::<i64>().is_ok() => "integer",
        _ if first.parse::<f64>().is_ok() => "number",
        // A default taken from elsewhere (`redis.session_ttl_secs`): numeric if the name says so.
        _ if [".ttl_", "_seconds", "_ms", "_hours", "_days", "_mb", "max_"].iter().any(|s| key.contains(s)) => {
            "integer"
        }
        _ => "string",
    }
}

/// The settings of the "Runtime settings" table of a document: one per key
/// (a row naming several keys, `a` / `b`, gives one setting each).
pub fn parse(doc: &str) -> Vec<KnownSetting> {
    let Some(section) = doc.split("## Runtime settings").nth(1) else { return Vec::new() };
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut out = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
        let [keys, default, meaning, ..] = cells.as_slice() else { continue };
        let default = strip_code(default);
        for key in keys.split('/').map(strip_code).filter(|k| !k.is_empty()) {
            out.push(KnownSetting {
                kind: kind_of(&default, &key),
                key,
                default: default.clone(),
                meaning: meaning.trim().to_string(),
            });
        }
    }
    out
}

/// The documented settings with their current values (admins only, like `gateway-config`).
#[utoipa::path(get, path = "/api/v1/settings/known", tag = "operations",
    responses((status = 200, description = "{data: [{key, default, kind, meaning, value, is_set}]}: every documented gateway_config key"),
              (status = 403, description = "Not an admin")))]
pub async fn known(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> ApiResult<Json<Value>> {
    if !caller.is_admin() {
        return Err(ApiError::Forbidden("gateway settings are for admins only".into()));
    }
    let values = state.settings.values().await;
    let data: Vec<Value> = parse(API_DOC)
        .into_iter()
        .map(|k| {
            let current = values.get(&k.key);
            json!({
                "key": k.key,
                "default": k.default,
                "kind": k.kind,
                "meaning": k.meaning,
                "value": current.cloned().unwrap_or(Value::Null),
                "is_set": current.is_some(),
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_of_the_api_guide() {
        let known = parse(API_DOC);
        assert!(known.len() >= 10, "the Runtime settings table of docs/api.md is found: {known:?}");
        let get = |k: &str| known.iter().find(|s| s.key == k).unwrap_or_else(|| panic!("{k} documented"));
        // A row naming three keys gives three settings.
        for k in ["sessions.ttl_seconds", "sessions.ttl_hours", "sessions.ttl_days"] {
            assert_eq!(get(k).kind, "integer", "{k}");
        }
        assert_eq!(get("routing.max_attempts").default, "3");
        assert_eq!(get("routing.max_attempts").kind, "integer");
        assert_eq!(get("mcp.auto_execute_skills").kind, "boolean");
        assert_eq!(get("tasks.hide_completed_after_hours").kind, "integer");
        for s in &known {
            assert!(!s.meaning.is_empty() && !s.default.is_empty(), "{s:?}");
            assert!(s.key.contains('.') && !s.key.contains(' '), "{s:?}");
        }
    }

    #[test]
    fn parses_rows_and_kinds() {
        let doc = "# x\n## Runtime settings (`gateway_config`)\n\n| key | default | meaning |\n| --- | --- | --- |\n\
            | `a.b` / `a.c` | `other.key` (7 days) | how long |\n| `x.flag` | false | a switch |\n\
            | `x.rate` | 0.5 | a ratio |\n| `x.name` | `eu` | a name |\n\n## Next\n| `not.this` | 1 | no |\n";
        let got = parse(doc);
        let keys: Vec<_> = got.iter().map(|s| (s.key.as_str(), s.kind, s.default.as_str())).collect();
        assert_eq!(
            keys,
            vec![
                ("a.b", "string", "other.key (7 days)"),
                ("a.c", "string", "other.key (7 days)"),
                ("x.flag", "boolean", "false"),
                ("x.rate", "number", "0.5"),
                ("x.name", "string", "eu"),
            ]
        );
        assert!(parse("no table here").is_empty());
    }
}
