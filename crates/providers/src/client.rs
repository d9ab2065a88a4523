//! The adapters' HTTP client: reqwest for everything, and hyper's pooled client
//! (with the same rustls and webpki roots) for the JSON POSTs of chat calls.
//!
//! Counted with callgrind (bench/README.md, "Fifth session"): for each call,
//! reqwest parses the URL string, converts it to a `Uri`, and its redirect layer
//! formats that `Uri` back into a string and parses it again, even with
//! redirects off; with its proxy matcher and retry layer that was ~30k
//! instructions per proxied chat request, an eighth of the gateway's own work.
//! A chat call needs none of it: one POST of a JSON body to a configured
//! endpoint, no redirects, no cookies, retries done by the router.
//!
//! reqwest stays for the rest (multipart uploads, downloads, polling), and for
//! chat too when a system proxy is configured (`HTTPS_PROXY` and friends, which
//! reqwest honours and hyper's client does not) or a URL is not a plain `Uri`.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use http_body_util::{BodyDataStream, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::error::ProviderError;

/// Connection settings of both clients.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    /// How long an idle upstream connection is kept for reuse.
    pub pool_idle_timeout: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions { connect_timeout: Duration::from_secs(10), pool_idle_timeout: Duration::from_secs(90) }
    }
}

type Lean = hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The client the adapters call with; it dereferences to the [`reqwest::Client`].
#[derive(Clone)]
pub struct Http {
    reqwest: reqwest::Client,
    /// `None` when a system proxy is configured.
    lean: Option<Lean>,
}

impl Deref for Http {
    type Target = reqwest::Client;
    fn deref(&self) -> &reqwest::Client {
        &self.reqwest
    }
}

impl Http {
    /// Both clients, with `opts`.
    pub fn new(opts: &HttpOptions) -> Result<Http, reqwest::Error> {
        let reqwest = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(opts.pool_idle_timeout)
            // Retries are the router's (per attempt, logged, with fallback); the client's
            // own would also clone every request's headers in case it retried.
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .build()?;
        let lean = if system_proxy() { None } else { lean(opts) };
        Ok(Http { reqwest, lean })
    }

    /// POSTs a JSON body with `headers` (auth, versions) and answers any status;
    /// [`crate::http::check`] turns error statuses into errors.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Vec<u8>,
    ) -> Result<Upstream, ProviderError> {
        if let (Some(lean), Ok(uri)) = (&self.lean, url.parse::<hyper::Uri>()) {
            let mut req = hyper::Request::post(uri).body(Full::new(Bytes::from(body))).map_err(network)?;
            let h = req.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(ACCEPT, HeaderValue::from_static("*/*"));
            for (name, value) in headers {
                h.insert(name.clone(), value.clone());
            }
            return lean.request(req).await.map(Upstream::Lean).map_err(transport);
        }
        let mut rb = self.reqwest.post(url).header(CONTENT_TYPE, "application/json").body(body);
        for (name, value) in headers {
            rb = rb.header(name.clone(), value.clone());
        }
        Ok(Upstream::Reqwest(rb.send().await?))
    }
}

/// A request body as JSON bytes, for [`Http::post_json`].
pub fn json_body<T: serde::Serialize + ?Sized>(body: &T) -> Result<Vec<u8>, ProviderError> {
    serde_json::to_vec(body).map_err(|e| ProviderError::Decode(format!("cannot encode the request: {e}")))
}

/// A `Bearer` authorization header, marked sensitive (never printed by `Debug`).
pub fn bearer(key: &str) -> Result<(HeaderName, HeaderValue), ProviderError> {
    secret_header(reqwest::header::AUTHORIZATION, &["Bearer ", key].concat())
}

/// A header carrying a secret, marked sensitive.
pub fn secret_header(name: HeaderName, value: &str) -> Result<(HeaderName, HeaderValue), ProviderError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| ProviderError::Network(format!("invalid {name} value")))?;
    v.set_sensitive(true);
    Ok((name, v))
}

/// Whether reqwest would send through a proxy from the environment.
fn system_proxy() -> bool {
    ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// hyper's client over rustls with the webpki roots, HTTP/2 by ALPN, as reqwest
/// is configured; `None` (reqwest for everything) if TLS cannot be set up.
fn lean(opts: &HttpOptions) -> Option<Lean> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .inspect_err(|e| tracing::warn!(error = %e, "TLS setup failed; chat calls go through reqwest"))
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(opts.connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(tcp);
    Some(
        hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(opts.pool_idle_timeout)
            .pool_timer(TokioTimer::new())
            .build(https),
    )
}

/// An upstream's answer, from either client.
#[derive(Debug)]
pub enum Upstream {
    Reqwest(reqwest::Response),
    Lean(hyper::Response<Incoming>),
}

impl From<reqwest::Response> for Upstream {
    fn from(r: reqwest::Response) -> Self {
        Upstream::Reqwest(r)
    }
}

impl Upstream {
    pub fn status(&self) -> reqwest::StatusCode {
        match self {
            Upstream::Reqwest(r) => r.status(),
            Upstream::Lean(r) => r.status(),
        }
    }

    pub fn headers(&self) -> &HeaderMap {
        match self {
            Upstream::Reqwest(r) => r.headers(),
            Upstream::Lean(r) => r.headers(),
        }
    }

    /// The whole body.
    pub async fn bytes(self) -> Result<Bytes, ProviderError> {
        match self {
            Upstream::Reqwest(r) => Ok(r.bytes().await?),
            Upstream::Lean(r) => Ok(r.into_body().collect().await.map_err(body_error)?.to_bytes()),
        }
    }

    /// The body as it arrives.
    pub fn bytes_stream(self) -> BoxStream<'static, Result<Bytes, ProviderError>> {
        match self {
            Upstream::Reqwest(r) => r.bytes_stream().map_err(ProviderError::from).boxed(),
            Upstream::Lean(r) => BodyDataStream::new(r.into_body()).map_err(body_error).boxed(),
        }
    }
}

fn network(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Network(e.to_string())
}

/// A failed exchange: a timeout anywhere in the error's chain is a
/// [`ProviderError::Timeout`] (as reqwest reports a connect timeout), the rest
/// is a network error with the whole chain in its message.
fn transport(e: hyper_util::client::legacy::Error) -> ProviderError {
    let mut message = String::from(if e.is_connect() { "cannot connect" } else { "request failed" });
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut) {
            return ProviderError::Timeout;
        }
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    ProviderError::Network(message)
}

fn body_error(e: hyper::Error) -> ProviderError {
    if e.is_timeout() { ProviderError::Timeout } else { network(format!("reading the answer: {e}")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_is_a_retryable_network_error() {
        let http = Http::new(&HttpOptions::default()).unwrap();
        assert!(http.lean.is_some(), "no proxy is configured here, so chat goes through hyper");
        let err = http.post_json("http://127.0.0.1:9/v1/chat/completions", &[], b"{}".to_vec()).await.unwrap_err();
        assert!(matches!(err, ProviderError::Network(ref m) if m.starts_with("cannot connect: ")), "{err}");
        assert!(err.is_retryable());
    }

    #[test]
    fn secrets_are_marked_sensitive() {
        let (name, value) = bearer("sk-secret").unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("authorization", "Bearer sk-secret"));
        assert!(value.is_sensitive());
        assert!(secret_header(reqwest::header::AUTHORIZATION, "bad\nvalue").is_err());
    }
}
