//! Link the package's binaries with packed relative relocations (DT_RELR).
//!
//! `skiff-agent` is large (agent, kube client, telemetry, Git, both
//! renderers), and as a position-independent executable it carries ~94,000
//! relative relocations. In the classic format the loader reads 2 MiB of
//! relocation entries at every start; packed, the table is 35 KiB. The
//! `skiff` front, which runs `helm template` and `kustomize build` without
//! the agent's weight (src/main.rs), has ~18,000. The executables stay
//! position-independent (ASLR kept); linking them non-PIE would save more but
//! gives up ASLR for programs that parse untrusted input with C libraries
//! (libgit2, OpenSSL).
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
