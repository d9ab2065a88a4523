//! Request checks the real Gemini API makes: unknown fields (protobuf JSON
//! takes camelCase or snake_case names), roles, turn order of function calls
//! and responses, the OpenAPI-only `parameters` schema, and thought signatures.

use serde_json::Value;

use super::{ApiError, SIG_PREFIX, SKIP_SIGNATURES, invalid};

/// Field names as protobuf JSON accepts them (camelCase or snake_case).
fn known(field: &str, names: &[&str]) -> bool {
    names.iter().any(|n| *n == field || camel_to_snake(n) == field)
}

fn camel_to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn get<'a>(obj: &'a Value, camel: &str) -> Option<&'a Value> {
    obj.get(camel).or_else(|| obj.get(camel_to_snake(camel)))
}

const REQUEST_FIELDS: &[&str] = &[
    "model",
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "safetySettings",
    "generationConfig",
    "cachedContent",
];
const GENERATION_FIELDS: &[&str] = &[
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
];
/// Google's OpenAPI-subset `Schema`, the only keywords `parameters` accepts.
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

fn unknown_field(obj: &Value, allowed: &[&str], at: &str) -> Option<ApiError> {
    let field = obj.as_object()?.keys().find(|k| !known(k, allowed))?;
    let at = if at.is_empty() { String::new() } else { format!(" at '{at}'") };
    Some(invalid(format!("Invalid JSON payload received. Unknown name \"{field}\"{at}: Cannot find field.")))
}

fn check_schema(schema: &Value, at: &str) -> Option<ApiError> {
    if let Some(e) = unknown_field(schema, SCHEMA_FIELDS, at) {
        return Some(e);
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            if let Some(e) = check_schema(sub, &format!("{at}.properties[{name}].value")) {
                return Some(e);
            }
        }
    }
    schema.get("items").and_then(|items| check_schema(items, &format!("{at}.items")))
}

fn is_mock_signature(sig: &str) -> bool {
    sig.starts_with(SIG_PREFIX) || SKIP_SIGNATURES.contains(&sig)
}

pub(super) fn parts(content: &Value) -> &[Value] {
    content.get("parts").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn has(content: &Value, kind: &str) -> usize {
    parts(content).iter().filter(|p| get(p, kind).is_some()).count()
}

/// Checks a `generateContent` body as the API does; returns the contents.
pub(super) fn validate<'a>(model: &str, body: &'a Value) -> Result<&'a [Value], ApiError> {
    if let Some(e) = unknown_field(body, REQUEST_FIELDS, "") {
        return Err(e);
    }
    if let Some(config) = get(body, "generationConfig") {
        if let Some(e) = unknown_field(config, GENERATION_FIELDS, "generation_config") {
            return Err(e);
        }
        let thinking = get(config, "thinkingConfig");
        if thinking.is_some_and(|t| get(t, "thinkingBudget").is_some() && get(t, "thinkingLevel").is_some()) {
            return Err(invalid("You can only set only one of thinking budget and thinking level."));
        }
    }
    for (t, tool) in get(body, "tools").and_then(Value::as_array).map_or(&[][..], Vec::as_slice).iter().enumerate() {
        let decls = get(tool, "functionDeclarations").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        for (f, decl) in decls.iter().enumerate() {
            let params = decl.get("parameters");
            if params.is_some() && get(decl, "parametersJsonSchema").is_some() {
                return Err(invalid(format!(
                    "* GenerateContentRequest.tools[{t}].function_declarations[{f}]: parameters and \
                     parameters_json_schema are mutually exclusive.\n"
                )));
            }
            let at = format!("tools[{t}].function_declarations[{f}].parameters");
            if let Some(e) = params.and_then(|p| check_schema(p, &at)) {
                return Err(e);
            }
        }
    }

    let contents = get(body, "contents").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    if contents.is_empty() {
        return Err(invalid("* GenerateContentRequest.contents: contents is not specified\n"));
    }
    for (i, c) in contents.iter().enumerate() {
        let role = c.get("role").and_then(Value::as_str).unwrap_or("user");
        if role != "user" && role != "model" {
            return Err(invalid("Please use a valid role: user, model."));
        }
        if parts(c).is_empty() {
            return Err(invalid(format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n"
            )));
        }
        let prev = i.checked_sub(1).map(|p| &contents[p]);
        let responses = has(c, "functionResponse");
        if responses > 0 {
            let calls =
                prev.filter(|p| p.get("role").and_then(Value::as_str) == Some("model")).map(|p| has(p, "functionCall"));
            match calls {
                Some(n) if n > 0 && n != responses => {
                    return Err(invalid(
                        "Please ensure that the number of function response parts is equal to the number of \
                         function call parts of the function call turn.",
                    ));
                }
                Some(n) if n > 0 => {}
                _ => {
                    return Err(invalid(
                        "Please ensure that function response turn comes immediately after a function call turn.",
                    ));
                }
            }
        }
        if role == "model"
            && has(c, "functionCall") > 0
            && prev.is_some_and(|p| p.get("role").and_then(Value::as_str) == Some("model"))
        {
            return Err(invalid(
                "Please ensure that function call turn comes immediately after a user turn or after a function \
                 response turn.",
            ));
        }
    }

    // Any signature must be one we issued; Gemini 3 also requires one on the
    // first function call of every step of the current turn.
    for c in contents {
        for p in parts(c) {
            if let Some(sig) = get(p, "thoughtSignature").and_then(Value::as_str)
                && !is_mock_signature(sig)
            {
                return Err(invalid("Corrupted thought signature."));
            }
        }
    }
    if is_gemini_3(model) {
        let turn_start = contents
            .iter()
            .rposition(|c| c.get("role").and_then(Value::as_str) != Some("model") && has(c, "functionResponse") == 0)
            .unwrap_or(0);
        for (i, c) in contents.iter().enumerate().skip(turn_start + 1) {
            let first_call = parts(c).iter().position(|p| get(p, "functionCall").is_some());
            if let Some(pos) = first_call
                && get(&parts(c)[pos], "thoughtSignature").is_none()
            {
                let name = get(&parts(c)[pos], "functionCall").and_then(|f| f.get("name")).and_then(Value::as_str);
                return Err(invalid(format!(
                    "Function call is missing a thought_signature in functionCall parts. This is required for \
                     tools to work correctly, and missing thought_signature may lead to degraded model \
                     performance. Additional data, function call `default_api:{}` , position {}. Please refer \
                     to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                    name.unwrap_or(""),
                    i + 1
                )));
            }
        }
    }
    Ok(contents)
}

pub(super) fn is_gemini_3(model: &str) -> bool {
    let rest = model.strip_prefix("gemini-").unwrap_or("");
    let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
    major.parse::<u32>().is_ok_and(|v| v >= 3)
}

pub(super) fn is_chat_model(model: &str) -> bool {
    ["gemini-", "gemma-", "learnlm-"].iter().any(|p| model.starts_with(p)) && !model.contains("embedding")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rejects_what_the_api_rejects() {
        let ok = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
        assert!(validate("gemini-3-flash-preview", &ok).is_ok());
        for bad in [
            json!({"contents": []}),
            json!({"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]}),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "temperature": 1}),
            json!({"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]}),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "additionalProperties": false}}]}]}),
            json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]}),
        ] {
            assert!(validate("gemini-3-flash-preview", &bad).is_err(), "{bad}");
        }
    }
}
