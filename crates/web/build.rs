//! Embeds `web/dist`: writes a table of every file of the build (its bytes via
//! `include_bytes!`, plus a gzip twin for text files, compressed here once per
//! build of the UI rather than on every request).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Types worth compressing; images and fonts are compressed already.
const COMPRESSIBLE: &[&str] = &["html", "js", "mjs", "css", "svg", "json", "txt", "webmanifest", "map"];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let dist = manifest.join("../../web/dist");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    // A directory here makes cargo rerun this script when any file below it changes.
    println!("cargo:rerun-if-changed={}", dist.display());
    println!("cargo:rerun-if-changed=build.rs");
    let mut files = Vec::new();
    if dist.is_dir() {
        walk(&dist, &dist, &mut files);
    } else {
        println!("cargo:warning=web/dist is missing: the binary will serve no UI (run `npm run build` in web/)");
    }
    files.sort();
    let gz_dir = out.join("gz");
    if let Err(e) = std::fs::create_dir_all(&gz_dir) {
        panic!("cannot create {}: {e}", gz_dir.display());
    }
    let mut table = String::from("&[\n");
    for (i, rel) in files.iter().enumerate() {
        let abs = dist.join(rel);
        let bytes = std::fs::read(&abs).unwrap_or_else(|e| panic!("cannot read {}: {e}", abs.display()));
        let ext = rel.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let gz = if COMPRESSIBLE.contains(&ext.as_str()) { gzip(&bytes) } else { None };
        let gz_expr = match gz {
            // Only worth a second copy when it saves at least a tenth.
            Some(z) if z.len() * 10 < bytes.len() * 9 => {
                let path = gz_dir.join(format!("{i}.gz"));
                std::fs::write(&path, z).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
                format!("Some(include_bytes!({:?}))", path.display().to_string())
            }
            _ => "None".to_string(),
        };
        let _ = writeln!(
            table,
            "    Asset {{ path: {rel:?}, raw: include_bytes!({:?}), gzip: {gz_expr} }},",
            abs.display().to_string()
        );
    }
    table.push(']');
    let target = out.join("assets.rs");
    std::fs::write(&target, table).unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            walk(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            // Paths as URLs spell them, whatever the platform's separator.
            let rel: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            out.push(rel.join("/"));
        }
    }
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).ok()?;
    enc.finish().ok()
}
