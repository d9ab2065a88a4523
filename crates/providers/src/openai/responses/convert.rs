//! Our request to a Responses API body, and a response object back to ours.

use super::types::{self as wire, InputContent, InputItem, InputPart};
use crate::error::ProviderError;
use crate::model::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, Message, ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};
use crate::names::ToolNames;
use crate::openai::convert::{image_url, passthrough};
use crate::openai::stream::in_band_error;

/// The API refuses `max_output_tokens` below this.
const MIN_OUTPUT_TOKENS: u32 = 16;

/// Builds the `/responses` body for `req`.
pub fn to_wire(req: &ChatRequest, names: &ToolNames, stream: bool) -> Result<wire::CreateResponse, ProviderError> {
    if !req.stop.is_empty() {
        return Err(ProviderError::Unsupported(format!(
            "stop sequences: {} is served by the Responses API, which has none",
            req.model
        )));
    }
    let mut input = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        push_items(m, names, &mut input)?;
    }
    let tools = (!req.tools.is_empty()).then(|| {
        req.tools
            .iter()
            .map(|t| wire::FunctionTool {
                kind: "function".into(),
                name: names.to_wire(&t.name).into_owned(),
                description: (!t.description.is_empty()).then(|| t.description.clone()),
                parameters: t.parameters.clone(),
                strict: t.strict.unwrap_or(false),
            })
            .collect()
    });
    let tool_choice = req.tool_choice.as_ref().map(|c| match c {
        ToolChoice::Auto => wire::ToolChoice::Mode("auto".into()),
        ToolChoice::None => wire::ToolChoice::Mode("none".into()),
        ToolChoice::Required => wire::ToolChoice::Mode("required".into()),
        ToolChoice::Tool { name } => {
            wire::ToolChoice::Function { kind: "function".into(), name: names.to_wire(name).into_owned() }
        }
    });
    let text = req.response_format.as_ref().map(|f| wire::TextParam {
        format: match f {
            ResponseFormat::Text => wire::TextFormat::Text,
            ResponseFormat::JsonObject => wire::TextFormat::JsonObject,
            ResponseFormat::JsonSchema { name, schema, strict } => {
                wire::TextFormat::JsonSchema { name: name.clone(), schema: schema.clone(), strict: *strict }
            }
        },
    });
    Ok(wire::CreateResponse {
        model: req.model.clone(),
        input,
        tools,
        tool_choice,
        text,
        temperature: req.temperature,
        top_p: req.top_p,
        // A tiny limit would be refused outright; the smallest allowed is the closest meaning.
        max_output_tokens: req.max_tokens.map(|n| n.max(MIN_OUTPUT_TOKENS)),
        reasoning: req
            .reasoning
            .as_ref()
            .and_then(|r| r.effort.clone())
            .map(|e| wire::ReasoningParam { effort: Some(e) }),
        user: req.user.clone(),
        stream: stream.then_some(true),
        extra: passthrough(&req.extra, wire::TYPED_REQUEST_FIELDS),
    })
}

/// One of our messages as input items: assistant tool calls and tool results
/// are items of their own in this API.
fn push_items(m: &Message, names: &ToolNames, out: &mut Vec<InputItem>) -> Result<(), ProviderError> {
    match m.role {
        Role::System => {
            out.push(InputItem::Message { role: "system".into(), content: InputContent::Text(m.joined_text()) })
        }
        Role::User => out.push(InputItem::Message { role: "user".into(), content: user_content(&m.content) }),
        Role::Assistant => {
            let text = m.joined_text();
            if !text.is_empty() {
                out.push(InputItem::Message { role: "assistant".into(), content: InputContent::Text(text) });
            }
            for c in &m.tool_calls {
                out.push(InputItem::FunctionCall {
                    call_id: c.id.clone(),
                    name: names.to_wire(&c.name).into_owned(),
                    arguments: c.arguments.clone(),
                });
            }
        }
        Role::Tool => {
            let call_id = m
                .tool_call_id
                .clone()
                .ok_or_else(|| ProviderError::Unsupported("a tool result without tool_call_id".into()))?;
            out.push(InputItem::FunctionCallOutput { call_id, output: m.joined_text() });
        }
    }
    Ok(())
}

fn user_content(parts: &[ContentPart]) -> InputContent {
    if let [ContentPart::Text { text, .. }] = parts {
        return InputContent::Text(text.clone());
    }
    InputContent::Parts(
        parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text, .. } => Some(InputPart::InputText { text: text.clone() }),
                ContentPart::Image { source, detail, .. } => Some(InputPart::InputImage {
                    image_url: image_url(source),
                    detail: detail.clone().unwrap_or_else(|| "auto".into()),
                }),
                ContentPart::Thinking { .. } | ContentPart::RedactedThinking { .. } => None,
            })
            .collect(),
    )
}

