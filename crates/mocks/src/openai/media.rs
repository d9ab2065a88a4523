//! OpenAI-protocol media routes: `images/generations` (OpenAI and xAI shapes),
//! `audio/speech`, `audio/transcriptions` (multipart), Chat Completions with
//! audio output (GPT Audio), and xAI's deferred videos
//! (`videos/generations`, `GET videos/{request_id}`, then the public file).
//! Bodies are checked as the real APIs check them: unknown fields, enums and
//! per-model rules are refused with OpenAI's error shape.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{Call, admit, error, json_response, mock_id, now, status_error};
use crate::media::{self, MediaDirectives, PNG, b64};
use crate::{MockState, Recorded, count_tokens, header_pairs, strip_markers};

/// Fields of OpenAI's `CreateImageRequest`.
const IMAGE_FIELDS: &[&str] = &[
    "prompt",
    "model",
    "n",
    "quality",
    "response_format",
    "output_format",
    "output_compression",
    "stream",
    "partial_images",
    "size",
    "moderation",
    "background",
    "style",
    "user",
];
/// Fields of xAI's image request (no `size`, `quality` or `style`).
const XAI_IMAGE_FIELDS: &[&str] =
    &["prompt", "model", "n", "response_format", "aspect_ratio", "resolution", "user", "image"];
const SPEECH_FIELDS: &[&str] =
    &["model", "input", "instructions", "voice", "response_format", "speed", "stream_format"];
const VIDEO_FIELDS: &[&str] = &["model", "prompt", "duration", "aspect_ratio", "resolution", "image", "video_url"];

/// Adds the media routes of `provider` (served under `prefix`).
pub(super) fn routes(r: Router<MockState>, provider: &'static str, prefix: &str) -> Router<MockState> {
    let cut = prefix.len();
    let r = match provider {
        "openai" | "xai" => r.route(
            &format!("{prefix}/images/generations"),
            post(move |s: State<MockState>, uri: Uri, h: HeaderMap, b: Bytes| async move {
                match admit(provider, cut, &s, &uri, &h, &b).await {
                    Ok(call) => images(call, &h),
                    Err(resp) => resp,
                }
            }),
        ),
        _ => r,
    };
    match provider {
        "openai" => r
            .route(
                &format!("{prefix}/audio/speech"),
                post(move |s: State<MockState>, uri: Uri, h: HeaderMap, b: Bytes| async move {
                    match admit(provider, cut, &s, &uri, &h, &b).await {
                        Ok(call) => speech(call),
                        Err(resp) => resp,
                    }
                }),
            )
            .route(
                &format!("{prefix}/audio/transcriptions"),
                post(move |s: State<MockState>, uri: Uri, h: HeaderMap, form: Multipart| async move {
                    transcription(s, uri, h, form, cut).await
                }),
            )
            .route("/openai/_files/{name}", get(image_file)),
        "xai" => r
            .route(
                &format!("{prefix}/videos/generations"),
                post(move |s: State<MockState>, uri: Uri, h: HeaderMap, b: Bytes| async move {
                    match admit(provider, cut, &s, &uri, &h, &b).await {
                        Ok(call) => start_video(call),
                        Err(resp) => resp,
                    }
                }),
            )
            .route(
                &format!("{prefix}/videos/{{id}}"),
                get(move |s: State<MockState>, uri: Uri, h: HeaderMap| async move {
                    match admit(provider, cut, &s, &uri, &h, &Bytes::new()).await {
                        Ok(_) => video_status(&s, &uri, &h, cut),
                        Err(resp) => resp,
                    }
                }),
            )
            .route("/xai/vidgen/{name}", get(video_file)),
        _ => r,
    }
}

fn bad(message: &str, param: Option<&str>) -> Response {
    error(StatusCode::BAD_REQUEST, message, "invalid_request_error", param, None)
}

/// The first field of `body` that is not in `known`.
fn unknown_field<'a>(body: &'a Value, known: &[&str]) -> Option<&'a str> {
    body.as_object()?.keys().map(String::as_str).find(|k| !known.contains(k))
}

fn str_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

/// The error a prompt's `[[status:N]]` asks for.
fn scripted(d: &MediaDirectives) -> Option<Response> {
    d.common.status.map(|s| status_error(s, d.common.retry_after))
}

