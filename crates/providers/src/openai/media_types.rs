//! OpenAI media wire types: `POST /embeddings`, `/images/generations`,
//! `/audio/transcriptions`, `/audio/speech`, and the audio parts of a Chat
//! Completions answer. Request bodies borrow from the internal request (no
//! copies of inputs); answers also serialize, so the gateway's
//! OpenAI-compatible endpoints write them with the same structs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The body of `POST /embeddings`.
#[derive(Debug, Serialize)]
pub struct EmbeddingBody<'a> {
    pub model: &'a str,
    pub input: &'a [String],
    /// `float` or `base64` (little-endian f32, a quarter of the JSON size).
    pub encoding_format: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
}

/// The answer of `POST /embeddings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    #[serde(default = "list")]
    pub object: String,
    pub data: Vec<EmbeddingData>,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub usage: Option<EmbeddingUsage>,
}

fn list() -> String {
    "list".into()
}

/// One vector of an embeddings answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingData {
    #[serde(default = "embedding")]
    pub object: String,
    #[serde(default)]
    pub index: usize,
    pub embedding: EmbeddingVector,
}

fn embedding() -> String {
    "embedding".into()
}

/// A vector as floats, or as base64 of little-endian f32 (`encoding_format: base64`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    Float(Vec<f32>),
    Base64(String),
}

/// Token usage of an embeddings call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct EmbeddingUsage {
    pub prompt_tokens: u64,
    pub total_tokens: u64,
}

/// The body of `POST /images/generations`.
#[derive(Debug, Serialize)]
pub struct ImageBody<'a> {
    pub model: &'a str,
    pub prompt: &'a str,
    pub n: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<&'a str>,
    /// Only DALL-E takes it (GPT image models always answer base64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
}

/// The answer of `POST /images/generations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ImagesResponse {
    /// Unix seconds (xAI leaves it out).
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub data: Vec<ImageData>,
    /// `png`, `jpeg`, `webp` (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ImageUsage>,
}

/// One image of an images answer: inline or by URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ImageData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
}

/// Token usage of a GPT image model call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct ImageUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// The body of `POST /audio/speech`.
#[derive(Debug, Serialize)]
pub struct SpeechBody<'a> {
    pub model: &'a str,
    pub input: &'a str,
    pub voice: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<&'a str>,
}

/// The JSON answers of `POST /audio/transcriptions` (`json`, `verbose_json`, `diarized_json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TranscriptionResponse {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TranscriptionUsage>,
}

/// Usage of a transcription: `{"type":"duration","seconds"}` (Whisper) or
/// `{"type":"tokens","input_tokens","output_tokens","total_tokens"}` (GPT-4o).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TranscriptionUsage {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
}

/// The part of a Chat Completions answer that carries generated audio.
#[derive(Debug, Clone, Deserialize)]
pub struct AudioChatCompletion {
    pub choices: Vec<AudioChoice>,
    #[serde(default)]
    pub usage: Option<AudioChatUsage>,
}

/// One choice of an audio chat answer.
#[derive(Debug, Clone, Deserialize)]
pub struct AudioChoice {
    pub message: AudioMessage,
}

/// An assistant message with `audio` (`modalities: ["text","audio"]`).
#[derive(Debug, Clone, Deserialize)]
pub struct AudioMessage {
    #[serde(default)]
    pub audio: Option<MessageAudio>,
}

/// `message.audio`: base64 audio in the requested format and its transcript.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageAudio {
    pub data: String,
    #[serde(default)]
    pub transcript: Option<String>,
}

/// Token usage of an audio chat answer.
#[derive(Debug, Clone, Copy, Deserialize, Default)]
pub struct AudioChatUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
}
