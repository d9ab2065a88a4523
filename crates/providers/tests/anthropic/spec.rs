//! The bodies the adapter sends, checked against the community OpenAPI
//! description of `/v1/messages` (`fixtures/anthropic/messages-api.openapi.json`):
//! only known properties, with the right types.

use serde_json::{Value, json};
use spgw_providers::anthropic::convert::request_body;
use spgw_providers::{
    ChatRequest, ContentPart, ImageSource, Message, Reasoning, ResponseFormat, Role, ToolCall, ToolChoice, ToolDef,
};

use super::support::fixture_json;

/// The community schemas plus what Anthropic documents and the description
/// predates. Each addition names the page that defines it.
fn schemas() -> Value {
    let mut s = fixture_json("messages-api.openapi.json");
    // Prompt caching: `cache_control` on system/message text, images, tool use and
    // results, and tool definitions.
    let cache_control = json!({"type": "object", "required": ["type"],
        "properties": {"type": {"type": "string", "enum": ["ephemeral"]}, "ttl": {"type": "string"}}});
    for name in ["TextBlock", "ImageBlock", "ToolUseBlock", "ToolResultBlock", "Tool"] {
        s[name]["properties"]["cache_control"] = cache_control.clone();
    }
    // Extended thinking: thinking and redacted_thinking blocks sent back in assistant turns.
    s["ThinkingBlock"] = json!({"type": "object", "required": ["type", "thinking", "signature"], "properties": {
        "type": {"type": "string", "enum": ["thinking"]}, "thinking": {"type": "string"}, "signature": {"type": "string"}}});
    s["RedactedThinkingBlock"] = json!({"type": "object", "required": ["type", "data"], "properties": {
        "type": {"type": "string", "enum": ["redacted_thinking"]}, "data": {"type": "string"}}});
    for name in ["ThinkingBlock", "RedactedThinkingBlock"] {
        s["ContentBlock"]["oneOf"]
            .as_array_mut()
            .unwrap()
            .push(json!({"$ref": format!("#/components/schemas/{name}")}));
    }
    // Tool use: `tool_choice: {"type": "none"}`.
    s["ToolChoice"]["oneOf"].as_array_mut().unwrap().push(json!({"type": "object", "required": ["type"],
        "properties": {"type": {"type": "string", "enum": ["none"]}}}));
    // Vision: a URL source has no media_type.
    s["ImageSource"] = json!({"oneOf": [
        {"type": "object", "required": ["type", "media_type", "data"], "properties": {
            "type": {"type": "string", "enum": ["base64"]}, "media_type": s["ImageSource"]["properties"]["media_type"].clone(),
            "data": {"type": "string"}}},
        {"type": "object", "required": ["type", "url"], "properties": {
            "type": {"type": "string", "enum": ["url"]}, "url": {"type": "string"}}}]});
    // Tool use: a tool result's content blocks are text and image blocks.
    s["ToolResultBlock"]["properties"]["content"]["oneOf"][1]["items"] = json!({"oneOf": [
        {"$ref": "#/components/schemas/TextBlock"}, {"$ref": "#/components/schemas/ImageBlock"}]});
    // An input schema is a JSON Schema; its other keywords are legitimate.
    s["ToolInputSchema"]["additionalProperties"] = json!(true);
    s
}

/// Problems of `v` against `schema`: unknown properties (unless the schema
/// allows them or lists none), wrong types, enum misses, missing required keys, and `oneOf`
/// with other than one match. Numeric bounds are not checked: the description's
/// `max_tokens <= 8192` predates today's models.
fn check(schema: &Value, v: &Value, defs: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return check(&defs[name], v, defs, path, out);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let results: Vec<Vec<String>> = options
            .iter()
            .map(|o| {
                let mut e = Vec::new();
                check(o, v, defs, path, &mut e);
                e
            })
            .collect();
        let matches = results.iter().filter(|e| e.is_empty()).count();
        if matches != 1 {
            // The most telling failure is the one that got past this level's type check.
            let closest = results
                .into_iter()
                .min_by_key(|e| (e.iter().any(|m| m.starts_with(&format!("{path}: expected"))), e.len()))
                .unwrap_or_default();
            out.push(format!("{path}: {matches} oneOf alternatives match; closest: {closest:?}"));
        }
        return;
    }
    let ok = match schema.get("type").and_then(Value::as_str) {
        Some("object") => v.is_object(),
        Some("array") => v.is_array(),
        Some("string") => v.is_string(),
        Some("integer") => v.is_u64() || v.is_i64(),
        Some("number") => v.is_number(),
        Some("boolean") => v.is_boolean(),
        _ => true,
    };
    if !ok {
        out.push(format!("{path}: expected {}, got {v}", schema["type"]));
        return;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        out.push(format!("{path}: {v} not in {values:?}"));
    }
    if let Value::Object(o) = v {
        for key in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !o.contains_key(key) {
                out.push(format!("{path}: missing {key}"));
            }
        }
        for (k, child) in o {
            match schema["properties"].get(k) {
                Some(s) => check(s, child, defs, &format!("{path}.{k}"), out),
                // A schema that lists no properties constrains none.
                None if schema.get("additionalProperties") == Some(&json!(true))
                    || schema.get("properties").is_none() => {}
                None => out.push(format!("{path}: unknown property {k}")),
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(s, item, defs, &format!("{path}[{i}]"), out);
        }
    }
}

