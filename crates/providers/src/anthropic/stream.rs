//! Anthropic's SSE stream to our [`StreamEvent`]s, translated event by event as
//! the bytes arrive.

use std::collections::VecDeque;

use eventsource_stream::Event;
use futures::{Stream, StreamExt};

use super::convert::{ResponseContext, finish_reason, usage};
use super::types::{BlockDelta, ContentBlock, ErrorDetail, WireStreamEvent, WireUsage};
use crate::EventStream;
use crate::error::ProviderError;
use crate::http::error_from_parts;
use crate::model::{FinishReason, StreamEvent};

/// The HTTP status Anthropic answers with for an error `type`; also the status a
/// stream's `error` event stands for (an `overloaded_error` is a 529).
pub fn status_for_error_type(kind: &str) -> u16 {
    match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "overloaded_error" => 529,
        _ => 500,
    }
}

/// Turns the SSE events of a `/v1/messages` stream into translated events. The
/// stream ends after `message_stop`, or with an error if the upstream closes
/// before it (a truncated answer must not look complete).
pub(crate) fn translate<S>(events: S, ctx: ResponseContext) -> EventStream
where
    S: Stream<Item = Result<Event, ProviderError>> + Send + 'static,
{
    let state = (Box::pin(events), Translator::new(ctx), VecDeque::with_capacity(2), false);
    futures::stream::unfold(state, |(mut events, mut tr, mut queue, mut done)| async move {
        loop {
            if let Some(item) = queue.pop_front() {
                return Some((item, (events, tr, queue, done)));
            }
            if done {
                return None;
            }
            match events.next().await {
                Some(Ok(ev)) => done = tr.on_event(&ev.data, &mut queue),
                Some(Err(e)) => {
                    queue.push_back(Err(e));
                    done = true;
                }
                None => {
                    if !tr.stopped {
                        queue.push_back(Err(ProviderError::Network("stream ended before message_stop".into())));
                    }
                    done = true;
                }
            }
        }
    })
    .boxed()
}

/// Where a `tool_use` block's input deltas go.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A real tool call, by its index among this answer's calls.
    Call(u32),
    /// The forced tool that carries a JSON-mode answer: its input is answer text.
    JsonText,
}

#[derive(Debug)]
struct ToolBlock {
    block: u32,
    target: Target,
    got_input: bool,
}

/// Per-stream state: which content block is which tool call, and the usage so far.
struct Translator {
    ctx: ResponseContext,
    tools: Vec<ToolBlock>,
    calls: u32,
    usage: WireUsage,
    json_answer: bool,
    stopped: bool,
}

type Out = VecDeque<Result<StreamEvent, ProviderError>>;

impl Translator {
    fn new(ctx: ResponseContext) -> Self {
        Translator { ctx, tools: Vec::new(), calls: 0, usage: WireUsage::default(), json_answer: false, stopped: false }
    }

    /// Handles one event's `data`; returns true when the stream is over.
    fn on_event(&mut self, data: &str, out: &mut Out) -> bool {
        let event: WireStreamEvent = match serde_json::from_str(data) {
            Ok(e) => e,
            Err(e) => {
                out.push_back(Err(ProviderError::Decode(format!("bad stream event: {e}"))));
                return true;
            }
        };
        match event {
            WireStreamEvent::MessageStart { message } => {
                out.push_back(Ok(StreamEvent::Start { id: message.id, model: message.model }));
                self.usage = message.usage;
                if message.usage.input_tokens.is_some() {
                    out.push_back(Ok(StreamEvent::Usage { usage: usage(&self.usage) }));
                }
            }
            WireStreamEvent::ContentBlockStart { index, content_block } => self.block_start(index, content_block, out),
            WireStreamEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            WireStreamEvent::ContentBlockStop { index } => {
                // A call without arguments streams no input at all; say `{}` so
                // the assembled arguments are valid JSON.
                if let Some(t) = self.tools.iter().find(|t| t.block == index && !t.got_input)
                    && let Target::Call(i) = t.target
                {
                    out.push_back(Ok(StreamEvent::ToolCallDelta { index: i, arguments: "{}".into() }));
                }
            }
            WireStreamEvent::MessageDelta { delta, usage: delta_usage } => {
                if let Some(u) = delta_usage {
                    // Counts are cumulative; newer API versions repeat the input side here too.
                    self.usage.output_tokens = u.output_tokens;
                    self.usage.input_tokens = u.input_tokens.or(self.usage.input_tokens);
                    self.usage.cache_read_input_tokens =
                        u.cache_read_input_tokens.or(self.usage.cache_read_input_tokens);
                    self.usage.cache_creation_input_tokens =
                        u.cache_creation_input_tokens.or(self.usage.cache_creation_input_tokens);
                    out.push_back(Ok(StreamEvent::Usage { usage: usage(&self.usage) }));
                }
                if let Some(reason) = delta.stop_reason {
                    let mut reason = finish_reason(&reason);
                    if self.json_answer && reason == FinishReason::ToolCalls {
                        reason = FinishReason::Stop;
                    }
                    out.push_back(Ok(StreamEvent::Finish { reason }));
                }
            }
            WireStreamEvent::MessageStop => {
                self.stopped = true;
                return true;
            }
            WireStreamEvent::Error { error } => {
                out.push_back(Err(stream_error(error, data)));
                return true;
            }
            WireStreamEvent::Ping | WireStreamEvent::Unknown => {}
        }
        false
    }

