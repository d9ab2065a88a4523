//! Gemini API media: embeddings (`embedContent`, `batchEmbedContents`), Imagen
//! (`predict`), Veo (`predictLongRunning`, then the operation polled until
//! `done` and the video downloaded from the Files API), and the models that
//! answer `generateContent` with inline media: speech (`responseModalities:
//! ["AUDIO"]`, headerless 16-bit PCM), Lyria 3 music (MP3 with lyrics) and
//! Gemini image models.

use futures::future::try_join_all;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::media_types::{
    BatchEmbedBody, BatchEmbedResponse, EmbedContentBody, EmbedContentResponse, MediaContentResponse, Operation,
    PredictResponse, Status, TextContent, TextPart,
};
use super::{error_from_body, model_code};
use crate::media::{self, Audio, EmbeddingRequest, Embeddings, Image, ImageRequest, Images, MusicRequest, Polling};
use crate::media::{SpeechRequest, Video, VideoRequest};
use crate::model::Usage;
use crate::{Endpoint, ProviderError, http};

/// The prebuilt voices of Gemini speech; other names fall back to [`DEFAULT_VOICE`].
pub const VOICES: &[&str] = &[
    "Zephyr",
    "Puck",
    "Charon",
    "Kore",
    "Fenrir",
    "Leda",
    "Orus",
    "Aoede",
    "Callirrhoe",
    "Autonoe",
    "Enceladus",
    "Iapetus",
    "Umbriel",
    "Algieba",
    "Despina",
    "Erinome",
    "Algenib",
    "Rasalgethi",
    "Laomedeia",
    "Achernar",
    "Alnilam",
    "Schedar",
    "Gacrux",
    "Pulcherrima",
    "Achird",
    "Zubenelgenubi",
    "Vindemiatrix",
    "Sadachbia",
    "Sadaltager",
    "Sulafat",
];
/// The voice used when none (or an unknown one, such as OpenAI's `alloy`) is asked for.
pub const DEFAULT_VOICE: &str = "Kore";
/// Veo's clip length when the request names none.
const DEFAULT_VIDEO_SECS: u32 = 8;

async fn check(resp: reqwest::Response) -> Result<reqwest::Response, ProviderError> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status().as_u16();
    let retry_after = http::retry_after(resp.headers());
    Err(error_from_body(status, retry_after, resp.text().await.unwrap_or_default()))
}

async fn read<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, ProviderError> {
    let bytes = resp.bytes().await?;
    spgw_core::json::from_bytes(&bytes).map_err(|e| ProviderError::Decode(format!("bad Gemini answer: {e}")))
}

/// POSTs `body` to `v1beta/models/{model}:{method}`.
async fn call<B: Serialize, T: DeserializeOwned>(
    http: &reqwest::Client,
    ep: &Endpoint,
    model: &str,
    method: &str,
    body: &B,
) -> Result<T, ProviderError> {
    let url = ep.url(&format!("v1beta/models/{}:{method}", model_code(model)));
    read(check(http.post(url).header("x-goog-api-key", &ep.api_key).json(body).send().await?).await?).await
}

/// Embeds texts: one text with `embedContent`, several in one `batchEmbedContents`.
/// Gemini reports no token count, so usage is estimated.
#[tracing::instrument(skip_all, fields(provider = "google", model = %req.model, inputs = req.input.len()))]
pub async fn embed(http: &reqwest::Client, ep: &Endpoint, req: &EmbeddingRequest) -> Result<Embeddings, ProviderError> {
    let one = |model, text| embed_body(model, text, req.dimensions);
    let vectors = if let [text] = req.input.as_slice() {
        let r: EmbedContentResponse = call(http, ep, &req.model, "embedContent", &one(None, text)).await?;
        vec![r.embedding.values]
    } else {
        let name = format!("models/{}", model_code(&req.model));
        let body = BatchEmbedBody { requests: req.input.iter().map(|t| one(Some(&name), t)).collect() };
        let r: BatchEmbedResponse = call(http, ep, &req.model, "batchEmbedContents", &body).await?;
        if r.embeddings.len() != req.input.len() {
            return Err(ProviderError::Decode(format!(
                "{} embeddings for {} inputs",
                r.embeddings.len(),
                req.input.len()
            )));
        }
        r.embeddings.into_iter().map(|e| e.values).collect()
    };
    let usage = Usage { input_tokens: media::estimate_tokens(&req.input), ..Usage::default() };
    Ok(Embeddings { vectors, usage, usage_estimated: true })
}

