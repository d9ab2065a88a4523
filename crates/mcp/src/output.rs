//! A tool result as text for the model, capped.

use serde_json::Value;

/// The text parts of a `CallToolResult` (JSON), non-text parts summarised,
/// structured content when there is no text, cut to `max` bytes (with a note);
/// `is_error` from the result.
pub fn render(result: &Value, max: usize) -> (String, bool) {
    let mut text = String::new();
    for part in result["content"].as_array().into_iter().flatten() {
        if !text.is_empty() {
            text.push('\n');
        }
        match part["type"].as_str() {
            Some("text") => text.push_str(part["text"].as_str().unwrap_or_default()),
            Some(kind) => {
                let mime = part["mimeType"].as_str().unwrap_or("unknown type");
                text.push_str(&format!("[{kind} content: {mime}]"));
            }
            None => {}
        }
    }
    if text.is_empty()
        && let Some(s) = result.get("structuredContent")
    {
        text = s.to_string();
    }
    (cap(text, max), result["isError"].as_bool().unwrap_or(false))
}

/// Cuts `text` to at most `max` bytes on a character boundary.
pub fn cap(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let total = text.len();
    text.truncate(end);
    text.push_str(&format!("\n[output cut at {max} of {total} bytes]"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_parts_are_joined_and_others_summarised() {
        let r = json!({"content": [{"type": "text", "text": "a"}, {"type": "image", "data": "x", "mimeType": "image/png"}], "isError": true});
        assert_eq!(render(&r, 1024), ("a\n[image content: image/png]".to_string(), true));
        let s = json!({"content": [], "structuredContent": {"sum": 3}});
        assert_eq!(render(&s, 1024).0, r#"{"sum":3}"#);
    }

    #[test]
    fn long_output_is_cut_on_a_char_boundary() {
        let out = cap("é".repeat(10), 5);
        assert!(out.starts_with("éé\n[output cut at 5 of 20 bytes]"), "{out}");
    }
}
