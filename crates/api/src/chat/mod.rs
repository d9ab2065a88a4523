//! `POST /api/v1/chat` (SPEC §2): the native chat endpoint.
//!
//! Operations:
//! - `completion`: stateless. The body is the whole prompt; no session is kept.
//! - `chat` (default): stateful. A session is created, or continued with
//!   `?session=`; its history is sent before the new messages, and the new
//!   messages and the reply are appended to it.
//! - `conversation`: stateful and agentic. As `chat`, and tool calls the gateway
//!   can execute itself (an agent's built-in skills) are run server-side in a
//!   bounded loop, with each call and result stored in the session. Without such
//!   tools it answers exactly as `chat`.

pub mod conversation;
pub mod input;
pub mod service;
