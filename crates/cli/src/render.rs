//! The arguments of `skiff render APP.yaml` (run by `skiff-agent`: it fetches
//! the Application's Git source).

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The Application manifest (YAML).
    pub file: PathBuf,
    /// Kubernetes version reported to Helm charts as `.Capabilities.KubeVersion`.
    #[arg(long)]
    pub kube_version: Option<String>,
    /// Render this revision instead of `spec.source.targetRevision`.
    #[arg(long)]
    pub revision: Option<String>,
    /// Where Git mirrors and checkouts are cached.
    #[arg(long, env = "SKIFF_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Render from this local checkout of the repository instead of fetching
    /// `spec.source.repoURL` (to try a change before pushing it).
    #[arg(long, conflicts_with = "revision")]
    pub repo_dir: Option<PathBuf>,
}
