//! Reading a tool call's arguments with errors the model can act on.

use serde_json::{Map, Value};

use crate::error::{AgentError, Result};

/// The arguments object of one call.
#[derive(Debug, Default)]
pub struct Args(Map<String, Value>);

impl Args {
    /// Parses the JSON text a model produced (empty or `null` is `{}`).
    pub fn parse(text: &str) -> Result<Args> {
        if text.trim().is_empty() {
            return Ok(Args::default());
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Ok(Args(m)),
            Ok(Value::Null) => Ok(Args::default()),
            Ok(_) => Err(AgentError::invalid("arguments", "must be a JSON object")),
            Err(e) => Err(AgentError::invalid("arguments", format!("not valid JSON: {e}"))),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// Whether `key` was given (and not null).
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// An optional string.
    pub fn str(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AgentError::invalid(key, "must be a string")),
        }
    }

    /// A required, non-blank string.
    pub fn req_str(&self, key: &str) -> Result<String> {
        self.str(key)?.filter(|s| !s.trim().is_empty()).ok_or_else(|| AgentError::invalid(key, "is required"))
    }

    /// An optional integer (a number, or a string of digits as some models send).
    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                n.as_i64().map(Some).ok_or_else(|| AgentError::invalid(key, "must be an integer"))
            }
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| AgentError::invalid(key, "must be an integer"))
            }
            Some(_) => Err(AgentError::invalid(key, "must be an integer")),
        }
    }

    /// A required integer.
    pub fn req_int(&self, key: &str) -> Result<i64> {
        self.int(key)?.ok_or_else(|| AgentError::invalid(key, "is required"))
    }

    /// An optional list of strings (a single string counts as a list of one).
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| AgentError::invalid(key, "must be strings")))
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(AgentError::invalid(key, "must be a list of strings")),
        }
    }

    /// An optional boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(AgentError::invalid(key, "must be true or false")),
        }
    }

    /// An optional JSON value as given.
    pub fn json(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }

    /// A page size: `limit` clamped to 1..=max, `default` when absent.
    pub fn limit(&self, default: i64, max: i64) -> Result<i64> {
        Ok(self.int("limit")?.unwrap_or(default).clamp(1, max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_models_send() {
        let a = Args::parse(r#"{"title":"x","n":"7","tags":"ops","list":["a","b"],"nothing":null}"#).unwrap();
        assert_eq!(a.req_str("title").unwrap(), "x");
        assert_eq!(a.int("n").unwrap(), Some(7));
        assert_eq!(a.strings("tags").unwrap(), Some(vec!["ops".to_string()]));
        assert_eq!(a.strings("list").unwrap().unwrap().len(), 2);
        assert!(!a.has("nothing"));
        assert!(matches!(a.req_str("missing"), Err(AgentError::Invalid { field, .. }) if field == "missing"));
        assert!(a.int("title").is_err());
        assert!(Args::parse("").unwrap().0.is_empty());
        assert!(Args::parse("[1]").is_err());
        assert!(Args::parse("{nope").is_err());
        assert_eq!(Args::parse(r#"{"limit":5000}"#).unwrap().limit(20, 100).unwrap(), 100);
    }
}
