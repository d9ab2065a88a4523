//! The native media routes, `/api/v1/media/*`: the gateway's own JSON shapes
//! with the model that answered, cost, latency and attempts; binary results
//! stored under `/uploads/media` (or inline with `response_format: b64_json`).

use axum::Json;
use axum::extract::{Extension, Multipart, State};
use axum::http::HeaderMap;
use futures::future::try_join_all;
use serde_json::{Map, Value, json};
use spgw_providers::media::{
    EmbeddingRequest, ImageRequest, MusicRequest, SpeechRequest, TranscriptionRequest, VideoRequest,
};

use super::input::{self, EmbeddingsBody, Form, ImagesBody, MusicBody, SpeechBody, VideoBody};
use super::service::{self, Done, Kind};
use super::store::{self, Delivery};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The fields every native media answer carries.
fn envelope<T>(done: &Done<T>, request_id: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("provider".into(), json!(done.model.provider));
    m.insert("model".into(), json!(done.model.code));
    m.insert("cost_usd".into(), json!(done.cost_usd));
    m.insert("latency_ms".into(), json!(done.latency_ms));
    m.insert("attempts".into(), json!(done.attempts));
    m.insert("request_id".into(), json!(request_id));
    m
}

/// Embeds texts.
#[utoipa::path(post, path = "/api/v1/media/embeddings", tag = "media", request_body = EmbeddingsBody,
    responses((status = 200, description = "`{data: [{index, embedding}], usage: {input_tokens, estimated}, provider, model, cost_usd, latency_ms, attempts, request_id}`"),
        (status = 404, description = "Unknown model"), (status = 422, description = "Invalid field, or a model without the `embeddings` feature")))]
pub async fn embeddings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    JsonBody(body): JsonBody<EmbeddingsBody>,
) -> ApiResult<Json<Value>> {
    let input = body.input.into_vec()?;
    let call =
        service::prepare(&state, &caller, rid.clone(), Kind::Embeddings, false, body.provider.as_deref(), &body.model)
            .await?;
    let req = EmbeddingRequest { model: call.model.code.clone(), input, dimensions: body.dimensions, user: None };
    let done = service::embed(&state, &call, req).await?;
    let mut out = envelope(&done, &rid);
    let e = done.output;
    let data: Vec<Value> =
        e.vectors.into_iter().enumerate().map(|(index, v)| json!({"index": index, "embedding": v})).collect();
    out.insert("object".into(), json!("list"));
    out.insert("data".into(), Value::Array(data));
    out.insert("usage".into(), json!({"input_tokens": e.usage.input_tokens, "estimated": e.usage_estimated}));
    Ok(Json(Value::Object(out)))
}

/// Generates images.
#[utoipa::path(post, path = "/api/v1/media/images", tag = "media", request_body = ImagesBody,
    responses((status = 200, description = "`{data: [{url | b64_json, mime_type, revised_prompt}], provider, model, cost_usd, latency_ms, attempts, request_id}`"),
        (status = 422, description = "Invalid field, or a model without the `image_generation` feature")))]
pub async fn images(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ImagesBody>,
) -> ApiResult<Json<Value>> {
    input::required("prompt", &body.prompt)?;
    let n = input::image_count(body.n)?;
    let delivery = Delivery::parse(body.response_format.as_deref())?;
    let call =
        service::prepare(&state, &caller, rid.clone(), Kind::Images, false, body.provider.as_deref(), &body.model)
            .await?;
    let req = ImageRequest {
        model: call.model.code.clone(),
        prompt: body.prompt,
        n,
        size: body.size,
        quality: body.quality,
        style: body.style,
        negative_prompt: body.negative_prompt,
        user: None,
    };
    let done = service::images(&state, &call, req).await?;
    let items = try_join_all(done.output.images.iter().map(|img| async {
        let mut item = store::deliver(&state, &headers, delivery, &img.bytes, &img.mime).await?;
        if let Some(p) = &img.revised_prompt {
            item.insert("revised_prompt".into(), json!(p));
        }
        Ok::<_, ApiError>(Value::Object(item))
    }))
    .await?;
    let mut out = envelope(&done, &rid);
    out.insert("data".into(), Value::Array(items));
    Ok(Json(Value::Object(out)))
}

/// Transcribes audio (multipart: `file`, `model`, optional `provider`, `language`, `prompt`, `temperature`).
#[utoipa::path(post, path = "/api/v1/media/transcriptions", tag = "media",
    request_body(content_type = "multipart/form-data", content = String, description = "Fields `file` (at most 25 MiB), `model`, optional `provider`, `language`, `prompt`, `temperature`"),
    responses((status = 200, description = "`{text, language, duration_seconds, segments, provider, model, cost_usd, latency_ms, attempts, request_id}`"),
        (status = 413, description = "The file is larger than 25 MiB")))]
