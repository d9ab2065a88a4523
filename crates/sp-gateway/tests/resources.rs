//! SPEC §4 over HTTP: every resource type created, read, listed with a filter,
//! replaced, patched and deleted; bad input; another user's denial. Each test
//! runs on SQLite and on a fresh MariaDB database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use common::{Backend, Client, Server, assert_error, ids};
use serde_json::{Value, json};

/// Creates `body` as `kind` and returns the stored row.
async fn add(c: &Client, kind: &str, body: Value) -> Value {
    let (s, v) = c.post(&format!("/api/v1/add/{kind}"), body.clone()).await;
    assert_eq!(s, 201, "add {kind} {body}: {v}");
    assert!(v["id"].as_i64().is_some_and(|id| id > 0), "{v}");
    assert!(v["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "RFC 3339 created_at: {v}");
    v
}

/// One type's full life cycle: read, list with a filter, PUT, PATCH, delete.
async fn lifecycle(c: &Client, kind: &str, plural: &str, row: &Value, filter: &str, put: Value, patch: Value) {
    let id = row["id"].as_i64().unwrap();
    let (s, got) = c.get(&format!("/api/v1/get/{kind}/{id}")).await;
    assert_eq!(s, 200, "get {kind}: {got}");
    assert_eq!(&got, row, "get returns the row as stored");

    let (s, list) = c.get(&format!("/api/v1/list/{plural}?{filter}")).await;
    assert_eq!(s, 200, "list {plural}?{filter}: {list}");
    assert!(ids(&list).contains(&id), "list {plural}?{filter} contains {id}: {list}");
    assert!(list["total"].as_i64().unwrap() >= 1);

    let (s, replaced) = c.put(&format!("/api/v1/update/{kind}/{id}"), put.clone()).await;
    assert_eq!(s, 200, "put {kind} {put}: {replaced}");
    for (k, v) in put.as_object().unwrap() {
        if !["password", "key", "secret", "env", "headers", "models"].contains(&k.as_str()) {
            assert_eq!(&replaced[k], v, "PUT {kind} field {k}");
        }
    }

    let (s, patched) = c.patch(&format!("/api/v1/update/{kind}/{id}"), patch.clone()).await;
    assert_eq!(s, 200, "patch {kind} {patch}: {patched}");
    for (k, v) in patch.as_object().unwrap() {
        if !["password", "key", "secret", "env", "headers"].contains(&k.as_str()) {
            assert_eq!(&patched[k], v, "PATCH {kind} field {k}");
        }
    }
    // PATCH leaves the other fields as PUT set them.
    for (k, v) in replaced.as_object().unwrap() {
        if !patch.as_object().unwrap().contains_key(k) && k != "updated_at" && k != "revision" {
            assert_eq!(&patched[k], v, "PATCH {kind} kept {k}");
        }
    }
}

async fn delete_and_gone(c: &Client, kind: &str, id: i64) {
    let (s, v) = c.delete(&format!("/api/v1/del/{kind}/{id}")).await;
    assert_eq!(s, 200, "del {kind}: {v}");
    assert_eq!(v["deleted"], true);
    assert_error(&c.get(&format!("/api/v1/get/{kind}/{id}")).await, 404, "not_found");
    assert_error(&c.delete(&format!("/api/v1/del/{kind}/{id}")).await, 404, "not_found");
}

async fn every_type_crud(backend: Backend) {
    // The stdio MCP server below must be on the configured allowlist.
    let server = Server::start_with(backend, &[("SPGW__MCP__STDIO_ALLOWLIST", "npx")]);
    let admin = server.admin().await;

    // Catalog: provider (with a default key), provider key, model.
    let provider = add(&admin, "provider", json!({"name": "local-vllm", "display_name": "vLLM", "base_url": "http://127.0.0.1:9/v1", "enabled": true, "api_key": "sk-local-secret-0001"})).await;
    assert_eq!(provider["protocol"], "openai");
    lifecycle(
        &admin,
        "provider",
        "providers",
        &provider,
        "name=local-vllm",
        json!({"name": "local-vllm", "display_name": "vLLM 2", "base_url": "http://127.0.0.1:10/v1", "enabled": false}),
        json!({"enabled": true}),
    )
    .await;
    let (_, keys) = admin.get("/api/v1/list/provider-keys?provider=local-vllm").await;
    assert_eq!(keys["data"][0]["name"], "default", "api_key on a provider creates the default key: {keys}");
    assert_eq!(keys["data"][0]["key"], "sk-…0001", "provider keys are masked: {keys}");

    let pkey = add(
        &admin,
        "provider-key",
        json!({"provider": "local-vllm", "name": "second", "key": "sk-second-secret-0002", "enabled": true}),
    )
    .await;
    assert_eq!(pkey["key"], "sk-…0002");
    assert!(!pkey.to_string().contains("sk-second-secret"), "secret never returned: {pkey}");
    lifecycle(
        &admin,
        "provider-key",
        "provider-keys",
        &pkey,
        "provider=local-vllm",
        json!({"provider": "local-vllm", "name": "second-renamed", "key": "sk-rotated-secret-0003"}),
        json!({"enabled": false}),
    )
    .await;

    let model = add(&admin, "model", json!({"provider": "local-vllm", "model_code": "llama-3.1-8b", "name": "Llama", "features": ["chat", "streaming"], "output_formats": ["text"], "supports_mcp": false, "enabled": true})).await;
    assert_eq!(model["provider"], "local-vllm");
    assert_eq!(model["features"], json!(["chat", "streaming"]));
    lifecycle(&admin, "model", "models", &model, "provider=local-vllm",
        json!({"provider": "local-vllm", "model_code": "llama-3.1-8b", "name": "Llama 3.1", "features": ["chat", "streaming", "function_calling"], "output_formats": ["text", "json"], "supports_mcp": true, "enabled": true}),
        json!({"name": "Llama 3.1 8B"})).await;

    // A project and everything in it.
    let project = add(&admin, "project", json!({"name": "Apollo", "description": "moon"})).await;
    let pid = project["id"].as_i64().unwrap();
    lifecycle(
        &admin,
        "project",
        "projects",
        &project,
        "user_id=1",
        json!({"name": "Apollo 11", "description": "first landing"}),
        json!({"description": "patched"}),
    )
    .await;

    let codebase = add(&admin, "codebase", json!({"project_id": pid, "name": "lander", "repo_url": "https://example.invalid/lander.git", "architecture_notes": "hexagonal", "preferred_stack": "rust", "prerequisites": "cargo", "enabled": true, "runtime_config": {"runner": {"host": "127.0.0.1", "ssh_user": "ci", "workspace_root": "/srv/work"}}})).await;
    lifecycle(&admin, "codebase", "codebases", &codebase, &format!("project_id={pid}"),
        json!({"project_id": pid, "name": "lander", "repo_url": "https://example.invalid/l2.git", "enabled": false, "runtime_config": {"runner": {"host": "h", "ssh_user": "u", "workspace_root": "/w"}}}),
        json!({"enabled": true})).await;
    let cbid = codebase["id"].as_i64().unwrap();

    let agent = add(&admin, "agent", json!({"project_id": pid, "name": "Ada", "job_title": "Engineer", "role": "writes code", "job_tags": ["rust", "review"], "soul": "calm", "models": [{"provider": "local-vllm", "model_code": "llama-3.1-8b"}], "codebase_id": cbid})).await;
    assert_eq!(agent["models"], json!([{"provider": "local-vllm", "model_code": "llama-3.1-8b"}]));
    assert_eq!(agent["job_tags"], json!(["rust", "review"]));
    lifecycle(&admin, "agent", "agents", &agent, &format!("project_id={pid}"),
        json!({"project_id": pid, "name": "Ada L", "job_title": "Lead", "role": "leads", "job_tags": ["lead"], "soul": "bold", "models": [], "codebase_id": null}),
        json!({"soul": "kind"})).await;
    let aid = agent["id"].as_i64().unwrap();

    let task = add(&admin, "task", json!({"project_id": pid, "title": "Write tests", "description": "all of them", "tags": ["rust"], "schedule": {"every_seconds": 3600}})).await;
    assert_eq!(task["status"], "scheduled");
    assert_eq!(task["kind"], "scheduled");
    assert!(task["next_run_at"].is_string());
    lifecycle(&admin, "task", "tasks", &task, &format!("project_id={pid}"),
        json!({"project_id": pid, "title": "Write more tests", "description": "d", "tags": ["qa"], "schedule": {"cron": "0 9 * * 1"}, "parent_task_id": null}),
        json!({"tags": ["qa", "rust"]})).await;
    let child = add(&admin, "task", json!({"project_id": pid, "title": "Sub", "parent_task_id": task["id"]})).await;
    assert_eq!(child["kind"], "spawned");

    let report = add(&admin, "report", json!({"project_id": pid, "title": "November", "period": "monthly", "period_start": "2026-11-01", "content": "all good"})).await;
    lifecycle(&admin, "report", "reports", &report, "period=monthly",
        json!({"project_id": pid, "title": "2026", "period": "annual", "period_start": "2026-01-01", "content": "year"}),
        json!({"content": "revised"})).await;

    let doc = add(&admin, "document", json!({"project_id": pid, "title": "Guide", "content": "v1", "description": "short", "extended_description": "long"})).await;
    assert_eq!(doc["revision"], 1);
    lifecycle(&admin, "document", "documents", &doc, &format!("project_id={pid}"),
        json!({"project_id": pid, "title": "Guide", "content": "v2", "description": "s2", "extended_description": "l2"}),
        json!({"content": "v3"})).await;
    let (_, doc_now) = admin.get(&format!("/api/v1/get/document/{}", doc["id"])).await;
    assert_eq!(doc_now["revision"], 3, "each content change is a revision: {doc_now}");

    let resource = add(&admin, "resource", json!({"project_id": pid, "agent_id": aid, "resource_type": "skill", "name": "task_plugin", "description": "tasks", "config": {}})).await;
    lifecycle(&admin, "resource", "resources", &resource, "resource_type=skill",
        json!({"project_id": pid, "agent_id": null, "resource_type": "tool", "name": "search", "description": "d", "config": {"a": 1}}),
        json!({"description": "patched"})).await;

    let asset = add(&admin, "asset", json!({"project_id": pid, "agent_id": aid, "name": "prod db", "asset_type": "database", "uri": "postgres://db.internal/app"})).await;
    lifecycle(
        &admin,
        "asset",
        "assets",
        &asset,
        "asset_type=database",
        json!({"project_id": pid, "name": "prod db", "asset_type": "server", "uri": "ssh://host"}),
        json!({"uri": "ssh://host2"}),
    )
    .await;

    let cred = add(&admin, "credential", json!({"project_id": pid, "agent_id": aid, "asset_id": asset["id"], "name": "db password", "credential_type": "password", "secret": "hunter2-very-secret"})).await;
    assert_eq!(cred["secret"], "hun…cret");
    lifecycle(
        &admin,
        "credential",
        "credentials",
        &cred,
        "credential_type=password",
        json!({"project_id": pid, "name": "db password", "credential_type": "token", "secret": "another-secret-value"}),
        json!({"agent_id": aid}),
    )
    .await;

    let mcp = add(&admin, "mcp-tool", json!({"project_id": pid, "name": "everything", "transport": "http", "url": "http://127.0.0.1:3001/mcp", "headers": {"Authorization": "Bearer mcp-secret-token"}, "enabled": true})).await;
    assert_eq!(mcp["headers"], json!({"Authorization": "Bea…oken"}), "MCP header values masked: {mcp}");
    lifecycle(&admin, "mcp-tool", "mcp-tools", &mcp, "transport=http",
        json!({"project_id": pid, "name": "everything", "transport": "stdio", "command": "npx", "args": ["-y", "server"], "enabled": true}),
        json!({"enabled": false})).await;

    // Users, keys, settings.
    let user = add(
        &admin,
        "user",
        json!({"username": "bob", "password": "bob-password-1", "email": "bob@example.com", "role": "user"}),
    )
    .await;
    assert!(user.get("password").is_none() && user.get("password_hash").is_none(), "{user}");
    lifecycle(&admin, "user", "users", &user, "role=user",
        json!({"username": "bob", "password": "bob-password-2", "email": "b@example.com", "role": "user", "enabled": true}),
        json!({"email": "bob@example.org"})).await;
    server.login("bob", "bob-password-2").await;

    let key = add(&admin, "gateway-api-key", json!({"name": "ci", "expires_at": "2099-01-01T00:00:00Z"})).await;
    let full = key["key"].as_str().unwrap().to_string();
    assert!(full.starts_with(&key["prefix"].as_str().unwrap().to_string()));
    let (_, keys) = admin.get("/api/v1/list/gateway-api-keys").await;
    assert!(!keys.to_string().contains(&full), "the full key is shown once only");
    assert_error(
        &admin.patch(&format!("/api/v1/update/gateway-api-key/{}", key["id"]), json!({"name": "x"})).await,
        404,
        "not_found",
    );

    let cfg = add(&admin, "gateway-config", json!({"key": "mcp.max_tool_iterations", "value": 5})).await;
    lifecycle(
        &admin,
        "gateway-config",
        "gateway-config",
        &cfg,
        "key=mcp.max_tool_iterations",
        json!({"key": "mcp.max_tool_iterations", "value": {"n": 4}}),
        json!({"value": 3}),
    )
    .await;

    // Deletes, in dependency order (tasks are cancelled and kept).
    let tid = task["id"].as_i64().unwrap();
    let (s, _) = admin.delete(&format!("/api/v1/del/task/{tid}")).await;
    assert_eq!(s, 200);
    let (_, t) = admin.get(&format!("/api/v1/get/task/{tid}")).await;
    assert_eq!(t["status"], "cancelled", "cancel is a soft delete: {t}");
    let (_, pending) = admin.get(&format!("/api/v1/list/tasks?project_id={pid}")).await;
    assert!(!ids(&pending).contains(&tid), "cancelled tasks are not listed by default");
    let (_, cancelled) = admin.get("/api/v1/list/tasks?status=cancelled").await;
    assert!(ids(&cancelled).contains(&tid));

    for (kind, row) in [
        ("credential", &cred),
        ("asset", &asset),
        ("resource", &resource),
        ("document", &doc),
        ("report", &report),
        ("mcp-tool", &mcp),
        ("agent", &agent),
        ("codebase", &codebase),
        ("gateway-config", &cfg),
        ("gateway-api-key", &key),
        ("user", &user),
        ("model", &model),
        ("provider-key", &pkey),
        ("provider", &provider),
        ("project", &project),
    ] {
        delete_and_gone(&admin, kind, row["id"].as_i64().unwrap()).await;
    }
}

async fn bad_input(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let project = add(&admin, "project", json!({"name": "P"})).await;
    let pid = project["id"].as_i64().unwrap();

    let e = admin.get("/api/v1/list/widgets").await;
    assert_error(&e, 404, "not_found");
    assert!(e.1["error"]["message"].as_str().unwrap().contains("agents"), "lists the valid types: {}", e.1);
    assert_error(&admin.post("/api/v1/add/widget", json!({})).await, 404, "not_found");
    assert_error(&admin.post("/api/v1/add/session", json!({})).await, 404, "not_found");

    let malformed =
        admin.raw(reqwest::Method::POST, "/api/v1/add/project", "application/json", b"{\"name\": ".to_vec()).await;
    assert_error(&malformed, 400, "invalid_json");
    assert_error(
        &admin.raw(reqwest::Method::POST, "/api/v1/add/project", "application/json", b"[1]".to_vec()).await,
        400,
        "invalid_json",
    );

    let wrong_type = admin.post("/api/v1/add/agent", json!({"project_id": pid, "name": "A", "job_tags": "rust"})).await;
    assert_error(&wrong_type, 422, "invalid_field");
    assert_eq!(wrong_type.1["error"]["field"], "job_tags");
    let missing = admin.post("/api/v1/add/task", json!({"project_id": pid})).await;
    assert_error(&missing, 422, "invalid_field");
    assert_eq!(missing.1["error"]["field"], "title");
    let unknown = admin.post("/api/v1/add/project", json!({"name": "Q", "colour": "red"})).await;
    assert_error(&unknown, 422, "invalid_field");
    assert_eq!(unknown.1["error"]["field"], "colour");
    let bad_enum = admin
        .post(
            "/api/v1/add/report",
            json!({"project_id": pid, "title": "t", "period": "weekly", "period_start": "2026-01-01"}),
        )
        .await;
    assert_eq!(bad_enum.1["error"]["field"], "period");
    let bad_date = admin
        .post(
            "/api/v1/add/report",
            json!({"project_id": pid, "title": "t", "period": "monthly", "period_start": "Jan"}),
        )
        .await;
    assert_eq!(bad_date.1["error"]["field"], "period_start");
    let bad_sched = admin
        .post("/api/v1/add/task", json!({"project_id": pid, "title": "t", "schedule": {"cron": "every day"}}))
        .await;
    assert_eq!(bad_sched.1["error"]["field"], "schedule");
    let bad_model = admin
        .post(
            "/api/v1/add/agent",
            json!({"project_id": pid, "name": "A", "models": [{"provider": "nope", "model_code": "x"}]}),
        )
        .await;
    assert_error(&bad_model, 422, "invalid_field");
    let bad_url = admin.post("/api/v1/add/provider", json!({"name": "x", "base_url": "not a url"})).await;
    assert_eq!(bad_url.1["error"]["field"], "base_url");
    let put_missing = admin.put(&format!("/api/v1/update/project/{pid}"), json!({"description": "no name"})).await;
    assert_eq!(put_missing.1["error"]["field"], "name", "PUT needs every required field");
    let short_pw = admin.post("/api/v1/add/user", json!({"username": "c", "password": "short"})).await;
    assert_eq!(short_pw.1["error"]["field"], "password");

    assert_error(&admin.post("/api/v1/add/project", json!({"name": "P"})).await, 409, "conflict");
    assert_error(&admin.get("/api/v1/get/project/999999").await, 404, "not_found");
    assert_error(&admin.patch("/api/v1/update/project/999999", json!({"name": "x"})).await, 404, "not_found");
    assert_error(&admin.get("/api/v1/get/project/abc").await, 400, "bad_request");
    assert_error(&admin.get("/api/v1/list/projects?colour=red").await, 400, "bad_request");
    assert_error(&admin.post("/api/v1/add/agent", json!({"project_id": 999999, "name": "A"})).await, 404, "not_found");

    // Pagination is bounded.
    for i in 0..3 {
        add(&admin, "asset", json!({"project_id": pid, "name": format!("a{i}"), "asset_type": "file"})).await;
    }
    let (_, page) = admin.get("/api/v1/list/assets?limit=2&offset=1").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 3);
    let (_, capped) = admin.get("/api/v1/list/assets?limit=100000").await;
    assert_eq!(capped["limit"], 500);

    // Request bodies are bounded (default 4 MiB for JSON).
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(5 * 1024 * 1024));
    assert_error(
        &admin.raw(reqwest::Method::POST, "/api/v1/add/project", "application/json", big.into_bytes()).await,
        413,
        "payload_too_large",
    );
}

