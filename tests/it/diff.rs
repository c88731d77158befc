//! `diff::compare` against the real apiserver: the desired side is what a
//! server-side apply dry run returns, the live side what a GET returns, so
//! every default and every bit of server bookkeeping is real.

use base64::Engine as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::Serialize;
use serde_json::{Value, json};
use skiff::api::{ResourceIgnoreDifferences, SyncStatusCode};
use skiff::apply::diff::compare;
use skiff_testbed::ControlPlane;

fn config_map(color: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": { "name": "settings", "labels": { "app": "web" } },
        "data": { "color": color, "size": "L" },
    })
}

fn to_json(object: &impl Serialize) -> Value {
    serde_json::to_value(object).expect("objects from the API serialise")
}

/// The object as skiff would leave it: a server-side apply dry run. Forced,
/// because after someone else changed a field skiff applied, they own it and
/// an unforced apply would answer with a conflict instead of a result.
async fn dry_run<K>(api: &Api<K>, name: &str, object: &Value) -> Value
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + Serialize + std::fmt::Debug,
{
    let params = PatchParams::apply("skiff").dry_run().force();
    let result = api
        .patch(name, &params, &Patch::Apply(object))
        .await
        .expect("dry-run apply");
    to_json(&result)
}

/// A change made the way `kubectl edit` makes it: an update by another manager.
fn edit_by_someone() -> PatchParams {
    PatchParams {
        field_manager: Some("someone".into()),
        ..PatchParams::default()
    }
}

#[tokio::test]
async fn configmap_drift_is_seen_and_can_be_ignored() {
    let ns = ControlPlane::shared().namespace("diff-configmap").await;
    let api = ns.api::<ConfigMap>();
    let rendered = config_map("blue");
    api.patch(
        "settings",
        &PatchParams::apply("skiff"),
        &Patch::Apply(&rendered),
    )
    .await
    .expect("apply ConfigMap");

    // Straight after applying, the dry run of the same object matches live,
    // although resourceVersion, managedFields and the like are there.
    let live = to_json(&api.get("settings").await.expect("get"));
    let desired = dry_run(&api, "settings", &rendered).await;
    assert!(desired.pointer("/metadata/managedFields").is_some());
    let same = compare(&desired, Some(&live), &[]);
    assert_eq!(same.status, SyncStatusCode::Synced, "{}", same.diff);
    assert_eq!(same.diff, "");

    // Someone changes the colour by hand.
    api.patch(
        "settings",
        &edit_by_someone(),
        &Patch::Merge(json!({ "data": { "color": "red" } })),
    )
    .await
    .expect("merge patch by someone");
    let live = to_json(&api.get("settings").await.expect("get"));
    let desired = dry_run(&api, "settings", &rendered).await;
    let drift = compare(&desired, Some(&live), &[]);
    assert_eq!(drift.status, SyncStatusCode::OutOfSync);
    let header = format!(
        "--- live ConfigMap {ns}/settings\n+++ desired ConfigMap {ns}/settings\n",
        ns = ns.name
    );
    assert!(drift.diff.starts_with(&header), "{}", drift.diff);
    let lines: Vec<&str> = drift.diff.lines().collect();
    assert!(lines.contains(&"-  color: red"), "{}", drift.diff);
    assert!(lines.contains(&"+  color: blue"), "{}", drift.diff);
    let changed = lines
        .iter()
        .filter(|l| (l.starts_with('-') || l.starts_with('+')) && !l.starts_with("---"))
        .filter(|l| !l.starts_with("+++"))
        .count();
    assert_eq!(changed, 2, "only the colour differs:\n{}", drift.diff);

    // Told to ignore that field, skiff sees no difference.
    let ignore = [ResourceIgnoreDifferences {
        group: String::new(),
        kind: "ConfigMap".into(),
        name: Some("settings".into()),
        namespace: Some(ns.name.clone()),
        json_pointers: vec!["/data/color".into()],
    }];
    let ignored = compare(&desired, Some(&live), &ignore);
    assert_eq!(ignored.status, SyncStatusCode::Synced, "{}", ignored.diff);

    // The object is gone: everything is to be added.
    let missing = compare(&desired, None, &[]);
    assert_eq!(missing.status, SyncStatusCode::OutOfSync);
    assert!(
        missing.diff.contains("+kind: ConfigMap"),
        "{}",
        missing.diff
    );
}

#[tokio::test]
async fn secret_diff_shows_the_change_but_no_value() {
    let ns = ControlPlane::shared().namespace("diff-secret").await;
    let api = ns.api::<Secret>();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (old, new, user) = ("correct-horse-battery", "tr0ub4dor-and-3", "app-user");
    let rendered = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": "db" },
        "type": "Opaque",
        "data": { "password": b64(new), "username": b64(user) },
    });
    api.patch("db", &PatchParams::apply("skiff"), &Patch::Apply(&rendered))
        .await
        .expect("apply Secret");
    let live = to_json(&api.get("db").await.expect("get"));
    let desired = dry_run(&api, "db", &rendered).await;
    assert_eq!(
        compare(&desired, Some(&live), &[]).status,
        SyncStatusCode::Synced
    );

    api.patch(
        "db",
        &edit_by_someone(),
        &Patch::Merge(json!({ "data": { "password": b64(old) } })),
    )
    .await
    .expect("merge patch by someone");
    let live = to_json(&api.get("db").await.expect("get"));
    assert_eq!(live["data"]["password"], b64(old), "the edit is live");
    let desired = dry_run(&api, "db", &rendered).await;
    let drift = compare(&desired, Some(&live), &[]);
    assert_eq!(drift.status, SyncStatusCode::OutOfSync);
    for secret in [old, new, user] {
        assert!(
            !drift.diff.contains(secret),
            "{secret} leaked:\n{}",
            drift.diff
        );
        assert!(
            !drift.diff.contains(&b64(secret)),
            "base64 of {secret} leaked:\n{}",
            drift.diff
        );
    }
    let lines: Vec<&str> = drift.diff.lines().collect();
    let removed = lines
        .iter()
        .find(|l| l.starts_with("-  password: +"))
        .unwrap_or_else(|| panic!("no masked old password in\n{}", drift.diff));
    let added = lines
        .iter()
        .find(|l| l.starts_with("+  password: +"))
        .unwrap_or_else(|| panic!("no masked new password in\n{}", drift.diff));
    assert_ne!(removed[1..], added[1..]);
    // The unchanged username is masked alike on both sides, so it is context.
    assert!(
        lines.iter().any(|l| l.starts_with("   username: +")),
        "{}",
        drift.diff
    );
}
