//! OpenAI media against the mock upstream: embeddings, images, transcription
//! and speech (both `/audio/speech` and GPT Audio's Chat Completions), with
//! the requests checked against OpenAI's published schema and the documented
//! answers (fixtures) parsed.

mod openai_support;

use bytes::Bytes;
use openai_support::schema::assert_valid;
use openai_support::{Harness, header, json_fixture};
use serde_json::Value;
use spgw_mocks::media::{PNG, speech_secs, wav};
use spgw_providers::media::{EmbeddingRequest, ImageRequest, SpeechRequest, TranscriptionRequest};
use spgw_providers::openai::media::{embeddings_from_wire, images_from_wire};
use spgw_providers::{Protocol, ProviderError, media};

fn embedding_request(model: &str, input: &[&str], dimensions: Option<u32>) -> EmbeddingRequest {
    EmbeddingRequest {
        model: model.into(),
        input: input.iter().map(|s| s.to_string()).collect(),
        dimensions,
        user: Some("user-1".into()),
    }
}

#[tokio::test]
async fn embeddings_use_base64_with_openai_models_and_floats_elsewhere() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let req = embedding_request("text-embedding-3-small", &["alpha beta", "gamma"], Some(64));
    let out = media::embed("openai", Protocol::OpenAi, &h.http, &ep, &req).await.unwrap();
    assert_eq!(out.vectors.len(), 2);
    assert!(out.vectors.iter().all(|v| v.len() == 64));
    assert_eq!(out.usage.input_tokens, 3, "the mock counts words");
    assert!(!out.usage_estimated);
    let sent = h.last_request();
    assert_eq!(sent.path, "/embeddings");
    assert_eq!(sent.body["encoding_format"], "base64");
    assert_eq!(header(&sent, "authorization"), Some("Bearer test-key"));
    assert_valid("CreateEmbeddingRequest", &sent.body);

    // A compatible server gets floats; the same texts give the same vectors.
    let other = embedding_request("nomic-embed-text", &["alpha beta", "gamma"], Some(64));
    let floats = media::embed("deepseek", Protocol::OpenAi, &h.http, &h.endpoint("deepseek"), &other).await.unwrap();
    assert_eq!(h.last_request().body["encoding_format"], "float");
    assert_eq!(floats.vectors, out.vectors);
    let norm: f32 = out.vectors[0].iter().map(|x| x * x).sum();
    assert!((norm - 1.0).abs() < 1e-3, "unit vectors survive base64: {norm}");
}

#[tokio::test]
async fn documented_embeddings_parse() {
    let wire = serde_json::from_value(json_fixture("embeddings.json")).unwrap();
    let out = embeddings_from_wire(wire, &["The food was delicious and the waiter...".into()]).unwrap();
    assert_eq!(out.vectors, vec![vec![0.0023064255, -0.009327292, -0.0028842222]]);
    assert_eq!(out.usage.input_tokens, 8);
    let wire = serde_json::from_value(json_fixture("embeddings.json")).unwrap();
    assert!(embeddings_from_wire(wire, &["a".into(), "b".into()]).is_err(), "one vector for two inputs");
}

fn image_request(model: &str, n: u32) -> ImageRequest {
    ImageRequest {
        model: model.into(),
        prompt: "a red fox in snow".into(),
        n,
        size: Some("1024x1024".into()),
        quality: Some("standard".into()),
        style: Some("vivid".into()),
        ..ImageRequest::default()
    }
}

#[tokio::test]
async fn dall_e_images_come_back_as_bytes() {
    let h = Harness::start().await;
    let out = media::images("openai", Protocol::OpenAi, &h.http, &h.endpoint("openai"), &image_request("dall-e-3", 1))
        .await
        .unwrap();
    assert_eq!(out.images.len(), 1);
    assert_eq!(out.images[0].bytes.as_ref(), PNG);
    assert_eq!(out.images[0].mime, "image/png");
    assert_eq!(out.images[0].revised_prompt.as_deref(), Some("A detailed rendering of: a red fox in snow"));
    let sent = h.only_request();
    assert_eq!(sent.path, "/images/generations");
    assert_eq!(sent.body["response_format"], "b64_json");
    assert_eq!((sent.body["size"].as_str(), sent.body["style"].as_str()), (Some("1024x1024"), Some("vivid")));
    assert_valid("CreateImageRequest", &sent.body);

    // DALL-E 3 takes one image per request: the upstream's refusal is the caller's error.
    let err = media::images("openai", Protocol::OpenAi, &h.http, &h.endpoint("openai"), &image_request("dall-e-3", 2))
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::InvalidRequest { status: 400, ref message, .. } if message.contains("n=1")));
}