fn images(call: Call, headers: &HeaderMap) -> Response {
    let body = &call.body;
    let xai = call.provider == "xai";
    let known = if xai { XAI_IMAGE_FIELDS } else { IMAGE_FIELDS };
    if let Some(k) = unknown_field(body, known) {
        return bad(&format!("Unrecognized request argument supplied: {k}"), Some(k));
    }
    let Some(prompt) = str_field(body, "prompt").filter(|p| !p.is_empty()) else {
        return bad("'prompt' is a required property", Some("prompt"));
    };
    let d = MediaDirectives::parse(prompt);
    if let Some(resp) = scripted(&d) {
        return resp;
    }
    let model = str_field(body, "model").unwrap_or(if xai { "grok-imagine-image" } else { "dall-e-2" });
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1);
    if !(1..=10).contains(&n) {
        return bad("Invalid 'n': must be between 1 and 10.", Some("n"));
    }
    let gpt_image = model.starts_with("gpt-image");
    let format = str_field(body, "response_format");
    if gpt_image && format.is_some() {
        return bad("Unknown parameter: 'response_format'.", Some("response_format"));
    }
    if let Some(f) = format.filter(|f| !matches!(*f, "url" | "b64_json")) {
        return bad(&format!("'{f}' is not one of ['url', 'b64_json'] - 'response_format'"), Some("response_format"));
    }
    if model == "dall-e-3" {
        if n != 1 {
            return bad("You must provide n=1 for this model.", Some("n"));
        }
        if let Some(size) = str_field(body, "size").filter(|s| !matches!(*s, "1024x1024" | "1792x1024" | "1024x1792")) {
            return bad(
                &format!("'{size}' is not one of ['1024x1024', '1024x1792', '1792x1024'] - 'size'"),
                Some("size"),
            );
        }
        if let Some(q) = str_field(body, "quality").filter(|q| !matches!(*q, "standard" | "hd")) {
            return bad(&format!("Invalid quality '{q}' for dall-e-3."), Some("quality"));
        }
    }
    let clean = strip_markers(prompt);
    let revised = (model == "dall-e-3" || xai).then(|| format!("A detailed rendering of: {clean}"));
    let b64_wanted = gpt_image || format == Some("b64_json");
    let origin = media::origin(headers);
    let data: Vec<Value> = (0..n)
        .map(|i| {
            let mut item = Map::new();
            if b64_wanted {
                // xAI writes a data URL into `b64_json`.
                let data = if xai { format!("data:image/png;base64,{}", b64(PNG)) } else { b64(PNG) };
                item.insert("b64_json".into(), json!(data));
            } else {
                let file = format!("img-{:016x}-{i}.png", media::fnv(prompt.as_bytes()));
                let base = if xai { "xai" } else { "openai" };
                item.insert("url".into(), json!(format!("{origin}/{base}/_files/{file}")));
            }
            if let Some(r) = &revised {
                item.insert("revised_prompt".into(), json!(r));
            }
            Value::Object(item)
        })
        .collect();
    let mut answer = json!({"created": now(), "data": data});
    if gpt_image {
        let input = count_tokens(&clean);
        answer["usage"] = json!({"input_tokens": input, "output_tokens": 272 * n, "total_tokens": input + 272 * n,
            "input_tokens_details": {"text_tokens": input, "image_tokens": 0}});
        answer["output_format"] = json!("png");
    }
    json_response(&answer)
}

/// A generated image by URL (OpenAI's URLs are public for an hour).
async fn image_file(Path(name): Path<String>) -> Response {
    if !name.starts_with("img-") {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CONTENT_TYPE, "image/png")], PNG).into_response()
}

fn speech(call: Call) -> Response {
    let body = &call.body;
    if let Some(k) = unknown_field(body, SPEECH_FIELDS) {
        return bad(&format!("Unrecognized request argument supplied: {k}"), Some(k));
    }
    for field in ["model", "input", "voice"] {
        if body.get(field).is_none() {
            return bad(&format!("'{field}' is a required property"), Some(field));
        }
    }
    let input = str_field(body, "input").unwrap_or_default();
    if input.chars().count() > 4096 {
        return bad("'input' is too long (at most 4096 characters)", Some("input"));
    }
    let format = str_field(body, "response_format").unwrap_or("mp3");
    if !matches!(format, "mp3" | "opus" | "aac" | "flac" | "wav" | "pcm") {
        return bad(
            &format!("'{format}' is not one of ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'] - 'response_format'"),
            Some("response_format"),
        );
    }
    if body.get("speed").and_then(Value::as_f64).is_some_and(|s| !(0.25..=4.0).contains(&s)) {
        return bad("'speed' must be between 0.25 and 4.0", Some("speed"));
    }
    let (bytes, mime) = media::audio(format, media::speech_secs(&strip_markers(input)));
    ([(header::CONTENT_TYPE, mime)], bytes).into_response()
}

