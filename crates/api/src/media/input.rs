//! Request bodies of the media routes: the native `/api/v1/media/*` shapes
//! (strict: an unknown field is a 422 naming it) and OpenAI's shapes on
//! `/v1/*` (lenient: fields the gateway does not model are ignored, as
//! clients send vendor extras), plus the multipart form of transcriptions.

use std::collections::HashMap;

use axum::extract::Multipart;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

/// Largest audio file accepted for transcription (OpenAI's limit).
pub const MAX_AUDIO_BYTES: usize = 25 * 1024 * 1024;
/// Most images per request.
pub const MAX_IMAGES: u32 = 10;

/// One text or a list of texts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Texts {
    One(String),
    Many(Vec<String>),
}

impl Texts {
    /// The texts, checked: at least one, none empty, at most 2048.
    pub fn into_vec(self) -> ApiResult<Vec<String>> {
        let v = match self {
            Texts::One(s) => vec![s],
            Texts::Many(v) => v,
        };
        if v.is_empty() || v.len() > 2048 {
            return Err(ApiError::field("input", "give 1 to 2048 texts"));
        }
        if v.iter().any(|t| t.is_empty()) {
            return Err(ApiError::field("input", "texts must not be empty"));
        }
        Ok(v)
    }
}

/// The body of `POST /api/v1/media/embeddings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsBody {
    /// `provider/model_code`, or a code (with `provider`, or unique across providers).
    pub model: String,
    pub provider: Option<String>,
    pub input: Texts,
    pub dimensions: Option<u32>,
}

/// The body of `POST /api/v1/media/images`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagesBody {
    pub model: String,
    pub provider: Option<String>,
    pub prompt: String,
    /// 1 to 10 (default 1).
    pub n: Option<u32>,
    /// `WIDTHxHEIGHT` (or an aspect ratio such as `16:9` for providers that take one).
    pub size: Option<String>,
    pub quality: Option<String>,
    pub style: Option<String>,
    pub negative_prompt: Option<String>,
    /// `url` (stored, the default) or `b64_json`.
    pub response_format: Option<String>,
}

/// The body of `POST /api/v1/media/speech`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeechBody {
    pub model: String,
    pub provider: Option<String>,
    pub input: String,
    pub voice: Option<String>,
    /// Audio format: `mp3`, `wav`, `opus`, `aac`, `flac`, `pcm` (Gemini speech always gives `wav` or `pcm`).
    pub format: Option<String>,
    pub speed: Option<f32>,
    pub instructions: Option<String>,
    /// `url` (stored, the default) or `b64_json`.
    pub response_format: Option<String>,
}

/// The body of `POST /api/v1/media/music`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MusicBody {
    pub model: String,
    pub provider: Option<String>,
    pub prompt: String,
    /// `mp3` or `wav`, where the model offers both.
    pub format: Option<String>,
    pub response_format: Option<String>,
}

/// The body of `POST /api/v1/media/videos`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoBody {
    pub model: String,
    pub provider: Option<String>,
    pub prompt: String,
    pub duration_seconds: Option<u32>,
    pub aspect_ratio: Option<String>,
    pub resolution: Option<String>,
    pub negative_prompt: Option<String>,
    pub response_format: Option<String>,
}

/// OpenAI's `POST /v1/embeddings` body.
#[derive(Debug, Deserialize)]
pub struct OpenAiEmbeddings {
    pub model: String,
    pub input: Value,
    /// `float` (default) or `base64`.
    pub encoding_format: Option<String>,
    pub dimensions: Option<u32>,
    pub user: Option<String>,
}

/// OpenAI's `POST /v1/images/generations` body.
#[derive(Debug, Deserialize)]
pub struct OpenAiImages {
    pub model: Option<String>,
    pub prompt: String,
    pub n: Option<u32>,
    pub size: Option<String>,
    pub quality: Option<String>,
    pub style: Option<String>,
    pub response_format: Option<String>,
    pub user: Option<String>,
}

/// OpenAI's `POST /v1/audio/speech` body.
#[derive(Debug, Deserialize)]
pub struct OpenAiSpeech {
    pub model: String,
    pub input: String,
    /// A voice name, or `{"id": ...}` for a custom voice.
    pub voice: Value,
    pub response_format: Option<String>,
    pub speed: Option<f32>,
    pub instructions: Option<String>,
}

/// The number of images asked for, checked.
pub fn image_count(n: Option<u32>) -> ApiResult<u32> {
    match n.unwrap_or(1) {
        n @ 1..=MAX_IMAGES => Ok(n),
        _ => Err(ApiError::field("n", format!("must be between 1 and {MAX_IMAGES}"))),
    }
}

/// A text field that must not be empty.
pub fn required(field: &str, value: &str) -> ApiResult<()> {
    if value.trim().is_empty() {
        return Err(ApiError::field(field, "is required"));
    }
    Ok(())
}

/// A multipart form with one file (`file`) and text fields.
pub struct Form {
    pub file: Option<(String, Option<String>, Bytes)>,
    pub fields: HashMap<String, String>,
}

impl Form {
    /// Reads the form, refusing a file larger than [`MAX_AUDIO_BYTES`].
    pub async fn read(mut form: Multipart) -> ApiResult<Form> {
        let mut out = Form { file: None, fields: HashMap::new() };
        while let Some(field) = form.next_field().await.map_err(|e| ApiError::BadRequest(e.body_text()))? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" {
                let filename = field.file_name().unwrap_or("audio").to_string();
                let mime = field.content_type().map(str::to_owned).filter(|m| m != "application/octet-stream");
                let bytes = field.bytes().await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
                if bytes.len() > MAX_AUDIO_BYTES {
                    return Err(ApiError::PayloadTooLarge(MAX_AUDIO_BYTES));
                }
                out.file = Some((filename, mime, bytes));
            } else {
                let text = field.text().await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
                out.fields.insert(name, text);
            }
        }
        Ok(out)
    }

    /// A text field, when present and not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.fields.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// A number field.
    pub fn number(&self, name: &str) -> ApiResult<Option<f32>> {
        self.text(name)
            .map(|v| v.trim().parse::<f32>().map_err(|_| ApiError::field(name, "must be a number")))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_counts_are_checked() {
        assert_eq!(Texts::One("a".into()).into_vec().ok(), Some(vec!["a".to_string()]));
        assert!(Texts::Many(vec![]).into_vec().is_err());
        assert!(Texts::Many(vec![String::new()]).into_vec().is_err());
        assert_eq!(image_count(None).ok(), Some(1));
        assert!(image_count(Some(0)).is_err() && image_count(Some(11)).is_err());
    }
}
