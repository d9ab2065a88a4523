//! xAI media (Grok Imagine): images through `POST /images/generations`
//! (OpenAI's shape, but an `aspect_ratio` instead of `size`, and no `quality`
//! or `style`), videos through `POST /videos/generations`, a deferred request
//! polled with `GET /videos/{request_id}` until its `status` is `done`, then
//! downloaded from the URL it names.

use serde::{Deserialize, Serialize};

use crate::media::{self, ImageRequest, Images, Polling, Video, VideoRequest};
use crate::openai::media::images_from_wire;
use crate::openai::media_types::ImagesResponse;
use crate::openai::{read_json, send};
use crate::{Endpoint, Http, ProviderError, http};

/// The aspect ratios Grok Imagine accepts.
const IMAGE_RATIOS: &[&str] =
    &["1:1", "3:4", "4:3", "9:16", "16:9", "2:3", "3:2", "9:19.5", "19.5:9", "9:20", "20:9", "1:2", "2:1"];
const VIDEO_RATIOS: &[&str] = &["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"];

/// The body of `POST /images/generations` on xAI.
#[derive(Debug, Serialize)]
pub struct ImageBody<'a> {
    pub model: &'a str,
    pub prompt: &'a str,
    pub n: u32,
    pub response_format: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
}

/// The body of `POST /videos/generations`.
#[derive(Debug, Serialize)]
pub struct VideoBody<'a> {
    pub model: &'a str,
    pub prompt: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<&'a str>,
}

/// The answer of `POST /videos/generations`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeferredVideo {
    pub request_id: String,
}

/// The answer of `GET /videos/{request_id}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct VideoStatus {
    /// `pending` (or `queued`/`processing`), `done`, `failed`, `expired`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub video: Option<VideoResult>,
    #[serde(default)]
    pub error: Option<VideoError>,
}

/// The finished video.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct VideoResult {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub duration: Option<f64>,
}

/// Why a video failed.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct VideoError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// Generates images (asked for base64, so nothing needs downloading).
#[tracing::instrument(skip_all, fields(provider = "xai", model = %req.model, n = req.n))]
pub async fn images(http: &Http, ep: &Endpoint, req: &ImageRequest) -> Result<Images, ProviderError> {
    let body = ImageBody {
        model: &req.model,
        prompt: &req.prompt,
        n: req.n.max(1),
        response_format: "b64_json",
        aspect_ratio: req.size.as_deref().and_then(|s| media::aspect_ratio(s, IMAGE_RATIOS)),
        user: req.user.as_deref(),
    };
    let wire: ImagesResponse = read_json(send(http, ep, "images/generations", &body).await?).await?;
    images_from_wire(http, wire).await
}

/// Generates a video: submits it, polls the deferred request, downloads the result.
#[tracing::instrument(skip_all, fields(provider = "xai", model = %req.model))]
pub async fn video(http: &Http, ep: &Endpoint, req: &VideoRequest, polling: Polling) -> Result<Video, ProviderError> {
    let body = VideoBody {
        model: &req.model,
        prompt: &req.prompt,
        duration: req.duration_secs,
        aspect_ratio: req.aspect_ratio.as_deref().and_then(|a| media::aspect_ratio(a, VIDEO_RATIOS)),
        resolution: req.resolution.as_deref(),
    };
    let deferred: DeferredVideo = read_json(send(http, ep, "videos/generations", &body).await?).await?;
    if deferred.request_id.is_empty()
        || !deferred.request_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ProviderError::Decode(format!("unexpected request id {:?}", deferred.request_id)));
    }
    let url = ep.url(&format!("videos/{}", deferred.request_id));
    let done = media::poll(polling, || async {
        let mut rb = http.get(&url);
        if !ep.api_key.is_empty() {
            rb = rb.bearer_auth(&ep.api_key);
        }
        let status: VideoStatus = read_json(http::check(rb.send().await?).await?).await?;
        finished(status)
    })
    .await?;
    let url = done.url.ok_or_else(|| ProviderError::Decode("a finished video without a URL".into()))?;
    // The result URL is a public bucket: the API key is not sent there.
    let (bytes, declared) = media::download(http, &url, None).await?;
    let mime = media::media_type(&bytes, declared.as_deref(), "video/mp4");
    let duration_secs = done.duration.filter(|d| *d > 0.0).or(req.duration_secs.map(f64::from));
    Ok(Video { bytes, mime, duration_secs })
}

/// The video once the deferred request is `done`; `None` while it runs.
pub fn finished(s: VideoStatus) -> Result<Option<VideoResult>, ProviderError> {
    match s.status.as_str() {
        "done" => Ok(Some(s.video.unwrap_or_default())),
        "failed" | "expired" => {
            let e = s.error.unwrap_or_default();
            let message = e.message.unwrap_or_else(|| format!("the video request {}", s.status));
            Err(match e.code.as_deref() {
                Some("internal_error") | None if s.status == "failed" => {
                    ProviderError::Upstream { status: 500, message, body: String::new() }
                }
                _ => ProviderError::InvalidRequest { status: 400, message, body: String::new() },
            })
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_end_or_continue_the_poll() {
        let s = |status: &str| VideoStatus { status: status.into(), ..VideoStatus::default() };
        assert!(matches!(finished(s("pending")), Ok(None)));
        assert!(matches!(finished(s("done")), Ok(Some(_))));
        assert!(finished(s("failed")).is_err_and(|e| e.is_retryable()));
        let moderated = VideoStatus {
            status: "failed".into(),
            error: Some(VideoError { code: Some("content_moderated".into()), message: Some("no".into()) }),
            ..VideoStatus::default()
        };
        assert!(matches!(finished(moderated), Err(ProviderError::InvalidRequest { .. })));
        assert!(matches!(finished(s("expired")), Err(ProviderError::InvalidRequest { .. })));
    }
}
