//! One reconcile of one Application, read top to bottom as its steps:
//! finalizer -> suspended? -> what to do (trigger, automation) -> mark
//! running -> sync -> record status -> events -> requeue.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action as Requeue;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Client, Resource, ResourceExt};
use tracing::{info, warn};

use crate::api::{
    Application, OperationState, REQUESTED_AT_ANNOTATION, SYNC_REVISION_ANNOTATION, parse_duration,
};
use crate::apply::ObjectKey;
use crate::sync::{AutoSync, Engine, Mode, OperationPhase, Outcome, SyncRequest, Trigger, record};

/// The finalizer that prunes an Application's objects when it is deleted.
pub const FINALIZER: &str = "skiff.dev/prune";
/// Set to `true` on an Application to keep its objects when it is deleted.
pub const KEEP_RESOURCES_ANNOTATION: &str = "skiff.dev/keep-resources";

/// What every reconcile shares.
pub struct Context {
    /// The cluster.
    pub client: Client,
    /// The sync engine (and its caches).
    pub engine: Engine,
    /// Publishes Kubernetes Events on Applications.
    pub recorder: Recorder,
    /// `spec.interval` when an Application gives none.
    pub default_interval: Duration,
    /// What each Application looked like when it was last reconciled, so
    /// that events caused by our own status writes do not start a sync.
    pub seen: std::sync::Mutex<std::collections::HashMap<String, Seen>>,
    /// Counters and histograms for `/metrics`.
    pub metrics: Arc<crate::telemetry::metrics::Metrics>,
}

/// The parts of an Application that call for a reconcile when they change.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    generation: Option<i64>,
    requested: Option<String>,
    at: std::time::Instant,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

/// Why a reconcile could not finish; it is retried.
#[derive(Debug)]
pub struct ReconcileError(pub String);

impl std::fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReconcileError {}

/// The controller's reconcile function.
pub async fn reconcile(
    app: Arc<Application>,
    ctx: Arc<Context>,
) -> Result<Requeue, ReconcileError> {
    let namespace = app.namespace().unwrap_or_default();
    let api: Api<Application> = Api::namespaced(ctx.client.clone(), &namespace);
    finalizer(&api, FINALIZER, app, |event| async {
        match event {
            Finalizer::Apply(app) => reconcile_live(&app, &ctx).await,
            Finalizer::Cleanup(app) => clean_up(&app, &ctx).await,
        }
    })
    .await
    .map_err(|e| ReconcileError(e.to_string()))
}

/// After a failed reconcile: try again soon.
pub fn error_policy(app: Arc<Application>, error: &ReconcileError, _: Arc<Context>) -> Requeue {
    warn!(app = %app.name_any(), error = %error, "reconcile.failed");
    Requeue::requeue(Duration::from_secs(10))
}

