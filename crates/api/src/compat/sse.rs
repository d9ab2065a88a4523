//! Forwarding a routed stream to a compatible client: each upstream event is
//! encoded into the surface's SSE events and written as soon as it arrives
//! (nothing is buffered beyond the events one upstream event produces).

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use spgw_providers::{ProviderError, StreamEvent};
use spgw_routing::{RouteError, RoutedStream};

/// One surface's stream encoding.
pub(crate) trait Encoder: Send + 'static {
    /// The events for one upstream event (possibly none).
    fn event(&mut self, ev: &StreamEvent, out: &mut VecDeque<Event>);
    /// The closing events of a complete answer.
    fn finish(&mut self, out: &mut VecDeque<Event>);
    /// The event reporting a failure after the stream started; nothing follows it.
    fn error(&mut self, err: RouteError, out: &mut VecDeque<Event>);
}

struct Forward<E> {
    routed: Option<RoutedStream>,
    enc: E,
    pending: VecDeque<Event>,
}

/// The SSE response for a routed stream. Dropping it (the client left) drops
/// the routed stream, which stops reading upstream and logs the call as 499.
pub(crate) fn respond<E: Encoder>(routed: RoutedStream, enc: E, keep_alive: KeepAlive) -> Response {
    let state = Forward { routed: Some(routed), enc, pending: VecDeque::with_capacity(4) };
    let events = futures::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(e) = s.pending.pop_front() {
                return Some((Ok::<_, Infallible>(e), s));
            }
            let routed = s.routed.as_mut()?;
            match routed.next().await {
                Some(Ok(ev)) => s.enc.event(&ev, &mut s.pending),
                Some(Err(source)) => {
                    let model = routed.model();
                    let err = provider_error(model.provider.clone(), model.code.clone(), source);
                    s.enc.error(err, &mut s.pending);
                    s.routed = None;
                }
                None => {
                    s.enc.finish(&mut s.pending);
                    s.routed = None;
                }
            }
        }
    });
    Sse::new(events).keep_alive(keep_alive).into_response()
}

fn provider_error(provider: String, model: String, source: ProviderError) -> RouteError {
    RouteError::Provider { provider, model, source }
}
