//! Each sync is one `tracing` span, `sync <namespace>/<app>`, with the
//! attributes and phase events DESIGN names. A small recording layer captures
//! what the engine emits (the OTLP export of the same spans is tested against
//! a real collector with the agent).

use std::sync::{Arc, Mutex};

use serde_json::json;
use skiff::sync::OperationPhase;
use skiff_testbed::ControlPlane;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::fleet::{GitRepo, application, apply_request, config_map, engine, first_request};

/// (span id, span name, its fields as recorded)
type SpanRecord = (u64, String, Vec<(String, String)>);

#[derive(Clone, Debug, Default)]
struct Recorded {
    spans: Vec<SpanRecord>,
    /// (message, the names of the spans it sits in, innermost first)
    events: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Recorded>>);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        let mut r = self.0.lock().expect("lock");
        r.spans
            .push((id.into_u64(), attrs.metadata().name().to_owned(), fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut r = self.0.lock().expect("lock");
        if let Some(span) = r.spans.iter_mut().rfind(|s| s.0 == id.into_u64()) {
            values.record(&mut Fields(&mut span.2));
        }
    }
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        let message = fields
            .iter()
            .find(|(k, _)| k == "message")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let scope = ctx
            .event_scope(event)
            .map(|s| s.map(|span| span.name().to_owned()).collect())
            .unwrap_or_default();
        self.0.lock().expect("lock").events.push((message, scope));
    }
}

impl Recorder {
    fn take(&self) -> Recorded {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rfind(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_sync_is_one_span_with_attributes_and_phase_events() {
    let recorder = Recorder::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    let ns = ControlPlane::shared().namespace("sync-trace").await;
    let repo = GitRepo::new("sync-trace");
    repo.write("app/a.yaml", &config_map("alpha", &[]));
    let commit = repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "sync-trace", true);

    let outcome = engine.sync(&app, &first_request()).await;
    assert_eq!(
        outcome.phase,
        OperationPhase::Succeeded,
        "{}",
        outcome.message
    );
    let recorded = recorder.take();

    let syncs: Vec<_> = recorded.spans.iter().filter(|s| s.1 == "sync").collect();
    assert_eq!(syncs.len(), 1, "one sync span: {:?}", recorded.spans);
    let fields = &syncs[0].2;
    let expected_name = format!("sync {}/web", ns.name);
    assert_eq!(field(fields, "otel.name"), Some(expected_name.as_str()));
    assert_eq!(field(fields, "app"), Some("web"));
    assert_eq!(field(fields, "project"), Some("default"));
    assert_eq!(field(fields, "path"), Some("app"));
    assert_eq!(field(fields, "trigger"), Some("manual"));
    assert_eq!(field(fields, "revision"), Some(commit.as_str()));
    assert_eq!(field(fields, "result"), Some("Succeeded"));
    assert!(field(fields, "repo").is_some_and(|r| r.starts_with("file://")));

    let in_sync: Vec<&str> = recorded
        .events
        .iter()
        .filter(|(_, scope)| scope.iter().any(|s| s == "sync"))
        .map(|(m, _)| m.as_str())
        .collect();
    let phases = [
        "source.fetched",
        "render.completed",
        "diff.computed",
        "apply.wave",
        "prune.completed",
        "health.ready",
    ];
    let positions: Vec<Option<usize>> = phases
        .iter()
        .map(|p| in_sync.iter().position(|e| e == p))
        .collect();
    assert!(
        positions.iter().all(Option::is_some),
        "every phase event inside the sync span: {in_sync:?}"
    );
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "phase events in order: {in_sync:?}"
    );
    for child in ["fetch", "render", "apply", "prune", "health"] {
        assert!(
            recorded.spans.iter().any(|s| s.1 == child),
            "child span {child}: {:?}",
            recorded.spans
        );
    }

    // A sync that cannot render records its error on the span.
    repo.write("app/bad.yaml", "kind: [\n");
    repo.commit("v2: broken");
    let failed = engine.sync(&app, &apply_request(&outcome, true)).await;
    assert_eq!(failed.phase, OperationPhase::Error);
    let recorded = recorder.take();
    let sync = recorded
        .spans
        .iter()
        .find(|s| s.1 == "sync")
        .expect("sync span");
    assert_eq!(field(&sync.2, "result"), Some("Error"));
    assert_eq!(field(&sync.2, "otel.status_code"), Some("ERROR"));
    assert!(
        recorded.events.iter().any(|(m, _)| m == "sync.error"),
        "{:?}",
        recorded.events
    );
}
