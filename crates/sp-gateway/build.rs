//! Release builds lay out the functions the gateway runs side by side.
//!
//! `link-order.txt` (written by `bench/link-order` from a callgrind profile of
//! start-up and proxied requests) goes to the linker as lld's
//! `--symbol-ordering-file`. The kernel maps a binary's code 64 KB around each
//! page it faults in; with the running functions spread over ~30 MB of .text,
//! ~17 MB of it was resident at idle. Names the build no longer has are
//! skipped (`--no-warn-symbol-ordering`): a stale list costs locality only.
//!
//! Only where rustc links with its own lld by default (x86_64 Linux, GNU, rustc
//! 1.90+); `SPGW_LINK_ORDER=0` turns it off, e.g. with a linker of your own.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=link-order.txt");
    println!("cargo::rerun-if-env-changed=SPGW_LINK_ORDER");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let wanted = env("PROFILE") == "release"
        && env("SPGW_LINK_ORDER") != "0"
        && env("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && env("CARGO_CFG_TARGET_OS") == "linux"
        && env("CARGO_CFG_TARGET_ENV") == "gnu"
        && !env("CARGO_ENCODED_RUSTFLAGS").contains("linker")
        && rustc_minor(&env("RUSTC")).is_some_and(|m| m >= 90);
    let list = Path::new(&env("CARGO_MANIFEST_DIR")).join("link-order.txt");
    if wanted && list.metadata().is_ok_and(|m| m.len() > 0) {
        println!("cargo::rustc-link-arg-bin=sp-gateway=-Wl,--symbol-ordering-file={}", list.display());
        println!("cargo::rustc-link-arg-bin=sp-gateway=-Wl,--no-warn-symbol-ordering");
    }
}

/// The minor version of `rustc -V` ("rustc 1.95.0 (…)" gives 95).
fn rustc_minor(rustc: &str) -> Option<u32> {
    let out = Command::new(if rustc.is_empty() { "rustc" } else { rustc }).arg("-V").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.');
    (parts.next()? == "1").then_some(())?;
    parts.next()?.parse().ok()
}
