//! OpenAI-compatible media routes: `POST /v1/embeddings`,
//! `/v1/images/generations`, `/v1/audio/transcriptions` (multipart) and
//! `/v1/audio/speech` (raw audio), answering in OpenAI's shapes and, on
//! failure, OpenAI's error body ([`OpenAiError`], shared with the chat surface).
//! The `model` is `provider/model_code` or a bare code, so the official SDKs
//! reach every provider's media models unchanged.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Extension, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::future::try_join_all;
use serde_json::Value;
use spgw_providers::media::{EmbeddingRequest, ImageRequest, SpeechRequest, Transcription, TranscriptionRequest};
use spgw_providers::openai::media_types::{
    EmbeddingData, EmbeddingResponse, EmbeddingUsage, EmbeddingVector, ImageData, ImageUsage, ImagesResponse,
    TranscriptionResponse, TranscriptionUsage,
};

use super::input::{self, Form, OpenAiEmbeddings, OpenAiImages, OpenAiSpeech};
use super::service::{self, Kind};
use super::store::{self, Delivery};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::compat::errors::OpenAiError;
use crate::error::{ApiError, ApiResult};
use crate::middleware::RequestId;
use crate::state::AppState;

/// `input` as texts; token arrays are refused (the gateway routes to many
/// providers, and token ids mean nothing outside one tokenizer).
fn texts(input: Value) -> ApiResult<Vec<String>> {
    let texts = match input {
        Value::String(s) => input::Texts::One(s),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            input::Texts::Many(items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        }
        Value::Array(_) => return Err(ApiError::field("input", "token arrays are not supported; send text")),
        _ => return Err(ApiError::field("input", "must be a string or an array of strings")),
    };
    texts.into_vec()
}

/// `POST /v1/embeddings`.
pub async fn embeddings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    body: Result<JsonBody<OpenAiEmbeddings>, ApiError>,
) -> Result<Json<EmbeddingResponse>, OpenAiError> {
    let JsonBody(body) = body?;
    let input = texts(body.input)?;
    let base64 = match body.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::field("encoding_format", format!("must be float or base64, not {other}")).into());
        }
    };
    let call = service::prepare(&state, &caller, rid, Kind::Embeddings, true, None, &body.model).await?;
    let req = EmbeddingRequest { model: call.model.code.clone(), input, dimensions: body.dimensions, user: body.user };
    let done = service::embed(&state, &call, req).await?;
    let data = done
        .output
        .vectors
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                EmbeddingVector::Base64(STANDARD.encode(bytes))
            } else {
                EmbeddingVector::Float(v)
            };
            EmbeddingData { object: "embedding".into(), index, embedding }
        })
        .collect();
    let tokens = done.output.usage.input_tokens;
    Ok(Json(EmbeddingResponse {
        object: "list".into(),
        data,
        model: body.model,
        usage: Some(EmbeddingUsage { prompt_tokens: tokens, total_tokens: tokens }),
    }))
}

/// `POST /v1/images/generations`. `url` results are stored and served under `/uploads`.
pub async fn images(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
    body: Result<JsonBody<OpenAiImages>, ApiError>,
) -> Result<Json<ImagesResponse>, OpenAiError> {
    let JsonBody(body) = body?;
    let model = body.model.ok_or_else(|| ApiError::field("model", "is required"))?;
    input::required("prompt", &body.prompt)?;
    let n = input::image_count(body.n)?;
    let delivery = Delivery::parse(body.response_format.as_deref())?;
    let call = service::prepare(&state, &caller, rid, Kind::Images, true, None, &model).await?;
    let req = ImageRequest {
        model: call.model.code.clone(),
        prompt: body.prompt,
        n,
        size: body.size,
        quality: body.quality,
        style: body.style,
        negative_prompt: None,
        user: body.user,
    };
    let done = service::images(&state, &call, req).await?;
    let data = try_join_all(done.output.images.iter().map(|img| async {
        let mut d = ImageData { revised_prompt: img.revised_prompt.clone(), ..ImageData::default() };
        match delivery {
            Delivery::Base64 => d.b64_json = Some(STANDARD.encode(&img.bytes)),
            Delivery::Url => {
                let path = store::save(&state, &img.bytes, &img.mime).await?;
                d.url = Some(store::absolute(&state, &headers, &path));
            }
        }
        Ok::<_, ApiError>(d)
    }))
    .await?;
    let u = done.output.usage;
    let usage = (u.input_tokens + u.output_tokens > 0).then_some(ImageUsage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        total_tokens: u.input_tokens + u.output_tokens,
    });
    Ok(Json(ImagesResponse { created: crate::compat::unix_now(), data, output_format: None, usage }))
}