fn embed_body<'a>(model: Option<&'a str>, text: &'a str, dimensions: Option<u32>) -> EmbedContentBody<'a> {
    EmbedContentBody { model, content: TextContent { parts: [TextPart { text }] }, output_dimensionality: dimensions }
}

/// Generates images: Imagen models through `predict`, Gemini image models
/// through `generateContent` (one image per call, calls made concurrently).
#[tracing::instrument(skip_all, fields(provider = "google", model = %req.model, n = req.n))]
pub async fn images(http: &reqwest::Client, ep: &Endpoint, req: &ImageRequest) -> Result<Images, ProviderError> {
    if model_code(&req.model).starts_with("imagen") {
        return imagen(http, ep, req).await;
    }
    let config = json!({"responseModalities": ["TEXT", "IMAGE"]});
    let calls = (0..req.n.max(1)).map(|_| generate_inline(http, ep, &req.model, &req.prompt, &config, "image/"));
    let mut images = Images::default();
    for out in try_join_all(calls).await? {
        images.usage.input_tokens += out.usage.input_tokens;
        images.usage.output_tokens += out.usage.output_tokens;
        images.images.push(Image { bytes: out.bytes, mime: out.mime, revised_prompt: None });
    }
    Ok(images)
}

async fn imagen(http: &reqwest::Client, ep: &Endpoint, req: &ImageRequest) -> Result<Images, ProviderError> {
    let mut parameters = Map::new();
    parameters.insert("sampleCount".into(), json!(req.n.max(1)));
    if let Some(size) = req.size.as_deref() {
        if let Some(ratio) = media::aspect_ratio(size, &["1:1", "3:4", "4:3", "9:16", "16:9"]) {
            parameters.insert("aspectRatio".into(), json!(ratio));
        }
        if media::dimensions(size).is_some_and(|(w, h)| w.max(h) > 1536) {
            parameters.insert("imageSize".into(), json!("2K"));
        }
    }
    let body = json!({"instances": [{"prompt": req.prompt}], "parameters": parameters});
    let r: PredictResponse = call(http, ep, &req.model, "predict", &body).await?;
    let mut images = Vec::with_capacity(r.predictions.len());
    let mut filtered = Vec::new();
    for p in r.predictions {
        match p.bytes_base64_encoded {
            Some(b64) => {
                let bytes = media::decode_base64(&b64)?;
                let mime = media::media_type(&bytes, p.mime_type.as_deref(), "image/png");
                images.push(Image { bytes, mime, revised_prompt: None });
            }
            None => filtered.extend(p.rai_filtered_reason),
        }
    }
    if images.is_empty() {
        return Err(refused(format!("Imagen returned no image (filtered: {})", filtered.join("; "))));
    }
    Ok(Images { images, usage: Usage::default() })
}

fn refused(message: String) -> ProviderError {
    ProviderError::InvalidRequest { status: 400, body: String::new(), message }
}

/// One piece of inline media from `generateContent`, with any text beside it.
struct InlineOutput {
    bytes: bytes::Bytes,
    mime: String,
    text: Option<String>,
    usage: Usage,
}

