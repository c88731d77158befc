//! skiff: a GitOps reconciliation agent for Kubernetes.
//!
//! One subcommand per user task lands with the issue that builds it (agent,
//! get/status/sync, helm template, kustomize build, ...).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// A small, fast GitOps agent: renders Helm and Kustomize from Git and applies
/// it to Kubernetes with server-side apply.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, about, long_about = None, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render Kustomize overlays offline, like `kustomize`.
    #[command(subcommand)]
    Kustomize(cli::kustomize::KustomizeCommand),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Kustomize(cmd) => cli::kustomize::run(cmd),
    }
}
