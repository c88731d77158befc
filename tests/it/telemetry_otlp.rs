//! Traces end to end: a live agent exports each sync over OTLP to the
//! testbed's real OpenTelemetry Collector, and the test reads back what the
//! collector wrote: the root span `sync NS/APP` with its attributes and phase
//! events, its children (fetch, render, a span per wave, prune, health)
//! linked to it, and the same trace ID in the Application's status and
//! history. And export never holds a sync back: with nothing listening on the
//! OTLP endpoint, syncs keep their pace and memory stays bounded.
//!
//! The helpers (`TracedFleet`, `Trace`, `attr`, `event_names`) are meant for
//! more cases: a retried sync, a window-blocked one.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use serde_json::{Value, json};
use skiff::api::{Application, OperationState};
use skiff::sync::OperationPhase;
use skiff::telemetry::traces::{Protocol, TraceExport, TraceSettings};
use skiff_testbed::{ChildGuard, Collector, ControlPlane, TestNamespace};
use tracing_subscriber::layer::SubscriberExt;

use crate::fleet::{
    GitRepo, application, apply_request, config_map, engine, eventually, first_request,
    fleet_app_yaml, install_crds, scratch, spawn_agent,
};

/// One trace as the collector wrote it.
#[derive(Debug)]
pub struct Trace {
    /// The span without a parent.
    pub root: Value,
    /// Every span of the trace, the root included.
    pub spans: Vec<Value>,
}

impl Trace {
    /// The spans whose parent is `span`.
    pub fn children(&self, span: &Value) -> Vec<&Value> {
        self.spans
            .iter()
            .filter(|s| s["parentSpanId"] == span["spanId"])
            .collect()
    }

    /// The spans named `name` (their `otel.name`).
    pub fn named(&self, name: &str) -> Vec<&Value> {
        self.spans.iter().filter(|s| s["name"] == name).collect()
    }
}

/// A span attribute (or a resource attribute, given `span["resource"]`) as
/// text, whatever its OTLP value type.
pub fn attr(span: &Value, key: &str) -> Option<String> {
    let value = &span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?["value"];
    value["stringValue"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| value["intValue"].as_str().map(str::to_owned))
        .or_else(|| value["intValue"].as_i64().map(|i| i.to_string()))
        .or_else(|| value["boolValue"].as_bool().map(|b| b.to_string()))
}

/// The names of a span's events, in order.
pub fn event_names(span: &Value) -> Vec<String> {
    span["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect()
}

/// Waits until the collector has written the root span of `trace_id`, and
/// returns the whole trace (children end, and are exported, before their root).
pub fn collected_trace(collector: &Collector, trace_id: &str, limit: Duration) -> Trace {
    let is_root = |s: &Value| {
        s["traceId"] == trace_id && s["parentSpanId"].as_str().is_none_or(str::is_empty)
    };
    let spans = collector.wait_for_spans(limit, |spans| spans.iter().any(is_root));
    let spans: Vec<Value> = spans
        .into_iter()
        .filter(|s| s["traceId"] == trace_id)
        .collect();
    let root = spans
        .iter()
        .find(|s| is_root(s))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no root span of trace {trace_id} in {limit:?}; spans of it: {spans:#?}; see {}",
                collector.dir().display()
            )
        });
    Trace { root, spans }
}

/// A live agent, a collector it exports to, and a fleet repository whose
/// `clusters/dev` holds Application `web` (path `apps/web`, one ConfigMap).
pub struct TracedFleet {
    /// The collector receiving the agent's traces.
    pub collector: Collector,
    /// The namespace of the agent and its Applications.
    pub ns: TestNamespace,
    /// The fleet (and app) repository.
    pub repo: GitRepo,
    _agent: ChildGuard,
}

impl TracedFleet {
    /// Starts it all; `protocol` is `grpc` or `http/protobuf`.
    pub async fn start(hint: &str, protocol: &str) -> TracedFleet {
        TracedFleet::start_with(hint, protocol, &[]).await
    }

