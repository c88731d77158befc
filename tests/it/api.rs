//! The generated CRDs install on a real apiserver (their schemas are structural),
//! an Argo CD-style Application ports by changing apiVersion, nothing written is
//! pruned, and typos are refused under strict field validation.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client};
use serde_json::json;
use skiff::api::{AppProject, Application, SyncWindowKind, crd_files};
use skiff_testbed::ControlPlane;

async fn install_crds(client: &Client) {
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    for (file, yaml) in crd_files() {
        let committed = std::fs::read_to_string(
            skiff_testbed::repo_root()
                .join("manifests/crds")
                .join(&file),
        )
        .expect("committed CRD");
        assert_eq!(committed, yaml, "{file} is stale");
        let crd: CustomResourceDefinition = serde_saphyr::from_str(&committed).expect("CRD YAML");
        let name = crd.metadata.name.clone().expect("name");
        crds.patch(
            &name,
            &PatchParams::apply("skiff").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("apiserver refused {file}: {e}"));
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(crds.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .expect("established within 30s")
        .expect("watch CRD");
    }
}

/// Retries while the new resource's endpoint is not served yet.
async fn apply_when_served<K>(api: &Api<K>, name: &str, obj: &serde_json::Value) -> K
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    for _ in 0..50 {
        match api
            .patch(
                name,
                &PatchParams::apply("skiff").validation_strict(),
                &Patch::Apply(obj),
            )
            .await
        {
            Ok(o) => return o,
            Err(kube::Error::Api(s)) if s.code == 404 => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("apply {name}: {e}"),
        }
    }
    panic!("{name}: endpoint not served within 5s")
}

#[tokio::test]
async fn argo_style_application_and_project_round_trip() {
    let ns = ControlPlane::shared().namespace("api").await;
    install_crds(&ns.client).await;

    // Argo CD's guestbook Application, apiVersion changed, plus every kind of field.
    let app = json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "Application",
        "metadata": { "name": "guestbook" },
        "spec": {
            "project": "team-a",
            "source": {
                "repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                "targetRevision": "HEAD",
                "path": "helm-guestbook",
                "helm": {
                    "releaseName": "gb",
                    "valueFiles": ["values-production.yaml"],
                    "values": "replicaCount: 2\n",
                    "valuesObject": { "ingress": { "enabled": true, "hosts": ["a.example"] } },
                    "parameters": [{ "name": "image.tag", "value": "1.2", "forceString": true }]
                }
            },
            "destination": { "server": "https://kubernetes.default.svc", "namespace": "guestbook" },
            "syncPolicy": {
                "automated": { "prune": true, "selfHeal": true },
                "syncOptions": ["CreateNamespace=true"],
                "retry": { "limit": 3, "backoff": { "duration": "5s", "factor": 2, "maxDuration": "3m" } }
            },
            "ignoreDifferences": [{ "group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"] }],
            "interval": "1m"
        }
    });
    let apps = ns.api::<Application>();
    let created = apply_when_served(&apps, "guestbook", &app).await;
    let read = apps.get("guestbook").await.expect("read Application");
    assert_eq!(read.spec, created.spec);
    // Nothing was pruned by the schema: the spec reads back as written.
    assert_eq!(
        serde_json::to_value(&read.spec).expect("spec to JSON"),
        app["spec"]
    );
    let helm = read.spec.source.helm.expect("helm source");
    assert_eq!(
        helm.values_object,
        Some(json!({ "ingress": { "enabled": true, "hosts": ["a.example"] } }))
    );
    assert!(helm.parameters[0].force_string);

    // The project defaults to "default" when omitted.
    let minimal = json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "Application",
        "metadata": { "name": "minimal" },
        "spec": { "source": { "repoURL": "file:///srv/fleet", "path": "apps/web" } }
    });
    let minimal = apply_when_served(&apps, "minimal", &minimal).await;
    assert_eq!(minimal.spec.project, "default");

    // A typo is refused, not silently dropped.
    let typo = json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "Application",
        "metadata": { "name": "typo" },
        "spec": { "source": { "repoURL": "file:///srv/fleet", "pth": "apps/web" } }
    });
    match apps
        .patch(
            "typo",
            &PatchParams::apply("skiff").validation_strict(),
            &Patch::Apply(&typo),
        )
        .await
    {
        Err(kube::Error::Api(s)) => {
            assert!(s.message.contains("pth"), "{}", s.message);
        }
        other => panic!("an unknown field was accepted: {other:?}"),
    }

    let project = json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "AppProject",
        "metadata": { "name": "team-a" },
        "spec": {
            "sourceRepos": ["https://github.com/argoproj/*"],
            "destinations": [{ "namespace": "guestbook", "server": "https://kubernetes.default.svc" }],
            "clusterResourceWhitelist": [{ "group": "", "kind": "Namespace" }],
            "syncWindows": [{
                "kind": "deny", "schedule": "0 22 * * *", "duration": "1h",
                "applications": ["*"], "manualSync": true, "timeZone": "Europe/Amsterdam"
            }]
        }
    });
    let projects = ns.api::<AppProject>();
    apply_when_served(&projects, "team-a", &project).await;
    let read = projects.get("team-a").await.expect("read AppProject");
    assert_eq!(
        serde_json::to_value(&read.spec).expect("spec to JSON"),
        project["spec"]
    );
    assert_eq!(read.spec.sync_windows[0].kind, SyncWindowKind::Deny);
}
