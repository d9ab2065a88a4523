//! Our [`ChatRequest`] to Anthropic's request, and Anthropic's answer back to
//! our [`ChatResponse`].

use serde_json::{Map, Value, json};

use super::types::{
    ContentBlock, ImageSource as WireImage, MessagesRequest, MessagesResponse, Metadata, System, ThinkingConfig, Tool,
    ToolChoice as WireToolChoice, WireContent, WireMessage, WireRole, WireUsage,
};
use crate::error::ProviderError;
use crate::model::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, ImageSource, Message, ResponseFormat, Role, ToolCall,
    ToolChoice, Usage,
};
use crate::names::{ToolNames, wire_name};

/// `max_tokens` when the model is not in the catalog.
const FALLBACK_MAX_TOKENS: u32 = 4096;

/// Anthropic has no JSON-mode flag; this instruction is appended to the system
/// prompt for `json_object`, and for `json_schema` when a forced tool cannot be used.
const JSON_INSTRUCTION: &str =
    "Respond with a single valid JSON object and nothing else: no prose, no Markdown code fences.";

/// What the answer's translation needs to know about the request that produced it.
#[derive(Debug, Clone, Default)]
pub struct ResponseContext {
    /// Maps wire tool names back to gateway names.
    pub names: ToolNames,
    /// The forced tool that carries a `json_schema` answer; its input is the answer text.
    pub json_tool: Option<String>,
}

/// Translates a request. Returns the wire request (with `req.extra` in its
/// `extra`) and what the answer's translation needs.
pub fn to_wire(req: &ChatRequest) -> Result<(MessagesRequest, ResponseContext), ProviderError> {
    let names = ToolNames::new(&req.tools);
    let mut system: Vec<ContentBlock> = Vec::new();
    let mut messages: Vec<WireMessage> = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        match m.role {
            Role::System => system.extend(text_blocks(&m.content)),
            Role::User => push_blocks(&mut messages, WireRole::User, user_blocks(&m.content)),
            Role::Assistant => push_blocks(&mut messages, WireRole::Assistant, assistant_blocks(m, &names)),
            Role::Tool => push_blocks(&mut messages, WireRole::User, vec![tool_result(m)?]),
        }
    }

    let mut tools: Vec<Tool> = req
        .tools
        .iter()
        .map(|t| Tool {
            name: names.to_wire(&t.name).into_owned(),
            description: (!t.description.is_empty()).then(|| t.description.clone()),
            input_schema: object_schema(&t.parameters),
            cache_control: t.cache_control.clone(),
        })
        .collect();
    let mut tool_choice =
        if tools.is_empty() { None } else { req.tool_choice.as_ref().map(|c| wire_choice(c, &names)) };

    let budget = req.reasoning.as_ref().and_then(|r| r.budget_tokens);
    let thinking = budget.map(|b| ThinkingConfig { kind: "enabled".into(), budget_tokens: Some(b) });

    // JSON mode. A `json_schema` answer is most reliable as a forced tool call
    // whose input is the answer (Anthropic's documented "JSON output" pattern);
    // that needs the tool slot free (no caller tools), no extended thinking (which
    // refuses forced tool use) and an object schema (tool input is an object).
    // Otherwise the instruction goes into the system prompt, schema included.
    let mut json_tool = None;
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => system.push(ContentBlock::text(JSON_INSTRUCTION)),
        Some(ResponseFormat::JsonSchema { name, schema, .. }) => {
            let is_object = schema.get("type").and_then(Value::as_str) == Some("object");
            if tools.is_empty() && thinking.is_none() && is_object {
                let tool_name =
                    if name.is_empty() { "json_response".to_string() } else { wire_name(name).into_owned() };
                tools.push(Tool {
                    name: tool_name.clone(),
                    description: Some("Return the answer as this tool's input, following its schema exactly.".into()),
                    input_schema: schema.clone(),
                    cache_control: None,
                });
                tool_choice = Some(WireToolChoice::Tool { name: tool_name.clone(), disable_parallel_tool_use: None });
                json_tool = Some(tool_name);
            } else {
                system.push(ContentBlock::text(format!("{JSON_INSTRUCTION} It must match this JSON Schema: {schema}")));
            }
        }
        Some(ResponseFormat::Text) | None => {}
    }

    // Extended thinking only accepts default sampling; sending the caller's
    // temperature would fail the whole request, so it yields to the thinking switch.
    let (temperature, top_p) = if thinking.is_some() {
        (None, None)
    } else {
        // Anthropic's range is 0..=1; OpenAI-style callers may send up to 2.
        (req.temperature.map(|t| t.clamp(0.0, 1.0)), req.top_p)
    };

    let wire = MessagesRequest {
        model: req.model.clone(),
        max_tokens: req.max_tokens.unwrap_or_else(|| default_max_tokens(&req.model)),
        messages,
        system: (!system.is_empty()).then_some(System::Blocks(system)),
        temperature,
        top_p,
        stop_sequences: req.stop.clone(),
        stream: req.stream.then_some(true),
        metadata: req.user.as_ref().map(|u| Metadata { user_id: Some(u.clone()) }),
        tools,
        tool_choice,
        thinking,
        extra: req.extra.clone(),
    };
    Ok((wire, ResponseContext { names, json_tool }))
}

