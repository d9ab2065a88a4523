//! Which command a run executes: the per-run override, else the codebase's
//! `runtime_config.commands.<kind>`, else the default of its preferred stack.

use serde_json::Value as Json;

use crate::error::{Result, RunnerError};
use crate::types::RunKind;

/// A stack the gateway knows default commands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    Rust,
    Node,
    Python,
}

/// Words in `preferred_stack` that point at a stack; the earliest mention wins
/// ("Python service with a Rust extension" is a Python codebase).
const STACK_WORDS: &[(&str, Stack)] = &[
    ("rust", Stack::Rust),
    ("cargo", Stack::Rust),
    ("node", Stack::Node),
    ("typescript", Stack::Node),
    ("javascript", Stack::Node),
    ("npm", Stack::Node),
    ("python", Stack::Python),
    ("django", Stack::Python),
    ("fastapi", Stack::Python),
];

impl Stack {
    /// Recognises the stack named in free text such as `"Rust + PostgreSQL"`.
    pub fn detect(preferred_stack: &str) -> Option<Stack> {
        let text = preferred_stack.to_ascii_lowercase();
        STACK_WORDS
            .iter()
            .filter_map(|(w, s)| text.find(w).map(|at| (at, *s)))
            .min_by_key(|(at, _)| *at)
            .map(|(_, s)| s)
    }

    /// The default command of a kind (none for `custom`).
    pub fn command(self, kind: RunKind) -> Option<&'static str> {
        Some(match (self, kind) {
            (_, RunKind::Custom) => return None,
            (Stack::Rust, RunKind::Lint) => "cargo clippy",
            (Stack::Rust, RunKind::Test) => "cargo test",
            (Stack::Rust, RunKind::Build) => "cargo build",
            (Stack::Node, RunKind::Lint) => "npm run lint",
            (Stack::Node, RunKind::Test) => "npm test",
            (Stack::Node, RunKind::Build) => "npm run build",
            (Stack::Python, RunKind::Lint) => "ruff check .",
            (Stack::Python, RunKind::Test) => "pytest",
            (Stack::Python, RunKind::Build) => "python -m build",
        })
    }
}

/// The longest command accepted (it travels as one SSH exec request).
pub const MAX_COMMAND_LEN: usize = 16 * 1024;

/// Resolves the command of a run: `given` (the per-run override) wins, then
/// `runtime_config.commands.<kind>`, then the stack default; `custom` needs `given`.
pub fn resolve(
    kind: RunKind,
    given: Option<&str>,
    runtime_config: &Json,
    preferred_stack: Option<&str>,
) -> Result<String> {
    let given = given.map(str::trim).filter(|c| !c.is_empty());
    let configured = runtime_config
        .get("commands")
        .and_then(|c| c.get(kind.as_str()))
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let stacked = preferred_stack.and_then(Stack::detect).and_then(|s| s.command(kind));
    let command = match (kind, given) {
        (_, Some(c)) => c.to_string(),
        (RunKind::Custom, None) => return Err(RunnerError::invalid("command", "is required for a custom run")),
        (_, None) => configured.or(stacked).map(str::to_owned).ok_or_else(|| {
            RunnerError::invalid(
                "command",
                format!(
                    "no {k} command known for this codebase: pass `command`, set runtime_config.commands.{k}, \
                     or set preferred_stack to rust, node or python",
                    k = kind.as_str()
                ),
            )
        })?,
    };
    if command.len() > MAX_COMMAND_LEN {
        return Err(RunnerError::invalid("command", format!("is longer than {MAX_COMMAND_LEN} bytes")));
    }
    if command.contains('\0') {
        return Err(RunnerError::invalid("command", "contains a NUL byte"));
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stack_detection_takes_the_first_mention() {
        assert_eq!(Stack::detect("Rust + PostgreSQL"), Some(Stack::Rust));
        assert_eq!(Stack::detect("TypeScript (Node 22)"), Some(Stack::Node));
        assert_eq!(Stack::detect("Python service with a Rust extension"), Some(Stack::Python));
        assert_eq!(Stack::detect("Go"), None);
    }

    #[test]
    fn override_then_config_then_stack() {
        let rc = json!({"commands": {"test": "./ci/test.sh"}});
        assert_eq!(resolve(RunKind::Test, Some("make check"), &rc, Some("rust")).unwrap(), "make check");
        assert_eq!(resolve(RunKind::Test, None, &rc, Some("rust")).unwrap(), "./ci/test.sh");
        assert_eq!(resolve(RunKind::Build, None, &rc, Some("rust")).unwrap(), "cargo build");
        assert_eq!(resolve(RunKind::Lint, None, &json!(null), Some("python")).unwrap(), "ruff check .");
        assert_eq!(resolve(RunKind::Build, None, &json!(null), Some("node")).unwrap(), "npm run build");
    }

    #[test]
    fn custom_needs_a_command_and_unknown_stacks_say_so() {
        assert!(resolve(RunKind::Custom, None, &json!({"commands": {"custom": "x"}}), Some("rust")).is_err());
        assert_eq!(resolve(RunKind::Custom, Some(" ls "), &json!(null), None).unwrap(), "ls");
        let err = resolve(RunKind::Test, None, &json!(null), Some("Go")).unwrap_err().to_string();
        assert!(err.contains("runtime_config.commands.test"), "{err}");
    }
}
