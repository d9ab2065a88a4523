//! Translation between the gateway model and the Gemini wire format.
//!
//! ## Thought signatures
//!
//! Gemini attaches an opaque `thoughtSignature` to some answer parts (the first
//! `functionCall` of each step, or the last text part of an answer without
//! calls) and Gemini 3 refuses a function-calling history whose signatures are
//! not sent back on the same parts. Our model has no signature field on text or
//! tool calls, so every signature travels in a [`ContentPart::Thinking`]
//! `signature`, tagged with where it came from:
//!
//! - `gemini:thought:SIG` on a thinking part: the thought part itself;
//! - `gemini:text:SIG` on a (usually empty) thinking part: the next text part;
//! - `gemini:call:ID:SIG` anywhere in the message: the function call `ID`.
//!
//! The tag keeps the round trip exact even when a stream consumer folds a
//! `ThinkingSignature` event into the previous thinking block, and lets us (and
//! other adapters) recognise signatures that only Gemini can verify.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::types::*;
use crate::ProviderError;
use crate::model::*;
use crate::names::ToolNames;

const SIG_THOUGHT: &str = "gemini:thought:";
const SIG_TEXT: &str = "gemini:text:";
const SIG_CALL: &str = "gemini:call:";
/// Prefix of the ids we make up for function calls Gemini sent without one.
pub const GENERATED_ID_PREFIX: &str = "call_gm_";
/// Google's documented placeholder for function calls that no Gemini 3 model
/// signed (history from another model, or calls injected by the client).
const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// Tags a thought part's own signature.
pub fn tag_thought(sig: &str) -> String {
    format!("{SIG_THOUGHT}{sig}")
}

/// Tags the signature of the text part that follows.
pub fn tag_text(sig: &str) -> String {
    format!("{SIG_TEXT}{sig}")
}

/// Tags the signature of function call `id`.
pub fn tag_call(id: &str, sig: &str) -> String {
    format!("{SIG_CALL}{id}:{sig}")
}

enum Sig<'a> {
    Thought(&'a str),
    Text(&'a str),
    Call {
        id: &'a str,
        sig: &'a str,
    },
    /// Not ours (e.g. an Anthropic signature after a fallback): never sent to Gemini.
    Foreign,
}

fn parse_sig(s: &str) -> Sig<'_> {
    if let Some(sig) = s.strip_prefix(SIG_THOUGHT) {
        Sig::Thought(sig)
    } else if let Some(sig) = s.strip_prefix(SIG_TEXT) {
        Sig::Text(sig)
    } else if let Some((id, sig)) = s.strip_prefix(SIG_CALL).and_then(|r| r.rsplit_once(':')) {
        // Signatures are base64 and never contain ':'; ids might.
        Sig::Call { id, sig }
    } else {
        Sig::Foreign
    }
}

/// Whether `model` is Gemini 3 or later, which rejects unsigned function calls
/// in the current turn.
fn validates_signatures(model: &str) -> bool {
    let rest = model.trim_start_matches("models/").strip_prefix("gemini-").unwrap_or("");
    let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
    major.parse::<u32>().is_ok_and(|v| v >= 3)
}

// ---------------------------------------------------------------- request

