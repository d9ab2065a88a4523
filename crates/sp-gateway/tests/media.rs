//! Media through the gateway, on both backends, against the mock upstreams:
//! embeddings, images (stored and served under `/uploads`, or base64),
//! transcription (multipart), speech, music and video (a long-running
//! operation polled to completion), through the native `/api/v1/media/*`
//! routes and the OpenAI-compatible `/v1/*` ones; each call priced from the
//! catalog and logged.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Backend, Client, Server, assert_error};
use serde_json::{Value, json};
use spgw_mocks::MockServer;
use spgw_mocks::media::{PNG, wav};

const MEDIA_PROVIDERS: &[&str] = &["openai", "google", "xai", "huggingface"];

struct World {
    server: Server,
    mock: MockServer,
    admin: Client,
    /// A gateway API key, as SDKs send it (`Authorization: Bearer`).
    key: String,
}

async fn world(backend: Backend, env: &[(&str, &str)]) -> World {
    let mock = spgw_mocks::spawn().await.unwrap();
    let server = Server::start_with(backend, env);
    let admin = server.admin().await;
    for name in MEDIA_PROVIDERS {
        let (_, list) = admin.get(&format!("/api/v1/list/providers?name={name}")).await;
        let id = list["data"][0]["id"].as_i64().unwrap();
        let (s, v) = admin
            .patch(
                &format!("/api/v1/update/provider/{id}"),
                json!({"base_url": mock.base_url(name), "api_key": format!("key-{name}")}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, k) = admin.post("/api/v1/add/gateway-api-key", json!({"name": "media-sdk"})).await;
    assert_eq!(s, 201, "{k}");
    let (s, v) =
        admin.post("/api/v1/add/gateway-config", json!({"key": "media.video_poll_interval_ms", "value": 20})).await;
    assert_eq!(s, 201, "{v}");
    World { server, mock, admin, key: k["key"].as_str().unwrap().to_string() }
}

impl World {
    fn bearer(&self) -> Client {
        self.admin.with_key("authorization", &self.key)
    }

    /// The request-log rows of an endpoint, waiting for the batched writer.
    async fn logs(&self, endpoint: &str, at_least: usize) -> Vec<Value> {
        for _ in 0..50 {
            let (_, log) = self.admin.get(&format!("/api/v1/list/request-logs?endpoint={endpoint}&limit=100")).await;
            let rows = log["data"].as_array().cloned().unwrap_or_default();
            if rows.len() >= at_least {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("fewer than {at_least} log rows for {endpoint}");
    }

    /// GETs a stored file by its URL (rebased on the server when `public_url` points elsewhere).
    async fn fetch(&self, url: &str) -> (u16, String, Vec<u8>) {
        let path = &url[url.find("/uploads/").unwrap_or_else(|| panic!("not an upload URL: {url}"))..];
        let r = reqwest::get(self.server.url(path)).await.unwrap();
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        (r.status().as_u16(), ct, r.bytes().await.unwrap().to_vec())
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn cost(row: &Value) -> f64 {
    row["cost_usd"].as_f64().unwrap()
}

async fn embeddings_on_every_provider(backend: Backend) {
    let w = world(backend, &[]).await;
    for (model, dims) in [
        ("openai/text-embedding-3-small", 1536),
        ("gemini-embedding-001", 3072),
        ("huggingface/BAAI/bge-large-en-v1.5", 1024),
        ("intfloat/e5-large-v2", 1024),
    ] {
        let (s, r) =
            w.admin.post("/api/v1/media/embeddings", json!({"model": model, "input": ["red fox", "blue"]})).await;
        assert_eq!(s, 200, "{model}: {r}");
        assert_eq!(r["data"].as_array().unwrap().len(), 2, "{model}");
        assert_eq!(r["data"][1]["embedding"].as_array().unwrap().len(), dims, "{model}");
        assert!(r["usage"]["input_tokens"].as_u64().unwrap() > 0, "{r}");
        assert!(r["cost_usd"].as_f64().unwrap() > 0.0, "{model}: priced from the catalog: {r}");
    }
    let (_, r) =
        w.admin.post("/api/v1/media/embeddings", json!({"model": "text-embedding-3-small", "input": "a b c"})).await;
    assert_eq!(r["provider"], "openai");
    assert_eq!(r["usage"], json!({"input_tokens": 3, "estimated": false}));
    assert!(close(r["cost_usd"].as_f64().unwrap(), 3.0 * 0.02 / 1e6), "{r}");

    // The OpenAI surface, as the SDK calls it (base64 by default).
    let sdk = w.bearer();
    let (s, r) = sdk
        .post(
            "/v1/embeddings",
            json!({"model": "openai/text-embedding-3-small", "input": "hello", "encoding_format": "base64"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!((r["object"].as_str(), r["data"][0]["object"].as_str()), (Some("list"), Some("embedding")));
    let bytes = STANDARD.decode(r["data"][0]["embedding"].as_str().unwrap()).unwrap();
    assert_eq!(bytes.len(), 1536 * 4);
    assert_eq!(r["usage"], json!({"prompt_tokens": 1, "total_tokens": 1}));
    let (s, r) =
        sdk.post("/v1/embeddings", json!({"model": "gemini-embedding-001", "input": ["x"], "dimensions": 4})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["data"][0]["embedding"].as_array().unwrap().len(), 4);

    // Errors in OpenAI's shape on /v1, ours on the native route.
    let (s, r) = sdk.post("/v1/embeddings", json!({"model": "openai/gpt-5.2", "input": "x"})).await;
    assert_eq!((s, r["error"]["param"].as_str()), (400, Some("model")), "{r}");
    assert_eq!(r["error"]["type"], "invalid_request_error");
    let (s, r) = sdk.post("/v1/embeddings", json!({"model": "no-such-model", "input": "x"})).await;
    assert_eq!((s, r["error"]["code"].as_str()), (404, Some("model_not_found")), "{r}");
    let (s, r) = sdk.post("/v1/embeddings", json!({"model": "text-embedding-3-small", "input": [1, 2]})).await;
    assert_eq!((s, r["error"]["param"].as_str()), (400, Some("input")), "{r}");
    let (s, r) = w.server.anon().post("/v1/embeddings", json!({"model": "x", "input": "x"})).await;
    assert_eq!((s, r["error"]["code"].as_str()), (401, Some("invalid_api_key")), "{r}");
    let e = w.admin.post("/api/v1/media/embeddings", json!({"model": "openai/dall-e-3", "input": "x"})).await;
    assert_error(&e, 422, "invalid_field");

    let native = w.logs("media.embeddings", 5).await;
    assert!(native.iter().all(|r| r["status_code"] == 200 && r["user_id"] == 1), "{native:?}");
    let row = native.iter().find(|r| r["requested_model"] == "text-embedding-3-small").unwrap();
    assert_eq!((row["provider"].as_str(), row["input_tokens"].as_i64()), (Some("openai"), Some(3)));
    assert!(close(cost(row), 3.0 * 0.02 / 1e6));
    let compat = w.logs("openai.embeddings", 2).await;
    assert!(compat.iter().all(|r| r["api_key_id"].is_i64()), "SDK calls are logged with their key: {compat:?}");

    let (_, doc) = w.server.anon().get("/api/v1/openapi.json").await;
    for kind in ["embeddings", "images", "transcriptions", "speech", "music", "videos"] {
        assert!(doc["paths"].get(format!("/api/v1/media/{kind}")).is_some(), "OpenAPI documents {kind}");
    }
}

async fn images_are_stored_and_served(backend: Backend) {
    let w = world(backend, &[("SPGW__SERVER__PUBLIC_URL", "https://gw.example.com/")]).await;
    for (model, n, price) in [
        ("openai/dall-e-3", 1, 0.04),
        ("google/imagen-4.0-generate-001", 2, 0.04),
        ("xai/grok-imagine-image", 2, 0.02),
        ("huggingface/black-forest-labs/FLUX.1-dev", 1, 0.025),
        ("stabilityai/stable-diffusion-xl-base-1.0", 1, 0.003),
    ] {
        let body = json!({"model": model, "prompt": "a red fox", "n": n, "size": "1024x1024"});
        let (s, r) = w.admin.post("/api/v1/media/images", body).await;
        assert_eq!(s, 200, "{model}: {r}");
        let data = r["data"].as_array().unwrap();
        assert_eq!(data.len(), n, "{model}");
        for item in data {
            let url = item["url"].as_str().unwrap();
            assert!(url.starts_with("https://gw.example.com/uploads/media/") && url.ends_with(".png"), "{url}");
            let (status, ct, bytes) = w.fetch(url).await;
            assert_eq!((status, ct.as_str(), bytes.as_slice()), (200, "image/png", PNG), "{model}");
        }
        assert!(close(r["cost_usd"].as_f64().unwrap(), price * n as f64), "{model}: {r}");
    }

    // Inline on request, and the OpenAI surface in both formats.
    let (s, r) = w
        .admin
        .post("/api/v1/media/images", json!({"model": "dall-e-3", "prompt": "x", "response_format": "b64_json"}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(STANDARD.decode(r["data"][0]["b64_json"].as_str().unwrap()).unwrap(), PNG);
    assert!(r["data"][0].get("url").is_none());
    let sdk = w.bearer();
    let (s, r) = sdk
        .post(
            "/v1/images/generations",
            json!({"model": "openai/dall-e-3", "prompt": "a fox", "response_format": "b64_json"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert!(r["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(STANDARD.decode(r["data"][0]["b64_json"].as_str().unwrap()).unwrap(), PNG);
    assert_eq!(r["data"][0]["revised_prompt"], "A detailed rendering of: a fox");
    let (s, r) =
        sdk.post("/v1/images/generations", json!({"model": "grok-imagine-image", "prompt": "a fox", "n": 2})).await;
    assert_eq!(s, 200, "{r}");
    let (status, _, bytes) = w.fetch(r["data"][1]["url"].as_str().unwrap()).await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));

    // Upstream failures keep their meaning.
    let (s, r) = sdk.post("/v1/images/generations", json!({"model": "dall-e-3", "prompt": "x", "n": 2})).await;
    assert_eq!((s, r["error"]["type"].as_str()), (400, Some("invalid_request_error")), "the upstream's 400: {r}");
    w.admin.post("/api/v1/add/gateway-config", json!({"key": "routing.max_attempts", "value": 1})).await;
    let e = w
        .admin
        .post("/api/v1/media/images", json!({"model": "dall-e-3", "prompt": "x [[status:429]] [[retry-after:7]]"}))
        .await;
    assert_error(&e, 429, "rate_limited");
    let e = w.admin.post("/api/v1/media/images", json!({"model": "dall-e-3", "prompt": "x", "n": 11})).await;
    assert_error(&e, 422, "invalid_field");

    let rows = w.logs("media.images", 7).await;
    let ok: Vec<&Value> = rows.iter().filter(|r| r["status_code"] == 200).collect();
    assert_eq!(ok.len(), 6, "{rows:?}");
    assert!(ok.iter().any(|r| r["provider"] == "google" && close(cost(r), 0.08)));
    assert!(rows.iter().any(|r| r["status_code"] == 429 && r["error_code"] == "rate_limited"));
    assert_eq!(w.logs("openai.images", 3).await.len(), 3, "two successes, one upstream refusal");
}

fn wav_form(model: &str, format: Option<&str>, bytes: Vec<u8>) -> reqwest::multipart::Form {
    let file = reqwest::multipart::Part::bytes(bytes).file_name("memo.wav").mime_str("audio/wav").unwrap();
    let mut form =
        reqwest::multipart::Form::new().part("file", file).text("model", model.to_string()).text("language", "en");
    if let Some(f) = format {
        form = form.text("response_format", f.to_string());
    }
    form
}

async fn post_form(w: &World, path: &str, form: reqwest::multipart::Form) -> (u16, String, String) {
    let r = reqwest::Client::new().post(w.server.url(path)).bearer_auth(&w.key).multipart(form).send().await.unwrap();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (r.status().as_u16(), ct, r.text().await.unwrap())
}

async fn transcription_is_multipart(backend: Backend) {
    let w = world(backend, &[]).await;
    let audio = wav(2.0);
    let expected = format!("Mock transcript of memo.wav ({} bytes).", audio.len());

    let (s, _, body) =
        post_form(&w, "/api/v1/media/transcriptions", wav_form("openai/whisper-1", None, audio.clone())).await;
    assert_eq!(s, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((r["text"].as_str(), r["duration_seconds"].as_f64()), (Some(expected.as_str()), Some(2.0)));
    assert!(close(r["cost_usd"].as_f64().unwrap(), 2.0 * 0.0001), "priced by the second: {r}");
    assert_eq!(r["segments"][0]["end"], 2.0);

    let (s, _, body) = post_form(&w, "/v1/audio/transcriptions", wav_form("whisper-1", None, audio.clone())).await;
    assert_eq!(s, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r, json!({"text": expected, "usage": {"type": "duration", "seconds": 2.0}}));
    let (s, ct, body) =
        post_form(&w, "/v1/audio/transcriptions", wav_form("whisper-1", Some("text"), audio.clone())).await;
    assert_eq!((s, ct.starts_with("text/plain"), body.trim()), (200, true, expected.as_str()));
    let (s, _, body) =
        post_form(&w, "/v1/audio/transcriptions", wav_form("whisper-1", Some("verbose_json"), audio.clone())).await;
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((s, r["task"].as_str(), r["duration"].as_f64()), (200, Some("transcribe"), Some(2.0)), "{r}");
    let (s, _, body) =
        post_form(&w, "/v1/audio/transcriptions", wav_form("whisper-1", Some("srt"), audio.clone())).await;
    assert!(s == 200 && body.starts_with("1\n00:00:00,000 --> 00:00:02,000\n"), "{body}");

    // Refusals: no file, a file over 25 MiB, a model that does not transcribe.
    let form = reqwest::multipart::Form::new().text("model", "whisper-1");
    let (s, _, body) = post_form(&w, "/v1/audio/transcriptions", form).await;
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((s, r["error"]["param"].as_str()), (400, Some("file")), "{r}");
    let (s, _, body) = post_form(&w, "/v1/audio/transcriptions", wav_form("whisper-1", None, vec![0; 26 << 20])).await;
    assert_eq!(s, 413, "{body}");
    let (s, _, body) = post_form(&w, "/api/v1/media/transcriptions", wav_form("openai/gpt-5.2", None, audio)).await;
    assert_eq!(s, 422, "{body}");

    let sent: Vec<_> = w.mock.requests().into_iter().filter(|r| r.path == "/audio/transcriptions").collect();
    assert_eq!(sent.len(), 5, "refused requests never reach the upstream");
    assert!(sent.iter().all(|r| r.body["file"]["filename"] == "memo.wav" && r.body["language"] == "en"));
    let rows = w.logs("openai.transcriptions", 4).await;
    assert!(rows.iter().all(|r| close(cost(r), 2.0 * 0.0001)), "{rows:?}");
}

async fn speech_and_music_return_audio(backend: Backend) {
    let w = world(backend, &[]).await;
    let sdk = w.bearer();
    for (model, voice) in [("openai/gpt-audio", "alloy"), ("gemini-2.5-flash-preview-tts", "alloy")] {
        let r = reqwest::Client::new()
            .post(w.server.url("/v1/audio/speech"))
            .bearer_auth(&w.key)
            .json(&json!({"model": model, "input": "Hello from the gateway", "voice": voice, "response_format": "wav"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{model}");
        assert_eq!(r.headers()["content-type"], "audio/wav", "{model}");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WAVE", "{model}");
    }
    let (s, r) =
        sdk.post("/v1/audio/speech", json!({"model": "openai/dall-e-3", "input": "x", "voice": "alloy"})).await;
    assert_eq!((s, r["error"]["param"].as_str()), (400, Some("model")), "{r}");

    // Native: stored, with duration and transcript.
    let (s, r) = w
        .admin
        .post(
            "/api/v1/media/speech",
            json!({"model": "google/gemini-2.5-flash-preview-tts", "input": "one two three four", "voice": "Puck"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!((r["mime_type"].as_str(), r["duration_seconds"].as_f64()), (Some("audio/wav"), Some(1.0)));
    let (status, ct, bytes) = w.fetch(r["url"].as_str().unwrap()).await;
    assert_eq!((status, ct.as_str(), &bytes[..4]), (200, "audio/wav", b"RIFF".as_slice()));
    let rows = w.logs("media.speech", 1).await;
    let row = &rows[0];
    let tokens_cost =
        (row["input_tokens"].as_f64().unwrap() * 0.5 + row["output_tokens"].as_f64().unwrap() * 10.0) / 1e6;
    assert!(tokens_cost > 0.0 && close(cost(row), tokens_cost), "{row}");

    // Music: Lyria 3, added by the operator with a per-second price.
    let (s, m) = w
        .admin
        .post(
            "/api/v1/add/model",
            json!({"provider": "google", "model_code": "lyria-3-clip-preview", "name": "Lyria 3 Clip",
                "features": ["music", "audio"], "output_formats": ["audio"], "pricing": {"per_second": 0.002}}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let (s, r) = w
        .admin
        .post("/api/v1/media/music", json!({"model": "google/lyria-3-clip-preview", "prompt": "a folk song"}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["mime_type"], "audio/mpeg");
    assert!(r["lyrics"].as_str().unwrap().contains("a folk song"));
    assert!((r["cost_usd"].as_f64().unwrap() - 30.0 * 0.002).abs() < 0.002, "{r}");
    let (status, ct, bytes) = w.fetch(r["url"].as_str().unwrap()).await;
    assert_eq!((status, ct.as_str(), &bytes[..3]), (200, "audio/mpeg", b"ID3".as_slice()));
    let e = w.admin.post("/api/v1/media/music", json!({"model": "google/lyria-realtime-exp", "prompt": "x"})).await;
    assert_error(&e, 422, "unsupported");
}

async fn videos_are_polled_to_completion(backend: Backend) {
    let w = world(backend, &[]).await;
    for (model, prompt, secs, price) in [
        ("google/veo-3.1-generate-preview", "waves [[polls:3]]", 6, 0.40),
        ("xai/grok-imagine-video", "a surfing dog", 5, 0.05),
        ("huggingface/guoyww/animatediff-motion-adapter-v1-5-2", "a rocket", 4, 0.02),
    ] {
        let body = json!({"model": model, "prompt": prompt, "duration_seconds": secs, "aspect_ratio": "16:9"});
        let (s, r) = w.admin.post("/api/v1/media/videos", body).await;
        assert_eq!(s, 200, "{model}: {r}");
        assert_eq!((r["mime_type"].as_str(), r["duration_seconds"].as_f64()), (Some("video/mp4"), Some(secs as f64)));
        assert!(close(r["cost_usd"].as_f64().unwrap(), price * secs as f64), "{model}: {r}");
        let url = r["url"].as_str().unwrap();
        assert!(
            url.starts_with(&w.server.url("/uploads/media/")) && url.ends_with(".mp4"),
            "absolute on the request's host: {url}"
        );
        let (status, ct, bytes) = w.fetch(url).await;
        assert_eq!((status, ct.as_str(), &bytes[4..8]), (200, "video/mp4", b"ftyp".as_slice()));
    }
    let polls = w.mock.requests().iter().filter(|r| r.provider == "google" && r.path.contains("/operations/")).count();
    assert_eq!(polls, 3);

    // A generation that outlives `media.video_max_wait_ms` is a 504, and is not paid for twice.
    w.admin.post("/api/v1/add/gateway-config", json!({"key": "media.video_max_wait_ms", "value": 200})).await;
    let e = w
        .admin
        .post("/api/v1/media/videos", json!({"model": "veo-3.1-generate-preview", "prompt": "slow [[polls:1000]]"}))
        .await;
    assert_error(&e, 504, "upstream_timeout");
    let starts = w.mock.requests().iter().filter(|r| r.path.ends_with(":predictLongRunning")).count();
    assert_eq!(starts, 2, "one start for the slow video, not one per attempt");
    let e = w
        .admin
        .post("/api/v1/media/videos", json!({"model": "veo-3.1-generate-preview", "prompt": "x [[fail]]"}))
        .await;
    assert_error(&e, 400, "upstream_invalid_request");

    let rows = w.logs("media.videos", 5).await;
    assert_eq!(rows.iter().filter(|r| r["status_code"] == 200).count(), 3, "{rows:?}");
    assert!(rows.iter().any(|r| r["status_code"] == 504 && r["error_code"] == "upstream_timeout"));
}

async fn keys_rotate_and_limits_apply(backend: Backend) {
    let w = world(backend, &[]).await;
    let (_, list) = w.admin.get("/api/v1/list/providers?name=openai").await;
    let openai = list["data"][0]["id"].as_i64().unwrap();
    w.admin.patch(&format!("/api/v1/update/provider/{openai}"), json!({"api_key": "bad-key"})).await;
    let (s, k) = w
        .admin
        .post("/api/v1/add/provider-key", json!({"provider": "openai", "name": "second", "key": "good-key"}))
        .await;
    assert_eq!(s, 201, "{k}");
    for _ in 0..2 {
        let (s, r) =
            w.admin.post("/api/v1/media/embeddings", json!({"model": "text-embedding-3-small", "input": "x"})).await;
        assert_eq!(s, 200, "the good key serves: {r}");
    }
    let (_, keys) = w.admin.get("/api/v1/list/provider-keys?provider=openai").await;
    let bad = keys["data"].as_array().unwrap().iter().find(|k| k["name"] == "default").unwrap();
    assert_eq!(bad["status"], "failing", "{keys}");
    let rows = w.logs("media.embeddings", 3).await;
    assert_eq!(
        rows.iter().filter(|r| r["status_code"] == 401).count(),
        1,
        "the refused attempt is logged once: {rows:?}"
    );

    // The caller's rate limits apply to media as to chat.
    let (_, k) = w.admin.post("/api/v1/add/gateway-api-key", json!({"name": "one-a-minute"})).await;
    let (s, v) = w.admin.patch(&format!("/api/v1/gateway-api-keys/{}/limits", k["id"]), json!({"rpm": 1})).await;
    assert_eq!(s, 200, "{v}");
    let limited = w.admin.with_key("authorization", k["key"].as_str().unwrap());
    let body = json!({"model": "text-embedding-3-small", "input": "x"});
    assert_eq!(limited.post("/v1/embeddings", body.clone()).await.0, 200);
    let (s, r) = limited.post("/v1/embeddings", body).await;
    assert_eq!((s, r["error"]["type"].as_str()), (429, Some("rate_limit_error")), "{r}");
}

both_backends!(
    embeddings_on_every_provider,
    images_are_stored_and_served,
    transcription_is_multipart,
    speech_and_music_return_audio,
    videos_are_polled_to_completion,
    keys_rotate_and_limits_apply,
);
