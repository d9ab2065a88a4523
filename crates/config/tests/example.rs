//! `docs/sp-gateway.json` is the documented example: it must load, list every
//! key at its default value, and comment every key, so it cannot drift from the code.

// Helpers outside #[test] functions panic on purpose too.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::Value;
use spgw_config::{Config, load};

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/sp-gateway.json")
}

fn example_text() -> String {
    std::fs::read_to_string(example_path()).unwrap()
}

#[test]
fn example_loads_and_equals_the_defaults() {
    let config = load(Some(&example_path()), Vec::new()).unwrap();
    // The example documents defaults only; example values for optional keys are in comments.
    assert_eq!(config, Config::default());
}

#[test]
fn example_lists_every_key_with_its_default_value() {
    // Values are compared as JSON: the example must hold exactly the serialised defaults,
    // so a key added to the code without documentation fails here.
    let example = load_json(&example_text());
    let defaults = serde_json::to_value(Config::default()).unwrap();
    assert_eq!(example, defaults);
}

#[test]
fn every_key_has_a_comment_stating_its_default() {
    let text = example_text();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix('"') else { continue };
        let Some((key, value)) = rest.split_once("\":") else { continue };
        if value.trim_start().starts_with('{') {
            continue; // a section
        }
        let comment: Vec<&str> = lines[..i].iter().rev().take_while(|l| l.starts_with("//")).copied().collect();
        assert!(!comment.is_empty(), "key `{key}` in docs/sp-gateway.json has no comment above it");
        assert!(comment.iter().any(|l| l.contains("Default")), "the comment of `{key}` does not state its default");
        checked += 1;
    }
    let defaults = serde_json::to_value(Config::default()).unwrap();
    let leaf_count: usize = defaults.as_object().unwrap().values().map(|s| s.as_object().unwrap().len()).sum();
    assert_eq!(checked, leaf_count);
}

/// The example as plain JSON (it has whole-line comments only, by convention).
fn load_json(text: &str) -> Value {
    let plain: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    serde_json::from_str(&plain).unwrap()
}