/// Builds the `generateContent` body for a chat request.
pub fn build_request<'a>(req: &'a ChatRequest, names: &ToolNames) -> Result<GenerateContentRequest<'a>, ProviderError> {
    let strict = validates_signatures(&req.model);
    // Gemini validates signatures only within the current turn: everything after
    // the last user message.
    let turn_start = req.messages.iter().rposition(|m| m.role == Role::User).unwrap_or(0);
    let mut system: Vec<Part<'a>> = Vec::new();
    let mut contents: Vec<Content<'a>> = Vec::with_capacity(req.messages.len());
    let mut call_names: HashMap<&'a str, &'a str> = HashMap::new();

    for (i, m) in req.messages.iter().enumerate() {
        match m.role {
            Role::System => system.extend(m.content.iter().filter_map(|p| match p {
                ContentPart::Text { text, .. } if !text.is_empty() => Some(text_part(text)),
                _ => None,
            })),
            Role::User => push_turn(&mut contents, "user", user_parts(m)),
            Role::Assistant => {
                for c in &m.tool_calls {
                    call_names.insert(&c.id, &c.name);
                }
                push_turn(&mut contents, "model", model_parts(m, names, strict && i > turn_start)?);
            }
            Role::Tool => push_turn(&mut contents, "user", vec![function_response(m, &call_names, names)?]),
        }
    }

    let tools = if req.tools.is_empty() {
        Vec::new()
    } else {
        vec![Tool {
            function_declarations: req
                .tools
                .iter()
                .map(|t| FunctionDeclaration {
                    name: names.to_wire(&t.name),
                    description: &t.description,
                    parameters_json_schema: schema(&t.parameters),
                })
                .collect(),
        }]
    };
    let tool_config = match (&req.tool_choice, tools.is_empty()) {
        (Some(choice), false) => Some(ToolConfig { function_calling_config: calling_config(choice, names) }),
        _ => None,
    };

    Ok(GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(Content { role: None, parts: system }),
        tools,
        tool_config,
        generation_config: generation_config(req),
    })
}

fn text_part(text: &str) -> Part<'_> {
    Part { text: Some(Cow::Borrowed(text)), ..Part::default() }
}

/// Appends parts as a turn, merging with the previous turn of the same role
/// (Gemini wants alternating turns; consecutive tool results become one turn).
fn push_turn<'a>(contents: &mut Vec<Content<'a>>, role: &'static str, parts: Vec<Part<'a>>) {
    if parts.is_empty() {
        return;
    }
    match contents.last_mut() {
        Some(last) if last.role == Some(role) => last.parts.extend(parts),
        _ => contents.push(Content { role: Some(role), parts }),
    }
}

fn user_parts(m: &Message) -> Vec<Part<'_>> {
    m.content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text, .. } if !text.is_empty() => Some(text_part(text)),
            ContentPart::Image { source, .. } => Some(image_part(source)),
            _ => None,
        })
        .collect()
}

fn image_part(source: &ImageSource) -> Part<'_> {
    match source {
        ImageSource::Base64 { media_type, data } => {
            Part { inline_data: Some(Blob { mime_type: media_type, data }), ..Part::default() }
        }
        ImageSource::Url { url } => {
            // `data:image/png;base64,AAAA` travels inline; anything else by URI.
            if let Some((meta, data)) = url.strip_prefix("data:").and_then(|r| r.split_once(','))
                && let Some(mime_type) = meta.strip_suffix(";base64")
            {
                return Part { inline_data: Some(Blob { mime_type, data }), ..Part::default() };
            }
            Part { file_data: Some(FileData { mime_type: guess_mime(url), file_uri: url }), ..Part::default() }
        }
    }
}

fn guess_mime(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        _ => return None,
    })
}

