//! `coding_plugin`'s twelve actions over a real SSH connection, called through
//! `POST /api/v1/codebases/{id}/coding` (what an agent's tool call runs), and
//! the escapes they refuse: `..`, absolute paths, symlinks leading out, `.git`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod runner_common;

use common::{Backend, Client, Server, assert_error};
use runner_common::{Fixture, Sshd, codebase, process_running, sshd_available};
use serde_json::{Value, json};

async fn call(admin: &Client, cb: i64, tool: &str, args: Value) -> (u16, Value) {
    admin.post(&format!("/api/v1/codebases/{cb}/coding"), json!({"tool": tool, "arguments": args})).await
}

async fn ok(admin: &Client, cb: i64, tool: &str, args: Value) -> Value {
    let (s, v) = call(admin, cb, tool, args).await;
    assert_eq!(s, 200, "{tool}: {v}");
    v["result"].clone()
}

async fn refused(admin: &Client, cb: i64, tool: &str, args: Value) {
    let got = call(admin, cb, tool, args.clone()).await;
    assert_error(&got, 403, "path_refused");
    let _ = (tool, args);
}

#[tokio::test(flavor = "multi_thread")]
async fn coding_actions_and_escapes() {
    if !sshd_available() {
        return;
    }
    let sshd = Sshd::start();
    let fx = Fixture::new();
    let server = Server::start(Backend::Sqlite);
    let admin = server.admin().await;
    let cb = codebase(&admin, &sshd, &fx, "code").await;
    let checkout = fx.checkout(cb);

    let caps = ok(&admin, cb, "coding.describe_capabilities", json!({})).await;
    assert_eq!(caps["workspace"], checkout.display().to_string(), "the checkout was cloned on first use");
    assert!(caps["tools"].as_array().unwrap().contains(&json!("git")), "{caps}");
    assert_eq!(caps["actions"].as_array().unwrap().len(), 12);

    let list = ok(&admin, cb, "coding.list_directory", json!({})).await;
    let names: Vec<&str> = list["entries"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"README.md")
            && names.contains(&"src")
            && !names.iter().any(|n| n.starts_with(".git/") || *n == ".git"),
        "{list}"
    );
    let deep = ok(&admin, cb, "coding.list_directory", json!({"path": "src", "depth": 2})).await;
    let size = std::fs::metadata(checkout.join("src/greeting.txt")).unwrap().len();
    assert_eq!(deep["entries"][0], json!({"path": "src/greeting.txt", "type": "file", "size": size}), "{deep}");

    let read = ok(&admin, cb, "coding.read_file", json!({"path": "src/greeting.txt"})).await;
    let on_disk = std::fs::read_to_string(checkout.join("src/greeting.txt")).unwrap();
    assert_eq!((read["content"].as_str(), read["truncated"].as_bool()), (Some(on_disk.as_str()), Some(false)));
    let head = ok(&admin, cb, "coding.read_file", json!({"path": "./src//greeting.txt", "max_bytes": 5})).await;
    assert_eq!(
        (head["content"].as_str(), head["truncated"].as_bool(), head["size"].as_u64()),
        (Some("Hello"), Some(true), Some(size))
    );
    assert_error(&call(&admin, cb, "coding.read_file", json!({"path": "missing.txt"})).await, 422, "action_failed");

    let w = ok(&admin, cb, "coding.write_file", json!({"path": "src/new/module.txt", "content": "alpha\n"})).await;
    assert_eq!(w["bytes_written"], 6);
    ok(&admin, cb, "coding.append_file", json!({"path": "src/new/module.txt", "content": "beta ünïcode\n"})).await;
    assert_eq!(std::fs::read_to_string(checkout.join("src/new/module.txt")).unwrap(), "alpha\nbeta ünïcode\n");
    ok(&admin, cb, "coding.make_directory", json!({"path": "docs/notes"})).await;
    assert!(checkout.join("docs/notes").is_dir());

    let found = ok(&admin, cb, "coding.search_text", json!({"pattern": "answer is"})).await;
    assert_eq!(found["matches"], json!([{"path": "src/greeting.txt", "line": 2, "text": "The answer is 41."}]));
    let re = ok(
        &admin,
        cb,
        "coding.search_text",
        json!({"pattern": "^the ANSWER is [0-9]+", "regex": true, "case_insensitive": true, "path": "src"}),
    )
    .await;
    assert_eq!(re["matches"].as_array().unwrap().len(), 1, "{re}");

    // An edit to a tracked file shows in git_status and git_diff; git_log reads history.
    ok(
        &admin,
        cb,
        "coding.write_file",
        json!({"path": "src/greeting.txt", "content": "Hello from the fixture repository.\nThe answer is 42.\n"}),
    )
    .await;
    let status = ok(&admin, cb, "coding.git_status", json!({})).await;
    assert_eq!(status["clean"], false);
    assert!(status["branch"].as_str().unwrap().starts_with("main"), "{status}");
    let entries = status["entries"].as_array().unwrap();
    assert!(
        entries.contains(&json!({"status": "M", "path": "src/greeting.txt"}))
            && entries.contains(&json!({"status": "??", "path": "src/new/"})),
        "{status}"
    );
    let diff = ok(&admin, cb, "coding.git_diff", json!({"path": "src/greeting.txt"})).await;
    let d = diff["diff"].as_str().unwrap();
    assert!(d.contains("-The answer is 41.") && d.contains("+The answer is 42."), "{d}");
    let stat = ok(&admin, cb, "coding.git_diff", json!({"stat": true})).await;
    assert!(stat["diff"].as_str().unwrap().contains("1 file changed"), "{stat}");
    let log = ok(&admin, cb, "coding.git_log", json!({"limit": 5})).await;
    assert_eq!(log["commits"].as_array().unwrap().len(), 1);
    assert_eq!(log["commits"][0]["subject"], "fixture: lint passes, test fails, build passes");

    let run =
        ok(&admin, cb, "coding.run_command", json!({"command": "cat src/new/module.txt; echo oops >&2; exit 4"})).await;
    assert_eq!(
        (run["exit_code"].as_i64(), run["stdout"].as_str(), run["stderr"].as_str()),
        (Some(4), Some("alpha\nbeta ünïcode\n"), Some("oops\n"))
    );
    let ls = ok(&admin, cb, "coding.run_command", json!({"command": "ls", "cwd": "src"})).await;
    assert!(ls["stdout"].as_str().unwrap().contains("greeting.txt"));
    let slow = ok(
        &admin,
        cb,
        "coding.run_command",
        json!({"command": "echo before; sleep 33.3; echo after", "timeout_seconds": 1}),
    )
    .await;
    assert_eq!(
        (slow["timed_out"].as_bool(), slow["exit_code"].is_null(), slow["stdout"].as_str()),
        (Some(true), true, Some("before\n")),
        "{slow}"
    );
    assert!(!process_running("sleep 33.3"), "the timed-out command was stopped");
    let big =
        ok(&admin, cb, "coding.run_command", json!({"command": "yes | head -c 100000", "max_output_bytes": 1000}))
            .await;
    assert_eq!(
        (big["stdout"].as_str().unwrap().len(), big["stdout_truncated"].as_bool(), big["exit_code"].as_i64()),
        (1000, Some(true), Some(0))
    );

    ok(&admin, cb, "coding.delete_path", json!({"path": "src/new/module.txt"})).await;
    assert!(!checkout.join("src/new/module.txt").exists());
    assert_error(&call(&admin, cb, "coding.delete_path", json!({"path": "docs"})).await, 422, "action_failed");
    ok(&admin, cb, "coding.delete_path", json!({"path": "docs", "recursive": true})).await;
    assert!(!checkout.join("docs").exists());

    // Escapes: `..`, absolute paths, symlinks leading out (planted on the host or by the agent), .git.
    refused(&admin, cb, "coding.read_file", json!({"path": "../../../../etc/passwd"})).await;
    refused(&admin, cb, "coding.read_file", json!({"path": "/etc/passwd"})).await;
    refused(&admin, cb, "coding.write_file", json!({"path": "/tmp/spgw-evil", "content": "x"})).await;
    refused(&admin, cb, "coding.list_directory", json!({"path": ".."})).await;
    refused(&admin, cb, "coding.run_command", json!({"command": "pwd", "cwd": "../.."})).await;
    std::os::unix::fs::symlink("/", checkout.join("rootlink")).unwrap();
    refused(&admin, cb, "coding.read_file", json!({"path": "rootlink/etc/passwd"})).await;
    refused(&admin, cb, "coding.list_directory", json!({"path": "rootlink"})).await;
    refused(&admin, cb, "coding.search_text", json!({"pattern": "root", "path": "rootlink/etc"})).await;
    let evil = fx.dir.0.join("evil.txt");
    refused(&admin, cb, "coding.write_file", json!({"path": format!("rootlink{}", evil.display()), "content": "x"}))
        .await;
    assert!(!evil.exists(), "nothing was written outside");
    refused(&admin, cb, "coding.delete_path", json!({"path": "rootlink/tmp"})).await;
    refused(&admin, cb, "coding.git_diff", json!({"path": "rootlink/etc"})).await;
    ok(&admin, cb, "coding.run_command", json!({"command": "ln -s /etc outside"})).await;
    refused(&admin, cb, "coding.read_file", json!({"path": "outside/hostname"})).await;
    refused(&admin, cb, "coding.append_file", json!({"path": "outside/motd", "content": "x"})).await;
    // The search never follows a link met while recursing: /etc's contents stay out of results.
    let s = ok(&admin, cb, "coding.search_text", json!({"pattern": "root:"})).await;
    assert_eq!(s["matches"], json!([]), "{s}");
    refused(&admin, cb, "coding.write_file", json!({"path": ".git/config", "content": "x"})).await;
    refused(&admin, cb, "coding.delete_path", json!({"path": ".git"})).await;
    refused(&admin, cb, "coding.delete_path", json!({"path": "."})).await;
    assert!(checkout.join(".git/config").exists());

    assert_error(&call(&admin, cb, "coding.format_disk", json!({})).await, 422, "invalid_field");
    let (bob, _) = server.user(&admin, "bob").await;
    assert_error(&call(&bob, cb, "coding.git_status", json!({})).await, 404, "not_found");
}
