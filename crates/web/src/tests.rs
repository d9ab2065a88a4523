#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use axum::body::to_bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::*;

fn get(path: &str, headers: &[(header::HeaderName, &str)]) -> Option<Response> {
    let mut h = HeaderMap::new();
    for (k, v) in headers {
        h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
    }
    respond(&Method::GET, path, &h)
}

async fn body(r: Response) -> Vec<u8> {
    to_bytes(r.into_body(), usize::MAX).await.unwrap().to_vec()
}

fn hv(r: &Response, name: header::HeaderName) -> &str {
    r.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// The first hashed script of the build.
fn script() -> &'static Asset {
    ASSETS.iter().find(|a| a.path.starts_with("assets/") && a.path.ends_with(".js")).expect("the build has a script")
}

#[test]
fn the_build_is_embedded_and_sorted() {
    assert!(is_embedded(), "web/dist/index.html is compiled in");
    assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path), "binary search needs sorted paths");
    assert!(ASSETS.iter().all(|a| !a.path.contains('\\') && !a.path.starts_with('/')));
}

#[tokio::test]
async fn index_is_html_revalidated_and_locked_down() {
    let r = get("/", &[]).unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(hv(&r, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(hv(&r, header::CACHE_CONTROL), "no-cache");
    assert!(hv(&r, header::CONTENT_SECURITY_POLICY).contains("script-src 'self'"));
    assert_eq!(hv(&r, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(!hv(&r, header::ETAG).is_empty());
    let html = String::from_utf8(body(r).await).unwrap();
    assert!(html.contains("<div id=\"root\">"), "{html}");
}

#[tokio::test]
async fn client_side_routes_get_the_index() {
    let index = body(get("/index.html", &[]).unwrap()).await;
    for path in ["/projects", "/projects/3/tasks/12", "/login", "/apix", "/v1x/models", "/healthy"] {
        let r = get(path, &[]).unwrap_or_else(|| panic!("{path} is the UI's"));
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(body(r).await, index, "{path}");
    }
}

#[test]
fn api_paths_and_writes_are_never_answered_with_the_ui() {
    for path in
        ["/api", "/api/v1/nope", "/v1/models/x", "/v1", "/health", "/metrics", "/uploads/a.png", "/mcp", "/mcp/x"]
    {
        assert!(is_api_path(path), "{path}");
        assert!(get(path, &[]).is_none(), "{path} keeps its JSON 404");
    }
    assert!(respond(&Method::POST, "/projects", &HeaderMap::new()).is_none());
    assert!(respond(&Method::DELETE, "/", &HeaderMap::new()).is_none());
    assert!(respond(&Method::HEAD, "/", &HeaderMap::new()).is_some());
}

#[tokio::test]
async fn hashed_assets_are_immutable_with_their_type() {
    let a = script();
    let r = get(&format!("/{}", a.path), &[]).unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(hv(&r, header::CONTENT_TYPE), "text/javascript; charset=utf-8");
    assert_eq!(hv(&r, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert!(hv(&r, header::CONTENT_ENCODING).is_empty(), "no gzip unless asked");
    assert_eq!(body(r).await, a.raw);
}

#[tokio::test]
async fn missing_files_are_404_not_html() {
    for path in ["/assets/index-nope.js", "/assets/x", "/favicon-nope.png", "/deep/path/robots.txt"] {
        let r = get(path, &[]).unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(hv(&r, header::CONTENT_TYPE).starts_with("text/plain"), "{path}");
    }
}

#[tokio::test]
async fn gzip_is_negotiated() {
    let a = ASSETS.iter().find(|a| a.gzip.is_some()).expect("the script is big enough to compress");
    let path = format!("/{}", a.path);
    let r = get(&path, &[(header::ACCEPT_ENCODING, "br, gzip;q=0.8")]).unwrap();
    assert_eq!(hv(&r, header::CONTENT_ENCODING), "gzip");
    assert_eq!(hv(&r, header::VARY), "accept-encoding");
    let zipped = body(r).await;
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..]).read_to_end(&mut plain).unwrap();
    assert_eq!(plain, a.raw, "the gzip twin holds the same bytes");

    for refused in ["gzip;q=0", "identity", "br"] {
        let r = get(&path, &[(header::ACCEPT_ENCODING, refused)]).unwrap();
        assert!(hv(&r, header::CONTENT_ENCODING).is_empty(), "{refused}");
        assert_eq!(body(r).await, a.raw, "{refused}");
    }
}

#[tokio::test]
async fn etags_revalidate_per_representation() {
    let plain = get("/", &[]).unwrap();
    let tag = hv(&plain, header::ETAG).to_string();
    let r = get("/", &[(header::IF_NONE_MATCH, &tag)]).unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert!(body(r).await.is_empty());
    let r = get("/", &[(header::IF_NONE_MATCH, "\"other\"")]).unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    if asset(INDEX).and_then(|a| a.gzip).is_some() {
        let gz = get("/", &[(header::ACCEPT_ENCODING, "gzip")]).unwrap();
        assert_ne!(hv(&gz, header::ETAG), tag, "gzip and identity differ in tag");
    }
}

#[test]
fn content_types_by_extension() {
    for (name, ty) in [
        ("a.css", "text/css; charset=utf-8"),
        ("a.SVG", "image/svg+xml"),
        ("a.woff2", "font/woff2"),
        ("a.png", "image/png"),
        ("a.webmanifest", "application/manifest+json"),
        ("noext", "application/octet-stream"),
    ] {
        assert_eq!(content_type(name), ty, "{name}");
    }
}
