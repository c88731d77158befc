//! The agent's subscriber: log lines on stderr (text or JSON) filtered by
//! `SKIFF_LOG`, and, when traces are on, skiff's spans and events exported
//! over OTLP under their own filter, so that `SKIFF_LOG=warn` keeps the log
//! quiet without emptying the traces.

use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use super::traces::TraceExport;

/// Installs the process's subscriber: `json` lines or text, `SKIFF_LOG`
/// (default `info`) for the log, and skiff's own spans at info and above for
/// `traces`.
pub fn install(json: bool, traces: Option<&TraceExport>) -> Result<(), String> {
    let filter = EnvFilter::try_from_env("SKIFF_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let log: Box<dyn Layer<Registry> + Send + Sync> = if json {
        Box::new(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
    } else {
        Box::new(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
    };
    // Only skiff's targets: the exporter's own HTTP client logs through
    // `tracing` too, and exporting those would feed on itself.
    let otel = traces.map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t.tracer())
            .with_filter(Targets::new().with_target("skiff", Level::INFO))
    });
    tracing_subscriber::registry()
        .with(log)
        .with(otel)
        .try_init()
        .map_err(|e| format!("installing the log subscriber: {e}"))
}

/// The one log line of a finished sync: which Application, what revision,
/// how long, how it ended, and the trace to look at.
pub fn sync_outcome(
    app: &crate::api::Application,
    outcome: &crate::sync::Outcome,
    elapsed: std::time::Duration,
) {
    let name = app.metadata.name.as_deref().unwrap_or_default();
    let namespace = app.metadata.namespace.as_deref().unwrap_or_default();
    let revision = outcome
        .revision
        .as_deref()
        .or(outcome.telemetry.revision.as_deref())
        .unwrap_or_default();
    let trace_id = outcome.trace_id.as_deref().unwrap_or_default();
    let duration_ms = elapsed.as_millis() as u64;
    let result = outcome.phase.to_string();
    let mode = match outcome.mode {
        crate::sync::Mode::Apply => "apply",
        crate::sync::Mode::Compare => "compare",
    };
    if outcome.phase == crate::sync::OperationPhase::Succeeded {
        tracing::info!(
            app = name,
            namespace,
            revision,
            duration_ms,
            result,
            trace_id,
            trigger = outcome.trigger.as_str(),
            mode,
            "sync.outcome"
        );
    } else {
        tracing::warn!(
            app = name,
            namespace,
            revision,
            duration_ms,
            result,
            trace_id,
            trigger = outcome.trigger.as_str(),
            mode,
            error = %outcome.message,
            "sync.outcome"
        );
    }
}