    /// Like [`TracedFleet::start`], with more variables for the agent
    /// (they win over the defaults here).
    pub async fn start_with(hint: &str, protocol: &str, env: &[(&str, String)]) -> TracedFleet {
        let collector = Collector::start();
        let ns = ControlPlane::shared().namespace(hint).await;
        install_crds(&ns.client).await;
        let repo = GitRepo::new(&format!("{hint}-fleet"));
        repo.write(
            "clusters/dev/web.yaml",
            &fleet_app_yaml("web", &ns.name, &repo.url(), "apps/web"),
        )
        .write("apps/web/config.yaml", &config_map("web", &[("v", "1")]));
        repo.commit("fleet with web");
        let endpoint = match protocol {
            "grpc" => collector.grpc_endpoint(),
            _ => collector.http_endpoint(),
        };
        let mut vars = vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
            ("OTEL_SERVICE_NAME", "skiff-it".to_owned()),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                format!("deployment.environment=test,k8s.namespace.name={}", ns.name),
            ),
            ("OTEL_TRACES_SAMPLER", "always_on".to_owned()),
            // Export every 100 ms, so the test does not wait out the 5 s default.
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ];
        vars.extend(env.iter().cloned());
        let agent = spawn_agent(
            &ns,
            &repo,
            "clusters/dev",
            &scratch(&format!("{hint}-cache")),
            &vars,
            // Kept beside the collector's files when a test fails.
            Some(&collector.dir().join("agent.log")),
        );
        TracedFleet {
            collector,
            ns,
            repo,
            _agent: agent,
        }
    }

    /// Waits for an operation of Application `app` that `done` accepts and
    /// that carries a trace ID; returns it with the collected trace.
    pub async fn traced_operation(
        &self,
        app: &str,
        limit: Duration,
        done: impl Fn(&OperationState) -> bool,
    ) -> (Application, OperationState, Trace) {
        let apps: Api<Application> = Api::namespaced(self.ns.client.clone(), &self.ns.name);
        let (stored, operation) = eventually(
            &format!("an operation of {app} with a trace ID"),
            limit,
            || {
                let apps = apps.clone();
                let done = &done;
                async move {
                    let stored = apps.get(app).await.ok()?;
                    let operation = stored.status.as_ref()?.operation_state.clone()?;
                    (operation.trace_id.is_some() && done(&operation))
                        .then_some((stored, operation))
                }
            },
        )
        .await;
        let trace_id = operation.trace_id.clone().expect("a trace ID");
        let trace = collected_trace(&self.collector, &trace_id, Duration::from_secs(20));
        (stored, operation, trace)
    }
}

