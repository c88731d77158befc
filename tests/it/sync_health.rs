//! A sync waits for health, with real controllers (kube-controller-manager,
//! scheduler and a kwok node): a PreSync Job hook must complete before the
//! Deployment is applied, and the sync ends when the Deployment is available.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use serde_json::json;
use skiff::api::HealthStatusCode;
use skiff::sync::{Action, OperationPhase};
use skiff_testbed::ControlPlane;

use crate::fleet::{GitRepo, application, engine, first_request};

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0
"#;

const MIGRATION: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    skiff.dev/hook: PreSync
    skiff.dev/hook-delete-policy: HookSucceeded
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: registry.example/migrate:1.0
"#;

#[tokio::test]
async fn a_sync_waits_for_its_hook_and_its_deployment_to_be_healthy() {
    let ns = ControlPlane::with_controllers()
        .namespace("sync-health")
        .await;
    let repo = GitRepo::new("sync-health");
    repo.write("app/deploy.yaml", DEPLOYMENT)
        .write("app/migrate.yaml", MIGRATION);
    repo.commit("web with a migration");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));

    let outcome = engine(&ns.client, "sync-health", true)
        .sync(&app, &first_request())
        .await;

    assert_eq!(
        outcome.phase,
        OperationPhase::Succeeded,
        "{}",
        outcome.message
    );
    assert_eq!(
        outcome.health.status,
        HealthStatusCode::Healthy,
        "{:?}",
        outcome.health
    );
    let hook = outcome
        .resources
        .iter()
        .find(|r| r.key.name == "migrate")
        .expect("hook result");
    assert_eq!(hook.action, Action::HookRan);
    let web = outcome
        .resources
        .iter()
        .find(|r| r.key.name == "web")
        .expect("deployment result");
    assert_eq!(
        web.health.as_ref().map(|h| h.status),
        Some(HealthStatusCode::Healthy)
    );
    let live = ns.api::<Deployment>().get("web").await.expect("deployment");
    assert_eq!(
        live.status.and_then(|s| s.available_replicas),
        Some(2),
        "available when the sync returned"
    );
    // HookSucceeded: the Job is deleted once it completed.
    let job = ns.api::<Job>().get_opt("migrate").await.expect("get job");
    assert!(
        job.is_none_or(|j| j.metadata.deletion_timestamp.is_some()),
        "hook deleted after success"
    );
}
