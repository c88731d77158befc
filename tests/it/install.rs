//! How skiff is installed in a cluster: `manifests/install.yaml` is exactly
//! what `manifests/generate.sh` builds; it applies cleanly with server-side
//! apply and strict field validation; the chart in `charts/skiff` renders the
//! same objects with its default values (with helm and with skiff alike); and
//! the permissions install.yaml grants are all the agent needs: the real
//! agent, logged in with a token of the `skiff-agent` ServiceAccount and
//! nothing else, syncs an Application into another namespace. The same holds
//! for the chart's namespaced RBAC (`rbac.clusterWide=false`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{
    SelfSubjectReview, TokenRequest, TokenRequestSpec, UserInfo,
};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{Scope, pinned_kind};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client, Config};
use serde_json::Value;
use skiff::api::{Application, HealthStatusCode, SyncStatusCode};
use skiff::controller::config::AgentConfig;
use skiff_testbed::{ChildGuard, ControlPlane, TestNamespace};

use crate::fleet::{GitRepo, eventually, install_crds, scratch};

/// Where install.yaml puts the agent.
const NAMESPACE: &str = "skiff-system";
const SERVICE_ACCOUNT: &str = "skiff-agent";
/// The field manager this test applies install.yaml with.
const MANAGER: &str = "skiff-install-test";

