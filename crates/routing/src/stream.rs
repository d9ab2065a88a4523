//! A routed stream: passes the adapter's events through one by one, enforces
//! the idle timeout, accumulates usage, and writes the request-log row when the
//! stream ends — completed, failed, or dropped by a client that went away.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::Stream;
use spgw_providers::{EventStream, FinishReason, ProviderError, StreamEvent, Usage};
use std::future::Future;

use tokio::time::Sleep;

use crate::call::{CallMeta, error_code};
use crate::log::RequestLog;
use crate::models::Candidate;

/// What a finished stream amounted to.
#[derive(Debug, Clone, Default)]
pub struct StreamSummary {
    pub usage: Usage,
    pub cost_usd: f64,
    pub finish_reason: Option<FinishReason>,
    pub latency_ms: u64,
    pub ttft_ms: Option<u64>,
    pub attempts: u32,
}

/// The stream the API forwards to its client.
pub struct RoutedStream {
    inner: EventStream,
    model: Candidate,
    meta: CallMeta,
    log: RequestLog,
    start: Instant,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    summary: StreamSummary,
    logged: bool,
    done: bool,
}

impl RoutedStream {
    pub(crate) fn new(
        inner: EventStream,
        model: Candidate,
        meta: CallMeta,
        log: RequestLog,
        start: Instant,
        idle: Duration,
        attempts: u32,
    ) -> Self {
        RoutedStream {
            inner,
            model,
            meta,
            log,
            start,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            summary: StreamSummary { attempts, ..StreamSummary::default() },
            logged: false,
            done: false,
        }
    }

    /// The model answering.
    pub fn model(&self) -> &Candidate {
        &self.model
    }

    /// Usage, cost and timings so far (complete once the stream has ended).
    pub fn summary(&self) -> &StreamSummary {
        &self.summary
    }

    fn finish(&mut self, status: u16, error: Option<&str>) {
        if self.logged {
            return;
        }
        self.logged = true;
        self.summary.latency_ms = self.start.elapsed().as_millis() as u64;
        self.summary.cost_usd = self.model.pricing.chat_cost(&self.summary.usage);
        let u = self.summary.usage;
        let mut e = self.meta.entry(&self.model, true);
        e.status_code = status;
        e.error_code = error.map(str::to_owned);
        e.input_tokens = u.input_tokens;
        e.output_tokens = u.output_tokens;
        e.cached_tokens = u.cached_input_tokens;
        e.reasoning_tokens = u.reasoning_tokens;
        e.cost_usd = self.summary.cost_usd;
        e.latency_ms = self.summary.latency_ms;
        e.ttft_ms = self.summary.ttft_ms;
        self.log.record(e);
    }
}

impl Stream for RoutedStream {
    type Item = Result<StreamEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(ev))) => {
                let deadline = tokio::time::Instant::now() + this.idle;
                this.sleep.as_mut().reset(deadline);
                match &ev {
                    StreamEvent::TextDelta { .. }
                    | StreamEvent::ThinkingDelta { .. }
                    | StreamEvent::ToolCallStart { .. }
                        if this.summary.ttft_ms.is_none() =>
                    {
                        this.summary.ttft_ms = Some(this.start.elapsed().as_millis() as u64);
                    }
                    StreamEvent::Usage { usage } => this.summary.usage = *usage,
                    StreamEvent::Finish { reason } => this.summary.finish_reason = Some(reason.clone()),
                    _ => {}
                }
                Poll::Ready(Some(Ok(ev)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                let status = e.upstream_status().unwrap_or(502);
                this.finish(status, Some(error_code(&e)));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.done = true;
                this.finish(200, None);
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.done = true;
                    this.finish(504, Some("upstream_timeout"));
                    return Poll::Ready(Some(Err(ProviderError::Timeout)));
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for RoutedStream {
    fn drop(&mut self) {
        // The client went away before the end: 499, as nginx logs it.
        self.finish(499, Some("client_closed"));
    }
}