fn model_parts<'a>(m: &'a Message, names: &ToolNames, needs_sig: bool) -> Result<Vec<Part<'a>>, ProviderError> {
    let mut parts = Vec::with_capacity(m.content.len() + m.tool_calls.len());
    let mut pending_text_sig: Option<&'a str> = None;
    let mut call_sigs: Vec<(&'a str, &'a str)> = Vec::new();
    for part in &m.content {
        match part {
            ContentPart::Text { text, .. } => {
                if !text.is_empty() || pending_text_sig.is_some() {
                    parts.push(Part { thought_signature: pending_text_sig.take(), ..text_part(text) });
                }
            }
            ContentPart::Thinking { thinking, signature } => {
                let sig = signature.as_deref().map(parse_sig);
                let own = match sig {
                    Some(Sig::Thought(s)) => Some(s),
                    _ => None,
                };
                if !thinking.is_empty() || own.is_some() {
                    parts.push(Part {
                        text: Some(Cow::Borrowed(thinking)),
                        thought: Some(true),
                        thought_signature: own,
                        ..Part::default()
                    });
                }
                match sig {
                    Some(Sig::Text(s)) => {
                        if let Some(prev) = pending_text_sig.replace(s) {
                            parts.push(signed_empty(prev));
                        }
                    }
                    Some(Sig::Call { id, sig }) => call_sigs.push((id, sig)),
                    _ => {}
                }
            }
            ContentPart::Image { source, .. } => parts.push(image_part(source)),
            // Anthropic-only; Gemini has nothing to read in it.
            ContentPart::RedactedThinking { .. } => {}
        }
    }
    // A signature that arrived on its own (a streamed answer's last, empty part)
    // goes back as that same empty part.
    if let Some(sig) = pending_text_sig {
        parts.push(signed_empty(sig));
    }
    let any_signed = m.tool_calls.iter().any(|c| call_sigs.iter().any(|(id, _)| *id == c.id));
    for (k, call) in m.tool_calls.iter().enumerate() {
        let sig = call_sigs
            .iter()
            .find(|(id, _)| *id == call.id)
            .map(|(_, s)| *s)
            .or_else(|| (needs_sig && k == 0 && !any_signed).then_some(SKIP_SIGNATURE));
        parts.push(Part {
            function_call: Some(FunctionCall {
                id: gemini_id(&call.id),
                name: names.to_wire(&call.name),
                args: call_args(&call.arguments)?,
            }),
            thought_signature: sig,
            ..Part::default()
        });
    }
    Ok(parts)
}

fn signed_empty(sig: &str) -> Part<'_> {
    Part { text: Some(Cow::Borrowed("")), thought_signature: Some(sig), ..Part::default() }
}

/// The id to send back: Gemini's own, never one we made up.
fn gemini_id(id: &str) -> Option<&str> {
    (!id.is_empty() && !id.starts_with(GENERATED_ID_PREFIX)).then_some(id)
}

fn call_args(arguments: &str) -> Result<Value, ProviderError> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(ProviderError::InvalidRequest {
            status: 400,
            message: format!("tool call arguments must be a JSON object for Gemini: {arguments}"),
            body: String::new(),
        }),
    }
}

fn function_response<'a>(
    m: &'a Message,
    call_names: &HashMap<&'a str, &'a str>,
    names: &ToolNames,
) -> Result<Part<'a>, ProviderError> {
    let id = m.tool_call_id.as_deref().unwrap_or("");
    let name =
        m.name.as_deref().or_else(|| call_names.get(id).copied()).ok_or_else(|| ProviderError::InvalidRequest {
            status: 400,
            message: format!("tool result `{id}` has no name and answers no earlier tool call"),
            body: String::new(),
        })?;
    Ok(Part {
        function_response: Some(FunctionResponse {
            id: gemini_id(id),
            name: names.to_wire(name),
            response: result_object(&m.joined_text(), m.is_error),
        }),
        ..Part::default()
    })
}

/// `functionResponse.response` must be an object: JSON objects pass as they are,
/// anything else is wrapped as `{"result": ...}` (`{"error": ...}` for failures,
/// the key Google documents for error details).
fn result_object(text: &str, is_error: bool) -> Value {
    let value = serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()));
    match (value, is_error) {
        (v @ Value::Object(_), false) => v,
        (v, false) => json!({ "result": v }),
        (v, true) => json!({ "error": v }),
    }
}

/// JSON Schema for `parametersJsonSchema` / `responseJsonSchema`; an empty schema
/// (a tool without parameters) is left out. `$schema` is dropped: it is a
/// meta-keyword Gemini does not list among the ones it reads.
fn schema(v: &Value) -> Option<Cow<'_, Value>> {
    match v {
        Value::Null => None,
        Value::Object(o) if o.is_empty() => None,
        Value::Object(o) if o.contains_key("$schema") => {
            let mut o = o.clone();
            o.remove("$schema");
            Some(Cow::Owned(Value::Object(o)))
        }
        v => Some(Cow::Borrowed(v)),
    }
}

fn calling_config<'a>(choice: &'a ToolChoice, names: &ToolNames) -> FunctionCallingConfig<'a> {
    let (mode, allowed) = match choice {
        ToolChoice::Auto => ("AUTO", Vec::new()),
        ToolChoice::None => ("NONE", Vec::new()),
        ToolChoice::Required => ("ANY", Vec::new()),
        ToolChoice::Tool { name } => ("ANY", vec![names.to_wire(name)]),
    };
    FunctionCallingConfig { mode, allowed_function_names: allowed }
}

