//! The agent end to end: `skiff agent` as a real process against the testbed
//! and a real fleet repository. It creates the root Application, which
//! applies the Applications in Git (app-of-apps); those sync in turn; a new
//! commit is picked up by polling; the trigger annotation syncs at once and
//! is echoed; drift is corrected with selfHeal; deleting an Application
//! prunes what it applied.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;
use skiff::api::Application;
use skiff_testbed::{ChildGuard, ControlPlane, TestNamespace};

use crate::fleet::{GitRepo, assert_exit_ok, eventually, install_crds, scratch};

/// An Application manifest as it sits in the fleet repository.
fn app_yaml(name: &str, namespace: &str, repo: &str, path: &str, self_heal: bool) -> String {
    format!(
        "apiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  source:\n    repoURL: {repo}\n    targetRevision: main\n    path: {path}\n  destination:\n    namespace: {namespace}\n  interval: 2s\n  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: {self_heal}\n"
    )
}

fn overlay(repo: &GitRepo, env: &str, color: &str) {
    repo.write(
        "apps/web/base/kustomization.yaml",
        "resources:\n- config.yaml\n",
    )
    .write(
        "apps/web/base/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  color: base\n",
    )
    .write(
        &format!("apps/web/overlays/{env}/kustomization.yaml"),
        &format!(
            "resources:\n- ../../base\nnamePrefix: {env}-\npatches:\n- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: web-config\n    data:\n      color: {color}\n"
        ),
    );
}

/// A fleet with two environments; the agent serves `clusters/dev`.
fn fleet_repo(name: &str, namespace: &str) -> GitRepo {
    let repo = GitRepo::new(name);
    let url = repo.url();
    overlay(&repo, "dev", "green");
    overlay(&repo, "prod", "blue");
    repo.write(
        "clusters/dev/web.yaml",
        &app_yaml("web", namespace, &url, "apps/web/overlays/dev", true),
    )
    .write(
        "clusters/dev/audit.yaml",
        &app_yaml("audit", namespace, &url, "apps/audit", false),
    )
    .write(
        "apps/audit/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: audit\ndata:\n  level: low\n",
    )
    .write(
        "clusters/prod/web.yaml",
        &app_yaml(
            "web",
            "prod-elsewhere",
            &url,
            "apps/web/overlays/prod",
            true,
        ),
    );
    repo.commit("fleet with dev and prod");
    repo
}

pub(crate) struct Agent {
    _child: ChildGuard,
}

pub(crate) fn start_agent(ns: &TestNamespace, repo: &GitRepo, cache: &Path) -> Agent {
    let child = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .arg("agent")
        .env("KUBECONFIG", ControlPlane::shared().kubeconfig())
        .env("SKIFF_FLEET_REPO_URL", repo.url())
        .env("SKIFF_FLEET_TARGET_REVISION", "main")
        .env("SKIFF_FLEET_PATH", "clusters/dev")
        .env("SKIFF_NAMESPACE", &ns.name)
        .env("SKIFF_INTERVAL", "2s")
        .env("SKIFF_LOG_FORMAT", "text")
        .env("SKIFF_LOG", "warn")
        .env("SKIFF_METRICS_ADDRESS", "127.0.0.1:0")
        .env("XDG_CACHE_HOME", cache)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start skiff agent");
    Agent {
        _child: ChildGuard::new(child),
    }
}

async fn color(cms: &Api<ConfigMap>, name: &str) -> Option<String> {
    cms.get_opt(name)
        .await
        .ok()
        .flatten()
        .and_then(|cm| cm.data)
        .and_then(|d| d.get("color").or(d.get("level")).cloned())
}

