//! The gateway direction, for its OpenAI-compatible endpoint
//! (`/v1/chat/completions`): a client's wire request to our [`ChatRequest`],
//! and our answers and stream events back to wire objects. The reverse of
//! [`super::convert`]; tool names pass through unchanged (they are the
//! client's own).

use std::collections::HashMap;

use serde_json::json;

use super::convert::{finish_to_wire, thinking_text, usage_to_wire};
use super::types::{self as wire, ChatMessage, MessageContent};
use crate::error::ProviderError;
use crate::model::{
    ChatRequest, ChatResponse, ContentPart, ImageSource, Message, Reasoning, ResponseFormat, Role, StreamEvent,
    ToolCall, ToolChoice, ToolDef, Usage,
};

/// `data: [DONE]`: the payload that ends an OpenAI stream.
pub const DONE: &str = "[DONE]";

/// A client's request in the gateway's terms. Fields the gateway does not
/// model stay in `extra` and reach the upstream verbatim.
pub fn to_chat_request(req: wire::ChatCompletionRequest) -> Result<ChatRequest, ProviderError> {
    // Gemini needs a tool result's function name; OpenAI clients only send the
    // call id, so the name comes from the assistant turn that made the call.
    let mut call_names: HashMap<String, String> = HashMap::new();
    let mut messages = Vec::with_capacity(req.messages.len());
    for m in req.messages {
        messages.push(message_from_wire(m, &mut call_names)?);
    }
    let tools = req
        .tools
        .unwrap_or_default()
        .into_iter()
        .map(|t| ToolDef {
            name: t.function.name,
            description: t.function.description.unwrap_or_default(),
            parameters: t.function.parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            strict: t.function.strict,
            cache_control: None,
        })
        .collect();
    let tool_choice = match req.tool_choice {
        None => None,
        Some(wire::ToolChoice::Named(n)) => Some(ToolChoice::Tool { name: n.function.name }),
        Some(wire::ToolChoice::Mode(m)) => Some(match m.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => return Err(ProviderError::Unsupported(format!("tool_choice \"{other}\""))),
        }),
    };
    let response_format = req.response_format.map(|f| match f {
        wire::ResponseFormat::Text => ResponseFormat::Text,
        wire::ResponseFormat::JsonObject => ResponseFormat::JsonObject,
        wire::ResponseFormat::JsonSchema { json_schema } => ResponseFormat::JsonSchema {
            name: json_schema.name,
            schema: json_schema.schema.unwrap_or_else(|| json!({})),
            strict: json_schema.strict,
        },
    });
    Ok(ChatRequest {
        model: req.model,
        messages,
        tools,
        tool_choice,
        temperature: req.temperature,
        top_p: req.top_p,
        max_tokens: req.max_completion_tokens.or(req.max_tokens),
        stop: match req.stop {
            None => Vec::new(),
            Some(wire::Stop::One(s)) => vec![s],
            Some(wire::Stop::Many(v)) => v,
        },
        response_format,
        reasoning: req.reasoning_effort.map(|effort| Reasoning { effort: Some(effort), budget_tokens: None }),
        stream: req.stream.unwrap_or(false),
        user: req.user,
        extra: req.extra,
    })
}

fn message_from_wire(m: ChatMessage, call_names: &mut HashMap<String, String>) -> Result<Message, ProviderError> {
    let mut out = Message::text(Role::User, "");
    match m {
        ChatMessage::System { content, .. } | ChatMessage::Developer { content, .. } => {
            out.role = Role::System;
            out.content = parts_from_wire(content)?;
        }
        ChatMessage::User { content, .. } => out.content = parts_from_wire(content)?,
        ChatMessage::Assistant { content, reasoning_content, tool_calls, refusal, .. } => {
            out.role = Role::Assistant;
            out.content.clear();
            if let Some(thinking) = reasoning_content.filter(|t| !t.is_empty()) {
                out.content.push(ContentPart::Thinking { thinking, signature: None });
            }
            if let Some(content) = content {
                out.content.extend(parts_from_wire(content)?.into_iter().filter(|p| !is_empty_text(p)));
            }
            if let Some(refusal) = refusal {
                out.content.push(ContentPart::text(refusal));
            }
            for c in tool_calls.unwrap_or_default() {
                call_names.insert(c.id.clone(), c.function.name.clone());
                out.tool_calls.push(ToolCall { id: c.id, name: c.function.name, arguments: c.function.arguments });
            }
        }
        ChatMessage::Tool { content, tool_call_id } => {
            out.role = Role::Tool;
            out.content = parts_from_wire(content)?;
            out.name = call_names.get(&tool_call_id).cloned();
            out.tool_call_id = Some(tool_call_id);
        }
    }
    Ok(out)
}

