//! kubectl-style connection flags shared by the cluster commands; the
//! connecting itself is `skiff-agent`'s.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args, Clone)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace of the Application (default: the context's, then `default`).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
}
