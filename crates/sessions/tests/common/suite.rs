//! The behaviours every session store must show, each a function of the backend.

use std::time::Duration;

use serde_json::json;
use spgw_core::time::now_ms;
use spgw_providers::{Message, Role};
use spgw_sessions::{Limits, NewSession, SessionError, SessionStore};

use super::{Backend, Ctx, DEFAULT_TTL, ctx, ctx_with_limits};

fn user(text: &str) -> Message {
    Message::text(Role::User, text)
}

fn assistant(text: &str) -> Message {
    Message::text(Role::Assistant, text)
}

fn texts(messages: &[Message]) -> Vec<String> {
    messages.iter().map(Message::joined_text).collect()
}

async fn new_session(c: &Ctx, user_id: i64) -> String {
    let new = NewSession { user_id, model_id: Some(c.gpt), ..Default::default() };
    c.store.create(new).await.unwrap().session_id
}

async fn sql_count(c: &Ctx, sql: &str, id: &str) -> i64 {
    c.db.fetch_optional(sql, &[id.into()]).await.unwrap().and_then(|r| r.i64("n")).unwrap()
}

/// Rows in `sessions` and `session_messages` for a session, whatever their expiry.
async fn sql_rows(c: &Ctx, id: &str) -> (i64, i64) {
    (
        sql_count(c, "SELECT COUNT(*) AS n FROM sessions WHERE session_id = ?", id).await,
        sql_count(c, "SELECT COUNT(*) AS n FROM session_messages WHERE session_id = ?", id).await,
    )
}

async fn set_sql(c: &Ctx, column: &str, value: i64, id: &str) {
    let sql = format!("UPDATE sessions SET {column} = ? WHERE session_id = ?");
    assert_eq!(c.db.execute(&sql, &[value.into(), id.into()]).await.unwrap().rows_affected, 1);
}

pub async fn create_load_append_and_list(backend: Backend) {
    let Some(mut c) = ctx(backend, &[]).await else { return };
    let before = now_ms();
    let mcp = json!({"tools": ["task.create"], "instructions": "be brief"});
    let new = NewSession {
        user_id: c.alice,
        project_id: None,
        agent_id: None,
        model_id: Some(c.gpt),
        task_id: Some(77),
        title: Some("é".repeat(300)),
        mcp_config: Some(mcp.clone()),
    };
    let meta = c.store.create(new).await.unwrap();
    assert_eq!(meta.session_id.len(), 32);
    assert!(meta.session_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(meta.user_id, c.alice);
    assert_eq!((meta.provider.as_deref(), meta.model.as_deref()), (Some("openai"), Some("gpt-5-mini")));
    assert_eq!(meta.model_id, Some(c.gpt));
    assert_eq!(meta.task_id, Some(77));
    assert_eq!(meta.title.as_deref().map(|t| t.chars().count()), Some(191), "title cut to the column");
    assert_eq!(meta.mcp_config.as_ref(), Some(&mcp));
    assert_eq!((meta.message_count, meta.total_tokens, meta.total_cost_usd), (0, 0, 0.0));
    let ttl = DEFAULT_TTL.as_millis() as i64;
    assert!(meta.created_at >= before && meta.expires_at - meta.created_at >= ttl - 1000);
    assert!(meta.expires_at - meta.created_at <= ttl, "default TTL is 7 days");
    let shape = meta.to_json();
    assert!(shape["created_at"].as_str().unwrap().ends_with('Z'), "API times are RFC 3339: {shape}");

    let id = meta.session_id.clone();
    let s = c.store.load(&id).await.unwrap().expect("a new session loads");
    assert!(s.messages.is_empty());
    assert_eq!(s.meta, meta);

    c.store.append(&id, &[user("hi"), assistant("hello")], 30, 0.25, None, None).await.unwrap();
    c.store.append(&id, &[user("how are you?"), assistant("fine")], 12, 0.5, Some(c.claude), None).await.unwrap();
    let s = c.store.load(&id).await.unwrap().unwrap();
    assert_eq!(texts(&s.messages), ["hi", "hello", "how are you?", "fine"]);
    assert_eq!(s.messages[1].role, Role::Assistant);
    assert_eq!((s.meta.message_count, s.meta.total_tokens), (4, 42));
    assert!((s.meta.total_cost_usd - 0.75).abs() < 1e-9);
    assert_eq!((s.meta.provider.as_deref(), s.meta.model.as_deref()), (Some("anthropic"), Some("claude-haiku-4-5")));
    assert!(s.meta.updated_at >= meta.updated_at);
    assert_eq!(s.to_json()["messages"][2]["content"][0]["text"], "how are you?");

    let mine = c.store.list(Some(c.alice), 50, 0).await.unwrap();
    assert_eq!(mine.iter().map(|m| m.session_id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    assert_eq!(mine[0].message_count, 4);
    assert!(c.store.list(Some(c.bob), 50, 0).await.unwrap().is_empty());
    assert_eq!(c.store.list(None, 50, 0).await.unwrap().len(), 1);

    if let Some(r) = c.redis.as_mut() {
        let key = r.key(&id);
        assert_eq!(r.llen(&key), 5, "header plus four messages");
        let pttl = r.pttl(&key);
        assert!(pttl > ttl - 60_000 && pttl <= ttl, "the history key carries the session TTL ({pttl})");
    }
    c.store.ping().await.unwrap();
}

pub async fn list_pages_newest_first(backend: Backend) {
    let Some(c) = ctx(backend, &[]).await else { return };
    let a = new_session(&c, c.alice).await;
    let b = new_session(&c, c.alice).await;
    let third = new_session(&c, c.alice).await;
    let _bobs = new_session(&c, c.bob).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Using a session makes it the most recent.
    c.store.append(&a, &[user("again")], 1, 0.0, None, None).await.unwrap();

    let all: Vec<String> =
        c.store.list(Some(c.alice), 10, 0).await.unwrap().into_iter().map(|m| m.session_id).collect();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], a, "most recently used first");
    assert!(all.contains(&b) && all.contains(&third));
    let page1 = c.store.list(Some(c.alice), 2, 0).await.unwrap();
    let page2 = c.store.list(Some(c.alice), 2, 2).await.unwrap();
    assert_eq!(page1.len(), 2);
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].session_id, all[2]);
    assert_eq!(c.store.list(None, 10, 0).await.unwrap().len(), 4);
}