async fn reconcile_live(app: &Application, ctx: &Context) -> Result<Requeue, ReconcileError> {
    let interval = interval_of(app, ctx.default_interval);

    // suspended: nothing at all until resumed.
    if app.spec.suspend {
        return Ok(Requeue::requeue(interval));
    }

    // not due: the event came from a status write (ours, usually), and
    // neither spec nor the trigger annotation changed since the last run.
    let key = format!("{}/{}", app.namespace().unwrap_or_default(), app.name_any());
    let now = Seen {
        generation: app.metadata.generation,
        requested: app.annotations().get(REQUESTED_AT_ANNOTATION).cloned(),
        at: std::time::Instant::now(),
    };
    {
        let seen = ctx.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = seen.get(&key)
            && last.generation == now.generation
            && last.requested == now.requested
            && last.at.elapsed() < interval
        {
            return Ok(Requeue::requeue(interval - last.at.elapsed()));
        }
    }

    // what to do
    let status = app.status.clone().unwrap_or_default();
    let requested = app
        .annotations()
        .get(REQUESTED_AT_ANNOTATION)
        .filter(|r| status.last_handled_request.as_ref() != Some(*r))
        .cloned();
    let automated = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.automated.as_ref());
    let request = SyncRequest {
        revision: requested
            .as_ref()
            .and_then(|_| app.annotations().get(SYNC_REVISION_ANNOTATION).cloned())
            .filter(|r| !r.is_empty()),
        trigger: if requested.is_some() {
            Trigger::Annotation
        } else {
            Trigger::Poll
        },
        mode: if requested.is_some() || automated.is_some() {
            Mode::Apply
        } else {
            Mode::Compare
        },
        prune: automated.is_some_and(|a| a.prune),
        previous: status
            .resources
            .iter()
            .map(ObjectKey::from_status)
            .collect(),
        auto: match (&requested, automated) {
            (None, Some(a)) => Some(AutoSync {
                last_revision: status.sync.as_ref().and_then(|s| s.revision.clone()),
                self_heal: a.self_heal,
            }),
            _ => None,
        },
    };

    // mark running, so `skiff sync --wait` sees the request taken
    if let Some(value) = &requested {
        info!(app = %app.name_any(), request = %value, "sync.requested");
        mark_running(app, ctx).await?;
        publish(ctx, app, EventType::Normal, "SyncStarted", "sync requested").await;
    }

    // sync
    let started = std::time::Instant::now();
    let outcome = ctx.engine.sync(app, &request).await;
    ctx.metrics.record_sync(app, &outcome, started.elapsed());
    crate::telemetry::logs::sync_outcome(app, &outcome, started.elapsed());

    // record
    let revision_moved = outcome.revision.is_some()
        && outcome.revision != status.sync.as_ref().and_then(|s| s.revision.clone());
    let extra = record::Extra {
        handled_request: requested.clone(),
        trace_id: outcome.trace_id.clone(),
        add_history: outcome.mode == Mode::Apply
            && (requested.is_some()
                || revision_moved
                || outcome.changed_cluster()
                || outcome.phase != OperationPhase::Succeeded),
        ..record::Extra::default()
    };
    let next = record::next_status(app, &outcome, &extra);
    if app.status.as_ref() != Some(&next) {
        record::write(&ctx.client, app, &next)
            .await
            .map_err(ReconcileError)?;
    }

    // events
    announce(ctx, app, &outcome, requested.is_some()).await;
    ctx.seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, now);
    Ok(Requeue::requeue(interval))
}

/// Deleting an Application prunes what it applied, unless asked to keep it.
async fn clean_up(app: &Application, ctx: &Context) -> Result<Requeue, ReconcileError> {
    let keep = app
        .annotations()
        .get(KEEP_RESOURCES_ANNOTATION)
        .is_some_and(|v| v == "true");
    if keep {
        return Ok(Requeue::await_change());
    }
    let inventory: Vec<ObjectKey> = app
        .status
        .as_ref()
        .map(|s| s.resources.iter().map(ObjectKey::from_status).collect())
        .unwrap_or_default();
    let failures = ctx.engine.prune_all(app, &inventory).await;
    if failures.is_empty() {
        publish(
            ctx,
            app,
            EventType::Normal,
            "Pruned",
            "objects deleted with the Application",
        )
        .await;
        Ok(Requeue::await_change())
    } else {
        Err(ReconcileError(format!(
            "pruning on deletion: {}",
            failures.join("; ")
        )))
    }
}

async fn mark_running(app: &Application, ctx: &Context) -> Result<(), ReconcileError> {
    let mut status = app.status.clone().unwrap_or_default();
    status.operation_state = Some(OperationState {
        phase: "Running".to_owned(),
        message: Some("sync requested".to_owned()),
        started_at: Some(Time(Timestamp::now())),
        ..OperationState::default()
    });
    record::write(&ctx.client, app, &status)
        .await
        .map(|_| ())
        .map_err(ReconcileError)
}

async fn announce(ctx: &Context, app: &Application, outcome: &Outcome, requested: bool) {
    match outcome.phase {
        OperationPhase::Succeeded if outcome.mode == Mode::Apply => {
            if requested || outcome.changed_cluster() {
                publish(ctx, app, EventType::Normal, "Synced", &outcome.message).await;
            }
        }
        OperationPhase::Succeeded => {}
        OperationPhase::Failed | OperationPhase::Error => {
            let reason = if outcome.mode == Mode::Apply {
                "SyncFailed"
            } else {
                "ComparisonFailed"
            };
            publish(ctx, app, EventType::Warning, reason, &outcome.message).await;
        }
    }
}

async fn publish(ctx: &Context, app: &Application, type_: EventType, reason: &str, note: &str) {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        // Event notes are capped at 1 KiB by the API server.
        note: Some(note.chars().take(1000).collect()),
        action: "Sync".to_owned(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &app.object_ref(&())).await {
        warn!(error = %e, "event.publish_failed");
    }
}

fn interval_of(app: &Application, default: Duration) -> Duration {
    app.spec
        .interval
        .as_deref()
        .and_then(|i| parse_duration(i).ok())
        .filter(|d| *d >= Duration::from_secs(1))
        .unwrap_or(default)
}
