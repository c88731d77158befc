//! OTLP trace export, configured the way every OpenTelemetry SDK is: by the
//! standard `OTEL_*` variables. Export runs on the SDK's own thread behind a
//! bounded queue, so a slow or absent collector costs dropped spans, never a
//! slower sync.

use std::time::Duration;

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracer, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// How long one export may take unless `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`
/// says otherwise. The SDK's 10 s default holds the export thread long enough
/// for the queue to fill and drop spans when the collector is slow to refuse.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(3);

/// The service name when neither `OTEL_SERVICE_NAME` nor
/// `OTEL_RESOURCE_ATTRIBUTES` names one.
const SERVICE_NAME: &str = "skiff";

/// The wire protocol of the OTLP exporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC (`grpc`), conventionally on port 4317.
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`, the default), port 4318.
    HttpProtobuf,
}

/// What the `OTEL_*` variables ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceSettings {
    /// The transport.
    pub protocol: Protocol,
    /// The collector's URL, verbatim (for HTTP including `/v1/traces`);
    /// `None` leaves it to the exporter, which reads
    /// `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` with the spec's rules.
    pub endpoint: Option<String>,
    /// How long one export may take: `OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT`
    /// (milliseconds), else 3 s.
    pub timeout: Duration,
    /// The service name we set, when the variables leave it to us.
    pub service_name: Option<&'static str>,
}

impl TraceSettings {
    /// Reads the variables through `env`; `Ok(None)` when traces are off.
    ///
    /// Traces are on when an OTLP endpoint is given
    /// (`OTEL_EXPORTER_OTLP_ENDPOINT` or `..._TRACES_ENDPOINT`) or
    /// `OTEL_TRACES_EXPORTER=otlp`; `OTEL_SDK_DISABLED=true` and
    /// `OTEL_TRACES_EXPORTER=none` turn them off. Without any of these an
    /// agent does not try a collector on localhost that nobody runs.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<TraceSettings>, String> {
        let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        if set("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let exporter = set("OTEL_TRACES_EXPORTER").map(|v| v.trim().to_ascii_lowercase());
        match exporter.as_deref() {
            Some("none") => return Ok(None),
            Some("otlp") | None => {}
            Some(other) => {
                return Err(format!(
                    "OTEL_TRACES_EXPORTER={other}: only otlp and none are supported"
                ));
            }
        }
        let endpoint = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT"))
            .is_some();
        if !endpoint && exporter.is_none() {
            return Ok(None);
        }
        let (variable, protocol) = match set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") {
            Some(p) => ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", Some(p)),
            None => (
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                set("OTEL_EXPORTER_OTLP_PROTOCOL"),
            ),
        };
        let protocol = match protocol.as_deref().map(str::trim) {
            None | Some("http/protobuf") => Protocol::HttpProtobuf,
            Some("grpc") => Protocol::Grpc,
            Some(other) => {
                return Err(format!(
                    "{variable}={other}: supported are grpc and http/protobuf"
                ));
            }
        };
        let timeout = [
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ]
        .into_iter()
        .find_map(|k| set(k).map(|v| (k, v)))
        .map(|(k, v)| {
            v.trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("{k}={v}: expected milliseconds"))
        })
        .transpose()?
        .unwrap_or(EXPORT_TIMEOUT);
        let named = set("OTEL_SERVICE_NAME").is_some()
            || set("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|attrs| {
                attrs
                    .split(',')
                    .any(|kv| kv.split('=').next().map(str::trim) == Some("service.name"))
            });
        Ok(Some(TraceSettings {
            protocol,
            endpoint: None,
            timeout,
            service_name: (!named).then_some(SERVICE_NAME),
        }))
    }
}

/// The running export. Dropping it without [`TraceExport::shutdown`] loses
/// the spans still queued.
#[derive(Debug)]
pub struct TraceExport {
    provider: SdkTracerProvider,
}

impl TraceExport {
    /// Starts exporting as `settings` say. With gRPC this must run inside a
    /// Tokio runtime, which then carries the exporter's connection; with
    /// HTTP it must not (the blocking client runs its own).
    pub fn start(settings: &TraceSettings) -> Result<TraceExport, String> {
        let exporter = match settings.protocol {
            Protocol::Grpc => {
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_timeout(settings.timeout);
                if let Some(endpoint) = &settings.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                builder = builder.with_retry_policy(retry_policy());
                builder.build()
            }
            Protocol::HttpProtobuf => {
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(http_client(settings.timeout)?)
                    .with_timeout(settings.timeout);
                if let Some(endpoint) = &settings.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                builder = builder.with_retry_policy(retry_policy());
                builder.build()
            }
        }
        .map_err(|e| format!("OTLP trace exporter: {e}"))?;
        let mut resource = Resource::builder().with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ));
        if let Some(name) = settings.service_name {
            resource = resource.with_service_name(name);
        }
        // The batch processor's queue is bounded (OTEL_BSP_MAX_QUEUE_SIZE,
        // 2048 by default): when the collector cannot keep up, spans are
        // dropped rather than held.
        let provider = SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_span_processor(BatchSpanProcessor::builder(exporter).build())
            .build();
        Ok(TraceExport { provider })
    }

    /// The tracer for the `tracing` layer.
    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer("skiff")
    }

    /// Exports everything queued so far (waiting for the collector).
    pub fn flush(&self) -> Result<(), String> {
        self.provider
            .force_flush()
            .map_err(|e| format!("flushing traces: {e}"))
    }

    /// Exports what is queued (waiting at most `limit`) and stops.
    pub fn shutdown(self, limit: Duration) {
        if let Err(e) = self.provider.shutdown_with_timeout(limit) {
            eprintln!("skiff: flushing traces: {e}");
        }
    }
}

/// The blocking client the HTTP exporter sends with (on the batch
/// processor's thread): rustls with ring and the platform's roots, from
/// kube's TLS setup, as for Helm repositories; reqwest has no TLS provider of
/// its own in this build.
fn http_client(timeout: Duration) -> Result<reqwest::blocking::Client, String> {
    use kube::client::ConfigExt;
    // No cluster is contacted: the config only carries TLS settings.
    let placeholder = "https://localhost"
        .parse()
        .map_err(|e| format!("OTLP exporter TLS settings: {e}"))?;
    let tls = kube::Config::new(placeholder)
        .rustls_client_config()
        .map_err(|e| format!("OTLP exporter TLS trust store: {e}"))?;
    // Built on a thread of its own: the blocking client refuses to be built
    // (or dropped) where a Tokio runtime is entered.
    std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("OTLP exporter HTTP client: {e}"))
    })
    .join()
    .map_err(|_| "OTLP exporter HTTP client: building it crashed".to_owned())?
}

/// Retries a failed export a little: a collector that restarts is missed
/// briefly, one that is gone does not hold the export thread for long.
fn retry_policy() -> opentelemetry_otlp::RetryPolicy {
    opentelemetry_otlp::RetryPolicy::default()
        .with_max_retries(2)
        .with_initial_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_millis(500))
}

/// The trace ID of `span` in W3C hex form, when its trace is exported:
/// `None` when traces are off or the sampler dropped it, because an ID that
/// leads to no trace would send an operator looking for nothing.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_ref = context.span();
    let span_context = span_ref.span_context();
    (span_context.is_valid() && span_context.is_sampled())
        .then(|| span_context.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Option<TraceSettings>, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TraceSettings::from_env(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn off_without_an_endpoint_or_exporter() {
        assert_eq!(settings(&[]), Ok(None));
        assert_eq!(settings(&[("OTEL_SERVICE_NAME", "x")]), Ok(None));
    }

    #[test]
    fn an_endpoint_turns_traces_on_over_http_protobuf() {
        let s = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")])
            .unwrap()
            .unwrap();
        assert_eq!(s.protocol, Protocol::HttpProtobuf);
        assert_eq!(s.timeout, EXPORT_TIMEOUT);
        assert_eq!(s.service_name, Some("skiff"));
    }

    #[test]
    fn protocol_timeout_and_name_come_from_the_variables() {
        let s = settings(&[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "500"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=a, service.name=gitops"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.protocol, Protocol::Grpc);
        assert_eq!(s.timeout, Duration::from_millis(500));
        assert_eq!(s.service_name, None);
    }

    #[test]
    fn disabled_and_none_win_over_an_endpoint() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318");
        assert_eq!(
            settings(&[endpoint, ("OTEL_SDK_DISABLED", "true")]),
            Ok(None)
        );
        assert_eq!(
            settings(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")]),
            Ok(None)
        );
    }

    #[test]
    fn unsupported_values_are_named_in_the_error() {
        let e = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ])
        .unwrap_err();
        assert!(
            e.contains("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json"),
            "{e}"
        );
        let e = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3s"),
        ])
        .unwrap_err();
        assert!(e.contains("OTEL_EXPORTER_OTLP_TIMEOUT=3s"), "{e}");
        let e = settings(&[("OTEL_TRACES_EXPORTER", "zipkin")]).unwrap_err();
        assert!(e.contains("zipkin"), "{e}");
    }
}
