//! The arguments of `skiff apply APP` and `skiff diff APP` (run by `skiff-agent`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::duration::parse_duration;
use crate::kube::KubeArgs;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// An Application manifest (YAML), or the name of an Application in the cluster.
    pub app: String,
    /// Sync this revision instead of `spec.source.targetRevision`.
    #[arg(long)]
    pub revision: Option<String>,
    /// Delete objects the Application applied before and no longer renders
    /// (default: as `spec.syncPolicy.automated.prune` says).
    #[arg(long)]
    pub prune: bool,
    /// Do not wait for the objects to become healthy.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for health, as `90s`, `5m`.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Where Git checkouts are cached.
    #[arg(long, env = "SKIFF_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// An Application manifest (YAML), or the name of an Application in the cluster.
    pub app: String,
    /// Compare this revision instead of `spec.source.targetRevision`.
    #[arg(long)]
    pub revision: Option<String>,
    /// Where Git checkouts are cached.
    #[arg(long, env = "SKIFF_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub kube: KubeArgs,
}