#[tokio::test]
async fn gpt_image_models_get_no_response_format_and_report_tokens() {
    let h = Harness::start().await;
    let mut req = image_request("gpt-image-1", 2);
    req.quality = Some("high".into());
    req.style = None;
    let out = media::images("openai", Protocol::OpenAi, &h.http, &h.endpoint("openai"), &req).await.unwrap();
    assert_eq!(out.images.len(), 2);
    assert!(out.usage.output_tokens > 0 && out.usage.input_tokens > 0);
    let sent = h.only_request();
    assert!(sent.body.get("response_format").is_none());
    assert_valid("CreateImageRequest", &sent.body);
}

#[tokio::test]
async fn image_urls_are_downloaded_and_documented_answers_parse() {
    let h = Harness::start().await;
    let url = format!("http://{}/openai/_files/img-0000000000000001-0.png", h.mock.addr);
    let wire = serde_json::from_value(serde_json::json!({"created": 1, "data": [{"url": url}]})).unwrap();
    let out = images_from_wire(&h.http, wire).await.unwrap();
    assert_eq!(out.images[0].bytes.as_ref(), PNG);
    assert_eq!(out.images[0].mime, "image/png");

    let wire = serde_json::from_value(json_fixture("media_images_b64.json")).unwrap();
    let out = images_from_wire(&h.http, wire).await.unwrap();
    assert_eq!(out.images[0].bytes.as_ref(), PNG);
    assert_eq!((out.usage.input_tokens, out.usage.output_tokens), (50, 50));
}

fn transcription(model: &str, format: Option<&str>) -> TranscriptionRequest {
    TranscriptionRequest {
        model: model.into(),
        audio: Bytes::from(wav(2.0)),
        filename: "meeting.wav".into(),
        mime: Some("audio/wav".into()),
        language: Some("en".into()),
        prompt: Some("Names: Ada".into()),
        temperature: Some(0.2),
        response_format: format.map(str::to_owned),
    }
}

#[tokio::test]
async fn whisper_is_asked_for_verbose_json_to_learn_the_duration() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let out = media::transcribe("openai", Protocol::OpenAi, &h.http, &ep, &transcription("whisper-1", Some("text")))
        .await
        .unwrap();
    assert_eq!(out.text, format!("Mock transcript of meeting.wav ({} bytes).", wav(2.0).len()));
    assert_eq!(out.duration_secs, Some(2.0));
    assert_eq!(out.language.as_deref(), Some("english"));
    assert!(out.segments.as_ref().is_some_and(|s| s[0]["end"] == 2.0));
    let sent = h.only_request();
    assert_eq!(sent.path, "/audio/transcriptions");
    assert!(header(&sent, "content-type").is_some_and(|c| c.starts_with("multipart/form-data; boundary=")));
    assert_eq!(sent.body["response_format"], "verbose_json");
    assert_eq!(sent.body["model"], "whisper-1");
    assert_eq!((sent.body["language"].as_str(), sent.body["prompt"].as_str()), (Some("en"), Some("Names: Ada")));
    assert_eq!(sent.body["temperature"], "0.2");
    let file = &sent.body["file"];
    assert_eq!((file["filename"].as_str(), file["content_type"].as_str()), (Some("meeting.wav"), Some("audio/wav")));
    assert_eq!(file["bytes"].as_u64(), Some(wav(2.0).len() as u64));
}

#[tokio::test]
async fn gpt_transcribe_models_report_tokens_and_subtitles_pass_through() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let out = media::transcribe("openai", Protocol::OpenAi, &h.http, &ep, &transcription("gpt-4o-transcribe", None))
        .await
        .unwrap();
    assert_eq!(h.last_request().body["response_format"], "json");
    assert_eq!(out.usage.input_tokens, 20, "10 audio tokens a second");
    assert_eq!(out.duration_secs, Some(2.0), "read from the WAV header");

    let out = media::transcribe("openai", Protocol::OpenAi, &h.http, &ep, &transcription("whisper-1", Some("srt")))
        .await
        .unwrap();
    assert_eq!(h.last_request().body["response_format"], "srt");
    let srt = out.formatted.unwrap();
    assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:02,000\n"), "{srt}");
    assert!(out.text.starts_with("Mock transcript of meeting.wav"));
}

