//! skiff-agent: the part of skiff that talks to a cluster or Git (the agent,
//! `apply`, `diff`, `render`, the status and operation commands).
//!
//! `skiff` parses the command line and execs this binary with the same
//! arguments for every command but `helm` and `kustomize`, so that those start
//! without this binary's weight. It takes the same command line when run
//! directly, and runs the offline renderers too.

use clap::Parser;
use skiff_cli::{Cli, Command};

mod cli;

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
        Some(Command::Helm(c)) => skiff_cli::helm::run(c).map(|()| 0).map_err(|e| (e, 1)),
        Some(Command::Kustomize(c)) => skiff_cli::kustomize::run(c).map(|()| 0).map_err(|e| (e, 1)),
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
