//! Helpers shared by the Anthropic adapter tests.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::response::IntoResponse;
use futures::StreamExt;
use serde_json::Value;
use spgw_providers::{Endpoint, EventStream, ProviderError, StreamEvent, ToolCall, Usage};

/// A documentation fixture's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/anthropic/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A documentation fixture parsed as JSON.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

pub fn endpoint(base_url: String) -> Endpoint {
    Endpoint { base_url, api_key: "test-key".into() }
}

/// A server on a free port answering every request with `body` (SSE when
/// `content_type` says so, one event per chunk). Returns its base URL.
pub async fn replay(body: String, content_type: &'static str) -> String {
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move {
            let chunks: Vec<Result<Bytes, Infallible>> =
                body.split_inclusive("\n\n").map(|c| Ok(Bytes::from(c.to_string()))).collect();
            ([(axum::http::header::CONTENT_TYPE, content_type)], Body::from_stream(futures::stream::iter(chunks)))
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Every item of a stream.
pub async fn collect(stream: EventStream) -> Vec<Result<StreamEvent, ProviderError>> {
    stream.collect().await
}

/// A stream's events put back together.
#[derive(Debug, Default)]
pub struct Assembled {
    pub id: String,
    pub model: String,
    pub text: String,
    pub thinking: String,
    pub signature: String,
    pub calls: Vec<ToolCall>,
    pub usage: Option<Usage>,
    pub finish: Option<spgw_providers::FinishReason>,
    pub starts: usize,
}

pub fn assemble(events: &[Result<StreamEvent, ProviderError>]) -> Assembled {
    let mut a = Assembled::default();
    for e in events {
        match e.as_ref().unwrap_or_else(|e| panic!("stream error: {e}")) {
            StreamEvent::Start { id, model } => {
                a.starts += 1;
                a.id = id.clone();
                a.model = model.clone();
            }
            StreamEvent::TextDelta { text } => a.text.push_str(text),
            StreamEvent::ThinkingDelta { thinking } => a.thinking.push_str(thinking),
            StreamEvent::ThinkingSignature { signature } => a.signature.push_str(signature),
            StreamEvent::ToolCallStart { index, id, name } => {
                assert_eq!(*index as usize, a.calls.len(), "tool call indexes count up from 0");
                a.calls.push(ToolCall { id: id.clone(), name: name.clone(), arguments: String::new() });
            }
            StreamEvent::ToolCallDelta { index, arguments } => a.calls[*index as usize].arguments.push_str(arguments),
            StreamEvent::Usage { usage } => a.usage = Some(*usage),
            StreamEvent::Finish { reason } => a.finish = Some(reason.clone()),
        }
    }
    a
}

/// SSE text split into (`event:` name, `data:` JSON) pairs.
pub fn parse_sse(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|frame| {
            let mut event = String::new();
            let mut data = String::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_string();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                }
            }
            (event, serde_json::from_str(&data).unwrap_or_else(|e| panic!("bad data {data:?}: {e}")))
        })
        .collect()
}

/// The JSON shape that a set of documented examples shows: for every path, the
/// JSON types seen there, and for every object, the keys all examples have.
/// Objects with a string `type` are told apart by it (`content[]<text>`), and a
/// tool's `input` is opaque (its keys are the tool's).
#[derive(Debug, Default)]
pub struct Shape {
    /// Whether top-level objects are told apart by `type` too (stream events are;
    /// Message examples are not, as abbreviated ones leave `type` out).
    tag_root: bool,
    types: BTreeMap<String, BTreeSet<&'static str>>,
    /// Object path -> (occurrences, key -> occurrences).
    objects: BTreeMap<String, (usize, BTreeMap<String, usize>)>,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn tagged(path: &str, v: &Value) -> String {
    match v.get("type").and_then(Value::as_str) {
        Some(t) => format!("{path}<{t}>"),
        None => path.to_string(),
    }
}

impl Shape {
    /// A shape for stream events, keyed by event type.
    pub fn events() -> Self {
        Shape { tag_root: true, ..Shape::default() }
    }

    fn root(&self, v: &Value) -> String {
        if self.tag_root { tagged("$", v) } else { "$".to_string() }
    }

    /// Learns from one example. An abbreviated example (`complete == false`)
    /// adds types and keys but does not make its top-level keys optional.
    pub fn learn(&mut self, v: &Value, complete: bool) {
        self.learn_at(&self.root(v), v, complete);
    }

    fn learn_at(&mut self, path: &str, v: &Value, counts: bool) {
        self.types.entry(path.to_string()).or_default().insert(kind(v));
        if path.ends_with("<tool_use>.input") {
            return;
        }
        match v {
            Value::Object(o) => {
                if counts {
                    let entry = self.objects.entry(path.to_string()).or_default();
                    entry.0 += 1;
                    for k in o.keys() {
                        *entry.1.entry(k.clone()).or_default() += 1;
                    }
                }
                for (k, child) in o {
                    self.learn_at(&tagged(&format!("{path}.{k}"), child), child, true);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.learn_at(&tagged(&format!("{path}[]"), item), item, true);
                }
            }
            _ => {}
        }
    }

    /// What in `v` the examples do not document: unknown paths, other types,
    /// missing keys that every example has.
    pub fn problems(&self, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check_at(&self.root(v), v, &mut out);
        out
    }

    fn check_at(&self, path: &str, v: &Value, out: &mut Vec<String>) {
        let Some(types) = self.types.get(path) else {
            out.push(format!("{path}: not in the documented examples"));
            return;
        };
        if !types.contains(kind(v)) {
            out.push(format!("{path}: {} where the docs show {types:?}", kind(v)));
            return;
        }
        if path.ends_with("<tool_use>.input") {
            return;
        }
        match v {
            Value::Object(o) => {
                if let Some((n, keys)) = self.objects.get(path) {
                    for (k, seen) in keys {
                        if seen == n && !o.contains_key(k) {
                            out.push(format!("{path}: missing {k}"));
                        }
                    }
                }
                for (k, child) in o {
                    self.check_at(&tagged(&format!("{path}.{k}"), child), child, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.check_at(&tagged(&format!("{path}[]"), item), item, out);
                }
            }
            _ => {}
        }
    }
}
