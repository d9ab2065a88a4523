//! The behavioural suite against the embedded store on SQLite, plus restart survival.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{Backend, DEFAULT_TTL, connect, ctx};
use spgw_providers::{Message, Role};
use spgw_sessions::{NewSession, SessionStore, Sessions, SqlStore};
use spgw_store::repo::settings::Settings;

behaviour_suite!(Backend::Sqlite);

#[tokio::test]
async fn survives_reopening_the_database() {
    let c = ctx(Backend::Sqlite, &[]).await.unwrap();
    let meta =
        c.store.create(NewSession { user_id: c.alice, model_id: Some(c.gpt), ..Default::default() }).await.unwrap();
    let turn = [Message::text(Role::User, "remember me"), Message::text(Role::Assistant, "I will")];
    c.store.append(&meta.session_id, &turn, 9, 0.01, None, None).await.unwrap();
    c.db.close().await;

    let db = connect(c.sqlite_url.as_deref().unwrap()).await;
    db.migrate().await.unwrap();
    let store = Sessions::Sql(SqlStore::new(db.clone(), Settings::new(db), DEFAULT_TTL));
    let s = store.load(&meta.session_id).await.unwrap().expect("the session outlives the process");
    assert_eq!(s.messages, turn);
    assert_eq!((s.meta.message_count, s.meta.total_tokens), (2, 9));
    assert_eq!(s.meta.model.as_deref(), Some("gpt-5-mini"));
}

#[tokio::test]
async fn connect_without_redis_is_the_sql_store() {
    let c = ctx(Backend::Sqlite, &[]).await.unwrap();
    for url in [None, Some(""), Some("  ")] {
        let s = Sessions::connect(c.db.clone(), url, "spgw:", DEFAULT_TTL).await.unwrap();
        assert_eq!(s.backend(), "sql");
        s.ping().await.unwrap();
    }
}
