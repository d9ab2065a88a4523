//! The twelve coding actions. Each is one remote shell script: the path guard,
//! then the operation, run over the workspace's SSH connection.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::paths::{self, EXIT_FAILED, EXIT_NO_WORKSPACE, EXIT_REFUSED};
use super::{Workspace, limits};
use crate::error::{Result, RunnerError};
use crate::ssh::{Captured, kill_group, killable, sq};

fn dot() -> String {
    ".".into()
}

#[derive(Deserialize)]
pub(super) struct ListArgs {
    #[serde(default = "dot")]
    path: String,
    #[serde(default)]
    depth: Option<u32>,
}

#[derive(Deserialize)]
pub(super) struct ReadArgs {
    path: String,
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    max_bytes: Option<u64>,
}

#[derive(Deserialize)]
pub(super) struct WriteArgs {
    path: String,
    content: String,
    #[serde(default)]
    create_dirs: Option<bool>,
}

#[derive(Deserialize)]
pub(super) struct DeleteArgs {
    path: String,
    #[serde(default)]
    recursive: bool,
}

#[derive(Deserialize)]
pub(super) struct PathArgs {
    path: String,
}

#[derive(Deserialize)]
pub(super) struct SearchArgs {
    pattern: String,
    #[serde(default = "dot")]
    path: String,
    #[serde(default)]
    regex: bool,
    #[serde(default)]
    case_insensitive: bool,
    #[serde(default)]
    max_results: Option<usize>,
}

#[derive(Deserialize)]
pub(super) struct CommandArgs {
    command: String,
    #[serde(default = "dot")]
    cwd: String,
    #[serde(default)]
    timeout_seconds: Option<u64>,
    #[serde(default)]
    max_output_bytes: Option<usize>,
}

#[derive(Deserialize)]
pub(super) struct DiffArgs {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    staged: bool,
    #[serde(default)]
    stat: bool,
}

#[derive(Deserialize)]
pub(super) struct LogArgs {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    path: Option<String>,
}

/// Git with nothing configurable that could run a program: no pager, no fsmonitor,
/// no external diff or textconv, no optional index writes.
const GIT: &str = "GIT_OPTIONAL_LOCKS=0 git --no-pager -c core.fsmonitor=false -c core.pager=cat";

impl Workspace {
    /// Runs `script` with `sh`, mapping the guard's exit statuses to errors.
    async fn script(&self, script: &str, stdin: Option<&[u8]>, cap: usize) -> Result<Captured> {
        let out = self.session.capture(&format!("sh -c {}", sq(script)), stdin, cap).await?;
        match out.exit_code {
            Some(0) => Ok(out),
            Some(c) if c == i64::from(EXIT_REFUSED) => Err(RunnerError::PathRefused(out.stderr_text())),
            Some(c) if c == i64::from(EXIT_NO_WORKSPACE) => {
                Err(RunnerError::Action(format!("the workspace {} does not exist on the runner host", self.dir)))
            }
            Some(c) if c == i64::from(EXIT_FAILED) => Err(RunnerError::Action(out.stderr_text())),
            other => Err(RunnerError::Action(format!(
                "failed (exit status {}): {}",
                other.map(|c| c.to_string()).unwrap_or_else(|| "none".into()),
                out.stderr_text()
            ))),
        }
    }

    pub(super) async fn describe_capabilities(&self) -> Result<Json> {
        let script = "uname -srm 2>/dev/null || echo unknown; \
            for t in git make cargo rustc node npm python3 pytest go java; do \
            command -v $t >/dev/null 2>&1 && printf '%s ' $t; done; echo";
        let out = self.script(script, None, 16 * 1024).await?;
        let text = out.stdout_text();
        let mut lines = text.lines();
        let system = lines.next().unwrap_or_default().trim().to_string();
        let tools: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
        Ok(json!({
            "host": self.host,
            "workspace": self.dir,
            "system": system,
            "tools": tools,
            "paths": "relative to the workspace; absolute paths, `..` and symlinks leading out are refused",
            "limits": {
                "read_max_bytes": limits::READ_MAX,
                "write_max_bytes": limits::WRITE_MAX,
                "command_timeout_max_seconds": limits::TIMEOUT_MAX,
                "command_output_max_bytes": limits::OUTPUT_MAX,
            },
            "git": "read-only: git_status, git_diff, git_log",
            "actions": super::TOOL_NAMES,
        }))
    }