pub async fn transcriptions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    form: Multipart,
) -> ApiResult<Json<Value>> {
    let form = Form::read(form).await?;
    let (filename, mime, audio) = form.file.clone().ok_or_else(|| ApiError::field("file", "is required"))?;
    let model = form.text("model").unwrap_or_default();
    let provider = form.text("provider");
    let call =
        service::prepare(&state, &caller, rid.clone(), Kind::Transcription, false, provider.as_deref(), &model).await?;
    let req = TranscriptionRequest {
        model: call.model.code.clone(),
        audio,
        filename,
        mime,
        language: form.text("language"),
        prompt: form.text("prompt"),
        temperature: form.number("temperature")?,
        response_format: Some("verbose_json".into()),
    };
    let done = service::transcribe(&state, &call, req).await?;
    let mut out = envelope(&done, &rid);
    let t = &done.output;
    out.insert("text".into(), json!(t.text));
    out.insert("language".into(), json!(t.language));
    out.insert("duration_seconds".into(), json!(t.duration_secs));
    out.insert("segments".into(), t.segments.clone().unwrap_or(Value::Null));
    Ok(Json(Value::Object(out)))
}

/// Speaks text.
#[utoipa::path(post, path = "/api/v1/media/speech", tag = "media", request_body = SpeechBody,
    responses((status = 200, description = "`{url | b64_json, mime_type, duration_seconds, transcript, provider, model, cost_usd, latency_ms, attempts, request_id}`")))]
pub async fn speech(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SpeechBody>,
) -> ApiResult<Json<Value>> {
    input::required("input", &body.input)?;
    let delivery = Delivery::parse(body.response_format.as_deref())?;
    let call =
        service::prepare(&state, &caller, rid.clone(), Kind::Speech, false, body.provider.as_deref(), &body.model)
            .await?;
    let req = SpeechRequest {
        model: call.model.code.clone(),
        input: body.input,
        voice: body.voice,
        format: body.format,
        speed: body.speed,
        instructions: body.instructions,
    };
    let done = service::speech(&state, &call, req).await?;
    let mut out = envelope(&done, &rid);
    let a = &done.output;
    out.extend(store::deliver(&state, &headers, delivery, &a.bytes, &a.mime).await?);
    out.insert("duration_seconds".into(), json!(a.duration_secs));
    out.insert("transcript".into(), json!(a.text));
    Ok(Json(Value::Object(out)))
}

/// Composes music.
#[utoipa::path(post, path = "/api/v1/media/music", tag = "media", request_body = MusicBody,
    responses((status = 200, description = "`{url | b64_json, mime_type, duration_seconds, lyrics, provider, model, cost_usd, latency_ms, attempts, request_id}`")))]
pub async fn music(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<MusicBody>,
) -> ApiResult<Json<Value>> {
    input::required("prompt", &body.prompt)?;
    let delivery = Delivery::parse(body.response_format.as_deref())?;
    let call =
        service::prepare(&state, &caller, rid.clone(), Kind::Music, false, body.provider.as_deref(), &body.model)
            .await?;
    let req = MusicRequest { model: call.model.code.clone(), prompt: body.prompt, format: body.format };
    let done = service::music(&state, &call, req).await?;
    let mut out = envelope(&done, &rid);
    let a = &done.output;
    out.extend(store::deliver(&state, &headers, delivery, &a.bytes, &a.mime).await?);
    out.insert("duration_seconds".into(), json!(a.duration_secs));
    out.insert("lyrics".into(), json!(a.text));
    Ok(Json(Value::Object(out)))
}

/// Generates a video; the call returns when the provider's operation is done
/// (polled every `media.video_poll_interval_ms`, for at most `media.video_max_wait_ms`).
#[utoipa::path(post, path = "/api/v1/media/videos", tag = "media", request_body = VideoBody,
    responses((status = 200, description = "`{url | b64_json, mime_type, duration_seconds, provider, model, cost_usd, latency_ms, attempts, request_id}`"),
        (status = 504, description = "The operation did not finish in time")))]
pub async fn videos(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<VideoBody>,
) -> ApiResult<Json<Value>> {
    input::required("prompt", &body.prompt)?;
    let delivery = Delivery::parse(body.response_format.as_deref())?;
    let call =
        service::prepare(&state, &caller, rid.clone(), Kind::Video, false, body.provider.as_deref(), &body.model)
            .await?;
    let req = VideoRequest {
        model: call.model.code.clone(),
        prompt: body.prompt,
        duration_secs: body.duration_seconds,
        aspect_ratio: body.aspect_ratio,
        resolution: body.resolution,
        negative_prompt: body.negative_prompt,
    };
    let done = service::video(&state, &call, req).await?;
    let mut out = envelope(&done, &rid);
    let v = &done.output;
    out.extend(store::deliver(&state, &headers, delivery, &v.bytes, &v.mime).await?);
    out.insert("duration_seconds".into(), json!(v.duration_secs));
    Ok(Json(Value::Object(out)))
}
