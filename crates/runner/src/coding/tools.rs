//! The coding actions as tools: names, descriptions and JSON schemas for the model.

use serde_json::{Value as Json, json};

/// The twelve tool names of SPEC §9, in order.
pub const TOOL_NAMES: [&str; 12] = [
    "coding.describe_capabilities",
    "coding.list_directory",
    "coding.read_file",
    "coding.write_file",
    "coding.append_file",
    "coding.delete_path",
    "coding.make_directory",
    "coding.search_text",
    "coding.run_command",
    "coding.git_status",
    "coding.git_diff",
    "coding.git_log",
];

/// One tool as offered to a model.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments.
    pub parameters: Json,
}

fn path(desc: &str) -> Json {
    json!({"type": "string", "description": desc})
}

fn object(props: Json, required: &[&str]) -> Json {
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

/// The coding tools with their schemas.
pub fn tools() -> Vec<ToolSpec> {
    let rel = "Path relative to the workspace (the codebase's checkout); absolute paths and `..` are refused";
    vec![
        ToolSpec {
            name: "coding.describe_capabilities",
            description: "Describe the coding workspace: host, checkout directory, system, installed tools and limits.",
            parameters: object(json!({}), &[]),
        },
        ToolSpec {
            name: "coding.list_directory",
            description: "List files and directories under a path of the workspace (.git is skipped).",
            parameters: object(
                json!({"path": path(rel), "depth": {"type": "integer", "minimum": 1, "maximum": 5, "description": "Levels to descend (default 1)"}}),
                &[],
            ),
        },
        ToolSpec {
            name: "coding.read_file",
            description: "Read a text file of the workspace (up to 256 KiB by default, 1 MiB at most).",
            parameters: object(
                json!({"path": path(rel), "offset": {"type": "integer", "minimum": 0}, "max_bytes": {"type": "integer", "minimum": 1, "maximum": 1048576}}),
                &["path"],
            ),
        },
        ToolSpec {
            name: "coding.write_file",
            description: "Create or overwrite a file of the workspace with the given content (1 MiB at most); parent directories are created.",
            parameters: object(
                json!({"path": path(rel), "content": {"type": "string"}, "create_dirs": {"type": "boolean"}}),
                &["path", "content"],
            ),
        },
        ToolSpec {
            name: "coding.append_file",
            description: "Append content to a file of the workspace (created when missing).",
            parameters: object(json!({"path": path(rel), "content": {"type": "string"}}), &["path", "content"]),
        },
        ToolSpec {
            name: "coding.delete_path",
            description: "Delete a file, a symlink, or a directory (non-empty only with recursive: true).",
            parameters: object(json!({"path": path(rel), "recursive": {"type": "boolean"}}), &["path"]),
        },
        ToolSpec {
            name: "coding.make_directory",
            description: "Create a directory (and its parents) in the workspace.",
            parameters: object(json!({"path": path(rel)}), &["path"]),
        },
        ToolSpec {
            name: "coding.search_text",
            description: "Search text files of the workspace for a fixed string (or an extended regex with regex: true); returns path, line and text of each match.",
            parameters: object(
                json!({
                    "pattern": {"type": "string"}, "path": path(rel), "regex": {"type": "boolean"},
                    "case_insensitive": {"type": "boolean"}, "max_results": {"type": "integer", "minimum": 1, "maximum": 1000}
                }),
                &["pattern"],
            ),
        },
        ToolSpec {
            name: "coding.run_command",
            description: "Run a shell command in the workspace (or a subdirectory) with a timeout (default 60 s, at most 600 s); returns exit code, stdout and stderr (capped).",
            parameters: object(
                json!({
                    "command": {"type": "string"}, "cwd": path(rel),
                    "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 600},
                    "max_output_bytes": {"type": "integer", "minimum": 1, "maximum": 1048576}
                }),
                &["command"],
            ),
        },
        ToolSpec {
            name: "coding.git_status",
            description: "Show the branch and the changed files of the checkout (read-only).",
            parameters: object(json!({}), &[]),
        },
        ToolSpec {
            name: "coding.git_diff",
            description: "Show uncommitted changes (or staged ones), optionally for one path or as a summary (read-only).",
            parameters: object(
                json!({"path": path(rel), "staged": {"type": "boolean"}, "stat": {"type": "boolean"}}),
                &[],
            ),
        },
        ToolSpec {
            name: "coding.git_log",
            description: "List recent commits (hash, author, date, subject), optionally touching one path (read-only).",
            parameters: object(
                json!({"limit": {"type": "integer", "minimum": 1, "maximum": 200}, "path": path(rel)}),
                &[],
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_tool_has_a_schema() {
        let specs = tools();
        assert_eq!(specs.iter().map(|t| t.name).collect::<Vec<_>>(), TOOL_NAMES.to_vec());
        for t in &specs {
            assert_eq!(t.parameters["type"], "object", "{}", t.name);
            for r in t.parameters["required"].as_array().unwrap() {
                assert!(t.parameters["properties"].get(r.as_str().unwrap()).is_some(), "{}: {r}", t.name);
            }
        }
    }
}