#[tokio::test]
async fn each_sync_exports_one_trace_whose_id_is_in_the_status() {
    let fleet = TracedFleet::start("otlp-trace", "grpc").await;
    let ns = fleet.ns.name.clone();
    let commit = fleet.repo.git(&["rev-parse", "HEAD"]);

    // A successful sync.
    let (web, operation, trace) = fleet
        .traced_operation("web", Duration::from_secs(90), |op| op.phase == "Succeeded")
        .await;
    let trace_id = operation.trace_id.clone().expect("trace ID");
    assert_eq!(trace_id.len(), 32, "a W3C trace ID: {trace_id}");
    let history = &web.status.as_ref().expect("status").history;
    assert!(
        history
            .iter()
            .any(|h| h.trace_id.as_deref() == Some(trace_id.as_str())),
        "the sync's history entry has its trace ID: {history:?}"
    );
    let root = &trace.root;
    assert_eq!(root["name"], format!("sync {ns}/web"));
    for (key, expected) in [
        ("app", "web"),
        ("namespace", ns.as_str()),
        ("project", "default"),
        ("path", "apps/web"),
        ("revision", commit.as_str()),
        ("result", "Succeeded"),
        ("mode", "Apply"),
    ] {
        assert_eq!(
            attr(root, key).as_deref(),
            Some(expected),
            "attribute {key}: {root:#}"
        );
    }
    assert_eq!(attr(root, "repo"), Some(fleet.repo.url()));
    assert_eq!(attr(root, "trigger").as_deref(), Some("poll"));
    assert_eq!(
        attr(&root["resource"], "service.name").as_deref(),
        Some("skiff-it")
    );
    assert_eq!(
        attr(&root["resource"], "deployment.environment").as_deref(),
        Some("test")
    );
    assert_ne!(root["status"]["code"], json!(2), "not an error: {root:#}");

    // Phase events, in order, on the root span (events of child spans count
    // for the phase they report).
    let mut events: Vec<(u64, String)> = Vec::new();
    for span in &trace.spans {
        for event in span["events"].as_array().into_iter().flatten() {
            let at = event["timeUnixNano"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or_default();
            events.push((at, event["name"].as_str().unwrap_or_default().to_owned()));
        }
    }
    events.sort();
    let names: Vec<&str> = events.iter().map(|(_, n)| n.as_str()).collect();
    crate::fleet::assert_phase_events_in_order(&names);
    for event in ["source.fetched", "render.completed", "health.ready"] {
        assert!(
            event_names(root).iter().any(|e| e == event),
            "{event} on the root span: {:?}",
            event_names(root)
        );
    }

    // Children: fetch, render, one span per wave, prune, health; each linked
    // to the root.
    let children: Vec<String> = trace
        .children(root)
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect();
    for child in ["fetch", "render", "apply Sync wave 0", "prune", "health"] {
        assert!(
            children.iter().any(|c| c == child),
            "child span {child} under the root: {children:?}"
        );
    }
    let wave = trace.named("apply Sync wave 0")[0];
    assert_eq!(attr(wave, "wave").as_deref(), Some("0"));
    assert!(
        event_names(wave).contains(&"apply.wave".to_owned()),
        "{wave:#}"
    );
    for span in &trace.spans {
        assert_eq!(span["traceId"], root["traceId"]);
    }

    // A failed sync: the source no longer renders.
    fleet.repo.write("apps/web/bad.yaml", "kind: [\n");
    let broken = fleet.repo.commit("web: broken");
    let (_, failed, trace) = fleet
        .traced_operation("web", Duration::from_secs(60), |op| op.phase == "Error")
        .await;
    let failed_id = failed.trace_id.clone().expect("trace ID");
    assert_ne!(failed_id, trace_id, "a trace per sync");
    let root = &trace.root;
    assert_eq!(root["name"], format!("sync {ns}/web"));
    assert_eq!(attr(root, "result").as_deref(), Some("Error"));
    assert_eq!(root["status"]["code"], json!(2), "status ERROR: {root:#}");
    assert!(
        event_names(root).contains(&"sync.error".to_owned()),
        "the error is an event of the sync: {:?}",
        event_names(root)
    );
    let names: Vec<&str> = trace
        .children(root)
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(names.contains(&"render"), "render was tried: {names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("apply")),
        "nothing applied: {names:?}"
    );
    eprintln!("traced {trace_id} (ok) and {failed_id} (error at {broken})");

    // Without automated sync an Application is only compared: its trace has
    // a diff span and no apply.
    let manual = fleet_app_yaml("audit", &ns, &fleet.repo.url(), "apps/audit").replace(
        "  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n",
        "",
    );
    fleet
        .repo
        .write("clusters/dev/audit.yaml", &manual)
        .write("apps/audit/config.yaml", &config_map("audit", &[]));
    fleet.repo.commit("audit, compared only");
    let root_name = format!("sync {ns}/audit");
    let spans = fleet
        .collector
        .wait_for_spans(Duration::from_secs(60), |spans| {
            spans.iter().any(|s| s["name"] == root_name.as_str())
        });
    let compared = spans
        .iter()
        .find(|s| s["name"] == root_name.as_str())
        .unwrap_or_else(|| panic!("no trace of {root_name}"));
    let trace_id = compared["traceId"].as_str().expect("trace ID").to_owned();
    let trace = collected_trace(&fleet.collector, &trace_id, Duration::from_secs(10));
    assert_eq!(attr(&trace.root, "mode").as_deref(), Some("Compare"));
    let names: Vec<&str> = trace
        .children(&trace.root)
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    for child in ["fetch", "render", "diff"] {
        assert!(names.contains(&child), "child span {child}: {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.starts_with("apply")),
        "nothing applied: {names:?}"
    );
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `sync` `count` times with every span exported over OTLP/HTTP to
/// `endpoint`; the wall time and this process's RSS before and after.
async fn traced_syncs<F, Fut>(count: usize, endpoint: &str, sync: F) -> (Duration, u64, u64)
where
    F: Fn() -> Fut,
    Fut: Future<Output = skiff::sync::Outcome>,
{
    let export = TraceExport::start(&TraceSettings {
        protocol: Protocol::HttpProtobuf,
        endpoint: Some(endpoint.to_owned()),
        timeout: Duration::from_secs(3),
        service_name: Some("skiff-it"),
    })
    .expect("exporter");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(export.tracer()));
    let rss_before = rss_kib();
    let started = Instant::now();
    {
        // This test's runtime has one thread, so the scoped subscriber sees
        // every span of its syncs.
        let _scope = tracing::subscriber::set_default(subscriber);
        for _ in 0..count {
            let outcome = sync().await;
            assert_eq!(
                outcome.phase,
                OperationPhase::Succeeded,
                "{}",
                outcome.message
            );
            assert!(outcome.trace_id.is_some(), "traced");
        }
    }
    let elapsed = started.elapsed();
    let rss_after = rss_kib();
    export.shutdown(Duration::from_secs(1));
    (elapsed, rss_before, rss_after)
}

#[tokio::test]
async fn syncs_keep_their_pace_with_the_collector_down() {
    const SYNCS: usize = 50;
    let ns = ControlPlane::shared().namespace("otlp-down").await;
    let repo = GitRepo::new("otlp-down");
    repo.write("app/a.yaml", &config_map("alpha", &[("k", "v")]));
    repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "otlp-down", false);
    let first = engine.sync(&app, &first_request()).await;
    assert_eq!(first.phase, OperationPhase::Succeeded, "{}", first.message);
    let request = apply_request(&first, true);

    let started = Instant::now();
    for _ in 0..SYNCS {
        let outcome = engine.sync(&app, &request).await;
        assert_eq!(
            outcome.phase,
            OperationPhase::Succeeded,
            "{}",
            outcome.message
        );
        assert_eq!(outcome.trace_id, None, "no trace ID without export");
    }
    let off = started.elapsed();

    // A collector that is gone: its port closed.
    let closed = {
        let collector = Collector::start();
        format!("{}/v1/traces", collector.http_endpoint())
    };
    // One that hangs: connections are taken (by the kernel's backlog) and
    // never answered, so each export waits out its timeout.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hanging_url = format!(
        "http://{}/v1/traces",
        hanging.local_addr().expect("address")
    );
    for (what, endpoint) in [
        ("a closed port", closed),
        ("a hanging collector", hanging_url),
    ] {
        let (on, rss_before, rss_after) =
            traced_syncs(SYNCS, &endpoint, || engine.sync(&app, &request)).await;
        eprintln!(
            "{SYNCS} syncs: {off:?} without traces, {on:?} exporting to {what}; RSS {rss_before} KiB -> {rss_after} KiB"
        );
        assert!(
            on < off.mul_f64(1.5) + Duration::from_secs(1),
            "exporting to {what} slowed syncs: {on:?} vs {off:?}"
        );
        assert!(
            rss_after.saturating_sub(rss_before) < 100 * 1024,
            "memory grew by {} KiB exporting to {what}",
            rss_after.saturating_sub(rss_before)
        );
    }
    let cm: ConfigMap = ns.api::<ConfigMap>().get("alpha").await.expect("applied");
    assert_eq!(
        cm.data.unwrap_or_default().get("k").map(String::as_str),
        Some("v")
    );
}

