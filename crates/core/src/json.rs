//! JSON bodies parsed from bytes.

use serde::de::DeserializeOwned;

/// Parses a JSON document from bytes, checking UTF-8 once for the whole body:
/// `serde_json::from_slice` checks every string on its own (~100 instructions
/// each, callgrind, bench/README.md eighth session). A body that is not UTF-8
/// is parsed from bytes after all, for serde_json's own error and position.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utf8_and_reports_other_bytes_as_serde_json_does() {
        let v: serde_json::Value = from_bytes(br#"{"a":"caf\u00e9","b":[1,2]}"#).unwrap();
        assert_eq!(v["b"][1], 2);
        let bad = from_bytes::<serde_json::Value>(b"{\"a\":\"caf\xe9\"}").unwrap_err();
        assert_eq!(
            bad.to_string(),
            serde_json::from_slice::<serde_json::Value>(b"{\"a\":\"caf\xe9\"}").unwrap_err().to_string()
        );
    }
}
