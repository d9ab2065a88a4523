//! The model as the tool loop sees it: one call in, one metered turn out. The
//! real one goes through the router (the agent's models in priority order,
//! with fallback); tests put a scripted fake in its place.

use std::sync::Arc;

use futures::future::BoxFuture;
use spgw_providers::{ChatRequest, ChatResponse};
use spgw_routing::{CallMeta, Candidate, Router};

use crate::error::Result;

/// One answered model call, metered by the gateway.
#[derive(Debug, Clone)]
pub struct ModelTurn {
    pub response: ChatResponse,
    /// The model that answered (after any fallback).
    pub model: Candidate,
    pub cost_usd: f64,
    pub latency_ms: u64,
    /// Upstream attempts, failed ones included.
    pub attempts: u32,
}

impl ModelTurn {
    /// Input plus output tokens of this call.
    pub fn tokens(&self) -> u64 {
        self.response.usage.total()
    }
}

/// Something that answers chat requests.
pub trait Model: Send + Sync {
    /// One call.
    fn call(&self, request: ChatRequest) -> BoxFuture<'_, Result<ModelTurn>>;
}

/// The router with a fixed list of candidates and the request-log metadata.
pub struct RoutedModel {
    pub router: Arc<Router>,
    pub candidates: Vec<Candidate>,
    pub meta: CallMeta,
}

impl Model for RoutedModel {
    fn call(&self, request: ChatRequest) -> BoxFuture<'_, Result<ModelTurn>> {
        Box::pin(async move {
            let out = self.router.chat(request, &self.candidates, &self.meta).await?;
            Ok(ModelTurn {
                response: out.response,
                model: out.model,
                cost_usd: out.cost_usd,
                latency_ms: out.latency_ms,
                attempts: out.attempts,
            })
        })
    }
}
