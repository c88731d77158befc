//! The agent's Prometheus metrics, named for the dashboards that read them:
//! per-Application state and syncs, phase durations, and deployments (a new
//! revision applied) with their lead time from commit to cluster.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::api::Application;
use crate::sync::{Mode, OperationPhase, Outcome};

/// `skiff_app_info`: one series per Application with its current state.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AppInfoLabels {
    /// The Application.
    pub name: String,
    /// Its AppProject.
    pub project: String,
    /// Synced, OutOfSync or Unknown.
    pub sync_status: String,
    /// Healthy, Progressing, Degraded, Missing or Unknown.
    pub health_status: String,
}

/// An Application and how its sync ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AppPhaseLabels {
    /// The Application.
    pub name: String,
    /// Succeeded, Failed or Error.
    pub phase: String,
}

/// An Application and how its deployment ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeploymentLabels {
    /// The Application.
    pub name: String,
    /// Succeeded, Failed or Error.
    pub result: String,
}

/// Just the Application.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AppLabels {
    /// The Application.
    pub name: String,
}

/// Histograms of a family share one bucket layout.
#[derive(Clone, Debug)]
pub struct Buckets {
    start: f64,
    factor: f64,
    count: u16,
}

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(self.start, self.factor, self.count))
    }
}

/// 10 ms to ~82 s: syncs, fetches and renders.
const PHASE_BUCKETS: Buckets = Buckets {
    start: 0.01,
    factor: 2.0,
    count: 14,
};

/// 1 s to ~6 days: commit to cluster, from a pipeline's minutes to a
/// change waiting out a weekend.
const LEAD_TIME_BUCKETS: Buckets = Buckets {
    start: 1.0,
    factor: 3.0,
    count: 13,
};

/// Every metric the agent exports, and whether it is ready.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    app_info: Family<AppInfoLabels, Gauge>,
    app_syncs: Family<AppPhaseLabels, Counter>,
    app_sync_seconds: Family<AppLabels, Histogram, Buckets>,
    git_fetch_seconds: Histogram,
    render_seconds: Histogram,
    reconcile_errors: Family<AppLabels, Counter>,
    deployments: Family<DeploymentLabels, Counter>,
    lead_time_seconds: Family<AppLabels, Histogram, Buckets>,
    /// 1 while this agent holds the leader lease.
    pub leader: Gauge,
    /// The `skiff_app_info` series of each Application, to replace it when
    /// its state changes.
    info_of: Mutex<HashMap<String, AppInfoLabels>>,
    /// The revision each Application last failed to deploy, so that polls
    /// of the same broken revision count one failed deployment. (Syncs that
    /// stop before applying leave no history entry to tell by.)
    failed_revision: Mutex<HashMap<String, String>>,
    ready: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("skiff");
        let app_info = Family::<AppInfoLabels, Gauge>::default();
        registry.register(
            "app_info",
            "Each Application with its project, sync status and health (always 1)",
            app_info.clone(),
        );
        let app_syncs = Family::<AppPhaseLabels, Counter>::default();
        registry.register(
            "app_sync",
            "Syncs by Application and how they ended",
            app_syncs.clone(),
        );
        let app_sync_seconds = Family::new_with_constructor(PHASE_BUCKETS);
        registry.register(
            "app_sync_duration_seconds",
            "How long a sync takes, from fetch to health",
            app_sync_seconds.clone(),
        );
        let git_fetch_seconds = PHASE_BUCKETS.new_metric();
        registry.register(
            "git_fetch_duration_seconds",
            "How long getting a sync's source takes (Git fetch and checkout, or chart download)",
            git_fetch_seconds.clone(),
        );
        let render_seconds = PHASE_BUCKETS.new_metric();
        registry.register(
            "render_duration_seconds",
            "How long rendering a source to manifests takes",
            render_seconds.clone(),
        );
        let reconcile_errors = Family::<AppLabels, Counter>::default();
        registry.register(
            "app_reconcile_errors",
            "Reconciles that ended in an error: the sync could not be tried (source, render, validation) or the reconcile itself failed",
            reconcile_errors.clone(),
        );
        let deployments = Family::<DeploymentLabels, Counter>::default();
        registry.register(
            "deployments",
            "Syncs that applied a revision not deployed before, by result",
            deployments.clone(),
        );
        let lead_time_seconds = Family::new_with_constructor(LEAD_TIME_BUCKETS);
        registry.register(
            "deployment_lead_time_seconds",
            "From the commit time of a revision to its successful deployment",
            lead_time_seconds.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this agent holds the leader lease",
            leader.clone(),
        );
        Metrics {
            registry,
            app_info,
            app_syncs,
            app_sync_seconds,
            git_fetch_seconds,
            render_seconds,
            reconcile_errors,
            deployments,
            lead_time_seconds,
            leader,
            info_of: Mutex::new(HashMap::new()),
            failed_revision: Mutex::new(HashMap::new()),
            ready: AtomicBool::new(false),
        }
    }
}

