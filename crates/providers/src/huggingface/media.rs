//! Hugging Face media through the router's `hf-inference` provider
//! (`{router}/hf-inference/models/{repo}`): text-to-image and text-to-video
//! answer the media's bytes; feature extraction (`.../pipeline/feature-extraction`)
//! answers the vectors as bare JSON arrays. The router's chat base URL ends in
//! `/v1`; these paths hang off its root.

use bytes::Bytes;
use futures::future::try_join_all;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::media::{self, EmbeddingRequest, Embeddings, Image, ImageRequest, Images, Video, VideoRequest};
use crate::model::Usage;
use crate::{Endpoint, ProviderError, http};

/// `{root}/hf-inference/models/{model}{suffix}`, where `root` is the base URL without `/v1`.
pub fn model_url(ep: &Endpoint, model: &str, suffix: &str) -> String {
    let base = ep.base_url.trim_end_matches('/');
    let root = base.strip_suffix("/v1").unwrap_or(base);
    format!("{root}/hf-inference/models/{}{suffix}", model.trim_matches('/'))
}

async fn post<B: Serialize>(
    http: &reqwest::Client,
    ep: &Endpoint,
    url: &str,
    body: &B,
) -> Result<reqwest::Response, ProviderError> {
    let mut rb = http.post(url).json(body);
    if !ep.api_key.is_empty() {
        rb = rb.bearer_auth(&ep.api_key);
    }
    http::check(rb.send().await?).await
}

/// Embeds texts with a sentence-embedding model (BGE, E5...). Token-level
/// answers (models without pooling) are mean-pooled. Usage is estimated.
#[tracing::instrument(skip_all, fields(provider = "huggingface", model = %req.model, inputs = req.input.len()))]
pub async fn embed(http: &reqwest::Client, ep: &Endpoint, req: &EmbeddingRequest) -> Result<Embeddings, ProviderError> {
    let url = model_url(ep, &req.model, "/pipeline/feature-extraction");
    let resp = post(http, ep, &url, &json!({"inputs": req.input})).await?;
    let bytes = resp.bytes().await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| ProviderError::Decode(e.to_string()))?;
    let mut vectors = vectors_from_wire(&value)?;
    if vectors.len() != req.input.len() {
        return Err(ProviderError::Decode(format!("{} vectors for {} inputs", vectors.len(), req.input.len())));
    }
    if let Some(d) = req.dimensions {
        // Matryoshka-style truncation, as OpenAI and Gemini do server-side.
        vectors.iter_mut().for_each(|v| v.truncate(d as usize));
    }
    let usage = Usage { input_tokens: media::estimate_tokens(&req.input), ..Usage::default() };
    Ok(Embeddings { vectors, usage, usage_estimated: true })
}

/// Feature-extraction output as one vector per input: `[f32]` (one input),
/// `[[f32]]` (pooled), or `[[[f32]]]` (per token, mean-pooled here).
pub fn vectors_from_wire(v: &Value) -> Result<Vec<Vec<f32>>, ProviderError> {
    let bad = || ProviderError::Decode("feature extraction answered something other than number arrays".into());
    let floats = |v: &Value| -> Result<Vec<f32>, ProviderError> {
        v.as_array().ok_or_else(bad)?.iter().map(|x| x.as_f64().map(|f| f as f32).ok_or_else(bad)).collect()
    };
    let outer = v.as_array().ok_or_else(bad)?;
    match outer.first() {
        None => Ok(Vec::new()),
        Some(Value::Number(_)) => Ok(vec![floats(v)?]),
        Some(Value::Array(inner)) if inner.first().is_some_and(Value::is_array) => outer
            .iter()
            .map(|tokens| {
                let rows = tokens.as_array().ok_or_else(bad)?.iter().map(floats).collect::<Result<Vec<_>, _>>()?;
                mean(&rows).ok_or_else(bad)
            })
            .collect(),
        Some(_) => outer.iter().map(floats).collect(),
    }
}

