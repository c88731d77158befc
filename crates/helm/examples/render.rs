//! Renders one chart with its default values through the library alone (no
//! CLI, no agent), for profiling the renderer:
//! `cargo build --release -p skiff-helm --example render && perf record target/release/examples/render CHART`.

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: render CHART");
        return std::process::ExitCode::FAILURE;
    };
    let release = skiff_helm::ReleaseOptions {
        name: "release-name".into(),
        namespace: "default".into(),
        revision: 1,
        is_upgrade: false,
    };
    let result = skiff_helm::load(std::path::Path::new(&path)).and_then(|chart| {
        let values = skiff_helm::strvals::empty();
        let caps = skiff_helm::Capabilities::default();
        skiff_helm::render(&chart, &values, &release, &caps)?
            .to_helm_output(&skiff_helm::PrintOptions::default())
    });
    match result {
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
