//! `sp-gateway runner` in a second process: it claims tagged runs through the
//! API with an admin key, executes them over SSH, and a runner that dies loses
//! its lease: its run is queued again once, then failed; a runner that stops
//! gracefully gives its run back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod runner_common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Backend, Server, assert_error};
use runner_common::{Fixture, Sshd, codebase, finished, log_text, process_running, queue, sshd_available, wait_for};
use serde_json::json;

/// A runner process; killed on drop.
struct Runner(Child);

impl Runner {
    fn start(server: &Server, key: &str, name: &str, tags: &str) -> Runner {
        let child = Command::new(env!("CARGO_BIN_EXE_sp-gateway"))
            .args(["runner", "--gateway", &server.base, "--tags", tags, "--name", name])
            .env("SPGW_RUNNER_TOKEN", key)
            .env_remove("CONFIG_PATH")
            .env("RUST_LOG", "warn")
            .current_dir(server.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Runner(child)
    }

    /// SIGKILL: no chance to report anything.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// SIGTERM: a graceful stop; waits for the process to exit.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        self.0.wait().unwrap()
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.kill();
    }
}

fn pkill(needle: &str) {
    let _ = Command::new("pkill").arg("-f").arg(needle).status();
}

/// Waits until the run's log shows `needle` (the command itself is running, not just its preparation).
async fn wait_log(admin: &common::Client, cb: i64, id: i64, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !log_text(admin, cb, id).await.contains(needle) {
        assert!(std::time::Instant::now() < deadline, "{needle:?} never showed in run {id}'s log");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn set(admin: &common::Client, key: &str, value: serde_json::Value) {
    let (s, v) = admin.post("/api/v1/add/gateway-config", json!({"key": key, "value": value})).await;
    assert_eq!(s, 201, "{v}");
}

async fn remote_runner_claims_and_recovers(backend: Backend) {
    if !sshd_available() {
        return;
    }
    let sshd = Sshd::start();
    let fx = Fixture::new();
    let server = Server::start(backend);
    let admin = server.admin().await;
    let cb = codebase(&admin, &sshd, &fx, "remote").await;
    let (_, key) = admin.post("/api/v1/add/gateway-api-key", json!({"name": "runner"})).await;
    let key = key["key"].as_str().unwrap().to_string();
    set(&admin, "runner.lease_seconds", json!(5)).await;

    // The runner protocol hands out SSH keys: a non-admin's key is refused.
    let (bob, _) = server.user(&admin, "bob").await;
    let (_, bob_key) = bob.post("/api/v1/add/gateway-api-key", json!({"name": "bob"})).await;
    let bob_api = bob.with_key("x-api-key", bob_key["key"].as_str().unwrap());
    assert_error(
        &bob_api.post("/api/v1/runner/claim", json!({"runner_id": "b", "tags": ["remote"]})).await,
        403,
        "forbidden",
    );

    // A tagged run: only the runner with the tag (a second process) takes it.
    let mut r1 = Runner::start(&server, &key, "r1", "remote,linux");
    let build = queue(&admin, cb, json!({"kind": "build", "assigned_tags": ["remote"]})).await;
    let run = finished(&admin, cb, build["id"].as_i64().unwrap()).await;
    assert_eq!((run["status"].as_str(), run["exit_code"].as_i64()), (Some("succeeded"), Some(0)), "{run}");
    assert_eq!(run["runner_id"], "r1");
    let log = log_text(&admin, cb, run["id"].as_i64().unwrap()).await;
    assert!(log.contains("claimed by runner r1") && log.contains("build finished: dist/app.txt"), "{log}");
    let (_, hk) = admin.get(&format!("/api/v1/codebases/{cb}/host-key")).await;
    assert_eq!(hk["fingerprint"], sshd.host_fingerprint(), "a remote runner records the host key too");

    // The runner dies mid-run: the lease expires and the run is queued again, then completed by another runner.
    let hang = format!("sleep 5{}.5", backend as u8);
    let cmd = format!(
        "if [ -f .attempted ]; then echo second attempt; else touch .attempted; echo first attempt; {hang}; fi"
    );
    let flaky = queue(&admin, cb, json!({"kind": "custom", "command": cmd, "assigned_tags": ["remote"]})).await;
    let id = flaky["id"].as_i64().unwrap();
    wait_log(&admin, cb, id, "first attempt\n").await;
    r1.kill();
    let requeued = wait_for(&admin, cb, id, "queued again", |r| r["status"] == "queued").await;
    assert!(requeued["error"].as_str().unwrap().contains("runner r1 lost its lease"), "{requeued}");
    let _r2 = Runner::start(&server, &key, "r2", "remote");
    let run = finished(&admin, cb, id).await;
    assert_eq!(
        (run["status"].as_str(), run["runner_id"].as_str(), run["attempts"].as_i64()),
        (Some("succeeded"), Some("r2"), Some(2)),
        "{run}"
    );
    assert!(run["error"].is_null());
    let log = log_text(&admin, cb, id).await;
    assert!(log.contains("first attempt") && log.contains("lost its lease") && log.contains("second attempt"), "{log}");
    assert!(!process_running(&hang), "the next attempt stopped what the dead runner left running");

    // Out of attempts: a second loss fails the run with the reason, never leaving it running.
    drop(_r2);
    set(&admin, "runner.max_attempts", json!(1)).await;
    let hang2 = format!("sleep 5{}.75", backend as u8);
    let doomed = queue(
        &admin,
        cb,
        json!({"kind": "custom", "command": format!("echo working; {hang2}"), "assigned_tags": ["remote"]}),
    )
    .await;
    let mut r3 = Runner::start(&server, &key, "r3", "remote");
    let id = doomed["id"].as_i64().unwrap();
    wait_log(&admin, cb, id, "working\n").await;
    r3.kill();
    let run = finished(&admin, cb, id).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert!(run["error"].as_str().unwrap().contains("runner r3 lost its lease"), "{run}");
    assert!(log_text(&admin, cb, id).await.contains("no attempts left"));
    pkill(&hang2);

    // A runner stopped gracefully gives its run back to the queue, not counted as an attempt.
    let hang3 = format!("sleep 5{}.875", backend as u8);
    let given = queue(
        &admin,
        cb,
        json!({"kind": "custom", "command": format!("echo busy; {hang3}"), "assigned_tags": ["remote"]}),
    )
    .await;
    let mut r4 = Runner::start(&server, &key, "r4", "remote");
    let id = given["id"].as_i64().unwrap();
    wait_log(&admin, cb, id, "busy\n").await;
    assert!(r4.terminate().success());
    let run = wait_for(&admin, cb, id, "queued", |r| r["status"] == "queued").await;
    assert_eq!(run["attempts"], 0, "{run}");
    assert!(log_text(&admin, cb, id).await.contains("runner r4 gave the run back"));
    assert!(!process_running(&hang3), "the runner stopped its command before leaving");
    let (s, c) = admin.post(&format!("/api/v1/codebases/{cb}/runs/{id}/cancel"), json!({})).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("cancelled")));
    tokio::time::sleep(Duration::from_millis(10)).await;
}

both_backends!(remote_runner_claims_and_recovers);
