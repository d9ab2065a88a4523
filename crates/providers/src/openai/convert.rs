//! The adapter's direction: our [`ChatRequest`] to a Chat Completions body, and
//! a Chat Completions answer back to our [`ChatResponse`]. The pieces shared
//! with the gateway direction ([`super::compat`]) live here too.

use serde_json::Map;

use super::Quirks;
use super::types::{self as wire, ChatMessage, MessageContent};
use crate::error::ProviderError;
use crate::model::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, ImageSource, Message, ResponseFormat, Role, ToolCall,
    ToolChoice, Usage,
};
use crate::names::ToolNames;

/// Builds the wire body for `req`. `stream` sets `stream` and asks for the usage chunk.
pub fn to_wire(
    req: &ChatRequest,
    names: &ToolNames,
    quirks: Quirks,
    stream: bool,
) -> Result<wire::ChatCompletionRequest, ProviderError> {
    let messages = req.messages.iter().map(|m| message_to_wire(m, names, quirks)).collect::<Result<Vec<_>, _>>()?;
    let tools = (!req.tools.is_empty()).then(|| {
        req.tools
            .iter()
            .map(|t| wire::Tool {
                kind: "function".into(),
                function: wire::FunctionDef {
                    name: names.to_wire(&t.name).into_owned(),
                    description: (!t.description.is_empty()).then(|| t.description.clone()),
                    parameters: Some(t.parameters.clone()),
                    strict: t.strict,
                },
            })
            .collect()
    });
    let (max_completion_tokens, max_tokens) =
        if quirks.max_completion_tokens { (req.max_tokens, None) } else { (None, req.max_tokens) };
    Ok(wire::ChatCompletionRequest {
        model: req.model.clone(),
        messages,
        tools,
        tool_choice: req.tool_choice.as_ref().map(|c| tool_choice_to_wire(c, names)),
        response_format: req.response_format.as_ref().map(response_format_to_wire),
        temperature: req.temperature,
        top_p: req.top_p,
        max_completion_tokens,
        max_tokens,
        stop: (!req.stop.is_empty()).then(|| wire::Stop::Many(req.stop.clone())),
        user: req.user.clone(),
        reasoning_effort: req.reasoning.as_ref().and_then(|r| r.effort.clone()),
        stream: stream.then_some(true),
        stream_options: stream.then_some(wire::StreamOptions { include_usage: Some(true) }),
        extra: passthrough(&req.extra, wire::TYPED_REQUEST_FIELDS),
    })
}

/// The client's extra fields, minus those the adapter sets itself: the typed
/// fields are the gateway's decision (model, stream flag, ...), everything else
/// goes through untouched.
pub(crate) fn passthrough(extra: &Map<String, serde_json::Value>, typed: &[&str]) -> Map<String, serde_json::Value> {
    extra.iter().filter(|(k, _)| !typed.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn message_to_wire(m: &Message, names: &ToolNames, quirks: Quirks) -> Result<ChatMessage, ProviderError> {
    Ok(match m.role {
        Role::System => ChatMessage::System { content: MessageContent::Text(m.joined_text()), name: None },
        Role::User => ChatMessage::User { content: user_content(&m.content), name: None },
        Role::Assistant => {
            let text = m.joined_text();
            let reasoning = if quirks.echo_reasoning { thinking_text(&m.content) } else { None };
            let tool_calls = (!m.tool_calls.is_empty()).then(|| {
                m.tool_calls
                    .iter()
                    .map(|c| wire::ToolCall {
                        id: c.id.clone(),
                        kind: "function".into(),
                        function: wire::FunctionCall {
                            name: names.to_wire(&c.name).into_owned(),
                            arguments: c.arguments.clone(),
                        },
                    })
                    .collect()
            });
            ChatMessage::Assistant {
                content: (!text.is_empty() || tool_calls.is_none()).then_some(MessageContent::Text(text)),
                reasoning_content: reasoning,
                tool_calls,
                refusal: None,
                name: None,
            }
        }
        Role::Tool => {
            let tool_call_id = m
                .tool_call_id
                .clone()
                .ok_or_else(|| ProviderError::Unsupported("a tool result without tool_call_id".into()))?;
            // OpenAI has no error flag on tool results; the text itself says what failed.
            ChatMessage::Tool { content: MessageContent::Text(m.joined_text()), tool_call_id }
        }
    })
}

/// A single text part goes as a plain string (what every compatible server
/// accepts); anything else as typed parts.
fn user_content(parts: &[ContentPart]) -> MessageContent {
    if let [ContentPart::Text { text, .. }] = parts {
        return MessageContent::Text(text.clone());
    }
    let parts = parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text, .. } => Some(wire::ContentPart::Text { text: text.clone() }),
            ContentPart::Image { source, detail, .. } => Some(wire::ContentPart::ImageUrl {
                image_url: wire::ImageUrl { url: image_url(source), detail: detail.clone() },
            }),
            // Reasoning never belongs in a user turn.
            ContentPart::Thinking { .. } | ContentPart::RedactedThinking { .. } => None,
        })
        .collect();
    MessageContent::Parts(parts)
}

