//! External MCP servers (issue 8) against the reference server
//! `@modelcontextprotocol/server-everything` (installed by `scripts/test` under
//! `${SPGW_CACHE_DIR:-$HOME/.cache/sp-gateway}/npm`): registered over stdio and
//! streamable HTTP, their tools listed and called by an agent's tool loop
//! through the scripted mock model, an HTTP server restarted mid-session, and
//! the safety rules (admins only for stdio, the command allowlist, a clean
//! environment with credentials resolved at start, no secrets in the API).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod agent_world;
mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent_world::{World, converse, text, tool, tools_sent};
use common::{Backend, Client, Server};
use serde_json::{Value, json};

/// The reference server's entry point.
fn everything() -> PathBuf {
    let cache = std::env::var("SPGW_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/sp-gateway"));
    let p = cache.join("npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(p.exists(), "{} missing: run scripts/test (npm i @modelcontextprotocol/server-everything)", p.display());
    p
}

fn node() -> String {
    let out = Command::new("sh").args(["-c", "command -v node"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A world whose gateway may start `node` as a stdio MCP server.
async fn mcp_world(backend: Backend) -> World {
    let mock = spgw_mocks::spawn().await.unwrap();
    let server = Server::start_with(backend, &[("SPGW__MCP__STDIO_ALLOWLIST", &node())]);
    let admin = server.admin().await;
    let (_, list) = admin.get("/api/v1/list/providers?name=openai").await;
    let pid = list["data"][0]["id"].as_i64().unwrap();
    let (s, v) = admin
        .patch(
            &format!("/api/v1/update/provider/{pid}"),
            json!({"base_url": mock.base_url("openai"), "api_key": "key-1"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let project = agent_world::project(&admin, "Apollo").await;
    let agent = agent_world::agent(&admin, project, "Ada", &["ops"]).await;
    World { server, mock, admin, project, agent }
}

async fn add_credential(c: &Client, project: i64, name: &str, secret: &str) {
    let (s, r) = c
        .post(
            "/api/v1/add/credential",
            json!({"project_id": project, "name": name, "credential_type": "token", "secret": secret}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
}

async fn grant_tool(c: &Client, project: i64, agent: i64, name: &str) {
    let (s, r) = c
        .post(
            "/api/v1/add/resource",
            json!({"project_id": project, "agent_id": agent, "resource_type": "tool", "name": name}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
}

fn tool_names(listing: &Value) -> Vec<String> {
    listing["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

fn executed(r: &Value) -> &Vec<Value> {
    r["tool_loop"]["executed"].as_array().unwrap()
}

async fn stdio_server_tools_reach_the_agent(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = mcp_world(backend).await;
    add_credential(&admin, project, "api-token", "s3cret-token-value").await;
    let (s, row) = admin
        .post(
            "/api/v1/add/mcp-tool",
            json!({"project_id": project, "name": "everything", "transport": "stdio", "command": node(),
                   "args": [everything().display().to_string(), "stdio"],
                   "env": {"GREETING": "hello", "API_TOKEN": "credential:api-token"}}),
        )
        .await;
    assert_eq!(s, 201, "{row}");
    assert!(!row.to_string().contains("s3cret"), "{row}");
    let id = row["id"].as_i64().unwrap();

    // Discovery: tools with their schemas, cached, status ok.
    let (s, listing) = admin.get(&format!("/api/v1/mcp-tools/{id}/tools")).await;
    assert_eq!(s, 200, "{listing}");
    assert_eq!(listing["status"], "ok", "{listing}");
    let names = tool_names(&listing);
    assert!(names.contains(&"echo".to_string()) && names.contains(&"get-sum".to_string()), "{names:?}");
    let echo = listing["tools"].as_array().unwrap().iter().find(|t| t["name"] == "echo").unwrap();
    assert_eq!(echo["input_schema"]["type"], "object", "{echo}");
    assert!(echo["input_schema"]["properties"]["message"].is_object(), "{echo}");
    let (_, got) = admin.get(&format!("/api/v1/get/mcp-tool/{id}")).await;
    assert_eq!(got["status"], "ok");
    assert!(got["refreshed_at"].is_string(), "{got}");
    assert!(!got.to_string().contains("s3cret"), "{got}");
    let (s, again) = admin.post(&format!("/api/v1/mcp-tools/{id}/refresh"), json!({})).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(tool_names(&again), names);

    // Only the granted tools reach the model.
    grant_tool(&admin, project, agent, "mcp:everything/echo").await;
    grant_tool(&admin, project, agent, "mcp:everything/get-env").await;
    mock.script(
        "stdio",
        vec![
            tool("everything__echo", json!({"message": "hi there"})),
            tool("everything__get-env", json!({})),
            text("Echoed."),
        ],
    );
    let (s, r) = converse(&admin, agent, "echo please [[script:stdio]]").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["content"], "Echoed.", "{r}");
    let mut sent = tools_sent(&mock)[0].clone();
    sent.sort();
    assert_eq!(sent, ["everything__echo", "everything__get-env"]);
    let ex = executed(&r);
    assert_eq!(ex.len(), 2, "{r}");
    assert_eq!(ex[0]["is_error"], false, "{r}");
    assert!(ex[0]["result"].as_str().unwrap().contains("Echo: hi there"), "{r}");
    // The server's environment is exactly what it was configured with, the
    // credential resolved at start; nothing of the gateway's own.
    let env = ex[1]["result"].as_str().unwrap();
    assert!(env.contains("GREETING") && env.contains("hello"), "{env}");
    assert!(env.contains("s3cret-token-value"), "credential resolved: {env}");
    assert!(!env.contains("SPGW_ADMIN_PASSWORD") && !env.contains("SPGW__"), "{env}");

    // The calls are stored in the session like built-in ones.
    let sid = r["session_id"].as_str().unwrap();
    let (s, hist) = admin.get(&format!("/api/v1/session/{sid}")).await;
    assert_eq!(s, 200, "{hist}");
    assert!(hist.to_string().contains("Echo: hi there"), "{hist}");

    // Deleting the server ends its session; its tools leave the agent.
    let (s, d) = admin.delete(&format!("/api/v1/del/mcp-tool/{id}")).await;
    assert_eq!(s, 200, "{d}");
    mock.script("gone", vec![text("nothing to call")]);
    let (s, r) = converse(&admin, agent, "anything? [[script:gone]]").await;
    assert_eq!(s, 200, "{r}");
    assert!(tools_sent(&mock).last().unwrap().is_empty(), "{:?}", tools_sent(&mock));
}

/// A free local port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `server-everything` over streamable HTTP on `port`, killed on drop.
struct HttpEverything(Child);

impl HttpEverything {
    async fn start(port: u16) -> HttpEverything {
        let mut child = Command::new(node())
            .args([everything().display().to_string().as_str(), "streamableHttp"])
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return HttpEverything(child);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("server-everything did not listen on {port}");
    }
}

impl Drop for HttpEverything {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn http_server_survives_a_restart(backend: Backend) {
    let World { mock, admin, project, agent, server } = mcp_world(backend).await;
    let port = free_port();
    let mut upstream = HttpEverything::start(port).await;
    // A project owner (not an admin) may register an HTTP server.
    let (user, _) = server.user(&admin, "owner").await;
    let (s, p) = user.post("/api/v1/add/project", json!({"name": "Own"})).await;
    assert_eq!(s, 201, "{p}");
    let own = p["id"].as_i64().unwrap();
    let (s, row) = user
        .post(
            "/api/v1/add/mcp-tool",
            json!({"project_id": own, "name": "web", "transport": "http",
                   "url": format!("http://127.0.0.1:{port}/mcp"), "headers": {"X-Trace": "abc123secret"}}),
        )
        .await;
    assert_eq!(s, 201, "{row}");
    assert!(!row.to_string().contains("abc123secret"), "{row}");
    let (s, listing) = user.get(&format!("/api/v1/mcp-tools/{}/tools", row["id"])).await;
    assert_eq!(s, 200, "{listing}");
    assert!(tool_names(&listing).contains(&"get-sum".to_string()));

    // The admin's agent uses a global HTTP server with every tool granted.
    let (s, global) = admin
        .post(
            "/api/v1/add/mcp-tool",
            json!({"name": "calc", "transport": "http", "url": format!("http://127.0.0.1:{port}/mcp")}),
        )
        .await;
    assert_eq!(s, 201, "{global}");
    grant_tool(&admin, project, agent, "mcp:calc").await;
    mock.script("sum1", vec![tool("calc__get-sum", json!({"a": 2, "b": 3})), text("five")]);
    let (s, r) = converse(&admin, agent, "add [[script:sum1]]").await;
    assert_eq!(s, 200, "{r}");
    assert!(tools_sent(&mock)[0].contains(&"calc__get-sum".to_string()));
    assert!(tools_sent(&mock)[0].contains(&"calc__echo".to_string()));
    let ex = executed(&r);
    assert_eq!(ex[0]["is_error"], false, "{r}");
    assert!(ex[0]["result"].as_str().unwrap().contains('5'), "{r}");

    // The server restarts: its sessions are gone; the next call still succeeds.
    drop(upstream);
    upstream = HttpEverything::start(port).await;
    mock.script("sum2", vec![tool("calc__get-sum", json!({"a": 40, "b": 2})), text("done")]);
    let (s, r) = converse(&admin, agent, "add again [[script:sum2]]").await;
    assert_eq!(s, 200, "{r}");
    let ex = executed(&r);
    assert_eq!(ex[0]["is_error"], false, "{r}");
    assert!(ex[0]["result"].as_str().unwrap().contains("42"), "{r}");
    let (_, got) = admin.get(&format!("/api/v1/get/mcp-tool/{}", global["id"])).await;
    assert_eq!(got["status"], "ok", "{got}");
    drop(upstream);
}

/// Polls the row of MCP server `id` until `check` holds (15 s at most).
async fn row_until(c: &Client, id: i64, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..150 {
        let (s, row) = c.get(&format!("/api/v1/get/mcp-tool/{id}")).await;
        assert_eq!(s, 200, "{row}");
        if check(&row) {
            return row;
        }
        last = row;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("MCP server {id}: {what} did not happen; last row {last}");
}

async fn health_is_watched_and_limits_hold(backend: Backend) {
    let World { mock, admin, project, agent, server: _server } = mcp_world(backend).await;
    let port = free_port();
    let mut upstream = HttpEverything::start(port).await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    // Per-server limits are checked against their bounds.
    let r = admin
        .post(
            "/api/v1/add/mcp-tool",
            json!({"name": "calc", "transport": "http", "url": url, "call_timeout_seconds": 0}),
        )
        .await;
    common::assert_error(&r, 422, "invalid_field");
    assert!(r.1.to_string().contains("call_timeout_seconds"), "{}", r.1);
    let (s, row) = admin
        .post(
            "/api/v1/add/mcp-tool",
            json!({"name": "calc", "transport": "http", "url": url, "call_timeout_seconds": 1, "max_output_bytes": 1024}),
        )
        .await;
    assert_eq!(s, 201, "{row}");
    let id = row["id"].as_i64().unwrap();
    assert_eq!(row["status"], "unknown", "{row}");

    // Nobody uses it, yet the background check finds it healthy and lists its tools.
    admin.post("/api/v1/add/gateway-config", json!({"key": "mcp.health_interval_seconds", "value": 1})).await;
    let ok = row_until(&admin, id, "a first health check", |r| r["status"] == "ok").await;
    assert!(ok["checked_at"].is_string() && ok["refreshed_at"].is_string(), "{ok}");
    assert!(ok["tools_cache"].to_string().contains("get-sum"), "{ok}");

    // The server's own limits: a call over its 1 s timeout fails, a long result is cut at 1 KiB.
    grant_tool(&admin, project, agent, "mcp:calc").await;
    mock.script(
        "slow",
        vec![
            tool("calc__trigger-long-running-operation", json!({"duration": 3, "steps": 1})),
            tool("calc__echo", json!({"message": "x".repeat(5000)})),
            text("done"),
        ],
    );
    let (s, r) = converse(&admin, agent, "try [[script:slow]]").await;
    assert_eq!(s, 200, "{r}");
    let ex = executed(&r);
    assert_eq!(ex[0]["is_error"], true, "{r}");
    assert!(ex[0]["result"].as_str().unwrap().contains("timed out after 1 s"), "{r}");
    let echoed = ex[1]["result"].as_str().unwrap();
    assert!(echoed.contains("[output cut at 1024 of"), "{r}");
    assert!(echoed.len() < 1200, "{}", echoed.len());

    // The server dies while idle: the check marks it unreachable, with the reason.
    drop(upstream);
    let down = row_until(&admin, id, "unreachable after the server stopped", |r| r["status"] == "unreachable").await;
    assert!(down["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{down}");
    // It comes back: ok again, the error cleared.
    upstream = HttpEverything::start(port).await;
    let back = row_until(&admin, id, "ok after the server came back", |r| r["status"] == "ok").await;
    assert!(back["last_error"].is_null(), "{back}");
    let (s, listing) = admin.get(&format!("/api/v1/mcp-tools/{id}/tools")).await;
    assert_eq!(s, 200, "{listing}");
    assert!(listing["checked_at"].is_string() && listing["last_error"].is_null(), "{listing}");
    drop(upstream);
}

async fn stdio_servers_are_guarded(backend: Backend) {
    let World { admin, server, .. } = mcp_world(backend).await;
    let (user, _) = server.user(&admin, "mallory").await;
    let (s, p) = user.post("/api/v1/add/project", json!({"name": "Mine"})).await;
    assert_eq!(s, 201, "{p}");
    let stdio = |project: Value, command: &str| json!({"project_id": project, "name": "x", "transport": "stdio", "command": command, "args": ["-c", "id"]});
    let r = user.post("/api/v1/add/mcp-tool", stdio(p["id"].clone(), &node())).await;
    common::assert_error(&r, 403, "forbidden");
    // Even an admin cannot register a command the configuration does not allow.
    let r = admin.post("/api/v1/add/mcp-tool", stdio(p["id"].clone(), "/bin/sh")).await;
    assert_eq!(r.0, 422, "{}", r.1);
    assert!(r.1.to_string().contains("stdio_allowlist"), "{}", r.1);
    let (_, list) = admin.get("/api/v1/list/mcp-tools").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_everything_on_sqlite() {
    stdio_server_tools_reach_the_agent(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread")]
async fn http_everything_restart_on_sqlite() {
    http_server_survives_a_restart(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_guards_on_mysql() {
    stdio_servers_are_guarded(Backend::MySql).await
}

#[tokio::test(flavor = "multi_thread")]
async fn http_health_and_limits_on_mysql() {
    health_is_watched_and_limits_hold(Backend::MySql).await
}

#[tokio::test(flavor = "multi_thread")]
async fn http_everything_restart_on_mysql() {
    http_server_survives_a_restart(Backend::MySql).await
}
