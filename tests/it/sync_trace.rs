//! Each sync is one `tracing` span, `sync <namespace>/<app>`, with the
//! attributes and phase events DESIGN names. A small recording layer, installed
//! as the process's global subscriber (thread-local subscribers miss spans in a
//! multi-threaded test binary), captures what the engine emits; the test reads
//! only the spans of its own namespace. The OTLP export of the same spans is
//! tested against a real collector with the agent.

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

/// (span id, span name, its fields as recorded, the namespace of the sync it belongs to)
type SpanRecord = (u64, String, Vec<(String, String)>, Option<String>);

#[derive(Clone, Debug, Default)]
struct Recorded {
    spans: Vec<SpanRecord>,
    /// (message, the namespace of the sync it was emitted in)
    events: Vec<(String, Option<String>)>,
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

impl Recorder {
    /// The namespace of the innermost live `sync` span among `ids`.
    fn sync_namespace(
        r: &Recorded,
        ids: impl Iterator<Item = (u64, &'static str)>,
    ) -> Option<String> {
        for (id, name) in ids {
            if name == "sync" {
                // Ids are reused after a span closes; the live one is the latest.
                return r
                    .spans
                    .iter()
                    .rfind(|s| s.0 == id && s.1 == "sync")
                    .and_then(|s| field(&s.2, "namespace").map(str::to_owned));
            }
        }
        None
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        let name = attrs.metadata().name();
        let mut r = self.0.lock().expect("lock");
        let namespace = if name == "sync" {
            field(&fields, "namespace").map(str::to_owned)
        } else {
            ctx.span(id).and_then(|span| {
                let scope = span.scope().skip(1).map(|s| (s.id().into_u64(), s.name()));
                Recorder::sync_namespace(&r, scope)
            })
        };
        r.spans
            .push((id.into_u64(), name.to_owned(), fields, namespace));
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
        let mut r = self.0.lock().expect("lock");
        let namespace = ctx.event_scope(event).and_then(|scope| {
            let ids = scope.map(|s| (s.id().into_u64(), s.name()));
            Recorder::sync_namespace(&r, ids)
        });
        r.events.push((message, namespace));
    }
}

impl Recorder {
    /// The process-wide recorder, installed on first use.
    fn global() -> Recorder {
        static RECORDER: std::sync::OnceLock<Recorder> = std::sync::OnceLock::new();
        RECORDER
            .get_or_init(|| {
                let recorder = Recorder::default();
                tracing::subscriber::set_global_default(
                    tracing_subscriber::registry().with(recorder.clone()),
                )
                .expect("no other global subscriber in the test binary");
                recorder
            })
            .clone()
    }

    /// The spans and events of the syncs of `namespace`, and takes them out.
    fn take_namespace(&self, namespace: &str) -> Recorded {
        let mut all = self.0.lock().expect("lock");
        let mine = |ns: &Option<String>| ns.as_deref() == Some(namespace);
        let out = Recorded {
            spans: all.spans.iter().filter(|s| mine(&s.3)).cloned().collect(),
            events: all.events.iter().filter(|e| mine(&e.1)).cloned().collect(),
        };
        all.spans.retain(|s| !mine(&s.3));
        all.events.retain(|e| !mine(&e.1));
        out
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
    let recorder = Recorder::global();
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
    let recorded = recorder.take_namespace(&ns.name);

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

    let in_sync: Vec<&str> = recorded.events.iter().map(|(m, _)| m.as_str()).collect();
    crate::fleet::assert_phase_events_in_order(&in_sync);
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
    let recorded = recorder.take_namespace(&ns.name);
    let sync = recorded
        .spans
        .iter()
        .rfind(|s| s.1 == "sync")
        .expect("sync span");
    assert_eq!(field(&sync.2, "result"), Some("Error"));
    assert_eq!(field(&sync.2, "otel.status_code"), Some("ERROR"));
    assert!(
        recorded.events.iter().any(|(m, _)| m == "sync.error"),
        "{:?}",
        recorded.events
    );
}
