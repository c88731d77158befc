//! Field ownership during a sync: a field another manager owns is reported as
//! a conflict and left alone unless the Application forces; differences the
//! Application ignores leave an object Synced and unapplied.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use skiff::api::SyncStatusCode;
use skiff::sync::{Action, Mode, OperationPhase, SyncRequest, Trigger};
use skiff_testbed::ControlPlane;

use crate::fleet::{GitRepo, application, apply_request, config_map, engine, first_request};

async fn someone_sets_color(api: &kube::Api<ConfigMap>, color: &str) {
    api.patch(
        "settings",
        &PatchParams::apply("someone").force(),
        &Patch::Apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": {"color": color},
        })),
    )
    .await
    .expect("another manager applies");
}

#[tokio::test]
async fn a_field_owned_by_another_manager_is_a_conflict_not_overwritten() {
    let ns = ControlPlane::shared().namespace("sync-conflict").await;
    let api = ns.api::<ConfigMap>();
    someone_sets_color(&api, "red").await;
    let repo = GitRepo::new("sync-conflict");
    repo.write("app/cm.yaml", &config_map("settings", &[("color", "blue")]));
    repo.commit("blue");
    let app = application("cfg", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "sync-conflict", false);

    let outcome = engine.sync(&app, &first_request()).await;

    // Found by the preflight dry run, before anything is applied.
    assert_eq!(outcome.phase, OperationPhase::Error, "{}", outcome.message);
    let message = outcome.message.as_str();
    assert!(message.contains("conflict"), "{message}");
    assert!(
        message.contains("someone"),
        "names the other manager: {message}"
    );
    assert_eq!(
        api.get("settings")
            .await
            .expect("cm")
            .data
            .unwrap_or_default()["color"],
        "red",
        "not overwritten"
    );

    // Force=true takes the field over.
    let forcing = application(
        "cfg",
        &ns.name,
        &repo.url(),
        "app",
        json!({"syncPolicy": {"syncOptions": ["Force=true"]}}),
    );
    let forced = engine.sync(&forcing, &apply_request(&outcome, true)).await;
    assert_eq!(
        forced.phase,
        OperationPhase::Succeeded,
        "{}",
        forced.message
    );
    assert_eq!(
        api.get("settings")
            .await
            .expect("cm")
            .data
            .unwrap_or_default()["color"],
        "blue"
    );
}

#[tokio::test]
async fn ignored_differences_leave_the_object_synced_and_unapplied() {
    let ns = ControlPlane::shared().namespace("sync-ignore").await;
    let api = ns.api::<ConfigMap>();
    let repo = GitRepo::new("sync-ignore");
    repo.write(
        "app/cm.yaml",
        &config_map("settings", &[("color", "blue"), ("size", "1")]),
    );
    repo.commit("v1");
    let ignoring = json!({"ignoreDifferences": [
        {"kind": "ConfigMap", "name": "settings", "jsonPointers": ["/data/color"]}
    ]});
    let app = application("cfg", &ns.name, &repo.url(), "app", ignoring);
    let engine = engine(&ns.client, "sync-ignore", false);
    let first = engine.sync(&app, &first_request()).await;
    assert_eq!(first.phase, OperationPhase::Succeeded, "{}", first.message);

    // Drift in the ignored field only.
    someone_sets_color(&api, "red").await;
    let compare = SyncRequest {
        mode: Mode::Compare,
        trigger: Trigger::Poll,
        ..apply_request(&first, true)
    };
    let compared = engine.sync(&app, &compare).await;
    assert_eq!(
        compared.sync_status,
        SyncStatusCode::Synced,
        "{:?}",
        compared.resources
    );
    let synced = engine.sync(&app, &apply_request(&first, true)).await;
    assert_eq!(
        synced.phase,
        OperationPhase::Succeeded,
        "{}",
        synced.message
    );
    assert_eq!(synced.resources[0].action, Action::Unchanged);
    assert_eq!(
        api.get("settings")
            .await
            .expect("cm")
            .data
            .unwrap_or_default()["color"],
        "red"
    );

    // Drift elsewhere is OutOfSync, with a diff naming the field.
    api.patch(
        "settings",
        &PatchParams::apply("someone").force(),
        &Patch::Apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"},
            "data": {"color": "red", "size": "9"},
        })),
    )
    .await
    .expect("drift");
    let compared = engine.sync(&app, &compare).await;
    assert_eq!(compared.sync_status, SyncStatusCode::OutOfSync);
    let diff = compared.resources[0].diff.clone().unwrap_or_default();
    assert!(diff.contains("size"), "{diff}");
}
