//! `health::wait_healthy` against a control plane with controllers and a kwok
//! node: a Deployment rolls out, a Job's pod is completed by kwok's
//! `pod-complete` stage, a claim nobody provisions stays pending, an object
//! that does not exist is Missing, and a rollout past its deadline is Degraded.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, ResourceQuota};
use kube::api::{ApiResource, Patch, PatchParams};
use serde_json::json;
use skiff::api::HealthStatusCode;
use skiff::apply::health::{ObjectToWatch, assess, wait_healthy};
use skiff_testbed::{ControlPlane, TestNamespace};

fn watch<K>(ns: &TestNamespace, name: &str) -> ObjectToWatch
where
    K: kube::Resource<DynamicType = ()>,
{
    ObjectToWatch {
        resource: ApiResource::erase::<K>(&()),
        namespace: Some(ns.name.clone()),
        name: name.into(),
    }
}

#[tokio::test]
async fn deployment_goes_from_progressing_to_healthy() {
    let ns = ControlPlane::with_controllers()
        .namespace("health-deploy")
        .await;
    let deploy = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "web" },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "containers": [{ "name": "web", "image": "nginx:1.27" }] }
            }
        }
    });
    let created = ns
        .api::<Deployment>()
        .patch("web", &PatchParams::apply("skiff"), &Patch::Apply(deploy))
        .await
        .expect("apply Deployment");
    // As the apply returned it, no controller has looked at it yet.
    let fresh = assess(&serde_json::to_value(&created).expect("serialise"));
    assert_eq!(fresh.status, HealthStatusCode::Progressing, "{fresh:?}");

    let objects = [watch::<Deployment>(&ns, "web")];
    let healths = wait_healthy(&ns.client, &objects, Duration::from_secs(120)).await;
    assert_eq!(healths.len(), 1);
    assert_eq!(healths[0].status, HealthStatusCode::Healthy, "{healths:?}");
    let live = ns.api::<Deployment>().get("web").await.expect("get");
    let status = live.status.expect("status");
    assert_eq!(status.available_replicas, Some(1));
    assert_eq!(status.updated_replicas, Some(1));
}

#[tokio::test]
async fn job_completes_and_is_healthy() {
    let ns = ControlPlane::with_controllers()
        .namespace("health-job")
        .await;
    let job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": "migrate" },
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{ "name": "migrate", "image": "busybox", "command": ["true"] }]
                }
            }
        }
    });
    ns.api::<Job>()
        .patch("migrate", &PatchParams::apply("skiff"), &Patch::Apply(job))
        .await
        .expect("apply Job");
    let objects = [watch::<Job>(&ns, "migrate")];
    let healths = wait_healthy(&ns.client, &objects, Duration::from_secs(120)).await;
    assert_eq!(healths[0].status, HealthStatusCode::Healthy, "{healths:?}");
    // Healthy because the Job really completed, not for want of conditions.
    let live = ns.api::<Job>().get("migrate").await.expect("get");
    let status = live.status.expect("status");
    assert_eq!(status.succeeded, Some(1));
    assert!(
        status
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Complete" && c.status == "True"),
        "Job has no Complete condition"
    );
}

#[tokio::test]
async fn unprovisioned_claim_stays_progressing_until_the_timeout() {
    let ns = ControlPlane::with_controllers()
        .namespace("health-pvc")
        .await;
    let claim = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": { "name": "data" },
        "spec": {
            "storageClassName": "nobody-provisions-this",
            "accessModes": ["ReadWriteOnce"],
            "resources": { "requests": { "storage": "1Gi" } }
        }
    });
    ns.api::<PersistentVolumeClaim>()
        .patch("data", &PatchParams::apply("skiff"), &Patch::Apply(claim))
        .await
        .expect("apply PVC");
    let objects = [watch::<PersistentVolumeClaim>(&ns, "data")];
    let timeout = Duration::from_secs(3);
    let started = Instant::now();
    let healths = wait_healthy(&ns.client, &objects, timeout).await;
    let waited = started.elapsed();
    assert_eq!(
        healths[0].status,
        HealthStatusCode::Progressing,
        "{healths:?}"
    );
    assert!(
        waited >= timeout,
        "returned after {waited:?}, before the timeout"
    );
    assert!(
        waited < timeout + Duration::from_secs(5),
        "overran the timeout: {waited:?}"
    );
}

#[tokio::test]
async fn absent_object_is_missing_and_does_not_stop_the_others() {
    let ns = ControlPlane::with_controllers()
        .namespace("health-missing")
        .await;
    ns.api::<ConfigMap>()
        .patch(
            "present",
            &PatchParams::apply("skiff"),
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": { "name": "present" }, "data": { "a": "1" }
            })),
        )
        .await
        .expect("apply ConfigMap");
    let objects = [
        watch::<ConfigMap>(&ns, "present"),
        watch::<ConfigMap>(&ns, "absent"),
    ];
    let healths = wait_healthy(&ns.client, &objects, Duration::from_secs(1)).await;
    assert_eq!(healths[0].status, HealthStatusCode::Healthy, "{healths:?}");
    assert_eq!(healths[1].status, HealthStatusCode::Missing, "{healths:?}");
    let message = healths[1].message.as_deref().unwrap_or("");
    assert_eq!(
        message,
        format!("ConfigMap {}/absent does not exist", ns.name)
    );
}

#[tokio::test]
async fn stuck_rollout_is_degraded_and_ends_the_wait_early() {
    let ns = ControlPlane::with_controllers()
        .namespace("health-stuck")
        .await;
    // A quota of zero pods: the ReplicaSet can never create one, so the
    // rollout makes no progress and the controller declares the deadline passed.
    ns.api::<ResourceQuota>()
        .patch(
            "no-pods",
            &PatchParams::apply("skiff"),
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "ResourceQuota",
                "metadata": { "name": "no-pods" },
                "spec": { "hard": { "pods": "0" } }
            })),
        )
        .await
        .expect("apply ResourceQuota");
    let deploy = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "stuck" },
        "spec": {
            "replicas": 1,
            "progressDeadlineSeconds": 2,
            "selector": { "matchLabels": { "app": "stuck" } },
            "template": {
                "metadata": { "labels": { "app": "stuck" } },
                "spec": { "containers": [{ "name": "web", "image": "nginx:1.27" }] }
            }
        }
    });
    ns.api::<Deployment>()
        .patch("stuck", &PatchParams::apply("skiff"), &Patch::Apply(deploy))
        .await
        .expect("apply Deployment");
    let objects = [watch::<Deployment>(&ns, "stuck")];
    let timeout = Duration::from_secs(90);
    let started = Instant::now();
    let healths = wait_healthy(&ns.client, &objects, timeout).await;
    assert_eq!(healths[0].status, HealthStatusCode::Degraded, "{healths:?}");
    assert_eq!(
        healths[0].message.as_deref(),
        Some("Deployment \"stuck\" exceeded its progress deadline")
    );
    assert!(started.elapsed() < timeout, "Degraded must end the wait");
}
