//! Helpers shared by the OpenAI-protocol test binaries.
#![allow(dead_code)] // each binary uses its own subset
// Test helpers: failing loudly is their job.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod schema;

use serde_json::Value;
use spgw_mocks::{MockServer, Recorded};
use spgw_providers::{ChatRequest, ContentPart, Endpoint, EventStream, Message, ProviderError, Role, StreamEvent};

/// A running mock and a client for it.
pub struct Harness {
    pub mock: MockServer,
    pub http: spgw_providers::Http,
}

impl Harness {
    /// Starts a fresh mock on a free port.
    pub async fn start() -> Self {
        Harness {
            mock: spgw_mocks::spawn().await.expect("mock starts"),
            http: spgw_providers::Http::new(&Default::default()).unwrap(),
        }
    }

    /// The endpoint of `provider` on the mock, with a valid key.
    pub fn endpoint(&self, provider: &str) -> Endpoint {
        self.endpoint_with_key(provider, "test-key")
    }

    /// The endpoint of `provider` on the mock, with `key`.
    pub fn endpoint_with_key(&self, provider: &str, key: &str) -> Endpoint {
        Endpoint { base_url: self.mock.base_url(provider), api_key: key.into() }
    }

    /// The only request recorded so far.
    pub fn only_request(&self) -> Recorded {
        let reqs = self.mock.requests();
        assert_eq!(reqs.len(), 1, "expected one upstream request, got {reqs:#?}");
        reqs.into_iter().next().expect("one request")
    }

    /// The last request recorded.
    pub fn last_request(&self) -> Recorded {
        self.mock.requests().pop().expect("a request was made")
    }
}

/// A request with one user message.
pub fn ask(model: &str, text: &str) -> ChatRequest {
    ChatRequest { model: model.into(), messages: vec![Message::text(Role::User, text)], ..Default::default() }
}

/// Every event of a stream, stopping at the first error (returned last).
pub async fn collect(mut stream: EventStream) -> (Vec<StreamEvent>, Option<ProviderError>) {
    use futures::StreamExt;
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(ev) => events.push(ev),
            Err(e) => return (events, Some(e)),
        }
    }
    (events, None)
}

/// Text deltas joined.
pub fn streamed_text(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Argument deltas of tool call `index` joined.
pub fn streamed_arguments(events: &[StreamEvent], index: u32) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta { index: i, arguments } if *i == index => Some(arguments.as_str()),
            _ => None,
        })
        .collect()
}

/// Thinking text of a response's parts.
pub fn thinking(parts: &[ContentPart]) -> String {
    parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Thinking { thinking, .. } => Some(thinking.as_str()),
            _ => None,
        })
        .collect()
}

/// The value of header `name` in a recorded request.
pub fn header<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A fixture file of `tests/fixtures/openai`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/openai/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A JSON fixture.
pub fn json_fixture(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The `data:` payloads of an SSE transcript, with the `event:` name of each.
pub fn sse_frames(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let mut event = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (event, data)
        })
        .collect()
}
