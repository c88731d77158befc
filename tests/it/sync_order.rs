//! The order of a sync against the real API server: a CRD and its custom
//! resources in one sync, PreSync hooks before everything, waves in order,
//! PostSync hooks last. Creation order is read from resourceVersions, which
//! etcd hands out in increasing order.

use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::json;
use skiff::sync::{Action, OperationPhase};
use skiff_testbed::ControlPlane;

use crate::fleet::{GitRepo, application, engine, first_request};

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.order.skiff.dev
spec:
  group: order.skiff.dev
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

async fn resource_version(api: &Api<DynamicObject>, name: &str) -> u64 {
    api.get(name)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .metadata
        .resource_version
        .expect("resourceVersion")
        .parse()
        .expect("numeric resourceVersion")
}

#[tokio::test]
async fn a_crd_and_its_custom_resources_sync_together() {
    let ns = ControlPlane::shared().namespace("sync-crd").await;
    let repo = GitRepo::new("sync-crd");
    repo.write("app/crd.yaml", CRD).write(
        "app/gadget.yaml",
        "apiVersion: order.skiff.dev/v1\nkind: Gadget\nmetadata:\n  name: first\nspec:\n  size: 3\n",
    );
    repo.commit("CRD and CR");
    let app = application("gadgets", &ns.name, &repo.url(), "app", json!({}));

    let outcome = engine(&ns.client, "sync-crd", false)
        .sync(&app, &first_request())
        .await;

    assert_eq!(
        outcome.phase,
        OperationPhase::Succeeded,
        "{}",
        outcome.message
    );
    let gvk = GroupVersionKind::gvk("order.skiff.dev", "v1", "Gadget");
    let gadgets: Api<DynamicObject> =
        Api::namespaced_with(ns.client.clone(), &ns.name, &ApiResource::from_gvk(&gvk));
    let gadget = gadgets.get("first").await.expect("custom resource created");
    assert_eq!(gadget.data["spec"]["size"], 3);
    assert!(
        outcome
            .inventory
            .iter()
            .any(|k| k.kind == "CustomResourceDefinition" && k.namespace.is_none()),
        "the CRD is in the inventory: {:?}",
        outcome.inventory
    );
}

#[tokio::test]
async fn hooks_and_waves_run_in_order() {
    let ns = ControlPlane::shared().namespace("sync-waves").await;
    let repo = GitRepo::new("sync-waves");
    let cm = |name: &str, annotations: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n{annotations}"
        )
    };
    repo.write(
        "app/pre.yaml",
        &cm("pre", "    argocd.argoproj.io/hook: PreSync\n"),
    )
    .write(
        "app/early.yaml",
        &cm("early", "    skiff.dev/sync-wave: \"-1\"\n"),
    )
    .write("app/middle.yaml", &cm("middle", "    note: plain\n"))
    .write(
        "app/late.yaml",
        &cm("late", "    argocd.argoproj.io/sync-wave: \"5\"\n"),
    )
    .write(
        "app/post.yaml",
        &cm(
            "post",
            "    helm.sh/hook: post-install\n    helm.sh/hook-delete-policy: before-hook-creation\n",
        ),
    );
    repo.commit("hooks and waves");
    let app = application("waves", &ns.name, &repo.url(), "app", json!({}));

    let outcome = engine(&ns.client, "sync-waves", true)
        .sync(&app, &first_request())
        .await;

    assert_eq!(
        outcome.phase,
        OperationPhase::Succeeded,
        "{}",
        outcome.message
    );
    let api: Api<DynamicObject> = Api::namespaced_with(
        ns.client.clone(),
        &ns.name,
        &ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap")),
    );
    let mut order = Vec::new();
    for name in ["pre", "early", "middle", "late", "post"] {
        order.push((resource_version(&api, name).await, name));
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(sorted, order, "created in hook/wave order");
    // Hooks run but are not part of the inventory (they are never pruned).
    let inventory: Vec<&str> = outcome.inventory.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(inventory, ["early", "middle", "late"]);
    let hooks: Vec<&str> = outcome
        .resources
        .iter()
        .filter(|r| r.action == Action::HookRan)
        .map(|r| r.key.name.as_str())
        .collect();
    assert_eq!(hooks, ["pre", "post"]);
}
