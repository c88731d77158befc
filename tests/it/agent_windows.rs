//! Sync windows held by the live agent: a deny window open now holds an
//! Application's first sync back (condition, event, nothing applied) and the
//! sync happens as soon as the window closes; a window with `manualSync`
//! lets `skiff sync` through while automated syncs wait.

use std::process::Command;
use std::time::Duration;

use chrono::Timelike;
use k8s_openapi::api::core::v1::{ConfigMap, Event};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use skiff::api::{AppProject, Application};
use skiff_testbed::ControlPlane;

use crate::agent::start_agent;
use crate::fleet::{GitRepo, assert_exit_ok, eventually, install_crds, scratch};

fn app_yaml(name: &str, namespace: &str, repo: &str) -> String {
    format!(
        "apiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  project: windowed\n  source:\n    repoURL: {repo}\n    targetRevision: main\n    path: apps/{name}\n  destination:\n    namespace: {namespace}\n  interval: 2s\n  syncPolicy:\n    automated:\n      prune: true\n"
    )
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  from: git\n")
}

#[tokio::test]
async fn a_deny_window_holds_syncs_until_it_closes_and_manual_sync_gets_through() {
    let ns = ControlPlane::shared().namespace("windows").await;
    install_crds(&ns.client).await;

    // Deny windows that opened this minute (UTC) and close at the end of it,
    // or of the next one when this one is nearly over.
    let now = chrono::Utc::now();
    let minutes = if now.second() <= 30 { 1 } else { 2 };
    let closes = now
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .expect("minute start")
        + chrono::TimeDelta::minutes(minutes);
    let schedule = format!("{} {} * * *", now.minute(), now.hour());
    let project: AppProject = serde_json::from_value(serde_json::json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "windowed", "namespace": ns.name},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"namespace": "*"}],
            "syncWindows": [
                {"kind": "deny", "schedule": schedule, "duration": format!("{minutes}m"),
                 "applications": ["held"]},
                {"kind": "deny", "schedule": schedule, "duration": format!("{minutes}m"),
                 "applications": ["manual"], "manualSync": true},
            ],
        },
    }))
    .expect("project");
    Api::<AppProject>::namespaced(ns.client.clone(), &ns.name)
        .patch(
            "windowed",
            &PatchParams::apply("tests"),
            &Patch::Apply(&project),
        )
        .await
        .expect("AppProject");

    let fleet = GitRepo::new("windows-fleet");
    let url = fleet.url();
    for name in ["held", "manual"] {
        fleet
            .write(
                &format!("clusters/dev/{name}.yaml"),
                &app_yaml(name, &ns.name, &url),
            )
            .write(&format!("apps/{name}/cm.yaml"), &config_map(name));
    }
    fleet.commit("two apps in a windowed project");
    let _agent = start_agent(&ns, &fleet, &scratch("windows").join("cache"));
    let apps: Api<Application> = Api::namespaced(ns.client.clone(), &ns.name);
    let cms = ns.api::<ConfigMap>();

    // Held: the condition says why and until when; nothing is applied.
    let condition = eventually("the block recorded", Duration::from_secs(30), || {
        let apps = apps.clone();
        async move {
            let status = apps.get("held").await.ok()?.status?;
            status
                .conditions
                .into_iter()
                .find(|c| c.type_ == "SyncWindowBlocked")
        }
    })
    .await;
    let message = condition.message.unwrap_or_default();
    assert!(message.contains("deny window"), "{message}");
    assert!(
        message.contains(&closes.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        "the message names when the window closes ({closes}): {message}"
    );
    assert!(
        chrono::Utc::now() < closes,
        "the test observed the block in time"
    );
    assert!(
        cms.get_opt("held").await.expect("get").is_none(),
        "nothing applied while held"
    );
    let status = apps
        .get("held")
        .await
        .expect("held")
        .status
        .expect("status");
    assert_eq!(
        status.sync.map(|s| s.status),
        Some(skiff::api::SyncStatusCode::OutOfSync),
        "the comparison still runs while held"
    );
    let events = ns
        .api::<Event>()
        .list(&ListParams::default().fields("involvedObject.name=held"))
        .await
        .expect("events");
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("SyncBlocked")),
        "a SyncBlocked event: {:?}",
        events.items.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );

    // Manual sync through the window with manualSync, while it is open.
    let out = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args([
            "sync",
            "manual",
            "--wait",
            "--timeout",
            "20s",
            "-n",
            &ns.name,
            "--kubeconfig",
        ])
        .arg(ControlPlane::shared().kubeconfig())
        .output()
        .expect("skiff sync");
    assert_exit_ok(&out);
    assert!(
        chrono::Utc::now() < closes,
        "the manual sync ran inside the window"
    );
    assert!(
        cms.get_opt("manual").await.expect("get").is_some(),
        "manual sync applied"
    );
    assert!(
        cms.get_opt("held").await.expect("get").is_none(),
        "held is still held"
    );

    // The window closes: the held sync runs at once and the condition goes.
    let wait = (closes - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(20);
    eventually("the held sync after the window", wait, || {
        let cms = cms.clone();
        async move { cms.get_opt("held").await.ok()? }
    })
    .await;
    let late = chrono::Utc::now() - closes;
    eprintln!("held sync applied {late} after the window closed");
    // The objects are applied before the operation's status is written:
    // the condition goes with that write, moments later.
    eventually(
        "the SyncWindowBlocked condition cleared",
        Duration::from_secs(15),
        || {
            let apps = apps.clone();
            async move {
                let status = apps.get("held").await.ok()?.status?;
                status
                    .conditions
                    .iter()
                    .all(|c| c.type_ != "SyncWindowBlocked")
                    .then_some(())
            }
        },
    )
    .await;
}
