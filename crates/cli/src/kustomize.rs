//! `skiff kustomize build DIR`: what `kustomize build DIR` prints.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum KustomizeCommand {
    /// Build a kustomization directory and print its manifests.
    Build {
        /// The directory holding kustomization.yaml.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

pub fn run(cmd: KustomizeCommand) -> Result<(), String> {
    match cmd {
        KustomizeCommand::Build { dir } => {
            let out = skiff_kustomize::build_with_warnings(&dir).map_err(|e| e.to_string())?;
            // Deprecation warnings go to stderr, as kustomize prints them.
            for w in &out.warnings {
                eprintln!("{w}");
            }
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(out.yaml.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| format!("writing the output: {e}"))
        }
    }
}
