//! The agent: keeps the root Application for the fleet path, then reconciles
//! every Application in its namespace with a kube-runtime Controller (bounded
//! concurrency, requeue by `spec.interval`, at once on a change of the
//! trigger annotation), and serves health probes.

pub mod config;
pub mod reconcile;
pub mod retry;
pub mod windows;

use std::sync::Arc;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Client, Config};
use tracing::{info, warn};

use crate::api::Application;
use crate::source::git::GitCache;
use crate::sync::{CREDENTIALS_ANNOTATION, Engine, EngineOptions};
use crate::telemetry::metrics::Metrics;
use crate::telemetry::propagate::TraceContextLayer;
use crate::telemetry::server;
use config::AgentConfig;
use kube_lease_manager::LeaseManagerBuilder;
use reconcile::{Context, error_policy, reconcile};

/// The field manager the agent writes the root Application with.
pub const AGENT_MANAGER: &str = "skiff-agent";
/// The Lease (in the agent's namespace) whose holder is the one agent that syncs.
pub const LEASE_NAME: &str = "skiff-agent-leader";

/// Runs the agent until SIGTERM or Ctrl-C: serves the probes and metrics,
/// waits to hold the leader lease, then reconciles until it loses it (and
/// waits again). On a signal the syncs under way finish, then it returns, so
/// that the caller can flush what telemetry is queued.
pub async fn run(config: AgentConfig) -> Result<(), String> {
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(());
    {
        let stopping = stopping.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            stopping.store(true, std::sync::atomic::Ordering::SeqCst);
            stop_tx.send_replace(());
        });
    }
    let kube_config = Config::infer()
        .await
        .map_err(|e| format!("no cluster configuration (in-cluster or KUBECONFIG): {e}"))?;
    // Every API request carries the trace context of the span making it.
    let client = kube::client::ClientBuilder::try_from(kube_config)
        .map_err(|e| format!("kube client: {e}"))?
        .with_layer(&TraceContextLayer)
        .build();
    let metrics = Arc::new(Metrics::default());
    let bound = server::serve(config.metrics_address, metrics.clone()).await?;
    info!(address = %bound, "metrics.listening");

    let identity = std::env::var("POD_NAME").unwrap_or_else(|_| {
        format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "skiff".into()),
            std::process::id()
        )
    });
    let lease_secs = config.lease_duration.as_secs().max(3);
    let lease = LeaseManagerBuilder::new(client.clone(), LEASE_NAME)
        .with_namespace(config.namespace.clone())
        .with_identity(identity.clone())
        .with_duration(lease_secs)
        .with_grace((lease_secs / 3).max(1))
        .with_field_manager(AGENT_MANAGER)
        .build()
        .await
        .map_err(|e| format!("leader election: {e}"))?;
    let (mut leading, _lease_task) = lease.watch().await;

    loop {
        // The leader state is known now; a standby has no cache to wait for.
        if !*leading.borrow() {
            metrics.set_ready(true);
        }
        info!(identity = %identity, "leader.waiting");
        while !*leading.borrow_and_update() {
            tokio::select! {
                changed = leading.changed() => {
                    if changed.is_err() {
                        return Err("leader election stopped".into());
                    }
                }
                _ = stop_rx.changed() => return Ok(()),
            }
        }
        info!(identity = %identity, "leader.elected");
        metrics.leader.set(1);
        // Ready again once the controller's cache has its first list.
        metrics.set_ready(false);
        let mut lost = leading.clone();
        let mut signalled = stop_rx.clone();
        let on_loss_or_signal = async move {
            let lost = async move {
                while *lost.borrow_and_update() {
                    if lost.changed().await.is_err() {
                        break;
                    }
                }
            };
            tokio::select! {
                _ = lost => {}
                _ = signalled.changed() => {}
            }
        };
        reconcile_while_leading(&client, &config, metrics.clone(), on_loss_or_signal).await?;
        metrics.leader.set(0);
        if stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        warn!(identity = %identity, "leader.lost");
    }
}

/// Completes on SIGTERM (how Kubernetes stops a pod) or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// The controller, until `stop` completes (leadership lost) or a signal.
async fn reconcile_while_leading(
    client: &Client,
    config: &AgentConfig,
    metrics: Arc<Metrics>,
    stop: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), String> {
    ensure_root_application(client, config).await?;
    let git = GitCache::new(
        config.cache_dir.join("git"),
        std::time::Duration::from_secs(60),
    )
    .map_err(|e| format!("{}: {e}", config.cache_dir.display()))?;
    let engine = Engine::new(
        client.clone(),
        Arc::new(git),
        EngineOptions {
            credentials_namespace: Some(config.namespace.clone()),
            chart_cache: Some(config.cache_dir.join("charts")),
            fetch_max_age: config.interval,
            ..EngineOptions::default()
        },
    );
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "skiff".into(),
            instance: std::env::var("POD_NAME").ok(),
        },
    );
    let context = Arc::new(Context {
        client: client.clone(),
        engine,
        recorder,
        default_interval: config.interval,
        seen: Default::default(),
        metrics: metrics.clone(),
    });
    let apps: Api<Application> = Api::namespaced(client.clone(), &config.namespace);
    info!(namespace = %config.namespace, concurrency = config.concurrency, "agent.started");
    let controller = Controller::new(apps, watcher::Config::default());
    let store = controller.store();
    let readiness = metrics.clone();
    let cache_synced = tokio::spawn(async move {
        // The store takes the initial list in one swap once it is complete,
        // and it always holds at least the root Application: not empty means
        // synced. Store::wait_until_ready never resolves here: the
        // controller awaits the same one-shot, which wakes only the last
        // waiter to poll it (kube-runtime 5.0).
        while store.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        info!("cache.synced");
        readiness.set_ready(true);
    });
    let errors = metrics.clone();
    controller
        .with_config(ControllerConfig::default().concurrency(config.concurrency))
        .graceful_shutdown_on(stop)
        .run(reconcile, error_policy, context)
        .for_each(|result| {
            if let Err(e) = &result {
                if let kube::runtime::controller::Error::ReconcilerFailed(_, object) = e {
                    errors.record_reconcile_error(&object.name);
                }
                warn!(error = %e, "controller.error");
            }
            futures::future::ready(())
        })
        .await;
    cache_synced.abort();
    info!("agent.stopped");
    Ok(())
}

/// Creates or updates the root Application: an app-of-apps over the fleet
/// path, so the Applications and AppProjects in Git are applied and then
/// reconciled in turn.
pub async fn ensure_root_application(client: &Client, config: &AgentConfig) -> Result<(), String> {
    let fleet = &config.fleet;
    let mut annotations = serde_json::Map::new();
    if let Some(secret) = &fleet.secret_ref {
        annotations.insert(CREDENTIALS_ANNOTATION.into(), secret.clone().into());
    }
    let root = serde_json::json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": fleet.name,
            "namespace": config.namespace,
            "annotations": annotations,
        },
        "spec": {
            "project": "default",
            "source": {
                "repoURL": fleet.repo_url,
                "targetRevision": fleet.target_revision,
                "path": fleet.path,
                "directory": {"recurse": true},
            },
            "destination": {"namespace": config.namespace},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
        },
    });
    let api: Api<Application> = Api::namespaced(client.clone(), &config.namespace);
    api.patch(
        &fleet.name,
        &PatchParams::apply(AGENT_MANAGER).force(),
        &Patch::Apply(&root),
    )
    .await
    .map(|_| ())
    .map_err(|e| {
        format!(
            "creating the root Application {}/{}: {e}",
            config.namespace, fleet.name
        )
    })
}