/// The JSON body to send: the translated request with `req.extra` merged in
/// verbatim (an `extra` key overrides a translated field of the same name).
pub fn request_body(req: &ChatRequest, stream: bool) -> Result<(Value, ResponseContext), ProviderError> {
    let (mut wire, ctx) = to_wire(req)?;
    wire.stream = stream.then_some(true);
    let body = serde_json::to_value(&wire).map_err(|e| ProviderError::Decode(e.to_string()))?;
    Ok((body, ctx))
}

/// The catalog's max output for `model` (dated snapshots such as
/// `claude-sonnet-4-5-20250929` match their alias), else 4096.
pub fn default_max_tokens(model: &str) -> u32 {
    super::MODELS
        .iter()
        .find(|m| model == m.code || model.strip_prefix(m.code).is_some_and(|rest| rest.starts_with('-')))
        .map_or(FALLBACK_MAX_TOKENS, |m| m.max_output_tokens)
}

/// Appends blocks as a message of `role`, merging into the previous message when
/// it has the same role: the API wants user and assistant turns to alternate.
fn push_blocks(messages: &mut Vec<WireMessage>, role: WireRole, blocks: Vec<ContentBlock>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut().filter(|m| m.role == role)
        && let WireContent::Blocks(existing) = &mut last.content
    {
        existing.extend(blocks);
        // Tool results must open a user turn, before any text of it (a stable
        // sort keeps the order within each group).
        if role == WireRole::User {
            existing.sort_by_key(|b| !matches!(b, ContentBlock::ToolResult { .. }));
        }
        return;
    }
    messages.push(WireMessage { role, content: WireContent::Blocks(blocks) });
}

/// Text parts as text blocks; empty texts are dropped (the API rejects them).
fn text_blocks(parts: &[ContentPart]) -> impl Iterator<Item = ContentBlock> + '_ {
    parts.iter().filter_map(|p| match p {
        ContentPart::Text { text, cache_control } if !text.is_empty() => {
            Some(ContentBlock::Text { text: text.clone(), cache_control: cache_control.clone() })
        }
        _ => None,
    })
}

fn user_blocks(parts: &[ContentPart]) -> Vec<ContentBlock> {
    parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text, cache_control } if !text.is_empty() => {
                Some(ContentBlock::Text { text: text.clone(), cache_control: cache_control.clone() })
            }
            ContentPart::Image { source, cache_control, .. } => {
                Some(ContentBlock::Image { source: image_source(source), cache_control: cache_control.clone() })
            }
            // Reasoning belongs to assistant turns only.
            _ => None,
        })
        .collect()
}

/// Assistant parts in order (thinking first, as the model produced it, with its
/// signature intact), then the tool calls.
fn assistant_blocks(m: &Message, names: &ToolNames) -> Vec<ContentBlock> {
    let mut blocks = Vec::with_capacity(m.content.len() + m.tool_calls.len());
    for p in &m.content {
        match p {
            ContentPart::Text { text, cache_control } if !text.is_empty() => {
                blocks.push(ContentBlock::Text { text: text.clone(), cache_control: cache_control.clone() })
            }
            // Gemini's thought signatures (after a fallback) mean nothing to Anthropic, which rejects them.
            ContentPart::Thinking { signature: Some(sig), .. } if sig.starts_with("gemini:") => {}
            ContentPart::Thinking { thinking, signature } => {
                blocks.push(ContentBlock::Thinking { thinking: thinking.clone(), signature: signature.clone() })
            }
            ContentPart::RedactedThinking { data } => {
                blocks.push(ContentBlock::RedactedThinking { data: data.clone() })
            }
            _ => {}
        }
    }
    for c in &m.tool_calls {
        blocks.push(ContentBlock::ToolUse {
            id: c.id.clone(),
            name: names.to_wire(&c.name).into_owned(),
            input: arguments_object(&c.arguments),
            cache_control: None,
        });
    }
    blocks
}

