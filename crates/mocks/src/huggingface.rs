//! Hugging Face `hf-inference` mock under `/huggingface/hf-inference/models/{repo}`
//! (the router's chat routes are the OpenAI mock's, under `/huggingface/v1`):
//! feature extraction (`.../pipeline/feature-extraction`, bare JSON arrays of
//! deterministic unit vectors), text-to-image (PNG bytes) and text-to-video
//! (MP4 bytes). Errors use Hugging Face's `{"error": "..."}` body; a missing
//! or `bad-key` token gets 401, an unknown repo 404, `[[status:503]]` the
//! "model is currently loading" answer.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::media::{self, MediaDirectives, PNG};
use crate::{MockState, Recorded, header_pairs};

/// Embedding repos and their dimensions.
const EMBEDDERS: &[(&str, usize)] = &[
    ("BAAI/bge-large-en-v1.5", 1024),
    ("BAAI/bge-small-en-v1.5", 384),
    ("intfloat/e5-large-v2", 1024),
    ("intfloat/multilingual-e5-large-instruct", 1024),
    ("sentence-transformers/all-MiniLM-L6-v2", 384),
];
const IMAGE_MODELS: &[&str] =
    &["black-forest-labs/FLUX.1-dev", "black-forest-labs/FLUX.1-schnell", "stabilityai/stable-diffusion-xl-base-1.0"];
const VIDEO_MODELS: &[&str] = &[
    "stabilityai/stable-video-diffusion-img2vid-xt",
    "guoyww/animatediff-motion-adapter-v1-5-2",
    "Wan-AI/Wan2.1-T2V-14B",
];
const IMAGE_PARAMETERS: &[&str] =
    &["width", "height", "negative_prompt", "num_inference_steps", "guidance_scale", "seed", "scheduler"];

/// Routes of this provider's mock.
pub fn router() -> Router<MockState> {
    Router::new().route("/huggingface/hf-inference/models/{*path}", post(inference))
}

fn err(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

async fn inference(
    State(state): State<MockState>,
    Path(path): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    state.record(Recorded {
        provider: "huggingface".into(),
        path: format!("/hf-inference/models/{path}"),
        headers: header_pairs(&headers),
        body: body.clone(),
    });
    let token =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if matches!(token.map(str::trim), None | Some("") | Some("bad-key")) {
        return err(StatusCode::UNAUTHORIZED, "Invalid credentials in Authorization header");
    }
    let (model, task) = match path.strip_suffix("/pipeline/feature-extraction") {
        Some(m) => (m, "feature-extraction"),
        None => (path.as_str(), "auto"),
    };
    let text = match body.get("inputs") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
        _ => return err(StatusCode::BAD_REQUEST, "Missing inputs"),
    };
    let d = MediaDirectives::parse(&text);
    match d.common.status {
        Some(503) => {
            let body = json!({"error": format!("Model {model} is currently loading"), "estimated_time": 20.0});
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
        Some(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = err(status, &format!("Mock error {code}"));
            if let Some(v) = d.common.retry_after.and_then(|s| s.to_string().parse().ok()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
        None => {}
    }
    if let Some((_, dims)) = EMBEDDERS.iter().find(|(m, _)| *m == model) {
        return embed(&body, *dims);
    }
    if task == "feature-extraction" {
        return err(StatusCode::BAD_REQUEST, &format!("Model {model} does not support feature-extraction"));
    }
    let parameters = body.get("parameters").and_then(Value::as_object);
    if IMAGE_MODELS.contains(&model) {
        if let Some(k) = parameters.and_then(|p| p.keys().find(|k| !IMAGE_PARAMETERS.contains(&k.as_str()))) {
            return err(StatusCode::BAD_REQUEST, &format!("unexpected parameter {k}"));
        }
        return ([(header::CONTENT_TYPE, "image/png")], PNG).into_response();
    }
    if VIDEO_MODELS.contains(&model) {
        return ([(header::CONTENT_TYPE, "video/mp4")], media::mp4(4)).into_response();
    }
    err(StatusCode::NOT_FOUND, &format!("Model {model} does not exist"))
}

/// Feature extraction: one vector for a string input, a list for a list.
fn embed(body: &Value, dims: usize) -> Response {
    let vector = |t: &str| unit_vector(t, dims);
    let answer = match body.get("inputs") {
        Some(Value::String(s)) => json!(vector(s)),
        Some(Value::Array(items)) => {
            json!(items.iter().map(|i| vector(i.as_str().unwrap_or_default())).collect::<Vec<_>>())
        }
        _ => return err(StatusCode::BAD_REQUEST, "Missing inputs"),
    };
    axum::Json(answer).into_response()
}

/// A deterministic unit vector for a text.
fn unit_vector(text: &str, dims: usize) -> Vec<f32> {
    let mut state = media::fnv(text.as_bytes()) | 1;
    let mut v: Vec<f32> = (0..dims)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}
