//! Server-side apply against the real kube-apiserver: field ownership, conflicts
//! and forced takeover, the mechanism skiff's apply is built on.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use skiff_testbed::ControlPlane;

fn config_map(color: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": "settings" },
        "data": { "color": color },
    })
}

/// The managers that own `data.color`, from managedFields.
fn owners_of_color(cm: &ConfigMap) -> Vec<String> {
    cm.metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|e| {
            e.fields_v1
                .as_ref()
                .and_then(|f| f.0.pointer("/f:data/f:color"))
                .is_some()
        })
        .filter_map(|e| e.manager.clone())
        .collect()
}

#[tokio::test]
async fn apply_records_skiff_as_the_field_manager() {
    let ns = ControlPlane::shared().namespace("ssa-manager").await;
    let api = ns.api::<ConfigMap>();

    let applied = api
        .patch(
            "settings",
            &PatchParams::apply("skiff"),
            &Patch::Apply(config_map("blue")),
        )
        .await
        .expect("server-side apply");

    let live = api.get("settings").await.expect("read back");
    assert_eq!(live.metadata.uid, applied.metadata.uid);
    assert_eq!(live.data.unwrap_or_default()["color"], "blue");
    let entries = live.metadata.managed_fields.unwrap_or_default();
    let skiff = entries
        .iter()
        .find(|e| e.manager.as_deref() == Some("skiff"))
        .unwrap_or_else(|| panic!("no managedFields entry for skiff: {entries:?}"));
    assert_eq!(skiff.operation.as_deref(), Some("Apply"));
    assert_eq!(owners_of_color(&applied), ["skiff"]);
}

#[tokio::test]
async fn conflicting_manager_gets_409_until_it_forces() {
    let ns = ControlPlane::shared().namespace("ssa-conflict").await;
    let api = ns.api::<ConfigMap>();
    api.patch(
        "settings",
        &PatchParams::apply("skiff"),
        &Patch::Apply(config_map("blue")),
    )
    .await
    .expect("skiff applies first");

    let err = api
        .patch(
            "settings",
            &PatchParams::apply("intruder"),
            &Patch::Apply(config_map("red")),
        )
        .await
        .expect_err("a second manager changing an owned field must conflict");
    match err {
        kube::Error::Api(ref status) => {
            assert_eq!(status.code, 409, "{err}");
            assert_eq!(status.reason, "Conflict");
            assert!(status.message.contains(".data.color"), "{}", status.message);
        }
        other => panic!("expected an API error, got {other}"),
    }
    let live = api.get("settings").await.expect("read");
    assert_eq!(
        live.data.unwrap_or_default()["color"],
        "blue",
        "a rejected apply changes nothing"
    );

    let forced = api
        .patch(
            "settings",
            &PatchParams::apply("intruder").force(),
            &Patch::Apply(config_map("red")),
        )
        .await
        .expect("forced apply takes ownership");
    assert_eq!(forced.data.clone().unwrap_or_default()["color"], "red");
    assert_eq!(owners_of_color(&forced), ["intruder"]);
}