impl Metrics {
    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Marks the agent ready or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Whether `/readyz` should say ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Counts a sync of `app` (as it was before the sync) that took
    /// `elapsed` and ended in `outcome`.
    pub fn record_sync(&self, app: &Application, outcome: &Outcome, elapsed: Duration) {
        let name = app.metadata.name.clone().unwrap_or_default();
        let phase = outcome.phase.to_string();
        self.app_syncs
            .get_or_create(&AppPhaseLabels {
                name: name.clone(),
                phase: phase.clone(),
            })
            .inc();
        self.app_sync_seconds
            .get_or_create(&AppLabels { name: name.clone() })
            .observe(elapsed.as_secs_f64());
        if let Some(fetch) = outcome.telemetry.fetch {
            self.git_fetch_seconds.observe(fetch.as_secs_f64());
        }
        if let Some(render) = outcome.telemetry.render {
            self.render_seconds.observe(render.as_secs_f64());
        }
        if outcome.phase == OperationPhase::Error {
            self.record_reconcile_error(&name);
        }
        self.set_info(app, outcome);

        let deployment = {
            let mut failed = self
                .failed_revision
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let found = deployment(app, outcome, failed.get(&name).map(String::as_str));
            match (&found, outcome.telemetry.revision.as_ref()) {
                (Some(d), Some(revision)) if d.failed => {
                    failed.insert(name.clone(), revision.clone());
                }
                (Some(_), _) => {
                    failed.remove(&name);
                }
                (None, _) => {}
            }
            found
        };
        if let Some(deployment) = deployment {
            self.deployments
                .get_or_create(&DeploymentLabels {
                    name: name.clone(),
                    result: phase,
                })
                .inc();
            if let Some(lead_time) = deployment.lead_time {
                self.lead_time_seconds
                    .get_or_create(&AppLabels { name })
                    .observe(lead_time);
            }
        }
    }

    /// Counts a reconcile of `app` that failed outside the sync (status
    /// write, finalizer).
    pub fn record_reconcile_error(&self, app: &str) {
        self.reconcile_errors
            .get_or_create(&AppLabels {
                name: app.to_owned(),
            })
            .inc();
    }

    /// Drops the `skiff_app_info` series of a deleted Application.
    pub fn forget_app(&self, app: &str) {
        let mut info_of = self.info_of.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(labels) = info_of.remove(app) {
            self.app_info.remove(&labels);
        }
        drop(info_of);
        self.failed_revision
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(app);
    }

    fn set_info(&self, app: &Application, outcome: &Outcome) {
        let name = app.metadata.name.clone().unwrap_or_default();
        // An Error sync compared nothing: the sync status is unknown, and the
        // health is the last one assessed.
        let health = if outcome.phase == OperationPhase::Error {
            app.status
                .as_ref()
                .and_then(|s| s.health.as_ref())
                .map(|h| h.status)
                .unwrap_or_default()
        } else {
            outcome.health.status
        };
        let labels = AppInfoLabels {
            name: name.clone(),
            project: app.spec.project.clone(),
            sync_status: format!("{:?}", outcome.sync_status),
            health_status: format!("{health:?}"),
        };
        let mut info_of = self.info_of.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(previous) = info_of.insert(name, labels.clone())
            && previous != labels
        {
            self.app_info.remove(&previous);
        }
        self.app_info.get_or_create(&labels).set(1);
    }
}

/// A sync that counts as a deployment.
struct Deployment {
    /// It did not succeed.
    failed: bool,
    /// Seconds from commit to the end of the sync, when it succeeded and the
    /// commit time is known.
    lead_time: Option<f64>,
}

