//! Guards: the limits a run may not cross, checked before every model call
//! and every tool call with the gateway's own metering (the tokens and cost
//! the router reports for each call), and detection of a model that keeps
//! making the same tool call.
//!
//! A check happens *before* a call, so a run can overshoot a token or cost
//! limit by at most the one call that crossed it; it never starts another.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;
use spgw_tasks::Limits;

/// The count of identical tool calls (same name and arguments) in one run at
/// which the guard stops it: the first N-1 run, the Nth is refused. Runtime
/// setting `agents.max_identical_tool_calls` (0 disables the check).
pub const DEFAULT_MAX_IDENTICAL_CALLS: u32 = 3;

/// Why a guard stopped a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Trip {
    Turns {
        limit: u32,
    },
    ToolCalls {
        limit: u32,
    },
    Tokens {
        used: u64,
        limit: u64,
    },
    Cost {
        used: f64,
        limit: f64,
    },
    /// The same call `times` times: the model is going round in circles.
    Repeated {
        name: String,
        times: u32,
    },
}

impl Trip {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Trip::Turns { .. } => "max_turns",
            Trip::ToolCalls { .. } => "max_tool_calls",
            Trip::Tokens { .. } => "max_tokens",
            Trip::Cost { .. } => "max_cost_usd",
            Trip::Repeated { .. } => "repeated_tool_call",
        }
    }
}

impl fmt::Display for Trip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trip::Turns { limit } => write!(f, "turn limit reached ({limit} model calls)"),
            Trip::ToolCalls { limit } => write!(f, "tool-call limit reached ({limit} calls)"),
            Trip::Tokens { used, limit } => write!(f, "token limit reached ({used} of {limit} tokens used)"),
            Trip::Cost { used, limit } => write!(f, "cost limit reached (${used:.6} of ${limit:.6} spent)"),
            Trip::Repeated { name, times } => {
                write!(f, "the model repeated the same call to {name} {times} times with identical arguments")
            }
        }
    }
}

/// What a run has used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metered {
    /// Model calls made.
    pub turns: u32,
    /// Tool calls executed.
    pub tool_calls: u32,
    pub tokens: u64,
    pub cost_usd: f64,
}

/// The guard of one run.
#[derive(Debug, Clone)]
pub struct Guard {
    limits: Limits,
    max_identical: u32,
    used: Metered,
    seen: HashMap<String, u32>,
}

impl Guard {
    /// A guard over `limits`; `max_identical` is the number of identical calls
    /// that trips it (0 disables the check).
    pub fn new(limits: Limits, max_identical: u32) -> Self {
        Guard { limits, max_identical, used: Metered::default(), seen: HashMap::new() }
    }

    /// What was used so far.
    pub fn used(&self) -> Metered {
        self.used
    }

    /// The limits this guard enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// What is left of each limit (for a task spawned now to inherit).
    pub fn remaining(&self) -> Limits {
        let u = self.used;
        Limits {
            max_turns: self.limits.max_turns.map(|l| l.saturating_sub(u.turns)),
            max_tool_calls: self.limits.max_tool_calls.map(|l| l.saturating_sub(u.tool_calls)),
            max_tokens: self.limits.max_tokens.map(|l| l.saturating_sub(u.tokens)),
            max_cost_usd: self.limits.max_cost_usd.map(|l| (l - u.cost_usd).max(0.0)),
        }
    }

    /// Whether another model call may be made.
    pub fn before_model_call(&self) -> Result<(), Trip> {
        let (l, u) = (&self.limits, self.used);
        if let Some(limit) = l.max_turns.filter(|&m| u.turns >= m) {
            return Err(Trip::Turns { limit });
        }
        if let Some(limit) = l.max_tokens.filter(|&m| u.tokens >= m) {
            return Err(Trip::Tokens { used: u.tokens, limit });
        }
        if let Some(limit) = l.max_cost_usd.filter(|&m| u.cost_usd >= m) {
            return Err(Trip::Cost { used: u.cost_usd, limit });
        }
        Ok(())
    }

    /// Meters a finished model call.
    pub fn record_model_call(&mut self, tokens: u64, cost_usd: f64) {
        self.used.turns += 1;
        self.used.tokens += tokens;
        self.used.cost_usd += cost_usd.max(0.0);
    }

    /// Whether this tool call may run; when it may, it is counted.
    pub fn before_tool_call(&mut self, name: &str, arguments: &str) -> Result<(), Trip> {
        if let Some(limit) = self.limits.max_tool_calls.filter(|&m| self.used.tool_calls >= m) {
            return Err(Trip::ToolCalls { limit });
        }
        if self.max_identical > 0 {
            let key = format!("{name}\u{0}{}", canonical_arguments(arguments));
            let times = self.seen.entry(key).or_insert(0);
            *times += 1;
            if *times >= self.max_identical {
                return Err(Trip::Repeated { name: name.to_string(), times: *times });
            }
        }
        self.used.tool_calls += 1;
        Ok(())
    }
}

