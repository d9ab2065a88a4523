//! Gemini API media against the mock upstream: embeddings (single and batch),
//! Imagen, Veo (an operation polled to completion, then the Files API
//! download with its redirect), speech, Lyria and Gemini image models; and the
//! documented answers (fixtures) parsed by the wire types.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use spgw_mocks::media::{PNG, speech_secs};
use spgw_mocks::{MockServer, Recorded};
use spgw_providers::google::media_types::{MediaContentResponse, Operation, PredictResponse};
use spgw_providers::media::{EmbeddingRequest, ImageRequest, MusicRequest, Polling, SpeechRequest, VideoRequest};
use spgw_providers::{Endpoint, Protocol, ProviderError, media};

struct H {
    mock: MockServer,
    http: spgw_providers::Http,
}

impl H {
    async fn start() -> H {
        H { mock: spgw_mocks::spawn().await.unwrap(), http: spgw_providers::Http::new(&Default::default()).unwrap() }
    }
    fn ep(&self) -> Endpoint {
        Endpoint { base_url: self.mock.base_url("google"), api_key: "g-key".into() }
    }
    fn sent(&self) -> Vec<Recorded> {
        self.mock.requests()
    }
}

fn key(r: &Recorded) -> Option<&str> {
    r.headers.iter().find(|(k, _)| k == "x-goog-api-key").map(|(_, v)| v.as_str())
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/google/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

const FAST: Polling = Polling { interval: Duration::from_millis(5), max_wait: Duration::from_secs(10) };

#[tokio::test]
async fn one_text_uses_embed_content_and_several_a_batch() {
    let h = H::start().await;
    let one = EmbeddingRequest {
        model: "gemini-embedding-001".into(),
        input: vec!["hi there".into()],
        dimensions: Some(8),
        user: None,
    };
    let out = media::embed("google", Protocol::Google, &h.http, &h.ep(), &one).await.unwrap();
    assert_eq!(out.vectors.len(), 1);
    assert_eq!(out.vectors[0].len(), 8);
    assert!(out.usage_estimated && out.usage.input_tokens == 2);
    let sent = &h.sent()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-embedding-001:embedContent");
    assert_eq!(sent.body, json!({"content": {"parts": [{"text": "hi there"}]}, "outputDimensionality": 8}));
    assert_eq!(key(sent), Some("g-key"));

    let many = EmbeddingRequest { input: vec!["hi there".into(), "bye".into()], ..one };
    let out2 = media::embed("google", Protocol::Google, &h.http, &h.ep(), &many).await.unwrap();
    assert_eq!(out2.vectors.len(), 2);
    assert_eq!(out2.vectors[0], out.vectors[0], "same text, same vector");
    let sent = &h.sent()[1];
    assert_eq!(sent.path, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
    assert_eq!(sent.body["requests"][1]["model"], "models/gemini-embedding-001");
    assert_eq!(sent.body["requests"][1]["content"]["parts"][0]["text"], "bye");
}

fn image(model: &str, n: u32, prompt: &str) -> ImageRequest {
    ImageRequest {
        model: model.into(),
        prompt: prompt.into(),
        n,
        size: Some("1792x1024".into()),
        ..ImageRequest::default()
    }
}

#[tokio::test]
async fn imagen_predicts_with_the_nearest_aspect_ratio() {
    let h = H::start().await;
    let out = media::images(
        "google",
        Protocol::Google,
        &h.http,
        &h.ep(),
        &image("imagen-4.0-generate-001", 2, "a lighthouse"),
    )
    .await
    .unwrap();
    assert_eq!(out.images.len(), 2);
    assert!(out.images.iter().all(|i| i.bytes.as_ref() == PNG && i.mime == "image/png"));
    let sent = &h.sent()[0];
    assert_eq!(sent.path, "/v1beta/models/imagen-4.0-generate-001:predict");
    assert_eq!(
        sent.body,
        json!({"instances": [{"prompt": "a lighthouse"}], "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "imageSize": "2K"}})
    );

    let err = media::images(
        "google",
        Protocol::Google,
        &h.http,
        &h.ep(),
        &image("imagen-4.0-generate-001", 1, "x [[filtered]]"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ProviderError::InvalidRequest { ref message, .. } if message.contains("filtered")));
}

#[tokio::test]
async fn gemini_image_models_answer_inline_images_one_call_each() {
    let h = H::start().await;
    let out = media::images("google", Protocol::Google, &h.http, &h.ep(), &image("gemini-2.5-flash-image", 2, "a cat"))
        .await
        .unwrap();
    assert_eq!(out.images.len(), 2);
    assert!(out.usage.output_tokens > 0);
    let sent = h.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].path, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    assert_eq!(sent[0].body["generationConfig"]["responseModalities"], json!(["TEXT", "IMAGE"]));
}

fn video(prompt: &str) -> VideoRequest {
    VideoRequest {
        model: "veo-3.1-generate-preview".into(),
        prompt: prompt.into(),
        duration_secs: Some(6),
        aspect_ratio: Some("9:16".into()),
        resolution: Some("720p".into()),
        negative_prompt: Some("blur".into()),
    }
}

#[tokio::test]
async fn veo_is_polled_to_completion_and_downloaded_with_the_key() {
    let h = H::start().await;
    let out =
        media::video("google", Protocol::Google, &h.http, &h.ep(), &video("waves [[polls:3]]"), FAST).await.unwrap();
    assert_eq!(out.mime, "video/mp4");
    assert_eq!(&out.bytes[4..8], b"ftyp");
    assert_eq!(out.duration_secs, Some(6.0));
    let sent = h.sent();
    let paths: Vec<&str> = sent.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths[0], "/v1beta/models/veo-3.1-generate-preview:predictLongRunning");
    assert_eq!(
        sent[0].body["parameters"],
        json!({"aspectRatio": "9:16", "resolution": "720p", "durationSeconds": 6, "negativePrompt": "blur"})
    );
    let polls = paths.iter().filter(|p| p.contains("/operations/")).count();
    assert_eq!(polls, 3, "{paths:?}");
    let file = sent.iter().find(|r| r.path.starts_with("/v1beta/files/")).expect("the file was fetched");
    assert!(file.path.ends_with(":download?alt=media"));
    assert_eq!(key(file), Some("g-key"), "the Files API needs the key");
    assert!(paths.iter().any(|p| p.starts_with("/_storage/")), "the redirect was followed: {paths:?}");
}

#[tokio::test]
async fn veo_failures_and_slow_operations_end_the_wait() {
    let h = H::start().await;
    let err = media::video("google", Protocol::Google, &h.http, &h.ep(), &video("x [[fail]]"), FAST).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::InvalidRequest { status: 400, ref message, .. } if message.contains("usage guidelines"))
    );
    let err =
        media::video("google", Protocol::Google, &h.http, &h.ep(), &video("x [[filtered]]"), FAST).await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidRequest { ref message, .. } if message.contains("filtered")));
    let short = Polling { interval: Duration::from_millis(5), max_wait: Duration::from_millis(40) };
    let err = media::video("google", Protocol::Google, &h.http, &h.ep(), &video("x [[polls:1000]]"), short)
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Timeout));
    let err =
        media::video("google", Protocol::Google, &h.http, &h.ep(), &video("x [[status:429]]"), FAST).await.unwrap_err();
    assert!(matches!(err, ProviderError::RateLimited { .. }));
}

