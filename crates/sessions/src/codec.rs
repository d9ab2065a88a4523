//! Messages as stored: one JSON text per message, in `session_messages.message` or a Redis list.

use spgw_providers::Message;

use crate::{Result, SessionError};

/// Serialises messages once; returns the JSON texts and their total length.
pub(crate) fn encode(session_id: &str, messages: &[Message]) -> Result<(Vec<String>, u64)> {
    let texts = messages
        .iter()
        .map(serde_json::to_string)
        .collect::<serde_json::Result<Vec<String>>>()
        .map_err(|e| SessionError::Corrupt { session_id: session_id.to_string(), detail: e.to_string() })?;
    let bytes = texts.iter().map(|t| t.len() as u64).sum();
    Ok((texts, bytes))
}

/// Parses stored JSON texts back into messages.
pub(crate) fn decode<'a>(session_id: &str, texts: impl Iterator<Item = &'a str>) -> Result<Vec<Message>> {
    texts
        .map(|t| {
            serde_json::from_str(t)
                .map_err(|e| SessionError::Corrupt { session_id: session_id.to_string(), detail: e.to_string() })
        })
        .collect()
}
