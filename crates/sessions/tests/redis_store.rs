//! The behavioural suite against the Redis store (`SPGW_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`; skipped when unreachable, unless `CI` is set), plus what only
//! the split between Redis and SQL can show.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{Backend, DEFAULT_TTL, ctx};
use spgw_core::time::now_ms;
use spgw_providers::{Message, Role};
use spgw_sessions::{NewSession, SessionStore, Sessions};

behaviour_suite!(Backend::Redis);

#[tokio::test]
async fn missing_history_means_the_session_is_over() {
    let Some(mut c) = ctx(Backend::Redis, &[]).await else { return };
    let id = c.store.create(NewSession { user_id: c.alice, ..Default::default() }).await.unwrap().session_id;
    c.store.append(&id, &[Message::text(Role::User, "hi")], 1, 0.0, None, None).await.unwrap();
    let r = c.redis.as_mut().unwrap();
    r.del(&r.key(&id));

    assert!(c.store.load(&id).await.unwrap().is_none(), "evicted history: the session is gone");
    let append = c.store.append(&id, &[Message::text(Role::User, "again")], 1, 0.0, None, None).await;
    assert!(matches!(append, Err(spgw_sessions::SessionError::NotFound)), "{append:?}");
    let r = c.redis.as_mut().unwrap();
    assert!(!r.exists(&r.key(&id)), "a refused append does not recreate a headless list");

    // Old enough not to be a create in progress: the row is forgotten on the next load.
    let sql = "UPDATE sessions SET created_at = ? WHERE session_id = ?";
    c.db.execute(sql, &[(now_ms() - 120_000).into(), id.as_str().into()]).await.unwrap();
    assert!(c.store.load(&id).await.unwrap().is_none());
    let rows = c.db.fetch_all("SELECT id FROM sessions WHERE session_id = ?", &[id.as_str().into()]).await.unwrap();
    assert!(rows.is_empty(), "SQL agrees with Redis");
}

#[tokio::test]
async fn keys_live_under_the_prefix_only() {
    let Some(mut c) = ctx(Backend::Redis, &[]).await else { return };
    let a = c.store.create(NewSession { user_id: c.alice, ..Default::default() }).await.unwrap().session_id;
    let b = c.store.create(NewSession { user_id: c.bob, ..Default::default() }).await.unwrap().session_id;
    let r = c.redis.as_mut().unwrap();
    let mut keys = r.keys();
    keys.sort();
    let mut want = vec![r.key(&a), r.key(&b)];
    want.sort();
    assert_eq!(keys, want);
    let Sessions::Redis(store) = &c.store else { unreachable!() };
    assert_eq!(store.history_key(&a), r.key(&a));
}

#[tokio::test]
async fn connect_with_redis_url() {
    let Some(c) = ctx(Backend::Redis, &[]).await else { return };
    let url = c.redis.as_ref().unwrap().url.clone();
    let prefix = c.redis.as_ref().unwrap().prefix.clone();
    let s = Sessions::connect(c.db.clone(), Some(&url), &prefix, DEFAULT_TTL).await.unwrap();
    assert_eq!(s.backend(), "redis");
    s.ping().await.unwrap();
    let refused = Sessions::connect(c.db.clone(), Some("redis://127.0.0.1:1"), &prefix, DEFAULT_TTL).await;
    assert!(matches!(refused, Err(spgw_sessions::SessionError::Redis(_))), "an unreachable Redis fails at start-up");
}