fn generation_config(req: &ChatRequest) -> GenerationConfig<'_> {
    let (response_mime_type, response_json_schema) = match &req.response_format {
        Some(ResponseFormat::JsonObject) => (Some("application/json"), None),
        Some(ResponseFormat::JsonSchema { schema: s, .. }) => (Some("application/json"), schema(s)),
        _ => (None, None),
    };
    let thinking_config = req.reasoning.as_ref().map(|r| match (r.budget_tokens, r.effort.as_deref()) {
        (Some(budget), _) => {
            ThinkingConfig { include_thoughts: budget > 0, thinking_budget: Some(budget), thinking_level: None }
        }
        // Gemini 2.5 turns thinking off with a zero budget; Gemini 3 cannot.
        (None, Some("none")) => {
            ThinkingConfig { include_thoughts: false, thinking_budget: Some(0), thinking_level: None }
        }
        (None, level) => ThinkingConfig { include_thoughts: true, thinking_budget: None, thinking_level: level },
    });
    GenerationConfig {
        temperature: req.temperature,
        top_p: req.top_p,
        max_output_tokens: req.max_tokens,
        stop_sequences: &req.stop,
        response_mime_type,
        response_json_schema,
        thinking_config,
    }
}

// ---------------------------------------------------------------- response

/// One translated piece of an answer part, shared by the plain and streamed paths.
#[derive(Debug)]
pub enum Piece {
    /// Thought summary text, with its own tagged signature when it had one.
    Thought {
        text: String,
        signature: Option<String>,
    },
    /// A tagged signature for the piece that follows.
    Signature(String),
    Text(String),
    Call(ToolCall),
}

/// Numbers function calls across one answer (or one stream) and names those
/// that came without an id.
#[derive(Debug, Default)]
pub struct CallCounter {
    pub next: u32,
}

impl CallCounter {
    /// Translates one answer part into pieces.
    pub fn pieces(&mut self, part: RespPart, response_id: &str, names: &ToolNames, out: &mut Vec<Piece>) {
        let sig = part.thought_signature.filter(|s| !s.is_empty());
        if let Some(fc) = part.function_call {
            let arguments = fc.args.map_or_else(|| "{}".to_string(), |a| a.to_string());
            let id = match fc.id.filter(|id| !id.is_empty()) {
                Some(id) => id,
                None => generated_id(response_id, self.next, &fc.name, &arguments),
            };
            self.next += 1;
            if let Some(sig) = sig {
                out.push(Piece::Signature(tag_call(&id, &sig)));
            }
            out.push(Piece::Call(ToolCall { id, name: names.from_wire(&fc.name), arguments }));
            return;
        }
        let Some(text) = part.text else {
            // A part we do not model (code execution, inline media); keep a
            // signature it carried so the round trip still holds.
            if let Some(sig) = sig {
                out.push(Piece::Signature(tag_text(&sig)));
            }
            return;
        };
        if part.thought {
            out.push(Piece::Thought { text, signature: sig.map(|s| tag_thought(&s)) });
            return;
        }
        if let Some(sig) = sig {
            out.push(Piece::Signature(tag_text(&sig)));
        }
        if !text.is_empty() {
            out.push(Piece::Text(text));
        }
    }
}

/// A stable id for a call without one: the same answer always yields the same id.
fn generated_id(response_id: &str, index: u32, name: &str, args: &str) -> String {
    // FNV-1a: tiny, dependency-free and stable across builds, unlike `DefaultHasher`.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for chunk in [response_id.as_bytes(), &index.to_le_bytes(), name.as_bytes(), args.as_bytes()] {
        for b in chunk {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{GENERATED_ID_PREFIX}{h:016x}")
}

/// Maps Gemini's `finishReason`.
pub fn finish_reason(raw: Option<&str>, has_calls: bool, blocked: bool) -> FinishReason {
    if blocked {
        return FinishReason::ContentFilter;
    }
    match raw {
        None | Some("STOP") if has_calls => FinishReason::ToolCalls,
        None | Some("STOP") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT",
        ) => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_string()),
    }
}

