//! Mock upstreams for every provider, on one loopback port, each under its own
//! path prefix so a provider's `base_url` can point at it:
//!
//! | provider | base_url |
//! | --- | --- |
//! | openai | `http://ADDR/openai/v1` |
//! | anthropic | `http://ADDR/anthropic` |
//! | google | `http://ADDR/google` |
//! | xai | `http://ADDR/xai/v1` |
//! | deepseek | `http://ADDR/deepseek` |
//! | huggingface | `http://ADDR/huggingface/v1` (media: `/huggingface/hf-inference`) |
//!
//! Behaviour is driven by directives in the last user message (see
//! [`Directives`]), so a test scripts the upstream through the request it sends
//! and no shared state needs resetting. Every request is recorded and can be
//! inspected (`requests()`, or `GET /_mock/requests`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use serde_json::Value;

pub mod anthropic;
pub mod google;
pub mod huggingface;
pub mod media;
pub mod openai;
pub mod script;

/// One request as the mock received it.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// `openai`, `anthropic`, `google`, `xai`, `deepseek`, `huggingface`.
    pub provider: String,
    /// Path after the provider prefix, with the query string.
    pub path: String,
    /// Lower-cased header names with their values.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`null` when there was none or it was not JSON).
    pub body: Value,
}

/// Shared state of a mock server: the request log.
#[derive(Clone, Default)]
pub struct MockState {
    log: Arc<Mutex<Vec<Recorded>>>,
    /// Replies queued by tests (see [`script`]).
    pub scripts: script::Scripts,
}

impl MockState {
    /// Appends a request to the log.
    pub fn record(&self, r: Recorded) {
        if let Ok(mut log) = self.log.lock() {
            log.push(r);
        }
    }

    /// A copy of every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        if let Ok(mut log) = self.log.lock() {
            log.clear();
        }
    }
}

/// Converts a header map to the recorded form.
pub fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect()
}

/// Behaviour requested by markers in the last user message's text:
///
/// - `[[status:429]]` (any status): answer with that error in the provider's
///   error shape; `[[retry-after:2]]` adds the header.
/// - `[[tool:NAME {"a":1}]]`: answer with a call of tool `NAME` (the wire name the
///   gateway sent) with those arguments, unless the conversation already ends in
///   a tool result, in which case the answer is text quoting that result.
/// - `[[json]]`: answer with a JSON object text.
/// - `[[chunks:N]]`, `[[gap-ms:M]]`: when streaming, split the text into N
///   deltas with M ms between them.
/// - `[[delay-ms:M]]`: wait before answering.
/// - `[[thinking]]`: include a reasoning/thinking block (where the provider has one).
/// - `[[cut-after:N]]`: when streaming, drop the connection after N frames, as
///   an upstream that dies mid-answer does (no terminating event).
///
/// - `[[script:KEY]]`: (OpenAI protocol) answer with the next reply a test queued
///   under `KEY` (see [`script`]).
///
/// Without markers the answer is `Hello! You said: <text>`. Keys named
/// `bad-key` are refused with 401, as the real provider would.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directives {
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub tool: Option<(String, String)>,
    pub json: bool,
    pub chunks: Option<usize>,
    pub gap: Option<Duration>,
    pub delay: Option<Duration>,
    pub thinking: bool,
    pub cut_after: Option<usize>,
}

impl Directives {
    /// Reads the markers out of a text.
    pub fn parse(text: &str) -> Self {
        let mut d = Directives::default();
        let mut rest = text;
        while let Some(start) = rest.find("[[") {
            let Some(end) = rest[start..].find("]]") else { break };
            let inner = &rest[start + 2..start + end];
            rest = &rest[start + end + 2..];
            let (name, arg) = inner.split_once(':').unwrap_or((inner, ""));
            match name.trim() {
                "status" => d.status = arg.trim().parse().ok(),
                "retry-after" => d.retry_after = arg.trim().parse().ok(),
                "tool" => {
                    let arg = arg.trim();
                    let (tool, args) = arg.split_once(' ').unwrap_or((arg, "{}"));
                    d.tool = Some((tool.to_string(), args.trim().to_string()));
                }
                "json" => d.json = true,
                "thinking" => d.thinking = true,
                "chunks" => d.chunks = arg.trim().parse().ok(),
                "gap-ms" => d.gap = arg.trim().parse().ok().map(Duration::from_millis),
                "delay-ms" => d.delay = arg.trim().parse().ok().map(Duration::from_millis),
                "cut-after" => d.cut_after = arg.trim().parse().ok(),
                _ => {}
            }
        }
        d
    }

