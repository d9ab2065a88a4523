//! `SPGW__SECTION__KEY` environment overrides, merged into the JSON tree before
//! it is deserialised so that one deserialiser reports every type error.

use serde_json::{Map, Value};

use crate::ConfigError;

/// Prefix of override variables. `SPGW_` with one underscore (e.g. `SPGW_ADMIN_PASSWORD`) is not ours.
const PREFIX: &str = "SPGW__";

/// The variables `load` cares about, picked out of the whole environment.
#[derive(Debug, Default)]
pub(crate) struct EnvVars {
    /// `CONFIG_PATH`, when set.
    pub config_path: Option<String>,
    /// `SPGW__…` variables, sorted by name so the outcome never depends on environment order.
    pub overrides: Vec<(String, String)>,
}

impl EnvVars {
    /// Keeps `CONFIG_PATH` and the `SPGW__` variables; drops everything else.
    pub fn collect(env: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut vars = EnvVars::default();
        for (name, value) in env {
            if name == "CONFIG_PATH" {
                vars.config_path = Some(value);
            } else if name.starts_with(PREFIX) {
                vars.overrides.push((name, value));
            }
        }
        vars.overrides.sort();
        vars
    }
}

/// A key set from the environment: its dotted path and the variable that set it.
pub(crate) type EnvKey = (String, String);

/// Sets each override in `tree`, checking section and key against `defaults`
/// (the serialised default configuration, which lists every key). Returns which
/// variable set which key, so later errors can name the variable too.
pub(crate) fn apply(
    tree: &mut Map<String, Value>,
    defaults: &Value,
    overrides: &[(String, String)],
) -> Result<Vec<EnvKey>, ConfigError> {
    let mut set = Vec::with_capacity(overrides.len());
    for (var, raw) in overrides {
        let env_error = |message: String| ConfigError::Env { var: var.clone(), message };
        let rest = &var[PREFIX.len()..];
        let (section, key) = match rest.split_once("__") {
            Some((s, k)) if !s.is_empty() && !k.is_empty() && !k.contains("__") => (s.to_lowercase(), k.to_lowercase()),
            _ => return Err(env_error("expected the form SPGW__SECTION__KEY".to_string())),
        };
        let Some(section_defaults) = defaults.get(&section).and_then(Value::as_object) else {
            return Err(env_error(format!("unknown section {section}")));
        };
        let Some(default) = section_defaults.get(&key) else {
            return Err(env_error(format!("unknown key {section}.{key}")));
        };
        let slot = tree.entry(section.clone()).or_insert_with(|| Value::Object(Map::new()));
        let Some(section_tree) = slot.as_object_mut() else {
            return Err(env_error(format!("section {section} in the configuration file is not an object")));
        };
        section_tree.insert(key.clone(), interpret(raw, default));
        set.push((format!("{section}.{key}"), var.clone()));
    }
    Ok(set)
}

