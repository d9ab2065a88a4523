//! The media service, shared by the native and the OpenAI-compatible routes:
//! resolves the model (it must have the feature the kind needs), calls the
//! provider through the router's key rotation and retries, prices the result
//! from the model's catalog prices, and logs it like a chat call.

use std::time::Duration;

use spgw_providers::media::{
    self as pm, Audio, EmbeddingRequest, Embeddings, ImageRequest, Images, MusicRequest, Polling, SpeechRequest,
    Transcription, TranscriptionRequest, Video, VideoRequest,
};
use spgw_providers::{Endpoint, Pricing, ProviderError, Usage};
use spgw_routing::{CallMeta, Candidate, MediaLimits, MediaUsage, ModelRef};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `gateway_config` keys that tune media calls at run time.
pub const SETTING_KEYS: &[&str] = &["media.video_poll_interval_ms", "media.video_max_wait_ms"];
const DEFAULT_POLL_MS: i64 = 5_000;
const DEFAULT_VIDEO_WAIT_MS: i64 = 600_000;

/// The kinds of media call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Embeddings,
    Images,
    Transcription,
    Speech,
    Music,
    Video,
}

impl Kind {
    /// The model features that qualify a model for this kind (any one of them).
    pub fn features(self) -> &'static [&'static str] {
        match self {
            Kind::Embeddings => &["embeddings"],
            Kind::Images => &["image_generation"],
            Kind::Transcription => &["transcription"],
            Kind::Speech => &["speech", "audio"],
            Kind::Music => &["music"],
            Kind::Video => &["video_generation"],
        }
    }

    /// The request log's `endpoint` for a call through the native (`media.*`)
    /// or the OpenAI-compatible (`openai.*`) routes.
    pub fn endpoint(self, compat: bool) -> &'static str {
        match (self, compat) {
            (Kind::Embeddings, false) => "media.embeddings",
            (Kind::Embeddings, true) => "openai.embeddings",
            (Kind::Images, false) => "media.images",
            (Kind::Images, true) => "openai.images",
            (Kind::Transcription, false) => "media.transcriptions",
            (Kind::Transcription, true) => "openai.transcriptions",
            (Kind::Speech, false) => "media.speech",
            (Kind::Speech, true) => "openai.speech",
            (Kind::Music, _) => "media.music",
            (Kind::Video, _) => "media.videos",
        }
    }
}

/// A resolved call: the model and what the log records about the caller.
pub struct Call {
    pub model: Candidate,
    pub meta: CallMeta,
    pub kind: Kind,
}

/// A finished media call with what it cost.
pub struct Done<T> {
    pub output: T,
    pub model: Candidate,
    pub cost_usd: f64,
    pub latency_ms: u64,
    pub attempts: u32,
}

/// Resolves `model` (`provider/model_code`, a bare code, or a code with a
/// separate `provider`) and checks that it can do `kind`.
pub async fn prepare(
    state: &AppState,
    caller: &Caller,
    request_id: String,
    kind: Kind,
    compat: bool,
    provider: Option<&str>,
    model: &str,
) -> ApiResult<Call> {
    let model = model.trim();
    if model.is_empty() {
        return Err(ApiError::field("model", "is required"));
    }
    let cand = resolve(state, provider, model).await?;
    if !kind.features().iter().any(|f| cand.features.iter().any(|have| have == f)) {
        return Err(ApiError::field(
            "model",
            format!("{} cannot serve this request: it has none of the features {:?}", cand.label(), kind.features()),
        ));
    }
    let meta = CallMeta {
        request_id,
        user_id: Some(caller.user_id),
        api_key_id: caller.api_key_id,
        endpoint: kind.endpoint(compat),
        requested_model: Some(match provider {
            Some(p) => format!("{p}/{model}"),
            None => model.to_string(),
        }),
        ..CallMeta::default()
    };
    Ok(Call { model: cand, meta, kind })
}

/// A model by `provider` + code, else as the compatible surfaces resolve it
/// (`provider/model_code`, or a bare code).
async fn resolve(state: &AppState, provider: Option<&str>, model: &str) -> ApiResult<Candidate> {
    match provider.filter(|p| !p.is_empty()) {
        Some(p) => {
            let r = ModelRef { provider: p.to_string(), model: model.to_string() };
            Ok(state.router.models.resolve(&r).await?)
        }
        None => Ok(crate::compat::resolve_model(state, model).await?),
    }
}

/// Timeout and attempts of a call of `kind`, from the runtime settings.
async fn limits(state: &AppState, kind: Kind) -> MediaLimits {
    let s = &state.settings;
    let total = s.int("routing.total_timeout_ms", 600_000).await.max(1);
    let timeout = match kind {
        // A video call waits for the whole generation; give it a minute beyond the polling budget.
        Kind::Video => total.max(s.int(SETTING_KEYS[1], DEFAULT_VIDEO_WAIT_MS).await + 60_000),
        _ => total,
    };
    let max_attempts = s.int("routing.max_attempts", 3).await.clamp(1, 10) as u32;
    MediaLimits { timeout: Duration::from_millis(timeout as u64), max_attempts, retry_timeouts: kind != Kind::Video }
}

async fn polling(state: &AppState) -> Polling {
    let s = &state.settings;
    Polling {
        interval: Duration::from_millis(s.int(SETTING_KEYS[0], DEFAULT_POLL_MS).await.max(10) as u64),
        max_wait: Duration::from_millis(s.int(SETTING_KEYS[1], DEFAULT_VIDEO_WAIT_MS).await.max(1) as u64),
    }
}

