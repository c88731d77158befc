//! The sync engine against the real API server and a real Git repository:
//! first sync, a change applied, removed objects pruned only by inventory,
//! and nothing changed or pruned after a failed or empty render.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use skiff::sync::{Action, OperationPhase};
use skiff_testbed::ControlPlane;

use crate::fleet::{GitRepo, application, apply_request, config_map, engine, first_request};

fn action_of(outcome: &skiff::sync::Outcome, name: &str) -> Action {
    outcome
        .resources
        .iter()
        .rfind(|r| r.key.name == name)
        .unwrap_or_else(|| panic!("no result for {name}: {:?}", outcome.resources))
        .action
}

#[tokio::test]
async fn first_sync_creates_labelled_objects_and_records_the_inventory() {
    let ns = ControlPlane::shared().namespace("sync-first").await;
    let repo = GitRepo::new("sync-first");
    repo.write("app/a.yaml", &config_map("alpha", &[("k", "1")]))
        .write("app/b.yaml", &config_map("beta", &[("k", "2")]));
    let commit = repo.commit("two config maps");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "sync-first", false);

    let outcome = engine.sync(&app, &first_request()).await;

    assert_eq!(
        outcome.phase,
        OperationPhase::Succeeded,
        "{}",
        outcome.message
    );
    assert_eq!(outcome.revision.as_deref(), Some(commit.as_str()));
    assert_eq!(action_of(&outcome, "alpha"), Action::Created);
    assert_eq!(action_of(&outcome, "beta"), Action::Created);
    let names: Vec<String> = outcome.inventory.iter().map(|k| k.to_string()).collect();
    assert_eq!(
        names,
        [
            format!("ConfigMap {}/alpha", ns.name),
            format!("ConfigMap {}/beta", ns.name)
        ]
    );
    let live = ns.api::<ConfigMap>().get("alpha").await.expect("created");
    let labels = live.metadata.labels.unwrap_or_default();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "skiff");
    assert_eq!(labels["skiff.dev/application"], "web");
    assert_eq!(live.data.unwrap_or_default()["k"], "1");

    // The same commit again changes nothing.
    let again = engine.sync(&app, &apply_request(&outcome, true)).await;
    assert_eq!(again.phase, OperationPhase::Succeeded, "{}", again.message);
    assert_eq!(action_of(&again, "alpha"), Action::Unchanged);
    assert_eq!(action_of(&again, "beta"), Action::Unchanged);
}

#[tokio::test]
async fn a_change_in_git_is_applied_and_a_removed_object_pruned() {
    let ns = ControlPlane::shared().namespace("sync-change").await;
    let repo = GitRepo::new("sync-change");
    repo.write("app/a.yaml", &config_map("alpha", &[("k", "1")]))
        .write("app/b.yaml", &config_map("beta", &[("k", "2")]));
    repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "sync-change", false);
    let first = engine.sync(&app, &first_request()).await;
    assert_eq!(first.phase, OperationPhase::Succeeded, "{}", first.message);

    repo.write("app/a.yaml", &config_map("alpha", &[("k", "changed")]))
        .remove("app/b.yaml");
    repo.commit("v2: alpha changed, beta removed");
    let second = engine.sync(&app, &apply_request(&first, true)).await;

    assert_eq!(
        second.phase,
        OperationPhase::Succeeded,
        "{}",
        second.message
    );
    assert_eq!(action_of(&second, "alpha"), Action::Configured);
    assert_eq!(action_of(&second, "beta"), Action::Pruned);
    let cms = ns.api::<ConfigMap>();
    assert_eq!(
        cms.get("alpha")
            .await
            .expect("alpha")
            .data
            .unwrap_or_default()["k"],
        "changed"
    );
    assert!(
        cms.get_opt("beta").await.expect("get").is_none(),
        "beta pruned"
    );
    assert_eq!(second.inventory.len(), 1);
}

#[tokio::test]
async fn without_prune_a_removed_object_stays_tracked_and_out_of_sync() {
    let ns = ControlPlane::shared().namespace("sync-noprune").await;
    let repo = GitRepo::new("sync-noprune");
    repo.write("app/a.yaml", &config_map("alpha", &[]))
        .write("app/b.yaml", &config_map("beta", &[]));
    repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "sync-noprune", false);
    let first = engine.sync(&app, &first_request()).await;
    repo.remove("app/b.yaml");
    repo.commit("v2");

    let second = engine.sync(&app, &apply_request(&first, false)).await;

    assert_eq!(
        second.phase,
        OperationPhase::Succeeded,
        "{}",
        second.message
    );
    assert_eq!(action_of(&second, "beta"), Action::RequiresPruning);
    assert_eq!(second.sync_status, skiff::api::SyncStatusCode::OutOfSync);
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("beta")
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        second.inventory.iter().any(|k| k.name == "beta"),
        "still tracked"
    );
}

