//! Media: embeddings, images, transcription, speech, music and video, through
//! every provider's media models. Two surfaces share one service: the native
//! `/api/v1/media/*` routes ([`native`]) and the OpenAI-compatible `/v1/*`
//! routes ([`openai`]). Calls go through the router's key rotation and
//! retries, are priced from the model's catalog prices and logged like chat
//! calls; binary results are stored under `/uploads/media` ([`store`]).

pub mod input;
pub mod native;
pub mod openai;
pub mod service;
pub mod store;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;

use crate::state::AppState;

/// The native media routes, with their body limits (JSON, or multipart audio
/// up to [`input::MAX_AUDIO_BYTES`] within `limits.max_body_bytes`); the
/// caller's router applies authentication.
pub fn routes(state: &AppState) -> Router<AppState> {
    let limits = &state.config.limits;
    Router::new()
        .route("/api/v1/media/embeddings", post(native::embeddings))
        .route("/api/v1/media/images", post(native::images))
        .route("/api/v1/media/speech", post(native::speech))
        .route("/api/v1/media/music", post(native::music))
        .route("/api/v1/media/videos", post(native::videos))
        .layer(DefaultBodyLimit::max(limits.max_json_bytes))
        .route(
            "/api/v1/media/transcriptions",
            post(native::transcriptions).layer(DefaultBodyLimit::max(limits.max_body_bytes)),
        )
}

/// The OpenAI-compatible media routes, with their own authentication (OpenAI's 401).
pub fn compat_routes(state: &AppState) -> Router<AppState> {
    let limits = &state.config.limits;
    Router::new()
        .route("/v1/embeddings", post(openai::embeddings))
        .route("/v1/images/generations", post(openai::images))
        .route("/v1/audio/speech", post(openai::speech))
        .layer(DefaultBodyLimit::max(limits.max_json_bytes))
        .route(
            "/v1/audio/transcriptions",
            post(openai::transcriptions).layer(DefaultBodyLimit::max(limits.max_body_bytes)),
        )
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::compat::authenticate_openai))
}
