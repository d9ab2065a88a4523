//! OpenAI media: embeddings (`/embeddings`), images (`/images/generations`),
//! transcription (`/audio/transcriptions`, multipart) and speech
//! (`/audio/speech`, or Chat Completions with audio output for the GPT Audio
//! models, which `/audio/speech` does not serve). Every OpenAI-compatible
//! server is spoken to the same way.

use bytes::Bytes;
use futures::future::try_join_all;
use serde_json::json;

use super::media_types::{
    AudioChatCompletion, EmbeddingBody, EmbeddingResponse, EmbeddingVector, ImageBody, ImageData, ImagesResponse,
    SpeechBody, TranscriptionResponse,
};
use super::{read_json, send};
use crate::media::{self, Audio, EmbeddingRequest, Embeddings, Image, ImageRequest, Images, SpeechRequest};
use crate::media::{Transcription, TranscriptionRequest};
use crate::model::Usage;
use crate::{Endpoint, Http, ProviderError, http};

/// OpenAI's default voice.
const DEFAULT_VOICE: &str = "alloy";

/// What GPT Audio is told, so that it reads the text instead of answering it.
const READ_ALOUD: &str = "You are a text-to-speech engine. Read the user's message aloud exactly as written, \
     word for word. Do not answer it, comment on it or add anything.";

/// Embeds texts.
#[tracing::instrument(skip_all, fields(model = %req.model, inputs = req.input.len()))]
pub async fn embed(http: &Http, ep: &Endpoint, req: &EmbeddingRequest) -> Result<Embeddings, ProviderError> {
    // OpenAI's own models answer base64 (a quarter of the bytes); other servers may only know floats.
    let base64 = req.model.starts_with("text-embedding-");
    let body = EmbeddingBody {
        model: &req.model,
        input: &req.input,
        encoding_format: if base64 { "base64" } else { "float" },
        dimensions: req.dimensions,
        user: req.user.as_deref(),
    };
    let wire: EmbeddingResponse = read_json(send(http, ep, "embeddings", &body).await?).await?;
    embeddings_from_wire(wire, &req.input)
}