    pub(super) async fn list_directory(&self, a: ListArgs) -> Result<Json> {
        let rel = paths::clean(&a.path)?;
        let depth = a.depth.unwrap_or(1).clamp(1, 5);
        let script = format!(
            "{}[ -d \"$r\" ] || fail 'not a directory: {rel_msg}'\ncd \"$r\" && find . -mindepth 1 -maxdepth {depth} \
             -name .git -prune -o -printf '%y\\t%s\\t%P\\n' | head -n {n}",
            paths::guard(&self.dir, &rel, false),
            rel_msg = rel.replace('\'', ""),
            n = limits::LIST_MAX + 1
        );
        let out = self.script(&script, None, 4 * 1024 * 1024).await?;
        let text = out.stdout_text();
        let mut entries: Vec<Json> = text
            .lines()
            .filter_map(|l| {
                let mut f = l.splitn(3, '\t');
                let (kind, size, name) = (f.next()?, f.next()?, f.next()?);
                let kind = match kind {
                    "f" => "file",
                    "d" => "dir",
                    "l" => "symlink",
                    _ => "other",
                };
                let path = if rel == "." { name.to_string() } else { format!("{rel}/{name}") };
                Some(json!({"path": path, "type": kind, "size": size.parse::<u64>().unwrap_or(0)}))
            })
            .collect();
        let truncated = entries.len() > limits::LIST_MAX;
        entries.truncate(limits::LIST_MAX);
        entries.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        Ok(json!({"path": rel, "entries": entries, "truncated": truncated}))
    }

    pub(super) async fn read_file(&self, a: ReadArgs) -> Result<Json> {
        let rel = paths::clean(&a.path)?;
        let max = a.max_bytes.unwrap_or(limits::READ_DEFAULT).clamp(1, limits::READ_MAX);
        let script = format!(
            "{}[ -f \"$r\" ] || fail 'not a file'\nstat -c %s -- \"$r\" >&2\ntail -c +{from} -- \"$r\" | head -c {max}",
            paths::guard(&self.dir, &rel, false),
            from = a.offset + 1
        );
        let out = self.script(&script, None, usize::try_from(max).unwrap_or(usize::MAX)).await?;
        let size: u64 = out.stderr_text().lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
        let end = a.offset + out.stdout.len() as u64;
        let binary = out.stdout.contains(&0);
        let content = if binary { Json::Null } else { json!(String::from_utf8_lossy(&out.stdout)) };
        Ok(json!({
            "path": rel, "size": size, "offset": a.offset, "bytes": out.stdout.len(),
            "truncated": end < size, "binary": binary, "content": content,
        }))
    }

    pub(super) async fn write_file(&self, a: WriteArgs, append: bool) -> Result<Json> {
        let rel = paths::clean(&a.path)?;
        if rel == "." || paths::in_git_dir(&rel) {
            return Err(RunnerError::PathRefused(format!("cannot write {rel:?}")));
        }
        if a.content.len() > limits::WRITE_MAX {
            return Err(RunnerError::Action(format!("content is larger than {} bytes", limits::WRITE_MAX)));
        }
        let mkdir =
            if a.create_dirs.unwrap_or(true) { "mkdir -p -- \"$(dirname -- \"$t\")\" || exit 94\n" } else { "" };
        let script = format!(
            "{}[ ! -d \"$r\" ] || fail 'is a directory'\n{mkdir}cat {op} \"$t\" || fail 'cannot write the file'\nstat -c %s -- \"$r\"",
            paths::guard(&self.dir, &rel, true),
            op = if append { ">>" } else { ">" },
        );
        let out = self.script(&script, Some(a.content.as_bytes()), 1024).await?;
        let size: u64 = out.stdout_text().trim().parse().unwrap_or(0);
        Ok(json!({"path": rel, "bytes_written": a.content.len(), "size": size, "appended": append}))
    }

