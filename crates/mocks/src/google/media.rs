//! Gemini API media: Imagen `:predict`, Veo `:predictLongRunning` with its
//! operation (`GET v1beta/models/{model}/operations/{id}`, done after
//! `[[polls:N]]` status requests) and the Files API download (a redirect to
//! storage, as the real one), and `generateContent` for the models that answer
//! with inline media: speech (`*-tts`, 24 kHz PCM), Lyria 3 (MP3 and lyrics),
//! and Gemini image models.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::validate::{get as field, parts, validate};
use super::{Answer, ApiError, check_key, error, invalid, not_found, scripted_error};
use crate::media::{self, MediaDirectives, PNG, b64};
use crate::{MockState, Recorded, count_tokens, header_pairs, strip_markers};

/// Voices of Gemini speech (a few; the mock refuses others, as the API does).
const VOICES: &[&str] = &["Kore", "Puck", "Zephyr", "Charon", "Fenrir", "Leda", "Orus", "Aoede"];
const IMAGEN_PARAMETERS: &[&str] =
    &["sampleCount", "aspectRatio", "personGeneration", "imageSize", "outputOptions", "enhancePrompt", "seed"];
const VEO_PARAMETERS: &[&str] =
    &["aspectRatio", "resolution", "durationSeconds", "negativePrompt", "personGeneration", "seed", "numberOfVideos"];

/// The routes beside `models/{call}`: operations, files and storage.
pub(super) fn router() -> Router<MockState> {
    Router::new()
        .route("/google/v1beta/models/{model}/operations/{op}", get(operation))
        .route("/google/v1beta/files/{file}", get(file))
        .route("/google/_storage/{name}", get(storage))
}

/// Models whose `generateContent` answers inline media.
pub(super) fn is_media_model(model: &str) -> bool {
    model.contains("-tts") || model.starts_with("lyria-") || model.contains("-image")
}

fn record(state: &MockState, path: String, headers: &HeaderMap) {
    state.record(Recorded { provider: "google".into(), path, headers: header_pairs(headers), body: Value::Null });
}

fn key_of<'a>(headers: &'a HeaderMap, query: &'a str) -> Option<&'a str> {
    headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| query.split('&').find_map(|kv| kv.strip_prefix("key=")))
}

/// The prompt of `instances[0]`, checked.
fn instance_prompt(body: &Value) -> Result<&str, ApiError> {
    let instances = body.get("instances").and_then(Value::as_array).filter(|i| !i.is_empty());
    let Some(first) = instances.and_then(|i| i.first()) else {
        return Err(invalid("* PredictRequest.instances: instances is not specified\n"));
    };
    first
        .get("prompt")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| invalid("A prompt is required."))
}

