//! Stored media results: written under `<data_dir>/uploads/media` with
//! unguessable names and served by the `/uploads` file service. URLs are
//! absolute: `server.public_url` when set, else the scheme and host the
//! request came in with.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How a binary result is returned: stored and linked, or inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    #[default]
    Url,
    Base64,
}

impl Delivery {
    /// Parses `response_format` (`url` or `b64_json`).
    pub fn parse(v: Option<&str>) -> ApiResult<Delivery> {
        match v {
            None | Some("url") => Ok(Delivery::Url),
            Some("b64_json") => Ok(Delivery::Base64),
            Some(other) => Err(ApiError::field("response_format", format!("must be url or b64_json, not {other}"))),
        }
    }
}

/// The file extension for a media type.
pub fn ext(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or(mime).trim() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/aac" => "aac",
        "audio/flac" => "flac",
        "audio/pcm" | "audio/l16" => "pcm",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        _ => "bin",
    }
}

/// Writes `bytes` under `uploads/media` and returns its path (`/uploads/media/NAME`).
pub async fn save(state: &AppState, bytes: &[u8], mime: &str) -> ApiResult<String> {
    let dir = state.config.server.data_dir.join("uploads").join("media");
    tokio::fs::create_dir_all(&dir).await.map_err(ApiError::internal)?;
    let name = format!("{}.{}", &spgw_core::apikey::random_token()[..24], ext(mime));
    tokio::fs::write(dir.join(&name), bytes).await.map_err(ApiError::internal)?;
    Ok(format!("/uploads/media/{name}"))
}

/// The absolute URL of a stored path, for this request.
pub fn absolute(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    if let Some(public) = &state.config.server.public_url {
        return format!("{}{path}", public.trim_end_matches('/'));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let host = header("x-forwarded-host").or_else(|| header("host"));
    match host {
        Some(host) => {
            let scheme = header("x-forwarded-proto").filter(|p| *p == "https").unwrap_or("http");
            format!("{scheme}://{host}{path}")
        }
        None => path.to_string(),
    }
}

/// A binary result as JSON fields: `url` (stored) or `b64_json`, with `mime_type`.
pub async fn deliver(
    state: &AppState,
    headers: &HeaderMap,
    delivery: Delivery,
    bytes: &[u8],
    mime: &str,
) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
    match delivery {
        Delivery::Url => {
            let path = save(state, bytes, mime).await?;
            out.insert("url".into(), json!(absolute(state, headers, &path)));
        }
        Delivery::Base64 => {
            out.insert("b64_json".into(), json!(STANDARD.encode(bytes)));
        }
    }
    out.insert("mime_type".into(), json!(mime));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_the_media_type() {
        assert_eq!(ext("image/png"), "png");
        assert_eq!(ext("audio/pcm;rate=24000"), "pcm");
        assert_eq!(ext("video/mp4"), "mp4");
        assert_eq!(ext("application/x-unknown"), "bin");
        assert_eq!(Delivery::parse(Some("b64_json")).ok(), Some(Delivery::Base64));
        assert!(Delivery::parse(Some("png")).is_err());
    }
}