    pub(super) async fn delete_path(&self, a: DeleteArgs) -> Result<Json> {
        let rel = paths::clean(&a.path)?;
        if rel == "." || paths::in_git_dir(&rel) {
            return Err(RunnerError::PathRefused(format!("cannot delete {rel:?}")));
        }
        let dir_op = if a.recursive {
            "rm -rf -- \"$t\""
        } else {
            "rmdir -- \"$t\" 2>/dev/null || fail 'directory not empty (pass recursive: true)'"
        };
        let script = format!(
            "{}[ -e \"$t\" ] || [ -L \"$t\" ] || fail 'no such file or directory'\n\
             if [ -d \"$t\" ] && [ ! -L \"$t\" ]; then {dir_op}; else rm -f -- \"$t\"; fi",
            paths::guard(&self.dir, &rel, true),
        );
        self.script(&script, None, 1024).await?;
        Ok(json!({"path": rel, "deleted": true}))
    }

    pub(super) async fn make_directory(&self, a: PathArgs) -> Result<Json> {
        let rel = paths::clean(&a.path)?;
        if paths::in_git_dir(&rel) {
            return Err(RunnerError::PathRefused(format!("cannot create {rel:?}")));
        }
        let script = format!(
            "{}[ ! -e \"$r\" ] || [ -d \"$r\" ] || fail 'exists and is not a directory'\nmkdir -p -- \"$t\" || exit 94",
            paths::guard(&self.dir, &rel, true)
        );
        self.script(&script, None, 1024).await?;
        Ok(json!({"path": rel, "created": true}))
    }

    pub(super) async fn search_text(&self, a: SearchArgs) -> Result<Json> {
        if a.pattern.is_empty() || a.pattern.len() > 1000 || a.pattern.contains('\0') {
            return Err(RunnerError::invalid("pattern", "must be 1 to 1000 characters"));
        }
        let rel = paths::clean(&a.path)?;
        let max = a.max_results.unwrap_or(100).clamp(1, limits::SEARCH_MAX);
        // -r (not -R) never follows a symlink met while recursing; the start was checked by the guard.
        let script = format!(
            "{}cd \"$ws\" || exit 94\ngrep -rnIZ --exclude-dir=.git {mode} {case} -e {pat} -- {rel} 2>/dev/null | head -n {n}\nexit 0",
            paths::guard(&self.dir, &rel, false),
            mode = if a.regex { "-E" } else { "-F" },
            case = if a.case_insensitive { "-i" } else { "" },
            pat = sq(&a.pattern),
            rel = sq(&rel),
            n = max + 1
        );
        let out = self.script(&script, None, 4 * 1024 * 1024).await?;
        let text = out.stdout_text();
        let mut matches: Vec<Json> = text
            .lines()
            .filter_map(|l| {
                let (file, rest) = l.split_once('\0')?;
                let (line, content) = rest.split_once(':')?;
                let content: String = content.chars().take(500).collect();
                Some(json!({"path": file.trim_start_matches("./"), "line": line.parse::<u64>().ok()?, "text": content}))
            })
            .collect();
        let truncated = matches.len() > max;
        matches.truncate(max);
        Ok(json!({"pattern": a.pattern, "matches": matches, "truncated": truncated}))
    }