fn repo_file(path: &str) -> PathBuf {
    skiff_testbed::repo_root().join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The non-empty documents of a YAML stream, as JSON.
fn documents(what: &str, text: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .unwrap_or_else(|e| panic!("{what} is not a YAML stream: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn install_yaml() -> Vec<Value> {
    documents("install.yaml", &read(&repo_file("manifests/install.yaml")))
}

fn kind_name(doc: &Value) -> (String, String) {
    let field = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (field(&doc["kind"]), field(&doc["metadata"]["name"]))
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| kind_name(d) == (kind.to_owned(), name.to_owned()))
        .unwrap_or_else(|| panic!("no {kind} {name} among {:?}", kinds(docs)))
}

fn kinds(docs: &[Value]) -> BTreeSet<(String, String)> {
    docs.iter().map(kind_name).collect()
}

/// The agent's configuration file as the ConfigMap ships it, parsed.
fn shipped_config(docs: &[Value]) -> Value {
    let text = find(docs, "ConfigMap", "skiff-config")["data"]["skiff.yaml"]
        .as_str()
        .expect("skiff-config has data.skiff.yaml")
        .to_owned();
    serde_saphyr::from_str(&text).expect("skiff.yaml in the ConfigMap is YAML")
}

#[test]
fn install_yaml_is_what_generate_sh_builds() {
    let out = Command::new(repo_file("manifests/generate.sh"))
        .arg("--print")
        .output()
        .expect("run manifests/generate.sh");
    assert!(
        out.status.success(),
        "generate.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = read(&repo_file("manifests/install.yaml"));
    assert!(
        String::from_utf8_lossy(&out.stdout) == installed,
        "manifests/install.yaml is stale: run manifests/generate.sh"
    );
    // The chart renders its copies of the CRDs; they must be the generated ones.
    for entry in std::fs::read_dir(repo_file("manifests/crds")).expect("manifests/crds") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("file name").to_string_lossy();
        let copy = repo_file("charts/skiff/files/crds").join(&*name);
        assert!(
            copy.is_file() && read(&copy) == read(&path),
            "charts/skiff/files/crds/{name} is stale: run manifests/generate.sh"
        );
    }
    // The shipped configuration is one the agent accepts as it is.
    let docs = install_yaml();
    let text = find(&docs, "ConfigMap", "skiff-config")["data"]["skiff.yaml"]
        .as_str()
        .expect("data.skiff.yaml")
        .to_owned();
    let config = AgentConfig::parse("skiff-config", &text, |_| None).expect("valid config");
    assert_eq!(config.namespace, NAMESPACE);
    assert_eq!(config.cache_dir, Path::new("/var/cache/skiff"));
    assert_eq!(config.metrics_address.port(), 8080);
}

/// `helm template` (`program` is helm) or `skiff helm template` (`program`
/// is skiff, `sub` is `["helm"]`) of charts/skiff into `namespace`.
fn render_chart(program: &Path, sub: &[&str], namespace: &str, flags: &[&str]) -> Vec<Value> {
    let out = Command::new(program)
        .args(sub)
        .args(["template", "skiff"])
        .arg(repo_file("charts/skiff"))
        .args(["--namespace", namespace])
        .args(flags)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} template: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    documents("the chart's output", &String::from_utf8_lossy(&out.stdout))
}

#[test]
fn the_chart_with_default_values_renders_what_install_yaml_holds() {
    let helm = render_chart(&skiff_testbed::bin("helm"), &[], NAMESPACE, &[]);
    let skiff = render_chart(
        Path::new(env!("CARGO_BIN_EXE_skiff")),
        &["helm"],
        NAMESPACE,
        &[],
    );
    assert_eq!(helm, skiff, "helm and skiff render the chart differently");

    let plain = install_yaml();
    // Helm does not own its release namespace (`--create-namespace` makes it).
    let mut expected = kinds(&plain);
    assert!(expected.remove(&("Namespace".to_owned(), NAMESPACE.to_owned())));
    assert_eq!(kinds(&helm), expected);
    for doc in &helm {
        let namespace = &doc["metadata"]["namespace"];
        let (kind, name) = kind_name(doc);
        let namespaced = !matches!(
            kind.as_str(),
            "CustomResourceDefinition" | "ClusterRole" | "ClusterRoleBinding"
        );
        if namespaced {
            assert_eq!(namespace, NAMESPACE, "{kind} {name}");
        } else {
            assert!(namespace.is_null(), "{kind} {name} is cluster-scoped");
        }
    }

    // The pod: containers (image, probes, resources, securityContext,
    // mounts), volumes, pod securityContext and service account.
    let pod = |docs: &[Value]| {
        find(docs, "Deployment", "skiff-agent")["spec"]["template"]["spec"].clone()
    };
    assert_eq!(pod(&helm), pod(&plain));
    let replicas =
        |docs: &[Value]| find(docs, "Deployment", "skiff-agent")["spec"]["replicas"].clone();
    assert_eq!(replicas(&helm), replicas(&plain));
    assert_eq!(shipped_config(&helm), shipped_config(&plain));
    for name in ["applications.skiff.dev", "appprojects.skiff.dev"] {
        assert_eq!(
            find(&helm, "CustomResourceDefinition", name)["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep",
            "helm uninstall leaves {name} (and so every Application) in place"
        );
    }
    for (kind, name, field) in [
        ("ClusterRole", "skiff-agent", "rules"),
        ("ClusterRoleBinding", "skiff-agent", "subjects"),
        ("ClusterRoleBinding", "skiff-agent", "roleRef"),
        ("Service", "skiff-metrics", "spec"),
        ("CustomResourceDefinition", "applications.skiff.dev", "spec"),
        ("CustomResourceDefinition", "appprojects.skiff.dev", "spec"),
    ] {
        assert_eq!(
            find(&helm, kind, name)[field],
            find(&plain, kind, name)[field],
            "{kind} {name} {field}"
        );
    }
}

/// Server-side applies `docs` with strict field validation, as `kubectl
/// apply --server-side` would; `what` names their file in messages.
async fn apply_documents(client: &Client, what: &str, docs: &[Value]) {
    let params = PatchParams::apply(MANAGER).validation_strict();
    for doc in docs {
        let (kind, name) = kind_name(doc);
        let object: DynamicObject =
            serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{kind} {name}: {e}"));
        let types = object.types.as_ref().expect("apiVersion and kind");
        let gvk = GroupVersionKind::try_from(types).expect("apiVersion");
        let (resource, caps) = pinned_kind(client, &gvk)
            .await
            .unwrap_or_else(|e| panic!("discovering {kind}: {e}"));
        let api: Api<DynamicObject> = match caps.scope {
            Scope::Namespaced => {
                let ns = object.metadata.namespace.as_deref();
                Api::namespaced_with(client.clone(), ns.expect("a namespace"), &resource)
            }
            Scope::Cluster => Api::all_with(client.clone(), &resource),
        };
        api.patch(&name, &params, &Patch::Apply(doc))
            .await
            .unwrap_or_else(|e| panic!("applying {kind} {name} from {what}: {e}"));
    }
}

/// Applies install.yaml and waits for its CRDs.
async fn apply_install_yaml(client: &Client) {
    apply_documents(client, "install.yaml", &install_yaml()).await;
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    for name in ["applications.skiff.dev", "appprojects.skiff.dev"] {
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(crds.clone(), name, conditions::is_crd_established()),
        )
        .await
        .expect("CRD established in time")
        .expect("watch CRD");
    }
}

#[tokio::test]
async fn install_yaml_applies_cleanly_and_again_without_change() {
    let client = ControlPlane::shared().client().await;
    apply_install_yaml(&client).await;
    let deployments: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        NAMESPACE,
        &kube::discovery::ApiResource::from_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment")),
    );
    let before = deployments
        .get("skiff-agent")
        .await
        .expect("the Deployment");
    // Applying the same file again is a no-op: nothing else owns its fields.
    apply_install_yaml(&client).await;
    let after = deployments
        .get("skiff-agent")
        .await
        .expect("the Deployment");
    assert_eq!(
        before.metadata.resource_version, after.metadata.resource_version,
        "a second apply changed the Deployment"
    );
    let pod = &after.data["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], SERVICE_ACCOUNT);
    assert_eq!(
        pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
        true
    );
}

/// A kubeconfig for the testbed's API server that logs in as the agent's
/// ServiceAccount in `namespace`, with a token from the TokenRequest API (as
/// the kubelet mounts one) and nothing else.
async fn agent_kubeconfig(admin: &Client, namespace: &str, dir: &Path) -> PathBuf {
    let accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), namespace);
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    let token = accounts
        .create_token_request(SERVICE_ACCOUNT, &PostParams::default(), &request)
        .await
        .unwrap_or_else(|e| panic!("a token for {namespace}/{SERVICE_ACCOUNT}: {e}"))
        .status
        .and_then(|s| s.token)
        .expect("the TokenRequest's status holds a token");
    let kc = Kubeconfig::read_from(ControlPlane::shared().kubeconfig()).expect("kubeconfig");
    let cluster = kc
        .clusters
        .first()
        .and_then(|c| c.cluster.as_ref())
        .expect("the testbed cluster");
    let server = cluster.server.as_deref().expect("server");
    let ca = cluster
        .certificate_authority_data
        .as_deref()
        .expect("certificate-authority-data");
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: testbed\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: skiff-agent\n  user:\n    token: {token}\ncontexts:\n- name: skiff-agent\n  context: {{cluster: testbed, user: skiff-agent, namespace: {namespace}}}\ncurrent-context: skiff-agent\n"
    );
    std::fs::write(&path, text).expect("write kubeconfig");

    let as_agent = client_from(&path).await;
    let review = Api::<SelfSubjectReview>::all(as_agent)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("who am I");
    let user: UserInfo = review.status.and_then(|s| s.user_info).expect("user info");
    assert_eq!(
        user.username,
        Some(format!(
            "system:serviceaccount:{namespace}:{SERVICE_ACCOUNT}"
        )),
        "the agent runs as its ServiceAccount, not as admin"
    );
    path
}