#[tokio::test]
async fn documented_transcriptions_parse() {
    use spgw_providers::openai::media_types::TranscriptionResponse;
    let t: TranscriptionResponse = serde_json::from_value(json_fixture("media_transcription_segments.json")).unwrap();
    assert_eq!((t.duration, t.usage.as_ref().and_then(|u| u.seconds)), (Some(8.470000267028809), Some(9.0)));
    let t: TranscriptionResponse = serde_json::from_value(json_fixture("media_transcription_tokens.json")).unwrap();
    assert_eq!(t.usage.as_ref().and_then(|u| u.output_tokens), Some(45));
    let t: TranscriptionResponse = serde_json::from_value(json_fixture("media_transcription_diarized.json")).unwrap();
    assert_eq!(t.segments.as_ref().map(|s| s[1]["speaker"].clone()), Some(Value::from("A")));
}

fn speech(model: &str, format: Option<&str>) -> SpeechRequest {
    SpeechRequest {
        model: model.into(),
        input: "Hello there, general Kenobi".into(),
        voice: Some("coral".into()),
        format: format.map(str::to_owned),
        speed: Some(1.25),
        instructions: None,
    }
}

#[tokio::test]
async fn speech_returns_audio_of_the_asked_format() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let out = media::speech("openai", Protocol::OpenAi, &h.http, &ep, &speech("tts-1", None)).await.unwrap();
    assert_eq!(out.mime, "audio/mpeg");
    assert!(out.bytes.starts_with(b"ID3"));
    let estimated = out.duration_secs.unwrap();
    assert!((estimated - speech_secs("Hello there, general Kenobi")).abs() < 0.1, "{estimated}");
    let sent = h.only_request();
    assert_eq!(sent.path, "/audio/speech");
    assert_eq!((sent.body["voice"].as_str(), sent.body["speed"].as_f64()), (Some("coral"), Some(1.25)));
    assert_valid("CreateSpeechRequest", &sent.body);

    let out =
        media::speech("openai", Protocol::OpenAi, &h.http, &ep, &speech("gpt-4o-mini-tts", Some("wav"))).await.unwrap();
    assert_eq!((out.mime.as_str(), out.duration_secs), ("audio/wav", Some(1.0)));
    assert_valid("CreateSpeechRequest", &h.last_request().body);

    let mut limited = speech("tts-1", None);
    limited.input = "slow down [[status:429]] [[retry-after:3]]".into();
    let err = media::speech("openai", Protocol::OpenAi, &h.http, &ep, &limited).await.unwrap_err();
    assert!(matches!(err, ProviderError::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 3));
    let err = media::speech(
        "openai",
        Protocol::OpenAi,
        &h.http,
        &h.endpoint_with_key("openai", "bad-key"),
        &speech("tts-1", None),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ProviderError::Auth { status: 401, .. }));
}

#[tokio::test]
async fn gpt_audio_speaks_through_chat_completions() {
    let h = Harness::start().await;
    let mut req = speech("gpt-audio", Some("pcm"));
    req.instructions = Some("cheerful".into());
    let out = media::speech("openai", Protocol::OpenAi, &h.http, &h.endpoint("openai"), &req).await.unwrap();
    assert_eq!(out.mime, "audio/pcm");
    assert_eq!(out.text.as_deref(), Some("Hello there, general Kenobi"));
    assert_eq!(out.duration_secs, Some(speech_secs("Hello there, general Kenobi")));
    assert!(out.usage.output_tokens > 0);
    let sent = h.only_request();
    assert_eq!(sent.path, "/chat/completions");
    assert_eq!(sent.body["modalities"], serde_json::json!(["text", "audio"]));
    assert_eq!(sent.body["audio"], serde_json::json!({"voice": "coral", "format": "pcm16"}));
    assert!(sent.body["messages"][0]["content"].as_str().is_some_and(|s| s.contains("Delivery: cheerful")));
    assert_valid("CreateChatCompletionRequest", &sent.body);
}

#[tokio::test]
async fn providers_without_a_media_api_are_refused_before_any_call() {
    let h = Harness::start().await;
    let ep = h.endpoint("openai");
    let err = media::embed("anthropic", Protocol::Anthropic, &h.http, &ep, &embedding_request("x", &["a"], None))
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Unsupported(_)));
    let err = media::transcribe("xai", Protocol::OpenAi, &h.http, &ep, &transcription("x", None)).await.unwrap_err();
    assert!(matches!(err, ProviderError::Unsupported(_)));
    assert!(h.mock.requests().is_empty());
}
