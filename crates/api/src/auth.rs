//! Authentication: a login cookie, or a gateway API key in `X-API-Key`,
//! `x-api-key` or `Authorization: Bearer`. Every route needs one except the
//! short public list in `routes`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::middleware::Next;
use axum::response::Response;
use spgw_store::repo::auth as repo;

use crate::error::ApiError;
use crate::state::AppState;

/// Name of the login cookie.
pub const SESSION_COOKIE: &str = "spgw_session";

/// The authenticated user of a request. Cloned from the key cache into every
/// request's extensions and out again by each handler: the names are shared,
/// not copied.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: Arc<str>,
    pub role: Arc<str>,
    /// Set when the request came with an API key.
    pub api_key_id: Option<i64>,
}

impl Caller {
    /// Admins see and manage everything.
    pub fn is_admin(&self) -> bool {
        &*self.role == "admin"
    }
}

impl From<repo::Principal> for Caller {
    fn from(p: repo::Principal) -> Self {
        Caller { user_id: p.user_id, username: p.username.into(), role: p.role.into(), api_key_id: p.api_key_id }
    }
}

/// The API key a request carries, if any.
pub fn api_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(k.trim());
    }
    let auth = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The login session token from the cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// Resolves the caller of a request, or `None`.
pub async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    if let Some(key) = api_key(headers) {
        let hash = spgw_core::apikey::hash(key);
        if let Some(c) = state.auth.get(&hash) {
            return Ok(Some(c));
        }
        let Some(p) = repo::principal_for_key_hash(&state.db, &hash).await? else { return Ok(None) };
        let caller = Caller::from(p);
        if let Some(id) = caller.api_key_id {
            // Last-used is informative; never make the request wait for it.
            let db = state.db.clone();
            tokio::spawn(async move {
                if let Err(e) = repo::touch_key(&db, id).await {
                    tracing::warn!(error = %e, "could not record API key use");
                }
            });
        }
        state.auth.put(hash, caller.clone());
        return Ok(Some(caller));
    }
    if let Some(token) = session_token(headers) {
        let hash = spgw_core::apikey::hash(token);
        return Ok(repo::principal_for_session(&state.db, &hash).await?.map(Caller::from));
    }
    Ok(None)
}

/// Middleware: 401 unless the request is authenticated; puts the [`Caller`] in the extensions.
pub async fn require(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, ApiError> {
    let caller = resolve(&state, req.headers()).await?.ok_or(ApiError::Unauthenticated)?;
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}
