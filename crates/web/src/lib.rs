//! The web UI, embedded. `web/dist` (built from the TypeScript sources in
//! `web/` and committed) is compiled into the binary, so the gateway serves its
//! UI with no Node and no files beside it, in debug and release builds alike.
//!
//! [`respond`] answers the paths the API does not own: a file of the build, or
//! `index.html` for the UI's client-side routes. API prefixes are never
//! answered with the UI, so a mistyped API path keeps its JSON 404.

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

/// One file of the build.
struct Asset {
    /// Path below `web/dist`, `/`-separated.
    path: &'static str,
    raw: &'static [u8],
    /// The same bytes gzipped, for text files where that pays.
    gzip: Option<&'static [u8]>,
}

/// Every file of `web/dist`, sorted by path (written by `build.rs`).
static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

fn asset(rel: &str) -> Option<&'static Asset> {
    ASSETS.binary_search_by(|a| a.path.cmp(rel)).ok().map(|i| &ASSETS[i])
}

const INDEX: &str = "index.html";

/// Paths owned by the API, the compatible endpoints, uploads and operations.
const API_PREFIXES: &[&str] = &["/api", "/v1", "/health", "/metrics", "/uploads", "/mcp"];

/// Hashed build output: the name changes whenever the content does.
const HASHED_DIR: &str = "assets/";

/// Only scripts from our origin, no framing; styles inline because React sets `style` attributes.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob: https:; media-src 'self' blob: https:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

/// Whether a path belongs to the API (or uploads) rather than the UI.
pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// The UI's answer to a request no API route matched, or `None` when the
/// request is not the UI's (an API path, or a method other than GET/HEAD).
pub fn respond(method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    if (method != Method::GET && method != Method::HEAD) || is_api_path(path) {
        return None;
    }
    let rel = match path.trim_start_matches('/') {
        "" => INDEX,
        rel => rel,
    };
    if let Some(a) = asset(rel) {
        return Some(file(a, headers));
    }
    // A missing script or image must not come back as HTML: the browser would
    // report a confusing MIME error instead of a 404.
    if rel.starts_with(HASHED_DIR) || looks_like_file(rel) {
        return Some(not_found());
    }
    asset(INDEX).map(|a| file(a, headers))
}

/// Whether the UI build is embedded (false only in a build made without `web/dist`).
pub fn is_embedded() -> bool {
    asset(INDEX).is_some()
}

fn looks_like_file(rel: &str) -> bool {
    rel.rsplit('/').next().is_some_and(|last| last.contains('.'))
}

fn not_found() -> Response {
    let mut resp = Response::new(Body::from("not found"));
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    resp
}

/// A file of the build, gzipped when the client takes it and the build has a gzip twin.
fn file(a: &'static Asset, headers: &HeaderMap) -> Response {
    let gzip = a.gzip.filter(|_| accepts_gzip(headers));
    let contents = gzip.unwrap_or(a.raw);
    let immutable = a.path.starts_with(HASHED_DIR);
    let etag = (!immutable).then(|| etag(contents, gzip.is_some()));
    let fresh = etag.as_ref().is_some_and(|tag| {
        headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| matches(v, tag))
    });
    let mut resp = Response::new(if fresh { Body::empty() } else { Body::from(contents) });
    if fresh {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = resp.headers_mut();
    // Hashed names never change content; everything else is revalidated so a
    // new build shows up on the next load.
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if a.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(v) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        h.insert(header::ETAG, v);
    }
    if fresh {
        return resp;
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(a.path)));
    if gzip.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if a.path.ends_with(".html") {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    resp
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or_default().trim();
            let refused = it.any(
                |p| matches!(p.trim().strip_prefix("q="), Some(q) if q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)),
            );
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        },
    )
}

fn etag(contents: &[u8], gzipped: bool) -> String {
    let mut h = DefaultHasher::new();
    contents.hash(&mut h);
    // Each representation needs its own tag, or a cache could serve gzip to a client that refused it.
    format!("\"{:016x}{}\"", h.finish(), if gzipped { "-gz" } else { "" })
}

fn matches(if_none_match: &str, tag: &str) -> bool {
    if_none_match.trim() == "*" || if_none_match.split(',').any(|t| t.trim().trim_start_matches("W/") == tag)
}

/// The media type of a build file, by extension.
fn content_type(rel: &str) -> &'static str {
    let ext = rel.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests;