fn speech(voice: &str, format: Option<&str>) -> SpeechRequest {
    SpeechRequest {
        model: "gemini-2.5-flash-preview-tts".into(),
        input: "Have a wonderful day".into(),
        voice: Some(voice.into()),
        format: format.map(str::to_owned),
        ..SpeechRequest::default()
    }
}

#[tokio::test]
async fn speech_wraps_the_pcm_in_wav_and_maps_voices() {
    let h = H::start().await;
    let out = media::speech("google", Protocol::Google, &h.http, &h.ep(), &speech("alloy", None)).await.unwrap();
    assert_eq!(out.mime, "audio/wav");
    assert!(out.bytes.starts_with(b"RIFF") && out.bytes[8..12] == *b"WAVE");
    assert_eq!(out.duration_secs, Some(speech_secs("Have a wonderful day")));
    assert_eq!(out.usage.output_tokens, 25);
    let sent = &h.sent()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent");
    let config = &sent.body["generationConfig"];
    assert_eq!(config["responseModalities"], json!(["AUDIO"]));
    assert_eq!(
        config["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"], "Kore",
        "unknown voices fall back"
    );

    let out = media::speech("google", Protocol::Google, &h.http, &h.ep(), &speech("puck", Some("pcm"))).await.unwrap();
    assert_eq!(out.mime, "audio/pcm;rate=24000");
    assert_eq!(out.bytes.len(), 48_000);
    assert_eq!(
        h.sent()[1].body["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"],
        "Puck"
    );
}