/// Chat Completions: with `modalities` including `audio`, a GPT Audio answer
/// that reads the last user message aloud; otherwise the text mock.
pub(super) fn chat_or_audio(call: Call) -> Response {
    let wants_audio = call
        .body
        .get("modalities")
        .and_then(Value::as_array)
        .is_some_and(|m| m.iter().any(|v| v.as_str() == Some("audio")));
    if !wants_audio {
        return super::chat::handle(call);
    }
    let model = call.model().to_string();
    if call.provider == "openai" && !model.contains("audio") {
        return bad("This model does not support the audio modality.", Some("modalities"));
    }
    let Some(audio) = call.body.get("audio").filter(|a| a.is_object()) else {
        return bad("Audio output requires the 'audio' parameter.", Some("audio"));
    };
    let format = str_field(audio, "format").unwrap_or_default();
    if str_field(audio, "voice").is_none() || !matches!(format, "wav" | "aac" | "mp3" | "flac" | "opus" | "pcm16") {
        return bad("'audio' needs a voice and a format among wav, aac, mp3, flac, opus, pcm16.", Some("audio.format"));
    }
    let transcript = strip_markers(&call.user_text);
    let (bytes, _) = media::audio(format, media::speech_secs(&transcript));
    let prompt = super::prompt_tokens(&call.body);
    let completion = count_tokens(&transcript) * 10;
    json_response(&json!({
        "id": mock_id("chatcmpl-", &call.body),
        "object": "chat.completion",
        "created": now(),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null, "message": {
            "role": "assistant", "content": null, "refusal": null, "annotations": [],
            "audio": {"id": mock_id("audio_", &transcript), "expires_at": now() + 3600, "data": b64(&bytes), "transcript": transcript}
        }}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "completion_tokens_details": {"audio_tokens": completion, "text_tokens": 0, "reasoning_tokens": 0}},
    }))
}

/// One multipart field: a text value, or a file's name, type and bytes.
enum FormValue {
    Text(String),
    File { filename: String, content_type: String, bytes: Bytes },
}

async fn transcription(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    mut form: Multipart,
    cut: usize,
) -> Response {
    let mut fields: Vec<(String, FormValue)> = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_string();
                let file = f.file_name().map(str::to_owned);
                let content_type = f.content_type().unwrap_or("application/octet-stream").to_string();
                let Ok(bytes) = f.bytes().await else { return bad("Could not parse multipart form", None) };
                let value = match file {
                    Some(filename) => FormValue::File { filename, content_type, bytes },
                    None => FormValue::Text(String::from_utf8_lossy(&bytes).into_owned()),
                };
                fields.push((name, value));
            }
            Ok(None) => break,
            Err(_) => return bad("Could not parse multipart form", None),
        }
    }
    // Recorded as JSON: text fields as they came, the file as its metadata.
    let mut summary = Map::new();
    let mut audio: Option<(String, Bytes)> = None;
    for (name, value) in fields {
        match value {
            FormValue::Text(t) => summary.insert(name, json!(t)),
            FormValue::File { filename, content_type, bytes } => {
                let meta = json!({"filename": filename, "content_type": content_type, "bytes": bytes.len()});
                if name == "file" {
                    audio = Some((filename, bytes));
                }
                summary.insert(name, meta)
            }
        };
    }
    let raw = Bytes::from(Value::Object(summary).to_string());
    let call = match admit("openai", cut, &state, &uri, &headers, &raw).await {
        Ok(call) => call,
        Err(resp) => return resp,
    };
    let body = &call.body;
    let Some((filename, bytes)) = audio else { return bad("'file' is a required property", Some("file")) };
    let Some(model) = str_field(body, "model") else { return bad("'model' is a required property", Some("model")) };
    let format = str_field(body, "response_format").unwrap_or("json");
    if !matches!(format, "json" | "text" | "srt" | "verbose_json" | "vtt" | "diarized_json") {
        return bad(&format!("'{format}' is not a valid response_format"), Some("response_format"));
    }
    let gpt = model.starts_with("gpt-");
    if gpt && !matches!(format, "json" | "text") {
        return bad(
            &format!("response_format '{format}' is not compatible with model '{model}'. Use 'json' or 'text'."),
            Some("response_format"),
        );
    }
    let d = MediaDirectives::parse(str_field(body, "prompt").unwrap_or_default());
    if let Some(resp) = scripted(&d) {
        return resp;
    }
    let duration = media::wav_secs(&bytes).unwrap_or(bytes.len() as f64 / 32_000.0);
    let text = format!("Mock transcript of {filename} ({} bytes).", bytes.len());
    let stamp = |sep: char| {
        format!("00:00:00{sep}000 --> 00:00:{:02}{sep}{:03}", duration as u32, (duration.fract() * 1000.0) as u32)
    };
    let seconds = duration.ceil();
    match format {
        "text" => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response(),
        "srt" => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("1\n{}\n{text}\n\n", stamp(',')))
            .into_response(),
        "vtt" => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("WEBVTT\n\n{}\n{text}\n\n", stamp('.')))
                .into_response()
        }
        "verbose_json" => json_response(&json!({
            "task": "transcribe", "language": str_field(body, "language").map_or("english", |_| "english"),
            "duration": duration, "text": text,
            "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": duration, "text": format!(" {text}"),
                "tokens": [50364, 440, 50530], "temperature": 0.0, "avg_logprob": -0.29, "compression_ratio": 1.24,
                "no_speech_prob": 0.01}],
            "usage": {"type": "duration", "seconds": seconds},
        })),
        _ if gpt => {
            let audio_tokens = (duration * 10.0).ceil() as u64;
            let out = count_tokens(&text);
            json_response(&json!({"text": text, "usage": {"type": "tokens", "input_tokens": audio_tokens,
                "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens}, "output_tokens": out,
                "total_tokens": audio_tokens + out}}))
        }
        _ => json_response(&json!({"text": text, "usage": {"type": "duration", "seconds": seconds}})),
    }
}

