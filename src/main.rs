//! skiff: a GitOps reconciliation agent for Kubernetes.
//!
//! One subcommand per user task; the agent lands with the issue that builds it.

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
    /// List Applications with their sync and health: `skiff get apps`.
    Get(cli::apps::GetArgs),
    /// Show an Application: source, destination, sync, health, last operation, resources.
    Status(cli::apps::StatusArgs),
    /// List an Application's past syncs (the IDs `skiff rollback` takes).
    History(cli::apps::HistoryArgs),
    /// Ask the agent to sync an Application now, and optionally wait for the result.
    Sync(cli::ops::SyncArgs),
    /// Sync the revision of a history entry and turn automated sync off.
    Rollback(cli::ops::RollbackArgs),
    /// Stop the agent reconciling an Application (sets spec.suspend).
    Suspend(cli::ops::NameArgs),
    /// Let the agent reconcile a suspended Application again.
    Resume(cli::ops::NameArgs),
    /// Show AppProjects' sync windows: open now, and when they next open or close.
    Windows(cli::windows::WindowsArgs),
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
    let result = match command {
        Some(Command::Helm(c)) => cli::helm::run(c).map(|()| 0).map_err(|e| (e, 1)),
        Some(Command::Kustomize(c)) => cli::kustomize::run(c).map(|()| 0).map_err(|e| (e, 1)),
        Some(Command::Render(args)) => cli::render::run(args).map(|()| 0).map_err(|e| (e, 1)),
        Some(Command::Apply(args)) => block_on(cli::apply::apply(args)).map_err(|e| (e, 1)),
        // kubectl diff's convention: 1 means "differs", so errors are 2.
        Some(Command::Diff(args)) => block_on(cli::apply::diff(args)).map_err(|e| (e, 2)),
        Some(Command::Get(args)) => block_on(cli::apps::get(args)).map_err(|e| (e, 1)),
        Some(Command::Status(args)) => block_on(cli::apps::status(args)).map_err(|e| (e, 1)),
        Some(Command::History(args)) => block_on(cli::apps::history(args)).map_err(|e| (e, 1)),
        Some(Command::Sync(args)) => block_on(cli::ops::sync(args)).map_err(|e| (e, 1)),
        Some(Command::Rollback(args)) => block_on(cli::ops::rollback(args)).map_err(|e| (e, 1)),
        Some(Command::Suspend(args)) => block_on(cli::ops::suspend(args)).map_err(|e| (e, 1)),
        Some(Command::Resume(args)) => block_on(cli::ops::resume(args)).map_err(|e| (e, 1)),
        Some(Command::Windows(args)) => block_on(cli::windows::run(args)).map_err(|e| (e, 1)),
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

/// Runs a cluster command. Only these log: the offline renderers (`helm`,
/// `kustomize`, `render`) skip the subscriber, whose filter costs startup
/// time and memory that `skiff kustomize build` is measured on.
fn block_on<T>(future: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    init_logging();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?
        .block_on(future)
}
