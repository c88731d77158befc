//! The arguments of `skiff sync`, `skiff rollback`, `skiff suspend` and
//! `skiff resume` (run by `skiff-agent`).

use std::time::Duration;

use clap::Args;

use crate::duration::parse_duration;
use crate::kube::KubeArgs;

#[derive(Debug, Args)]
#[command(after_long_help = "\
Sets the skiff.dev/requested-at annotation to the current time; the agent syncs
when it sees a value it has not handled yet. Exit status with --wait: 0 when the
sync succeeded, 1 when it failed, 2 when --timeout passed first.")]
pub struct SyncArgs {
    /// The Application's name.
    pub app: String,
    /// Sync this revision instead of `spec.source.targetRevision` (once).
    #[arg(long)]
    pub revision: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Syncs the revision of the history entry ID (see `skiff history APP`) and turns
automated sync off, as Argo CD does, so the next change in Git does not undo the
rollback. Exit status with --wait as for `skiff sync`.")]
pub struct RollbackArgs {
    /// The Application's name.
    pub app: String,
    /// The history entry to go back to.
    pub id: i64,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Wait until the agent has run the sync; exit non-zero if it fails.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, as `90s`, `5m`.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// The Application's name.
    pub app: String,
    #[command(flatten)]
    pub kube: KubeArgs,
}