/// Calls `generateContent` with a text prompt and `generationConfig`, and
/// returns the first inline part whose media type starts with `kind`.
async fn generate_inline(
    http: &reqwest::Client,
    ep: &Endpoint,
    model: &str,
    prompt: &str,
    config: &Value,
    kind: &str,
) -> Result<InlineOutput, ProviderError> {
    let body = json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}], "generationConfig": config});
    let r: MediaContentResponse = call(http, ep, model, "generateContent", &body).await?;
    let usage = r
        .usage_metadata
        .map(|u| Usage {
            input_tokens: u.prompt_token_count,
            output_tokens: u.candidates_token_count,
            ..Usage::default()
        })
        .unwrap_or_default();
    let finish = r.candidates.first().and_then(|c| c.finish_reason.clone());
    let parts = r.candidates.into_iter().next().and_then(|c| c.content).map(|c| c.parts).unwrap_or_default();
    let text: String = parts.iter().filter(|p| !p.thought).filter_map(|p| p.text.as_deref()).collect();
    let inline = parts.into_iter().filter_map(|p| p.inline_data).find(|d| d.mime_type.starts_with(kind));
    let Some(inline) = inline else {
        let why = match (r.prompt_feedback, finish) {
            (Some(f), _) => format!("prompt blocked: {f}"),
            (None, Some(reason)) => format!("finish reason {reason}"),
            (None, None) => "no candidate".to_string(),
        };
        return Err(refused(format!("{model} returned no {kind} output ({why})")));
    };
    let bytes = media::decode_base64(&inline.data)?;
    Ok(InlineOutput { bytes, mime: inline.mime_type, text: (!text.is_empty()).then_some(text), usage })
}

/// Speaks text with a Gemini TTS model. The upstream's PCM is returned in a WAV
/// container (raw when `format` is `pcm`).
#[tracing::instrument(skip_all, fields(provider = "google", model = %req.model, chars = req.input.len()))]
pub async fn speech(http: &reqwest::Client, ep: &Endpoint, req: &SpeechRequest) -> Result<Audio, ProviderError> {
    if model_code(&req.model).starts_with("lyria") {
        return Err(ProviderError::Unsupported(format!("{} makes music, not speech", req.model)));
    }
    let voice = req
        .voice
        .as_deref()
        .and_then(|v| VOICES.iter().find(|known| known.eq_ignore_ascii_case(v)))
        .copied()
        .unwrap_or(DEFAULT_VOICE);
    // Gemini speech takes its style from the prompt ("Say cheerfully: ...").
    let prompt = match &req.instructions {
        Some(style) => format!("{style}: {}", req.input),
        None => req.input.clone(),
    };
    let config = json!({
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice}}},
    });
    let out = generate_inline(http, ep, &req.model, &prompt, &config, "audio/").await?;
    let lower = out.mime.to_ascii_lowercase();
    let (bytes, mime) = if lower.starts_with("audio/l16") || lower.starts_with("audio/pcm") {
        let rate = media::pcm_rate(&out.mime).unwrap_or(24_000);
        if req.format.as_deref() == Some("pcm") {
            (out.bytes, format!("audio/pcm;rate={rate}"))
        } else {
            (bytes::Bytes::from(media::pcm16_to_wav(&out.bytes, rate)), "audio/wav".to_string())
        }
    } else {
        (out.bytes, out.mime)
    };
    Ok(Audio { duration_secs: media::duration_secs(&bytes, &mime), bytes, mime, text: None, usage: out.usage })
}

/// Composes music with Lyria 3 (`generateContent`, audio plus lyrics).
/// Lyria RealTime only streams over a WebSocket session and is refused.
#[tracing::instrument(skip_all, fields(provider = "google", model = %req.model))]
pub async fn music(http: &reqwest::Client, ep: &Endpoint, req: &MusicRequest) -> Result<Audio, ProviderError> {
    if model_code(&req.model).contains("realtime") {
        return Err(ProviderError::Unsupported(format!(
            "{} streams over a WebSocket session only; use lyria-3-clip-preview or lyria-3-pro-preview",
            req.model
        )));
    }
    let mut config = json!({"responseModalities": ["AUDIO", "TEXT"]});
    if req.format.as_deref() == Some("wav") {
        config["responseMimeType"] = json!("audio/wav");
    }
    let out = generate_inline(http, ep, &req.model, &req.prompt, &config, "audio/").await?;
    let mime = media::media_type(&out.bytes, Some(&out.mime), "audio/mpeg");
    Ok(Audio {
        duration_secs: media::duration_secs(&out.bytes, &mime),
        bytes: out.bytes,
        mime,
        text: out.text,
        usage: out.usage,
    })
}

