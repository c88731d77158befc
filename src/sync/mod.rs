//! One sync operation, read top to bottom as its named steps:
//! fetch -> render -> validate -> (diff and apply, step by step) -> prune ->
//! wait for health -> outcome. The caller records the outcome (`record`).
//!
//! Nothing is applied unless fetch, render and every check before the first
//! apply succeeded, and nothing is pruned unless every object applied: a bad
//! commit never changes the cluster and never deletes what it forgot to render.

pub mod project;
pub mod prune;
pub mod record;
pub mod validate;
mod wait;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt, stream};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use tracing::{Instrument, field, info, info_span, warn};

use crate::api::{
    AppProject, Application, HealthStatus, HealthStatusCode, ResourceIgnoreDifferences,
    SyncStatusCode,
};
use crate::apply::plan::{Group, Phase, plan};
use crate::apply::ssa::{Applier, ApplyOptions, FIELD_MANAGER, api_message};
use crate::apply::{ObjectKey, diff};
use crate::render::{Target, render_source};
use crate::source::credentials;
use crate::source::git::{GitCache, path_in, redact};
use crate::source::helm_repo::{HelmRepoCache, RepoAuth};
use validate::{Keyed, KeyedStep, inventory_keys, key_steps};

/// Names the Secret (in the credentials namespace) that holds the source's
/// credentials, instead of finding one by URL; the agent sets it on the root
/// Application from `fleet.secretRef`.
pub const CREDENTIALS_ANNOTATION: &str = "skiff.dev/credentials-secret";

/// Why a sync was started; recorded on its span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Someone ran `skiff apply`/`skiff sync`, or the trigger annotation changed.
    Manual,
    /// The interval came round, or Git moved.
    Poll,
    /// The `skiff.dev/requested-at` annotation changed.
    Annotation,
    /// Drift was found and self-heal is on.
    SelfHeal,
    /// A failed sync is being retried.
    Retry,
}

impl Trigger {
    /// The name recorded in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Poll => "poll",
            Trigger::Annotation => "annotation",
            Trigger::SelfHeal => "self-heal",
            Trigger::Retry => "retry",
        }
    }
}

/// Apply, or only compare (status, `skiff diff`, automation off).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Make the cluster match.
    Apply,
    /// Report what differs; change nothing.
    Compare,
}

/// What a sync is asked to do.
#[derive(Clone, Debug)]
pub struct SyncRequest {
    /// A revision to use instead of `spec.source.targetRevision` (rollback).
    pub revision: Option<String>,
    /// Why the sync runs.
    pub trigger: Trigger,
    /// Apply or compare.
    pub mode: Mode,
    /// Whether objects no longer rendered may be deleted.
    pub prune: bool,
    /// The inventory of the previous sync (`status.resources`).
    pub previous: Vec<ObjectKey>,
    /// Automated sync: with `mode` Apply, apply only when the revision moved
    /// or self-heal is on; otherwise compare. `None` does what `mode` says.
    pub auto: Option<AutoSync>,
}

/// What automated sync needs to decide between applying and comparing.
#[derive(Clone, Debug, Default)]
pub struct AutoSync {
    /// The revision of the last sync operation (`status.history[0]`).
    pub last_revision: Option<String>,
    /// Correct drift even when the revision did not move.
    pub self_heal: bool,
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationPhase {
    /// Everything applied (and healthy, when waited for).
    Succeeded,
    /// Applying failed part way, or the objects did not become healthy.
    Failed,
    /// The sync could not start: fetch, render or a check failed; nothing changed.
    Error,
}

impl fmt::Display for OperationPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OperationPhase::Succeeded => "Succeeded",
            OperationPhase::Failed => "Failed",
            OperationPhase::Error => "Error",
        })
    }
}

/// What happened to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// It did not exist and was created.
    Created,
    /// It differed and was applied.
    Configured,
    /// It already matched.
    Unchanged,
    /// It would be created or changed (compare mode).
    WouldApply,
    /// It is no longer rendered and was deleted.
    Pruned,
    /// It is no longer rendered but pruning is off; it stays (OutOfSync).
    RequiresPruning,
    /// It is no longer rendered but says it must never be pruned.
    PruneDisabled,
    /// It is no longer rendered but another owner has it now; left alone.
    NotOurs,
    /// A hook that ran.
    HookRan,
    /// Applying or checking it failed.
    Failed,
}

/// The result for one object.
#[derive(Clone, Debug)]
pub struct ResourceResult {
    /// Which object.
    pub key: ObjectKey,
    /// Whether live matches desired after the operation.
    pub status: SyncStatusCode,
    /// Its health, when assessed.
    pub health: Option<HealthStatus>,
    /// What was done.
    pub action: Action,
    /// Why, for failures and skipped prunes.
    pub message: Option<String>,
    /// The difference found (Secret values redacted), when an existing
    /// object differed or, comparing only, a missing one would be created.
    pub diff: Option<String>,
}

/// The outcome of a sync, for `record` and for the command line.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How it ended.
    pub phase: OperationPhase,
    /// What happened, in a sentence.
    pub message: String,
    /// The resolved revision (commit), when the fetch got that far.
    pub revision: Option<String>,
    /// Per-object results, in the order they were handled.
    pub resources: Vec<ResourceResult>,
    /// The inventory to record: what this Application now owns in the cluster.
    pub inventory: Vec<ObjectKey>,
    /// Whether the cluster matches the source.
    pub sync_status: SyncStatusCode,
    /// The health of the Application's objects.
    pub health: HealthStatus,
    /// Whether trying again may help (network, API server, conflicts on
    /// status), as opposed to a problem in the source or its rules.
    pub retryable: bool,
    /// When it started and ended.
    pub started_at: Timestamp,
    /// When it ended.
    pub finished_at: Timestamp,
    /// The trigger, for history and events.
    pub trigger: Trigger,
    /// What the sync did in the end: applied, or only compared.
    pub mode: Mode,
    /// The sync's root span, kept open so the controller can add what it
    /// decides afterwards (`retry.scheduled`, `window.blocked`) to the same trace.
    pub span: tracing::Span,
    /// The OpenTelemetry trace of this sync, when traces are exported.
    pub trace_id: Option<String>,
    /// Phase durations and what was fetched, for metrics and logs.
    pub telemetry: SyncTelemetry,
}