/// Maps `usageMetadata`: output counts candidates plus thoughts (Google bills
/// thinking as output), tool-use prompt tokens count as input.
pub fn usage(u: &UsageMetadata) -> Usage {
    Usage {
        input_tokens: u.prompt_token_count + u.tool_use_prompt_token_count,
        output_tokens: u.candidates_token_count + u.thoughts_token_count,
        cached_input_tokens: u.cached_content_token_count,
        cache_creation_input_tokens: 0,
        reasoning_tokens: u.thoughts_token_count,
    }
}

/// Translates a complete `generateContent` answer.
pub fn chat_response(resp: GenerateContentResponse, names: &ToolNames, requested_model: &str) -> ChatResponse {
    let id = resp.response_id.unwrap_or_default();
    let blocked = resp.prompt_feedback.as_ref().is_some_and(|f| f.block_reason.is_some());
    let mut content: Vec<ContentPart> = Vec::new();
    let mut tool_calls = Vec::new();
    let mut raw_finish = None;
    if let Some(cand) = resp.candidates.into_iter().next() {
        raw_finish = cand.finish_reason;
        let mut counter = CallCounter::default();
        let mut pieces = Vec::new();
        for part in cand.content.map(|c| c.parts).unwrap_or_default() {
            counter.pieces(part, &id, names, &mut pieces);
        }
        for piece in pieces {
            match piece {
                Piece::Thought { text, signature } => content.push(ContentPart::Thinking { thinking: text, signature }),
                Piece::Signature(tag) => {
                    content.push(ContentPart::Thinking { thinking: String::new(), signature: Some(tag) })
                }
                Piece::Text(text) => match content.last_mut() {
                    // Unsigned neighbours merge, as a streamed answer accumulates.
                    Some(ContentPart::Text { text: prev, .. }) => prev.push_str(&text),
                    _ => content.push(ContentPart::text(text)),
                },
                Piece::Call(call) => tool_calls.push(call),
            }
        }
    }
    ChatResponse {
        id,
        model: resp.model_version.unwrap_or_else(|| requested_model.to_string()),
        finish_reason: finish_reason(raw_finish.as_deref(), !tool_calls.is_empty(), blocked),
        content,
        tool_calls,
        usage: resp.usage_metadata.as_ref().map(usage).unwrap_or_default(),
        raw: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_tags_round_trip() {
        assert!(matches!(parse_sig(&tag_thought("AbC+/=")), Sig::Thought("AbC+/=")));
        assert!(matches!(parse_sig(&tag_text("x")), Sig::Text("x")));
        assert!(matches!(parse_sig(&tag_call("a:b", "sig")), Sig::Call { id: "a:b", sig: "sig" }));
        assert!(matches!(parse_sig("EqQBCkgKAnthropicSig"), Sig::Foreign));
    }

    #[test]
    fn gemini_3_and_later_validate_signatures() {
        assert!(validates_signatures("gemini-3-pro-preview"));
        assert!(validates_signatures("models/gemini-3.1-flash"));
        assert!(!validates_signatures("gemini-2.5-flash"));
        assert!(!validates_signatures("gemini-flash-latest"));
    }

    #[test]
    fn generated_ids_are_stable_and_distinct() {
        let a = generated_id("r1", 0, "f", "{}");
        assert_eq!(a, generated_id("r1", 0, "f", "{}"));
        assert_ne!(a, generated_id("r1", 1, "f", "{}"));
        assert!(a.starts_with(GENERATED_ID_PREFIX));
    }

    #[test]
    fn results_become_objects() {
        assert_eq!(result_object(r#"{"ok":true}"#, false), json!({"ok": true}));
        assert_eq!(result_object("42", false), json!({"result": 42}));
        assert_eq!(result_object("plain text", false), json!({"result": "plain text"}));
        assert_eq!(result_object("boom", true), json!({"error": "boom"}));
    }
}