fn is_empty_text(p: &ContentPart) -> bool {
    matches!(p, ContentPart::Text { text, .. } if text.is_empty())
}

fn parts_from_wire(content: MessageContent) -> Result<Vec<ContentPart>, ProviderError> {
    match content {
        MessageContent::Text(text) => Ok(vec![ContentPart::text(text)]),
        MessageContent::Parts(parts) => parts
            .into_iter()
            .map(|p| match p {
                wire::ContentPart::Text { text } | wire::ContentPart::Refusal { refusal: text } => {
                    Ok(ContentPart::text(text))
                }
                wire::ContentPart::ImageUrl { image_url } => Ok(ContentPart::Image {
                    source: image_source(image_url.url),
                    detail: image_url.detail,
                    cache_control: None,
                }),
                wire::ContentPart::InputAudio { .. } => Err(ProviderError::Unsupported("audio input parts".into())),
                wire::ContentPart::File { .. } => Err(ProviderError::Unsupported("file input parts".into())),
            })
            .collect(),
    }
}

/// A `data:` URL becomes inline bytes (what Anthropic and Gemini need);
/// anything else stays a URL.
pub fn image_source(url: String) -> ImageSource {
    if let Some((media_type, data)) =
        url.strip_prefix("data:").and_then(|rest| rest.split_once(";base64,")).filter(|(mt, _)| !mt.is_empty())
    {
        return ImageSource::Base64 { media_type: media_type.to_string(), data: data.to_string() };
    }
    ImageSource::Url { url }
}

/// Our complete answer as a `chat.completion` object; `created` is a Unix time.
pub fn to_chat_completion(resp: &ChatResponse, created: u64) -> wire::ChatCompletion {
    let text = resp.text();
    let tool_calls = (!resp.tool_calls.is_empty()).then(|| resp.tool_calls.iter().map(tool_call_to_wire).collect());
    wire::ChatCompletion {
        id: resp.id.clone(),
        object: "chat.completion".into(),
        created,
        model: resp.model.clone(),
        choices: vec![wire::Choice {
            index: 0,
            message: wire::ResponseMessage {
                role: "assistant".into(),
                content: (!text.is_empty() || tool_calls.is_none()).then_some(text),
                reasoning_content: thinking_text(&resp.content),
                tool_calls,
                refusal: None,
                annotations: Vec::new(),
            },
            logprobs: None,
            finish_reason: Some(finish_to_wire(&resp.finish_reason).to_string()),
        }],
        usage: Some(usage_to_wire(&resp.usage)),
        service_tier: None,
        system_fingerprint: None,
    }
}

fn tool_call_to_wire(c: &ToolCall) -> wire::ToolCall {
    wire::ToolCall {
        id: c.id.clone(),
        kind: "function".into(),
        function: wire::FunctionCall { name: c.name.clone(), arguments: c.arguments.clone() },
    }
}

/// Writes our stream events as `chat.completion.chunk`s, in OpenAI's order:
/// a role chunk, deltas, a chunk with the finish reason, then (when the client
/// asked for `include_usage`) a usage chunk with no choices from [`Self::finish`].
#[derive(Debug, Clone)]
pub struct ChunkEncoder {
    /// The completion id every chunk carries; taken from the `Start` event unless set.
    pub id: String,
    /// The model every chunk names; taken from the `Start` event unless set.
    pub model: String,
    /// Unix time of the completion.
    pub created: u64,
    include_usage: bool,
    usage: Option<Usage>,
}

impl ChunkEncoder {
    /// An encoder for one stream.
    pub fn new(created: u64, include_usage: bool) -> Self {
        ChunkEncoder { id: String::new(), model: String::new(), created, include_usage, usage: None }
    }