/// An image as OpenAI takes it: the URL itself, or inline bytes as a `data:` URL.
pub(crate) fn image_url(source: &ImageSource) -> String {
    match source {
        ImageSource::Url { url } => url.clone(),
        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
    }
}

/// All thinking text of a message, when there is any.
pub(crate) fn thinking_text(parts: &[ContentPart]) -> Option<String> {
    let mut out = String::new();
    for p in parts {
        if let ContentPart::Thinking { thinking, .. } = p {
            out.push_str(thinking);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn tool_choice_to_wire(choice: &ToolChoice, names: &ToolNames) -> wire::ToolChoice {
    match choice {
        ToolChoice::Auto => wire::ToolChoice::Mode("auto".into()),
        ToolChoice::None => wire::ToolChoice::Mode("none".into()),
        ToolChoice::Required => wire::ToolChoice::Mode("required".into()),
        ToolChoice::Tool { name } => wire::ToolChoice::Named(wire::NamedToolChoice {
            kind: "function".into(),
            function: wire::FunctionName { name: names.to_wire(name).into_owned() },
        }),
    }
}

fn response_format_to_wire(format: &ResponseFormat) -> wire::ResponseFormat {
    match format {
        ResponseFormat::Text => wire::ResponseFormat::Text,
        ResponseFormat::JsonObject => wire::ResponseFormat::JsonObject,
        ResponseFormat::JsonSchema { name, schema, strict } => wire::ResponseFormat::JsonSchema {
            json_schema: wire::JsonSchemaFormat {
                name: name.clone(),
                description: None,
                schema: Some(schema.clone()),
                strict: *strict,
            },
        },
    }
}

/// Translates a complete answer; tool names are mapped back to the gateway's.
pub fn from_wire(resp: wire::ChatCompletion, names: &ToolNames) -> Result<ChatResponse, ProviderError> {
    let usage = resp.usage.map(usage_from_wire).unwrap_or_default();
    let choice = resp
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| ProviderError::Decode("chat completion without choices".into()))?;
    let msg = choice.message;
    let mut content = Vec::with_capacity(2);
    if let Some(thinking) = msg.reasoning_content.filter(|t| !t.is_empty()) {
        content.push(ContentPart::Thinking { thinking, signature: None });
    }
    // A refusal is the model's answer to show; the finish reason says why.
    if let Some(text) = msg.content.or(msg.refusal).filter(|t| !t.is_empty()) {
        content.push(ContentPart::text(text));
    }
    let tool_calls: Vec<ToolCall> = msg
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|c| ToolCall { id: c.id, name: names.from_wire(&c.function.name), arguments: c.function.arguments })
        .collect();
    let finish_reason = finish_from_wire(choice.finish_reason.as_deref(), !tool_calls.is_empty());
    Ok(ChatResponse { id: resp.id, model: resp.model, content, tool_calls, finish_reason, usage, raw: None })
}

/// Our finish reason for a wire one; a missing reason means a normal stop
/// (or tool calls, when there are some).
pub(crate) fn finish_from_wire(reason: Option<&str>, has_tool_calls: bool) -> FinishReason {
    match reason {
        Some("stop") | None if has_tool_calls => FinishReason::ToolCalls,
        Some("stop") | None => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_string()),
    }
}

/// The wire spelling of our finish reason.
pub(crate) fn finish_to_wire(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::Other(s) => s,
    }
}

/// Our usage for a wire one (OpenAI details, or DeepSeek's cache-hit count).
pub(crate) fn usage_from_wire(u: wire::Usage) -> Usage {
    let cached = u.prompt_tokens_details.and_then(|d| d.cached_tokens).or(u.prompt_cache_hit_tokens).unwrap_or(0);
    Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
        cached_input_tokens: cached,
        cache_creation_input_tokens: 0,
        reasoning_tokens: u.completion_tokens_details.and_then(|d| d.reasoning_tokens).unwrap_or(0),
    }
}