/// Translates a finished response object.
pub fn from_wire(resp: wire::Response, names: &ToolNames) -> Result<ChatResponse, ProviderError> {
    if resp.status == "failed" {
        return Err(failed(&resp));
    }
    let mut content = Vec::new();
    let mut tool_calls = Vec::new();
    for item in resp.output {
        match item {
            wire::OutputItem::Reasoning { summary } => {
                let thinking: String = summary.into_iter().map(|s| s.text).collect();
                if !thinking.is_empty() {
                    content.push(ContentPart::Thinking { thinking, signature: None });
                }
            }
            wire::OutputItem::Message { content: parts } => {
                for part in parts {
                    match part {
                        wire::OutputContent::OutputText { text } | wire::OutputContent::Refusal { refusal: text } => {
                            content.push(ContentPart::text(text))
                        }
                        wire::OutputContent::Other => {}
                    }
                }
            }
            wire::OutputItem::FunctionCall { call_id, name, arguments } => {
                tool_calls.push(ToolCall { id: call_id, name: names.from_wire(&name), arguments })
            }
            wire::OutputItem::Other => {}
        }
    }
    let finish_reason = finish_reason(&resp.status, resp.incomplete_details.as_ref(), !tool_calls.is_empty());
    Ok(ChatResponse {
        id: resp.id,
        model: resp.model,
        content,
        tool_calls,
        finish_reason,
        usage: resp.usage.map(usage_from_wire).unwrap_or_default(),
        raw: None,
    })
}

/// The error a `failed` response stands for.
pub(crate) fn failed(resp: &wire::Response) -> ProviderError {
    let (code, message) =
        resp.error.as_ref().map(|e| (e.code.clone().unwrap_or_default(), e.message.clone())).unwrap_or_default();
    in_band_error("", &code, message, code.clone())
}

/// Our finish reason for a response's status.
pub(crate) fn finish_reason(
    status: &str,
    details: Option<&wire::IncompleteDetails>,
    has_tool_calls: bool,
) -> FinishReason {
    match (status, details.and_then(|d| d.reason.as_deref())) {
        ("incomplete", Some("max_output_tokens")) => FinishReason::Length,
        ("incomplete", Some("content_filter")) => FinishReason::ContentFilter,
        ("incomplete", reason) => FinishReason::Other(reason.unwrap_or("incomplete").to_string()),
        _ if has_tool_calls => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Our usage for a response's.
pub(crate) fn usage_from_wire(u: wire::ResponseUsage) -> Usage {
    Usage {
        input_tokens: u.input_tokens,
        output_tokens: u.output_tokens,
        cached_input_tokens: u.input_tokens_details.map(|d| d.cached_tokens).unwrap_or(0),
        cache_creation_input_tokens: 0,
        reasoning_tokens: u.output_tokens_details.map(|d| d.reasoning_tokens).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::ToolDef;

    #[test]
    fn tool_turns_become_items() {
        let tool = ToolDef {
            name: "task.create".into(),
            description: String::new(),
            parameters: json!({"type":"object"}),
            strict: None,
            cache_control: None,
        };
        let mut assistant = Message::text(Role::Assistant, "");
        assistant.tool_calls =
            vec![ToolCall { id: "call_1".into(), name: "task.create".into(), arguments: "{}".into() }];
        let req = ChatRequest {
            model: "gpt-5.2-pro".into(),
            messages: vec![
                Message::text(Role::System, "sys"),
                Message::text(Role::User, "hi"),
                assistant,
                Message::tool_result("call_1", "task.create", "done"),
            ],
            tools: vec![tool],
            max_tokens: Some(5),
            ..Default::default()
        };
        let names = ToolNames::new(&req.tools);
        let body = serde_json::to_value(to_wire(&req, &names, false).unwrap()).unwrap();
        assert_eq!(
            body["input"],
            json!([
                {"type":"message","role":"system","content":"sys"},
                {"type":"message","role":"user","content":"hi"},
                {"type":"function_call","call_id":"call_1","name":"task_create","arguments":"{}"},
                {"type":"function_call_output","call_id":"call_1","output":"done"}
            ])
        );
        assert_eq!(
            body["tools"],
            json!([{"type":"function","name":"task_create","parameters":{"type":"object"},"strict":false}])
        );
        assert_eq!(body["max_output_tokens"], 16);
    }

    #[test]
    fn stop_sequences_are_refused() {
        let req = ChatRequest { model: "gpt-5.2-pro".into(), stop: vec!["x".into()], ..Default::default() };
        assert!(matches!(to_wire(&req, &ToolNames::default(), false), Err(ProviderError::Unsupported(_))));
    }
}
