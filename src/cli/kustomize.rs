//! `skiff kustomize build DIR`: what `kustomize build DIR` prints.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

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

pub fn run(cmd: KustomizeCommand) -> ExitCode {
    match cmd {
        KustomizeCommand::Build { dir } => match skiff_kustomize::build_with_warnings(&dir) {
            Ok(out) => {
                // Deprecation warnings go to stderr, as kustomize prints them.
                for w in &out.warnings {
                    eprintln!("{w}");
                }
                let mut stdout = std::io::stdout().lock();
                if stdout
                    .write_all(out.yaml.as_bytes())
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    return ExitCode::FAILURE;
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("Error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