/// A tool's arguments text as the object `tool_use.input` must be. A call cut
/// short upstream may have left broken JSON in the history; sending `{}` keeps
/// the conversation usable where refusing would wedge it for good.
fn arguments_object(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            tracing::warn!("tool call arguments are not a JSON object; sending {{}}");
            Value::Object(Map::new())
        }
    }
}

fn tool_result(m: &Message) -> Result<ContentBlock, ProviderError> {
    let id = m
        .tool_call_id
        .clone()
        .ok_or_else(|| ProviderError::Unsupported("a tool message without tool_call_id".into()))?;
    // cache_control sits on the tool_result block itself, as Anthropic documents it.
    let cache_control = m.content.iter().rev().find_map(|p| match p {
        ContentPart::Text { cache_control, .. } | ContentPart::Image { cache_control, .. } => cache_control.clone(),
        _ => None,
    });
    let has_image = m.content.iter().any(|p| matches!(p, ContentPart::Image { .. }));
    let content = if has_image {
        let blocks: Vec<ContentBlock> = user_blocks(&m.content)
            .into_iter()
            .map(|b| match b {
                ContentBlock::Text { text, .. } => ContentBlock::text(text),
                ContentBlock::Image { source, .. } => ContentBlock::Image { source, cache_control: None },
                other => other,
            })
            .collect();
        WireContent::Blocks(blocks)
    } else {
        WireContent::Text(m.joined_text())
    };
    Ok(ContentBlock::ToolResult {
        tool_use_id: id,
        content: Some(content),
        is_error: m.is_error.then_some(true),
        cache_control,
    })
}

/// Splits `data:` URLs into base64 sources; other URLs are passed by reference.
fn image_source(source: &ImageSource) -> WireImage {
    match source {
        ImageSource::Base64 { media_type, data } => {
            WireImage::Base64 { media_type: media_type.clone(), data: data.clone() }
        }
        ImageSource::Url { url } => match split_data_url(url) {
            Some((media_type, data)) => WireImage::Base64 { media_type: media_type.into(), data: data.into() },
            None => WireImage::Url { url: url.clone() },
        },
    }
}

/// `data:image/png;base64,AAAA` -> (`image/png`, `AAAA`).
pub(crate) fn split_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type, data))
}

/// Anthropic requires an object schema; tools declared without parameters get an empty one.
fn object_schema(parameters: &Value) -> Value {
    match parameters {
        Value::Object(o) if o.contains_key("type") => parameters.clone(),
        Value::Object(o) if !o.is_empty() => {
            let mut o = o.clone();
            o.insert("type".into(), json!("object"));
            Value::Object(o)
        }
        _ => json!({"type": "object", "properties": {}}),
    }
}

fn wire_choice(choice: &ToolChoice, names: &ToolNames) -> WireToolChoice {
    match choice {
        ToolChoice::Auto => WireToolChoice::Auto { disable_parallel_tool_use: None },
        ToolChoice::Required => WireToolChoice::Any { disable_parallel_tool_use: None },
        ToolChoice::None => WireToolChoice::None,
        ToolChoice::Tool { name } => {
            WireToolChoice::Tool { name: names.to_wire(name).into_owned(), disable_parallel_tool_use: None }
        }
    }
}