/// The wire usage for ours, with the detail objects OpenAI always writes.
pub(crate) fn usage_to_wire(u: &Usage) -> wire::Usage {
    wire::Usage {
        prompt_tokens: u.input_tokens,
        completion_tokens: u.output_tokens,
        total_tokens: u.total(),
        prompt_tokens_details: Some(wire::PromptTokensDetails {
            cached_tokens: Some(u.cached_input_tokens),
            audio_tokens: Some(0),
        }),
        completion_tokens_details: Some(wire::CompletionTokensDetails {
            reasoning_tokens: Some(u.reasoning_tokens),
            audio_tokens: Some(0),
            accepted_prediction_tokens: Some(0),
            rejected_prediction_tokens: Some(0),
        }),
        prompt_cache_hit_tokens: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{Reasoning, ToolDef};

    fn tool(name: &str) -> ToolDef {
        ToolDef {
            name: name.into(),
            description: "d".into(),
            parameters: json!({"type":"object"}),
            strict: None,
            cache_control: None,
        }
    }

    #[test]
    fn builds_the_documented_body() {
        let mut req = ChatRequest {
            model: "gpt-5.2".into(),
            messages: vec![Message::text(Role::System, "be brief"), Message::text(Role::User, "hi")],
            tools: vec![tool("task.create")],
            tool_choice: Some(ToolChoice::Tool { name: "task.create".into() }),
            max_tokens: Some(100),
            stop: vec!["END".into()],
            reasoning: Some(Reasoning { effort: Some("low".into()), budget_tokens: None }),
            response_format: Some(ResponseFormat::JsonObject),
            ..Default::default()
        };
        req.extra.insert("seed".into(), json!(7));
        req.extra.insert("stream".into(), json!(false));
        let names = ToolNames::new(&req.tools);
        let body = serde_json::to_value(to_wire(&req, &names, Quirks::for_model("gpt-5.2"), true).unwrap()).unwrap();
        assert_eq!(body["messages"][0], json!({"role":"system","content":"be brief"}));
        assert_eq!(body["messages"][1], json!({"role":"user","content":"hi"}));
        assert_eq!(body["tools"][0]["function"]["name"], "task_create");
        assert_eq!(body["tool_choice"], json!({"type":"function","function":{"name":"task_create"}}));
        assert_eq!(body["max_completion_tokens"], 100);
        assert!(body.get("max_tokens").is_none());
        assert_eq!(body["stop"], json!(["END"]));
        assert_eq!(body["reasoning_effort"], "low");
        assert_eq!(body["response_format"], json!({"type":"json_object"}));
        assert_eq!(body["seed"], 7);
        // The adapter's own stream flag wins over a client's extra field.
        assert_eq!(body["stream"], true);
        assert_eq!(body["stream_options"], json!({"include_usage": true}));

        let body = serde_json::to_value(to_wire(&req, &names, Quirks::for_model("llama3"), false).unwrap()).unwrap();
        assert_eq!(body["max_tokens"], 100);
        assert!(body.get("max_completion_tokens").is_none() && body.get("stream_options").is_none());
    }

    #[test]
    fn images_and_tool_turns() {
        let user = Message {
            content: vec![
                ContentPart::text("what is this?"),
                ContentPart::Image {
                    source: ImageSource::Base64 { media_type: "image/png".into(), data: "iVBO".into() },
                    detail: Some("low".into()),
                    cache_control: None,
                },
            ],
            ..Message::text(Role::User, "")
        };
        let mut assistant = Message::text(Role::Assistant, "");
        assistant.content = vec![ContentPart::Thinking { thinking: "hmm".into(), signature: None }];
        assistant.tool_calls =
            vec![ToolCall { id: "call_1".into(), name: "task.create".into(), arguments: "{}".into() }];
        let result = Message::tool_result("call_1", "task.create", "ok");
        let req = ChatRequest {
            model: "deepseek-reasoner".into(),
            messages: vec![user, assistant, result],
            tools: vec![tool("task.create")],
            ..Default::default()
        };
        let names = ToolNames::new(&req.tools);
        let body = serde_json::to_value(to_wire(&req, &names, Quirks::for_model(&req.model), false).unwrap()).unwrap();
        assert_eq!(
            body["messages"][0]["content"][1],
            json!({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO","detail":"low"}})
        );
        assert_eq!(
            body["messages"][1],
            json!({"role":"assistant","content":null,"reasoning_content":"hmm","tool_calls":[{"id":"call_1","type":"function","function":{"name":"task_create","arguments":"{}"}}]})
        );
        assert_eq!(body["messages"][2], json!({"role":"tool","content":"ok","tool_call_id":"call_1"}));
        // OpenAI itself gets no reasoning_content back.
        let body = serde_json::to_value(to_wire(&req, &names, Quirks::for_model("gpt-5.2"), false).unwrap()).unwrap();
        assert!(body["messages"][1].get("reasoning_content").is_none());
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_from_wire(Some("length"), false), FinishReason::Length);
        assert_eq!(finish_from_wire(None, true), FinishReason::ToolCalls);
        assert_eq!(
            finish_from_wire(Some("insufficient_system_resource"), false),
            FinishReason::Other("insufficient_system_resource".into())
        );
        assert_eq!(finish_to_wire(&FinishReason::ContentFilter), "content_filter");
    }
}