    pub(super) async fn run_command(&self, a: CommandArgs) -> Result<Json> {
        if a.command.trim().is_empty() || a.command.len() > crate::commands::MAX_COMMAND_LEN || a.command.contains('\0')
        {
            return Err(RunnerError::invalid("command", "must be 1 to 16384 bytes"));
        }
        let rel = paths::clean(&a.cwd)?;
        // The working directory is checked on its own first: the command's exit statuses are its own.
        let check = format!(
            "{}[ -d \"$r\" ] || fail 'cwd is not a directory'\necho \"$r\"",
            paths::guard(&self.dir, &rel, false)
        );
        let cwd = self.script(&check, None, 8192).await?.stdout_text().trim().to_string();
        let timeout = a.timeout_seconds.unwrap_or(limits::TIMEOUT_DEFAULT).clamp(1, limits::TIMEOUT_MAX);
        let cap = a.max_output_bytes.unwrap_or(limits::OUTPUT_DEFAULT).clamp(1, limits::OUTPUT_MAX);
        let pidfile = format!("{}/.spgw/cmd-{}.pid", self.root.trim_end_matches('/'), uuid::Uuid::new_v4().simple());
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        let out = self.session.capture_until(&killable(&a.command, &cwd, &pidfile), None, cap, Some(deadline)).await?;
        if out.timed_out {
            let _ =
                tokio::time::timeout(Duration::from_secs(10), self.session.capture(&kill_group(&pidfile), None, 1024))
                    .await;
        } else {
            let _ = self.session.capture(&format!("rm -f {}", sq(&pidfile)), None, 1024).await;
        }
        Ok(json!({
            "command": a.command,
            "cwd": rel,
            "exit_code": if out.timed_out { None } else { out.exit_code },
            "signal": out.signal,
            "timed_out": out.timed_out,
            "timeout_seconds": timeout,
            "duration_ms": started.elapsed().as_millis() as u64,
            "stdout": String::from_utf8_lossy(&out.stdout),
            "stderr": String::from_utf8_lossy(&out.stderr),
            "stdout_truncated": out.stdout_truncated,
            "stderr_truncated": out.stderr_truncated,
        }))
    }

    pub(super) async fn git_status(&self) -> Result<Json> {
        let script = format!(
            "{}cd \"$ws\" || exit 94\n{GIT} status --porcelain=v1 --branch",
            paths::guard(&self.dir, ".", false)
        );
        let out = self.script(&script, None, 1024 * 1024).await?;
        let text = out.stdout_text();
        let mut branch = None;
        let mut entries = Vec::new();
        for line in text.lines() {
            if let Some(b) = line.strip_prefix("## ") {
                branch = Some(b.to_string());
            } else if line.len() > 3 {
                entries.push(json!({"status": line[..2].trim(), "path": &line[3..]}));
            }
        }
        Ok(json!({"branch": branch, "clean": entries.is_empty(), "entries": entries}))
    }

    pub(super) async fn git_diff(&self, a: DiffArgs) -> Result<Json> {
        let rel = paths::clean(a.path.as_deref().unwrap_or("."))?;
        let script = format!(
            "{}cd \"$ws\" || exit 94\n{GIT} diff --no-color --no-ext-diff --no-textconv {staged} {stat} -- {rel}",
            paths::guard(&self.dir, &rel, false),
            staged = if a.staged { "--cached" } else { "" },
            stat = if a.stat { "--stat" } else { "" },
            rel = sq(&rel),
        );
        let out = self.script(&script, None, limits::DIFF_MAX).await?;
        Ok(json!({"path": rel, "staged": a.staged, "diff": out.stdout_text(), "truncated": out.stdout_truncated}))
    }

    pub(super) async fn git_log(&self, a: LogArgs) -> Result<Json> {
        let rel = paths::clean(a.path.as_deref().unwrap_or("."))?;
        let n = a.limit.unwrap_or(20).clamp(1, limits::LOG_MAX);
        let script = format!(
            "{}cd \"$ws\" || exit 94\n{GIT} log -n {n} --no-color --format='%H%x1f%an%x1f%aI%x1f%s' -- {rel}",
            paths::guard(&self.dir, &rel, false),
            rel = sq(&rel),
        );
        let out = self.script(&script, None, 1024 * 1024).await?;
        let commits: Vec<Json> = out
            .stdout_text()
            .lines()
            .filter_map(|l| {
                let mut f = l.split('\u{1f}');
                Some(json!({"hash": f.next()?, "author": f.next()?, "date": f.next()?, "subject": f.next().unwrap_or("")}))
            })
            .collect();
        Ok(json!({"commits": commits}))
    }
}