/// Translates a complete answer.
pub fn from_wire(resp: MessagesResponse, ctx: &ResponseContext) -> ChatResponse {
    let mut content = Vec::with_capacity(resp.content.len());
    let mut tool_calls = Vec::new();
    let mut answered_json = false;
    for block in resp.content {
        match block {
            ContentBlock::Text { text, .. } => content.push(ContentPart::text(text)),
            ContentBlock::Thinking { thinking, signature } => {
                content.push(ContentPart::Thinking { thinking, signature })
            }
            ContentBlock::RedactedThinking { data } => content.push(ContentPart::RedactedThinking { data }),
            ContentBlock::ToolUse { name, input, .. } if ctx.json_tool.as_deref() == Some(name.as_str()) => {
                answered_json = true;
                content.push(ContentPart::text(input.to_string()));
            }
            ContentBlock::ToolUse { id, name, input, .. } => {
                tool_calls.push(ToolCall { id, name: ctx.names.from_wire(&name), arguments: input.to_string() })
            }
            // Images and tool results never appear in answers; server-tool blocks are not modelled.
            ContentBlock::Image { .. } | ContentBlock::ToolResult { .. } | ContentBlock::Unknown(_) => {}
        }
    }
    let mut finish_reason = finish_reason(resp.stop_reason.as_deref().unwrap_or("end_turn"));
    if answered_json && finish_reason == FinishReason::ToolCalls {
        finish_reason = FinishReason::Stop;
    }
    ChatResponse {
        id: resp.id,
        model: resp.model,
        content,
        tool_calls,
        finish_reason,
        usage: usage(&resp.usage),
        raw: None,
    }
}

/// Anthropic's `stop_reason` in our terms.
pub fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_string()),
    }
}

/// Normalised usage: our `input_tokens` counts every prompt token, Anthropic's
/// excludes cache reads and writes.
pub fn usage(u: &WireUsage) -> Usage {
    let read = u.cache_read_input_tokens.unwrap_or(0);
    let written = u.cache_creation_input_tokens.unwrap_or(0);
    Usage {
        input_tokens: u.input_tokens.unwrap_or(0) + read + written,
        output_tokens: u.output_tokens,
        cached_input_tokens: read,
        cache_creation_input_tokens: written,
        reasoning_tokens: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ToolDef;

    #[test]
    fn data_urls_split_into_base64() {
        assert_eq!(split_data_url("data:image/png;base64,AAAA"), Some(("image/png", "AAAA")));
        assert_eq!(split_data_url("https://x/y.png"), None);
        assert_eq!(split_data_url("data:text/plain,hello"), None);
    }

    #[test]
    fn dated_snapshots_use_their_alias_limit() {
        assert_eq!(default_max_tokens("claude-sonnet-4-5-20250929"), default_max_tokens("claude-sonnet-4-5"));
        assert!(default_max_tokens("claude-sonnet-4-5") > FALLBACK_MAX_TOKENS);
        assert_eq!(default_max_tokens("claude-unknown"), FALLBACK_MAX_TOKENS);
        assert_eq!(default_max_tokens("claude-sonnet-4-50"), FALLBACK_MAX_TOKENS);
    }

    #[test]
    fn tool_results_move_before_text_when_turns_merge() {
        let mut req = ChatRequest { model: "m".into(), ..Default::default() };
        req.messages.push(Message::text(Role::User, "first"));
        req.messages.push(Message::tool_result("t1", "f", "42"));
        let (wire, _) = to_wire(&req).unwrap();
        assert_eq!(wire.messages.len(), 1);
        let WireContent::Blocks(blocks) = &wire.messages[0].content else { panic!() };
        assert!(matches!(blocks[0], ContentBlock::ToolResult { .. }));
        assert!(matches!(blocks[1], ContentBlock::Text { .. }));
    }

    #[test]
    fn json_schema_uses_a_forced_tool_unless_tools_are_taken() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let mut req = ChatRequest {
            model: "m".into(),
            messages: vec![Message::text(Role::User, "hi")],
            response_format: Some(ResponseFormat::JsonSchema { name: "answer".into(), schema, strict: None }),
            ..Default::default()
        };
        let (wire, ctx) = to_wire(&req).unwrap();
        assert_eq!(ctx.json_tool.as_deref(), Some("answer"));
        assert_eq!(
            wire.tool_choice,
            Some(WireToolChoice::Tool { name: "answer".into(), disable_parallel_tool_use: None })
        );
        assert!(wire.system.is_none());

        req.tools.push(ToolDef {
            name: "a.b".into(),
            description: String::new(),
            parameters: json!({}),
            strict: None,
            cache_control: None,
        });
        let (wire, ctx) = to_wire(&req).unwrap();
        assert!(ctx.json_tool.is_none());
        assert_eq!(wire.tools.len(), 1);
        assert_eq!(wire.tools[0].input_schema, json!({"type": "object", "properties": {}}));
        let Some(System::Blocks(sys)) = wire.system else { panic!() };
        assert!(matches!(&sys[0], ContentBlock::Text { text, .. } if text.contains("\"a\"")));
    }
}
