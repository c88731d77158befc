//! The skiff command line, defined once for both binaries of the `skiff`
//! package:
//!
//! - `skiff`, the front people run, parses the whole command line (so
//!   `--help`, `--version` and usage errors come from it for every
//!   subcommand), runs the offline renderers `helm` and `kustomize`
//!   in-process, and execs `skiff-agent` with the same arguments for the rest;
//! - `skiff-agent` holds everything that talks to a cluster or Git.
//!
//! This crate is what the front links, so it must stay free of the Kubernetes
//! client, the async runtime, telemetry and Git: the front's start-up time and
//! memory are what `skiff kustomize build` is measured on. The cluster
//! commands' argument types live here, their code in `skiff-agent`.

use clap::{Parser, Subcommand};

pub mod agent;
pub mod apply;
pub mod apps;
pub mod duration;
pub mod format;
pub mod helm;
pub mod kube;
pub mod kustomize;
pub mod ops;
pub mod render;
pub mod windows;

/// A small, fast GitOps agent: renders Helm and Kustomize from Git and applies
/// it to Kubernetes with server-side apply.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, about, long_about = None, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per process, so the size difference between the variants
// costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with Helm charts offline.
    #[command(subcommand)]
    Helm(helm::HelmCommand),
    /// Render Kustomize overlays offline, like `kustomize`.
    #[command(subcommand)]
    Kustomize(kustomize::KustomizeCommand),
    /// Show what an Application would apply: fetch its source and render it.
    Render(render::RenderArgs),
    /// Sync an Application once against the current cluster, without the agent.
    Apply(apply::ApplyArgs),
    /// Show how the cluster differs from what an Application renders.
    Diff(apply::DiffArgs),
    /// List Applications with their sync and health: `skiff get apps`.
    Get(apps::GetArgs),
    /// Show an Application: source, destination, sync, health, last operation, resources.
    Status(apps::StatusArgs),
    /// List an Application's past syncs (the IDs `skiff rollback` takes).
    History(apps::HistoryArgs),
    /// Ask the agent to sync an Application now, and optionally wait for the result.
    Sync(ops::SyncArgs),
    /// Sync the revision of a history entry and turn automated sync off.
    Rollback(ops::RollbackArgs),
    /// Stop the agent reconciling an Application (sets spec.suspend).
    Suspend(ops::NameArgs),
    /// Let the agent reconcile a suspended Application again.
    Resume(ops::NameArgs),
    /// Show AppProjects' sync windows: open now, and when they next open or close.
    Windows(windows::WindowsArgs),
    /// Run the GitOps agent: keep the fleet's Applications in sync.
    Agent(agent::AgentArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
