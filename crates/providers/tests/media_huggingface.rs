//! Hugging Face media through the router's `hf-inference` provider, against
//! the mock: feature extraction (BGE, E5), text-to-image (Flux, SDXL) and
//! text-to-video, with their URLs derived from the router's `/v1` base URL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use serde_json::{Value, json};
use spgw_mocks::MockServer;
use spgw_mocks::media::PNG;
use spgw_providers::huggingface::media::vectors_from_wire;
use spgw_providers::media::{EmbeddingRequest, ImageRequest, Polling, VideoRequest};
use spgw_providers::{Endpoint, Protocol, ProviderError, media};

async fn start() -> (MockServer, spgw_providers::Http, Endpoint) {
    let mock = spgw_mocks::spawn().await.unwrap();
    let ep = Endpoint { base_url: mock.base_url("huggingface"), api_key: "hf_key".into() };
    (mock, spgw_providers::Http::new(&Default::default()).unwrap(), ep)
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/huggingface/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn feature_extraction_embeds_bge_and_e5() {
    let (mock, http, ep) = start().await;
    for (model, dims) in [("BAAI/bge-large-en-v1.5", 1024), ("intfloat/e5-large-v2", 1024)] {
        let req = EmbeddingRequest {
            model: model.into(),
            input: vec!["query: rust".into(), "passage: crab".into()],
            ..Default::default()
        };
        let out = media::embed("huggingface", Protocol::OpenAi, &http, &ep, &req).await.unwrap();
        assert_eq!(out.vectors.len(), 2);
        assert!(out.vectors.iter().all(|v| v.len() == dims));
        assert!(out.usage_estimated && out.usage.input_tokens > 0);
        let sent = mock.requests().pop().unwrap();
        assert_eq!(sent.path, format!("/hf-inference/models/{model}/pipeline/feature-extraction"));
        assert_eq!(sent.body, json!({"inputs": ["query: rust", "passage: crab"]}));
        assert!(sent.headers.iter().any(|(k, v)| k == "authorization" && v == "Bearer hf_key"));
    }
    let req = EmbeddingRequest {
        model: "BAAI/bge-large-en-v1.5".into(),
        input: vec!["x".into()],
        dimensions: Some(16),
        user: None,
    };
    let out = media::embed("huggingface", Protocol::OpenAi, &http, &ep, &req).await.unwrap();
    assert_eq!(out.vectors[0].len(), 16, "truncated to the asked dimensions");
}

#[tokio::test]
async fn text_to_image_makes_one_call_per_image() {
    let (mock, http, ep) = start().await;
    for model in ["black-forest-labs/FLUX.1-dev", "stabilityai/stable-diffusion-xl-base-1.0"] {
        let req = ImageRequest {
            model: model.into(),
            prompt: "astronaut riding a horse".into(),
            n: 2,
            size: Some("768x512".into()),
            negative_prompt: Some("blurry".into()),
            ..ImageRequest::default()
        };
        let out = media::images("huggingface", Protocol::OpenAi, &http, &ep, &req).await.unwrap();
        assert_eq!(out.images.len(), 2);
        assert!(out.images.iter().all(|i| i.bytes.as_ref() == PNG && i.mime == "image/png"));
    }
    let sent = mock.requests();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[0].path, "/hf-inference/models/black-forest-labs/FLUX.1-dev");
    assert_eq!(
        sent[0].body,
        json!({"inputs": "astronaut riding a horse", "parameters": {"width": 768, "height": 512, "negative_prompt": "blurry"}})
    );
}

#[tokio::test]
async fn text_to_video_returns_the_video_and_its_length() {
    let (_mock, http, ep) = start().await;
    let req = VideoRequest {
        model: "guoyww/animatediff-motion-adapter-v1-5-2".into(),
        prompt: "a rocket".into(),
        ..Default::default()
    };
    let out = media::video("huggingface", Protocol::OpenAi, &http, &ep, &req, Polling::default()).await.unwrap();
    assert_eq!(out.mime, "video/mp4");
    assert_eq!(out.duration_secs, Some(4.0), "read from the MP4's movie header");
}

#[tokio::test]
async fn errors_keep_their_meaning() {
    let (_mock, http, ep) = start().await;
    let req = |model: &str, prompt: &str| ImageRequest {
        model: model.into(),
        prompt: prompt.into(),
        n: 1,
        ..ImageRequest::default()
    };
    let err = media::images(
        "huggingface",
        Protocol::OpenAi,
        &http,
        &ep,
        &req("black-forest-labs/FLUX.1-dev", "x [[status:503]]"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ProviderError::Upstream { status: 503, ref message, .. } if message.contains("currently loading"))
    );
    assert!(err.is_retryable());
    let err =
        media::images("huggingface", Protocol::OpenAi, &http, &ep, &req("nobody/nothing", "x")).await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidRequest { status: 404, .. }));
    let bad = Endpoint { api_key: "bad-key".into(), ..ep };
    let err = media::images("huggingface", Protocol::OpenAi, &http, &bad, &req("black-forest-labs/FLUX.1-dev", "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Auth { status: 401, .. }));
}

#[test]
fn documented_outputs_parse() {
    let pooled = vectors_from_wire(&fixture("media_feature_extraction_pooled.json")).unwrap();
    assert_eq!(pooled.len(), 2);
    assert_eq!(pooled[1], vec![0.0321, 0.0654, -0.0987]);
    let tokens = vectors_from_wire(&fixture("media_feature_extraction_tokens.json")).unwrap();
    assert_eq!(tokens, vec![vec![1.0, 2.0, 0.0]], "token vectors are mean-pooled");
}
