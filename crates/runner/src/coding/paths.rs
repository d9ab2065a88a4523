//! Path confinement for the coding actions. A path is checked twice: here
//! (relative, no `..`, no NUL) and on the runner host, where `realpath -m`
//! resolves every symlink and the result must still be inside the workspace,
//! so a link to `/` planted in the checkout leads nowhere.

use crate::error::{Result, RunnerError};
use crate::ssh::sq;

/// Exit status of a guard that refused a path.
pub const EXIT_REFUSED: u32 = 91;
/// Exit status of an action that failed on the remote side (message on stderr).
pub const EXIT_FAILED: u32 = 92;
/// Exit status when the workspace itself is missing.
pub const EXIT_NO_WORKSPACE: u32 = 93;

/// Normalises a workspace-relative path: `""`/`"."` is the workspace itself; absolute paths,
/// `..` components and NUL bytes are refused; `.` and empty components are dropped.
pub fn clean(path: &str) -> Result<String> {
    if path.contains('\0') {
        return Err(RunnerError::PathRefused(format!("{path:?} contains a NUL byte")));
    }
    if path.starts_with('/') || path.starts_with('\\') {
        return Err(RunnerError::PathRefused(format!("{path:?} is absolute; paths are relative to the workspace")));
    }
    let mut parts = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(RunnerError::PathRefused(format!(
                    "{path:?} contains `..`; paths stay inside the workspace"
                )));
            }
            c => parts.push(c),
        }
    }
    if parts.len() > 64 || path.len() > 4096 {
        return Err(RunnerError::PathRefused("path too long".into()));
    }
    Ok(if parts.is_empty() { ".".to_string() } else { parts.join("/") })
}

/// Whether a cleaned path is inside `.git` (read-only for the coding actions).
pub fn in_git_dir(clean: &str) -> bool {
    clean == ".git" || clean.starts_with(".git/")
}

/// Shell prelude that sets `ws` (the resolved workspace), `t` (the path as given, for
/// operations on links themselves) and `r` (the path with every symlink resolved), and exits
/// [`EXIT_REFUSED`] when `r` is outside the workspace (or inside `.git` when `writable`).
pub fn guard(workspace: &str, clean: &str, writable: bool) -> String {
    let git = if writable {
        format!(
            "case \"$r\" in \"$ws\"/.git|\"$ws\"/.git/*) echo 'the .git directory is read-only here' >&2; exit {EXIT_REFUSED};; esac\n"
        )
    } else {
        String::new()
    };
    format!(
        "ws=$(realpath -e -- {ws} 2>/dev/null) || {{ echo 'the workspace does not exist' >&2; exit {EXIT_NO_WORKSPACE}; }}\n\
         t=\"$ws\"/{rel}\n\
         r=$(realpath -m -- \"$t\") || exit {EXIT_REFUSED}\n\
         case \"$r\" in \"$ws\"|\"$ws\"/*) ;; *) echo 'the path leads out of the workspace' >&2; exit {EXIT_REFUSED};; esac\n\
         {git}\
         fail() {{ echo \"$1\" >&2; exit {EXIT_FAILED}; }}\n",
        ws = sq(workspace),
        rel = sq(clean),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_normalises_and_refuses() {
        assert_eq!(clean("").unwrap(), ".");
        assert_eq!(clean("./src//main.rs").unwrap(), "src/main.rs");
        assert_eq!(clean("a/./b/").unwrap(), "a/b");
        for bad in ["/etc/passwd", "../x", "a/../../b", "a/..", "x\0y", "\\\\server"] {
            assert!(matches!(clean(bad), Err(RunnerError::PathRefused(_))), "{bad:?}");
        }
        assert!(in_git_dir(".git") && in_git_dir(".git/config") && !in_git_dir(".github/x"));
    }

    /// The guard itself, run by a local shell against a real directory with escaping links.
    #[test]
    fn guard_resolves_symlinks_on_the_host() {
        let dir = std::env::temp_dir().join(format!("spgw-guard-{}", uuid::Uuid::new_v4().simple()));
        let ws = dir.join("ws");
        std::fs::create_dir_all(ws.join("src")).unwrap();
        std::fs::create_dir_all(ws.join(".git")).unwrap();
        std::os::unix::fs::symlink("/", ws.join("root")).unwrap();
        std::os::unix::fs::symlink("src", ws.join("inner")).unwrap();
        let ws = ws.to_string_lossy().into_owned();
        let code = |rel: &str, writable: bool| {
            let script = format!("{}echo \"$r\"", guard(&ws, rel, writable));
            std::process::Command::new("sh").arg("-c").arg(script).output().unwrap().status.code().unwrap()
        };
        assert_eq!(code("src/new.rs", true), 0);
        assert_eq!(code("inner/x", true), 0);
        assert_eq!(code(".", false), 0);
        assert_eq!(code("root/etc/passwd", false), EXIT_REFUSED as i32);
        assert_eq!(code("root", false), EXIT_REFUSED as i32);
        assert_eq!(code(".git/config", false), 0);
        assert_eq!(code(".git/config", true), EXIT_REFUSED as i32);
        let missing = guard("/nonexistent-spgw", ".", false);
        let out = std::process::Command::new("sh").arg("-c").arg(missing).output().unwrap();
        assert_eq!(out.status.code(), Some(EXIT_NO_WORKSPACE as i32));
        let _ = std::fs::remove_dir_all(dir);
    }
}
