//! AppProject rules are enforced before anything is applied.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use skiff::api::AppProject;
use skiff::sync::OperationPhase;
use skiff_testbed::ControlPlane;

use crate::fleet::{GitRepo, application, config_map, engine, first_request, install_crds};

#[tokio::test]
async fn a_project_violation_is_refused_before_any_apply() {
    let ns = ControlPlane::shared().namespace("sync-project").await;
    install_crds(&ns.client).await;
    let project = json!({
        "apiVersion": "skiff.dev/v1alpha1", "kind": "AppProject",
        "metadata": {"name": "team", "namespace": ns.name},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"namespace": ns.name}],
            "namespaceResourceBlacklist": [{"group": "", "kind": "Secret"}],
        },
    });
    Api::<AppProject>::namespaced(ns.client.clone(), &ns.name)
        .patch(
            "team",
            &PatchParams::apply("skiff-tests"),
            &Patch::Apply(&project),
        )
        .await
        .expect("AppProject");
    let repo = GitRepo::new("sync-project");
    repo.write("app/a.yaml", &config_map("canary", &[]))
        .write(
            "app/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: hunter2\n",
        )
        .write(
            "app/elsewhere.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: kube-system\n",
        );
    repo.commit("violations");
    let app = application(
        "web",
        &ns.name,
        &repo.url(),
        "app",
        json!({"project": "team"}),
    );

    let outcome = engine(&ns.client, "sync-project", false)
        .sync(&app, &first_request())
        .await;

    assert_eq!(outcome.phase, OperationPhase::Error);
    assert!(
        outcome.message.starts_with("project:"),
        "{}",
        outcome.message
    );
    assert!(
        outcome.message.contains("namespaced kind Secret"),
        "{}",
        outcome.message
    );
    assert!(
        outcome
            .message
            .contains("ConfigMap kube-system/x: namespace \"kube-system\""),
        "{}",
        outcome.message
    );
    assert!(!outcome.message.contains("hunter2"));
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("canary")
            .await
            .expect("get")
            .is_none(),
        "nothing applied"
    );
}
