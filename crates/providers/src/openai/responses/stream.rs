//! Responses API streaming: typed `response.*` events to [`StreamEvent`]s.

use std::collections::VecDeque;

use eventsource_stream::Event;
use serde::Deserialize;

use super::convert::{failed, finish_reason, usage_from_wire};
use super::types::{DeltaEvent, ErrorEvent, EventType, OutputItem, OutputItemAdded, ResponseEvent};
use crate::error::ProviderError;
use crate::model::StreamEvent;
use crate::names::ToolNames;
use crate::openai::stream::{FrameParser, in_band_error};

/// Parser for `/responses` event streams.
pub(crate) struct ResponsesStreamParser {
    names: ToolNames,
    started: bool,
    /// `output_index` of each function call, in order; the position is our index.
    calls: Vec<u32>,
}

impl ResponsesStreamParser {
    /// A parser mapping tool names back through `names`.
    pub(crate) fn new(names: ToolNames) -> Self {
        ResponsesStreamParser { names, started: false, calls: Vec::new() }
    }

    fn start(&mut self, id: &str, model: &str, out: &mut VecDeque<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push_back(StreamEvent::Start { id: id.to_string(), model: model.to_string() });
        }
    }
}

fn parse<'a, T: Deserialize<'a>>(kind: &str, data: &'a str) -> Result<T, ProviderError> {
    serde_json::from_str(data).map_err(|e| ProviderError::Decode(format!("{kind} event: {e}")))
}

impl FrameParser for ResponsesStreamParser {
    fn on_event(&mut self, event: &Event, out: &mut VecDeque<StreamEvent>) -> Result<bool, ProviderError> {
        let data = event.data.as_str();
        // OpenAI names each event in the SSE `event:` line, which saves parsing
        // the payload of the many events the gateway skips.
        let named;
        let kind = if event.event.is_empty() || event.event == "message" {
            named = parse::<EventType>("untyped", data)?.kind;
            named.as_ref()
        } else {
            event.event.as_str()
        };
        match kind {
            "response.created" => {
                let ev: ResponseEvent = parse(kind, data)?;
                self.start(&ev.response.id, &ev.response.model, out);
            }
            "response.output_item.added" => {
                let ev: OutputItemAdded = parse(kind, data)?;
                if let OutputItem::FunctionCall { call_id, name, arguments } = ev.item {
                    let index = self.calls.len() as u32;
                    self.calls.push(ev.output_index);
                    out.push_back(StreamEvent::ToolCallStart { index, id: call_id, name: self.names.from_wire(&name) });
                    if !arguments.is_empty() {
                        out.push_back(StreamEvent::ToolCallDelta { index, arguments });
                    }
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                let ev: DeltaEvent = parse(kind, data)?;
                out.push_back(StreamEvent::TextDelta { text: ev.delta });
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                let ev: DeltaEvent = parse(kind, data)?;
                out.push_back(StreamEvent::ThinkingDelta { thinking: ev.delta });
            }
            "response.function_call_arguments.delta" => {
                let ev: DeltaEvent = parse(kind, data)?;
                let index = self.calls.iter().position(|&o| o == ev.output_index).ok_or_else(|| {
                    ProviderError::Decode(format!("arguments for unknown output item {}", ev.output_index))
                })?;
                out.push_back(StreamEvent::ToolCallDelta { index: index as u32, arguments: ev.delta });
            }
            "response.completed" | "response.incomplete" => {
                let ev: ResponseEvent = parse(kind, data)?;
                let r = ev.response;
                self.start(&r.id, &r.model, out);
                if let Some(u) = r.usage {
                    out.push_back(StreamEvent::Usage { usage: usage_from_wire(u) });
                }
                let reason = finish_reason(&r.status, r.incomplete_details.as_ref(), !self.calls.is_empty());
                out.push_back(StreamEvent::Finish { reason });
                return Ok(true);
            }
            "response.failed" => {
                let ev: ResponseEvent = parse(kind, data)?;
                return Err(failed(&ev.response));
            }
            "error" => {
                let ev: ErrorEvent = parse(kind, data)?;
                let code = ev.code.unwrap_or_default();
                return Err(in_band_error("", &code, ev.message, data.to_string()));
            }
            _ => {}
        }
        Ok(false)
    }

    fn on_close(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), ProviderError> {
        Err(ProviderError::Network("stream ended before response.completed".into()))
    }
}
