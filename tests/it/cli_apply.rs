//! `skiff apply` and `skiff diff` end to end: the binary against the testbed's
//! API server and a real Git repository, as a CI pipeline would run them.

use std::path::Path;
use std::process::{Command, Output};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Patch, PatchParams};
use serde_json::json;
use skiff_testbed::ControlPlane;

use crate::fleet::{GitRepo, application, config_map, create_app, scratch};

fn skiff(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(args)
        .arg("--kubeconfig")
        .arg(ControlPlane::shared().kubeconfig())
        .env("SKIFF_CACHE_DIR", cache)
        .output()
        .expect("run skiff")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn apply_then_diff_an_application_file() {
    let ns = ControlPlane::shared().namespace("cli-apply").await;
    let repo = GitRepo::new("cli-apply");
    repo.write("app/cm.yaml", &config_map("settings", &[("color", "blue")]))
        .write(
            "app/secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData:\n  token: s3cr3t-value\n",
        );
    repo.commit("v1");
    let dir = scratch("cli-apply-files");
    let file = dir.join("app.yaml");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    std::fs::write(&file, serde_saphyr::to_string(&app).expect("yaml")).expect("write");
    let file = file.to_str().expect("utf-8 path");
    let cache = dir.join("cache");

    let out = skiff(&["apply", file, "--no-wait"], &cache);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("ConfigMap {}/settings created", ns.name)),
        "{stdout}"
    );
    assert!(stderr.contains("not in the cluster"), "{stderr}");
    assert!(
        ns.api::<Secret>()
            .get_opt("token")
            .await
            .expect("get")
            .is_some()
    );

    let out = skiff(&["diff", file], &cache);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "in sync: {stdout}{stderr}");

    // Someone edits both objects.
    ns.api::<ConfigMap>()
        .patch(
            "settings",
            &PatchParams::apply("someone").force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings"}, "data": {"color": "red"}})),
        )
        .await
        .expect("edit config map");
    ns.api::<Secret>()
        .patch(
            "token",
            &PatchParams::apply("someone").force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "token"}, "stringData": {"token": "changed-value"}})),
        )
        .await
        .expect("edit secret");

    let out = skiff(&["diff", file], &cache);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "differs: {stdout}{stderr}");
    assert!(stdout.contains("-  color: red"), "{stdout}");
    assert!(stdout.contains("+  color: blue"), "{stdout}");
    assert!(stdout.contains("Secret"), "{stdout}");
    for secret in [
        "s3cr3t-value",
        "changed-value",
        "czNjcjN0LXZhbHVl",
        "Y2hhbmdlZC12YWx1ZQ==",
    ] {
        assert!(!stdout.contains(secret), "secret {secret} leaked: {stdout}");
        assert!(!stderr.contains(secret), "secret {secret} leaked: {stderr}");
    }
}

#[tokio::test]
async fn apply_with_the_application_in_the_cluster_prunes_and_records_status() {
    let ns = ControlPlane::shared().namespace("cli-prune").await;
    let repo = GitRepo::new("cli-prune");
    repo.write("app/a.yaml", &config_map("alpha", &[]))
        .write("app/b.yaml", &config_map("beta", &[]));
    repo.commit("v1");
    let app = application("web", &ns.name, &repo.url(), "app", json!({}));
    create_app(&ns.client, &app).await;
    let cache = scratch("cli-prune-cache");

    let out = skiff(&["apply", "web", "-n", &ns.name, "--no-wait"], &cache);
    assert!(out.status.success(), "{:?}", text(&out));
    repo.remove("app/b.yaml");
    let v2 = repo.commit("v2");
    let out = skiff(
        &["apply", "web", "-n", &ns.name, "--no-wait", "--prune"],
        &cache,
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("ConfigMap {}/beta pruned", ns.name)),
        "{stdout}"
    );
    assert!(
        ns.api::<ConfigMap>()
            .get_opt("beta")
            .await
            .expect("get")
            .is_none()
    );

    let stored = kube::Api::<skiff::api::Application>::namespaced(ns.client.clone(), &ns.name)
        .get("web")
        .await
        .expect("Application");
    let status = stored.status.expect("status recorded");
    assert_eq!(status.history.len(), 2);
    assert_eq!(status.history[0].revision, v2);
    let names: Vec<&str> = status.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["alpha"]);
}

#[test]
fn diff_of_an_unknown_application_fails_with_status_2() {
    let cache = scratch("cli-unknown-cache");
    let out = skiff(&["diff", "no-such-app", "-n", "default"], &cache);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-such-app"), "{stderr}");
}