fn start_video(call: Call) -> Response {
    let body = &call.body;
    if let Some(k) = unknown_field(body, VIDEO_FIELDS) {
        return bad(&format!("Argument not supported: {k}"), Some(k));
    }
    let Some(prompt) = str_field(body, "prompt").filter(|p| !p.is_empty()) else {
        return bad("'prompt' is a required property", Some("prompt"));
    };
    let d = MediaDirectives::parse(prompt);
    if let Some(resp) = scripted(&d) {
        return resp;
    }
    let secs = body.get("duration").and_then(Value::as_u64).unwrap_or(6);
    if !(1..=15).contains(&secs) {
        return bad("duration must be between 1 and 15 seconds", Some("duration"));
    }
    if let Some(r) = str_field(body, "resolution").filter(|r| !matches!(*r, "480p" | "720p")) {
        return bad(&format!("Unsupported resolution {r}"), Some("resolution"));
    }
    // The id carries the script: polls before done, length, failure.
    let id = format!("{:016x}-{}-{}-{}", media::fnv(prompt.as_bytes()), d.polls, secs, u8::from(d.fail));
    json_response(&json!({"request_id": id}))
}

fn video_status(state: &MockState, uri: &Uri, headers: &HeaderMap, cut: usize) -> Response {
    let path = uri.path().get(cut..).unwrap_or_default();
    let id = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = id.split('-').collect();
    let [_, polls, secs, fail] = parts.as_slice() else {
        return error(StatusCode::NOT_FOUND, "Request not found", "invalid_request_error", None, None);
    };
    let (polls, secs): (u32, u32) = (polls.parse().unwrap_or(2), secs.parse().unwrap_or(6));
    if media::times_polled(state, "xai", path) < polls {
        return (
            StatusCode::ACCEPTED,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"status": "pending"}).to_string(),
        )
            .into_response();
    }
    if *fail == "1" {
        return json_response(&json!({"status": "failed", "video": {"duration": 0, "respect_moderation": true},
            "model": "", "error": {"code": "content_moderated", "message": "The video was blocked by moderation."}}));
    }
    let url = format!("{}/xai/vidgen/xai-video-{id}.mp4", media::origin(headers));
    json_response(&json!({"status": "done", "video": {"url": url, "duration": secs, "respect_moderation": true},
        "model": "grok-imagine-video"}))
}

/// The public bucket a finished xAI video is served from.
async fn video_file(State(state): State<MockState>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    state.record(Recorded {
        provider: "xai".into(),
        path: format!("/vidgen/{name}"),
        headers: header_pairs(&headers),
        body: Value::Null,
    });
    let secs = name.trim_end_matches(".mp4").split('-').nth(4).and_then(|s| s.parse().ok());
    match secs {
        Some(secs) => ([(header::CONTENT_TYPE, "video/mp4")], media::mp4(secs)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
