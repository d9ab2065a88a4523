//! Routing of model calls. Given what a caller asked for (a provider and model,
//! or an agent's ordered model list) it resolves the models from the catalog
//! tables, picks a healthy provider key, calls the adapter with timeouts,
//! retries retryable failures with jittered backoff, falls back along the
//! candidate list, prices the usage, and records every attempt in the request
//! log without making the request wait for the write.

pub mod cache;
mod call;
pub mod catalog_sync;
mod error;
pub mod keys;
pub mod limits;
mod limits_memory;
mod limits_redis;
mod limits_window;
pub mod log;
mod media;
pub mod metrics;
pub mod models;
mod pricing;
mod retry;
mod stream;

pub use cache::{CachePolicy, CacheStatus, ResponseCache};
pub use call::{CallMeta, ChatOutcome, Router, RouterOptions};
pub use error::RouteError;
pub use limits::{Admission, LimitRefusal, Limiter, Limits};
pub use limits_redis::connect as connect_redis;
pub use media::{MediaLimits, MediaOutcome, MediaUsage};
pub use metrics::Metrics;
pub use models::{Candidate, ModelRef, Needs, ResolvedModel};
pub use stream::{RoutedStream, StreamSummary};
