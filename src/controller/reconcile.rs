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

use super::{retry, windows};
use crate::api::{
    AppProject, Application, ApplicationCondition, ApplicationStatus, OperationState,
    REQUESTED_AT_ANNOTATION, SYNC_REVISION_ANNOTATION, parse_duration,
};
use crate::apply::ObjectKey;
use crate::sync::{
    AutoSync, Engine, Mode, OperationPhase, Outcome, SyncRequest, Trigger, destination_namespace,
    record,
};

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
    /// When the next reconcile is due without a change: the interval, or
    /// sooner for a scheduled retry.
    due: std::time::Instant,
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

    // what to do: a new trigger annotation, a retry that is due, or a poll.
    let status = app.status.clone().unwrap_or_default();
    let mut plan = plan(app, &status, Timestamp::now());

    // not due: the event came from a status write (ours, usually), neither
    // spec nor the trigger annotation changed, and no retry is due yet.
    let key = format!("{}/{}", app.namespace().unwrap_or_default(), app.name_any());
    let now = Seen {
        generation: app.metadata.generation,
        requested: app.annotations().get(REQUESTED_AT_ANNOTATION).cloned(),
        due: std::time::Instant::now() + interval,
    };
    if plan.trigger == Trigger::Poll {
        let seen = ctx.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = seen.get(&key)
            && last.generation == now.generation
            && last.requested == now.requested
            && let Some(wait) = last.due.checked_duration_since(std::time::Instant::now())
            && !wait.is_zero()
        {
            return Ok(Requeue::requeue(wait));
        }
    }
    let mut request = plan.request(app, &status);

    // sync windows: a closed window turns the sync into a comparison (so
    // status still shows drift) and holds the request until it opens.
    let blocked = match request.mode {
        Mode::Apply => window_gate(ctx, app, plan.requested.is_some()).await,
        Mode::Compare => None,
    };
    if blocked.is_some() {
        request.mode = Mode::Compare;
        request.auto = None;
        plan.requested = None;
    }

    // mark running, so `skiff sync --wait` sees the request taken
    if let Some(value) = &plan.requested {
        info!(app = %app.name_any(), request = %value, "sync.requested");
        mark_running(app, ctx).await?;
        publish(ctx, app, EventType::Normal, "SyncStarted", "sync requested").await;
    }

    // sync
    let started = std::time::Instant::now();
    let mut outcome = ctx.engine.sync(app, &request).await;

    // A poll while a retry waits that could not even fetch is no new
    // operation: the retry keeps its place and count.
    if plan.retry_pending && outcome.mode == Mode::Apply && outcome.revision.is_none() {
        outcome.mode = Mode::Compare;
    }

    // retry: a failed operation schedules the next try, or says why not
    let retry = schedule_retry(app, &plan, &mut outcome);
    ctx.metrics.record_sync(app, &outcome, started.elapsed());
    crate::telemetry::logs::sync_outcome(app, &outcome, started.elapsed());

    // record
    let revision_moved = outcome.revision.is_some()
        && outcome.revision != status.sync.as_ref().and_then(|s| s.revision.clone());
    let extra = record::Extra {
        handled_request: plan.requested.clone(),
        trace_id: outcome.trace_id.clone(),
        add_history: outcome.mode == Mode::Apply
            && (plan.requested.is_some()
                || revision_moved
                || outcome.changed_cluster()
                || outcome.phase != OperationPhase::Succeeded),
        retry_count: (plan.trigger == Trigger::Retry || retry.is_some())
            .then_some(plan.retries_done),
        next_retry_at: retry.map(|(at, _)| at),
    };
    let mut next = record::next_status(app, &outcome, &extra);
    let newly_blocked = record_window(&mut next, blocked.as_ref(), &outcome);
    if app.status.as_ref() != Some(&next) {
        record::write(&ctx.client, app, &next)
            .await
            .map_err(ReconcileError)?;
    }

    // events
    announce(ctx, app, &outcome, plan.requested.is_some()).await;
    if let Some(b) = blocked.as_ref().filter(|_| newly_blocked) {
        publish(ctx, app, EventType::Normal, "SyncBlocked", &b.message()).await;
    }
    let mut now = now;
    let pending = retry.map(|(_, delay)| delay).or_else(|| {
        // still waiting for a retry scheduled earlier
        next.operation_state
            .as_ref()
            .and_then(|op| op.next_retry_at.as_ref())
            .filter(|_| outcome.mode == Mode::Compare)
            .map(|at| Duration::try_from(at.0.duration_since(Timestamp::now())).unwrap_or_default())
    });
    if let Some(b) = &blocked {
        // look again just after the window opens (or the interval, if sooner)
        let opens = b
            .next_change
            .and_then(|t| (t - chrono::Utc::now()).to_std().ok())
            .map_or(interval, |d| d + Duration::from_secs(1));
        now.due = std::time::Instant::now() + opens.min(interval);
    } else if let Some(delay) = pending {
        now.due = std::time::Instant::now() + delay.min(interval);
    }
    let wait = now.due.saturating_duration_since(std::time::Instant::now());
    ctx.seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, now);
    Ok(Requeue::requeue(wait))
}