    /// The reply text for a user text under these directives.
    pub fn reply_text(&self, user_text: &str) -> String {
        if self.json {
            return serde_json::json!({"answer": "mock", "echo": strip_markers(user_text)}).to_string();
        }
        format!("Hello! You said: {}", strip_markers(user_text))
    }

    /// Splits a reply into the stream deltas asked for (default: words).
    pub fn split<'a>(&self, text: &'a str) -> Vec<&'a str> {
        match self.chunks {
            Some(n) if n > 0 => {
                let size = text.len().div_ceil(n).max(1);
                let mut out = Vec::with_capacity(n);
                let mut start = 0;
                while start < text.len() {
                    let mut end = (start + size).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    out.push(&text[start..end]);
                    start = end;
                }
                out
            }
            _ => text.split_inclusive(' ').collect(),
        }
    }
}

/// A streamed body that, with `[[cut-after:N]]`, breaks after N chunks: the
/// connection is aborted mid-answer, with no terminating event.
pub fn cut_after(body: axum::body::Body, after: Option<usize>) -> axum::body::Body {
    use futures::StreamExt;
    let Some(n) = after else { return body };
    let cut = futures::stream::once(async { Err(std::io::Error::other("stream cut by [[cut-after]]")) });
    let stream = body.into_data_stream().take(n).map(|r| r.map_err(std::io::Error::other)).chain(cut);
    axum::body::Body::from_stream(stream)
}

/// The text without `[[...]]` markers.
pub fn strip_markers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("[[") {
        out.push_str(&rest[..start]);
        match rest[start..].find("]]") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// A rough, deterministic token count for mock usage figures.
pub fn count_tokens(text: &str) -> u64 {
    text.split_whitespace().count().max(1) as u64
}

/// A running mock server.
pub struct MockServer {
    pub addr: SocketAddr,
    pub state: MockState,
}

impl MockServer {
    /// `http://ADDR/PREFIX`, the base URL to give provider `name`.
    pub fn base_url(&self, provider: &str) -> String {
        let suffix = match provider {
            "openai" | "xai" | "huggingface" => "/v1",
            _ => "",
        };
        format!("http://{}/{provider}{suffix}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests()
    }
}

/// The mock's router, for embedding or serving.
pub fn router(state: MockState) -> Router {
    Router::new()
        .route("/_mock/requests", get(list_requests).delete(clear_requests))
        .merge(script::router())
        .merge(openai::router())
        .merge(anthropic::router())
        .merge(google::router())
        .merge(huggingface::router())
        .with_state(state)
}

async fn list_requests(State(s): State<MockState>) -> axum::Json<Vec<Recorded>> {
    axum::Json(s.requests())
}

async fn clear_requests(State(s): State<MockState>) -> axum::http::StatusCode {
    s.clear();
    axum::http::StatusCode::NO_CONTENT
}

/// Starts a mock server on a free loopback port.
pub async fn spawn() -> std::io::Result<MockServer> {
    serve_on("127.0.0.1:0").await
}

/// Starts a mock server on `addr` (e.g. `127.0.0.1:0`).
pub async fn serve_on(addr: &str) -> std::io::Result<MockServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let state = MockState::default();
    let app = router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(MockServer { addr, state })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directives() {
        let d =
            Directives::parse(r#"hi [[status:429]] [[retry-after:2]] [[tool:task_create {"title":"x"}]] [[chunks:3]]"#);
        assert_eq!(d.status, Some(429));
        assert_eq!(d.retry_after, Some(2));
        assert_eq!(d.tool, Some(("task_create".into(), r#"{"title":"x"}"#.into())));
        assert_eq!(d.chunks, Some(3));
        assert_eq!(strip_markers("a [[json]] b"), "a  b");
        assert_eq!(d.split("abcdefgh"), vec!["abc", "def", "gh"]);
    }
}
