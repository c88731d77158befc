//! With kube-controller-manager, kube-scheduler and a kwok node, a Deployment
//! really rolls out: this is what health checks and `--wait` will rely on.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Patch, PatchParams};
use kube::runtime::wait::await_condition;
use serde_json::json;
use skiff_testbed::ControlPlane;

fn is_available(d: Option<&Deployment>) -> bool {
    d.and_then(|d| d.status.as_ref())
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")
            })
        })
}

#[tokio::test]
async fn deployment_with_two_replicas_becomes_available() {
    let ns = ControlPlane::with_controllers().namespace("deploy").await;
    let api = ns.api::<Deployment>();
    let deploy = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "web" },
        "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "containers": [{ "name": "web", "image": "nginx:1.27" }] }
            }
        }
    });
    api.patch("web", &PatchParams::apply("skiff"), &Patch::Apply(deploy))
        .await
        .expect("apply Deployment");

    let ready = tokio::time::timeout(
        Duration::from_secs(120),
        await_condition(api.clone(), "web", |d: Option<&Deployment>| {
            is_available(d)
                && d.and_then(|d| d.status.as_ref())
                    .and_then(|s| s.available_replicas)
                    == Some(2)
        }),
    )
    .await
    .expect("Deployment available within 120s")
    .expect("watch Deployment")
    .expect("Deployment exists");
    let status = ready.status.expect("status");
    assert_eq!(status.ready_replicas, Some(2));
    assert_eq!(status.replicas, Some(2));
}