/// Keeps the `traceparent` header of every request that passes through.
#[derive(Clone, Default)]
struct SeenHeaders(std::sync::Arc<std::sync::Mutex<Vec<Option<String>>>>);

impl<S> tower_layer::Layer<S> for SeenHeaders {
    type Service = SeenService<S>;
    fn layer(&self, inner: S) -> SeenService<S> {
        SeenService(self.clone(), inner)
    }
}

#[derive(Clone)]
struct SeenService<S>(SeenHeaders, S);

impl<S, B> tower_service::Service<http::Request<B>> for SeenService<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;
    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.1.poll_ready(cx)
    }
    fn call(&mut self, request: http::Request<B>) -> S::Future {
        let header = request
            .headers()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (self.0).0.lock().expect("lock").push(header);
        self.1.call(request)
    }
}

#[tokio::test]
async fn kubernetes_requests_carry_the_trace_context_of_their_span() {
    use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
    use tracing::Instrument;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    let ns = ControlPlane::shared().namespace("otlp-propagate").await;
    let kubeconfig = kube::config::Kubeconfig::read_from(ControlPlane::shared().kubeconfig())
        .expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("config");
    // As the agent builds its client, with a recorder between the trace
    // context layer and the wire.
    let seen = SeenHeaders::default();
    let client = kube::client::ClientBuilder::try_from(config)
        .expect("client")
        .with_layer(&seen)
        .with_layer(&skiff::telemetry::propagate::TraceContextLayer)
        .build();
    let cms: Api<ConfigMap> = Api::namespaced(client, &ns.name);

    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _scope = tracing::subscriber::set_default(subscriber);
    let span = tracing::info_span!("apply");
    let context = span.context();
    let ids = context.span().span_context().clone();
    cms.get_opt("absent")
        .instrument(span)
        .await
        .expect("a real answer from the API server");
    cms.get_opt("absent").await.expect("answer");

    let seen = seen.0.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0].as_deref(),
        Some(format!("00-{}-{}-01", ids.trace_id(), ids.span_id()).as_str()),
        "the request made in the span carries it"
    );
    assert_eq!(seen[1], None, "a request outside any span carries none");
}