/// What the agent's metrics and logs need beyond the outcome: phase
/// durations (fetch and render histograms), and the commit fetched with its
/// time (deployment lead time), known even when the sync stopped before
/// applying it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncTelemetry {
    /// The revision (commit) the fetch resolved.
    pub revision: Option<String>,
    /// The fetch of the source, when it was tried.
    pub fetch: Option<Duration>,
    /// The render, when it was tried.
    pub render: Option<Duration>,
    /// The committer time of the synced Git commit, in seconds since the epoch.
    pub committed_at: Option<i64>,
}

impl Outcome {
    /// Whether anything in the cluster was created, changed or deleted.
    pub fn changed_cluster(&self) -> bool {
        self.resources.iter().any(|r| {
            matches!(
                r.action,
                Action::Created | Action::Configured | Action::Pruned | Action::HookRan
            )
        })
    }
}

/// Tunables of the engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Requests in flight at once within one step of one sync.
    pub concurrency: usize,
    /// How long to wait for objects (and hooks) to become healthy.
    pub health_timeout: Duration,
    /// Whether to wait for health at all after applying.
    pub wait: bool,
    /// How long a Git fetch may stall.
    pub git_timeout: Duration,
    /// Where the agent keeps repository credentials Secrets (`None`: the
    /// Application's namespace).
    pub credentials_namespace: Option<String>,
    /// Where chart archives from Helm repositories are cached.
    pub chart_cache: Option<PathBuf>,
    /// How old a Git fetch a poll may reuse (the agent sets its interval).
    pub fetch_max_age: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            concurrency: 16,
            health_timeout: Duration::from_secs(300),
            wait: true,
            git_timeout: Duration::from_secs(60),
            credentials_namespace: None,
            chart_cache: None,
            fetch_max_age: Duration::ZERO,
        }
    }
}

/// Syncs Applications into the cluster its client talks to.
pub struct Engine {
    applier: Applier,
    git: Arc<GitCache>,
    charts: HelmRepoCache,
    options: EngineOptions,
    capabilities: tokio::sync::Mutex<Option<(Instant, Arc<skiff_helm::Capabilities>)>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A failure before anything was applied.
struct Refusal {
    step: &'static str,
    message: String,
    retryable: bool,
}

impl Refusal {
    fn permanent(step: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            step,
            message: message.into(),
            retryable: false,
        }
    }
}

/// A fetched and rendered source.
struct Rendered {
    revision: String,
    steps: Vec<KeyedStep>,
}

