//! Builds one kustomization with the library alone (no CLI crate), for quick
//! comparisons while developing: `cargo run -p skiff-kustomize --example kbuild DIR`.

fn main() -> std::process::ExitCode {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    match skiff_kustomize::build(std::path::Path::new(&dir)) {
        Ok(out) => {
            print!("{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
