//! Applying a planned render to the real apiserver: a CRD first (waited for
//! until Established), then a Namespace, then objects in waves, including a
//! custom resource of the CRD applied moments before. Objects carry skiff's
//! labels and field manager; unknown kinds and server refusals name the object.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use serde_json::json;
use skiff::apply::plan::{Group, plan};
use skiff::apply::ssa::{APPLICATION_LABEL, Applier, ApplyOptions, MANAGED_BY_LABEL};
use skiff::render::Manifest;
use skiff_testbed::ControlPlane;

fn manifest(object: serde_json::Value) -> Manifest {
    Manifest {
        source: PathBuf::from("apps/demo.yaml"),
        line: 1,
        object,
    }
}

#[tokio::test]
async fn a_planned_render_applies_crds_namespaces_and_waves() {
    let ns = ControlPlane::shared().namespace("apply").await;
    let other = format!("{}-extra", ns.name);
    let rendered = vec![
        manifest(json!({
            "apiVersion": "apply.skiff.dev/v1", "kind": "Gadget",
            "metadata": { "name": "g1", "annotations": { "skiff.dev/sync-wave": "1" } },
            "spec": { "size": 2 }
        })),
        manifest(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "settings", "namespace": other }, "data": { "a": "1" }
        })),
        manifest(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": { "name": format!("{}-reader", ns.name), "namespace": "ignored" },
            "rules": []
        })),
        manifest(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": other } })),
        manifest(json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": { "name": "gadgets.apply.skiff.dev" },
            "spec": {
                "group": "apply.skiff.dev", "scope": "Namespaced",
                "names": { "plural": "gadgets", "singular": "gadget", "kind": "Gadget" },
                "versions": [{ "name": "v1", "served": true, "storage": true,
                    "schema": { "openAPIV3Schema": { "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true } } }]
            }
        })),
    ];
    let applier = Applier::new(ns.client.clone());
    let options = ApplyOptions {
        application: "demo",
        default_namespace: &ns.name,
        force: false,
        dry_run: false,
    };
    for step in plan(rendered).expect("plan") {
        for m in &step.manifests {
            applier
                .apply(m, &options)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            if step.group == Group::Crds {
                let name = m.object["metadata"]["name"].as_str().expect("name");
                applier
                    .wait_established(name, Duration::from_secs(30))
                    .await
                    .expect("CRD established");
            }
        }
    }

    // The custom resource went to the default namespace, labelled, owned by skiff.
    let gadgets: Api<DynamicObject> = Api::namespaced_with(
        ns.client.clone(),
        &ns.name,
        &ApiResource::from_gvk(&GroupVersionKind::gvk("apply.skiff.dev", "v1", "Gadget")),
    );
    let g1 = gadgets.get("g1").await.expect("Gadget applied");
    let labels = g1.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get(MANAGED_BY_LABEL).map(String::as_str),
        Some("skiff")
    );
    assert_eq!(
        labels.get(APPLICATION_LABEL).map(String::as_str),
        Some("demo")
    );
    assert!(
        g1.metadata
            .managed_fields
            .iter()
            .flatten()
            .any(|f| f.manager.as_deref() == Some("skiff")
                && f.operation.as_deref() == Some("Apply"))
    );
    // The ConfigMap went to the Namespace created in the same sync.
    let cm = Api::<ConfigMap>::namespaced(ns.client.clone(), &other)
        .get("settings")
        .await
        .expect("ConfigMap in the new namespace");
    assert_eq!(cm.data.unwrap_or_default()["a"], "1");
    // The namespace on a cluster-scoped object is dropped, not an error.
    Api::<ClusterRole>::all(ns.client.clone())
        .get(&format!("{}-reader", ns.name))
        .await
        .expect("ClusterRole applied");

    // A dry run reports the change without making it.
    let changed = manifest(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": "settings", "namespace": other }, "data": { "a": "2" }
    }));
    let preview = applier
        .apply(
            &changed,
            &ApplyOptions {
                dry_run: true,
                ..options.clone()
            },
        )
        .await
        .expect("dry run");
    assert_eq!(preview.data["data"]["a"], "2");
    let live = Api::<ConfigMap>::namespaced(ns.client.clone(), &other)
        .get("settings")
        .await
        .expect("read");
    assert_eq!(
        live.data.unwrap_or_default()["a"],
        "1",
        "a dry run changes nothing"
    );
}

#[tokio::test]
async fn unknown_kinds_and_refusals_name_the_object() {
    let ns = ControlPlane::shared().namespace("apply-errors").await;
    let applier = Applier::new(ns.client.clone());
    let options = ApplyOptions {
        application: "demo",
        default_namespace: &ns.name,
        force: false,
        dry_run: false,
    };
    let unknown = manifest(json!({
        "apiVersion": "nothing.skiff.dev/v1", "kind": "Phantom", "metadata": { "name": "p" }
    }));
    let err = applier
        .apply(&unknown, &options)
        .await
        .expect_err("unknown kind");
    assert_eq!(err.object, "Phantom p");
    assert_eq!(err.source, "apps/demo.yaml:1");
    assert!(
        err.message
            .contains("does not serve kind Phantom in nothing.skiff.dev/v1"),
        "{err}"
    );

    let invalid = manifest(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": "web" },
        "spec": { "ports": [{ "port": 70000 }] }
    }));
    let err = applier
        .apply(&invalid, &options)
        .await
        .expect_err("invalid port");
    assert_eq!(err.object, format!("Service {}/web", ns.name));
    assert!(
        err.message.contains("70000") && err.message.contains("422"),
        "{err}"
    );
}