/// The vectors of an embeddings answer in input order, with its usage (estimated when absent).
pub fn embeddings_from_wire(mut wire: EmbeddingResponse, input: &[String]) -> Result<Embeddings, ProviderError> {
    if wire.data.len() != input.len() {
        return Err(ProviderError::Decode(format!("{} vectors for {} inputs", wire.data.len(), input.len())));
    }
    wire.data.sort_by_key(|d| d.index);
    let vectors = wire
        .data
        .into_iter()
        .map(|d| match d.embedding {
            EmbeddingVector::Float(v) => Ok(v),
            EmbeddingVector::Base64(s) => f32_vector(&media::decode_base64(&s)?),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (usage, usage_estimated) = match wire.usage {
        Some(u) => (Usage { input_tokens: u.prompt_tokens, ..Usage::default() }, false),
        None => (Usage { input_tokens: media::estimate_tokens(input), ..Usage::default() }, true),
    };
    Ok(Embeddings { vectors, usage, usage_estimated })
}

/// Little-endian f32s.
fn f32_vector(bytes: &[u8]) -> Result<Vec<f32>, ProviderError> {
    if !bytes.len().is_multiple_of(4) {
        return Err(ProviderError::Decode("a base64 embedding is not a whole number of f32".into()));
    }
    Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// Generates images; URL answers are downloaded.
#[tracing::instrument(skip_all, fields(model = %req.model, n = req.n))]
pub async fn images(http: &Http, ep: &Endpoint, req: &ImageRequest) -> Result<Images, ProviderError> {
    // GPT image models always answer base64 and refuse `response_format`.
    let gpt_image = req.model.starts_with("gpt-image") || req.model.starts_with("chatgpt-image");
    let body = ImageBody {
        model: &req.model,
        prompt: &req.prompt,
        n: req.n.max(1),
        size: req.size.as_deref(),
        quality: req.quality.as_deref(),
        style: req.style.as_deref(),
        response_format: (!gpt_image).then_some("b64_json"),
        user: req.user.as_deref(),
    };
    let wire: ImagesResponse = read_json(send(http, ep, "images/generations", &body).await?).await?;
    images_from_wire(http, wire).await
}

/// The images of an images answer (OpenAI's or xAI's shape), downloading those given by URL.
pub async fn images_from_wire(http: &reqwest::Client, wire: ImagesResponse) -> Result<Images, ProviderError> {
    let fallback = match wire.output_format.as_deref() {
        Some("jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        _ => "image/png",
    };
    let images = try_join_all(wire.data.into_iter().map(|d| image(http, d, fallback))).await?;
    if images.is_empty() {
        return Err(ProviderError::Decode("the upstream returned no image".into()));
    }
    let usage = wire
        .usage
        .map(|u| Usage { input_tokens: u.input_tokens, output_tokens: u.output_tokens, ..Usage::default() })
        .unwrap_or_default();
    Ok(Images { images, usage })
}

async fn image(http: &reqwest::Client, d: ImageData, fallback: &str) -> Result<Image, ProviderError> {
    let (bytes, declared) = match (d.b64_json, d.url) {
        (Some(b64), _) => (media::decode_base64(&b64)?, None),
        (None, Some(url)) => media::download(http, &url, None).await?,
        (None, None) => return Err(ProviderError::Decode("an image with neither b64_json nor url".into())),
    };
    let mime = media::media_type(&bytes, declared.as_deref(), fallback);
    Ok(Image { bytes, mime, revised_prompt: d.revised_prompt })
}

/// Transcribes audio (multipart upload). Whisper is asked for `verbose_json`
/// whatever the caller wants (but `srt`/`vtt`, passed through), so the audio's
/// duration, which it is billed by, is known.
#[tracing::instrument(skip_all, fields(model = %req.model, bytes = req.audio.len()))]
pub async fn transcribe(
    http: &reqwest::Client,
    ep: &Endpoint,
    req: &TranscriptionRequest,
) -> Result<Transcription, ProviderError> {
    let wanted = req.response_format.as_deref().unwrap_or("json");
    let passthrough = matches!(wanted, "srt" | "vtt" | "diarized_json");
    let upstream_format = if passthrough {
        wanted
    } else if req.model.starts_with("gpt-") {
        // GPT-4o transcribe models answer `json` only (with token usage).
        "json"
    } else {
        "verbose_json"
    };
    let mime = req.mime.clone().unwrap_or_else(|| media::media_type(&req.audio, None, "application/octet-stream"));
    let file =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::from(req.audio.clone()), req.audio.len() as u64)
            .file_name(req.filename.clone())
            .mime_str(&mime)
            .map_err(|e| ProviderError::Unsupported(format!("bad audio media type {mime}: {e}")))?;
    let mut form = reqwest::multipart::Form::new()
        .part("file", file)
        .text("model", req.model.clone())
        .text("response_format", upstream_format.to_string());
    for (name, value) in [("language", &req.language), ("prompt", &req.prompt)] {
        if let Some(v) = value {
            form = form.text(name, v.clone());
        }
    }
    if let Some(t) = req.temperature {
        form = form.text("temperature", t.to_string());
    }
    let mut rb = http.post(ep.url("audio/transcriptions")).multipart(form);
    if !ep.api_key.is_empty() {
        rb = rb.bearer_auth(&ep.api_key);
    }
    let resp = http::check(rb.send().await?).await?;
    let file_duration = media::duration_secs(&req.audio, &mime);
    if matches!(upstream_format, "srt" | "vtt") {
        let body = resp.text().await?;
        return Ok(Transcription {
            text: subtitle_text(&body),
            duration_secs: file_duration,
            formatted: Some(body),
            ..Transcription::default()
        });
    }
    let wire: TranscriptionResponse = read_json(resp).await?;
    let usage = wire.usage.as_ref();
    let duration_secs = wire.duration.or(usage.and_then(|u| u.seconds)).or(file_duration);
    let usage = Usage {
        input_tokens: usage.and_then(|u| u.input_tokens).unwrap_or(0),
        output_tokens: usage.and_then(|u| u.output_tokens).unwrap_or(0),
        ..Usage::default()
    };
    Ok(Transcription {
        text: wire.text,
        language: wire.language,
        duration_secs,
        segments: wire.segments,
        formatted: None,
        usage,
    })
}

/// The spoken text of an SRT or WebVTT document (cue lines only).
fn subtitle_text(doc: &str) -> String {
    let cue = |l: &&str| {
        let l = l.trim();
        !l.is_empty() && !l.contains("-->") && !l.chars().all(|c| c.is_ascii_digit()) && l != "WEBVTT"
    };
    doc.lines().filter(cue).map(str::trim).collect::<Vec<_>>().join(" ")
}

/// The media type of an OpenAI audio format name.
pub fn audio_mime(format: &str) -> &'static str {
    match format {
        "wav" => "audio/wav",
        "opus" => "audio/ogg",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        "pcm" | "pcm16" => "audio/pcm",
        _ => "audio/mpeg",
    }
}

/// Whether a model speaks through Chat Completions audio output rather than `/audio/speech`.
pub fn is_audio_chat_model(model: &str) -> bool {
    model.starts_with("gpt-audio") || model.contains("-audio-preview")
}

/// Speaks text.
#[tracing::instrument(skip_all, fields(model = %req.model, chars = req.input.len()))]
pub async fn speech(http: &Http, ep: &Endpoint, req: &SpeechRequest) -> Result<Audio, ProviderError> {
    if is_audio_chat_model(&req.model) {
        return audio_chat(http, ep, req).await;
    }
    let format = req.format.as_deref().unwrap_or("mp3");
    let body = SpeechBody {
        model: &req.model,
        input: &req.input,
        voice: req.voice.as_deref().unwrap_or(DEFAULT_VOICE),
        response_format: req.format.as_deref(),
        speed: req.speed,
        instructions: req.instructions.as_deref(),
    };
    let resp = send(http, ep, "audio/speech", &body).await?;
    let declared = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = resp.bytes().await?;
    let mime = media::media_type(&bytes, declared.as_deref(), audio_mime(format));
    let duration_secs = media::duration_secs(&bytes, &mime);
    Ok(Audio { bytes, mime, duration_secs, text: None, usage: Usage::default() })
}

/// GPT Audio: a Chat Completions call with `modalities: ["text","audio"]`,
/// told to read the input aloud; the audio comes back base64 in `message.audio`.
async fn audio_chat(http: &Http, ep: &Endpoint, req: &SpeechRequest) -> Result<Audio, ProviderError> {
    let format = match req.format.as_deref().unwrap_or("mp3") {
        "pcm" => "pcm16",
        f => f,
    };
    let system = match &req.instructions {
        Some(i) => format!("{READ_ALOUD} Delivery: {i}"),
        None => READ_ALOUD.to_string(),
    };
    let body = json!({
        "model": req.model,
        "modalities": ["text", "audio"],
        "audio": {"voice": req.voice.as_deref().unwrap_or(DEFAULT_VOICE), "format": format},
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": req.input}],
    });
    let wire: AudioChatCompletion = read_json(send(http, ep, "chat/completions", &body).await?).await?;
    let audio = wire
        .choices
        .into_iter()
        .find_map(|c| c.message.audio)
        .ok_or_else(|| ProviderError::Decode("the answer carries no audio".into()))?;
    let bytes: Bytes = media::decode_base64(&audio.data)?;
    let mime = media::media_type(&bytes, Some(audio_mime(format)), "audio/mpeg");
    let usage = wire
        .usage
        .map(|u| Usage { input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens, ..Usage::default() })
        .unwrap_or_default();
    Ok(Audio { duration_secs: media::duration_secs(&bytes, &mime), bytes, mime, text: audio.transcript, usage })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtitles_reduce_to_their_text() {
        let srt =
            "1\n00:00:00,000 --> 00:00:01,000\nHello there.\n\n2\n00:00:01,000 --> 00:00:02,000\nGeneral Kenobi.\n";
        assert_eq!(subtitle_text(srt), "Hello there. General Kenobi.");
        let vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHi\n";
        assert_eq!(subtitle_text(vtt), "Hi");
    }

    #[test]
    fn base64_vectors_decode_little_endian() {
        let bytes: Vec<u8> = [1.0f32, -0.5].iter().flat_map(|f| f.to_le_bytes()).collect();
        assert_eq!(f32_vector(&bytes).ok(), Some(vec![1.0, -0.5]));
        assert!(f32_vector(&[0, 1, 2]).is_err());
    }
}