#[tokio::test]
async fn a_sampled_out_sync_has_no_trace_id_and_exports_nothing() {
    let fleet = TracedFleet::start_with(
        "otlp-sampled-out",
        "http/protobuf",
        &[("OTEL_TRACES_SAMPLER", "always_off".to_owned())],
    )
    .await;
    let apps: Api<Application> = Api::namespaced(fleet.ns.client.clone(), &fleet.ns.name);
    let operation = eventually("web synced", Duration::from_secs(90), || {
        let apps = apps.clone();
        async move {
            let op = apps.get("web").await.ok()?.status?.operation_state?;
            (op.phase == "Succeeded").then_some(op)
        }
    })
    .await;
    assert_eq!(
        operation.trace_id, None,
        "no ID of a trace that was not kept"
    );
    // Export is on (the endpoint is set), so anything sampled would be there
    // by now; a few more polls make sure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        fleet.collector.spans().is_empty(),
        "nothing exported: {:?}",
        fleet.collector.spans()
    );
}

/// The root span of the first trace the collector holds for `sync NS/APP`
/// with an event named `event`; the whole trace.
fn trace_with_event(fleet: &TracedFleet, app: &str, event: &str, limit: Duration) -> Trace {
    let name = format!("sync {}/{app}", fleet.ns.name);
    let matches = |s: &Value| s["name"] == name && event_names(s).iter().any(|e| e == event);
    let spans = fleet
        .collector
        .wait_for_spans(limit, |spans| spans.iter().any(matches));
    let root = spans.iter().find(|s| matches(s)).unwrap_or_else(|| {
        panic!(
            "no {name} span with event {event} in {limit:?}; see {}",
            fleet.collector.dir().display()
        )
    });
    let trace_id = root["traceId"].as_str().expect("traceId").to_owned();
    collected_trace(&fleet.collector, &trace_id, Duration::from_secs(10))
}

/// The attributes of the first event named `name` on `span`.
fn event<'a>(span: &'a Value, name: &str) -> &'a Value {
    span["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no event {name} on {span:#}"))
}

