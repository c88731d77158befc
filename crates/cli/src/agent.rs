//! The arguments of `skiff agent` (run by `skiff-agent`).

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The agent configuration (see config/skiff.yaml); `SKIFF_*` variables override it.
    #[arg(long, env = "SKIFF_CONFIG")]
    pub config: Option<PathBuf>,
}
