//! Link the `skiff` binary with packed relative relocations (DT_RELR).
//!
//! The binary is large (agent, CLI and both renderers), and as a
//! position-independent executable it carries ~87,000 relative relocations.
//! In the classic format the loader reads 2 MiB of relocation entries at every
//! start, which cost `skiff kustomize build` ~3 ms and ~2.5 MiB of its
//! whole-process time and memory (crates/kustomize/BENCHMARK.md). Packed, the
//! table is 33 KiB. The executable stays position-independent (ASLR kept);
//! linking it non-PIE would save more but gives up ASLR for an agent that
//! parses untrusted input with C libraries (libgit2, OpenSSL).
//!
//! Needs GNU ld >= 2.38 or lld at build time and glibc >= 2.36 at run time
//! (Debian 12, the Dockerfile's builder and runtime images).

fn main() {
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let gnu = std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu");
    if linux && gnu {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
