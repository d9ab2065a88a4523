//! Getting media bytes: downloading a result an upstream points to, decoding
//! inline base64, and waiting for a long-running operation with a bounded loop.

use std::future::Future;
use std::time::Duration;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::Polling;
use crate::ProviderError;
use crate::http;

/// The largest result the gateway downloads (a long 1080p video fits).
pub const MAX_DOWNLOAD_BYTES: usize = 512 * 1024 * 1024;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Failed status requests in a row that a poll loop tolerates before giving up
/// (a paid generation should not be lost to one network hiccup).
const POLL_ERRORS_TOLERATED: u32 = 3;

/// Downloads a result URL, chunk by chunk up to [`MAX_DOWNLOAD_BYTES`], with an
/// optional auth header. Returns the bytes and the declared content type.
pub async fn download(
    client: &reqwest::Client,
    url: &str,
    auth: Option<(&str, &str)>,
) -> Result<(Bytes, Option<String>), ProviderError> {
    let mut rb = client.get(url);
    if let Some((name, value)) = auth {
        rb = rb.header(name, value);
    }
    let resp = http::check(rb.send().await?).await?;
    if resp.content_length().is_some_and(|n| n > MAX_DOWNLOAD_BYTES as u64) {
        return Err(too_large());
    }
    let mime = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut body = BytesMut::with_capacity(resp.content_length().unwrap_or(64 * 1024).min(16 << 20) as usize);
    let mut chunks = resp.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_DOWNLOAD_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body.freeze(), mime))
}

fn too_large() -> ProviderError {
    ProviderError::Decode(format!("the upstream's result is larger than {MAX_DOWNLOAD_BYTES} bytes"))
}

/// Decodes base64 as providers send it: standard or URL-safe alphabet, with or
/// without padding, optionally as a `data:<type>;base64,` URL (xAI does that).
pub fn decode_base64(s: &str) -> Result<Bytes, ProviderError> {
    let data = match s.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map_or(rest, |(_, d)| d),
        None => s,
    };
    let data = data.trim();
    LENIENT_STANDARD
        .decode(data)
        .or_else(|_| LENIENT_URL_SAFE.decode(data))
        .map(Bytes::from)
        .map_err(|e| ProviderError::Decode(format!("bad base64 in the upstream's answer: {e}")))
}

/// Calls `check` until it yields a value, every `polling.interval`, for at most
/// `polling.max_wait` (then [`ProviderError::Timeout`]). A retryable failure of
/// one status request is tolerated a few times in a row.
pub async fn poll<T, F, Fut>(polling: Polling, mut check: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let started = tokio::time::Instant::now();
    let mut errors = 0;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => errors = 0,
            Err(e) if e.is_retryable() && errors < POLL_ERRORS_TOLERATED => {
                errors += 1;
                tracing::warn!(error = %e, errors, "status request of a long-running operation failed");
            }
            Err(e) => return Err(e),
        }
        if started.elapsed() + polling.interval > polling.max_wait {
            return Err(ProviderError::Timeout);
        }
        tokio::time::sleep(polling.interval.max(Duration::from_millis(1))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_base64_flavour() {
        assert_eq!(decode_base64("aGk=").ok(), Some(Bytes::from_static(b"hi")));
        assert_eq!(decode_base64("aGk").ok(), Some(Bytes::from_static(b"hi")));
        assert_eq!(decode_base64("data:image/png;base64,aGk=").ok(), Some(Bytes::from_static(b"hi")));
        assert_eq!(decode_base64("-_8").ok(), Some(Bytes::from_static(&[0xfb, 0xff])));
        assert!(decode_base64("!!!").is_err());
    }

    #[tokio::test]
    async fn polls_until_done_and_gives_up_in_time() {
        let fast = Polling { interval: Duration::from_millis(1), max_wait: Duration::from_secs(5) };
        let mut n = 0;
        let got = poll(fast, || {
            n += 1;
            let k = n;
            async move {
                match k {
                    2 => Err(ProviderError::Network("blip".into())),
                    1..=3 => Ok(None),
                    _ => Ok(Some(k)),
                }
            }
        })
        .await;
        assert_eq!(got.ok(), Some(4));

        let short = Polling { interval: Duration::from_millis(5), max_wait: Duration::from_millis(20) };
        let r: Result<(), _> = poll(short, || async { Ok(None) }).await;
        assert!(matches!(r, Err(ProviderError::Timeout)));

        let r: Result<(), _> = poll(fast, || async { Err(ProviderError::Unsupported("x".into())) }).await;
        assert!(matches!(r, Err(ProviderError::Unsupported(_))));
    }
}