fn check_parameters(body: &Value, allowed: &[&str]) -> Result<(), ApiError> {
    match body.get("parameters").and_then(Value::as_object) {
        Some(p) => match p.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(invalid(format!("Invalid JSON payload received. Unknown name \"{k}\" at 'parameters'."))),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

fn parameter<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body.get("parameters").and_then(|p| p.get(name))
}

/// Imagen: `sampleCount` PNGs (or only filter reasons with `[[filtered]]`).
pub(super) fn predict(model: &str, body: &Value) -> Answer {
    if !model.starts_with("imagen") {
        return Err(not_found(model, "predict"));
    }
    let prompt = instance_prompt(body)?;
    check_parameters(body, IMAGEN_PARAMETERS)?;
    let d = MediaDirectives::parse(prompt);
    if let Some(code) = d.common.status {
        return Err(scripted_error(code, d.common.retry_after));
    }
    let n = parameter(body, "sampleCount").and_then(Value::as_u64).unwrap_or(4);
    if !(1..=4).contains(&n) {
        return Err(invalid("Number of images must be in the range [1, 4]."));
    }
    if let Some(r) = parameter(body, "aspectRatio").and_then(Value::as_str)
        && !["1:1", "3:4", "4:3", "9:16", "16:9"].contains(&r)
    {
        return Err(invalid(format!("Unsupported aspect ratio: {r}")));
    }
    if let Some(s) = parameter(body, "imageSize").and_then(Value::as_str)
        && !["1K", "2K"].contains(&s)
    {
        return Err(invalid(format!("Unsupported image size: {s}")));
    }
    let predictions: Vec<Value> = (0..n)
        .map(|_| match d.filtered {
            true => json!({"raiFilteredReason": "The image was filtered by the mock's safety policy."}),
            false => json!({"mimeType": "image/png", "bytesBase64Encoded": b64(PNG)}),
        })
        .collect();
    Ok(axum::Json(json!({"predictions": predictions})).into_response())
}

/// Veo: starts an operation whose id carries the script (polls, length, failure).
pub(super) fn predict_long_running(model: &str, body: &Value) -> Answer {
    if !model.starts_with("veo") {
        return Err(not_found(model, "predictLongRunning"));
    }
    let prompt = instance_prompt(body)?;
    check_parameters(body, VEO_PARAMETERS)?;
    let d = MediaDirectives::parse(prompt);
    if let Some(code) = d.common.status {
        return Err(scripted_error(code, d.common.retry_after));
    }
    let secs = parameter(body, "durationSeconds").and_then(Value::as_u64).unwrap_or(8);
    if ![4, 6, 8].contains(&secs) {
        return Err(invalid("The duration must be 4, 6 or 8 seconds."));
    }
    if let Some(r) = parameter(body, "aspectRatio").and_then(Value::as_str)
        && !["16:9", "9:16"].contains(&r)
    {
        return Err(invalid(format!("Aspect ratio {r} is not supported.")));
    }
    if let Some(r) = parameter(body, "resolution").and_then(Value::as_str)
        && !["720p", "1080p"].contains(&r)
    {
        return Err(invalid(format!("Resolution {r} is not supported.")));
    }
    let outcome = if d.fail {
        "f"
    } else if d.filtered {
        "x"
    } else {
        "o"
    };
    let id = format!("{:012x}p{}s{secs}{outcome}", media::fnv(prompt.as_bytes()) & 0xffff_ffff_ffff, d.polls);
    Ok(axum::Json(json!({"name": format!("models/{model}/operations/{id}")})).into_response())
}

/// `(polls, secs, outcome)` of an operation id made by [`predict_long_running`].
fn script(id: &str) -> Option<(u32, u32, char)> {
    let rest = id.get(12..)?.strip_prefix('p')?;
    let (polls, rest) = rest.split_once('s')?;
    let outcome = rest.chars().last()?;
    Some((polls.parse().ok()?, rest[..rest.len() - 1].parse().ok()?, outcome))
}

async fn operation(
    State(state): State<MockState>,
    Path((model, op)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1beta/models/{model}/operations/{op}");
    record(&state, path.clone(), &headers);
    if let Some(refusal) = check_key(key_of(&headers, query.as_deref().unwrap_or(""))) {
        return refusal.into_response();
    }
    let name = format!("models/{model}/operations/{op}");
    let Some((polls, _, outcome)) = script(&op) else {
        return error(404, &format!("Operation {name} not found."), Vec::new()).into_response();
    };
    if media::times_polled(&state, "google", &path) < polls {
        return axum::Json(json!({"name": name})).into_response();
    }
    let done = match outcome {
        'f' => json!({"name": name, "done": true, "error": {"code": 3,
            "message": "The video could not be generated because the prompt violates the usage guidelines (mock)."}}),
        'x' => json!({"name": name, "done": true, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": ["The video was filtered by the mock's safety policy."]}}}),
        _ => {
            let uri = format!("{}/google/v1beta/files/{op}:download?alt=media", media::origin(&headers));
            json!({"name": name, "done": true, "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}}})
        }
    };
    axum::Json(done).into_response()
}

/// `GET files/{id}:download?alt=media`: needs the key, redirects to storage.
async fn file(
    State(state): State<MockState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    record(&state, format!("/v1beta/files/{file}?{query}"), &headers);
    if let Some(refusal) = check_key(key_of(&headers, &query)) {
        return refusal.into_response();
    }
    match file.strip_suffix(":download").filter(|id| script(id).is_some()) {
        Some(id) => Redirect::temporary(&format!("/google/_storage/{id}.mp4")).into_response(),
        None => error(404, &format!("File {file} not found."), Vec::new()).into_response(),
    }
}

async fn storage(State(state): State<MockState>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    record(&state, format!("/_storage/{name}"), &headers);
    match name.strip_suffix(".mp4").and_then(script) {
        Some((_, secs, _)) => ([(header::CONTENT_TYPE, "video/mp4")], media::mp4(secs)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `generateContent` of a speech, music or image model.
pub(super) fn generate_media(model: &str, body: &Value) -> Answer {
    let contents = validate(model, body)?;
    if model.contains("realtime") {
        return Err(not_found(model, "generateContent"));
    }
    let prompt: String = contents
        .iter()
        .flat_map(parts)
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    let d = MediaDirectives::parse(&prompt);
    if let Some(code) = d.common.status {
        return Err(scripted_error(code, d.common.retry_after));
    }
    let config = field(body, "generationConfig").cloned().unwrap_or(Value::Null);
    let modalities: Vec<&str> = field(&config, "responseModalities")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let text = strip_markers(&prompt);
    let prompt_tokens = count_tokens(&text);
    let (parts, out_tokens) = if model.contains("-tts") {
        if modalities != ["AUDIO"] {
            return Err(invalid("The requested combination of response modalities is not supported by the model."));
        }
        let voice = field(&config, "speechConfig")
            .and_then(|s| field(s, "voiceConfig"))
            .and_then(|v| field(v, "prebuiltVoiceConfig"))
            .and_then(|p| field(p, "voiceName"))
            .and_then(Value::as_str)
            .unwrap_or("Kore");
        if !VOICES.contains(&voice) {
            return Err(invalid(format!("Voice name {voice} is not supported.")));
        }
        let secs = media::speech_secs(&text);
        let pcm = media::pcm(secs, 24_000);
        (
            vec![json!({"inlineData": {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": b64(&pcm)}})],
            (secs * 25.0).ceil() as u64,
        )
    } else if model.starts_with("lyria-") {
        if !modalities.contains(&"AUDIO") {
            return Err(invalid("Lyria models need responseModalities to include AUDIO."));
        }
        let wav = field(&config, "responseMimeType").and_then(Value::as_str) == Some("audio/wav");
        let (bytes, mime) = if wav { (media::wav(30.0), "audio/wav") } else { (media::mp3(30.0), "audio/mpeg") };
        let lyrics = format!("[Verse]\n{text}\n[Chorus]\nLa la la");
        (vec![json!({"text": lyrics}), json!({"inlineData": {"mimeType": mime, "data": b64(&bytes)}})], 750)
    } else {
        if !modalities.contains(&"IMAGE") {
            return Err(invalid("This model needs responseModalities to include IMAGE."));
        }
        (
            vec![
                json!({"text": format!("Here is {text}.")}),
                json!({"inlineData": {"mimeType": "image/png", "data": b64(PNG)}}),
            ],
            1290,
        )
    };
    Ok(axum::Json(json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": prompt_tokens, "candidatesTokenCount": out_tokens,
            "totalTokenCount": prompt_tokens + out_tokens},
        "modelVersion": model,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_carry_their_script() {
        assert_eq!(script("0123456789abp3s8o"), Some((3, 8, 'o')));
        assert_eq!(script("0123456789abp0s4f"), Some((0, 4, 'f')));
        assert_eq!(script("short"), None);
    }
}