/// Generates a video with Veo: starts the operation, polls it until `done`,
/// then downloads the first sample (the API key goes only to the API's own host).
#[tracing::instrument(skip_all, fields(provider = "google", model = %req.model))]
pub async fn video(
    http: &reqwest::Client,
    ep: &Endpoint,
    req: &VideoRequest,
    polling: Polling,
) -> Result<Video, ProviderError> {
    let mut parameters = Map::new();
    if let Some(r) = req.aspect_ratio.as_deref().and_then(|a| media::aspect_ratio(a, &["16:9", "9:16"])) {
        parameters.insert("aspectRatio".into(), json!(r));
    }
    if let Some(r) = &req.resolution {
        parameters.insert("resolution".into(), json!(r));
    }
    if let Some(d) = req.duration_secs {
        parameters.insert("durationSeconds".into(), json!(d));
    }
    if let Some(n) = &req.negative_prompt {
        parameters.insert("negativePrompt".into(), json!(n));
    }
    let body = json!({"instances": [{"prompt": req.prompt}], "parameters": parameters});
    let started: Operation = call(http, ep, &req.model, "predictLongRunning", &body).await?;
    let op = if started.done { started } else { wait(http, ep, &started.name, polling).await? };
    if let Some(status) = op.error {
        return Err(operation_error(status));
    }
    let response = op.response.and_then(|r| r.generate_video_response).unwrap_or_default();
    let Some(file) = response.generated_samples.into_iter().find_map(|s| s.video) else {
        return Err(refused(format!(
            "Veo returned no video (filtered: {})",
            response.rai_media_filtered_reasons.join("; ")
        )));
    };
    let (bytes, declared) = match (file.encoded_video, file.uri) {
        (Some(b64), _) => (media::decode_base64(&b64)?, file.encoding),
        (None, Some(uri)) => {
            let auth = same_origin(&uri, &ep.base_url).then_some(("x-goog-api-key", ep.api_key.as_str()));
            media::download(http, &uri, auth).await?
        }
        (None, None) => return Err(ProviderError::Decode("a Veo sample without a video".into())),
    };
    let mime = media::media_type(&bytes, declared.as_deref(), "video/mp4");
    Ok(Video { bytes, mime, duration_secs: Some(f64::from(req.duration_secs.unwrap_or(DEFAULT_VIDEO_SECS))) })
}

/// Polls `GET v1beta/{name}` until the operation is done.
async fn wait(http: &reqwest::Client, ep: &Endpoint, name: &str, polling: Polling) -> Result<Operation, ProviderError> {
    // The name is the upstream's; it must stay a path under the API.
    if name.is_empty() || name.contains("://") || name.split('/').any(|s| s == "..") {
        return Err(ProviderError::Decode(format!("unexpected operation name {name:?}")));
    }
    let url = ep.url(&format!("v1beta/{name}"));
    media::poll(polling, || async {
        let op: Operation =
            read(check(http.get(&url).header("x-goog-api-key", &ep.api_key).send().await?).await?).await?;
        Ok(op.done.then_some(op))
    })
    .await
}

/// A failed operation's `google.rpc.Status` as a provider error.
fn operation_error(s: Status) -> ProviderError {
    let message = s.message;
    match s.code {
        // INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE: the request is at fault.
        3 | 9 | 11 => ProviderError::InvalidRequest { status: 400, message, body: String::new() },
        5 => ProviderError::InvalidRequest { status: 404, message, body: String::new() },
        8 => ProviderError::RateLimited { retry_after: None, message },
        7 | 16 => ProviderError::Auth { status: 403, message },
        4 => ProviderError::Timeout,
        _ => ProviderError::Upstream { status: 500, message, body: String::new() },
    }
}

/// Whether two URLs share scheme, host and port.
fn same_origin(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_errors_keep_their_meaning() {
        let s = |code| Status { code, message: "m".into() };
        assert!(matches!(operation_error(s(3)), ProviderError::InvalidRequest { status: 400, .. }));
        assert!(matches!(operation_error(s(8)), ProviderError::RateLimited { .. }));
        assert!(operation_error(s(13)).is_retryable());
    }

    #[test]
    fn keys_go_only_to_the_same_origin() {
        assert!(same_origin(
            "https://generativelanguage.googleapis.com/v1beta/files/a:download",
            "https://generativelanguage.googleapis.com"
        ));
        assert!(!same_origin("https://storage.example.com/a.mp4", "https://generativelanguage.googleapis.com"));
        assert!(!same_origin("http://127.0.0.1:1/a", "http://127.0.0.1:2/"));
    }
}