#[tokio::test]
async fn objects_not_ours_or_marked_are_never_pruned() {
    let ns = ControlPlane::shared().namespace("sync-notours").await;
    let repo = GitRepo::new("sync-notours");
    let kept = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations:\n    skiff.dev/prune: disabled\n";
    repo.write("app/a.yaml", &config_map("alpha", &[]))
        .write("app/taken.yaml", &config_map("taken", &[]))
        .write("app/kept.yaml", kept);
    repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "sync-notours", false);
    let first = engine.sync(&app, &first_request()).await;
    assert_eq!(first.phase, OperationPhase::Succeeded, "{}", first.message);
    // Someone else takes `taken` over: its tracking label now names another app.
    ns.api::<ConfigMap>()
        .patch(
            "taken",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"skiff.dev/application": "other"}}})),
        )
        .await
        .expect("relabel");
    repo.remove("app/taken.yaml").remove("app/kept.yaml");
    repo.commit("v2");

    let second = engine.sync(&app, &apply_request(&first, true)).await;

    assert_eq!(
        second.phase,
        OperationPhase::Succeeded,
        "{}",
        second.message
    );
    assert_eq!(action_of(&second, "taken"), Action::NotOurs);
    assert_eq!(action_of(&second, "kept"), Action::PruneDisabled);
    let cms = ns.api::<ConfigMap>();
    assert!(cms.get_opt("taken").await.expect("get").is_some());
    assert!(cms.get_opt("kept").await.expect("get").is_some());
}

#[tokio::test]
async fn a_failed_render_changes_nothing_and_prunes_nothing() {
    let ns = ControlPlane::shared().namespace("sync-badrender").await;
    let repo = GitRepo::new("sync-badrender");
    repo.write("app/a.yaml", &config_map("alpha", &[("k", "1")]))
        .write("app/b.yaml", &config_map("beta", &[]));
    repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "sync-badrender", false);
    let first = engine.sync(&app, &first_request()).await;
    assert_eq!(first.phase, OperationPhase::Succeeded, "{}", first.message);

    // alpha changes, beta disappears, and a broken file joins them.
    repo.write("app/a.yaml", &config_map("alpha", &[("k", "2")]))
        .remove("app/b.yaml")
        .write("app/broken.yaml", "kind: ConfigMap\nmetadata: [unclosed\n");
    repo.commit("v2: broken");
    let second = engine.sync(&app, &apply_request(&first, true)).await;

    assert_eq!(second.phase, OperationPhase::Error);
    assert!(second.message.contains("broken.yaml"), "{}", second.message);
    assert_eq!(second.inventory, first.inventory, "inventory kept");
    let cms = ns.api::<ConfigMap>();
    assert_eq!(
        cms.get("alpha")
            .await
            .expect("alpha")
            .data
            .unwrap_or_default()["k"],
        "1",
        "not applied"
    );
    assert!(
        cms.get_opt("beta").await.expect("get").is_some(),
        "not pruned"
    );
}

#[tokio::test]
async fn an_empty_render_is_refused_unless_allowed() {
    let ns = ControlPlane::shared().namespace("sync-empty").await;
    let repo = GitRepo::new("sync-empty");
    repo.write("app/a.yaml", &config_map("alpha", &[]));
    repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let engine = engine(&ns.client, "sync-empty", false);
    let first = engine.sync(&app, &first_request()).await;
    repo.remove("app/a.yaml")
        .write("app/README.md", "nothing here\n");
    repo.commit("v2: empty");

    let refused = engine.sync(&app, &apply_request(&first, true)).await;
    assert_eq!(refused.phase, OperationPhase::Error);
    assert!(
        refused.message.contains("allowEmpty"),
        "{}",
        refused.message
    );
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("alpha")
            .await
            .expect("get")
            .is_some()
    );

    let allowing = application(
        "web",
        &ns.name,
        &repo.url(),
        "app",
        json!({"syncPolicy": {"automated": {"prune": true, "allowEmpty": true}}}),
    );
    let emptied = engine.sync(&allowing, &apply_request(&first, true)).await;
    assert_eq!(
        emptied.phase,
        OperationPhase::Succeeded,
        "{}",
        emptied.message
    );
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("alpha")
            .await
            .expect("get")
            .is_none()
    );
}

