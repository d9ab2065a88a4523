//! An agent with `coding_plugin` at work through a scripted mock model: the
//! coding tools are offered only once its codebase is set up (SPEC §9), it
//! edits a file and runs a command over SSH, an escape attempt comes back as a
//! tool error, and every call and result is stored in the session.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent_world;
mod common;
mod runner_common;

use agent_world::{World, converse, grant, set, text, tool, tools_sent, world};
use common::Backend;
use runner_common::{Fixture, Sshd, codebase_in, sshd_available};
use serde_json::{Value, json};

async fn agent_edits_and_runs_over_ssh(backend: Backend) {
    if !sshd_available() {
        return;
    }
    let sshd = Sshd::start();
    let fx = Fixture::new();
    let World { mock, admin, project, agent, server: _server } = world(backend).await;
    set(&admin, "mcp.max_tool_iterations", json!(5)).await;
    grant(&admin, project, agent, "coding_plugin").await;
    let cb = codebase_in(&admin, project, &sshd, &fx, "agent-code").await;

    // Holding the skill is not enough: without a codebase the tools are not offered.
    mock.script("idle", vec![text("Nothing to do.")]);
    let (s, r) = converse(&admin, agent, "Hello [[script:idle]]").await;
    assert_eq!(s, 200, "{r}");
    assert!(tools_sent(&mock).last().unwrap().iter().all(|t| !t.starts_with("coding")), "{:?}", tools_sent(&mock));

    let (s, a) = admin.patch(&format!("/api/v1/update/agent/{agent}"), json!({"codebase_id": cb})).await;
    assert_eq!(s, 200, "{a}");
    mock.script(
        "code",
        vec![
            tool("coding.write_file", json!({"path": "src/agent.txt", "content": "written by Ada\n"})),
            tool("coding.run_command", json!({"command": "cat src/agent.txt && sh build.sh"})),
            tool("coding.read_file", json!({"path": "../../etc/passwd"})),
            text("Done."),
        ],
    );
    let (s, r) = converse(&admin, agent, "Add a note and build [[script:code]]").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["content"], "Done.", "{r}");
    let executed = r["tool_loop"]["executed"].as_array().unwrap();
    let errors: Vec<bool> = executed.iter().map(|e| e["is_error"].as_bool().unwrap()).collect();
    assert_eq!(errors, [false, false, true], "{r}");

    // The edit happened in the codebase's checkout on the runner host, and the command ran there.
    let checkout = fx.checkout(cb);
    assert_eq!(std::fs::read_to_string(checkout.join("src/agent.txt")).unwrap(), "written by Ada\n");
    assert!(checkout.join("dist/app.txt").exists(), "build.sh ran in the checkout");

    // Every call and its result is in the session.
    let (_, session) = admin.get(&format!("/api/v1/session/{}", r["session_id"].as_str().unwrap())).await;
    let messages = session["messages"].as_array().unwrap();
    let results: Vec<Value> = messages
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| serde_json::from_str(m["content"][0]["text"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(results.len(), 3, "{session}");
    assert_eq!(results[0]["bytes_written"], 15, "{}", results[0]);
    assert_eq!(results[1]["exit_code"], 0, "{}", results[1]);
    assert!(
        results[1]["stdout"].as_str().unwrap().starts_with("written by Ada\nbuilding fixture-app\n"),
        "{}",
        results[1]
    );
    let refusal = results[2]["error"].as_str().unwrap();
    assert!(refusal.contains("refused") && refusal.contains(".."), "{refusal}");

    // The model was offered all twelve coding tools.
    let offered = tools_sent(&mock);
    let coding: Vec<&String> = offered.last().unwrap().iter().filter(|t| t.starts_with("coding")).collect();
    assert_eq!(coding.len(), 12, "{offered:?}");

    // A disabled codebase takes the tools away again.
    let (s, _) = admin.patch(&format!("/api/v1/update/codebase/{cb}"), json!({"enabled": false})).await;
    assert_eq!(s, 200);
    mock.script("later", vec![text("ok")]);
    let (s, _) = converse(&admin, agent, "Anything? [[script:later]]").await;
    assert_eq!(s, 200);
    assert!(tools_sent(&mock).last().unwrap().iter().all(|t| !t.starts_with("coding")));
}

both_backends!(agent_edits_and_runs_over_ssh);
