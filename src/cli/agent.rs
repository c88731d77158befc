//! `skiff agent --config FILE`: the controller, configured by a file and
//! `SKIFF_*` environment variables.

use std::path::PathBuf;

use clap::Args;
use skiff::controller::config::{AgentConfig, LogFormat};

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The agent configuration (see config/skiff.yaml); `SKIFF_*` variables override it.
    #[arg(long, env = "SKIFF_CONFIG")]
    pub config: Option<PathBuf>,
}

pub fn run(args: AgentArgs) -> Result<(), String> {
    let (file, text) = match &args.config {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => ("(no config file)".to_owned(), String::new()),
    };
    let config = AgentConfig::parse(&file, &text, |k| std::env::var(k).ok())?;
    init_logging(config.log_format);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?
        .block_on(skiff::controller::run(config))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SKIFF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