async fn other_users_see_nothing(backend: Backend) {
    let server = Server::start(backend);
    let admin = server.admin().await;
    let (carol, carol_id) = server.user(&admin, "carol").await;
    let (dave, _) = server.user(&admin, "dave").await;

    let project = add(&admin, "project", json!({"name": "Secret"})).await;
    let pid = project["id"].as_i64().unwrap();
    let mut admin_rows = vec![("project", project.clone())];
    admin_rows.push(("agent", add(&admin, "agent", json!({"project_id": pid, "name": "A"})).await));
    admin_rows.push(("task", add(&admin, "task", json!({"project_id": pid, "title": "T"})).await));
    admin_rows.push((
        "report",
        add(
            &admin,
            "report",
            json!({"project_id": pid, "title": "R", "period": "annual", "period_start": "2026-01-01"}),
        )
        .await,
    ));
    admin_rows.push(("document", add(&admin, "document", json!({"project_id": pid, "title": "D"})).await));
    admin_rows.push(("codebase", add(&admin, "codebase", json!({"project_id": pid, "name": "C"})).await));
    admin_rows.push((
        "resource",
        add(&admin, "resource", json!({"project_id": pid, "resource_type": "skill", "name": "task_plugin"})).await,
    ));
    admin_rows
        .push(("asset", add(&admin, "asset", json!({"project_id": pid, "name": "A", "asset_type": "file"})).await));
    admin_rows.push((
        "credential",
        add(
            &admin,
            "credential",
            json!({"project_id": pid, "name": "C", "credential_type": "token", "secret": "s3cret-s3cret"}),
        )
        .await,
    ));
    admin_rows.push((
        "mcp-tool",
        add(
            &admin,
            "mcp-tool",
            json!({"project_id": pid, "name": "M", "transport": "http", "url": "http://127.0.0.1:1/mcp"}),
        )
        .await,
    ));
    admin_rows.push(("gateway-api-key", add(&admin, "gateway-api-key", json!({"name": "admin key"})).await));

    // Carol works in her own project, through an API key this time.
    let (_, carol_key) = carol.post("/api/v1/add/gateway-api-key", json!({"name": "mine"})).await;
    let carol = carol.with_key("authorization", carol_key["key"].as_str().unwrap());
    let own = add(&carol, "project", json!({"name": "Mine"})).await;
    let own_agent = add(&carol, "agent", json!({"project_id": own["id"], "name": "Helper"})).await;
    assert_eq!(own["user_id"], carol_id);

    for (kind, row) in &admin_rows {
        let id = row["id"].as_i64().unwrap();
        let plural = common_plural(kind);
        let (s, list) = carol.get(&format!("/api/v1/list/{plural}")).await;
        assert_eq!(s, 200, "{plural}: {list}");
        assert!(!ids(&list).contains(&id), "carol must not list admin's {kind}: {list}");
        assert_error(&carol.get(&format!("/api/v1/get/{kind}/{id}")).await, 404, "not_found");
        assert_error(&carol.delete(&format!("/api/v1/del/{kind}/{id}")).await, 404, "not_found");
        if *kind != "gateway-api-key" {
            assert_error(&carol.patch(&format!("/api/v1/update/{kind}/{id}"), json!({})).await, 404, "not_found");
        }
    }
    // Not into someone else's project, nor pointing at someone else's rows.
    assert_error(&carol.post("/api/v1/add/agent", json!({"project_id": pid, "name": "Mole"})).await, 404, "not_found");
    let agent_id = admin_rows[1].1["id"].as_i64().unwrap();
    assert_error(
        &carol
            .post(
                "/api/v1/add/resource",
                json!({"project_id": own["id"], "agent_id": agent_id, "resource_type": "skill", "name": "x"}),
            )
            .await,
        404,
        "not_found",
    );
    // Admin-only types and catalog writes.
    assert_error(&carol.get("/api/v1/list/provider-keys").await, 403, "forbidden");
    assert_error(&carol.get("/api/v1/list/gateway-config").await, 403, "forbidden");
    assert_error(
        &carol.post("/api/v1/add/provider", json!({"name": "x", "base_url": "http://x"})).await,
        403,
        "forbidden",
    );
    assert_error(
        &carol.post("/api/v1/add/user", json!({"username": "eve", "password": "eve-password"})).await,
        403,
        "forbidden",
    );
    assert_error(
        &carol
            .post(
                "/api/v1/add/mcp-tool",
                json!({"project_id": own["id"], "name": "s", "transport": "stdio", "command": "sh"}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_error(
        &carol.patch(&format!("/api/v1/update/user/{carol_id}"), json!({"role": "admin"})).await,
        403,
        "forbidden",
    );
    // Users see only themselves.
    let (_, users) = carol.get("/api/v1/list/users").await;
    assert_eq!(ids(&users), vec![carol_id]);
    // Dave sees none of Carol's things; admin sees all of them.
    let (_, dave_agents) = dave.get("/api/v1/list/agents").await;
    assert!(dave_agents["data"].as_array().unwrap().is_empty());
    let (_, all_agents) = admin.get("/api/v1/list/agents").await;
    assert!(ids(&all_agents).contains(&own_agent["id"].as_i64().unwrap()));
}

fn common_plural(kind: &str) -> String {
    match kind {
        "gateway-config" => kind.to_string(),
        _ => format!("{kind}s"),
    }
}

both_backends!(every_type_crud, bad_input, other_users_see_nothing);