impl Engine {
    /// An engine applying through `client`, with Git checkouts cached in `git`.
    pub fn new(client: Client, git: Arc<GitCache>, options: EngineOptions) -> Engine {
        let chart_cache = options
            .chart_cache
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("skiff-charts"));
        Engine {
            applier: Applier::new(client),
            charts: HelmRepoCache::new(chart_cache, options.git_timeout),
            git,
            options,
            capabilities: tokio::sync::Mutex::new(None),
        }
    }

    /// The applier (and its discovery cache).
    pub fn applier(&self) -> &Applier {
        &self.applier
    }

    /// Runs one sync of `app` and returns what happened; never panics on bad
    /// input, and changes nothing when the source cannot be rendered or checked.
    pub async fn sync(&self, app: &Application, request: &SyncRequest) -> Outcome {
        let name = app.metadata.name.clone().unwrap_or_default();
        let namespace = app.metadata.namespace.clone().unwrap_or_default();
        let source = &app.spec.source;
        let span = info_span!(
            "sync",
            otel.name = %format!("sync {namespace}/{name}"),
            app = %name,
            namespace = %namespace,
            project = %app.spec.project,
            repo = %redact(&source.repo_url),
            path = %source.path.as_deref().unwrap_or("."),
            trigger = request.trigger.as_str(),
            mode = ?request.mode,
            revision = field::Empty,
            result = field::Empty,
            otel.status_code = field::Empty,
        );
        let trace_id = crate::telemetry::traces::trace_id(&span);
        let mut telemetry = SyncTelemetry::default();
        let started_at = Timestamp::now();
        let prepared = self
            .prepare(app, request, &mut telemetry)
            .instrument(span.clone())
            .await;
        let mut outcome = match prepared {
            Ok(rendered) => {
                span.record("revision", rendered.revision.as_str());
                self.execute(app, request, rendered)
                    .instrument(span.clone())
                    .await
            }
            Err(refusal) => {
                span.in_scope(|| {
                    warn!(step = refusal.step, error = %refusal.message, "sync.error");
                });
                // Automated, and Git has not moved since the last operation:
                // the same source fails the same way, so this is a comparison
                // error, not one more failed operation (Argo CD skips an
                // automated sync of a revision whose last attempt failed).
                let mode = match (&request.auto, &telemetry.revision) {
                    (Some(auto), Some(fetched)) if auto.last_revision.as_ref() == Some(fetched) => {
                        Mode::Compare
                    }
                    _ => request.mode,
                };
                Outcome {
                    phase: OperationPhase::Error,
                    message: format!("{}: {}", refusal.step, refusal.message),
                    revision: telemetry.revision.clone(),
                    resources: Vec::new(),
                    inventory: request.previous.clone(),
                    sync_status: SyncStatusCode::Unknown,
                    health: HealthStatus {
                        status: HealthStatusCode::Unknown,
                        message: None,
                    },
                    retryable: refusal.retryable,
                    started_at,
                    finished_at: started_at,
                    trigger: request.trigger,
                    mode,
                    span: tracing::Span::none(),
                    trace_id: None,
                    telemetry: SyncTelemetry::default(),
                }
            }
        };
        outcome.trace_id = trace_id;
        if let Some(revision) = &telemetry.revision {
            // A sync refused after the fetch still names what it refused.
            span.record("revision", revision.as_str());
        }
        outcome.telemetry = telemetry;
        outcome.span = span.clone();
        outcome.started_at = started_at;
        outcome.finished_at = Timestamp::now();
        span.record("result", outcome.phase.to_string().as_str());
        if outcome.phase != OperationPhase::Succeeded {
            span.record("otel.status_code", "ERROR");
        }
        outcome
    }

    /// fetch -> render -> validate: everything that must succeed before the
    /// cluster is touched.
    async fn prepare(
        &self,
        app: &Application,
        request: &SyncRequest,
        telemetry: &mut SyncTelemetry,
    ) -> Result<Rendered, Refusal> {
        let name = app.metadata.name.clone().unwrap_or_default();
        let app_namespace = app.metadata.namespace.clone().unwrap_or_default();
        let source = &app.spec.source;
        let destination = destination_namespace(app);

        check_destination(app)?;
        let project = self.project(app).await?;
        let rules = project::Rules {
            name: &app.spec.project,
            spec: project.as_ref().map(|p| &p.spec),
        };
        // The repository is checked before it is fetched.
        rules
            .check(&source.repo_url, &destination, &[])
            .map_err(|v| Refusal::permanent("project", v.to_string()))?;

        // fetch
        let fetch_started = Instant::now();
        let fetched = self
            .fetch(app, request, &app_namespace, telemetry)
            .instrument(info_span!("fetch"))
            .await;
        telemetry.fetch = Some(fetch_started.elapsed());
        let (repo_root, dir, revision) = fetched?;
        telemetry.revision = Some(revision.clone());
        info!(revision = %revision, "source.fetched");

        // render
        let capabilities = self.capabilities().await;
        let render_started = Instant::now();
        let manifests = {
            let source = source.clone();
            let (name, destination) = (name.clone(), destination.clone());
            let rendered = tokio::task::spawn_blocking(move || {
                let target = Target {
                    app: &name,
                    namespace: &destination,
                    capabilities: &capabilities,
                };
                render_source(&repo_root, &dir, &source, &target)
            })
            .instrument(info_span!("render"))
            .await;
            telemetry.render = Some(render_started.elapsed());
            rendered
                .map_err(|e| Refusal::permanent("render", format!("renderer crashed: {e}")))?
                .map_err(|e| Refusal::permanent("render", e.to_string()))?
        };
        info!(objects = manifests.len(), "render.completed");

        // validate
        let steps = plan(manifests).map_err(|e| Refusal::permanent("validate", e.to_string()))?;
        let steps = key_steps(&self.applier, steps, &destination)
            .await
            .map_err(|e| Refusal::permanent("validate", e))?;
        let keys = inventory_keys(&steps);
        let allow_empty = app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.automated.as_ref())
            .is_some_and(|a| a.allow_empty);
        if keys.is_empty() && !allow_empty && request.mode == Mode::Apply {
            return Err(Refusal::permanent(
                "validate",
                "the source rendered no objects; refusing to sync (and prune everything) unless spec.syncPolicy.automated.allowEmpty is true",
            ));
        }
        let hooks: Vec<ObjectKey> = steps
            .iter()
            .filter(|s| s.step.hook)
            .flat_map(|s| s.objects.iter().map(|o| o.key.clone()))
            .collect();
        let all: Vec<ObjectKey> = keys.iter().chain(&hooks).cloned().collect();
        rules
            .check(&source.repo_url, &destination, &all)
            .map_err(|v| Refusal::permanent("project", v.to_string()))?;
        Ok(Rendered { revision, steps })
    }

    /// Resolves credentials and checks the source out.
    async fn fetch(
        &self,
        app: &Application,
        request: &SyncRequest,
        app_namespace: &str,
        telemetry: &mut SyncTelemetry,
    ) -> Result<(PathBuf, PathBuf, String), Refusal> {
        let source = &app.spec.source;
        let secrets_namespace = self
            .options
            .credentials_namespace
            .clone()
            .unwrap_or_else(|| app_namespace.to_owned());
        let named = app
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(CREDENTIALS_ANNOTATION));
        let creds = match named {
            Some(secret) => {
                credentials::from_named_secret(self.applier.client(), &secrets_namespace, secret)
                    .await
                    .map(Some)
            }
            None => {
                credentials::for_repository(
                    self.applier.client(),
                    &secrets_namespace,
                    &source.repo_url,
                )
                .await
            }
        }
        .map_err(|message| Refusal {
            step: "fetch",
            message,
            retryable: true,
        })?;
        let revision = request
            .revision
            .clone()
            .or_else(|| source.target_revision.clone())
            .unwrap_or_default();
        if let Some(chart) = &source.chart {
            return self.fetch_chart(source, chart, &revision, creds).await;
        }
        // Polls may reuse a recent fetch; a request from a person never does.
        // Either way a fetch that finished after this sync began is shared.
        let max_age = match request.trigger {
            Trigger::Manual | Trigger::Annotation => Duration::ZERO,
            Trigger::Poll | Trigger::SelfHeal | Trigger::Retry => self.options.fetch_max_age,
        };
        let since = Instant::now()
            .checked_sub(max_age)
            .unwrap_or_else(Instant::now);
        let git = self.git.clone();
        let url = source.repo_url.clone();
        let checkout = tokio::task::spawn_blocking(move || {
            git.checkout_fresh_since(&url, &revision, creds.as_ref(), since)
        })
        .await
        .map_err(|e| Refusal::permanent("fetch", format!("fetch crashed: {e}")))?
        .map_err(|e| Refusal {
            step: "fetch",
            retryable: is_transient_git_error(&e.message),
            message: e.to_string(),
        })?;
        let dir = path_in(&checkout, source.path.as_deref().unwrap_or("."))
            .map_err(|e| Refusal::permanent("fetch", format!("spec.source.path: {e}")))?;
        telemetry.committed_at = checkout.committed_at;
        Ok((checkout.dir.clone(), dir, checkout.commit.clone()))
    }

    /// A chart from a Helm repository: the archive is the source folder.
    async fn fetch_chart(
        &self,
        source: &crate::api::ApplicationSource,
        chart: &str,
        version: &str,
        creds: Option<crate::source::git::GitCredentials>,
    ) -> Result<(PathBuf, PathBuf, String), Refusal> {
        if source
            .helm
            .as_ref()
            .is_some_and(|h| !h.value_files.is_empty())
        {
            return Err(Refusal::permanent(
                "fetch",
                "spec.source.helm.valueFiles: not available for a chart from a Helm repository (use values or valuesObject)",
            ));
        }
        let auth = match creds {
            Some(crate::source::git::GitCredentials::Basic { username, password }) => {
                Some(RepoAuth::Basic { username, password })
            }
            _ => None,
        };
        let fetched = self
            .charts
            .fetch_chart(
                &source.repo_url,
                chart,
                Some(version).filter(|v| !v.is_empty()),
                auth.as_ref(),
            )
            .await
            .map_err(|e| Refusal {
                step: "fetch",
                retryable: e.is_transient(),
                message: e.to_string(),
            })?;
        let root = fetched
            .archive
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        Ok((root, fetched.archive, fetched.version))
    }

    /// The Application's project, or `None` for the implicit default project.
    async fn project(&self, app: &Application) -> Result<Option<AppProject>, Refusal> {
        let namespace = app.metadata.namespace.clone().unwrap_or_default();
        let api: Api<AppProject> = Api::namespaced(self.applier.client().clone(), &namespace);
        let name = &app.spec.project;
        // Without the AppProject CRD installed there are no projects at all.
        let found = match api.get_opt(name).await {
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            other => other,
        };
        match found {
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) if name == "default" => Ok(None),
            Ok(None) => Err(Refusal::permanent(
                "project",
                format!("spec.project: AppProject {namespace}/{name} does not exist"),
            )),
            Err(e) => Err(Refusal {
                step: "project",
                message: format!("reading AppProject {namespace}/{name}: {}", api_message(e)),
                retryable: true,
            }),
        }
    }

    /// The cluster's version and APIs for Helm's `.Capabilities`, refreshed
    /// once a minute (so a CRD installed by one sync is seen by the next).
    async fn capabilities(&self) -> Arc<skiff_helm::Capabilities> {
        let mut cached = self.capabilities.lock().await;
        if let Some((at, caps)) = cached.as_ref()
            && at.elapsed() < Duration::from_secs(60)
        {
            return caps.clone();
        }
        let caps = Arc::new(discover_capabilities(self.applier.client()).await);
        *cached = Some((Instant::now(), caps.clone()));
        caps
    }

    /// diff and apply step by step, prune, wait for health.
    async fn execute(
        &self,
        app: &Application,
        request: &SyncRequest,
        rendered: Rendered,
    ) -> Outcome {
        let name = app.metadata.name.clone().unwrap_or_default();
        let destination = destination_namespace(app);
        let sync_options = app
            .spec
            .sync_policy
            .as_ref()
            .map(|p| p.sync_options.clone())
            .unwrap_or_default();
        let has_option = |o: &str| sync_options.iter().any(|s| s.trim() == o);
        let apply_options = ApplyOptions {
            application: &name,
            default_namespace: &destination,
            force: has_option("Force=true"),
            dry_run: false,
        };
        let mut ctx = Ctx {
            apply: apply_options,
            ignore: &app.spec.ignore_differences,
            checked: Default::default(),
        };
        let desired = inventory_keys(&rendered.steps);
        let mode = match (&request.auto, request.mode) {
            (Some(auto), Mode::Apply)
                if !auto.self_heal
                    && auto.last_revision.as_deref() == Some(rendered.revision.as_str()) =>
            {
                // Automated without self-heal: Git did not move, so drift is
                // reported, not corrected.
                Mode::Compare
            }
            (_, mode) => mode,
        };
        let mut outcome = Outcome {
            phase: OperationPhase::Succeeded,
            message: String::new(),
            revision: Some(rendered.revision.clone()),
            resources: Vec::new(),
            inventory: Vec::new(),
            sync_status: SyncStatusCode::Synced,
            health: HealthStatus {
                status: HealthStatusCode::Healthy,
                message: None,
            },
            retryable: false,
            started_at: Timestamp::now(),
            finished_at: Timestamp::now(),
            trigger: request.trigger,
            mode,
            span: tracing::Span::none(),
            trace_id: None,
            telemetry: SyncTelemetry::default(),
        };

        if mode == Mode::Compare {
            self.compare_all(&ctx, &rendered.steps, request, &desired, &mut outcome)
                .instrument(info_span!("diff"))
                .await;
            return outcome;
        }

        if has_option("CreateNamespace=true")
            && let Err(e) = self.create_namespace(&destination).await
        {
            outcome.phase = OperationPhase::Failed;
            outcome.message = e;
            outcome.retryable = true;
            outcome.inventory = request.previous.clone();
            outcome.sync_status = SyncStatusCode::OutOfSync;
            return outcome;
        }

        // preflight: every object the server can judge now is dry-run before
        // anything is applied, so one it would refuse stops the whole sync
        // with the cluster untouched (no partial apply).
        match self
            .preflight(&ctx, &rendered.steps)
            .instrument(info_span!("preflight"))
            .await
        {
            Ok(checked) => ctx.checked = checked,
            Err((message, retryable)) => {
                outcome.phase = OperationPhase::Error;
                outcome.message = format!("validate: the API server refuses the source: {message}");
                outcome.retryable = retryable;
                outcome.inventory = request.previous.clone();
                outcome.sync_status = SyncStatusCode::OutOfSync;
                tracing::error!(error = %message, "sync.failed");
                return outcome;
            }
        }

        // apply, step by step; a failing step stops the sync before the next.
        let mut applied: Vec<ObjectKey> = Vec::new();
        let mut failure: Option<String> = None;
        let mut pruned = false;
        let last_object_step = rendered
            .steps
            .iter()
            .rposition(|s| s.step.phase == Phase::Sync);
        for (index, keyed) in rendered.steps.iter().enumerate() {
            let step = &keyed.step;
            if step.phase == Phase::SyncFail {
                continue;
            }
            if step.phase == Phase::PostSync && !self.options.wait {
                // PostSync hooks run once everything is healthy; without
                // waiting that is unknown.
                continue;
            }
            let span = info_span!(
                "apply",
                otel.name = %format!("apply {:?} wave {}", step.phase, step.wave),
                phase = ?step.phase,
                wave = step.wave,
                hook = step.hook,
                objects = keyed.objects.len(),
            );
            let results = if step.hook {
                self.run_hooks(&ctx, &keyed.objects)
                    .instrument(span.clone())
                    .await
            } else {
                self.apply_objects(&ctx, &keyed.objects)
                    .instrument(span.clone())
                    .await
            };
            let failed: Vec<String> = results
                .iter()
                .filter(|r| r.action == Action::Failed)
                .map(|r| format!("{}: {}", r.key, r.message.as_deref().unwrap_or("failed")))
                .collect();
            span.in_scope(|| {
                let differing = results
                    .iter()
                    .filter(|r| !matches!(r.action, Action::Unchanged))
                    .count();
                info!(wave = step.wave, out_of_sync = differing, "diff.computed");
                info!(
                    phase = ?step.phase,
                    wave = step.wave,
                    objects = keyed.objects.len(),
                    failed = failed.len(),
                    "apply.wave"
                );
            });
            if !step.hook {
                applied.extend(
                    results
                        .iter()
                        .filter(|r| r.action != Action::Failed)
                        .map(|r| r.key.clone()),
                );
            }
            outcome.resources.extend(results);
            if !failed.is_empty() {
                failure = Some(failed.join("; "));
                break;
            }
            if step.group == Group::Crds {
                if let Err(e) = self.wait_crds(&keyed.objects).await {
                    failure = Some(e);
                    break;
                }
                continue;
            }
            // Argo CD's wave semantics: a wave must be healthy before the next.
            let more_to_come = last_object_step.is_some_and(|last| index < last);
            if !step.hook && step.group == Group::Objects && more_to_come && self.options.wait {
                let keys: Vec<ObjectKey> = keyed.objects.iter().map(|o| o.key.clone()).collect();
                let healths = wait::healthy(&self.applier, &keys, self.options.health_timeout)
                    .instrument(info_span!("health", wave = step.wave))
                    .await;
                if let Some(problem) = wait::problem(&keys, &healths) {
                    failure = Some(format!(
                        "wave {} did not become healthy: {problem}",
                        step.wave
                    ));
                    break;
                }
            }
            if index == last_object_step.unwrap_or(usize::MAX) && !has_option("PruneLast=true") {
                self.prune_into(&name, request, &desired, &mut outcome)
                    .instrument(info_span!("prune"))
                    .await;
                pruned = true;
            }
        }
        if failure.is_none() && !pruned && !has_option("PruneLast=true") {
            // Nothing rendered in the Sync phase (an allowed empty render).
            self.prune_into(&name, request, &desired, &mut outcome)
                .instrument(info_span!("prune"))
                .await;
        }

        if let Some(message) = failure {
            // Nothing is pruned after a failure; what was applied stays tracked.
            outcome.inventory = union(&request.previous, &applied);
            outcome.phase = OperationPhase::Failed;
            outcome.message = format!("sync failed: {message}");
            outcome.sync_status = SyncStatusCode::OutOfSync;
            outcome.retryable = is_transient_api_error(&message);
            tracing::error!(error = %message, "sync.failed");
            self.run_sync_fail_hooks(&ctx, &rendered.steps, &mut outcome)
                .await;
            return outcome;
        }

        // health: everything the sync owns
        if self.options.wait && !desired.is_empty() {
            let healths = wait::healthy(&self.applier, &desired, self.options.health_timeout)
                .instrument(info_span!("health"))
                .await;
            for (key, health) in desired.iter().zip(&healths) {
                if let Some(r) = outcome.resources.iter_mut().find(|r| &r.key == key) {
                    r.health = Some(health.clone());
                }
            }
            outcome.health = crate::apply::health::aggregate(&healths);
            match wait::problem(&desired, &healths) {
                None => info!("health.ready"),
                Some(problem) => {
                    outcome.phase = OperationPhase::Failed;
                    outcome.message = format!("objects did not become healthy: {problem}");
                    outcome.retryable = true;
                }
            }
        }
        if has_option("PruneLast=true") {
            if outcome.phase == OperationPhase::Succeeded {
                self.prune_into(&name, request, &desired, &mut outcome)
                    .instrument(info_span!("prune"))
                    .await;
            } else {
                // Not pruned: keep tracking what the last inventory had.
                outcome.inventory = union(&request.previous, &desired);
            }
        }
        if outcome.inventory.is_empty() {
            outcome.inventory = desired.clone();
        }
        if outcome.phase == OperationPhase::Succeeded {
            let changed = outcome
                .resources
                .iter()
                .filter(|r| {
                    matches!(
                        r.action,
                        Action::Created | Action::Configured | Action::Pruned
                    )
                })
                .count();
            outcome.message = format!(
                "synced {} objects at {} ({changed} changed)",
                desired.len(),
                short(&rendered.revision)
            );
            if outcome
                .resources
                .iter()
                .any(|r| r.action == Action::RequiresPruning)
            {
                outcome.sync_status = SyncStatusCode::OutOfSync;
            }
        }
        outcome
    }

    /// Applies the objects of one step concurrently: each is compared with
    /// its live copy by a server-side dry run and applied only if it differs.
    async fn apply_objects(&self, ctx: &Ctx<'_>, objects: &[Keyed]) -> Vec<ResourceResult> {
        self.reconcile_all(ctx, objects.iter(), true).await
    }

    /// Dry-runs every non-hook object of the Sync phase whose kind and
    /// namespace exist now. Objects that need an earlier step (a CRD or a
    /// Namespace in the same source) are left to their step. The refusals,
    /// all of them, and whether trying later could help.
    async fn preflight(
        &self,
        ctx: &Ctx<'_>,
        steps: &[KeyedStep],
    ) -> Result<std::collections::HashMap<ObjectKey, serde_json::Value>, (String, bool)> {
        // Unforced first, as the real apply will be; a conflict on an object
        // this Application already manages is drift it will correct (forced),
        // a conflict on any other object is refused here.
        let dry = ApplyOptions {
            dry_run: true,
            ..ctx.apply.clone()
        };
        let forced = ApplyOptions {
            force: true,
            ..dry.clone()
        };
        let app = ctx.apply.application;
        // Objects in a namespace this sync creates cannot be judged yet.
        let new_namespaces: Vec<&str> = steps
            .iter()
            .filter(|s| s.step.group == Group::Namespaces)
            .flat_map(|s| s.objects.iter().map(|o| o.key.name.as_str()))
            .collect();
        let objects = steps
            .iter()
            .filter(|s| !s.step.hook && s.step.phase == Phase::Sync)
            .flat_map(|s| s.objects.iter())
            .filter(|o| {
                o.key
                    .namespace
                    .as_deref()
                    .is_none_or(|ns| !new_namespaces.contains(&ns))
            });
        let futures: Vec<_> = objects
            .map(|o| {
                let (dry, forced) = (dry.clone(), forced.clone());
                async move {
                    let mut result = self.applier.apply(&o.manifest, &dry).await;
                    if let Err(e) = &result
                        && e.message.contains("(409 Conflict)")
                        && let Ok(Some(live)) = self.applier.get(&o.key).await
                        && prune::verdict(&serde_json::to_value(&live).unwrap_or_default(), app)
                            != prune::Verdict::NotOurs
                    {
                        result = self.applier.apply(&o.manifest, &forced).await;
                    }
                    (o.key.clone(), result)
                }
            })
            .collect();
        let results: Vec<_> = stream::iter(futures)
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        let mut checked = std::collections::HashMap::new();
        let mut refusals = Vec::new();
        let mut retryable = false;
        for (key, result) in results {
            match result {
                Ok(object) => {
                    checked.insert(key, serde_json::to_value(&object).unwrap_or_default());
                }
                Err(e) if needs_an_earlier_step(&e.message) => {}
                Err(e) => {
                    retryable |= is_transient_api_error(&e.message) && !e.message.contains("(500 ");
                    refusals.push(e.to_string());
                }
            }
        }
        if refusals.is_empty() {
            Ok(checked)
        } else {
            refusals.sort();
            Err((refusals.join("; "), retryable))
        }
    }

    /// `reconcile` of every object, `concurrency` at a time, results in order.
    async fn reconcile_all<'a>(
        &self,
        ctx: &Ctx<'_>,
        objects: impl Iterator<Item = &'a Keyed>,
        apply: bool,
    ) -> Vec<ResourceResult> {
        // The futures are made up front (not in a stream closure), so the
        // sync future stays provably Send for the controller.
        let futures: Vec<_> = objects
            .enumerate()
            .map(|(i, o)| self.reconcile(ctx, o, apply).map(move |r| (i, r)))
            .collect();
        let mut results: Vec<(usize, ResourceResult)> = stream::iter(futures)
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// One object: read live, dry-run, compare, and (when applying) apply if different.
    async fn reconcile(&self, ctx: &Ctx<'_>, object: &Keyed, apply: bool) -> ResourceResult {
        let key = object.key.clone();
        let fail = |message: String| ResourceResult {
            key: key.clone(),
            status: SyncStatusCode::OutOfSync,
            health: None,
            action: Action::Failed,
            message: Some(message),
            diff: None,
        };
        let checked = ctx.checked.get(&key);
        // A dry run of an object that does not exist yet comes back without
        // a resourceVersion: no need to read it.
        let known_new = checked.is_some_and(|c| {
            c["metadata"]["resourceVersion"]
                .as_str()
                .is_none_or(str::is_empty)
        });
        let live = if known_new {
            None
        } else {
            match self.applier.get(&key).await {
                Ok(live) => live,
                Err(e) => return fail(e),
            }
        };
        let Some(live) = live else {
            if !apply {
                let diff = diff::compare(&object.manifest.object, None, ctx.ignore).diff;
                return ResourceResult {
                    key,
                    status: SyncStatusCode::OutOfSync,
                    health: Some(HealthStatus {
                        status: HealthStatusCode::Missing,
                        message: None,
                    }),
                    action: Action::WouldApply,
                    message: Some("missing".into()),
                    diff: Some(diff),
                };
            }
            return match self.applier.apply(&object.manifest, &ctx.apply).await {
                Ok(_) => ResourceResult {
                    key,
                    status: SyncStatusCode::Synced,
                    health: None,
                    action: Action::Created,
                    message: None,
                    diff: None,
                },
                Err(e) => fail(e.message),
            };
        };
        // Forced, so that fields another manager took over still show as
        // drift rather than failing the comparison; whether the real apply
        // below forces is decided by ownership and the sync option.
        let dry = ApplyOptions {
            dry_run: true,
            force: true,
            ..ctx.apply.clone()
        };
        let would_be = match checked {
            Some(checked) => checked.clone(),
            None => match self.applier.apply(&object.manifest, &dry).await {
                Ok(o) => serde_json::to_value(&o).unwrap_or_default(),
                Err(e) => return fail(e.message),
            },
        };
        let Ok(live) = serde_json::to_value(&live) else {
            return fail("cannot encode the object as JSON".into());
        };
        // An object this Application already manages is re-asserted even
        // where someone else took fields over: that drift is what GitOps
        // corrects. Objects it does not manage yet are only taken over with
        // the Force=true sync option; otherwise conflicts are reported.
        let ours = prune::verdict(&live, ctx.apply.application) != prune::Verdict::NotOurs;
        let real = ApplyOptions {
            force: ctx.apply.force || ours,
            ..ctx.apply.clone()
        };
        let comparison = diff::compare(&would_be, Some(&live), ctx.ignore);
        if comparison.status == SyncStatusCode::Synced {
            return ResourceResult {
                key,
                status: SyncStatusCode::Synced,
                health: None,
                action: Action::Unchanged,
                message: None,
                diff: None,
            };
        }
        if !apply {
            return ResourceResult {
                key,
                status: SyncStatusCode::OutOfSync,
                health: None,
                action: Action::WouldApply,
                message: None,
                diff: Some(comparison.diff),
            };
        }
        match self.applier.apply(&object.manifest, &real).await {
            Ok(_) => ResourceResult {
                key,
                status: SyncStatusCode::Synced,
                health: None,
                action: Action::Configured,
                message: None,
                diff: Some(comparison.diff),
            },
            Err(e) => fail(e.message),
        }
    }

    /// Compare mode: every desired object against the cluster, plus what a
    /// prune would delete.
    async fn compare_all(
        &self,
        ctx: &Ctx<'_>,
        steps: &[KeyedStep],
        request: &SyncRequest,
        desired: &[ObjectKey],
        outcome: &mut Outcome,
    ) {
        let objects: Vec<&Keyed> = steps
            .iter()
            .filter(|s| !s.step.hook)
            .flat_map(|s| s.objects.iter())
            .collect();
        outcome.resources = self.reconcile_all(ctx, objects.into_iter(), false).await;
        let name = ctx.apply.application;
        for key in prune::candidates(&request.previous, desired) {
            if let Ok(Some(live)) = self.applier.get(&key).await
                && let Ok(live) = serde_json::to_value(&live)
                && prune::verdict(&live, name) == prune::Verdict::Prune
            {
                outcome.resources.push(ResourceResult {
                    key,
                    status: SyncStatusCode::OutOfSync,
                    health: None,
                    action: Action::RequiresPruning,
                    message: Some("no longer in the source".into()),
                    diff: None,
                });
            }
        }
        let differs = outcome
            .resources
            .iter()
            .any(|r| r.status != SyncStatusCode::Synced);
        outcome.sync_status = if differs {
            SyncStatusCode::OutOfSync
        } else {
            SyncStatusCode::Synced
        };
        outcome.inventory = request.previous.clone();
        let out_of_sync = outcome
            .resources
            .iter()
            .filter(|r| r.status != SyncStatusCode::Synced)
            .count();
        outcome.message = format!(
            "{out_of_sync} of {} objects out of sync",
            outcome.resources.len()
        );
        info!(
            out_of_sync,
            objects = outcome.resources.len(),
            "diff.computed"
        );
    }

    /// Deletes what the previous inventory has and the new render lacks, when
    /// allowed; records what stays and why. Sets the outcome's inventory.
    async fn prune_into(
        &self,
        app: &str,
        request: &SyncRequest,
        desired: &[ObjectKey],
        outcome: &mut Outcome,
    ) {
        let mut inventory = desired.to_vec();
        let mut pruned = 0;
        for key in prune::candidates(&request.previous, desired) {
            let live = match self.applier.get(&key).await {
                Ok(Some(live)) => live,
                // Gone already, or its kind is gone: nothing left to own.
                Ok(None) => continue,
                Err(e) => {
                    inventory.push(key.clone());
                    outcome
                        .resources
                        .push(result(&key, Action::Failed, Some(e)));
                    continue;
                }
            };
            let live = serde_json::to_value(&live).unwrap_or_default();
            match prune::verdict(&live, app) {
                prune::Verdict::NotOurs => {
                    outcome.resources.push(result(
                        &key,
                        Action::NotOurs,
                        Some("not labelled as this Application's; left alone".into()),
                    ));
                }
                prune::Verdict::Disabled => {
                    outcome.resources.push(result(
                        &key,
                        Action::PruneDisabled,
                        Some("pruning disabled by annotation; left alone".into()),
                    ));
                }
                prune::Verdict::Prune if !request.prune => {
                    inventory.push(key.clone());
                    outcome.resources.push(ResourceResult {
                        status: SyncStatusCode::OutOfSync,
                        ..result(
                            &key,
                            Action::RequiresPruning,
                            Some("no longer in the source; pruning is off".into()),
                        )
                    });
                }
                prune::Verdict::Prune => match self.applier.delete(&key).await {
                    Ok(_) => {
                        pruned += 1;
                        outcome.resources.push(result(&key, Action::Pruned, None));
                    }
                    Err(e) => {
                        inventory.push(key.clone());
                        outcome
                            .resources
                            .push(result(&key, Action::Failed, Some(e)));
                    }
                },
            }
        }
        info!(pruned, "prune.completed");
        outcome.inventory = inventory;
    }

    /// Deletes every object of `inventory` that is still this Application's
    /// (tracking label) and not marked to be kept; what failed, described.
    pub async fn prune_all(&self, app: &Application, inventory: &[ObjectKey]) -> Vec<String> {
        let name = app.metadata.name.clone().unwrap_or_default();
        let mut failures = Vec::new();
        for key in prune::candidates(inventory, &[]) {
            let live = match self.applier.get(&key).await {
                Ok(Some(live)) => serde_json::to_value(&live).unwrap_or_default(),
                Ok(None) => continue,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            if prune::verdict(&live, &name) == prune::Verdict::Prune
                && let Err(e) = self.applier.delete(&key).await
            {
                failures.push(e);
            }
        }
        failures
    }

    /// Hooks: each recreated per its delete policy, applied, and waited for.
    async fn run_hooks(&self, ctx: &Ctx<'_>, hooks: &[Keyed]) -> Vec<ResourceResult> {
        let mut out = Vec::new();
        for hook in hooks {
            let policies = hook_delete_policies(&hook.manifest.object);
            if policies.contains(&"BeforeHookCreation")
                && let Err(e) = self.delete_and_wait(&hook.key).await
            {
                out.push(result(&hook.key, Action::Failed, Some(e)));
                return out;
            }
            if let Err(e) = self.applier.apply(&hook.manifest, &ctx.apply).await {
                out.push(result(&hook.key, Action::Failed, Some(e.message)));
                return out;
            }
            let keys = [hook.key.clone()];
            let health = wait::healthy(&self.applier, &keys, self.options.health_timeout).await;
            let problem = wait::problem(&keys, &health);
            let succeeded = problem.is_none();
            let delete = (succeeded && policies.contains(&"HookSucceeded"))
                || (!succeeded && policies.contains(&"HookFailed"));
            if delete && let Err(e) = self.applier.delete(&hook.key).await {
                warn!(hook = %hook.key, error = %e, "hook.delete_failed");
            }
            match problem {
                None => out.push(ResourceResult {
                    health: health.into_iter().next(),
                    status: SyncStatusCode::Synced,
                    ..result(&hook.key, Action::HookRan, None)
                }),
                Some(p) => {
                    out.push(result(
                        &hook.key,
                        Action::Failed,
                        Some(format!("hook failed: {p}")),
                    ));
                    return out;
                }
            }
        }
        out
    }

    async fn run_sync_fail_hooks(&self, ctx: &Ctx<'_>, steps: &[KeyedStep], outcome: &mut Outcome) {
        for keyed in steps.iter().filter(|s| s.step.phase == Phase::SyncFail) {
            let results = self.run_hooks(ctx, &keyed.objects).await;
            outcome.resources.extend(results);
        }
    }

    async fn delete_and_wait(&self, key: &ObjectKey) -> Result<(), String> {
        if !self.applier.delete(key).await? {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.applier.get(key).await?.is_some() {
            if Instant::now() > deadline {
                return Err(format!("{key}: previous hook not deleted within 60s"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }

    /// Waits until each CRD is Established and its kinds are served: the
    /// API server publishes the new group a moment after Established.
    async fn wait_crds(&self, crds: &[Keyed]) -> Result<(), String> {
        for crd in crds {
            self.applier
                .wait_established(&crd.key.name, Duration::from_secs(60))
                .await?;
            let spec = &crd.manifest.object["spec"];
            let group = spec["group"].as_str().unwrap_or_default();
            let kind = spec["names"]["kind"].as_str().unwrap_or_default();
            let versions = spec["versions"].as_array().cloned().unwrap_or_default();
            for version in versions.iter().filter(|v| v["served"] != false) {
                let gvk = kube::api::GroupVersionKind::gvk(
                    group,
                    version["name"].as_str().unwrap_or_default(),
                    kind,
                );
                let deadline = Instant::now() + Duration::from_secs(30);
                while let Err(e) = self.applier.api_resource(&gvk).await {
                    if Instant::now() > deadline {
                        return Err(format!("CustomResourceDefinition {}: {e}", crd.key.name));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        Ok(())
    }

    /// `CreateNamespace=true`: the destination namespace, server-side applied
    /// without the tracking label, so no prune or deletion ever removes it.
    async fn create_namespace(&self, namespace: &str) -> Result<(), String> {
        let api: Api<Namespace> = Api::all(self.applier.client().clone());
        let object = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace},
        });
        api.patch(
            namespace,
            &PatchParams::apply(FIELD_MANAGER),
            &Patch::Apply(&object),
        )
        .await
        .map(|_| ())
        .map_err(|e| format!("creating Namespace {namespace}: {}", api_message(e)))
    }
}

/// What the steps of one sync share.
struct Ctx<'a> {
    apply: ApplyOptions<'a>,
    ignore: &'a [ResourceIgnoreDifferences],
    /// What the preflight dry run returned for each object it could check.
    checked: std::collections::HashMap<ObjectKey, serde_json::Value>,
}

/// `a` and whatever of `b` it lacks.
fn union(a: &[ObjectKey], b: &[ObjectKey]) -> Vec<ObjectKey> {
    let mut out = a.to_vec();
    for k in b {
        if !out.iter().any(|p| p.same_object(k)) {
            out.push(k.clone());
        }
    }
    out
}

fn result(key: &ObjectKey, action: Action, message: Option<String>) -> ResourceResult {
    ResourceResult {
        key: key.clone(),
        status: SyncStatusCode::Synced,
        health: None,
        action,
        message,
        diff: None,
    }
}

/// The destination namespace: the one named, else the Application's own.
pub fn destination_namespace(app: &Application) -> String {
    app.spec
        .destination
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| app.metadata.namespace.clone())
        .unwrap_or_else(|| "default".to_owned())
}

/// skiff deploys to the cluster it runs in; any other server is refused.
fn check_destination(app: &Application) -> Result<(), Refusal> {
    let d = &app.spec.destination;
    if let Some(server) = d.server.as_deref().filter(|s| !s.is_empty())
        && server != "https://kubernetes.default.svc"
    {
        return Err(Refusal::permanent(
            "validate",
            format!(
                "spec.destination.server {server:?}: skiff deploys only to the cluster it runs in (https://kubernetes.default.svc)"
            ),
        ));
    }
    if let Some(name) = d.name.as_deref().filter(|s| !s.is_empty())
        && name != "in-cluster"
    {
        return Err(Refusal::permanent(
            "validate",
            format!("spec.destination.name {name:?}: only in-cluster is served"),
        ));
    }
    Ok(())
}

/// Delete policies of a hook, in Argo CD's names; Argo CD's default is
/// BeforeHookCreation.
fn hook_delete_policies(object: &serde_json::Value) -> Vec<&'static str> {
    let annotations = &object["metadata"]["annotations"];
    let mut out = Vec::new();
    for key in [
        "skiff.dev/hook-delete-policy",
        "argocd.argoproj.io/hook-delete-policy",
        "helm.sh/hook-delete-policy",
    ] {
        for p in annotations[key].as_str().unwrap_or_default().split(',') {
            match p.trim() {
                "BeforeHookCreation" | "before-hook-creation" => out.push("BeforeHookCreation"),
                "HookSucceeded" | "hook-succeeded" => out.push("HookSucceeded"),
                "HookFailed" | "hook-failed" => out.push("HookFailed"),
                _ => {}
            }
        }
    }
    if out.is_empty() {
        out.push("BeforeHookCreation");
    }
    out
}

fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

/// A dry-run refusal that only means an earlier step has not run yet: the
/// kind comes from a CRD, or the namespace is created, in this same sync.
fn needs_an_earlier_step(message: &str) -> bool {
    message.contains("the server does not serve kind")
        || (message.contains("namespaces \"") && message.contains("not found"))
}

fn is_transient_git_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "timed out",
        "timeout",
        "connection",
        "network",
        "resolve",
        "temporarily",
        "503",
        "502",
    ]
    .iter()
    .any(|w| m.contains(w))
}

fn is_transient_api_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "(500 ",
        "(502 ",
        "(503 ",
        "(504 ",
        "(429 ",
        "timed out",
        "timeout",
        "connection",
        "not become healthy",
    ]
    .iter()
    .any(|w| m.contains(w))
}

/// `.Capabilities` from the API server: its version and every served
/// group/version and group/version/kind.
async fn discover_capabilities(client: &Client) -> skiff_helm::Capabilities {
    let mut caps = skiff_helm::Capabilities::default();
    if let Ok(info) = client.apiserver_version().await
        && let Ok(v) = skiff_helm::Capabilities::parse_kube_version(&info.git_version)
    {
        caps.kube_version = v;
    }
    match kube::discovery::Discovery::new(client.clone())
        .run_aggregated()
        .await
    {
        Ok(discovery) => {
            for group in discovery.groups() {
                for version in group.versions() {
                    let gv = if group.name().is_empty() {
                        version.to_owned()
                    } else {
                        format!("{}/{version}", group.name())
                    };
                    for (resource, _) in group.versioned_resources(version) {
                        caps.api_versions.push(format!("{gv}/{}", resource.kind));
                    }
                    caps.api_versions.push(gv);
                }
            }
            caps.api_versions.sort();
            caps.api_versions.dedup();
        }
        Err(e) => warn!(error = %e, "capabilities.discovery_failed"),
    }
    caps
}