/// Arguments in a form where key order and spacing do not matter, so
/// `{"a":1,"b":2}` and `{ "b": 2, "a": 1 }` count as the same call.
fn canonical_arguments(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v) => {
            let mut out = String::with_capacity(arguments.len());
            write_canonical(&v, &mut out);
            out
        }
        Err(_) => arguments.trim().to_string(),
    }
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(turns: Option<u32>, calls: Option<u32>, tokens: Option<u64>, cost: Option<f64>) -> Limits {
        Limits { max_turns: turns, max_tool_calls: calls, max_tokens: tokens, max_cost_usd: cost }
    }

    #[test]
    fn unlimited_never_trips() {
        let mut g = Guard::new(Limits::default(), 0);
        for i in 0..1000 {
            assert!(g.before_model_call().is_ok());
            g.record_model_call(10_000, 1.0);
            assert!(g.before_tool_call("t", &format!("{{\"i\":{}}}", i % 2)).is_ok());
        }
        assert_eq!(g.used().turns, 1000);
        assert_eq!(g.used().tool_calls, 1000);
    }

    #[test]
    fn turns_trip_before_the_call_past_the_limit() {
        let mut g = Guard::new(limits(Some(2), None, None, None), 3);
        assert!(g.before_model_call().is_ok());
        g.record_model_call(1, 0.0);
        assert!(g.before_model_call().is_ok());
        g.record_model_call(1, 0.0);
        let trip = g.before_model_call().unwrap_err();
        assert_eq!(trip, Trip::Turns { limit: 2 });
        assert_eq!(trip.code(), "max_turns");
    }

    #[test]
    fn tokens_and_cost_use_the_metered_figures() {
        let mut g = Guard::new(limits(None, None, Some(100), None), 3);
        g.record_model_call(60, 0.0);
        assert!(g.before_model_call().is_ok(), "60 of 100 tokens");
        g.record_model_call(45, 0.0);
        assert_eq!(g.before_model_call(), Err(Trip::Tokens { used: 105, limit: 100 }));

        let mut g = Guard::new(limits(None, None, None, Some(0.01)), 3);
        g.record_model_call(5, 0.004);
        assert!(g.before_model_call().is_ok());
        g.record_model_call(5, 0.007);
        let trip = g.before_model_call().unwrap_err();
        assert_eq!(trip.code(), "max_cost_usd");
        assert!(trip.to_string().contains("0.011000"), "{trip}");
    }

    #[test]
    fn tool_calls_are_counted_and_limited() {
        let mut g = Guard::new(limits(None, Some(2), None, None), 0);
        assert!(g.before_tool_call("a", "{}").is_ok());
        assert!(g.before_tool_call("b", "{}").is_ok());
        assert_eq!(g.before_tool_call("c", "{}"), Err(Trip::ToolCalls { limit: 2 }));
        assert_eq!(g.used().tool_calls, 2, "the refused call is not counted");
    }

    #[test]
    fn identical_calls_trip_whatever_the_key_order() {
        let mut g = Guard::new(Limits::default(), 3);
        assert!(g.before_tool_call("task.list", r#"{"status":"pending","limit":5}"#).is_ok());
        assert!(g.before_tool_call("task.list", r#"{"status":"failed","limit":5}"#).is_ok(), "other arguments");
        assert!(g.before_tool_call("task.create", r#"{"status":"pending","limit":5}"#).is_ok(), "other tool");
        assert!(g.before_tool_call("task.list", r#"{ "limit": 5, "status": "pending" }"#).is_ok());
        let trip = g.before_tool_call("task.list", r#"{"limit":5,"status":"pending"}"#).unwrap_err();
        assert_eq!(trip, Trip::Repeated { name: "task.list".into(), times: 3 });
        assert!(trip.to_string().contains("task.list"));
    }

    #[test]
    fn remaining_is_what_a_spawned_task_inherits() {
        let mut g = Guard::new(limits(Some(10), Some(5), Some(1000), Some(1.0)), 3);
        g.record_model_call(400, 0.25);
        g.before_tool_call("x", "{}").unwrap();
        assert_eq!(g.remaining(), limits(Some(9), Some(4), Some(600), Some(0.75)));
        assert_eq!(Guard::new(Limits::default(), 3).remaining(), Limits::default());
    }
}
