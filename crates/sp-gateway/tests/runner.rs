//! Codebase runs against a real OpenSSH server on loopback: lint/test/build/custom
//! runs with logs and exit codes, a live log followed over SSE, cancel, timeout,
//! the log cap, trust on first use and a changed host key refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod runner_common;

use std::time::{Duration, Instant};

use common::{Backend, Server, assert_error};
use futures::StreamExt;
use runner_common::{Fixture, Sshd, codebase, finished, log_text, process_running, queue, sshd_available, wait_for};
use serde_json::{Value, json};

/// Reads a `text/event-stream` response into `(event, data)` pairs until `done`.
async fn sse_events(resp: reqwest::Response, on_first_log: impl FnOnce()) -> Vec<(String, Value, Instant)> {
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut stream = resp.bytes_stream();
    let mut first = Some(on_first_log);
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(60), stream.next()).await.expect("SSE stalled") {
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut event = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            if data.is_empty() {
                continue; // keep-alive comment
            }
            if event == "log"
                && let Some(f) = first.take()
            {
                f();
            }
            let done = event == "done";
            out.push((event, serde_json::from_str(&data).unwrap(), Instant::now()));
            if done {
                return out;
            }
        }
    }
    out
}

async fn lint_test_build_and_custom_runs(backend: Backend) {
    if !sshd_available() {
        return;
    }
    let sshd = Sshd::start();
    let fx = Fixture::new();
    let server = Server::start(backend);
    let admin = server.admin().await;
    let cb = codebase(&admin, &sshd, &fx, "app").await;

    // Before any connection no host key is recorded.
    let (_, hk) = admin.get(&format!("/api/v1/codebases/{cb}/host-key")).await;
    assert!(hk["fingerprint"].is_null(), "{hk}");

    let lint = queue(&admin, cb, json!({"kind": "lint"})).await;
    assert_eq!(lint["command"], "sh lint.sh");
    let lint = finished(&admin, cb, lint["id"].as_i64().unwrap()).await;
    assert_eq!((lint["status"].as_str(), lint["exit_code"].as_i64()), (Some("succeeded"), Some(0)), "{lint}");
    assert!(
        lint["started_at"].is_string() && lint["finished_at"].is_string() && lint["duration_ms"].as_i64().unwrap() >= 0
    );
    let log = log_text(&admin, cb, lint["id"].as_i64().unwrap()).await;
    assert!(log.contains("$ sh lint.sh\n") && log.contains("lint: no problems found"), "{log}");
    assert!(log.contains("cloning the repository") && log.contains("at commit"), "{log}");

    // Trust on first use: the server's real fingerprint is now recorded.
    let (_, hk) = admin.get(&format!("/api/v1/codebases/{cb}/host-key")).await;
    assert_eq!(hk["fingerprint"], sshd.host_fingerprint(), "{hk}");

    let test = queue(&admin, cb, json!({"kind": "test"})).await;
    let test = finished(&admin, cb, test["id"].as_i64().unwrap()).await;
    assert_eq!((test["status"].as_str(), test["exit_code"].as_i64()), (Some("failed"), Some(1)), "{test}");
    assert_eq!(test["error"], "exited with status 1");
    let log = log_text(&admin, cb, test["id"].as_i64().unwrap()).await;
    assert!(log.contains("test answer_is_42 ... FAILED") && log.contains("1 passed; 1 failed"), "{log}");
    assert!(log.contains("fetching and resetting the checkout"), "second run updates the checkout: {log}");

    let build = queue(&admin, cb, json!({"kind": "build"})).await;
    let build = finished(&admin, cb, build["id"].as_i64().unwrap()).await;
    assert_eq!((build["status"].as_str(), build["exit_code"].as_i64()), (Some("succeeded"), Some(0)), "{build}");
    let artefact = std::fs::read_to_string(fx.checkout(cb).join("dist/app.txt")).unwrap();
    assert!(artefact.contains("Hello from the fixture"), "the build ran in the checkout");

    // A per-run override beats the codebase's command.
    let over = queue(&admin, cb, json!({"kind": "test", "command": "echo overridden; exit 3"})).await;
    let over = finished(&admin, cb, over["id"].as_i64().unwrap()).await;
    assert_eq!(
        (over["status"].as_str(), over["exit_code"].as_i64(), over["command"].as_str()),
        (Some("failed"), Some(3), Some("echo overridden; exit 3"))
    );

    // A custom run followed live: log events arrive while it is still running, then `done`.
    let custom = queue(
        &admin,
        cb,
        json!({"kind": "custom", "command": "echo first line; echo to stderr >&2; sleep 2; printf 'é%.0s' 1 2 3; echo; echo last line"}),
    )
    .await;
    let id = custom["id"].as_i64().unwrap();
    wait_for(&admin, cb, id, "running", |r| r["status"] == "running").await;
    let resp =
        admin.http.get(server.url(&format!("/api/v1/codebases/{cb}/runs/{id}/log/stream"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let (tx, rx) = std::sync::mpsc::channel();
    let events = sse_events(resp, move || tx.send(Instant::now()).unwrap()).await;
    let first_log_at = rx.recv().unwrap();
    let (last_event, done, done_at) = events.last().unwrap().clone();
    assert_eq!(last_event, "done");
    assert_eq!((done["status"].as_str(), done["exit_code"].as_i64()), (Some("succeeded"), Some(0)), "{done}");
    assert!(
        done_at.duration_since(first_log_at) >= Duration::from_millis(1000),
        "the first chunk came live, before the sleep ended"
    );
    let seqs: Vec<i64> = events.iter().filter(|e| e.0 == "log").map(|e| e.1["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "chunks in order without gaps: {seqs:?}");
    let streamed: String = events.iter().filter(|e| e.0 == "log").map(|e| e.1["text"].as_str().unwrap()).collect();
    assert_eq!(streamed, log_text(&admin, cb, id).await, "the stream and the stored log agree");
    assert!(
        streamed.contains("first line\n") && streamed.contains("to stderr\n") && streamed.contains("ééé\nlast line\n"),
        "{streamed}"
    );

    // A finished run's stream replays the log and ends at once.
    let resp =
        admin.http.get(server.url(&format!("/api/v1/codebases/{cb}/runs/{id}/log/stream"))).send().await.unwrap();
    let again = sse_events(resp, || {}).await;
    assert_eq!(again.len(), events.len());

    // Recent runs, newest first, limited.
    let (s, list) = admin.get(&format!("/api/v1/codebases/{cb}/tasks?limit=2")).await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = list["data"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![id, over["id"].as_i64().unwrap()]);
    let (_, failed) = admin.get(&format!("/api/v1/codebases/{cb}/tasks?status=failed")).await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 2);

    // Validation and visibility.
    assert_error(
        &admin.post(&format!("/api/v1/codebases/{cb}/tasks"), json!({"kind": "deploy"})).await,
        422,
        "invalid_field",
    );
    assert_error(
        &admin.post(&format!("/api/v1/codebases/{cb}/tasks"), json!({"kind": "custom"})).await,
        422,
        "invalid_field",
    );
    let (bob, _) = server.user(&admin, "bob").await;
    assert_error(&bob.get(&format!("/api/v1/codebases/{cb}/tasks")).await, 404, "not_found");
    assert_error(&bob.post(&format!("/api/v1/codebases/{cb}/tasks"), json!({"kind": "lint"})).await, 404, "not_found");
    assert_error(&bob.get(&format!("/api/v1/codebases/{cb}/runs/{id}/log")).await, 404, "not_found");
    let (s, _) = admin.patch(&format!("/api/v1/update/codebase/{cb}"), json!({"enabled": false})).await;
    assert_eq!(s, 200);
    assert_error(&admin.post(&format!("/api/v1/codebases/{cb}/tasks"), json!({"kind": "lint"})).await, 409, "conflict");
}

async fn cancel_timeout_and_log_cap(backend: Backend) {
    if !sshd_available() {
        return;
    }
    let sshd = Sshd::start();
    let fx = Fixture::new();
    let server = Server::start(backend);
    let admin = server.admin().await;
    let cb = codebase(&admin, &sshd, &fx, "slow").await;
    let marker = format!("sleep 4{}.25", backend as u8);

    // A long run cancelled while running: the status says so and the remote process is gone.
    let long =
        queue(&admin, cb, json!({"kind": "custom", "command": format!("echo started; {marker}; echo never")})).await;
    let id = long["id"].as_i64().unwrap();
    wait_for(&admin, cb, id, "running with output", |r| r["status"] == "running" && r["log_bytes"].as_i64() > Some(0))
        .await;
    let started = Instant::now();
    while !process_running(&marker) || !log_text(&admin, cb, id).await.lines().any(|l| l == "started") {
        assert!(started.elapsed() < Duration::from_secs(20), "the remote command never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (s, c) = admin.post(&format!("/api/v1/codebases/{cb}/runs/{id}/cancel"), json!({})).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["cancel_requested"], true);
    let run = finished(&admin, cb, id).await;
    assert_eq!(run["status"], "cancelled", "{run}");
    assert!(started.elapsed() < Duration::from_secs(15), "cancel took {:?}", started.elapsed());
    assert!(!process_running(&marker), "the cancelled command still runs on the host");
    let log = log_text(&admin, cb, id).await;
    assert!(log.lines().any(|l| l == "started") && !log.lines().any(|l| l == "never"), "{log}");
    assert!(log.contains("[runner] cancelled"), "{log}");
    assert_error(&admin.post(&format!("/api/v1/codebases/{cb}/runs/{id}/cancel"), json!({})).await, 409, "conflict");

    // A queued run nobody can take (no runner has the tag) is cancelled at once.
    let stuck = queue(&admin, cb, json!({"kind": "lint", "assigned_tags": ["nobody-has-this"]})).await;
    let (s, c) = admin.post(&format!("/api/v1/codebases/{cb}/runs/{}/cancel", stuck["id"]), json!({})).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")), "{c}");

    // A run past its timeout is stopped: timed_out, no exit code.
    let slow =
        queue(&admin, cb, json!({"kind": "custom", "command": format!("{marker}1"), "timeout_seconds": 2})).await;
    let run = finished(&admin, cb, slow["id"].as_i64().unwrap()).await;
    assert_eq!(run["status"], "timed_out", "{run}");
    assert!(run["exit_code"].is_null() && run["error"].as_str().unwrap().contains("timed out after 2 s"), "{run}");
    assert!(!process_running(&format!("{marker}1")));
    assert_error(
        &admin.post(&format!("/api/v1/codebases/{cb}/tasks"), json!({"kind": "lint", "timeout_seconds": 0})).await,
        422,
        "invalid_field",
    );

    // The log cap: output past runner.max_log_bytes is dropped with one note.
    let (s, _) = admin.post("/api/v1/add/gateway-config", json!({"key": "runner.max_log_bytes", "value": 2048})).await;
    assert_eq!(s, 201);
    let noisy = queue(&admin, cb, json!({"kind": "custom", "command": "i=0; while [ $i -lt 400 ]; do echo \"line $i of noise\"; i=$((i+1)); done"})).await;
    let run = finished(&admin, cb, noisy["id"].as_i64().unwrap()).await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["log_truncated"], true, "{run}");
    assert!(run["log_bytes"].as_i64().unwrap() <= 2048, "{run}");
    let log = log_text(&admin, cb, noisy["id"].as_i64().unwrap()).await;
    assert_eq!(log.matches("log truncated").count(), 1, "{log}");
    assert!(!log.contains("line 399 of noise"));
}

async fn changed_host_key_is_refused(backend: Backend) {
    if !sshd_available() {
        return;
    }
    let mut sshd = Sshd::start();
    let fx = Fixture::new();
    let server = Server::start(backend);
    let admin = server.admin().await;
    let cb = codebase(&admin, &sshd, &fx, "hk").await;
    let first = queue(&admin, cb, json!({"kind": "lint"})).await;
    assert_eq!(finished(&admin, cb, first["id"].as_i64().unwrap()).await["status"], "succeeded");
    let recorded = sshd.host_fingerprint();

    // Same address, another host key: refused, the recorded key untouched.
    sshd.new_host_key();
    sshd.restart();
    assert_ne!(sshd.host_fingerprint(), recorded);
    let second = queue(&admin, cb, json!({"kind": "lint"})).await;
    let run = finished(&admin, cb, second["id"].as_i64().unwrap()).await;
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("host key") && error.contains("changed") && error.contains(&recorded), "{error}");
    assert!(error.contains(&sshd.host_fingerprint()), "the message names the presented key: {error}");
    let (_, hk) = admin.get(&format!("/api/v1/codebases/{cb}/host-key")).await;
    assert_eq!(hk["fingerprint"], recorded);
    // The coding actions refuse it too.
    let refused = admin.post(&format!("/api/v1/codebases/{cb}/coding"), json!({"tool": "coding.git_status"})).await;
    assert_error(&refused, 409, "host_key_mismatch");

    // Forgetting the key (an expected change) lets the next run record the new one.
    let (s, _) = admin.delete(&format!("/api/v1/codebases/{cb}/host-key")).await;
    assert_eq!(s, 200);
    let third = queue(&admin, cb, json!({"kind": "lint"})).await;
    assert_eq!(finished(&admin, cb, third["id"].as_i64().unwrap()).await["status"], "succeeded");
    let (_, hk) = admin.get(&format!("/api/v1/codebases/{cb}/host-key")).await;
    assert_eq!(hk["fingerprint"], sshd.host_fingerprint());
    assert!(hk["recorded_at"].is_string());
}

/// Misconfigured codebases are refused at queue time with the reason.
async fn runner_settings_are_checked(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let (_, p) = admin.post("/api/v1/add/project", json!({"name": "p"})).await;
    let (_, cb) = admin
        .post("/api/v1/add/codebase", json!({"project_id": p["id"], "name": "no-runner", "preferred_stack": "Rust"}))
        .await;
    let got = admin.post(&format!("/api/v1/codebases/{}/tasks", cb["id"]), json!({"kind": "test"})).await;
    assert_error(&got, 422, "invalid_field");
    assert!(got.1["error"]["message"].as_str().unwrap().contains("runtime_config.runner"), "{}", got.1);
    // With a runner but no SSH credential the run is queued, then failed with the reason.
    let rc = json!({"runner": {"host": "127.0.0.1", "port": 1, "ssh_user": "nobody", "workspace_root": "/tmp/x"}});
    let (s, _) = admin.patch(&format!("/api/v1/update/codebase/{}", cb["id"]), json!({"runtime_config": rc})).await;
    assert_eq!(s, 200);
    let run = admin.post(&format!("/api/v1/codebases/{}/tasks", cb["id"]), json!({"kind": "test"})).await.1;
    assert_eq!(run["command"], "cargo test", "the Rust stack default");
    let run = finished(&admin, cb["id"].as_i64().unwrap(), run["id"].as_i64().unwrap()).await;
    assert_eq!(run["status"], "failed");
    assert!(run["error"].as_str().unwrap().contains("ssh_key"), "{run}");
}

both_backends!(
    lint_test_build_and_custom_runs,
    cancel_timeout_and_log_cap,
    changed_host_key_is_refused,
    runner_settings_are_checked
);