/// A sync held back by a sync window.
#[derive(Debug)]
struct Blocked {
    reason: String,
    /// When the windows' verdict may change.
    next_change: Option<chrono::DateTime<chrono::Utc>>,
}

impl Blocked {
    fn message(&self) -> String {
        match self.next_change {
            Some(t) => format!(
                "sync blocked by a sync window: {}; next change at {}",
                self.reason,
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            None => format!("sync blocked by a sync window: {}", self.reason),
        }
    }
}

/// The condition type recorded while a window holds a sync back.
pub const WINDOW_CONDITION: &str = "SyncWindowBlocked";

/// Whether the project's sync windows hold this sync back now. Windows that
/// do not parse block: the project meant to restrict something.
async fn window_gate(ctx: &Context, app: &Application, manual: bool) -> Option<Blocked> {
    let namespace = app.namespace().unwrap_or_default();
    let api: Api<AppProject> = Api::namespaced(ctx.client.clone(), &namespace);
    let project = match api.get_opt(&app.spec.project).await {
        Ok(Some(project)) => project,
        // no project (or no AppProject CRD): no windows; the engine judges
        // whether the project must exist
        Ok(None) | Err(kube::Error::Api(_)) => return None,
        Err(e) => {
            warn!(app = %app.name_any(), error = %e, "windows.project_unreadable");
            return None;
        }
    };
    let windows = match windows::Windows::parse(&project.spec.sync_windows) {
        Ok(windows) => windows,
        Err(e) => {
            return Some(Blocked {
                reason: format!("AppProject {namespace}/{}: {e}", app.spec.project),
                next_change: None,
            });
        }
    };
    let verdict = windows.verdict(
        &app.name_any(),
        &destination_namespace(app),
        chrono::Utc::now(),
    );
    if verdict.allows(manual) {
        return None;
    }
    Some(Blocked {
        reason: verdict
            .reason
            .unwrap_or_else(|| "no open window lets manual syncs through".to_owned()),
        next_change: verdict.next_change,
    })
}

/// Adds or clears the `SyncWindowBlocked` condition, records `window.blocked`
/// in the sync's trace; whether the condition is new.
fn record_window(
    status: &mut ApplicationStatus,
    blocked: Option<&Blocked>,
    outcome: &Outcome,
) -> bool {
    let was = status
        .conditions
        .iter()
        .find(|c| c.type_ == WINDOW_CONDITION)
        .cloned();
    status.conditions.retain(|c| c.type_ != WINDOW_CONDITION);
    let Some(b) = blocked else {
        return false;
    };
    let next = b
        .next_change
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    outcome.span.in_scope(|| {
        info!(reason = %b.reason, next_change = %next, "window.blocked");
    });
    let message = Some(b.message());
    // unchanged, the condition keeps its time, so the status is not rewritten
    let since = was
        .as_ref()
        .filter(|c| c.message == message)
        .and_then(|c| c.last_transition_time.clone())
        .unwrap_or(Time(outcome.finished_at));
    status.conditions.push(ApplicationCondition {
        type_: WINDOW_CONDITION.to_owned(),
        status: "True".to_owned(),
        reason: Some("SyncWindowClosed".to_owned()),
        message,
        last_transition_time: Some(since),
    });
    was.is_none()
}

/// Why this reconcile syncs, and how.
#[derive(Debug)]
struct Plan {
    trigger: Trigger,
    /// The trigger annotation's value when it asks for a sync.
    requested: Option<String>,
    /// Retries made in the current chain of failures, this one included
    /// when it is a retry; 0 for anything else (which starts a new chain).
    retries_done: i64,
    /// A failed operation waits for its retry: a poll meanwhile applies only
    /// when Git moved (which starts afresh), else it only compares.
    retry_pending: bool,
}

/// Decides what this reconcile is for: a new trigger annotation wins, then a
/// retry that is due, then the ordinary poll.
fn plan(app: &Application, status: &ApplicationStatus, now: Timestamp) -> Plan {
    let requested = app
        .annotations()
        .get(REQUESTED_AT_ANNOTATION)
        .filter(|r| status.last_handled_request.as_ref() != Some(*r))
        .cloned();
    if requested.is_some() {
        return Plan {
            trigger: Trigger::Annotation,
            requested,
            retries_done: 0,
            retry_pending: false,
        };
    }
    let op = status.operation_state.as_ref();
    let next_retry = op
        .filter(|op| op.phase == "Failed" || op.phase == "Error")
        .and_then(|op| op.next_retry_at.as_ref());
    if next_retry.is_some_and(|at| at.0 <= now) {
        return Plan {
            trigger: Trigger::Retry,
            requested: None,
            retries_done: op.and_then(|op| op.retry_count).unwrap_or(0) + 1,
            retry_pending: false,
        };
    }
    Plan {
        trigger: Trigger::Poll,
        requested: None,
        retries_done: 0,
        retry_pending: next_retry.is_some(),
    }
}

impl Plan {
    fn request(&self, app: &Application, status: &ApplicationStatus) -> SyncRequest {
        let automated = app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.automated.as_ref());
        // A sync pinned to a revision (`skiff sync --revision`, rollback) is
        // retried at that revision; automated syncs follow the target.
        let pinned = app
            .annotations()
            .get(SYNC_REVISION_ANNOTATION)
            .filter(|r| !r.is_empty())
            .cloned();
        let revision = match self.trigger {
            Trigger::Annotation => pinned,
            Trigger::Retry if automated.is_none() => pinned,
            _ => None,
        };
        SyncRequest {
            revision,
            trigger: self.trigger,
            mode: if self.trigger != Trigger::Poll || automated.is_some() {
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
            auto: match (self.trigger, automated) {
                (Trigger::Poll, Some(a)) => Some(AutoSync {
                    // the last operation's revision, not the last compared
                    // one: a comparison while a window or a retry held the
                    // sync back must not count as having synced it
                    last_revision: status.history.first().map(|h| h.revision.clone()),
                    // drift waits for the retry like everything else
                    self_heal: a.self_heal && !self.retry_pending,
                }),
                _ => None,
            },
        }
    }
}

/// After a failed operation: when to try again (and a `retry.scheduled`
/// event in its trace), or a message saying why it will not be retried.
fn schedule_retry(
    app: &Application,
    plan: &Plan,
    outcome: &mut Outcome,
) -> Option<(Timestamp, Duration)> {
    if outcome.mode != Mode::Apply || outcome.phase == OperationPhase::Succeeded {
        return None;
    }
    let spec = app.spec.sync_policy.as_ref().and_then(|p| p.retry.as_ref());
    let policy = match retry::Policy::of(spec) {
        Ok(policy) => policy,
        Err(e) => {
            outcome.message = format!("{}; not retried: {e}", outcome.message);
            return None;
        }
    };
    match policy.next(plan.retries_done, outcome.retryable) {
        retry::Next::Retry { attempt, delay } => {
            let at = Timestamp::now()
                .checked_add(delay)
                .unwrap_or_else(|_| Timestamp::now());
            outcome.span.in_scope(|| {
                info!(
                    attempt,
                    delay_ms = delay.as_millis() as u64,
                    at = %at,
                    "retry.scheduled"
                );
            });
            outcome.message = format!(
                "{}; retry {attempt} in {}",
                outcome.message,
                humantime(delay)
            );
            Some((at, delay))
        }
        retry::Next::GiveUp { retries } => {
            outcome.message = format!("{}; gave up after {retries} retries", outcome.message);
            None
        }
        retry::Next::Permanent => {
            outcome.message = format!(
                "{}; not retried: the error is permanent (the same input fails the same way)",
                outcome.message
            );
            None
        }
    }
}

/// `1m30s`-style, to the second.
fn humantime(d: Duration) -> String {
    let s = d.as_secs().max(1);
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// Deleting an Application prunes what it applied, unless asked to keep it.
async fn clean_up(app: &Application, ctx: &Context) -> Result<Requeue, ReconcileError> {
    let keep = app
        .annotations()
        .get(KEEP_RESOURCES_ANNOTATION)
        .is_some_and(|v| v == "true");
    if keep {
        ctx.metrics.forget_app(&app.name_any());
        return Ok(Requeue::await_change());
    }
    let inventory: Vec<ObjectKey> = app
        .status
        .as_ref()
        .map(|s| s.resources.iter().map(ObjectKey::from_status).collect())
        .unwrap_or_default();
    let failures = ctx.engine.prune_all(app, &inventory).await;
    if failures.is_empty() {
        ctx.metrics.forget_app(&app.name_any());
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
