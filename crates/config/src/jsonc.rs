//! JSON with comments: `//` and `/* */` comments and trailing commas, so the
//! shipped example can explain every key. Comments become spaces (newlines are
//! kept) so that line and column numbers in later parse errors still point
//! into the original file.

/// Where the scanner is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    String,
    StringEscape,
    LineComment,
    BlockComment,
    BlockCommentStar,
}

/// Returns `text` as plain JSON: comments blanked, trailing commas before `}` or
/// `]` blanked, a leading byte-order mark dropped. Text inside strings is never
/// touched, so `"http://x"` survives. Errors on an unterminated block comment.
pub(crate) fn strip(text: &str) -> Result<String, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut state = State::Code;
    // Index in `out` of a comma that is trailing if the next token closes a container.
    let mut pending_comma: Option<usize> = None;
    let mut block_start_line = 0usize;
    let mut line = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
        }
        match state {
            State::Code => match b {
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    state = State::LineComment;
                    out.extend_from_slice(b"  ");
                    i += 1;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => {
                    state = State::BlockComment;
                    block_start_line = line;
                    out.extend_from_slice(b"  ");
                    i += 1;
                }
                b' ' | b'\t' | b'\r' | b'\n' => out.push(b),
                b',' => {
                    pending_comma = Some(out.len());
                    out.push(b);
                }
                _ => {
                    if let (Some(at), b'}' | b']') = (pending_comma, b) {
                        out[at] = b' ';
                    }
                    pending_comma = None;
                    if b == b'"' {
                        state = State::String;
                    }
                    out.push(b);
                }
            },
            State::String => {
                state = match b {
                    b'\\' => State::StringEscape,
                    b'"' => State::Code,
                    _ => State::String,
                };
                out.push(b);
            }
            State::StringEscape => {
                state = State::String;
                out.push(b);
            }
            State::LineComment => {
                if b == b'\n' {
                    state = State::Code;
                    out.push(b);
                } else {
                    out.push(blank(b));
                }
            }
            State::BlockComment | State::BlockCommentStar => {
                state = match (state, b) {
                    (State::BlockCommentStar, b'/') => State::Code,
                    (_, b'*') => State::BlockCommentStar,
                    _ => State::BlockComment,
                };
                out.push(blank(b));
            }
        }
        i += 1;
    }
    if matches!(state, State::BlockComment | State::BlockCommentStar) {
        return Err(format!("unterminated /* comment starting at line {block_start_line}"));
    }
    // Only whole comments were replaced, byte by byte with ASCII, so this cannot fail.
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// A comment byte as it appears in the output: line breaks stay, all else is a space.
fn blank(b: u8) -> u8 {
    if b == b'\n' || b == b'\r' { b } else { b' ' }
}

#[cfg(test)]
mod tests {
    use super::strip;
    use serde_json::{Value, json};

    fn parse(text: &str) -> Value {
        serde_json::from_str(&strip(text).unwrap()).unwrap()
    }

    #[test]
    fn line_and_block_comments_are_removed() {
        let text = "// head\n{ /* a */ \"a\": 1, // tail\n /* multi\n line */ \"b\": [2 /* in */, 3] }\n// end";
        assert_eq!(parse(text), json!({"a": 1, "b": [2, 3]}));
    }

    #[test]
    fn comment_markers_inside_strings_are_kept() {
        let text = r#"{"url": "http://x//y", "c": "/* not a comment */", "q": "say \"//hi\" \\", "d": "a\\"} // x"#;
        assert_eq!(
            parse(text),
            json!({"url": "http://x//y", "c": "/* not a comment */", "q": "say \"//hi\" \\", "d": "a\\"})
        );
    }

    #[test]
    fn trailing_commas_are_dropped_but_not_inside_strings() {
        let text = "{\"a\": [1, 2, ], \"s\": \",]\", \"o\": {\"x\": 1, /* c */ \n // c\n },\n}";
        assert_eq!(parse(text), json!({"a": [1, 2], "s": ",]", "o": {"x": 1}}));
    }

    #[test]
    fn positions_are_preserved() {
        let text = "{ /* é */ \"a\": 1,\n// ü comment\n\"b\": 2 }";
        let stripped = strip(text).unwrap();
        assert_eq!(stripped.len(), text.len());
        assert_eq!(stripped.lines().count(), text.lines().count());
        // A syntax error after comments reports the original line.
        let err = serde_json::from_str::<Value>(&strip("{\n// c\n\"a\": nope}").unwrap()).unwrap_err();
        assert_eq!(err.line(), 3);
    }

    #[test]
    fn byte_order_mark_and_unterminated_comment() {
        assert_eq!(parse("\u{feff}{\"a\": true}"), json!({"a": true}));
        let err = strip("{\n\"a\": 1 /* open").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn a_lone_slash_is_left_for_the_json_parser() {
        assert!(serde_json::from_str::<Value>(&strip("{\"a\": 1 / 2}").unwrap()).is_err());
        assert_eq!(strip("{\"a\": \"/\"}").unwrap(), "{\"a\": \"/\"}");
    }
}