    fn block_start(&mut self, index: u32, block: ContentBlock, out: &mut Out) {
        match block {
            ContentBlock::Text { text, .. } if !text.is_empty() => out.push_back(Ok(StreamEvent::TextDelta { text })),
            ContentBlock::Thinking { thinking, signature } => {
                if !thinking.is_empty() {
                    out.push_back(Ok(StreamEvent::ThinkingDelta { thinking }));
                }
                if let Some(signature) = signature.filter(|s| !s.is_empty()) {
                    out.push_back(Ok(StreamEvent::ThinkingSignature { signature }));
                }
            }
            ContentBlock::ToolUse { id, name, input, .. } => {
                let target = if self.ctx.json_tool.as_deref() == Some(name.as_str()) {
                    self.json_answer = true;
                    Target::JsonText
                } else {
                    let i = self.calls;
                    self.calls += 1;
                    out.push_back(Ok(StreamEvent::ToolCallStart {
                        index: i,
                        id,
                        name: self.ctx.names.from_wire(&name),
                    }));
                    Target::Call(i)
                };
                // The API starts every tool_use with `input: {}` and streams the
                // input as deltas; a non-empty start is taken as the whole input.
                let got_input = input.as_object().is_some_and(|o| !o.is_empty());
                if got_input {
                    out.push_back(Ok(input_event(target, input.to_string())));
                }
                self.tools.push(ToolBlock { block: index, target, got_input });
            }
            ContentBlock::RedactedThinking { .. } => {
                // StreamEvent has no variant for opaque reasoning yet; see the report.
                tracing::debug!("redacted_thinking block in stream not forwarded");
            }
            _ => {}
        }
    }

    fn block_delta(&mut self, index: u32, delta: BlockDelta, out: &mut Out) {
        match delta {
            BlockDelta::TextDelta { text } if !text.is_empty() => out.push_back(Ok(StreamEvent::TextDelta { text })),
            BlockDelta::ThinkingDelta { thinking } if !thinking.is_empty() => {
                out.push_back(Ok(StreamEvent::ThinkingDelta { thinking }))
            }
            BlockDelta::SignatureDelta { signature } => out.push_back(Ok(StreamEvent::ThinkingSignature { signature })),
            // The API opens each tool input with an empty fragment; nothing to say for it.
            BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                if let Some(t) = self.tools.iter_mut().find(|t| t.block == index) {
                    t.got_input = true;
                    out.push_back(Ok(input_event(t.target, partial_json)));
                }
            }
            _ => {}
        }
    }
}

fn input_event(target: Target, json: String) -> StreamEvent {
    match target {
        Target::Call(index) => StreamEvent::ToolCallDelta { index, arguments: json },
        Target::JsonText => StreamEvent::TextDelta { text: json },
    }
}

/// An `error` event as the error its HTTP status would have produced.
fn stream_error(error: ErrorDetail, data: &str) -> ProviderError {
    error_from_parts(status_for_error_type(&error.kind), None, data.to_string())
}
