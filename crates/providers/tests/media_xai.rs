//! xAI media (Grok Imagine) against the mock upstream: images in xAI's shape
//! (an aspect ratio instead of a size, base64 as a data URL), and videos as a
//! deferred request polled until done, then fetched from the public bucket.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use spgw_mocks::MockServer;
use spgw_mocks::media::PNG;
use spgw_providers::media::{ImageRequest, Polling, VideoRequest};
use spgw_providers::openai::media::images_from_wire;
use spgw_providers::xai::media::{VideoStatus, finished};
use spgw_providers::{Endpoint, Protocol, ProviderError, media};

const FAST: Polling = Polling { interval: Duration::from_millis(5), max_wait: Duration::from_secs(10) };

async fn start() -> (MockServer, spgw_providers::Http, Endpoint) {
    let mock = spgw_mocks::spawn().await.unwrap();
    let ep = Endpoint { base_url: mock.base_url("xai"), api_key: "x-key".into() };
    (mock, spgw_providers::Http::new(&Default::default()).unwrap(), ep)
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/xai/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn images_send_an_aspect_ratio_and_decode_data_urls() {
    let (mock, http, ep) = start().await;
    let req = ImageRequest {
        model: "grok-imagine-image".into(),
        prompt: "a cat in a tree".into(),
        n: 2,
        size: Some("1024x1792".into()),
        quality: Some("hd".into()),
        style: Some("vivid".into()),
        ..ImageRequest::default()
    };
    let out = media::images("xai", Protocol::OpenAi, &http, &ep, &req).await.unwrap();
    assert_eq!(out.images.len(), 2);
    assert!(out.images.iter().all(|i| i.bytes.as_ref() == PNG && i.mime == "image/png"));
    assert_eq!(out.images[0].revised_prompt.as_deref(), Some("A detailed rendering of: a cat in a tree"));
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/images/generations");
    // xAI refuses `size`, `quality` and `style`; the mock would have answered 400.
    assert_eq!(
        sent.body,
        json!({"model": "grok-imagine-image", "prompt": "a cat in a tree", "n": 2, "response_format": "b64_json", "aspect_ratio": "9:16"})
    );
}

#[tokio::test]
async fn documented_image_answer_parses() {
    let wire = serde_json::from_value(fixture("media_image_b64.json")).unwrap();
    let out = images_from_wire(&spgw_providers::Http::new(&Default::default()).unwrap(), wire).await.unwrap();
    assert_eq!(out.images[0].bytes.as_ref(), PNG);
    assert!(out.images[0].revised_prompt.as_deref().is_some_and(|p| p.contains("gray cat")));
}

fn video(prompt: &str) -> VideoRequest {
    VideoRequest {
        model: "grok-imagine-video".into(),
        prompt: prompt.into(),
        duration_secs: Some(5),
        aspect_ratio: Some("1920x1080".into()),
        resolution: Some("720p".into()),
        negative_prompt: None,
    }
}

#[tokio::test]
async fn videos_are_polled_then_fetched_without_the_key() {
    let (mock, http, ep) = start().await;
    let out = media::video("xai", Protocol::OpenAi, &http, &ep, &video("surfing dog [[polls:3]]"), FAST).await.unwrap();
    assert_eq!(out.mime, "video/mp4");
    assert_eq!(&out.bytes[4..8], b"ftyp");
    assert_eq!(out.duration_secs, Some(5.0));
    let sent = mock.requests();
    assert_eq!(sent[0].path, "/videos/generations");
    assert_eq!(
        sent[0].body,
        json!({"model": "grok-imagine-video", "prompt": "surfing dog [[polls:3]]", "duration": 5, "aspect_ratio": "16:9", "resolution": "720p"})
    );
    let polls: Vec<_> = sent.iter().filter(|r| r.path.starts_with("/videos/") && r.body.is_null()).collect();
    assert_eq!(polls.len(), 3);
    assert!(polls.iter().all(|r| r.headers.iter().any(|(k, v)| k == "authorization" && v == "Bearer x-key")));
    let download = sent.iter().find(|r| r.path.starts_with("/vidgen/")).expect("the video was fetched");
    assert!(!download.headers.iter().any(|(k, _)| k == "authorization"), "the bucket does not get the key");
}

#[tokio::test]
async fn failed_videos_are_errors() {
    let (_mock, http, ep) = start().await;
    let err = media::video("xai", Protocol::OpenAi, &http, &ep, &video("x [[fail]]"), FAST).await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidRequest { ref message, .. } if message.contains("moderation")));
    let mut long = video("x");
    long.duration_secs = Some(30);
    let err = media::video("xai", Protocol::OpenAi, &http, &ep, &long, FAST).await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidRequest { status: 400, .. }));
}

#[test]
fn documented_statuses_parse() {
    let done: VideoStatus = serde_json::from_value(fixture("media_video_done.json")).unwrap();
    let v = finished(done).unwrap().unwrap();
    assert!(v.url.unwrap().ends_with(".mp4"));
    assert_eq!(v.duration, Some(6.0));
    let failed: VideoStatus = serde_json::from_value(fixture("media_video_failed.json")).unwrap();
    assert!(finished(failed).is_err_and(|e| e.is_retryable()), "an internal error is worth another try");
}
