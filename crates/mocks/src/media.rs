//! Small, valid media the mock upstreams answer with (a real PNG, WAV, raw
//! PCM, MP3 frames, an MP4 with a movie header), and the media directives:
//! besides the shared [`Directives`] (read from the prompt or input text),
//! `[[polls:N]]` makes a long-running operation finish after N status
//! requests (default 2), `[[fail]]` makes it finish with an error, and
//! `[[filtered]]` makes an image or video call return nothing but the reason.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::Directives;

/// A 2x2 RGB PNG (red and blue pixels).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a, 0x73, 0x00, 0x00, 0x00, 0x10, 0x49,
    0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0xcf, 0x00, 0x04, 0xff, 0x19, 0x20, 0x14, 0x00, 0x1b, 0xf2, 0x03, 0xfd,
    0x3e, 0x97, 0x5d, 0xa4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Media directives of a prompt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaDirectives {
    pub common: Directives,
    /// Status requests before a long-running operation is done.
    pub polls: u32,
    pub fail: bool,
    pub filtered: bool,
}

impl MediaDirectives {
    /// Reads the markers out of a prompt.
    pub fn parse(text: &str) -> Self {
        let polls = text
            .split("[[polls:")
            .nth(1)
            .and_then(|rest| rest.split("]]").next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(2);
        MediaDirectives {
            common: Directives::parse(text),
            polls,
            fail: text.contains("[[fail]]"),
            filtered: text.contains("[[filtered]]"),
        }
    }
}

/// Standard base64.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// How long speech of `text` lasts in the mocks: a quarter second a word, at least half a second.
pub fn speech_secs(text: &str) -> f64 {
    (text.split_whitespace().count() as f64 * 0.25).max(0.5)
}

/// Silent signed 16-bit mono PCM at `rate`.
pub fn pcm(secs: f64, rate: u32) -> Vec<u8> {
    vec![0u8; ((secs * f64::from(rate)) as usize) * 2]
}

/// A WAV file of silence (16 kHz mono 16-bit).
pub fn wav(secs: f64) -> Vec<u8> {
    let data = pcm(secs, 16_000);
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&[1, 0, 1, 0]); // PCM, mono
    out.extend_from_slice(&16_000u32.to_le_bytes()); // sample rate
    out.extend_from_slice(&32_000u32.to_le_bytes()); // byte rate
    out.extend_from_slice(&[2, 0, 16, 0]); // block align, bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// The length of a WAV file (byte rate and data size from its header).
pub fn wav_secs(bytes: &[u8]) -> Option<f64> {
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let rate = u32::from_le_bytes(bytes.get(28..32)?.try_into().ok()?);
    (rate > 0).then(|| bytes.len().saturating_sub(44) as f64 / f64::from(rate))
}

/// An MP3: an empty ID3v2 tag, then silent MPEG-1 Layer III mono frames at 32 kbps.
pub fn mp3(secs: f64) -> Vec<u8> {
    const FRAME: usize = 104; // 144 * 32000 / 44100
    let frames = (secs * 44_100.0 / 1152.0).ceil() as usize;
    let mut out = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    out.reserve(frames * FRAME);
    for _ in 0..frames {
        let start = out.len();
        out.extend_from_slice(&[0xff, 0xfb, 0x10, 0xc4]);
        out.resize(start + FRAME, 0);
    }
    out
}

/// An MP4-shaped blob: `ftyp`, a `moov` with a movie header of `secs`, and an empty `mdat`.
pub fn mp4(secs: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let boxed = |kind: &[u8], body: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
    };
    boxed(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41", &mut out);
    let mut mvhd = vec![0u8; 4 + 8];
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&(secs * 1000).to_be_bytes());
    mvhd.resize(100, 0);
    let mut moov = Vec::new();
    boxed(b"mvhd", &mvhd, &mut moov);
    boxed(b"moov", &moov, &mut out);
    boxed(b"mdat", &[0u8; 64], &mut out);
    out
}

/// Audio in one of OpenAI's formats, with its media type.
pub fn audio(format: &str, secs: f64) -> (Vec<u8>, &'static str) {
    match format {
        "wav" => (wav(secs), "audio/wav"),
        "pcm" | "pcm16" => (pcm(secs, 24_000), "audio/pcm"),
        "flac" => ([b"fLaC".as_slice(), &[0u8; 64]].concat(), "audio/flac"),
        "opus" => ([b"OggS".as_slice(), &[0u8; 64]].concat(), "audio/ogg"),
        "aac" => ([[0xffu8, 0xf1].as_slice(), &[0u8; 64]].concat(), "audio/aac"),
        _ => (mp3(secs), "audio/mpeg"),
    }
}

/// A stable 64-bit hash (FNV-1a) for deterministic ids and vectors.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The base URL a request reached the mock at (`http://HOST`), for result URLs.
pub fn origin(headers: &axum::http::HeaderMap) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// How many `GET`s of `path` (relative to the provider prefix) `provider` has received.
pub fn times_polled(state: &crate::MockState, provider: &str, path: &str) -> u32 {
    state.requests().iter().filter(|r| r.provider == provider && r.path == path && r.body.is_null()).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_what_they_claim() {
        assert!(PNG.starts_with(b"\x89PNG\r\n\x1a\n") && PNG.ends_with(&[0xae, 0x42, 0x60, 0x82]));
        assert_eq!(wav_secs(&wav(1.5)), Some(1.5));
        assert!(mp3(1.0).starts_with(b"ID3"));
        let v = mp4(6);
        assert_eq!(&v[4..8], b"ftyp");
        assert!(v.windows(4).any(|w| w == b"mvhd"));
        let d = MediaDirectives::parse("a cat [[polls:3]] [[fail]] [[status:429]]");
        assert_eq!((d.polls, d.fail, d.filtered, d.common.status), (3, true, false, Some(429)));
        assert_eq!(MediaDirectives::parse("x").polls, 2);
    }
}
