//! The control plane started by `testbed/up`, shared by the tests of one process.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use crate::{bin_dir, repo_root};

/// What runs besides etcd and kube-apiserver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// etcd and kube-apiserver only: enough for apply, CRDs, diff and prune.
    ApiServer,
    /// Also kube-controller-manager, kube-scheduler and kwok with one fake node,
    /// so Deployments, Jobs and the like really progress and become ready.
    WithControllers,
}

/// A running control plane started by `testbed/up`.
pub struct ControlPlane {
    dir: PathBuf,
    kubeconfig: PathBuf,
    flavour: Flavour,
}

impl fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlPlane")
            .field("dir", &self.dir)
            .field("flavour", &self.flavour)
            .finish_non_exhaustive()
    }
}

impl ControlPlane {
    /// The process-wide etcd + kube-apiserver, started on first use.
    pub fn shared() -> &'static ControlPlane {
        static CP: OnceLock<ControlPlane> = OnceLock::new();
        CP.get_or_init(|| ControlPlane::start(Flavour::ApiServer))
    }

    /// The process-wide control plane with controllers, scheduler and a kwok node.
    pub fn with_controllers() -> &'static ControlPlane {
        static CP: OnceLock<ControlPlane> = OnceLock::new();
        CP.get_or_init(|| ControlPlane::start(Flavour::WithControllers))
    }

    fn start(flavour: Flavour) -> ControlPlane {
        let pid = std::process::id();
        let tag = match flavour {
            Flavour::ApiServer => "api",
            Flavour::WithControllers => "ctrl",
        };
        let dir = std::env::temp_dir().join(format!("skiff-testbed-{pid}-{tag}"));
        // A folder left by an earlier process with our pid holds nothing running.
        let _ = std::fs::remove_dir_all(&dir);
        let script = repo_root().join("testbed/up");
        let mut cmd = Command::new(&script);
        cmd.arg("--dir")
            .arg(&dir)
            .arg("--watch-pid")
            .arg(pid.to_string());
        if flavour == Flavour::WithControllers {
            cmd.arg("--with-controllers");
        }
        // Make sure the binaries exist first, once, for every flavour.
        bin_dir();
        let out = cmd
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "testbed/up failed ({}); logs are in {}",
            out.status,
            dir.join("logs").display()
        );
        let kubeconfig = dir.join("kubeconfig");
        assert!(kubeconfig.is_file(), "testbed/up wrote no kubeconfig");
        ControlPlane {
            dir,
            kubeconfig,
            flavour,
        }
    }

    /// The admin kubeconfig written by `testbed/up`.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The state folder (logs are in `logs/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A kube client config for the admin user.
    pub async fn config(&self) -> Config {
        let kc = Kubeconfig::read_from(&self.kubeconfig).expect("testbed kubeconfig parses");
        Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .expect("testbed kubeconfig is usable")
    }

    /// A new client. Clients are bound to the Tokio runtime that made them, and
    /// every `#[tokio::test]` has its own, so each test asks for its own client.
    pub async fn client(&self) -> Client {
        Client::try_from(self.config().await).expect("kube client from the testbed kubeconfig")
    }

    /// A fresh namespace for one test, named after `hint`, with a client.
    pub async fn namespace(&self, hint: &str) -> TestNamespace {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = namespace_name(hint, n);
        let client = self.client().await;
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        TestNamespace { client, name }
    }
}

/// A namespace that belongs to one test. It is not deleted afterwards: the whole
/// control plane goes away with the test process.
#[derive(Clone)]
pub struct TestNamespace {
    /// A client for the control plane the namespace lives in.
    pub client: Client,
    /// The namespace's name.
    pub name: String,
}

impl fmt::Debug for TestNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestNamespace")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestNamespace {
    /// An API for namespaced objects of type `K` in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }
}

/// A DNS-1123 label from a test's hint and a per-process counter.
fn namespace_name(hint: &str, n: u32) -> String {
    let mut base: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    base.truncate(50);
    let base = base.trim_matches('-');
    let base = if base.is_empty() { "test" } else { base };
    format!("{base}-{n}")
}

#[cfg(test)]
mod tests {
    use super::namespace_name;

    #[test]
    fn namespace_names_are_dns_labels() {
        assert_eq!(namespace_name("ssa_configmap", 3), "ssa-configmap-3");
        assert_eq!(namespace_name("__", 0), "test-0");
        let long = namespace_name(&"x".repeat(80), 12);
        assert!(long.len() <= 63, "{long}");
        assert_eq!(namespace_name("CRD::Established", 1), "crd--established-1");
    }
}
