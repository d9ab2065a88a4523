//! Task limits as JSON (`{max_turns, max_tool_calls, max_tokens, max_cost_usd}`) and
//! their merging: the smallest of task, agent and project limits wins, and a spawned
//! task gets what is left of its parent's budget.

use serde_json::{Map, Value as Json, json};

use crate::error::{Result, TaskError};
use crate::runner::Limits;

const KEYS: &[&str] = &["max_turns", "max_tool_calls", "max_tokens", "max_cost_usd"];

/// Validates a limits object (`null` allowed); returns it normalised.
pub fn validate(field: &str, v: &Json) -> Result<Option<Json>> {
    if v.is_null() {
        return Ok(None);
    }
    let obj = v.as_object().ok_or_else(|| TaskError::invalid(field, "must be an object"))?;
    let mut out = Map::new();
    for (k, val) in obj {
        if !KEYS.contains(&k.as_str()) {
            return Err(TaskError::invalid(field, format!("unknown limit {k:?}; limits: {}", KEYS.join(", "))));
        }
        if val.is_null() {
            continue;
        }
        let ok = if k == "max_cost_usd" {
            val.as_f64().is_some_and(|f| f.is_finite() && f >= 0.0)
        } else {
            val.as_u64().is_some()
        };
        if !ok {
            return Err(TaskError::invalid(format!("{field}.{k}"), "must be a non-negative number"));
        }
        out.insert(k.clone(), val.clone());
    }
    Ok((!out.is_empty()).then_some(Json::Object(out)))
}

/// Reads limits from stored JSON (missing keys are unlimited).
pub fn from_json(v: Option<&Json>) -> Limits {
    let get = |k: &str| v.and_then(|v| v.get(k));
    Limits {
        max_turns: get("max_turns").and_then(Json::as_u64).map(|n| n.min(u32::MAX as u64) as u32),
        max_tool_calls: get("max_tool_calls").and_then(Json::as_u64).map(|n| n.min(u32::MAX as u64) as u32),
        max_tokens: get("max_tokens").and_then(Json::as_u64),
        max_cost_usd: get("max_cost_usd").and_then(Json::as_f64),
    }
}

/// Limits as JSON (unlimited keys left out); `None` when all are unlimited.
pub fn to_json(l: &Limits) -> Option<Json> {
    let mut m = Map::new();
    if let Some(n) = l.max_turns {
        m.insert("max_turns".into(), json!(n));
    }
    if let Some(n) = l.max_tool_calls {
        m.insert("max_tool_calls".into(), json!(n));
    }
    if let Some(n) = l.max_tokens {
        m.insert("max_tokens".into(), json!(n));
    }
    if let Some(n) = l.max_cost_usd {
        m.insert("max_cost_usd".into(), json!(n));
    }
    (!m.is_empty()).then_some(Json::Object(m))
}

fn min_opt<T: PartialOrd + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y < x { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The tighter of two limits, field by field.
pub fn tightest(a: &Limits, b: &Limits) -> Limits {
    Limits {
        max_turns: min_opt(a.max_turns, b.max_turns),
        max_tool_calls: min_opt(a.max_tool_calls, b.max_tool_calls),
        max_tokens: min_opt(a.max_tokens, b.max_tokens),
        max_cost_usd: min_opt(a.max_cost_usd, b.max_cost_usd),
    }
}

/// What is left of `l` after spending `tokens` and `cost_usd` (never below zero).
pub fn remaining(l: &Limits, tokens: u64, cost_usd: f64) -> Limits {
    Limits {
        max_tokens: l.max_tokens.map(|m| m.saturating_sub(tokens)),
        max_cost_usd: l.max_cost_usd.map(|m| (m - cost_usd).max(0.0)),
        ..l.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_and_merges() {
        assert!(validate("limits", &json!({"max_tokens": -1})).is_err());
        assert!(validate("limits", &json!({"max_money": 1})).is_err());
        assert_eq!(validate("limits", &json!({})).unwrap(), None);
        let parent = from_json(Some(&json!({"max_tokens": 1000, "max_cost_usd": 1.0, "max_turns": 5})));
        let left = remaining(&parent, 400, 0.25);
        assert_eq!(left.max_tokens, Some(600));
        assert_eq!(left.max_cost_usd, Some(0.75));
        assert_eq!(left.max_turns, Some(5));
        let child = from_json(Some(&json!({"max_tokens": 2000, "max_tool_calls": 3})));
        let merged = tightest(&child, &left);
        assert_eq!(merged.max_tokens, Some(600));
        assert_eq!(merged.max_tool_calls, Some(3));
        assert_eq!(
            to_json(&merged),
            Some(json!({"max_turns": 5, "max_tool_calls": 3, "max_tokens": 600, "max_cost_usd": 0.75}))
        );
        assert_eq!(remaining(&parent, 5000, 9.0).max_tokens, Some(0));
    }
}