/// Turns a variable's text into a JSON value, guided by the key's default:
/// - string keys (and optional ones, whose default is `null`; all of ours are
///   strings or paths) take the text as is, so an all-digit hex key stays a
///   string; a quoted JSON string is unquoted and `null` unsets an optional key;
/// - list keys take a JSON array, or a comma-separated list (`a,b`), empty = `[]`;
/// - other keys (numbers, booleans) take the text as JSON; if it is not JSON it
///   stays a string and the deserialiser reports the type error with the key.
fn interpret(raw: &str, default: &Value) -> Value {
    match default {
        Value::String(_) | Value::Null => {
            if default.is_null() && raw == "null" {
                return Value::Null;
            }
            match serde_json::from_str::<Value>(raw) {
                Ok(Value::String(s)) if raw.starts_with('"') => Value::String(s),
                _ => Value::String(raw.to_string()),
            }
        }
        Value::Array(_) => {
            let trimmed = raw.trim();
            if trimmed.starts_with('[') {
                return serde_json::from_str(trimmed).unwrap_or_else(|_| Value::String(raw.to_string()));
            }
            let items = trimmed.split(',').map(str::trim).filter(|s| !s.is_empty());
            Value::Array(items.map(|s| Value::String(s.to_string())).collect())
        }
        Value::Bool(_) | Value::Number(_) | Value::Object(_) => {
            serde_json::from_str(raw.trim()).unwrap_or_else(|_| Value::String(raw.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> Value {
        json!({"server": {"host": "h", "port": 1, "allowed_origins": [], "public_url": null}, "security": {"master_key": null}})
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn collect_keeps_only_ours_sorted() {
        let env = vars(&[("SPGW__B__X", "1"), ("SPGW_ADMIN_PASSWORD", "pw"), ("PATH", "/bin"), ("SPGW__A__Y", "2")]);
        let got = EnvVars::collect(env.into_iter().chain([("CONFIG_PATH".to_string(), "/etc/x.json".to_string())]));
        assert_eq!(got.config_path.as_deref(), Some("/etc/x.json"));
        assert_eq!(got.overrides, vars(&[("SPGW__A__Y", "2"), ("SPGW__B__X", "1")]));
    }

    #[test]
    fn values_follow_the_type_of_the_default() {
        let mut tree = Map::new();
        let env = vars(&[
            ("SPGW__SERVER__PORT", "9000"),
            ("SPGW__SERVER__HOST", "0.0.0.0"),
            ("SPGW__SERVER__ALLOWED_ORIGINS", "http://a, http://b"),
            ("SPGW__SERVER__PUBLIC_URL", "\"https://gw\""),
            ("SPGW__SECURITY__MASTER_KEY", "1234"),
        ]);
        let set = apply(&mut tree, &defaults(), &env).unwrap();
        assert_eq!(
            Value::Object(tree),
            json!({"server": {"port": 9000, "host": "0.0.0.0", "allowed_origins": ["http://a", "http://b"],
                   "public_url": "https://gw"}, "security": {"master_key": "1234"}})
        );
        assert!(set.contains(&("server.port".to_string(), "SPGW__SERVER__PORT".to_string())));
    }

    #[test]
    fn json_arrays_null_and_unparsable_numbers() {
        assert_eq!(interpret(r#"["http://a"]"#, &json!([])), json!(["http://a"]));
        assert_eq!(interpret("", &json!([])), json!([]));
        assert_eq!(interpret("null", &Value::Null), Value::Null);
        assert_eq!(interpret("null", &json!("s")), json!("null"));
        assert_eq!(interpret("abc", &json!(1)), json!("abc"));
        assert_eq!(interpret("true", &json!(false)), json!(true));
        assert_eq!(
            interpret("mysql://root@127.0.0.1:3306/test", &Value::Null),
            json!("mysql://root@127.0.0.1:3306/test")
        );
    }

    #[test]
    fn section_and_key_are_case_insensitive_and_merge_into_the_file() {
        let mut tree = json!({"server": {"host": "file"}}).as_object().cloned().unwrap();
        apply(&mut tree, &defaults(), &vars(&[("SPGW__Server__Port", "1")])).unwrap();
        assert_eq!(Value::Object(tree), json!({"server": {"host": "file", "port": 1}}));
    }

    #[test]
    fn unknown_names_are_errors_naming_the_variable() {
        let cases = [
            ("SPGW__SERVER__PROT", "invalid configuration: SPGW__SERVER__PROT: unknown key server.prot"),
            ("SPGW__SERVR__PORT", "invalid configuration: SPGW__SERVR__PORT: unknown section servr"),
            ("SPGW__SERVER", "invalid configuration: SPGW__SERVER: expected the form SPGW__SECTION__KEY"),
            (
                "SPGW__SERVER__PORT__X",
                "invalid configuration: SPGW__SERVER__PORT__X: expected the form SPGW__SECTION__KEY",
            ),
        ];
        for (var, expected) in cases {
            let err = apply(&mut Map::new(), &defaults(), &vars(&[(var, "1")])).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
        let mut tree = json!({"server": 5}).as_object().cloned().unwrap();
        let err = apply(&mut tree, &defaults(), &vars(&[("SPGW__SERVER__PORT", "1")])).unwrap_err();
        assert_eq!(err.key(), Some("SPGW__SERVER__PORT"));
    }
}