/// The cost of a call: tokens at the token prices, plus images and seconds
/// at their prices.
pub fn cost(p: &Pricing, usage: &Usage, images: usize, seconds: Option<f64>) -> f64 {
    p.chat_cost(usage) + p.per_image * images as f64 + p.per_second * seconds.unwrap_or(0.0).max(0.0)
}

/// Runs the adapter call with key rotation, then prices and logs it.
async fn run<T, F, Fut>(
    state: &AppState,
    call: &Call,
    price: impl FnOnce(&T) -> (Usage, f64),
    f: F,
) -> ApiResult<Done<T>>
where
    F: FnMut(Endpoint) -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let limits = limits(state, call.kind).await;
    let out = state.router.call_with_keys(&call.model, &call.meta, limits, f).await?;
    let (usage, cost_usd) = price(&out.output);
    state.router.record_media(&call.model, &call.meta, MediaUsage { usage, cost_usd }, out.latency_ms).await;
    Ok(Done {
        output: out.output,
        model: call.model.clone(),
        cost_usd,
        latency_ms: out.latency_ms,
        attempts: out.attempts,
    })
}

/// Embeds texts.
pub async fn embed(state: &AppState, call: &Call, req: EmbeddingRequest) -> ApiResult<Done<Embeddings>> {
    let (m, http) = (&call.model, state.router.http());
    let pricing = m.pricing;
    run(
        state,
        call,
        |e: &Embeddings| (e.usage, cost(&pricing, &e.usage, 0, None)),
        |ep| {
            let req = &req;
            async move { pm::embed(&m.provider, m.protocol, http, &ep, req).await }
        },
    )
    .await
}

/// Generates images.
pub async fn images(state: &AppState, call: &Call, req: ImageRequest) -> ApiResult<Done<Images>> {
    let (m, http) = (&call.model, state.router.http());
    let pricing = m.pricing;
    run(
        state,
        call,
        |i: &Images| (i.usage, cost(&pricing, &i.usage, i.images.len(), None)),
        |ep| {
            let req = &req;
            async move { pm::images(&m.provider, m.protocol, http, &ep, req).await }
        },
    )
    .await
}

/// Transcribes audio.
pub async fn transcribe(state: &AppState, call: &Call, req: TranscriptionRequest) -> ApiResult<Done<Transcription>> {
    let (m, http) = (&call.model, state.router.http());
    let pricing = m.pricing;
    run(
        state,
        call,
        |t: &Transcription| (t.usage, cost(&pricing, &t.usage, 0, t.duration_secs)),
        |ep| {
            let req = &req;
            async move { pm::transcribe(&m.provider, m.protocol, http, &ep, req).await }
        },
    )
    .await
}

fn audio_price(pricing: Pricing) -> impl FnOnce(&Audio) -> (Usage, f64) {
    move |a: &Audio| (a.usage, cost(&pricing, &a.usage, 0, a.duration_secs))
}

/// Speaks text.
pub async fn speech(state: &AppState, call: &Call, req: SpeechRequest) -> ApiResult<Done<Audio>> {
    let (m, http) = (&call.model, state.router.http());
    run(state, call, audio_price(m.pricing), |ep| {
        let req = &req;
        async move { pm::speech(&m.provider, m.protocol, http, &ep, req).await }
    })
    .await
}

/// Composes music.
pub async fn music(state: &AppState, call: &Call, req: MusicRequest) -> ApiResult<Done<Audio>> {
    let (m, http) = (&call.model, state.router.http());
    run(state, call, audio_price(m.pricing), |ep| {
        let req = &req;
        async move { pm::music(&m.provider, m.protocol, http, &ep, req).await }
    })
    .await
}

/// Generates a video, waiting for the provider's operation to finish.
pub async fn video(state: &AppState, call: &Call, req: VideoRequest) -> ApiResult<Done<Video>> {
    let (m, http) = (&call.model, state.router.http());
    let pricing = m.pricing;
    let polling = polling(state).await;
    run(
        state,
        call,
        |v: &Video| (Usage::default(), cost(&pricing, &Usage::default(), 0, v.duration_secs)),
        |ep| {
            let req = &req;
            async move { pm::video(&m.provider, m.protocol, http, &ep, req, polling).await }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_add_tokens_images_and_seconds() {
        let p = Pricing { input_per_mtok: 2.0, per_image: 0.04, per_second: 0.5, ..Pricing::default() };
        let u = Usage { input_tokens: 1_000_000, ..Usage::default() };
        assert!((cost(&p, &u, 2, Some(3.0)) - (2.0 + 0.08 + 1.5)).abs() < 1e-9);
        assert_eq!(cost(&Pricing::default(), &Usage::default(), 3, Some(9.0)), 0.0);
    }

    #[test]
    fn runtime_settings_are_documented() {
        let doc = include_str!("../../../../docs/api.md");
        for key in SETTING_KEYS {
            assert!(doc.contains(&format!("| `{key}` |")), "{key} is in the Runtime settings table");
        }
    }

    #[test]
    fn every_kind_names_its_log_endpoint() {
        for k in [Kind::Embeddings, Kind::Images, Kind::Transcription, Kind::Speech, Kind::Music, Kind::Video] {
            assert!(k.endpoint(false).starts_with("media."));
            assert!(!k.features().is_empty());
        }
        assert_eq!(Kind::Images.endpoint(true), "openai.images");
    }
}