#[tokio::test]
async fn the_agent_syncs_the_fleet_and_reacts_to_git_triggers_and_drift() {
    let ns = ControlPlane::shared().namespace("agent").await;
    install_crds(&ns.client).await;
    let repo = fleet_repo("agent-fleet", &ns.name);
    let cache = scratch("agent-cache");
    let _agent = start_agent(&ns, &repo, &cache);
    let cms = ns.api::<ConfigMap>();
    let apps: Api<Application> = Api::namespaced(ns.client.clone(), &ns.name);

    // app-of-apps: root -> web -> dev overlay applied (prod is not this cluster's).
    let first = eventually("the dev overlay applied", Duration::from_secs(60), || {
        let cms = cms.clone();
        async move { color(&cms, "dev-web-config").await }
    })
    .await;
    assert_eq!(first, "green");
    assert!(cms.get_opt("prod-web-config").await.expect("get").is_none());
    let root = apps.get("fleet").await.expect("root Application");
    assert_eq!(root.spec.source.path.as_deref(), Some("clusters/dev"));
    let web = apps.get("web").await.expect("web Application from Git");
    assert!(
        web.finalizers().iter().any(|f| f == "skiff.dev/prune"),
        "finalizer added: {:?}",
        web.metadata.finalizers
    );

    // A commit is picked up by polling.
    overlay(&repo, "dev", "purple");
    repo.commit("dev: purple");
    eventually("the commit applied", Duration::from_secs(30), || {
        let cms = cms.clone();
        async move {
            (color(&cms, "dev-web-config").await.as_deref() == Some("purple")).then_some(())
        }
    })
    .await;

    // The trigger annotation syncs at once and is echoed.
    let asked = Instant::now();
    apps.patch(
        "audit",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {"skiff.dev/requested-at": "now-1"}}})),
    )
    .await
    .expect("annotate");
    eventually("the request echoed", Duration::from_secs(20), || {
        let apps = apps.clone();
        async move {
            let app = apps.get("audit").await.ok()?;
            let status = app.status?;
            (status.last_handled_request.as_deref() == Some("now-1")
                && status.operation_state?.finished_at.is_some())
            .then_some(())
        }
    })
    .await;
    eprintln!("annotation to handled: {:?}", asked.elapsed());

    // The CLI against the live agent: `sync --wait` returns once the agent
    // recorded the sync it asked for; `get apps -o json` lists all three.
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(args)
            .args(["-n", &ns.name, "--kubeconfig"])
            .arg(ControlPlane::shared().kubeconfig())
            .output()
            .expect("run skiff")
    };
    let out = cli(&["sync", "audit", "--wait", "--timeout", "30s"]);
    assert_exit_ok(&out);
    let out = cli(&["get", "apps", "-o", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["metadata"]["name"].as_str().unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(names, ["audit", "fleet", "web"]);
    for app in list["items"].as_array().expect("items") {
        assert_eq!(app["status"]["sync"]["status"], "Synced", "{app}");
    }
    let history = cli(&["history", "audit", "-o", "json"]);
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).expect("JSON");
    assert!(
        history.as_array().is_some_and(|h| h.len() >= 2),
        "two requested syncs in history: {history}"
    );

    // Drift: corrected with selfHeal (web), only reported without it (audit).
    for (name, value) in [("dev-web-config", "tampered"), ("audit", "tampered")] {
        let field = if name == "audit" { "level" } else { "color" };
        cms.patch(
            name,
            &PatchParams::apply("intruder").force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name}, "data": {field: value}})),
        )
        .await
        .expect("drift");
    }
    eventually("drift corrected", Duration::from_secs(30), || {
        let cms = cms.clone();
        async move {
            (color(&cms, "dev-web-config").await.as_deref() == Some("purple")).then_some(())
        }
    })
    .await;
    eventually("drift reported", Duration::from_secs(30), || {
        let apps = apps.clone();
        async move {
            let status = apps.get("audit").await.ok()?.status?;
            (status.sync?.status == skiff::api::SyncStatusCode::OutOfSync).then_some(())
        }
    })
    .await;
    assert_eq!(color(&cms, "audit").await.as_deref(), Some("tampered"));

    // `skiff diff` and `skiff status -o json` show that drift against the live agent's record.
    let diff = cli(&["diff", "audit"]);
    let text = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(diff.status.code(), Some(1), "diff exits 1 on drift: {text}");
    assert!(
        text.contains("-  level: tampered") && text.contains("+  level: low"),
        "{text}"
    );
    let status = cli(&["status", "audit", "-o", "json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(status["status"]["sync"]["status"], "OutOfSync", "{status}");
    let resources = status["status"]["resources"].as_array().expect("resources");
    assert!(
        resources.iter().any(|r| r["kind"] == "ConfigMap"
            && r["name"] == "audit"
            && r["status"] == "OutOfSync"),
        "{status}"
    );
    assert_eq!(
        status["status"]["operationState"]["phase"], "Succeeded",
        "{status}"
    );

    // Deleting an Application (here one not in Git) prunes what it applied.
    let extra: Application = serde_saphyr::from_str(&app_yaml(
        "extra",
        &ns.name,
        &repo.url(),
        "apps/audit-extra",
        false,
    ))
    .expect("app");
    repo.write(
        "apps/audit-extra/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  level: high\n",
    );
    repo.commit("extra source");
    apps.patch("extra", &PatchParams::apply("tests"), &Patch::Apply(&extra))
        .await
        .expect("create extra");
    eventually("extra applied", Duration::from_secs(30), || {
        let cms = cms.clone();
        async move { color(&cms, "extra").await }
    })
    .await;
    apps.delete("extra", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("extra pruned and gone", Duration::from_secs(30), || {
        let (cms, apps) = (cms.clone(), apps.clone());
        async move {
            let gone = cms.get_opt("extra").await.ok()?.is_none()
                && apps.get_opt("extra").await.ok()?.is_none();
            gone.then_some(())
        }
    })
    .await;

    // rollback, suspend and resume against the live agent, on an Application
    // that is not itself in Git (the root app would put a Git-declared one back).
    let solo_cm = |level: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: solo\ndata:\n  level: {level}\n"
        )
    };
    repo.write("apps/solo/cm.yaml", &solo_cm("one"));
    let first = repo.commit("solo one");
    let solo: Application =
        serde_saphyr::from_str(&app_yaml("solo", &ns.name, &repo.url(), "apps/solo", false))
            .expect("app");
    apps.patch("solo", &PatchParams::apply("tests"), &Patch::Apply(&solo))
        .await
        .expect("create solo");
    eventually("solo one", Duration::from_secs(30), || {
        let cms = cms.clone();
        async move { (color(&cms, "solo").await.as_deref() == Some("one")).then_some(()) }
    })
    .await;
    repo.write("apps/solo/cm.yaml", &solo_cm("two"));
    repo.commit("solo two");
    eventually("solo two", Duration::from_secs(30), || {
        let cms = cms.clone();
        async move { (color(&cms, "solo").await.as_deref() == Some("two")).then_some(()) }
    })
    .await;
    let history = cli(&["history", "solo", "-o", "json"]);
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).expect("JSON");
    let oldest = history
        .as_array()
        .and_then(|h| h.iter().find(|e| e["revision"] == first.as_str()))
        .unwrap_or_else(|| panic!("the first sync in history: {history}"));
    let id = oldest["id"].to_string();
    let out = cli(&["rollback", "solo", &id, "--wait", "--timeout", "30s"]);
    assert_exit_ok(&out);
    assert_eq!(
        color(&cms, "solo").await.as_deref(),
        Some("one"),
        "rolled back"
    );
    let status = cli(&["status", "solo", "-o", "json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(
        status["spec"]["syncPolicy"]["automated"],
        serde_json::Value::Null,
        "{status}"
    );
    assert_eq!(
        status["status"]["sync"]["revision"],
        first.as_str(),
        "{status}"
    );

    // Suspended, a sync request waits (the CLI times out, exit 2); resumed, it runs.
    assert!(cli(&["suspend", "solo"]).status.success());
    let out = cli(&["sync", "solo", "--wait", "--timeout", "4s"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a suspended app does not sync: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        color(&cms, "solo").await.as_deref(),
        Some("one"),
        "still one"
    );
    assert!(cli(&["resume", "solo"]).status.success());
    eventually(
        "the request runs once resumed",
        Duration::from_secs(30),
        || {
            let cms = cms.clone();
            async move { (color(&cms, "solo").await.as_deref() == Some("two")).then_some(()) }
        },
    )
    .await;
}

#[tokio::test]
async fn an_agent_killed_mid_sync_converges_after_a_restart() {
    let ns = ControlPlane::shared().namespace("agent-kill").await;
    install_crds(&ns.client).await;
    let repo = GitRepo::new("agent-kill-fleet");
    repo.write(
        "clusters/dev/big.yaml",
        &app_yaml("big", &ns.name, &repo.url(), "apps/big", false),
    );
    let mut many = String::new();
    for i in 0..300 {
        many.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03}\n  annotations:\n    skiff.dev/sync-wave: \"{}\"\ndata:\n  i: \"{i}\"\n",
            i / 30
        ));
    }
    repo.write("apps/big/many.yaml", &many);
    repo.commit("300 config maps in 10 waves");
    let cache = scratch("agent-kill-cache");
    let cms = ns.api::<ConfigMap>();
    let count = |cms: Api<ConfigMap>| async move {
        cms.list(&kube::api::ListParams::default().labels("skiff.dev/application=big"))
            .await
            .map(|l| l.items.len())
            .unwrap_or(0)
    };

    // Kill it once part of the waves are applied.
    let agent = start_agent(&ns, &repo, &cache);
    let partial = eventually("part of the sync applied", Duration::from_secs(60), || {
        let cms = cms.clone();
        async move {
            let n = count(cms).await;
            (n >= 30).then_some(n)
        }
    })
    .await;
    drop(agent);
    let after_kill = count(cms.clone()).await;
    eprintln!("killed with {partial}..{after_kill} of 300 applied");

    // A new agent finishes the job: every object once, the status complete.
    let _agent = start_agent(&ns, &repo, &cache);
    eventually(
        "all 300 applied and recorded",
        Duration::from_secs(120),
        || {
            let (cms, apps) = (
                cms.clone(),
                Api::<Application>::namespaced(ns.client.clone(), &ns.name),
            );
            async move {
                let n = count(cms).await;
                let status = apps.get("big").await.ok()?.status?;
                (n == 300
                    && status.resources.len() == 300
                    && status.sync?.status == skiff::api::SyncStatusCode::Synced)
                    .then_some(())
            }
        },
    )
    .await;
}