fn mean(rows: &[Vec<f32>]) -> Option<Vec<f32>> {
    let dim = rows.first()?.len();
    let mut out = vec![0f32; dim];
    for r in rows {
        if r.len() != dim {
            return None;
        }
        out.iter_mut().zip(r).for_each(|(o, x)| *o += x);
    }
    out.iter_mut().for_each(|o| *o /= rows.len() as f32);
    Some(out)
}

fn image_parameters(req: &ImageRequest) -> Map<String, Value> {
    let mut p = Map::new();
    if let Some((w, h)) = req.size.as_deref().and_then(media::dimensions) {
        p.insert("width".into(), json!(w));
        p.insert("height".into(), json!(h));
    }
    if let Some(n) = &req.negative_prompt {
        p.insert("negative_prompt".into(), json!(n));
    }
    p
}

/// Generates images (Flux, SDXL): one call per image, made concurrently.
#[tracing::instrument(skip_all, fields(provider = "huggingface", model = %req.model, n = req.n))]
pub async fn images(http: &reqwest::Client, ep: &Endpoint, req: &ImageRequest) -> Result<Images, ProviderError> {
    let url = model_url(ep, &req.model, "");
    let body = json!({"inputs": req.prompt, "parameters": image_parameters(req)});
    let calls = (0..req.n.max(1)).map(|_| binary(http, ep, &url, &body));
    let images = try_join_all(calls)
        .await?
        .into_iter()
        .map(|(bytes, declared)| {
            let mime = media::media_type(&bytes, declared.as_deref(), "image/jpeg");
            Image { bytes, mime, revised_prompt: None }
        })
        .collect();
    Ok(Images { images, usage: Usage::default() })
}

/// Generates a video (text-to-video models); the answer is the video itself.
#[tracing::instrument(skip_all, fields(provider = "huggingface", model = %req.model))]
pub async fn video(http: &reqwest::Client, ep: &Endpoint, req: &VideoRequest) -> Result<Video, ProviderError> {
    let mut parameters = Map::new();
    if let Some(n) = &req.negative_prompt {
        parameters.insert("negative_prompt".into(), json!(n));
    }
    let body = json!({"inputs": req.prompt, "parameters": parameters});
    let (bytes, declared) = binary(http, ep, &model_url(ep, &req.model, ""), &body).await?;
    let mime = media::media_type(&bytes, declared.as_deref(), "video/mp4");
    let duration_secs = media::duration_secs(&bytes, &mime).or(req.duration_secs.map(f64::from));
    Ok(Video { bytes, mime, duration_secs })
}

/// A call whose answer is media bytes. A JSON answer here is an error the
/// upstream sent with a success status (a model still loading, say).
async fn binary(
    http: &reqwest::Client,
    ep: &Endpoint,
    url: &str,
    body: &Value,
) -> Result<(Bytes, Option<String>), ProviderError> {
    let resp = post(http, ep, url, body).await?;
    let declared = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = resp.bytes().await?;
    if declared.as_deref().is_some_and(|d| d.starts_with("application/json")) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        return Err(http::error_from_parts(502, None, text));
    }
    Ok((bytes, declared))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_hang_off_the_router_root() {
        let ep = Endpoint { base_url: "https://router.huggingface.co/v1/".into(), api_key: String::new() };
        assert_eq!(
            model_url(&ep, "BAAI/bge-large-en-v1.5", "/pipeline/feature-extraction"),
            "https://router.huggingface.co/hf-inference/models/BAAI/bge-large-en-v1.5/pipeline/feature-extraction"
        );
    }

    #[test]
    fn every_output_shape_becomes_one_vector_per_input() {
        assert_eq!(vectors_from_wire(&json!([0.5, 1.0])).ok(), Some(vec![vec![0.5, 1.0]]));
        assert_eq!(vectors_from_wire(&json!([[1.0], [2.0]])).ok(), Some(vec![vec![1.0], vec![2.0]]));
        let tokens = json!([[[1.0, 3.0], [3.0, 5.0]]]);
        assert_eq!(vectors_from_wire(&tokens).ok(), Some(vec![vec![2.0, 4.0]]));
        assert!(vectors_from_wire(&json!({"error": "x"})).is_err());
        assert!(vectors_from_wire(&json!([["a"]])).is_err());
    }
}