    fn chunk(&self, delta: wire::Delta, finish_reason: Option<String>) -> wire::ChatCompletionChunk {
        wire::ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![wire::ChunkChoice { index: 0, delta, logprobs: None, finish_reason }],
            ..Default::default()
        }
    }

    /// The chunk for one event (`None` for events with no chunk of their own).
    pub fn encode(&mut self, ev: &StreamEvent) -> Option<wire::ChatCompletionChunk> {
        let delta = match ev {
            StreamEvent::Start { id, model } => {
                if self.id.is_empty() {
                    self.id = id.clone();
                }
                if self.model.is_empty() {
                    self.model = model.clone();
                }
                wire::Delta { role: Some("assistant".into()), content: Some(String::new()), ..Default::default() }
            }
            StreamEvent::TextDelta { text } => wire::Delta { content: Some(text.clone()), ..Default::default() },
            StreamEvent::ThinkingDelta { thinking } => {
                wire::Delta { reasoning_content: Some(thinking.clone()), ..Default::default() }
            }
            StreamEvent::ToolCallStart { index, id, name } => wire::Delta {
                tool_calls: Some(vec![wire::ToolCallChunk {
                    index: *index,
                    id: Some(id.clone()),
                    kind: Some("function".into()),
                    function: Some(wire::FunctionCallChunk {
                        name: Some(name.clone()),
                        arguments: Some(String::new()),
                    }),
                }]),
                ..Default::default()
            },
            StreamEvent::ToolCallDelta { index, arguments } => wire::Delta {
                tool_calls: Some(vec![wire::ToolCallChunk {
                    index: *index,
                    function: Some(wire::FunctionCallChunk { name: None, arguments: Some(arguments.clone()) }),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            StreamEvent::Usage { usage } => {
                self.usage = Some(*usage);
                return None;
            }
            StreamEvent::Finish { reason } => {
                return Some(self.chunk(wire::Delta::default(), Some(finish_to_wire(reason).to_string())));
            }
            StreamEvent::ThinkingSignature { .. } => return None,
        };
        Some(self.chunk(delta, None))
    }

    /// The closing usage chunk, when the client asked for one.
    pub fn finish(&mut self) -> Option<wire::ChatCompletionChunk> {
        if !self.include_usage {
            return None;
        }
        let usage = self.usage.take().unwrap_or_default();
        Some(wire::ChatCompletionChunk {
            choices: Vec::new(),
            usage: Some(usage_to_wire(&usage)),
            ..self.chunk(wire::Delta::default(), None)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::FinishReason;

    #[test]
    fn client_request_round_trips_through_the_adapter() {
        let body = json!({
            "model": "gpt-5.2",
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "high"}}
                ]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":1}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "42"}
            ],
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
            "max_tokens": 50,
            "stop": "END",
            "seed": 3,
            "stream": true,
            "stream_options": {"include_usage": true}
        });
        let wire: wire::ChatCompletionRequest = serde_json::from_value(body).unwrap();
        assert_eq!(wire.stream_options.and_then(|o| o.include_usage), Some(true));
        let req = to_chat_request(wire).unwrap();
        assert_eq!(req.messages[0].role, Role::System);
        assert_eq!(
            req.messages[1].content[1],
            ContentPart::Image {
                source: ImageSource::Base64 { media_type: "image/png".into(), data: "AAAA".into() },
                detail: Some("high".into()),
                cache_control: None
            }
        );
        assert!(req.messages[2].content.is_empty());
        assert_eq!(req.messages[2].tool_calls[0].arguments, "{\"q\":1}");
        assert_eq!(req.messages[3].name.as_deref(), Some("lookup"));
        assert_eq!(req.tool_choice, Some(ToolChoice::Required));
        assert_eq!((req.max_tokens, req.stop.clone(), req.stream), (Some(50), vec!["END".to_string()], true));
        assert_eq!(req.extra.get("seed"), Some(&json!(3)));
        assert!(!req.extra.contains_key("stream_options"));
    }

    #[test]
    fn stream_events_become_openai_chunks() {
        let mut enc = ChunkEncoder::new(1_700_000_000, true);
        let events = [
            StreamEvent::Start { id: "chatcmpl-1".into(), model: "m".into() },
            StreamEvent::ToolCallStart { index: 0, id: "c1".into(), name: "f".into() },
            StreamEvent::ToolCallDelta { index: 0, arguments: "{}".into() },
            StreamEvent::Usage { usage: Usage { input_tokens: 3, output_tokens: 2, ..Default::default() } },
            StreamEvent::Finish { reason: FinishReason::ToolCalls },
        ];
        let mut chunks: Vec<_> = events.iter().filter_map(|e| enc.encode(e)).collect();
        chunks.extend(enc.finish());
        let v: Vec<_> = chunks.iter().map(|c| serde_json::to_value(c).unwrap()).collect();
        assert_eq!(v.len(), 5);
        assert_eq!(v[0]["choices"][0]["delta"], json!({"role":"assistant","content":""}));
        assert_eq!(v[1]["choices"][0]["delta"]["tool_calls"][0]["function"], json!({"name":"f","arguments":""}));
        assert_eq!(v[2]["choices"][0]["delta"]["tool_calls"][0], json!({"index":0,"function":{"arguments":"{}"}}));
        assert_eq!(v[3]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(v[4]["choices"], json!([]));
        assert_eq!(v[4]["usage"]["total_tokens"], 5);
        assert!(v.iter().all(|c| c["id"] == "chatcmpl-1" && c["object"] == "chat.completion.chunk"));
    }
}