pub async fn mcp_config_and_model_kept_across_appends(backend: Backend) {
    let Some(c) = ctx(backend, &[]).await else { return };
    let first = json!({"tools": ["a"], "operations": ["read"]});
    let second = json!({"tools": ["b"], "instructions": "x"});
    let new =
        NewSession { user_id: c.alice, model_id: Some(c.gpt), mcp_config: Some(first.clone()), ..Default::default() };
    let id = c.store.create(new).await.unwrap().session_id;

    c.store.append(&id, &[user("1")], 0, 0.0, None, None).await.unwrap();
    let m = c.store.load(&id).await.unwrap().unwrap().meta;
    assert_eq!(m.mcp_config.as_ref(), Some(&first), "None keeps the previous mcp_config");
    assert_eq!(m.model_id, Some(c.gpt), "None keeps the previous model");

    c.store.append(&id, &[user("2")], 0, 0.0, None, Some(&second)).await.unwrap();
    c.store.append(&id, &[user("3")], 0, 0.0, None, None).await.unwrap();
    let s = c.store.load(&id).await.unwrap().unwrap();
    assert_eq!(s.meta.mcp_config.as_ref(), Some(&second));
    assert_eq!(texts(&s.messages), ["1", "2", "3"]);
}

pub async fn ttl_override_precedence(backend: Backend) {
    let hour = 3_600_000;
    // Seconds beat hours beat days; a value that is not a positive number is skipped.
    let cases: [(&[(&str, &str)], i64); 4] = [
        (&[("sessions.ttl_days", "2")], 48 * hour),
        (&[("sessions.ttl_days", "2"), ("sessions.ttl_hours", "\"3\"")], 3 * hour),
        (&[("sessions.ttl_hours", "0.5"), ("sessions.ttl_seconds", "90")], 90_000),
        (&[("sessions.ttl_seconds", "\"soon\""), ("sessions.ttl_hours", "-1"), ("sessions.ttl_days", "1")], 24 * hour),
    ];
    for (settings, want) in cases {
        let Some(c) = ctx(backend, settings).await else { return };
        let m = c.store.create(NewSession { user_id: c.alice, ..Default::default() }).await.unwrap();
        let got = m.expires_at - m.created_at;
        assert!((want - 1000..=want).contains(&got), "{settings:?}: ttl {got} ms, want {want}");
    }
}