#[tokio::test]
async fn lyria_composes_mp3_with_lyrics_and_realtime_is_refused() {
    let h = H::start().await;
    let req =
        MusicRequest { model: "lyria-3-clip-preview".into(), prompt: "folk song about rivers".into(), format: None };
    let out = media::music("google", Protocol::Google, &h.http, &h.ep(), &req).await.unwrap();
    assert_eq!(out.mime, "audio/mpeg");
    assert!(out.bytes.starts_with(b"ID3"));
    assert!(out.text.as_deref().is_some_and(|t| t.contains("folk song about rivers")));
    let d = out.duration_secs.unwrap();
    assert!((d - 30.0).abs() < 0.5, "{d}");
    assert_eq!(h.sent()[0].body["generationConfig"]["responseModalities"], json!(["AUDIO", "TEXT"]));

    let wav = MusicRequest { format: Some("wav".into()), ..req.clone() };
    let out = media::music("google", Protocol::Google, &h.http, &h.ep(), &wav).await.unwrap();
    assert_eq!((out.mime.as_str(), out.duration_secs), ("audio/wav", Some(30.0)));

    let realtime = MusicRequest { model: "lyria-realtime-exp".into(), ..req };
    let err = media::music("google", Protocol::Google, &h.http, &h.ep(), &realtime).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unsupported(ref m) if m.contains("WebSocket")));
    assert_eq!(h.sent().len(), 2, "nothing was sent for Lyria RealTime");
}

#[test]
fn documented_answers_parse() {
    let p: PredictResponse = serde_json::from_value(fixture("media_imagen_predict.json")).unwrap();
    assert_eq!(p.predictions.len(), 2);
    assert!(p.predictions[0].bytes_base64_encoded.is_some() && p.predictions[1].rai_filtered_reason.is_some());
    let running: Operation = serde_json::from_value(fixture("media_veo_operation_running.json")).unwrap();
    assert!(!running.done && running.name.ends_with("/operations/xdkevfm7dp0b"));
    let done: Operation = serde_json::from_value(fixture("media_veo_operation_done.json")).unwrap();
    let samples = done.response.and_then(|r| r.generate_video_response).unwrap().generated_samples;
    assert!(
        samples[0].video.as_ref().and_then(|v| v.uri.as_deref()).is_some_and(|u| u.ends_with(":download?alt=media"))
    );
    let tts: MediaContentResponse = serde_json::from_value(fixture("media_tts.json")).unwrap();
    let inline = tts.candidates[0].content.as_ref().unwrap().parts[0].inline_data.clone().unwrap();
    assert_eq!(media::pcm_rate(&inline.mime_type), Some(24_000));
    let pcm = media::decode_base64(&inline.data).unwrap();
    assert_eq!(media::duration_secs(&media::pcm16_to_wav(&pcm, 24_000), "audio/wav"), Some(0.1));
}
