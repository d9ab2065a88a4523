//! Media calls: embeddings, images, transcription, speech, music and video.
//!
//! One internal model per kind (requests and results below); each provider
//! module translates it to its own wire format (`openai::media`,
//! `google::media`, `xai::media`, `huggingface::media`). The dispatch functions
//! choose the adapter by provider name first (xAI and Hugging Face speak their
//! own media APIs beside their OpenAI-compatible chat) and by protocol
//! otherwise, so an operator-added OpenAI-compatible server gets the OpenAI
//! media endpoints. Binary results always come back as bytes: an adapter whose
//! upstream answers with a URL downloads it, so the gateway can store it.

mod audio;
mod fetch;

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::catalog::Protocol;
use crate::model::Usage;
use crate::{Endpoint, Http, ProviderError, google, huggingface, openai, xai};

pub use audio::{duration_secs, pcm_rate, pcm16_to_wav};
pub use fetch::{MAX_DOWNLOAD_BYTES, decode_base64, download, poll};

/// Texts to embed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmbeddingRequest {
    pub model: String,
    pub input: Vec<String>,
    /// Output dimensionality, where the model can truncate (OpenAI v3, Gemini).
    pub dimensions: Option<u32>,
    /// The caller's end-user id, passed on where the provider takes one.
    pub user: Option<String>,
}

/// One vector per input, in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    pub usage: Usage,
    /// The provider reports no token count; `usage` is an estimate (4 characters a token).
    pub usage_estimated: bool,
}

/// An image to generate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageRequest {
    pub model: String,
    pub prompt: String,
    /// How many images (at least 1).
    pub n: u32,
    /// `WIDTHxHEIGHT` as OpenAI spells it; other providers get the nearest aspect ratio.
    pub size: Option<String>,
    /// `standard`/`hd` (DALL-E 3), `low`/`medium`/`high` (GPT image models).
    pub quality: Option<String>,
    /// `vivid`/`natural` (DALL-E 3 only).
    pub style: Option<String>,
    pub negative_prompt: Option<String>,
    pub user: Option<String>,
}

/// Generated images.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Images {
    pub images: Vec<Image>,
    /// Token usage, for the models billed by token (GPT image models).
    pub usage: Usage,
}

/// One generated image.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub bytes: Bytes,
    /// `image/png`, `image/jpeg`, `image/webp`.
    pub mime: String,
    /// The prompt the provider actually used, when it rewrote it (DALL-E 3, Grok).
    pub revised_prompt: Option<String>,
}

/// Audio to transcribe.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TranscriptionRequest {
    pub model: String,
    pub audio: Bytes,
    /// The uploaded file's name; providers read the format from its extension.
    pub filename: String,
    pub mime: Option<String>,
    /// ISO-639-1 language of the audio.
    pub language: Option<String>,
    pub prompt: Option<String>,
    pub temperature: Option<f32>,
    /// OpenAI's `response_format`: `json`, `text`, `verbose_json`, `srt`, `vtt`.
    pub response_format: Option<String>,
}

/// A transcript.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcription {
    pub text: String,
    pub language: Option<String>,
    /// Length of the audio, as the provider measured it (or read from the file).
    pub duration_secs: Option<f64>,
    /// Timed segments (OpenAI `verbose_json` shape), when the provider gave them.
    pub segments: Option<Value>,
    /// The upstream's own rendering for `srt`/`vtt`, passed through verbatim.
    pub formatted: Option<String>,
    /// Token usage, for the models billed by token (GPT-4o transcribe).
    pub usage: Usage,
}

/// Text to speak.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeechRequest {
    pub model: String,
    pub input: String,
    /// Provider voice name; unknown names fall back to the provider's default voice.
    pub voice: Option<String>,
    /// `mp3`, `wav`, `opus`, `aac`, `flac`, `pcm`; providers that produce one
    /// format only (Gemini: PCM, returned as WAV) ignore it.
    pub format: Option<String>,
    pub speed: Option<f32>,
    /// Style instructions (`gpt-4o-mini-tts`).
    pub instructions: Option<String>,
}

/// Music to compose.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MusicRequest {
    pub model: String,
    pub prompt: String,
    /// `mp3` or `wav`, where the model offers a choice.
    pub format: Option<String>,
}