fn problems(body: &Value) -> Vec<String> {
    let defs = schemas();
    let mut out = Vec::new();
    check(&json!({"$ref": "#/components/schemas/MessagesRequest"}), body, &defs, "$", &mut out);
    out
}

fn tool(name: &str, parameters: Value, cache: bool) -> ToolDef {
    ToolDef {
        name: name.into(),
        description: format!("The {name} tool"),
        parameters,
        strict: None,
        cache_control: cache.then(|| json!({"type": "ephemeral"})),
    }
}

/// Requests exercising every translation the adapter makes.
fn requests() -> Vec<ChatRequest> {
    let eph = Some(json!({"type": "ephemeral"}));
    let image = |source| ContentPart::Image { source, detail: Some("high".into()), cache_control: None };
    let mut assistant = Message::text(Role::Assistant, "Let me check.");
    assistant.content.insert(0, ContentPart::Thinking { thinking: "Plan".into(), signature: Some("sig".into()) });
    assistant.content.insert(1, ContentPart::RedactedThinking { data: "opaque".into() });
    assistant.tool_calls = vec![
        ToolCall { id: "toolu_1".into(), name: "task.create".into(), arguments: r#"{"title":"x"}"#.into() },
        ToolCall { id: "toolu_2".into(), name: "task.list".into(), arguments: String::new() },
    ];
    let mut failed = Message::tool_result("toolu_2", "task.list", "no access");
    failed.is_error = true;
    let with_image_result = Message {
        content: vec![ContentPart::text("chart"), image(ImageSource::Url { url: "data:image/png;base64,AAAA".into() })],
        ..Message::tool_result("toolu_1", "task.create", "")
    };
    let conversation = vec![
        Message {
            content: vec![ContentPart::Text { text: "Be brief.".into(), cache_control: eph.clone() }],
            ..Message::text(Role::System, "")
        },
        Message {
            content: vec![
                ContentPart::Text { text: "Look".into(), cache_control: eph.clone() },
                image(ImageSource::Url { url: "https://example.com/a.jpg".into() }),
                image(ImageSource::Base64 { media_type: "image/gif".into(), data: "R0lGOD".into() }),
            ],
            ..Message::text(Role::User, "")
        },
        assistant,
        with_image_result,
        failed,
        Message::text(Role::User, "thanks"),
    ];
    let tools = vec![
        tool(
            "task.create",
            json!({"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"],
            "additionalProperties": false}),
            true,
        ),
        tool("task.list", json!({}), false),
    ];
    let base = ChatRequest {
        model: "claude-opus-4-6".into(),
        messages: conversation,
        tools,
        temperature: Some(0.4),
        top_p: Some(0.9),
        stop: vec!["END".into()],
        user: Some("u-1".into()),
        ..Default::default()
    };
    let mut out = Vec::new();
    for choice in
        [ToolChoice::Auto, ToolChoice::None, ToolChoice::Required, ToolChoice::Tool { name: "task.create".into() }]
    {
        out.push(ChatRequest { tool_choice: Some(choice), ..base.clone() });
    }
    out.push(ChatRequest {
        reasoning: Some(Reasoning { effort: None, budget_tokens: Some(4096) }),
        max_tokens: Some(16_000),
        ..base.clone()
    });
    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]});
    let simple = vec![Message::text(Role::User, "hi")];
    out.push(ChatRequest { response_format: Some(ResponseFormat::JsonObject), ..base.clone() });
    out.push(ChatRequest {
        messages: simple.clone(),
        tools: Vec::new(),
        response_format: Some(ResponseFormat::JsonSchema { name: "answer".into(), schema, strict: Some(true) }),
        ..base.clone()
    });
    out
}

#[test]
fn request_bodies_match_the_published_description() {
    for (i, req) in requests().iter().enumerate() {
        for stream in [false, true] {
            let (body, _) = request_body(req, stream).unwrap();
            let found = problems(&body);
            assert!(found.is_empty(), "request {i} (stream {stream}): {found:#?}\n{body:#}");
        }
    }
}

#[test]
fn the_check_catches_unknown_and_mistyped_properties() {
    let (mut body, _) = request_body(&requests()[0], false).unwrap();
    assert!(problems(&body).is_empty());
    body["messages"][0]["content"][0]["detail"] = json!("high");
    body["max_tokens"] = json!("many");
    body["tool_choice"] = json!({"type": "sometimes"});
    let found = problems(&body);
    assert_eq!(found.len(), 3, "{found:#?}");
}