/// `POST /v1/audio/transcriptions` (multipart `file`, `model`, `language`,
/// `prompt`, `response_format`, `temperature`).
pub async fn transcriptions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, OpenAiError> {
    let form = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let form = Form::read(form).await?;
    let (filename, mime, audio) = form.file.clone().ok_or_else(|| ApiError::field("file", "is required"))?;
    let format = form.text("response_format").unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "text" | "srt" | "verbose_json" | "vtt" | "diarized_json") {
        let message = "must be json, text, srt, verbose_json, vtt or diarized_json";
        return Err(ApiError::field("response_format", message).into());
    }
    let model = form.text("model").unwrap_or_default();
    let call = service::prepare(&state, &caller, rid, Kind::Transcription, true, None, &model).await?;
    let req = TranscriptionRequest {
        model: call.model.code.clone(),
        audio,
        filename,
        mime,
        language: form.text("language"),
        prompt: form.text("prompt"),
        temperature: form.number("temperature")?,
        response_format: Some(format.clone()),
    };
    let done = service::transcribe(&state, &call, req).await?;
    Ok(render_transcription(done.output, &format))
}

/// A transcript in the `response_format` the caller asked for.
fn render_transcription(t: Transcription, format: &str) -> Response {
    let plain = |body: String| ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
    let secs = t.duration_secs.unwrap_or(0.0);
    match format {
        "text" => plain(format!("{}\n", t.text)),
        "srt" | "vtt" => plain(t.formatted.unwrap_or_else(|| subtitles(&t.text, secs, format == "vtt"))),
        _ => {
            let usage = if t.usage.input_tokens + t.usage.output_tokens > 0 {
                TranscriptionUsage {
                    kind: "tokens".into(),
                    input_tokens: Some(t.usage.input_tokens),
                    output_tokens: Some(t.usage.output_tokens),
                    total_tokens: Some(t.usage.input_tokens + t.usage.output_tokens),
                    ..TranscriptionUsage::default()
                }
            } else {
                TranscriptionUsage {
                    kind: "duration".into(),
                    seconds: Some(secs.ceil()),
                    ..TranscriptionUsage::default()
                }
            };
            let verbose = format != "json";
            let body = TranscriptionResponse {
                text: t.text,
                task: verbose.then(|| "transcribe".to_string()),
                language: if verbose { t.language } else { None },
                duration: if verbose { t.duration_secs } else { None },
                segments: if verbose { t.segments } else { None },
                words: None,
                usage: Some(usage),
            };
            Json(body).into_response()
        }
    }
}

/// One cue covering the whole audio, for providers that only give text.
fn subtitles(text: &str, secs: f64, vtt: bool) -> String {
    let ms = (secs * 1000.0).round() as u64;
    let stamp = |ms: u64, sep: char| {
        format!("{:02}:{:02}:{:02}{sep}{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
    };
    if vtt {
        format!("WEBVTT\n\n{} --> {}\n{text}\n\n", stamp(0, '.'), stamp(ms, '.'))
    } else {
        format!("1\n{} --> {}\n{text}\n\n", stamp(0, ','), stamp(ms, ','))
    }
}

/// `POST /v1/audio/speech`: the audio itself, with its media type.
pub async fn speech(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(RequestId(rid)): Extension<RequestId>,
    body: Result<JsonBody<OpenAiSpeech>, ApiError>,
) -> Result<Response, OpenAiError> {
    let JsonBody(body) = body?;
    input::required("input", &body.input)?;
    let voice = match &body.voice {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
        _ => String::new(),
    };
    let call = service::prepare(&state, &caller, rid, Kind::Speech, true, None, &body.model).await?;
    let req = SpeechRequest {
        model: call.model.code.clone(),
        input: body.input,
        voice: (!voice.is_empty()).then_some(voice),
        format: body.response_format,
        speed: body.speed,
        instructions: body.instructions,
    };
    let audio = service::speech(&state, &call, req).await?.output;
    let mut resp = (StatusCode::OK, audio.bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&audio.mime) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn subtitles_cover_the_audio() {
        assert_eq!(subtitles("hi", 1.5, false), "1\n00:00:00,000 --> 00:00:01,500\nhi\n\n");
        assert!(subtitles("hi", 61.0, true).starts_with("WEBVTT\n\n00:00:00.000 --> 00:01:01.000"));
    }

    #[test]
    fn inputs_must_be_text() {
        assert_eq!(texts(json!("a")).ok(), Some(vec!["a".to_string()]));
        assert_eq!(texts(json!(["a", "b"])).ok().map(|v| v.len()), Some(2));
        assert!(texts(json!([1, 2])).is_err());
        assert!(texts(json!({"a": 1})).is_err());
    }
}