/// Generated audio (speech or music).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audio {
    pub bytes: Bytes,
    /// `audio/mpeg`, `audio/wav`, `audio/pcm`...
    pub mime: String,
    pub duration_secs: Option<f64>,
    /// Text that came with the audio: a transcript (GPT Audio) or lyrics (Lyria).
    pub text: Option<String>,
    pub usage: Usage,
}

/// A video to generate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoRequest {
    pub model: String,
    pub prompt: String,
    pub duration_secs: Option<u32>,
    /// `16:9`, `9:16`, ...
    pub aspect_ratio: Option<String>,
    /// `480p`, `720p`, `1080p`.
    pub resolution: Option<String>,
    pub negative_prompt: Option<String>,
}

/// A generated video.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Video {
    pub bytes: Bytes,
    /// `video/mp4` as a rule.
    pub mime: String,
    pub duration_secs: Option<f64>,
}

/// How a long-running operation is waited for: one status request every
/// `interval`, for at most `max_wait`, then [`ProviderError::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polling {
    pub interval: Duration,
    pub max_wait: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Polling { interval: Duration::from_secs(5), max_wait: Duration::from_secs(600) }
    }
}

fn unsupported(provider: &str, what: &str) -> ProviderError {
    ProviderError::Unsupported(format!("provider {provider} has no {what} API the gateway speaks"))
}

/// Embeds texts with the provider `provider` speaking `protocol`.
pub async fn embed(
    provider: &str,
    protocol: Protocol,
    http: &Http,
    ep: &Endpoint,
    req: &EmbeddingRequest,
) -> Result<Embeddings, ProviderError> {
    if req.input.is_empty() {
        return Err(ProviderError::Unsupported("nothing to embed".into()));
    }
    match (provider, protocol) {
        ("huggingface", _) => huggingface::media::embed(http, ep, req).await,
        (_, Protocol::Google) => google::media::embed(http, ep, req).await,
        (_, Protocol::OpenAi) => openai::media::embed(http, ep, req).await,
        (_, Protocol::Anthropic) => Err(unsupported(provider, "embeddings")),
    }
}

/// Generates images.
pub async fn images(
    provider: &str,
    protocol: Protocol,
    http: &Http,
    ep: &Endpoint,
    req: &ImageRequest,
) -> Result<Images, ProviderError> {
    match (provider, protocol) {
        ("huggingface", _) => huggingface::media::images(http, ep, req).await,
        ("xai", _) => xai::media::images(http, ep, req).await,
        (_, Protocol::Google) => google::media::images(http, ep, req).await,
        (_, Protocol::OpenAi) => openai::media::images(http, ep, req).await,
        (_, Protocol::Anthropic) => Err(unsupported(provider, "image generation")),
    }
}

/// Transcribes audio.
pub async fn transcribe(
    provider: &str,
    protocol: Protocol,
    http: &Http,
    ep: &Endpoint,
    req: &TranscriptionRequest,
) -> Result<Transcription, ProviderError> {
    match (provider, protocol) {
        ("huggingface" | "xai", _) | (_, Protocol::Google | Protocol::Anthropic) => {
            Err(unsupported(provider, "transcription"))
        }
        (_, Protocol::OpenAi) => openai::media::transcribe(http, ep, req).await,
    }
}

/// Speaks text.
pub async fn speech(
    provider: &str,
    protocol: Protocol,
    http: &Http,
    ep: &Endpoint,
    req: &SpeechRequest,
) -> Result<Audio, ProviderError> {
    match (provider, protocol) {
        ("huggingface" | "xai", _) | (_, Protocol::Anthropic) => Err(unsupported(provider, "speech")),
        (_, Protocol::Google) => google::media::speech(http, ep, req).await,
        (_, Protocol::OpenAi) => openai::media::speech(http, ep, req).await,
    }
}

/// Composes music.
pub async fn music(
    provider: &str,
    protocol: Protocol,
    http: &Http,
    ep: &Endpoint,
    req: &MusicRequest,
) -> Result<Audio, ProviderError> {
    match protocol {
        Protocol::Google => google::media::music(http, ep, req).await,
        _ => Err(unsupported(provider, "music generation")),
    }
}

/// Generates a video, waiting for the provider's long-running operation to
/// finish (polled as `polling` says) and downloading the result.
pub async fn video(
    provider: &str,
    protocol: Protocol,
    http: &Http,
    ep: &Endpoint,
    req: &VideoRequest,
    polling: Polling,
) -> Result<Video, ProviderError> {
    match (provider, protocol) {
        ("huggingface", _) => huggingface::media::video(http, ep, req).await,
        ("xai", _) => xai::media::video(http, ep, req, polling).await,
        (_, Protocol::Google) => google::media::video(http, ep, req, polling).await,
        _ => Err(unsupported(provider, "video generation")),
    }
}

