//! Models as the router sees them: a catalog row joined with its provider,
//! cached briefly so the hot path rarely touches the database. Writes through
//! the API bump a version that empties the cache at once on this node; other
//! nodes see a change within `TTL`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use spgw_core::FastMap;
use spgw_providers::{Pricing, Protocol};
use spgw_store::{Db, Row};

use crate::RouteError;
use crate::pricing;

const TTL: Duration = Duration::from_secs(2);

/// A model as requested: provider name and model code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    pub provider: String,
    pub model: String,
}

/// A catalog model with everything needed to call it.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    pub model_id: i64,
    pub code: String,
    pub name: String,
    pub features: Vec<String>,
    pub output_formats: Vec<String>,
    pub supports_mcp: bool,
    pub enabled: bool,
    pub max_output_tokens: Option<u32>,
    pub pricing: Pricing,
    pub provider_id: i64,
    pub provider: String,
    pub protocol: Protocol,
    pub base_url: String,
    pub provider_enabled: bool,
}

/// A model the router may try, in order.
pub type Candidate = Arc<ResolvedModel>;

/// What a request needs from a model.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    pub tools: bool,
    pub vision: bool,
    pub json: bool,
    pub stream: bool,
}

impl ResolvedModel {
    fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// Why this model cannot serve a request with these needs, if it cannot.
    pub fn lacks(&self, needs: Needs) -> Option<&'static str> {
        if !self.has("chat") {
            return Some("chat");
        }
        if needs.tools && !self.has("function_calling") {
            return Some("function_calling");
        }
        if needs.vision && !self.has("vision") {
            return Some("vision");
        }
        if needs.stream && !self.has("streaming") {
            return Some("streaming");
        }
        if needs.json && !self.output_formats.iter().any(|f| f == "json" || f == "json_object") {
            return Some("json output");
        }
        None
    }

    /// `provider/model_code`.
    pub fn label(&self) -> String {
        // `concat`, not `format!`: one exact allocation, no formatting machinery (per request).
        [self.provider.as_str(), "/", &self.code].concat()
    }
}

const SELECT: &str = "SELECT m.id AS model_id, m.model_code, m.name, m.features, m.output_formats, m.supports_mcp, \
     m.enabled, m.pricing, m.max_output_tokens, p.id AS provider_id, p.name AS provider, p.protocol, p.base_url, \
     p.enabled AS provider_enabled FROM models m JOIN providers p ON p.id = m.provider_id";

fn strings(v: Option<&str>) -> Vec<String> {
    v.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
}

fn from_row(r: &Row) -> ResolvedModel {
    let pricing_json: Option<Value> = r.str("pricing").and_then(|s| serde_json::from_str(s).ok());
    ResolvedModel {
        model_id: r.i64("model_id").unwrap_or_default(),
        code: r.str("model_code").unwrap_or_default().to_string(),
        name: r.str("name").unwrap_or_default().to_string(),
        features: strings(r.str("features")),
        output_formats: strings(r.str("output_formats")),
        supports_mcp: r.bool("supports_mcp"),
        enabled: r.bool("enabled"),
        max_output_tokens: r.i64("max_output_tokens").and_then(|n| u32::try_from(n).ok()),
        pricing: pricing::from_json(pricing_json.as_ref()),
        provider_id: r.i64("provider_id").unwrap_or_default(),
        provider: r.str("provider").unwrap_or_default().to_string(),
        protocol: match r.str("protocol") {
            Some("anthropic") => Protocol::Anthropic,
            Some("google") => Protocol::Google,
            _ => Protocol::OpenAi,
        },
        base_url: r.str("base_url").unwrap_or_default().to_string(),
        provider_enabled: r.bool("provider_enabled"),
    }
}

/// Cached models with the cache version they were read under.
type Entries = (u64, FastMap<ModelRef, (Candidate, Instant)>);

/// Resolves and caches models.
pub struct ModelCache {
    db: Db,
    version: AtomicU64,
    entries: RwLock<Entries>,
}

impl ModelCache {
    /// An empty cache over `db`.
    pub fn new(db: Db) -> Self {
        ModelCache { db, version: AtomicU64::new(0), entries: RwLock::new((0, FastMap::default())) }
    }

    /// Forgets everything (a provider or model was written through the API).
    pub fn invalidate(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    fn cached(&self, key: &ModelRef) -> Option<Candidate> {
        let v = self.version.load(Ordering::Relaxed);
        let guard = self.entries.read().ok()?;
        if guard.0 != v {
            return None;
        }
        guard.1.get(key).filter(|(_, at)| at.elapsed() < TTL).map(|(c, _)| c.clone())
    }

    fn remember(&self, key: ModelRef, c: Candidate) {
        let v = self.version.load(Ordering::Relaxed);
        if let Ok(mut guard) = self.entries.write() {
            if guard.0 != v {
                *guard = (v, FastMap::default());
            }
            guard.1.insert(key, (c, Instant::now()));
        }
    }

    /// The model `provider/model`.
    pub async fn resolve(&self, r: &ModelRef) -> Result<Candidate, RouteError> {
        if let Some(c) = self.cached(r) {
            return Ok(c);
        }
        let sql = format!("{SELECT} WHERE p.name = ? AND m.model_code = ?");
        let row = self.db.fetch_optional(&sql, &[r.provider.as_str().into(), r.model.as_str().into()]).await?;
        let c =
            Arc::new(from_row(&row.ok_or_else(|| RouteError::UnknownModel(format!("{}/{}", r.provider, r.model)))?));
        self.remember(r.clone(), c.clone());
        Ok(c)
    }

    /// A model by its bare code, when exactly one enabled provider offers it
    /// (the compatible endpoints accept `model` without a provider).
    pub async fn resolve_code(&self, code: &str) -> Result<Candidate, RouteError> {
        let sql = format!("{SELECT} WHERE m.model_code = ? ORDER BY p.enabled DESC, m.enabled DESC, p.id");
        let rows = self.db.fetch_all(&sql, &[code.into()]).await?;
        let row = rows.first().ok_or_else(|| RouteError::UnknownModel(code.to_string()))?;
        Ok(Arc::new(from_row(row)))
    }

    /// An agent's models in priority order.
    pub async fn agent_models(&self, agent_id: i64) -> Result<Vec<Candidate>, RouteError> {
        let sql =
            format!("{SELECT} JOIN agent_models am ON am.model_id = m.id WHERE am.agent_id = ? ORDER BY am.priority");
        let rows = self.db.fetch_all(&sql, &[agent_id.into()]).await?;
        Ok(rows.iter().map(|r| Arc::new(from_row(r))).collect())
    }
}
