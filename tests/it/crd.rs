//! CustomResourceDefinitions on the real apiserver: install, wait for
//! Established, then create, validate and read a custom resource.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, ResourceExt};
use serde_json::json;
use skiff_testbed::ControlPlane;

const CRD_NAME: &str = "widgets.testbed.skiff.dev";

fn widget_crd() -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": { "name": CRD_NAME },
        "spec": {
            "group": "testbed.skiff.dev",
            "scope": "Namespaced",
            "names": { "plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList" },
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": { "openAPIV3Schema": {
                    "type": "object",
                    "properties": { "spec": {
                        "type": "object",
                        "required": ["size"],
                        "properties": { "size": { "type": "integer", "minimum": 1 } }
                    }}
                }}
            }]
        }
    })
}

#[tokio::test]
async fn crd_becomes_established_and_serves_custom_resources() {
    let ns = ControlPlane::shared().namespace("crd").await;
    let crds = Api::<CustomResourceDefinition>::all(ns.client.clone());
    let crd: CustomResourceDefinition =
        serde_json::from_value(widget_crd()).expect("CRD manifest matches the type");
    crds.patch(CRD_NAME, &PatchParams::apply("skiff"), &Patch::Apply(&crd))
        .await
        .expect("apply CRD");

    let established = tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(crds.clone(), CRD_NAME, conditions::is_crd_established()),
    )
    .await
    .expect("CRD established within 30s")
    .expect("watch CRD");
    assert!(established.is_some());

    let gvk = GroupVersionKind::gvk("testbed.skiff.dev", "v1", "Widget");
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(ns.client.clone(), &ns.name, &ApiResource::from_gvk(&gvk));
    let mut widget = DynamicObject::new("gear", &ApiResource::from_gvk(&gvk));
    widget.data = json!({ "spec": { "size": 3 } });
    // Discovery of a just-established group can lag by a moment; retry briefly.
    let mut created = None;
    for _ in 0..50 {
        match widgets.create(&PostParams::default(), &widget).await {
            Ok(obj) => {
                created = Some(obj);
                break;
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("create Widget: {e}"),
        }
    }
    let created = created.expect("Widget endpoint served within 5s of Established");
    assert_eq!(created.name_any(), "gear");

    let read = widgets.get("gear").await.expect("read Widget");
    assert_eq!(read.data["spec"]["size"], 3);
    assert_eq!(read.metadata.namespace.as_deref(), Some(ns.name.as_str()));

    // The schema from the CRD is enforced by the server.
    let mut bad = DynamicObject::new("broken", &ApiResource::from_gvk(&gvk));
    bad.data = json!({ "spec": { "size": 0 } });
    match widgets.create(&PostParams::default(), &bad).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 422, "{}", s.message);
            assert!(s.message.contains("spec.size"), "{}", s.message);
        }
        other => panic!("a Widget violating the schema was not rejected: {other:?}"),
    }
}
