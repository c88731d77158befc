//! skiff: a GitOps reconciliation agent for Kubernetes.
//!
//! One subcommand per user task lands with the issue that builds it (agent,
//! get/status/sync, helm template, kustomize build, ...).

use clap::Parser;

/// A small, fast GitOps agent: renders Helm and Kustomize from Git and applies
/// it to Kubernetes with server-side apply.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, about, long_about = None, arg_required_else_help = true)]
struct Cli {}

fn main() {
    let Cli {} = Cli::parse();
}
