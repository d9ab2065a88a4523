//! OpenAI Responses API wire types (`POST /v1/responses`): the subset the
//! gateway sends and reads. Output items and stream events it does not use
//! (web search calls, audio, ...) parse as `Other` and are skipped.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The body of `POST /responses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CreateResponse {
    pub model: String,
    pub input: Vec<InputItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<FunctionTool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextParam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<ReasoningParam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Fields the gateway does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Field names [`CreateResponse`] models itself.
pub const TYPED_REQUEST_FIELDS: &[&str] = &[
    "model",
    "input",
    "tools",
    "tool_choice",
    "text",
    "temperature",
    "top_p",
    "max_output_tokens",
    "reasoning",
    "user",
    "stream",
];

/// One item of `input`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputItem {
    /// A message; `role` is `user`, `assistant`, `system` or `developer`.
    Message { role: String, content: InputContent },
    /// A tool call the model made earlier, sent back with the conversation.
    FunctionCall { call_id: String, name: String, arguments: String },
    /// The result of a tool call.
    FunctionCallOutput { call_id: String, output: String },
}

/// Message content: a plain string or typed parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InputContent {
    Text(String),
    Parts(Vec<InputPart>),
}

/// One typed part of an input message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputPart {
    InputText {
        text: String,
    },
    /// `detail` is required by the API (`auto`, `low`, `high`).
    InputImage {
        image_url: String,
        detail: String,
    },
}

/// A function tool (Responses tools are flat, not nested under `function`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub parameters: Value,
    /// Required by the API, and `true` when omitted, which would reject most
    /// gateway schemas: always sent explicitly.
    pub strict: bool,
}

/// `tool_choice`: a mode, or a named function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    Mode(String),
    Function {
        #[serde(rename = "type")]
        kind: String,
        name: String,
    },
}

/// `text`: the output format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextParam {
    pub format: TextFormat,
}

/// `text.format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TextFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        schema: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
}

/// `reasoning`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasoningParam {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
}

/// A response object (also inside `response.*` stream events).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Response {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    /// `completed`, `incomplete`, `failed`, `in_progress`, ...
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub output: Vec<OutputItem>,
    #[serde(default)]
    pub usage: Option<ResponseUsage>,
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    #[serde(default)]
    pub error: Option<ResponseError>,
}

/// One item of `output`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    Message {
        #[serde(default)]
        content: Vec<OutputContent>,
    },
    FunctionCall {
        call_id: String,
        name: String,
        #[serde(default)]
        arguments: String,
    },
    Reasoning {
        #[serde(default)]
        summary: Vec<SummaryText>,
    },
    /// Built-in tool calls and other items the gateway does not use.
    #[serde(other)]
    Other,
}

/// One part of an output message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputContent {
    OutputText {
        text: String,
    },
    Refusal {
        refusal: String,
    },
    #[serde(other)]
    Other,
}

/// A reasoning summary part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryText {
    #[serde(default)]
    pub text: String,
}

/// `usage` of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResponseUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub input_tokens_details: Option<InputTokensDetails>,
    #[serde(default)]
    pub output_tokens_details: Option<OutputTokensDetails>,
}

/// `usage.input_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InputTokensDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

/// `usage.output_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OutputTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

/// Why a response is `incomplete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct IncompleteDetails {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Why a response `failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ResponseError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: String,
}

/// `response.created`, `.completed`, `.incomplete`, `.failed`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResponseEvent {
    pub response: Response,
}

/// `response.output_item.added`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OutputItemAdded {
    pub output_index: u32,
    pub item: OutputItem,
}

/// `response.output_text.delta`, `.refusal.delta`, `.reasoning_summary_text.delta`,
/// `.function_call_arguments.delta`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeltaEvent {
    #[serde(default)]
    pub output_index: u32,
    pub delta: String,
}

/// The `error` stream event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorEvent {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: String,
}

/// Just the `type` of a stream event, for events that do not name it in `event:`.
#[derive(Debug, Deserialize)]
pub struct EventType<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: std::borrow::Cow<'a, str>,
}
