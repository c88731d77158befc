//! Two agents, one leader: only the Lease holder syncs, and when it dies the
//! other takes over within the lease duration. Each agent serves its probes
//! and metrics.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use skiff_testbed::{ChildGuard, ControlPlane, TestNamespace, free_port, wait_for_port};

use crate::fleet::{GitRepo, install_crds, scratch};

fn agent(ns: &TestNamespace, repo: &GitRepo, port: u16, name: &str) -> ChildGuard {
    let child = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .arg("agent")
        .env("KUBECONFIG", ControlPlane::shared().kubeconfig())
        .env("SKIFF_FLEET_REPO_URL", repo.url())
        .env("SKIFF_FLEET_PATH", "clusters/dev")
        .env("SKIFF_NAMESPACE", &ns.name)
        .env("SKIFF_INTERVAL", "1s")
        .env("SKIFF_LEASE_DURATION", "3s")
        .env("SKIFF_LOG", "warn")
        .env("SKIFF_METRICS_ADDRESS", format!("127.0.0.1:{port}"))
        .env("POD_NAME", name)
        .env("XDG_CACHE_HOME", scratch(&format!("leader-cache-{name}")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start skiff agent");
    ChildGuard::new(child)
}

/// A plain HTTP GET: status code and body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt("skiff-agent-leader")
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

/// The lease's holder, transitions and acquire time: any change means it
/// moved.
async fn lease(
    leases: &Api<Lease>,
) -> Option<(
    String,
    Option<i32>,
    Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime>,
)> {
    let spec = leases.get_opt("skiff-agent-leader").await.ok()??.spec?;
    Some((
        spec.holder_identity?,
        spec.lease_transitions,
        spec.acquire_time,
    ))
}

/// The sync counters in a metrics text.
fn syncs(metrics: &str) -> Vec<&str> {
    metrics
        .lines()
        .filter(|l| l.starts_with("skiff_app_sync_total{"))
        .collect()
}

async fn wait_for<T, Fut: Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Fut,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn one_leader_syncs_and_a_standby_takes_over_when_it_dies() {
    let ns = ControlPlane::shared().namespace("leader").await;
    install_crds(&ns.client).await;
    let repo = GitRepo::new("leader-fleet");
    let app = format!(
        "apiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  namespace: {ns}\nspec:\n  source:\n    repoURL: {url}\n    targetRevision: main\n    path: apps/web\n  destination:\n    namespace: {ns}\n  interval: 1s\n  syncPolicy:\n    automated:\n      prune: true\n",
        ns = ns.name,
        url = repo.url()
    );
    repo.write("clusters/dev/web.yaml", &app).write(
        "apps/web/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: \"1\"\n",
    );
    repo.commit("v1");
    let (port_a, port_b) = (free_port(), free_port());
    let mut agents = std::collections::HashMap::from([
        ("agent-a".to_owned(), agent(&ns, &repo, port_a, "agent-a")),
        ("agent-b".to_owned(), agent(&ns, &repo, port_b, "agent-b")),
    ]);
    wait_for_port(port_a, Duration::from_secs(20));
    wait_for_port(port_b, Duration::from_secs(20));

    let leases: Api<Lease> = Api::namespaced(ns.client.clone(), &ns.name);
    let cms: Api<ConfigMap> = Api::namespaced(ns.client.clone(), &ns.name);
    wait_for("the app synced", Duration::from_secs(30), || {
        let cms = cms.clone();
        async move { cms.get_opt("web").await.ok().flatten() }
    })
    .await;
    // Probes on both.
    for port in [port_a, port_b] {
        assert_eq!(http_get(port, "/healthz").0, 200);
        assert_eq!(http_get(port, "/readyz").0, 200);
    }
    // Only the leader says it leads, and only it syncs. On a loaded machine
    // a leader can miss a renewal of its 3 s lease and hand over at any
    // moment (the new leader then rightly syncs too), so each look is a
    // window of three sync intervals in which the lease did not move: the
    // holder says it leads and has synced, the other says it does not, and
    // the other's syncs do not grow. A window in which the lease moved, or
    // an agent had not yet caught up with it, is looked at again.
    let leader = wait_for("a leader that alone syncs", Duration::from_secs(60), || {
        let leases = leases.clone();
        async move {
            let before = lease(&leases).await?;
            let (lead, standby) = if before.0 == "agent-a" {
                (port_a, port_b)
            } else {
                (port_b, port_a)
            };
            let standby_before = http_get(standby, "/metrics").1;
            tokio::time::sleep(Duration::from_secs(3)).await;
            let (lead_now, standby_now) = (
                http_get(lead, "/metrics").1,
                http_get(standby, "/metrics").1,
            );
            if lease(&leases).await? != before
                || !lead_now.contains("skiff_leader 1")
                || !lead_now.contains("skiff_app_sync_total{")
                || !standby_before.contains("skiff_leader 0")
                || !standby_now.contains("skiff_leader 0")
            {
                return None;
            }
            assert_eq!(
                syncs(&standby_now),
                syncs(&standby_before),
                "the standby synced while another agent held the lease: {standby_now}"
            );
            Some(before.0)
        }
    })
    .await;

    // Kill the leader: the other takes the lease within its duration (3 s,
    // plus the standby's retry period) and goes on syncing.
    let survivor = if leader == "agent-a" {
        "agent-b"
    } else {
        "agent-a"
    };
    drop(agents.remove(&leader));
    let killed = Instant::now();
    let new_leader = wait_for("a new leader", Duration::from_secs(20), || {
        let (leases, leader) = (leases.clone(), leader.clone());
        async move { holder(&leases).await.filter(|h| h != &leader) }
    })
    .await;
    assert_eq!(new_leader, survivor);
    eprintln!("failover after {:?}", killed.elapsed());
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "took {:?}",
        killed.elapsed()
    );
    repo.write(
        "apps/web/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: \"2\"\n",
    );
    repo.commit("v2");
    wait_for("the new leader syncs", Duration::from_secs(30), || {
        let cms = cms.clone();
        async move {
            let cm = cms.get_opt("web").await.ok().flatten()?;
            (cm.data?.get("v")? == "2").then_some(())
        }
    })
    .await;
}
