//! The reverse direction, for the gateway's Anthropic-compatible `/v1/messages`
//! endpoint: an Anthropic request to our [`ChatRequest`], our answer to an
//! Anthropic response, our stream events to Anthropic's SSE events, and our
//! errors to Anthropic's error body.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::types::{
    AssistantRole, BlockDelta, ContentBlock, ErrorDetail, ErrorResponse, ImageSource as WireImage, MessageDeltaBody,
    MessagesRequest, MessagesResponse, System, ToolChoice as WireToolChoice, WireContent, WireRole, WireStreamEvent,
    WireUsage,
};
use crate::error::ProviderError;
use crate::model::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, ImageSource, Message, Reasoning, Role, ToolCall, ToolChoice,
    ToolDef, Usage,
};

fn message(role: Role, content: Vec<ContentPart>) -> Message {
    Message { role, content, tool_calls: Vec::new(), tool_call_id: None, name: None, is_error: false }
}

fn invalid(message: String) -> ProviderError {
    ProviderError::InvalidRequest { status: 400, message, body: String::new() }
}

/// An Anthropic request in our terms. What our model cannot express is kept in
/// `extra` verbatim (unknown fields, non-`enabled` thinking, `disable_parallel_tool_use`).
pub fn chat_request(wire: MessagesRequest) -> Result<ChatRequest, ProviderError> {
    let mut messages = Vec::with_capacity(wire.messages.len() + 1);
    match wire.system {
        Some(System::Text(text)) => messages.push(Message::text(Role::System, text)),
        Some(System::Blocks(blocks)) => {
            let parts = blocks
                .into_iter()
                .map(|b| match b {
                    ContentBlock::Text { text, cache_control } => Ok(ContentPart::Text { text, cache_control }),
                    other => Err(invalid(format!("system: unsupported block {}", block_type(&other)))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            messages.push(message(Role::System, parts));
        }
        None => {}
    }

    // Tool results name only the call id; Gemini needs the tool name too.
    let mut call_names: HashMap<String, String> = HashMap::new();
    for m in wire.messages {
        let blocks = match m.content {
            WireContent::Text(text) => vec![ContentBlock::text(text)],
            WireContent::Blocks(blocks) => blocks,
        };
        match m.role {
            WireRole::User => user_turn(blocks, &call_names, &mut messages)?,
            WireRole::Assistant => messages.push(assistant_turn(blocks, &mut call_names)?),
        }
    }

    let mut extra = wire.extra;
    let tool_choice = wire.tool_choice.map(|c| {
        let parallel_flag = match &c {
            WireToolChoice::Auto { disable_parallel_tool_use: d }
            | WireToolChoice::Any { disable_parallel_tool_use: d }
            | WireToolChoice::Tool { disable_parallel_tool_use: d, .. } => d.is_some(),
            WireToolChoice::None => false,
        };
        if parallel_flag && let Ok(v) = serde_json::to_value(&c) {
            extra.insert("tool_choice".into(), v);
        }
        match c {
            WireToolChoice::Auto { .. } => ToolChoice::Auto,
            WireToolChoice::Any { .. } => ToolChoice::Required,
            WireToolChoice::Tool { name, .. } => ToolChoice::Tool { name },
            WireToolChoice::None => ToolChoice::None,
        }
    });
    let reasoning = match wire.thinking {
        Some(t) if t.kind == "enabled" => Some(Reasoning { effort: None, budget_tokens: t.budget_tokens }),
        Some(t) => {
            if let Ok(v) = serde_json::to_value(&t) {
                extra.insert("thinking".into(), v);
            }
            None
        }
        None => None,
    };

    Ok(ChatRequest {
        model: wire.model,
        messages,
        tools: wire
            .tools
            .into_iter()
            .map(|t| ToolDef {
                name: t.name,
                description: t.description.unwrap_or_default(),
                parameters: t.input_schema,
                strict: None,
                cache_control: t.cache_control,
            })
            .collect(),
        tool_choice,
        temperature: wire.temperature,
        top_p: wire.top_p,
        max_tokens: Some(wire.max_tokens),
        stop: wire.stop_sequences,
        response_format: None,
        reasoning,
        stream: wire.stream.unwrap_or(false),
        user: wire.metadata.and_then(|m| m.user_id),
        extra,
    })
}

fn block_type(b: &ContentBlock) -> String {
    serde_json::to_value(b)
        .ok()
        .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// A user turn: its tool results become tool messages, the rest one user message,
/// keeping their order.
fn user_turn(
    blocks: Vec<ContentBlock>,
    call_names: &HashMap<String, String>,
    out: &mut Vec<Message>,
) -> Result<(), ProviderError> {
    let mut parts = Vec::new();
    for b in blocks {
        match b {
            ContentBlock::Text { text, cache_control } => parts.push(ContentPart::Text { text, cache_control }),
            ContentBlock::Image { source, cache_control } => {
                parts.push(ContentPart::Image { source: image_source(source), detail: None, cache_control })
            }
            ContentBlock::ToolResult { tool_use_id, content, is_error, cache_control } => {
                if !parts.is_empty() {
                    out.push(message(Role::User, std::mem::take(&mut parts)));
                }
                let mut content = match content {
                    None => Vec::new(),
                    Some(WireContent::Text(text)) => vec![ContentPart::text(text)],
                    Some(WireContent::Blocks(blocks)) => {
                        let mut inner = Vec::new();
                        user_turn(blocks, call_names, &mut inner)?;
                        inner.into_iter().flat_map(|m| m.content).collect()
                    }
                };
                // Our model keeps cache_control on parts; the adapter hoists it back.
                if let Some(cc) = cache_control
                    && let Some(ContentPart::Text { cache_control, .. } | ContentPart::Image { cache_control, .. }) =
                        content.last_mut()
                {
                    *cache_control = Some(cc);
                }
                let name = call_names.get(&tool_use_id).cloned();
                out.push(Message {
                    role: Role::Tool,
                    content,
                    tool_calls: Vec::new(),
                    tool_call_id: Some(tool_use_id),
                    name,
                    is_error: is_error.unwrap_or(false),
                });
            }
            other => return Err(invalid(format!("user turn: unsupported block {}", block_type(&other)))),
        }
    }
    if !parts.is_empty() {
        out.push(message(Role::User, parts));
    }
    Ok(())
}

fn assistant_turn(
    blocks: Vec<ContentBlock>,
    call_names: &mut HashMap<String, String>,
) -> Result<Message, ProviderError> {
    let mut msg = message(Role::Assistant, Vec::with_capacity(blocks.len()));
    for b in blocks {
        match b {
            ContentBlock::Text { text, cache_control } => msg.content.push(ContentPart::Text { text, cache_control }),
            ContentBlock::Thinking { thinking, signature } => {
                msg.content.push(ContentPart::Thinking { thinking, signature })
            }
            ContentBlock::RedactedThinking { data } => msg.content.push(ContentPart::RedactedThinking { data }),
            ContentBlock::ToolUse { id, name, input, .. } => {
                call_names.insert(id.clone(), name.clone());
                msg.tool_calls.push(ToolCall { id, name, arguments: input.to_string() });
            }
            other => return Err(invalid(format!("assistant turn: unsupported block {}", block_type(&other)))),
        }
    }
    Ok(msg)
}

fn image_source(source: WireImage) -> ImageSource {
    match source {
        WireImage::Base64 { media_type, data } => ImageSource::Base64 { media_type, data },
        WireImage::Url { url } => ImageSource::Url { url },
    }
}

/// Our finish reason as Anthropic's `stop_reason`.
pub fn stop_reason(reason: &FinishReason) -> String {
    match reason {
        FinishReason::Stop => "end_turn".into(),
        FinishReason::Length => "max_tokens".into(),
        FinishReason::ToolCalls => "tool_use".into(),
        FinishReason::ContentFilter => "refusal".into(),
        FinishReason::Other(other) => other.clone(),
    }
}

/// Our usage in Anthropic's terms (its `input_tokens` excludes cache reads and writes).
pub fn wire_usage(u: &Usage) -> WireUsage {
    WireUsage {
        input_tokens: Some(u.input_tokens.saturating_sub(u.cached_input_tokens + u.cache_creation_input_tokens)),
        cache_creation_input_tokens: Some(u.cache_creation_input_tokens),
        cache_read_input_tokens: Some(u.cached_input_tokens),
        output_tokens: u.output_tokens,
    }
}

fn arguments_object(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    }
}

/// A complete answer as an Anthropic response.
pub fn messages_response(resp: &ChatResponse) -> MessagesResponse {
    let mut content = Vec::with_capacity(resp.content.len() + resp.tool_calls.len());
    for p in &resp.content {
        match p {
            ContentPart::Text { text, .. } => content.push(ContentBlock::text(text.clone())),
            ContentPart::Thinking { thinking, signature } => {
                content.push(ContentBlock::Thinking { thinking: thinking.clone(), signature: signature.clone() })
            }
            ContentPart::RedactedThinking { data } => {
                content.push(ContentBlock::RedactedThinking { data: data.clone() })
            }
            ContentPart::Image { .. } => {}
        }
    }
    for c in &resp.tool_calls {
        content.push(ContentBlock::ToolUse {
            id: c.id.clone(),
            name: c.name.clone(),
            input: arguments_object(&c.arguments),
            cache_control: None,
        });
    }
    MessagesResponse {
        id: resp.id.clone(),
        kind: "message".into(),
        role: AssistantRole::Assistant,
        content,
        model: resp.model.clone(),
        stop_reason: Some(stop_reason(&resp.finish_reason)),
        stop_sequence: None,
        usage: wire_usage(&resp.usage),
    }
}

/// An error as Anthropic's HTTP status and body.
pub fn error_response(err: &ProviderError) -> (u16, ErrorResponse) {
    let (status, kind) = match err {
        ProviderError::Auth { status: 403, .. } => (403, "permission_error"),
        ProviderError::Auth { .. } => (401, "authentication_error"),
        ProviderError::RateLimited { .. } => (429, "rate_limit_error"),
        ProviderError::InvalidRequest { status: 404, .. } => (404, "not_found_error"),
        ProviderError::InvalidRequest { status: 413, .. } => (413, "request_too_large"),
        ProviderError::InvalidRequest { .. } | ProviderError::Unsupported(_) => (400, "invalid_request_error"),
        ProviderError::Upstream { status: 529, .. } => (529, "overloaded_error"),
        ProviderError::Upstream { status, .. } => (*status, "api_error"),
        ProviderError::Timeout => (504, "api_error"),
        ProviderError::Network(_) | ProviderError::Decode(_) => (502, "api_error"),
    };
    let message = match err {
        ProviderError::Auth { message, .. }
        | ProviderError::RateLimited { message, .. }
        | ProviderError::InvalidRequest { message, .. }
        | ProviderError::Upstream { message, .. } => message.clone(),
        other => other.to_string(),
    };
    (status, ErrorResponse { kind: "error".into(), error: ErrorDetail { kind: kind.into(), message } })
}

/// One SSE event, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct SseFrame {
    /// The `event:` name (`message_start`, `content_block_delta`, ...).
    pub event: &'static str,
    /// The `data:` JSON (one line).
    pub data: String,
}

impl SseFrame {
    fn new(event: WireStreamEvent) -> Self {
        // Our wire types always serialise; an empty object would still be valid SSE.
        let data = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
        SseFrame { event: event.name(), data }
    }

    /// `event: NAME\ndata: JSON\n\n`, as Anthropic frames it.
    pub fn render(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.event, self.data)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Open {
    Text,
    Thinking { signed: bool },
    Tool(u32),
}

/// Turns our stream events into Anthropic's SSE events, one call per event.
/// It owns the block bookkeeping Anthropic's format needs: `message_start`
/// first (held back one event so a prompt usage that follows `Start` makes it
/// in), one `content_block_start`/`stop` pair per block with increasing indexes,
/// and `message_delta` plus `message_stop` from [`SseEncoder::finish`].
#[derive(Debug, Default)]
pub struct SseEncoder {
    start: Option<(String, String)>,
    started: bool,
    usage: Option<Usage>,
    usage_in_start: bool,
    open: Option<(Open, u32)>,
    next_index: u32,
    /// Tool call index -> its block index.
    tool_blocks: Vec<(u32, u32)>,
    stop_reason: Option<String>,
}

impl SseEncoder {
    /// A fresh encoder for one response.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the SSE events for one stream event to `out`.
    pub fn push(&mut self, event: &crate::model::StreamEvent, out: &mut Vec<SseFrame>) {
        use crate::model::StreamEvent as E;
        match event {
            E::Start { id, model } => self.start = Some((id.clone(), model.clone())),
            E::Usage { usage } => {
                self.usage = Some(*usage);
                if !self.started && self.start.is_some() {
                    self.usage_in_start = true;
                    self.ensure_started(out);
                }
            }
            E::TextDelta { text } => {
                let index = self.ensure_block(Open::Text, out);
                out.push(delta(index, BlockDelta::TextDelta { text: text.clone() }));
            }
            E::ThinkingDelta { thinking } => {
                let index = self.ensure_block(Open::Thinking { signed: false }, out);
                out.push(delta(index, BlockDelta::ThinkingDelta { thinking: thinking.clone() }));
            }
            E::ThinkingSignature { signature } => {
                let index = self.ensure_block(Open::Thinking { signed: false }, out);
                self.open = Some((Open::Thinking { signed: true }, index));
                out.push(delta(index, BlockDelta::SignatureDelta { signature: signature.clone() }));
            }
            E::ToolCallStart { index, id, name } => {
                self.ensure_started(out);
                let block = self.open_block(Open::Tool(*index), out, |_| ContentBlock::ToolUse {
                    id: id.clone(),
                    name: name.clone(),
                    input: Value::Object(Map::new()),
                    cache_control: None,
                });
                self.tool_blocks.push((*index, block));
            }
            E::ToolCallDelta { index, arguments } => {
                // Calls stream one after another; a late fragment of an earlier
                // call still goes to that call's block, which clients index by.
                let block = match self.open {
                    Some((Open::Tool(i), block)) if i == *index => Some(block),
                    _ => self.tool_blocks.iter().find(|(i, _)| i == index).map(|(_, b)| *b),
                };
                if let Some(block) = block {
                    out.push(delta(block, BlockDelta::InputJsonDelta { partial_json: arguments.clone() }));
                }
            }
            E::Finish { reason } => self.stop_reason = Some(stop_reason(reason)),
        }
    }

    /// Closes the response: the open block's stop, `message_delta` with the stop
    /// reason and usage, and `message_stop`.
    pub fn finish(&mut self, out: &mut Vec<SseFrame>) {
        self.ensure_started(out);
        self.close(out);
        let usage = self.usage.unwrap_or_default();
        let mut delta_usage = WireUsage { output_tokens: usage.output_tokens, ..WireUsage::default() };
        if !self.usage_in_start && self.usage.is_some() {
            let full = wire_usage(&usage);
            delta_usage.input_tokens = full.input_tokens;
            delta_usage.cache_creation_input_tokens = full.cache_creation_input_tokens;
            delta_usage.cache_read_input_tokens = full.cache_read_input_tokens;
        }
        let stop_reason = self.stop_reason.take().unwrap_or_else(|| "end_turn".into());
        out.push(SseFrame::new(WireStreamEvent::MessageDelta {
            delta: MessageDeltaBody { stop_reason: Some(stop_reason), stop_sequence: None },
            usage: Some(delta_usage),
        }));
        out.push(SseFrame::new(WireStreamEvent::MessageStop));
    }

    fn ensure_started(&mut self, out: &mut Vec<SseFrame>) {
        if self.started {
            return;
        }
        self.started = true;
        let (id, model) = self.start.take().unwrap_or_default();
        let mut usage = wire_usage(&self.usage.unwrap_or_default());
        if !self.usage_in_start {
            // Only the output side is known this early; the rest comes in message_delta.
            usage = WireUsage { input_tokens: Some(0), output_tokens: usage.output_tokens, ..WireUsage::default() };
        }
        out.push(SseFrame::new(WireStreamEvent::MessageStart {
            message: MessagesResponse {
                id,
                kind: "message".into(),
                role: AssistantRole::Assistant,
                content: Vec::new(),
                model,
                stop_reason: None,
                stop_sequence: None,
                usage,
            },
        }));
    }

    /// The index of an open block of this kind, opening one if needed. A signed
    /// thinking block is complete, so more thinking opens a new one.
    fn ensure_block(&mut self, kind: Open, out: &mut Vec<SseFrame>) -> u32 {
        self.ensure_started(out);
        match (self.open, kind) {
            (Some((Open::Text, i)), Open::Text) => i,
            (Some((Open::Thinking { signed: false }, i)), Open::Thinking { .. }) => i,
            _ => self.open_block(kind, out, |k| match k {
                Open::Thinking { .. } => ContentBlock::Thinking { thinking: String::new(), signature: None },
                _ => ContentBlock::text(""),
            }),
        }
    }

    fn open_block(&mut self, kind: Open, out: &mut Vec<SseFrame>, block: impl FnOnce(Open) -> ContentBlock) -> u32 {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        out.push(SseFrame::new(WireStreamEvent::ContentBlockStart { index, content_block: block(kind) }));
        self.open = Some((kind, index));
        index
    }

    fn close(&mut self, out: &mut Vec<SseFrame>) {
        if let Some((_, index)) = self.open.take() {
            out.push(SseFrame::new(WireStreamEvent::ContentBlockStop { index }));
        }
    }
}

fn delta(index: u32, delta: BlockDelta) -> SseFrame {
    SseFrame::new(WireStreamEvent::ContentBlockDelta { index, delta })
}
