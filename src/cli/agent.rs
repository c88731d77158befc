//! `skiff agent --config FILE`: the controller, configured by a file and
//! `SKIFF_*` environment variables.

use skiff::controller::config::{AgentConfig, LogFormat};
use skiff::telemetry::logs;
use skiff::telemetry::traces::{Protocol, TraceExport, TraceSettings};
use skiff_cli::agent::AgentArgs;

pub fn run(args: AgentArgs) -> Result<(), String> {
    let (file, text) = match &args.config {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => ("(no config file)".to_owned(), String::new()),
    };
    let config = AgentConfig::parse(&file, &text, |k| std::env::var(k).ok())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let traces = TraceSettings::from_env(|k| std::env::var(k).ok())?
        .map(|settings| {
            // The gRPC exporter's connection lives on this runtime.
            let _entered = (settings.protocol == Protocol::Grpc).then(|| runtime.enter());
            TraceExport::start(&settings)
        })
        .transpose()?;
    logs::install(config.log_format == LogFormat::Json, traces.as_ref())?;
    let result = runtime.block_on(skiff::controller::run(config));
    if let Some(traces) = traces {
        traces.shutdown(std::time::Duration::from_secs(5));
    }
    result
}
