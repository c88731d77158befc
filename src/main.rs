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
    /// Sync an Application once against the current cluster, without the agent.
    Apply(cli::apply::ApplyArgs),
    /// Show how the cluster differs from what an Application renders.
    Diff(cli::apply::DiffArgs),
    /// Run the GitOps agent: keep the fleet's Applications in sync.
    Agent(cli::agent::AgentArgs),
}

fn main() {
    let Cli { command } = Cli::parse();
    if let Some(Command::Agent(args)) = command {
        if let Err(e) = cli::agent::run(args) {
            eprintln!("Error: {e}");
            std::process::exit(1);
        }
        return;
    }
    init_logging();
    let result = match command {
        Some(Command::Helm(c)) => cli::helm::run(c).map(|()| 0).map_err(|e| (e, 1)),
        Some(Command::Kustomize(c)) => cli::kustomize::run(c).map(|()| 0).map_err(|e| (e, 1)),
        Some(Command::Render(args)) => cli::render::run(args).map(|()| 0).map_err(|e| (e, 1)),
        Some(Command::Apply(args)) => block_on(cli::apply::apply(args)).map_err(|e| (e, 1)),
        // kubectl diff's convention: 1 means "differs", so errors are 2.
        Some(Command::Diff(args)) => block_on(cli::apply::diff(args)).map_err(|e| (e, 2)),
        Some(Command::Agent(_)) | None => Ok(0),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err((e, code)) => {
            eprintln!("Error: {e}");
            std::process::exit(code);
        }
    }
}

/// Diagnostics go to stderr, filtered by `SKIFF_LOG` (e.g. `info`, `skiff=debug`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SKIFF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn block_on<T>(future: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?
        .block_on(future)
}