#[tokio::test]
async fn the_outcome_is_recorded_in_status_without_touching_spec() {
    let ns = ControlPlane::shared().namespace("sync-record").await;
    let repo = GitRepo::new("sync-record");
    repo.write("app/a.yaml", &config_map("alpha", &[]));
    let commit = repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    let stored = crate::fleet::create_app(&ns.client, &app).await;
    let engine = engine(&ns.client, "sync-record", false);

    let outcome = engine.sync(&stored, &first_request()).await;
    let recorded = crate::fleet::record_outcome(&ns.client, &stored, &outcome).await;

    assert_eq!(recorded.spec, stored.spec, "spec untouched");
    let status = recorded.status.expect("status");
    let sync = status.sync.expect("sync status");
    assert_eq!(sync.status, skiff::api::SyncStatusCode::Synced);
    assert_eq!(sync.revision.as_deref(), Some(commit.as_str()));
    assert_eq!(status.resources.len(), 1);
    assert_eq!(status.resources[0].name, "alpha");
    assert_eq!(
        status.resources[0].namespace.as_deref(),
        Some(ns.name.as_str())
    );
    let op = status.operation_state.expect("operation state");
    assert_eq!(op.phase, "Succeeded");
    assert_eq!(status.history.len(), 1);
    assert_eq!(status.history[0].id, 1);
    assert_eq!(status.history[0].revision, commit);
    assert_eq!(status.observed_generation, stored.metadata.generation);

    // A sync that cannot start adds a SyncError condition and keeps the inventory.
    repo.write("app/bad.yaml", "apiVersion: v1\nkind: ConfigMap\n");
    repo.commit("v2: nameless");
    let failed = engine
        .sync(&recorded_app(&ns).await, &apply_request(&outcome, true))
        .await;
    assert_eq!(failed.phase, OperationPhase::Error);
    assert!(failed.message.contains("bad.yaml:1"), "{}", failed.message);
    let again = crate::fleet::record_outcome(&ns.client, &recorded_app(&ns).await, &failed).await;
    let status = again.status.expect("status");
    let condition = status
        .conditions
        .iter()
        .find(|c| c.type_ == "SyncError")
        .expect("SyncError condition");
    assert!(
        condition
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("metadata.name")
    );
    assert_eq!(status.resources.len(), 1, "inventory kept");
    assert_eq!(status.operation_state.expect("op").phase, "Error");
}

async fn recorded_app(ns: &skiff_testbed::TestNamespace) -> skiff::api::Application {
    kube::Api::<skiff::api::Application>::namespaced(ns.client.clone(), &ns.name)
        .get("web")
        .await
        .expect("Application")
}

#[tokio::test]
async fn applications_sharing_a_repository_share_one_fetch() {
    let ns = ControlPlane::shared().namespace("sync-shared").await;
    let repo = GitRepo::new("sync-shared");
    for i in 0..4 {
        repo.write(
            &format!("app{i}/cm.yaml"),
            &config_map(&format!("cm{i}"), &[]),
        );
    }
    repo.commit("four apps");
    let cache = std::sync::Arc::new(
        skiff::source::git::GitCache::new(
            crate::fleet::scratch("sync-shared-cache"),
            std::time::Duration::from_secs(30),
        )
        .expect("cache"),
    );
    let engine = skiff::sync::Engine::new(
        ns.client.clone(),
        cache.clone(),
        skiff::sync::EngineOptions {
            wait: false,
            fetch_max_age: std::time::Duration::from_secs(600),
            ..skiff::sync::EngineOptions::default()
        },
    );
    let apps: Vec<_> = (0..4)
        .map(|i| {
            application(
                &format!("app{i}"),
                &ns.name,
                &repo.url(),
                &format!("app{i}"),
                json!({}),
            )
        })
        .collect();
    let poll = skiff::sync::SyncRequest {
        trigger: skiff::sync::Trigger::Poll,
        ..first_request()
    };

    let outcomes = futures::future::join_all(apps.iter().map(|a| engine.sync(a, &poll))).await;

    for o in &outcomes {
        assert_eq!(o.phase, OperationPhase::Succeeded, "{}", o.message);
    }
    assert_eq!(cache.fetch_count(), 1, "one fetch for four Applications");
    // A person asking for a sync always gets a fresh fetch.
    let manual = engine.sync(&apps[0], &first_request()).await;
    assert_eq!(
        manual.phase,
        OperationPhase::Succeeded,
        "{}",
        manual.message
    );
    assert_eq!(cache.fetch_count(), 2);
}
