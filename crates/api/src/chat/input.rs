//! The request body of `/api/v1/chat` and its translation into the internal model.

use serde::Deserialize;
use serde_json::Value;
use spgw_providers::{ContentPart, ImageSource, Message, ResponseFormat, Role, ToolCall, ToolDef};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

/// Message content: a string, or a list of parts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    #[schema(value_type = Vec<Object>)]
    Parts(Vec<Value>),
}

/// A message as clients send it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    #[serde(default)]
    pub content: Option<Content>,
    /// Assistant tool calls: `[{id, name, arguments}]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub tool_calls: Vec<Value>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// Client-supplied MCP configuration, stored with the session.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// Tool definitions: `[{name, description, parameters | input_schema}]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<Value>,
    /// Extra instructions appended to the system prompt.
    #[serde(default)]
    pub instructions: Option<String>,
    /// Operations the client allows (e.g. built-in tool names).
    #[serde(default)]
    pub operations: Vec<String>,
}

/// The body of `POST /api/v1/chat`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    pub system_message: Option<String>,
    pub user_message: Option<String>,
    #[serde(default)]
    pub messages: Vec<InMessage>,
    pub mcp_config: Option<McpConfig>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// `"json_object"`, `{"type":"json_object"}` or `{"type":"json_schema","json_schema":{name,schema}}`.
    #[schema(value_type = Option<Object>)]
    pub response_format: Option<Value>,
    #[serde(default)]
    pub stream: bool,
    /// The end user on whose behalf the call is made (forwarded to the provider).
    #[schema(value_type = Option<String>)]
    pub user_id: Option<Value>,
}

/// Query parameters of `POST /api/v1/chat`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChatQuery {
    /// Provider name (required unless `session` or `agent_id` is given).
    pub provider: Option<String>,
    /// Model code (required with `provider`).
    pub model: Option<String>,
    /// Use this agent's models in priority order, its soul and context.
    pub agent_id: Option<i64>,
    /// Continue this session.
    pub session: Option<String>,
    /// `completion`, `chat` (default) or `conversation`.
    pub operation: Option<String>,
    /// Bind the chat to a task; reuses the task's session when it has one.
    pub task_id: Option<i64>,
}

/// The operation of a chat call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Completion,
    Chat,
    Conversation,
}

impl Operation {
    /// Parses the `operation` parameter.
    pub fn parse(s: Option<&str>) -> ApiResult<Self> {
        match s.unwrap_or("chat") {
            "completion" => Ok(Operation::Completion),
            "chat" => Ok(Operation::Chat),
            "conversation" => Ok(Operation::Conversation),
            other => {
                Err(ApiError::field("operation", format!("must be completion, chat or conversation, not {other:?}")))
            }
        }
    }
}

fn role(s: &str, i: usize) -> ApiResult<Role> {
    match s {
        "system" | "developer" => Ok(Role::System),
        "user" => Ok(Role::User),
        "assistant" => Ok(Role::Assistant),
        "tool" => Ok(Role::Tool),
        _ => Err(ApiError::field(format!("messages[{i}].role"), "must be system, user, assistant or tool")),
    }
}

fn part(v: &Value, at: &str) -> ApiResult<ContentPart> {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("text");
    let cache_control = v.get("cache_control").cloned();
    match kind {
        "text" => {
            let text =
                v.get("text").and_then(Value::as_str).ok_or_else(|| ApiError::field(at, "text part needs text"))?;
            Ok(ContentPart::Text { text: text.to_string(), cache_control })
        }
        "image_url" | "image" => {
            let url = v
                .get("image_url")
                .and_then(|u| u.get("url").or(Some(u)))
                .and_then(Value::as_str)
                .or_else(|| v.get("url").and_then(Value::as_str))
                .ok_or_else(|| ApiError::field(at, "image part needs image_url.url"))?;
            let detail = v.get("image_url").and_then(|u| u.get("detail")).and_then(Value::as_str).map(str::to_owned);
            Ok(ContentPart::Image { source: ImageSource::Url { url: url.to_string() }, detail, cache_control })
        }
        other => Err(ApiError::field(at, format!("unknown content part type {other:?}"))),
    }
}

/// Converts client messages.
pub fn messages(input: &[InMessage]) -> ApiResult<Vec<Message>> {
    let mut out = Vec::with_capacity(input.len());
    for (i, m) in input.iter().enumerate() {
        let content = match &m.content {
            None => Vec::new(),
            Some(Content::Text(t)) => vec![ContentPart::text(t.clone())],
            Some(Content::Parts(parts)) => parts
                .iter()
                .enumerate()
                .map(|(j, p)| part(p, &format!("messages[{i}].content[{j}]")))
                .collect::<ApiResult<_>>()?,
        };
        let mut tool_calls = Vec::with_capacity(m.tool_calls.len());
        for (j, c) in m.tool_calls.iter().enumerate() {
            let at = format!("messages[{i}].tool_calls[{j}]");
            let f = c.get("function").unwrap_or(c);
            let name = f.get("name").and_then(Value::as_str).ok_or_else(|| ApiError::field(&at, "needs a name"))?;
            let arguments = match f.get("arguments") {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => "{}".into(),
            };
            let id = c.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            tool_calls.push(ToolCall { id, name: name.to_string(), arguments });
        }
        let role = role(&m.role, i)?;
        if role == Role::Tool && m.tool_call_id.is_none() {
            return Err(ApiError::field(format!("messages[{i}].tool_call_id"), "is required for tool messages"));
        }
        out.push(Message {
            role,
            content,
            tool_calls,
            tool_call_id: m.tool_call_id.clone(),
            name: m.name.clone(),
            is_error: false,
        });
    }
    Ok(out)
}

/// Converts MCP tool definitions.
pub fn tools(cfg: Option<&McpConfig>) -> ApiResult<Vec<ToolDef>> {
    let Some(cfg) = cfg else { return Ok(Vec::new()) };
    cfg.tools
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let f = t.get("function").unwrap_or(t);
            let name =
                f.get("name").and_then(Value::as_str).filter(|n| !n.is_empty() && n.len() <= 128).ok_or_else(|| {
                    ApiError::field(format!("mcp_config.tools[{i}].name"), "is required (1-128 characters)")
                })?;
            let parameters = f
                .get("parameters")
                .or_else(|| f.get("input_schema"))
                .or_else(|| f.get("inputSchema"))
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
            Ok(ToolDef {
                name: name.to_string(),
                description: f.get("description").and_then(Value::as_str).unwrap_or_default().to_string(),
                parameters,
                strict: None,
                cache_control: t.get("cache_control").cloned(),
            })
        })
        .collect()
}

/// Parses `response_format`.
pub fn response_format(v: Option<&Value>) -> ApiResult<Option<ResponseFormat>> {
    let Some(v) = v else { return Ok(None) };
    let kind = v.as_str().or_else(|| v.get("type").and_then(Value::as_str));
    match kind {
        Some("text") => Ok(Some(ResponseFormat::Text)),
        Some("json_object") | Some("json") => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_schema") => {
            let js = v.get("json_schema").unwrap_or(v);
            let schema = js
                .get("schema")
                .cloned()
                .ok_or_else(|| ApiError::field("response_format.json_schema.schema", "is required"))?;
            let name = js.get("name").and_then(Value::as_str).unwrap_or("response").to_string();
            Ok(Some(ResponseFormat::JsonSchema { name, schema, strict: js.get("strict").and_then(Value::as_bool) }))
        }
        _ => Err(ApiError::field("response_format", "must be text, json_object or json_schema")),
    }
}
