//! The Responses API (`POST {base_url}/responses`), used for the models that
//! are not served by Chat Completions (see [`super::RESPONSES_ONLY`]).

pub mod convert;
pub(crate) mod stream;
pub mod types;

use crate::error::ProviderError;
use crate::model::{ChatRequest, ChatResponse};
use crate::names::ToolNames;
use crate::{Endpoint, EventStream, Http};

/// One non-streamed call.
pub async fn chat(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
    let names = ToolNames::new(&req.tools);
    let body = convert::to_wire(req, &names, false)?;
    let resp = super::send(http, ep, "responses", &body).await?;
    let wire: types::Response = super::read_json(resp).await?;
    convert::from_wire(wire, &names)
}

/// One streamed call.
pub async fn chat_stream(http: &Http, ep: &Endpoint, req: &ChatRequest) -> Result<EventStream, ProviderError> {
    let names = ToolNames::new(&req.tools);
    let body = convert::to_wire(req, &names, true)?;
    let resp = super::send(http, ep, "responses", &body).await?;
    Ok(super::stream::translate(resp, stream::ResponsesStreamParser::new(names)))
}
