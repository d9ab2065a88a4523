//! Streaming: a small driver that feeds SSE events to a per-protocol parser as
//! they arrive, and the Chat Completions chunk parser.

use std::collections::VecDeque;

use eventsource_stream::Event;
use futures::StreamExt;

use super::convert::{finish_from_wire, usage_from_wire};
use super::types::{ApiError, ChatCompletionChunk};
use crate::EventStream;
use crate::client::Upstream;
use crate::error::ProviderError;
use crate::http::sse_events;
use crate::model::{FinishReason, StreamEvent, Usage};
use crate::names::ToolNames;

/// Turns one protocol's SSE events into [`StreamEvent`]s.
pub(crate) trait FrameParser: Send + 'static {
    /// Handles one SSE event, pushing what it translates to onto `out`.
    /// Returns `true` once the answer is complete (no more events are read).
    fn on_event(&mut self, event: &Event, out: &mut VecDeque<StreamEvent>) -> Result<bool, ProviderError>;

    /// The upstream closed the stream before `on_event` reported completion.
    fn on_close(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError>;
}

struct Driver<P> {
    events: futures::stream::BoxStream<'static, Result<Event, ProviderError>>,
    parser: P,
    pending: VecDeque<StreamEvent>,
    /// An error to yield once `pending` is drained.
    failed: Option<ProviderError>,
    finished: bool,
}

/// Translates a streaming answer event by event; nothing is buffered beyond
/// the events one SSE frame produced. Dropping the stream drops the connection.
pub(crate) fn translate<P: FrameParser>(resp: Upstream, parser: P) -> EventStream {
    let driver = Driver {
        events: sse_events(resp).boxed(),
        parser,
        pending: VecDeque::with_capacity(4),
        failed: None,
        finished: false,
    };
    futures::stream::unfold(driver, |mut d| async move {
        loop {
            if let Some(ev) = d.pending.pop_front() {
                return Some((Ok(ev), d));
            }
            if let Some(e) = d.failed.take() {
                return Some((Err(e), d));
            }
            if d.finished {
                return None;
            }
            let result = match d.events.next().await {
                Some(Ok(ev)) => d.parser.on_event(&ev, &mut d.pending),
                Some(Err(e)) => Err(e),
                None => d.parser.on_close(&mut d.pending).map(|()| true),
            };
            match result {
                Ok(done) => d.finished = done,
                Err(e) => {
                    d.finished = true;
                    d.failed = Some(e);
                }
            }
        }
    })
    .boxed()
}

/// The error an error reported inside a 200 answer stands for (an
/// `{"error":{...}}` chunk, a Responses `error` event or `failed` response).
/// With no HTTP status to go by, its type and code decide: rate limits cool
/// the key, request errors are final, everything else is worth a retry.
pub(crate) fn in_band_error(kind: &str, code: &str, message: String, body: String) -> ProviderError {
    if kind.contains("rate_limit") || code.contains("rate_limit") {
        ProviderError::RateLimited { retry_after: None, message }
    } else if kind == "invalid_request_error" {
        ProviderError::InvalidRequest { status: 400, message, body }
    } else {
        ProviderError::Upstream { status: 500, message, body }
    }
}

fn chunk_error(err: ApiError) -> ProviderError {
    let body = serde_json::to_string(&err).unwrap_or_default();
    let code = err.code.as_ref().and_then(|c| c.as_str()).unwrap_or_default();
    in_band_error(err.kind.as_deref().unwrap_or_default(), code, err.message, body)
}

/// One tool call seen in the stream: the wire index it arrives under and its id.
struct CallSlot {
    wire_index: u32,
    id: String,
}

/// Parser for `chat.completion.chunk` streams.
pub(crate) struct ChatStreamParser {
    names: ToolNames,
    started: bool,
    calls: Vec<CallSlot>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

impl ChatStreamParser {
    /// A parser mapping tool names back through `names`.
    pub(crate) fn new(names: ToolNames) -> Self {
        ChatStreamParser { names, started: false, calls: Vec::new(), finish: None, usage: None }
    }