async fn client_from(kubeconfig: &Path) -> Client {
    let kc = Kubeconfig::read_from(kubeconfig).expect("token kubeconfig");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("token kubeconfig usable");
    Client::try_from(config).expect("client")
}

/// Runs the real agent as the ServiceAccount (`kubeconfig`) with the
/// configuration the install ships (`docs`' ConfigMap), on a fleet with one
/// Application that puts a ConfigMap into `target`; asserts that it is
/// applied, that both Applications are Synced and that the agent's own Lease
/// and Events were written.
async fn agent_syncs_into(
    admin: &Client,
    docs: &[Value],
    kubeconfig: &Path,
    dir: &Path,
    target: &TestNamespace,
) {
    let config = shipped_config(docs);
    let namespace = config["namespace"]
        .as_str()
        .expect("the shipped config names the namespace")
        .to_owned();

    let repo = GitRepo::new(&format!("{namespace}-fleet"));
    let url = repo.url();
    repo.write(
        "clusters/testbed/hello.yaml",
        &format!(
            "apiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: hello\n  namespace: {namespace}\nspec:\n  source:\n    repoURL: {url}\n    targetRevision: main\n    path: apps/hello\n  destination:\n    namespace: {}\n  interval: 2s\n  syncPolicy:\n    automated:\n      prune: true\n",
            target.name
        ),
    )
    .write(
        "apps/hello/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  greeting: hi\n",
    );
    repo.commit("one app");

    // The shipped configuration, with a cache folder this machine has (the
    // pod mounts an emptyDir at /var/cache/skiff).
    let mut config = config;
    config["cacheDir"] = dir.join("cache").display().to_string().into();
    let config_file = dir.join("skiff.yaml");
    // JSON is YAML.
    std::fs::write(&config_file, config.to_string()).expect("write config");
    let child = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(["agent", "--config"])
        .arg(&config_file)
        .env("KUBECONFIG", kubeconfig)
        .env("SKIFF_FLEET_REPO_URL", &url)
        .env("SKIFF_FLEET_TARGET_REVISION", "main")
        .env("SKIFF_FLEET_PATH", "clusters/testbed")
        .env("SKIFF_INTERVAL", "2s")
        .env("SKIFF_LOG_FORMAT", "text")
        .env("SKIFF_LOG", "warn")
        .env("SKIFF_METRICS_ADDRESS", "127.0.0.1:0")
        .env("POD_NAME", "skiff-agent-test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start skiff agent");
    let _agent = ChildGuard::new(child);

    let cms = target.api::<ConfigMap>();
    let greeting = eventually("the ConfigMap applied", Duration::from_secs(60), || {
        let cms = cms.clone();
        async move {
            cms.get_opt("hello")
                .await
                .ok()
                .flatten()
                .and_then(|cm| cm.data?.get("greeting").cloned())
        }
    })
    .await;
    assert_eq!(greeting, "hi");

    let apps: Api<Application> = Api::namespaced(admin.clone(), &namespace);
    for name in ["fleet", "hello"] {
        eventually(&format!("{name} Synced"), Duration::from_secs(30), || {
            let apps = apps.clone();
            async move {
                let status = apps.get(name).await.ok()?.status?;
                (status.sync?.status == SyncStatusCode::Synced).then_some(())
            }
        })
        .await;
    }
    let hello = apps
        .get("hello")
        .await
        .expect("hello")
        .status
        .expect("status");
    assert_eq!(
        hello.health.map(|h| h.status),
        Some(HealthStatusCode::Healthy)
    );

    // What the agent writes for itself went through too: its Lease and Events.
    let lease = Api::<Lease>::namespaced(admin.clone(), &namespace)
        .get("skiff-agent-leader")
        .await
        .expect("the leader Lease");
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("skiff-agent-test")
    );
    let events: Api<Event> = Api::namespaced(admin.clone(), &namespace);
    eventually("a Synced event for hello", Duration::from_secs(10), || {
        let events = events.clone();
        async move {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .iter()
                .any(|e| {
                    e.reason.as_deref() == Some("Synced")
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("hello")
                })
                .then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn the_agent_syncs_with_only_the_permissions_install_yaml_grants() {
    let admin = ControlPlane::shared().client().await;
    apply_install_yaml(&admin).await;
    let target = ControlPlane::shared().namespace("install-target").await;
    let dir = scratch("install-agent");
    let kubeconfig = agent_kubeconfig(&admin, NAMESPACE, &dir).await;
    agent_syncs_into(&admin, &install_yaml(), &kubeconfig, &dir, &target).await;
}

/// Whether the agent's ServiceAccount may create ConfigMaps in `namespace`.
async fn may_create_configmaps(agent: &Client, namespace: &str) -> bool {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_owned()),
                verb: Some("create".into()),
                resource: Some("configmaps".into()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    Api::<SelfSubjectAccessReview>::all(agent.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("access review")
        .status
        .is_some_and(|s| s.allowed)
}

#[tokio::test]
async fn with_namespaced_rbac_the_chart_grants_enough_and_nothing_cluster_wide() {
    let admin = ControlPlane::shared().client().await;
    install_crds(&admin).await;
    let home = ControlPlane::shared().namespace("install-home").await;
    let target = ControlPlane::shared().namespace("install-team").await;
    let namespaces = format!("rbac.namespaces={{{}}}", target.name);
    let docs = render_chart(
        &skiff_testbed::bin("helm"),
        &[],
        &home.name,
        &[
            "--set",
            "installCRDs=false,rbac.clusterWide=false",
            "--set",
            &namespaces,
        ],
    );
    assert!(
        !docs.iter().any(|d| kind_name(d).0.starts_with("Cluster")),
        "no cluster-wide RBAC: {:?}",
        kinds(&docs)
    );
    apply_documents(&admin, "the chart", &docs).await;

    let dir = scratch("install-namespaced");
    let kubeconfig = agent_kubeconfig(&admin, &home.name, &dir).await;
    let agent = client_from(&kubeconfig).await;
    assert!(may_create_configmaps(&agent, &target.name).await);
    assert!(!may_create_configmaps(&agent, "default").await);
    agent_syncs_into(&admin, &docs, &kubeconfig, &dir, &target).await;
}