pub async fn expires_and_append_renews(backend: Backend) {
    let Some(mut c) = ctx(backend, &[("sessions.ttl_seconds", "1")]).await else { return };
    let id = new_session(&c, c.alice).await;
    let short = new_session(&c, c.alice).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    c.store.append(&id, &[user("still here")], 1, 0.0, None, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    // 1.2 s after creation: the untouched session is gone, the continued one renewed.
    assert!(c.store.load(&short).await.unwrap().is_none(), "expired session must not load");
    let s = c.store.load(&id).await.unwrap().expect("append renewed the TTL");
    assert_eq!(texts(&s.messages), ["still here"]);
    let listed: Vec<String> =
        c.store.list(Some(c.alice), 10, 0).await.unwrap().into_iter().map(|m| m.session_id).collect();
    assert_eq!(listed, std::slice::from_ref(&id));

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(c.store.load(&id).await.unwrap().is_none());
    assert!(matches!(c.store.append(&id, &[user("late")], 0, 0.0, None, None).await, Err(SessionError::NotFound)));
    assert!(c.store.list(Some(c.alice), 10, 0).await.unwrap().is_empty());
    assert!(!c.store.delete(&id).await.unwrap(), "an expired session is not there to delete");
    if let Some(r) = c.redis.as_mut() {
        assert!(!r.exists(&r.key(&id)), "Redis expired the history with the session");
    }
    let _ = c.store.sweep().await.unwrap();
    assert_eq!(sql_rows(&c, &id).await, (0, 0));
    assert_eq!(sql_rows(&c, &short).await, (0, 0));
}

pub async fn delete_removes_everything(backend: Backend) {
    let Some(mut c) = ctx(backend, &[]).await else { return };
    let id = new_session(&c, c.alice).await;
    let other = new_session(&c, c.alice).await;
    c.store.append(&id, &[user("a"), assistant("b")], 5, 0.1, None, None).await.unwrap();
    c.store.append(&other, &[user("keep")], 5, 0.1, None, None).await.unwrap();
    if let Some(r) = c.redis.as_mut() {
        assert!(r.exists(&r.key(&id)));
    } else {
        assert_eq!(sql_rows(&c, &id).await, (1, 2));
    }

    assert!(c.store.delete(&id).await.unwrap());
    assert!(c.store.load(&id).await.unwrap().is_none());
    assert_eq!(sql_rows(&c, &id).await, (0, 0), "gone from SQL");
    if let Some(r) = c.redis.as_mut() {
        assert!(!r.exists(&r.key(&id)), "gone from Redis");
        assert!(r.exists(&r.key(&other)));
    }
    assert!(!c.store.delete(&id).await.unwrap());
    assert!(matches!(c.store.append(&id, &[user("c")], 0, 0.0, None, None).await, Err(SessionError::NotFound)));
    if let Some(r) = c.redis.as_mut() {
        assert!(!r.exists(&r.key(&id)), "a refused append must not recreate the history");
    }
    let kept = c.store.load(&other).await.unwrap().unwrap();
    assert_eq!(texts(&kept.messages), ["keep"]);
}

pub async fn sweep_removes_expired(backend: Backend) {
    let Some(mut c) = ctx(backend, &[]).await else { return };
    let live = new_session(&c, c.alice).await;
    let expired = new_session(&c, c.alice).await;
    c.store.append(&live, &[user("live")], 0, 0.0, None, None).await.unwrap();
    c.store.append(&expired, &[user("old"), assistant("older")], 0, 0.0, None, None).await.unwrap();
    set_sql(&c, "expires_at", now_ms() - 1000, &expired).await;
    assert_eq!(sql_rows(&c, &expired).await.0, 1, "an expired row stays until swept or loaded");
    let mut expected = 1;
    let mut orphan_key = None;
    let mut keyless = None;
    if c.redis.is_some() {
        // A row whose history Redis evicted, old enough not to be a create in progress.
        let id = new_session(&c, c.alice).await;
        set_sql(&c, "created_at", now_ms() - 120_000, &id).await;
        keyless = Some(id);
    }
    if let Some(r) = c.redis.as_mut() {
        let id = keyless.as_deref().unwrap_or_default();
        r.del(&r.key(id));
        // A history key without its SQL row (a delete interrupted between the two stores).
        let key = r.key("0123456789abcdef0123456789abcdef");
        r.push(&key, "{\"session_id\":\"x\",\"bytes\":0}", 60_000);
        orphan_key = Some(key);
        expected += 2;
    }

    let removed = c.store.sweep().await.unwrap();
    assert!(removed >= expected, "sweep removed {removed}, expected at least {expected}");
    assert_eq!(sql_rows(&c, &expired).await, (0, 0), "expired row and its messages removed");
    if let Some(r) = c.redis.as_mut() {
        assert!(!r.exists(&r.key(&expired)), "expired session's history removed");
        assert!(!r.exists(orphan_key.as_deref().unwrap()), "orphaned history key removed");
        assert_eq!(sql_rows(&c, keyless.as_deref().unwrap()).await.0, 0, "keyless row removed");
    }
    let s = c.store.load(&live).await.unwrap().expect("the live session survives the sweep");
    assert_eq!(texts(&s.messages), ["live"]);
    assert_eq!(c.store.sweep().await.unwrap(), 0, "nothing left to sweep");
}

pub async fn limits_refuse_appends(backend: Backend) {
    let limits = Limits { max_messages: 3, max_bytes: 100_000 };
    let Some(c) = ctx_with_limits(backend, &[], limits).await else { return };
    let id = new_session(&c, c.alice).await;
    c.store.append(&id, &[user("1"), assistant("2")], 1, 0.0, None, None).await.unwrap();
    let r = c.store.append(&id, &[user("3"), assistant("4")], 1, 0.0, None, None).await;
    assert!(matches!(r, Err(SessionError::TooManyMessages { limit: 3 })), "{r:?}");
    let s = c.store.load(&id).await.unwrap().unwrap();
    assert_eq!((texts(&s.messages).len(), s.meta.message_count, s.meta.total_tokens), (2, 2, 1), "nothing written");
    c.store.append(&id, &[user("3")], 1, 0.0, None, None).await.unwrap();

    let big = "x".repeat(60_000);
    let id = new_session(&c, c.alice).await;
    c.store.append(&id, &[user(&big)], 1, 0.0, None, None).await.unwrap();
    let r = c.store.append(&id, &[user(&big)], 1, 0.0, None, None).await;
    assert!(matches!(r, Err(SessionError::TooLarge { limit: 100_000 })), "{r:?}");
    let s = c.store.load(&id).await.unwrap().unwrap();
    assert_eq!((s.messages.len(), s.meta.message_count), (1, 1));
    c.store.append(&id, &[user("small")], 1, 0.0, None, None).await.unwrap();
}

pub async fn concurrent_appends_keep_order(backend: Backend) {
    let Some(c) = ctx(backend, &[]).await else { return };
    let id = new_session(&c, c.alice).await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (store, id) = (c.store.clone(), id.clone());
            tokio::spawn(async move {
                store.append(&id, &[user(&format!("q{i}")), assistant(&format!("a{i}"))], 2, 0.0, None, None).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let s = c.store.load(&id).await.unwrap().unwrap();
    assert_eq!((s.messages.len(), s.meta.message_count, s.meta.total_tokens), (24, 24, 24));
    // Each append's pair stays together: appends are atomic, never interleaved.
    for pair in s.messages.chunks(2) {
        let (q, a) = (pair[0].joined_text(), pair[1].joined_text());
        assert_eq!(q[1..], a[1..], "interleaved: {q} / {a}");
    }
}

pub async fn unknown_and_malformed_ids(backend: Backend) {
    let Some(c) = ctx(backend, &[]).await else { return };
    for id in ["0123456789abcdef0123456789abcdef", "x:y", "*", ""] {
        assert!(c.store.load(id).await.unwrap().is_none(), "{id:?}");
        assert!(!c.store.delete(id).await.unwrap(), "{id:?}");
        let r = c.store.append(id, &[user("x")], 0, 0.0, None, None).await;
        assert!(matches!(r, Err(SessionError::NotFound)), "{id:?}: {r:?}");
    }
    let r = c.store.create(NewSession { user_id: 999_999, ..Default::default() }).await;
    assert!(matches!(r, Err(SessionError::Store(_))), "unknown user refused: {r:?}");
    assert!(c.store.list(None, 10, 0).await.unwrap().is_empty(), "a refused create leaves nothing");
}