/// `WIDTHxHEIGHT`.
pub fn dimensions(size: &str) -> Option<(u32, u32)> {
    let (w, h) = size.split_once(['x', 'X'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?)).filter(|(w, h)| *w > 0 && *h > 0)
}

/// The supported aspect ratio nearest to an OpenAI size (`1792x1024` → `16:9`);
/// a ratio given as such (`16:9`) is kept when supported.
pub fn aspect_ratio<'a>(size: &str, supported: &[&'a str]) -> Option<&'a str> {
    if let Some(r) = supported.iter().find(|r| **r == size) {
        return Some(r);
    }
    let (w, h) = dimensions(size)?;
    let want = (w as f64 / h as f64).ln();
    let ratio = |r: &str| -> Option<f64> {
        let (a, b) = r.split_once(':')?;
        Some((a.parse::<f64>().ok()? / b.parse::<f64>().ok()?).ln())
    };
    supported
        .iter()
        .copied()
        .filter_map(|r| ratio(r).map(|x| (r, (x - want).abs())))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, _)| r)
}

/// A rough token count where the provider reports none: 4 characters a token.
pub fn estimate_tokens<'a>(texts: impl IntoIterator<Item = &'a String>) -> u64 {
    texts.into_iter().map(|t| (t.chars().count() as u64).div_ceil(4).max(1)).sum()
}

/// The media type of some bytes by their signature, for upstreams that do not say.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let at = |i: usize, sig: &[u8]| bytes.get(i..i + sig.len()) == Some(sig);
    if at(0, b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if at(0, &[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if at(0, b"GIF8") {
        Some("image/gif")
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some("image/webp")
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Some("audio/wav")
    } else if at(0, b"ID3") || (bytes.len() > 1 && bytes[0] == 0xff && bytes[1] & 0xe0 == 0xe0) {
        Some("audio/mpeg")
    } else if at(0, b"fLaC") {
        Some("audio/flac")
    } else if at(0, b"OggS") {
        Some("audio/ogg")
    } else if at(4, b"ftyp") {
        Some("video/mp4")
    } else if at(0, &[0x1a, 0x45, 0xdf, 0xa3]) {
        Some("video/webm")
    } else {
        None
    }
}

/// The media type to record for bytes the upstream labelled `declared`:
/// its label unless it is generic (`application/octet-stream`, missing), then
/// the signature, then `fallback`.
pub fn media_type(bytes: &[u8], declared: Option<&str>, fallback: &str) -> String {
    let declared = declared.map(|d| d.split(';').next().unwrap_or(d).trim()).filter(|d| {
        !d.is_empty() && *d != "application/octet-stream" && *d != "binary/octet-stream" && d.contains('/')
    });
    declared.or_else(|| sniff(bytes)).unwrap_or(fallback).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_formats() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Some("audio/wav"));
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0"), Some("audio/mpeg"));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom"), Some("video/mp4"));
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(media_type(b"\x89PNG\r\n\x1a\n", Some("application/octet-stream"), "x/y"), "image/png");
        assert_eq!(media_type(b"", Some("audio/mpeg; charset=x"), "x/y"), "audio/mpeg");
        assert_eq!(media_type(b"??", None, "video/mp4"), "video/mp4");
    }

    #[test]
    fn sizes_map_to_the_nearest_ratio() {
        let r = &["1:1", "3:4", "4:3", "9:16", "16:9"];
        assert_eq!(aspect_ratio("1024x1024", r), Some("1:1"));
        assert_eq!(aspect_ratio("1792x1024", r), Some("16:9"));
        assert_eq!(aspect_ratio("1024x1792", r), Some("9:16"));
        assert_eq!(aspect_ratio("1536x1024", r), Some("4:3"));
        assert_eq!(aspect_ratio("3:4", r), Some("3:4"));
        assert_eq!(aspect_ratio("auto", r), None);
    }

    #[test]
    fn estimates_tokens_by_characters() {
        let texts = vec!["abcd".to_string(), "abcde".to_string(), String::new()];
        assert_eq!(estimate_tokens(&texts), 1 + 2 + 1);
    }
}
