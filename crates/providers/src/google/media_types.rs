//! Gemini API media wire types: `embedContent` / `batchEmbedContents`, Imagen
//! `predict`, Veo `predictLongRunning` and its operation, and the inline
//! audio or image parts of a `generateContent` answer (speech, Lyria, Gemini
//! image models). Request bodies borrow from the internal request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Text content of an embedding request: `{"parts":[{"text"}]}`.
#[derive(Debug, Serialize)]
pub struct TextContent<'a> {
    pub parts: [TextPart<'a>; 1],
}

/// `{"text": ...}`.
#[derive(Debug, Serialize)]
pub struct TextPart<'a> {
    pub text: &'a str,
}

/// The body of `models/{model}:embedContent`, and one entry of a batch.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedContentBody<'a> {
    /// `models/{model}`: required inside a batch, absent on `embedContent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'a str>,
    pub content: TextContent<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimensionality: Option<u32>,
}

/// The body of `models/{model}:batchEmbedContents`.
#[derive(Debug, Serialize)]
pub struct BatchEmbedBody<'a> {
    pub requests: Vec<EmbedContentBody<'a>>,
}

/// One embedding.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct ContentEmbedding {
    #[serde(default)]
    pub values: Vec<f32>,
}

/// The answer of `embedContent`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EmbedContentResponse {
    pub embedding: ContentEmbedding,
}

/// The answer of `batchEmbedContents`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchEmbedResponse {
    #[serde(default)]
    pub embeddings: Vec<ContentEmbedding>,
}

/// The answer of Imagen's `models/{model}:predict`.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct PredictResponse {
    #[serde(default)]
    pub predictions: Vec<Prediction>,
}

/// One generated image, or the reason it was filtered out.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    #[serde(default)]
    pub bytes_base64_encoded: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub rai_filtered_reason: Option<String>,
}

/// A long-running operation (`predictLongRunning`, then `GET v1beta/{name}`).
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct Operation {
    pub name: String,
    #[serde(default)]
    pub done: bool,
    #[serde(default)]
    pub error: Option<Status>,
    #[serde(default)]
    pub response: Option<VideoOperationResponse>,
}

/// A `google.rpc.Status`.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct Status {
    #[serde(default)]
    pub code: i32,
    #[serde(default)]
    pub message: String,
}

/// The response of a finished Veo operation.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct VideoOperationResponse {
    #[serde(default)]
    pub generate_video_response: Option<GenerateVideoResponse>,
}

/// `generateVideoResponse`: the samples, or why they were filtered.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GenerateVideoResponse {
    #[serde(default)]
    pub generated_samples: Vec<GeneratedSample>,
    #[serde(default)]
    pub rai_media_filtered_count: Option<u32>,
    #[serde(default)]
    pub rai_media_filtered_reasons: Vec<String>,
}

/// One video sample.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct GeneratedSample {
    #[serde(default)]
    pub video: Option<VideoFile>,
}

/// A video by Files API URI, or inline.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct VideoFile {
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub encoded_video: Option<String>,
    #[serde(default)]
    pub encoding: Option<String>,
}

/// A `generateContent` answer, reduced to what media output needs.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MediaContentResponse {
    #[serde(default)]
    pub candidates: Vec<MediaCandidate>,
    #[serde(default)]
    pub usage_metadata: Option<MediaUsage>,
    #[serde(default)]
    pub prompt_feedback: Option<Value>,
}

/// One candidate of a media answer.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MediaCandidate {
    #[serde(default)]
    pub content: Option<MediaContent>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// The parts of a candidate.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct MediaContent {
    #[serde(default)]
    pub parts: Vec<MediaPart>,
}

/// Text or inline bytes.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MediaPart {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thought: bool,
    #[serde(default)]
    pub inline_data: Option<InlineData>,
}

/// `inlineData`: base64 bytes and their media type.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InlineData {
    #[serde(default)]
    pub mime_type: String,
    pub data: String,
}

/// `usageMetadata` of a media answer.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MediaUsage {
    #[serde(default)]
    pub prompt_token_count: u64,
    #[serde(default)]
    pub candidates_token_count: u64,
}
