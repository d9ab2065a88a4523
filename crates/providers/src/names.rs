//! Tool names as providers accept them. Gateway tools are dotted
//! (`task.create`); OpenAI, Anthropic and Gemini accept only `[A-Za-z0-9_-]`
//! (at most 64 characters), so adapters send `task_create` and map the name in
//! the model's tool calls back.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::model::ToolDef;

const MAX_LEN: usize = 64;

/// Maps between gateway tool names and provider-safe wire names for one request.
#[derive(Debug, Default, Clone)]
pub struct ToolNames {
    from_wire: HashMap<String, String>,
}

/// The provider-safe form of a tool name.
pub fn wire_name(name: &str) -> Cow<'_, str> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.len() <= MAX_LEN && name.chars().all(ok) {
        return Cow::Borrowed(name);
    }
    let mut out: String = name.chars().map(|c| if ok(c) { c } else { '_' }).collect();
    out.truncate(MAX_LEN);
    Cow::Owned(out)
}

impl ToolNames {
    /// Builds the reverse map for the tools of one request.
    pub fn new(tools: &[ToolDef]) -> Self {
        let mut from_wire = HashMap::new();
        for t in tools {
            if let Cow::Owned(w) = wire_name(&t.name) {
                from_wire.insert(w, t.name.clone());
            }
        }
        ToolNames { from_wire }
    }

    /// Whether every tool keeps its own name on the wire.
    pub fn is_identity(&self) -> bool {
        self.from_wire.is_empty()
    }

    /// The name to send to the provider.
    pub fn to_wire<'a>(&self, name: &'a str) -> Cow<'a, str> {
        wire_name(name)
    }

    /// The gateway name for a name the provider returned.
    pub fn from_wire(&self, wire: &str) -> String {
        self.from_wire.get(wire).cloned().unwrap_or_else(|| wire.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> ToolDef {
        ToolDef {
            name: name.into(),
            description: String::new(),
            parameters: json!({}),
            strict: None,
            cache_control: None,
        }
    }

    #[test]
    fn dotted_names_round_trip() {
        let names = ToolNames::new(&[tool("task.create"), tool("plain_name")]);
        assert_eq!(names.to_wire("task.create"), "task_create");
        assert_eq!(names.from_wire("task_create"), "task.create");
        assert_eq!(names.to_wire("plain_name"), "plain_name");
        assert_eq!(names.from_wire("plain_name"), "plain_name");
    }

    #[test]
    fn long_names_are_truncated() {
        let long = "a.".repeat(50);
        assert_eq!(wire_name(&long).len(), 64);
    }
}
