//! Media containers: wrapping raw PCM in WAV (Gemini speech is headerless
//! 16-bit PCM) and reading a file's length, which per-second prices need.

/// The sample rate in a PCM media type such as `audio/L16;codec=pcm;rate=24000`.
pub fn pcm_rate(mime: &str) -> Option<u32> {
    mime.split(';').filter_map(|p| p.trim().strip_prefix("rate=")).find_map(|r| r.trim().parse().ok())
}

/// Raw signed 16-bit little-endian mono PCM wrapped in a 44-byte WAV header.
pub fn pcm16_to_wav(pcm: &[u8], rate: u32) -> Vec<u8> {
    let data_len = pcm.len() as u32;
    let mut out = Vec::with_capacity(44 + pcm.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(pcm);
    out
}

/// The length of an audio or video file in seconds: exact for WAV, raw PCM and
/// MP4 (its `mvhd` box), an estimate from the first frame's bit rate for MP3;
/// `None` for other formats.
pub fn duration_secs(bytes: &[u8], mime: &str) -> Option<f64> {
    let base = mime.split(';').next().unwrap_or(mime).trim().to_ascii_lowercase();
    match base.as_str() {
        "audio/wav" | "audio/x-wav" | "audio/wave" => wav_duration(bytes),
        // OpenAI's `pcm` is 24 kHz mono 16-bit; Gemini's says its rate.
        "audio/pcm" | "audio/l16" => Some(bytes.len() as f64 / (pcm_rate(mime).unwrap_or(24_000) as f64 * 2.0)),
        "audio/mpeg" | "audio/mp3" => mp3_duration(bytes),
        "video/mp4" | "video/quicktime" | "audio/mp4" => mp4_duration(bytes),
        _ => None,
    }
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn be_u32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn be_u64(b: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(i..i + 8)?.try_into().ok()?))
}

/// The movie header's duration over its time scale (`moov` may sit at either end).
fn mp4_duration(b: &[u8]) -> Option<f64> {
    let at = b.windows(4).position(|w| w == b"mvhd")?;
    let (timescale, duration) = match b.get(at + 4)? {
        0 => (be_u32(b, at + 16)?, u64::from(be_u32(b, at + 20)?)),
        1 => (be_u32(b, at + 24)?, be_u64(b, at + 28)?),
        _ => return None,
    };
    (timescale > 0).then(|| duration as f64 / f64::from(timescale))
}

fn wav_duration(b: &[u8]) -> Option<f64> {
    if b.get(0..4)? != b"RIFF" || b.get(8..12)? != b"WAVE" {
        return None;
    }
    let (mut pos, mut byte_rate) = (12usize, None);
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let size = u32_at(b, pos + 4)? as usize;
        match id {
            b"fmt " => byte_rate = u32_at(b, pos + 16).filter(|r| *r > 0),
            b"data" => {
                // Streamed WAVs carry 0 or 0xFFFFFFFF: the data runs to the end.
                let len = if size == 0 || size == u32::MAX as usize { b.len() - pos - 8 } else { size };
                return byte_rate.map(|r| len.min(b.len() - pos - 8) as f64 / r as f64);
            }
            _ => {}
        }
        pos += 8 + size + (size & 1);
    }
    None
}

fn mp3_duration(b: &[u8]) -> Option<f64> {
    let mut start = 0usize;
    if b.get(0..3) == Some(b"ID3") {
        let size = b.get(6..10)?.iter().fold(0usize, |acc, x| (acc << 7) | (*x as usize & 0x7f));
        let footer = if b.get(5)? & 0x10 != 0 { 10 } else { 0 };
        start = 10 + size + footer;
    }
    let frame = (start..b.len().saturating_sub(3)).find(|&i| b[i] == 0xff && b[i + 1] & 0xe0 == 0xe0)?;
    let (h1, h2) = (b[frame + 1], b[frame + 2]);
    let mpeg1 = (h1 >> 3) & 0x03 == 0x03;
    let layer3 = (h1 >> 1) & 0x03 == 0x01;
    if !layer3 {
        return None;
    }
    const V1: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    const V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let idx = (h2 >> 4) as usize;
    let kbps = if mpeg1 { V1.get(idx) } else { V2.get(idx) }.copied().filter(|k| *k > 0)?;
    Some((b.len() - frame) as f64 * 8.0 / (kbps as f64 * 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trip_gives_the_pcm_length() {
        let wav = pcm16_to_wav(&[0u8; 48_000], 24_000);
        assert_eq!(wav.len(), 44 + 48_000);
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(duration_secs(&wav, "audio/wav"), Some(1.0));
        assert_eq!(duration_secs(&[0u8; 24_000], "audio/L16;codec=pcm;rate=24000"), Some(0.5));
        assert_eq!(pcm_rate("audio/L16;codec=pcm;rate=16000"), Some(16_000));
    }

    #[test]
    fn mp4_duration_comes_from_the_movie_header() {
        let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isommp41".to_vec();
        let mut mvhd = b"mvhd\0\0\0\0".to_vec();
        mvhd.extend_from_slice(&[0; 8]);
        mvhd.extend_from_slice(&1000u32.to_be_bytes());
        mvhd.extend_from_slice(&6000u32.to_be_bytes());
        mp4.extend_from_slice(&((mvhd.len() + 4) as u32).to_be_bytes());
        mp4.extend_from_slice(&mvhd);
        assert_eq!(duration_secs(&mp4, "video/mp4"), Some(6.0));
        assert_eq!(duration_secs(b"\0\0\0\x18ftyp", "video/mp4"), None);
    }

    #[test]
    fn mp3_duration_follows_the_bit_rate() {
        // ID3 tag of 0 bytes, then MPEG-1 Layer III frames at 128 kbps.
        let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
        mp3.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
        mp3.resize(10 + 16_000, 0);
        let d = duration_secs(&mp3, "audio/mpeg").unwrap_or_default();
        assert!((d - 1.0).abs() < 1e-9, "{d}");
        assert_eq!(duration_secs(b"not audio", "audio/mpeg"), None);
        assert_eq!(duration_secs(b"x", "audio/ogg"), None);
    }
}
