//! skiff: a GitOps reconciliation agent for Kubernetes.
//!
//! One subcommand per user task; the agent and the cluster commands (get,
//! status, sync, ...) land with the issues that build them.

use clap::{Parser, Subcommand};

mod cli;

/// A small, fast GitOps agent: renders Helm and Kustomize from Git and applies
/// it to Kubernetes with server-side apply.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, about, long_about = None, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

// Parsed once per process, so the size difference between the variants
// costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Work with Helm charts offline.
    #[command(subcommand)]
    Helm(cli::helm::HelmCommand),
    /// Render Kustomize overlays offline, like `kustomize`.
    #[command(subcommand)]
    Kustomize(cli::kustomize::KustomizeCommand),
    /// Show what an Application would apply: fetch its source and render it.
    Render(cli::render::RenderArgs),
}

fn main() {
    let Cli { command } = Cli::parse();
    let result = match command {
        Some(Command::Helm(c)) => cli::helm::run(c),
        Some(Command::Kustomize(c)) => cli::kustomize::run(c),
        Some(Command::Render(args)) => cli::render::run(args),
        None => Ok(()),
    };
    if let Err(e) = result {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}
