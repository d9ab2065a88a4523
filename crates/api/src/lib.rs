//! The HTTP API of SP Gateway: routes, authentication, the resource API, and
//! the mapping of every error to HTTP. [`app`] assembles and runs it.

pub mod app;
pub mod auth;
mod body;
pub mod chat;
pub mod compat;
pub mod error;
pub mod media;
pub mod middleware;
pub mod resources;
pub mod routes;
pub mod state;

pub use error::{ApiError, ApiResult};
pub use state::AppState;
