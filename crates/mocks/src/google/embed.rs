//! `countTokens`, `embedContent` and `batchEmbedContents`, with deterministic
//! unit vectors so tests can compare embeddings across calls.

use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::validate::{get, is_chat_model};
use super::{ApiError, all_text, hash, invalid, not_found};
use crate::count_tokens;

const DEFAULT_EMBEDDING_DIM: usize = 3072;

type Answer = Result<Response, ApiError>;

pub(super) fn count(model: &str, body: &Value) -> Answer {
    let source = get(body, "generateContentRequest").unwrap_or(body);
    let Some(contents) = get(source, "contents").filter(|c| c.as_array().is_some_and(|a| !a.is_empty())) else {
        return Err(invalid("* CountTokensRequest.contents: contents is not specified\n"));
    };
    if !is_chat_model(model) {
        return Err(not_found(model, "countTokens"));
    }
    let mut text = String::new();
    all_text(contents, &mut text);
    all_text(get(source, "systemInstruction").unwrap_or(&Value::Null), &mut text);
    let n = count_tokens(&text);
    Ok(axum::Json(json!({"totalTokens": n, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": n}]}))
        .into_response())
}

/// A deterministic unit vector for a text.
fn vector(text: &str, dim: usize) -> Vec<f32> {
    let mut state = hash(&[text.as_bytes()]) | 1;
    let mut v: Vec<f32> = (0..dim)
        .map(|_| {
            // xorshift64*: cheap, deterministic noise.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let x = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
            (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn embedding(model: &str, req: &Value, at: &str) -> Result<Value, ApiError> {
    let Some(content) = req.get("content") else {
        return Err(invalid(format!("* {at}.content: content is not specified\n")));
    };
    let mut text = String::new();
    all_text(content, &mut text);
    let dim = get(req, "outputDimensionality").and_then(Value::as_u64).map_or(DEFAULT_EMBEDDING_DIM, |d| d as usize);
    if dim == 0 || dim > DEFAULT_EMBEDDING_DIM || !model.contains("embedding") {
        return Err(if model.contains("embedding") {
            invalid("Output dimensionality must be between 1 and 3072.")
        } else {
            not_found(model, "embedContent")
        });
    }
    Ok(json!({ "values": vector(text.trim(), dim) }))
}

pub(super) fn embed_one(model: &str, body: &Value) -> Answer {
    let e = embedding(model, body, "EmbedContentRequest")?;
    Ok(axum::Json(json!({ "embedding": e })).into_response())
}

pub(super) fn embed_batch(model: &str, body: &Value) -> Answer {
    let Some(requests) = body.get("requests").and_then(Value::as_array).filter(|r| !r.is_empty()) else {
        return Err(invalid("* BatchEmbedContentsRequest.requests: requests is not specified\n"));
    };
    let expected = format!("models/{model}");
    let mut out = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        if r.get("model").and_then(Value::as_str).is_some_and(|m| m != expected) {
            return Err(invalid(format!(
                "* BatchEmbedContentsRequest.requests[{i}].model: the model in the request must match {expected}.\n"
            )));
        }
        out.push(embedding(model, r, &format!("BatchEmbedContentsRequest.requests[{i}]"))?);
    }
    let mut resp = Map::new();
    resp.insert("embeddings".into(), Value::Array(out));
    Ok(axum::Json(Value::Object(resp)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let a = vector("hello", 8);
        assert_eq!(a, vector("hello", 8));
        assert_ne!(a, vector("world", 8));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}