#[tokio::test]
async fn a_retried_sync_is_traced_with_its_attempt_and_delay() {
    let fleet = TracedFleet::start("otlp-retry", "http/protobuf").await;
    // web's source moves to a Git server that is down: a transient failure.
    let dead = format!("http://127.0.0.1:{}/origin", skiff_testbed::free_port());
    let yaml = fleet_app_yaml("web", &fleet.ns.name, &dead, "apps/web").replace(
        "  syncPolicy:\n",
        "  syncPolicy:\n    retry:\n      limit: 3\n      backoff:\n        duration: 1s\n        factor: 2\n        maxDuration: 4s\n",
    );
    fleet.repo.write("clusters/dev/web.yaml", &yaml);
    fleet.repo.commit("web from a server that is down");

    // The trace of the first retry: trigger retry, the error, and the next retry scheduled.
    let (_, operation, trace) = fleet
        .traced_operation("web", Duration::from_secs(90), |op| {
            op.phase == "Error" && op.retry_count == Some(1)
        })
        .await;
    let root = &trace.root;
    assert_eq!(root["name"], format!("sync {}/web", fleet.ns.name));
    assert_eq!(attr(root, "trigger").as_deref(), Some("retry"), "{root:#}");
    assert_eq!(attr(root, "result").as_deref(), Some("Error"));
    assert_eq!(root["status"]["code"], json!(2), "an error span: {root:#}");
    let names = event_names(root);
    assert!(
        names.iter().any(|n| n == "sync.error"),
        "the error is an event: {names:?}"
    );
    let scheduled = event(root, "retry.scheduled");
    assert_eq!(
        attr(scheduled, "attempt").as_deref(),
        Some("2"),
        "{scheduled:#}"
    );
    let delay: u64 = attr(scheduled, "delay_ms")
        .and_then(|d| d.parse().ok())
        .expect("delay_ms");
    assert!(
        (2000..=4000).contains(&delay),
        "second retry after 2-4 s: {delay} ms"
    );
    assert!(
        operation.next_retry_at.is_some(),
        "the status schedules it too: {operation:?}"
    );
}

#[tokio::test]
async fn a_sync_held_by_a_window_is_traced_as_blocked() {
    let fleet = TracedFleet::start("otlp-window", "grpc").await;
    let project: skiff::api::AppProject = serde_json::from_value(json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "frozen", "namespace": fleet.ns.name},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"namespace": "*"}],
            "syncWindows": [{"kind": "deny", "schedule": "* * * * *", "duration": "1h",
                             "applications": ["held"]}],
        },
    }))
    .expect("project");
    Api::<skiff::api::AppProject>::namespaced(fleet.ns.client.clone(), &fleet.ns.name)
        .patch(
            "frozen",
            &kube::api::PatchParams::apply("tests"),
            &kube::api::Patch::Apply(&project),
        )
        .await
        .expect("AppProject");
    let yaml = fleet_app_yaml("held", &fleet.ns.name, &fleet.repo.url(), "apps/held")
        .replace("spec:\n", "spec:\n  project: frozen\n");
    fleet
        .repo
        .write("clusters/dev/held.yaml", &yaml)
        .write("apps/held/config.yaml", &config_map("held", &[("v", "1")]));
    fleet.repo.commit("held, in a frozen project");

    let trace = trace_with_event(&fleet, "held", "window.blocked", Duration::from_secs(90));
    let root = &trace.root;
    assert_eq!(attr(root, "project").as_deref(), Some("frozen"));
    assert_eq!(
        attr(root, "mode").as_deref(),
        Some("Compare"),
        "only compared: {root:#}"
    );
    assert_eq!(attr(root, "trigger").as_deref(), Some("poll"));
    let blocked = event(root, "window.blocked");
    let reason = attr(blocked, "reason").unwrap_or_default();
    assert!(reason.contains("deny window * * * * *"), "{reason}");
    assert!(
        trace.named("apply Sync wave 0").is_empty(),
        "nothing applied: {:?}",
        trace.spans.iter().map(|s| &s["name"]).collect::<Vec<_>>()
    );
    let cms = fleet.ns.api::<ConfigMap>();
    assert!(cms.get_opt("held").await.expect("get").is_none());
}
