//! `GET /health`: is the database (and Redis, once configured) answering.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use spgw_sessions::SessionStore;

use crate::state::AppState;

/// Health of the gateway and the services it needs.
#[utoipa::path(get, path = "/health", tag = "operations", security(()),
    responses((status = 200, description = "Everything is up"), (status = 503, description = "A dependency is down")))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let db_up = tokio::time::timeout(std::time::Duration::from_secs(3), state.db.ping()).await.is_ok_and(|r| r.is_ok());
    let redis = match state.sessions.backend() {
        "redis" => {
            let up = tokio::time::timeout(std::time::Duration::from_secs(3), state.sessions.ping())
                .await
                .is_ok_and(|r| r.is_ok());
            Some(up)
        }
        _ => None,
    };
    let all_up = db_up && redis != Some(false);
    let status = if all_up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({
        "status": if all_up { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "database": {
            "status": if db_up { "up" } else { "down" },
            "backend": match state.db.backend() { spgw_store::Backend::Sqlite => "sqlite", spgw_store::Backend::MySql => "mysql" },
        },
        "redis": {"status": match redis { None => "not_configured", Some(true) => "up", Some(false) => "down" }},
    });
    (status, Json(body))
}