    fn handle_chunk(
        &mut self,
        chunk: ChatCompletionChunk,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), ProviderError> {
        if let Some(err) = chunk.error {
            return Err(chunk_error(err));
        }
        if !self.started {
            self.started = true;
            out.push_back(StreamEvent::Start { id: chunk.id, model: chunk.model });
        }
        // Usage arrives on the last chunk (or, with some servers, on every chunk,
        // cumulatively): keep the latest and report it once at the end.
        if let Some(u) = chunk.usage {
            self.usage = Some(usage_from_wire(u));
        }
        // n > 1 is not part of the gateway's model: only the first choice counts.
        let Some(choice) = chunk.choices.into_iter().find(|c| c.index == 0) else { return Ok(()) };
        let delta = choice.delta;
        if let Some(thinking) = delta.reasoning_content.filter(|t| !t.is_empty()) {
            out.push_back(StreamEvent::ThinkingDelta { thinking });
        }
        if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
            out.push_back(StreamEvent::TextDelta { text });
        }
        if let Some(text) = delta.refusal.filter(|t| !t.is_empty()) {
            out.push_back(StreamEvent::TextDelta { text });
        }
        for tc in delta.tool_calls.into_iter().flatten() {
            let (name, arguments) = tc.function.map(|f| (f.name, f.arguments)).unwrap_or_default();
            let id = tc.id.filter(|id| !id.is_empty());
            let index = self.slot_for(tc.index, id, name, out);
            if let Some(arguments) = arguments.filter(|a| !a.is_empty()) {
                out.push_back(StreamEvent::ToolCallDelta { index, arguments });
            }
        }
        if let Some(reason) = choice.finish_reason {
            self.finish = Some(finish_from_wire(Some(&reason), !self.calls.is_empty()));
        }
        Ok(())
    }

    /// Our index for a tool-call piece, opening a new call when the piece starts
    /// one. A new id under a wire index already in use also opens a call: some
    /// compatible servers (Ollama) send every parallel call under index 0.
    fn slot_for(
        &mut self,
        wire_index: u32,
        id: Option<String>,
        name: Option<String>,
        out: &mut VecDeque<StreamEvent>,
    ) -> u32 {
        let current = self.calls.iter().rposition(|c| c.wire_index == wire_index);
        let opens = match (&id, current) {
            (_, None) => true,
            (Some(id), Some(i)) => self.calls[i].id != *id,
            (None, Some(_)) => false,
        };
        if !opens {
            return current.unwrap_or_default() as u32;
        }
        let index = self.calls.len() as u32;
        let id = id.unwrap_or_else(|| format!("call_{index}"));
        let name = self.names.from_wire(name.as_deref().unwrap_or_default());
        out.push_back(StreamEvent::ToolCallStart { index, id: id.clone(), name });
        self.calls.push(CallSlot { wire_index, id });
        index
    }

    fn flush(&mut self, out: &mut VecDeque<StreamEvent>) {
        if let Some(usage) = self.usage.take() {
            out.push_back(StreamEvent::Usage { usage });
        }
        let reason = self.finish.take().unwrap_or_else(|| finish_from_wire(None, !self.calls.is_empty()));
        out.push_back(StreamEvent::Finish { reason });
    }
}

impl FrameParser for ChatStreamParser {
    fn on_event(&mut self, event: &Event, out: &mut VecDeque<StreamEvent>) -> Result<bool, ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.flush(out);
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: ChatCompletionChunk =
            serde_json::from_str(data).map_err(|e| ProviderError::Decode(format!("stream chunk: {e}")))?;
        self.handle_chunk(chunk, out)?;
        Ok(false)
    }

    fn on_close(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        // Servers that skip `[DONE]` still end with a finish reason; without one
        // the answer was cut off.
        if self.finish.is_some() {
            self.flush(out);
            Ok(())
        } else {
            Err(ProviderError::Network("stream ended before the answer was complete".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(parser: &mut ChatStreamParser, data: &str) -> Vec<StreamEvent> {
        let mut out = VecDeque::new();
        let ev = Event { data: data.to_string(), ..Default::default() };
        parser.on_event(&ev, &mut out).unwrap();
        out.into_iter().collect()
    }

    #[test]
    fn parallel_calls_under_one_index_are_split() {
        let mut p = ChatStreamParser::new(ToolNames::default());
        feed(&mut p, r#"{"id":"x","model":"m","choices":[{"index":0,"delta":{"role":"assistant"}}]}"#);
        let a = feed(
            &mut p,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}"#,
        );
        let b = feed(
            &mut p,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"g","arguments":"{}"}}]}}]}"#,
        );
        assert_eq!(a[0], StreamEvent::ToolCallStart { index: 0, id: "a".into(), name: "f".into() });
        assert_eq!(b[0], StreamEvent::ToolCallStart { index: 1, id: "b".into(), name: "g".into() });
        assert_eq!(b[1], StreamEvent::ToolCallDelta { index: 1, arguments: "{}".into() });
        let end = feed(&mut p, "[DONE]");
        assert_eq!(end, vec![StreamEvent::Finish { reason: FinishReason::ToolCalls }]);
    }

    #[test]
    fn error_object_mid_stream() {
        let mut p = ChatStreamParser::new(ToolNames::default());
        let mut out = VecDeque::new();
        let ev = Event {
            data: r#"{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}"#.into(),
            ..Default::default()
        };
        let err = p.on_event(&ev, &mut out).unwrap_err();
        assert!(matches!(err, ProviderError::Upstream { ref message, .. } if message == "overloaded"));
        assert!(p.on_close(&mut out).is_err());
    }
}
