//! What every handler shares.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use spgw_config::Config;
use spgw_core::FastMap;
use spgw_core::MasterKey;
use spgw_store::Db;

use crate::auth::Caller;

/// Shared application state (cheap to clone: one `Arc`).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    pub db: Db,
    pub config: Arc<Config>,
    pub master_key: MasterKey,
    pub auth: AuthCache,
    pub router: Arc<spgw_routing::Router>,
    pub sessions: spgw_sessions::Sessions,
    /// Runtime settings (`gateway_config`), cached for 2 s; invalidated on writes.
    pub settings: spgw_store::repo::settings::Settings,
    /// Agents at work: tool loop, skills, reports (the task executor's runner too).
    pub agents: spgw_agents::AgentRuntime,
    /// Codebase runs: the queue, logs, SSH connections (`spgw_runner`).
    pub runs: spgw_runner::Runs,
    /// External MCP servers: live client sessions, tool discovery (`spgw_mcp`).
    pub mcp: spgw_mcp::McpManager,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state.
    pub fn new(
        db: Db,
        config: Arc<Config>,
        master_key: MasterKey,
        router: Arc<spgw_routing::Router>,
        sessions: spgw_sessions::Sessions,
        settings: spgw_store::repo::settings::Settings,
    ) -> Self {
        let runs = spgw_runner::Runs::new(db.clone(), master_key.clone(), settings.clone());
        // The built-in skills plus coding_plugin, which reaches codebases over SSH through `runs`.
        let mcp = spgw_mcp::McpManager::new(db.clone(), master_key.clone(), config.mcp.stdio_allowlist.clone())
            .with_settings(settings.clone());
        // ... and the tools of external MCP servers granted to the agent by `tool` resources.
        let skills = spgw_agents::skills::Registry::builtin()
            .with(Arc::new(spgw_runner::skill::CodingPlugin::new(runs.clone())))
            .with(Arc::new(spgw_mcp::skill::McpSkill::new(mcp.clone())));
        let agents = spgw_agents::AgentRuntime::with_skills(
            db.clone(),
            router.clone(),
            sessions.clone(),
            settings.clone(),
            skills,
        );
        AppState(Arc::new(Inner {
            db,
            config,
            master_key,
            auth: AuthCache::default(),
            router,
            sessions,
            settings,
            agents,
            runs,
            mcp,
        }))
    }

    /// Drops cached catalog rows and keys after a write through the API, so a
    /// changed `base_url`, model or key takes effect on the next request.
    pub fn catalog_changed(&self) {
        self.router.models.invalidate();
        self.router.keys.invalidate();
    }

    /// Drops cached rate limits after a key's or user's `limits` changed, so
    /// they apply from the next call on this node (other nodes: within 5 s).
    pub fn limits_changed(&self) {
        if let Some(l) = self.router.limiter() {
            l.invalidate();
        }
    }
}

/// How long a verified API key is trusted without asking the database again.
/// A revocation on this node takes effect at once; on other nodes within this time.
const KEY_TTL: Duration = Duration::from_secs(15);

/// Verified API keys by hash, so the hot path does not hit the database on every call.
#[derive(Default)]
pub struct AuthCache {
    keys: RwLock<FastMap<String, (Caller, Instant)>>,
}

impl AuthCache {
    /// The cached caller for a key hash, when fresh.
    pub fn get(&self, hash: &str) -> Option<Caller> {
        let keys = self.keys.read().ok()?;
        let (caller, at) = keys.get(hash)?;
        (at.elapsed() < KEY_TTL).then(|| caller.clone())
    }

    /// Remembers a verified key.
    pub fn put(&self, hash: String, caller: Caller) {
        if let Ok(mut keys) = self.keys.write() {
            if keys.len() > 10_000 {
                keys.retain(|_, (_, at)| at.elapsed() < KEY_TTL);
            }
            keys.insert(hash, (caller, Instant::now()));
        }
    }

    /// Drops a key (revoked or deleted).
    pub fn forget_key(&self, hash: &str) {
        if let Ok(mut keys) = self.keys.write() {
            keys.remove(hash);
        }
    }

    /// Drops every cached key (e.g. after a user is disabled or deleted).
    pub fn clear(&self) {
        if let Ok(mut keys) = self.keys.write() {
            keys.clear();
        }
    }
}