/// Whether `outcome` deploys: an applying sync of a revision other than the
/// last one deployed successfully (read from `status.history` of `app` as it
/// was before the sync, so restarts of the agent do not count again). A
/// failure counts once per revision (`last_failed`, or the last history
/// entry): retries and polls of the same broken revision are the same
/// failed deployment.
fn deployment(
    app: &Application,
    outcome: &Outcome,
    last_failed: Option<&str>,
) -> Option<Deployment> {
    if outcome.mode != Mode::Apply {
        return None;
    }
    let revision = outcome
        .revision
        .as_deref()
        .or(outcome.telemetry.revision.as_deref())?;
    let history = app
        .status
        .as_ref()
        .map(|s| s.history.as_slice())
        .unwrap_or_default();
    let succeeded = |h: &&crate::api::RevisionHistory| h.result.as_deref() == Some("Succeeded");
    if history.iter().find(succeeded).map(|h| h.revision.as_str()) == Some(revision) {
        return None;
    }
    if outcome.phase != OperationPhase::Succeeded {
        let already_failed = last_failed == Some(revision)
            || history
                .first()
                .is_some_and(|h| h.revision == revision && !succeeded(&h));
        return (!already_failed).then_some(Deployment {
            failed: true,
            lead_time: None,
        });
    }
    let lead_time = outcome.telemetry.committed_at.map(|committed| {
        let finished = outcome.finished_at.as_second();
        (finished - committed).max(0) as f64
    });
    Some(Deployment {
        failed: false,
        lead_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{HealthStatus, HealthStatusCode, RevisionHistory, SyncStatusCode};
    use crate::sync::{SyncTelemetry, Trigger};
    use k8s_openapi::jiff::Timestamp;

    fn app(history: &[(&str, &str)]) -> Application {
        let mut app: Application = serde_json::from_value(serde_json::json!({
            "apiVersion": "skiff.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {
                "project": "team-a",
                "source": {"repoURL": "file:///r", "path": "."},
                "destination": {"namespace": "apps"},
            },
        }))
        .expect("an Application");
        let mut status = crate::api::ApplicationStatus::default();
        // Oldest first here; status.history is newest first.
        for (i, (revision, result)) in history.iter().enumerate() {
            status.history.insert(
                0,
                RevisionHistory {
                    id: i as i64,
                    revision: (*revision).to_owned(),
                    result: Some((*result).to_owned()),
                    ..RevisionHistory::default()
                },
            );
        }
        app.status = Some(status);
        app
    }

    fn outcome(phase: OperationPhase, revision: &str) -> Outcome {
        let finished_at: Timestamp = "2026-01-01T00:10:00Z".parse().expect("time");
        Outcome {
            phase,
            message: String::new(),
            revision: Some(revision.to_owned()),
            resources: Vec::new(),
            inventory: Vec::new(),
            sync_status: SyncStatusCode::Synced,
            health: HealthStatus {
                status: HealthStatusCode::Healthy,
                message: None,
            },
            retryable: false,
            started_at: finished_at,
            finished_at,
            trigger: Trigger::Poll,
            mode: Mode::Apply,
            span: tracing::Span::none(),
            trace_id: None,
            telemetry: SyncTelemetry {
                revision: Some(revision.to_owned()),
                fetch: Some(Duration::from_millis(20)),
                render: Some(Duration::from_millis(5)),
                // 600 s before finished_at
                committed_at: Some(finished_at.as_second() - 600),
            },
        }
    }

    #[test]
    fn a_new_revision_is_a_deployment_with_its_lead_time() {
        let d = deployment(
            &app(&[("a", "Succeeded")]),
            &outcome(OperationPhase::Succeeded, "b"),
            None,
        );
        assert_eq!(d.and_then(|d| d.lead_time), Some(600.0));
    }

    #[test]
    fn the_deployed_revision_again_is_no_deployment() {
        let app = app(&[("a", "Succeeded")]);
        assert!(deployment(&app, &outcome(OperationPhase::Succeeded, "a"), None).is_none());
        let mut compare = outcome(OperationPhase::Succeeded, "b");
        compare.mode = Mode::Compare;
        assert!(deployment(&app, &compare, None).is_none());
    }

    #[test]
    fn a_failed_revision_counts_once_and_its_later_success_counts() {
        let before = app(&[("a", "Succeeded")]);
        assert!(deployment(&before, &outcome(OperationPhase::Failed, "b"), None).is_some());
        let failed_once = app(&[("a", "Succeeded"), ("b", "Failed")]);
        assert!(deployment(&failed_once, &outcome(OperationPhase::Failed, "b"), None).is_none());
        assert!(deployment(&failed_once, &outcome(OperationPhase::Succeeded, "b"), None).is_some());
        // A sync refused before applying leaves no history: the agent remembers.
        let mut refused = outcome(OperationPhase::Error, "b");
        refused.revision = None;
        refused.telemetry.revision = Some("b".to_owned());
        assert!(deployment(&before, &refused, None).is_some());
        assert!(deployment(&before, &refused, Some("b")).is_none());
    }

    #[test]
    fn app_info_follows_the_state_and_counters_add_up() {
        let metrics = Metrics::default();
        let app = app(&[]);
        metrics.record_sync(
            &app,
            &outcome(OperationPhase::Succeeded, "a"),
            Duration::from_secs(1),
        );
        let mut failed = outcome(OperationPhase::Failed, "b");
        failed.sync_status = SyncStatusCode::OutOfSync;
        failed.health.status = HealthStatusCode::Degraded;
        metrics.record_sync(&app, &failed, Duration::from_secs(2));
        let text = metrics.encode();
        assert!(text.contains(
            "skiff_app_info{name=\"web\",project=\"team-a\",sync_status=\"OutOfSync\",health_status=\"Degraded\"} 1"
        ), "{text}");
        assert!(
            !text.contains("sync_status=\"Synced\""),
            "old state replaced: {text}"
        );
        assert!(
            text.contains("skiff_app_sync_total{name=\"web\",phase=\"Succeeded\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("skiff_app_sync_total{name=\"web\",phase=\"Failed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("skiff_app_sync_duration_seconds_count{name=\"web\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("skiff_git_fetch_duration_seconds_count 2"),
            "{text}"
        );
        assert!(
            text.contains("skiff_render_duration_seconds_count 2"),
            "{text}"
        );
        assert!(
            text.contains("skiff_deployments_total{name=\"web\",result=\"Succeeded\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("skiff_deployments_total{name=\"web\",result=\"Failed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("skiff_deployment_lead_time_seconds_sum{name=\"web\"} 600.0"),
            "{text}"
        );

        metrics.forget_app("web");
        assert!(!metrics.encode().contains("skiff_app_info{"), "forgotten");
    }
}
