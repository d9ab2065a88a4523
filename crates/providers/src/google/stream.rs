//! `streamGenerateContent?alt=sse`: every SSE `data:` is a whole
//! `GenerateContentResponse` holding only the new parts. Each chunk is
//! translated as it arrives; usage and the finish reason are emitted when the
//! upstream closes the stream, because older models repeat `finishReason` on
//! every chunk and only the last one is final.

use std::collections::VecDeque;

use futures::{Stream, StreamExt};

use super::convert::{CallCounter, Piece, finish_reason, usage};
use super::error_from_body;
use super::types::{GenerateContentResponse, UsageMetadata};
use crate::model::StreamEvent;
use crate::names::ToolNames;
use crate::{EventStream, ProviderError};

/// Translation state of one stream.
struct Translator {
    names: ToolNames,
    requested_model: String,
    started: bool,
    response_id: String,
    calls: CallCounter,
    /// Calls emitted so far: the next call's `index`.
    emitted_calls: u32,
    usage: Option<UsageMetadata>,
    finish: Option<String>,
    blocked: bool,
    /// Scratch buffer reused for every chunk.
    pieces: Vec<Piece>,
}

type Out = VecDeque<Result<StreamEvent, ProviderError>>;

impl Translator {
    fn on_data(&mut self, data: &str, out: &mut Out) -> bool {
        if data.trim().is_empty() {
            return true;
        }
        let chunk: GenerateContentResponse = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => {
                out.push_back(Err(ProviderError::Decode(format!("bad Gemini stream chunk: {e}"))));
                return false;
            }
        };
        if let Some(err) = &chunk.error {
            // An error reported inside an already-started stream.
            let status = err.get("code").and_then(serde_json::Value::as_u64).unwrap_or(500) as u16;
            out.push_back(Err(error_from_body(status, None, data.to_string())));
            return false;
        }
        if !self.started {
            self.started = true;
            self.response_id = chunk.response_id.clone().unwrap_or_default();
            let model = chunk.model_version.clone().unwrap_or_else(|| self.requested_model.clone());
            out.push_back(Ok(StreamEvent::Start { id: self.response_id.clone(), model }));
        }
        if chunk.prompt_feedback.as_ref().is_some_and(|f| f.block_reason.is_some()) {
            self.blocked = true;
        }
        if let Some(u) = chunk.usage_metadata {
            self.usage = Some(u);
        }
        let Some(cand) = chunk.candidates.into_iter().next() else { return true };
        if cand.finish_reason.is_some() {
            self.finish = cand.finish_reason;
        }
        for part in cand.content.map(|c| c.parts).unwrap_or_default() {
            self.calls.pieces(part, &self.response_id, &self.names, &mut self.pieces);
        }
        for piece in self.pieces.drain(..) {
            match piece {
                Piece::Thought { text, signature } => {
                    if !text.is_empty() {
                        out.push_back(Ok(StreamEvent::ThinkingDelta { thinking: text }));
                    }
                    if let Some(signature) = signature {
                        out.push_back(Ok(StreamEvent::ThinkingSignature { signature }));
                    }
                }
                Piece::Signature(signature) => out.push_back(Ok(StreamEvent::ThinkingSignature { signature })),
                Piece::Text(text) => out.push_back(Ok(StreamEvent::TextDelta { text })),
                Piece::Call(call) => {
                    // Gemini streams a call whole: one start, one delta with all arguments.
                    let index = self.emitted_calls;
                    self.emitted_calls += 1;
                    out.push_back(Ok(StreamEvent::ToolCallStart { index, id: call.id, name: call.name }));
                    out.push_back(Ok(StreamEvent::ToolCallDelta { index, arguments: call.arguments }));
                }
            }
        }
        true
    }

    fn on_end(&mut self, out: &mut Out) {
        if !self.started {
            out.push_back(Err(ProviderError::Decode("Gemini stream ended without any chunk".into())));
            return;
        }
        if self.finish.is_none() && !self.blocked {
            // Gemini always closes with a finishReason; without one the answer was cut.
            out.push_back(Err(ProviderError::Network("Gemini stream ended before its finishReason".into())));
            return;
        }
        if let Some(u) = &self.usage {
            out.push_back(Ok(StreamEvent::Usage { usage: usage(u) }));
        }
        let reason = finish_reason(self.finish.as_deref(), self.emitted_calls > 0, self.blocked);
        out.push_back(Ok(StreamEvent::Finish { reason }));
    }
}

/// Translates the SSE events of a Gemini streaming answer.
pub fn translate<S>(events: S, names: ToolNames, requested_model: String) -> EventStream
where
    S: Stream<Item = Result<eventsource_stream::Event, ProviderError>> + Send + 'static,
{
    let translator = Translator {
        names,
        requested_model,
        started: false,
        response_id: String::new(),
        calls: CallCounter::default(),
        emitted_calls: 0,
        usage: None,
        finish: None,
        blocked: false,
        pieces: Vec::new(),
    };
    let state = (Box::pin(events), translator, VecDeque::new(), false);
    futures::stream::unfold(state, |(mut events, mut tr, mut out, mut done)| async move {
        loop {
            if let Some(item) = out.pop_front() {
                return Some((item, (events, tr, out, done)));
            }
            if done {
                return None;
            }
            match events.next().await {
                Some(Ok(ev)) => done = !tr.on_data(&ev.data, &mut out),
                Some(Err(e)) => {
                    out.push_back(Err(e));
                    done = true;
                }
                None => {
                    tr.on_end(&mut out);
                    done = true;
                }
            }
        }
    })
    .boxed()
}
