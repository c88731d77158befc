//! Retry with backoff against a real failure: the Application's Git server
//! is down, so each sync fails with a network error; the agent retries on
//! the Application's schedule (2s, x2, at most 8s, with jitter), records
//! `retryCount` and `nextRetryAt`, and succeeds once the server is up. A
//! trigger annotation does not wait for a pending retry. A broken manifest
//! is not retried, and says so.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::PostParams;
use skiff::api::{Application, OperationState};
use skiff_testbed::{ControlPlane, free_port};

use crate::agent::start_agent;
use crate::fleet::{GitRepo, eventually, git_http_server_on, install_crds, scratch};

fn app_yaml(name: &str, namespace: &str, repo: &str, path: &str) -> String {
    app_yaml_with_backoff(name, namespace, repo, path, "2s", "8s")
}

fn app_yaml_with_backoff(
    name: &str,
    namespace: &str,
    repo: &str,
    path: &str,
    first: &str,
    max: &str,
) -> String {
    format!(
        "apiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  source:\n    repoURL: {repo}\n    targetRevision: main\n    path: {path}\n  destination:\n    namespace: {namespace}\n  interval: 2s\n  syncPolicy:\n    automated:\n      prune: true\n    retry:\n      limit: 10\n      backoff:\n        duration: {first}\n        factor: 2\n        maxDuration: {max}\n"
    )
}

async fn operation(apps: &Api<Application>, name: &str) -> Option<OperationState> {
    apps.get(name).await.ok()?.status?.operation_state
}

/// Seconds from the end of the failed try to the next one (both stamps
/// have one-second resolution).
fn gap(op: &OperationState) -> i64 {
    let at = op.next_retry_at.as_ref().expect("nextRetryAt").0;
    let finished = op.finished_at.as_ref().expect("finishedAt").0;
    at.as_second() - finished.as_second()
}

#[tokio::test]
async fn failed_syncs_retry_with_backoff_until_git_is_back_and_permanent_errors_do_not() {
    let ns = ControlPlane::shared().namespace("retry").await;
    install_crds(&ns.client).await;
    let root = scratch("retry");

    // The application's repository, served later over smart HTTP with basic auth.
    let served = GitRepo::new("retry-served");
    served.write(
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flaky\ndata:\n  ok: \"yes\"\n",
    );
    served.commit("app");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/origin");
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "flaky-repo", "labels": {"skiff.dev/secret-type": "repository"}},
        "stringData": {"url": url, "username": "deployer", "password": "pa55-w0rd"},
    }))
    .expect("secret");
    ns.api::<Secret>()
        .create(&PostParams::default(), &secret)
        .await
        .expect("credentials");

    let fleet = GitRepo::new("retry-fleet");
    fleet
        .write(
            "clusters/dev/flaky.yaml",
            &app_yaml("flaky", &ns.name, &url, "app"),
        )
        .write(
            "clusters/dev/broken.yaml",
            &app_yaml("broken", &ns.name, &fleet.url(), "broken"),
        )
        .write(
            "broken/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n",
        )
        .write(
            "clusters/dev/patient.yaml",
            &app_yaml_with_backoff("patient", &ns.name, &url, "app", "60s", "5m"),
        )
        .commit("fleet");
    let _agent = start_agent(&ns, &fleet, &root.join("cache"));
    let apps: Api<Application> = Api::namespaced(ns.client.clone(), &ns.name);

    // Git is down: the first failure schedules retry 1 after 2-4 s.
    let first = eventually("the first failure", Duration::from_secs(60), || {
        let apps = apps.clone();
        async move {
            operation(&apps, "flaky")
                .await
                .filter(|op| op.retry_count == Some(0) && op.next_retry_at.is_some())
        }
    })
    .await;
    assert_eq!(first.phase, "Error", "{first:?}");
    let message = first.message.clone().unwrap_or_default();
    assert!(message.contains("retry 1 in"), "{message}");
    assert!((1..=5).contains(&gap(&first)), "first delay: {first:?}");

    // Each retry fails the same way and doubles the delay.
    let mut gaps = vec![gap(&first)];
    for done in 1..=2 {
        let op = eventually(&format!("retry {done}"), Duration::from_secs(30), || {
            let apps = apps.clone();
            async move {
                operation(&apps, "flaky")
                    .await
                    .filter(|op| op.retry_count == Some(done) && op.next_retry_at.is_some())
            }
        })
        .await;
        let message = op.message.clone().unwrap_or_default();
        assert!(
            message.contains(&format!("retry {} in", done + 1)),
            "{message}"
        );
        gaps.push(gap(&op));
    }
    eprintln!("retry gaps (s): {gaps:?}");
    assert!((3..=9).contains(&gaps[1]), "second delay 4-8 s: {gaps:?}");
    assert!(
        (7..=9).contains(&gaps[2]),
        "third delay capped at 8 s: {gaps:?}"
    );

    // A trigger annotation does not wait for a pending retry: `patient`
    // failed first with a minute to its retry; the request syncs now (and,
    // failing again, starts a new chain of retries).
    let pending = operation(&apps, "patient")
        .await
        .expect("patient was tried");
    assert_eq!(pending.retry_count, Some(0), "{pending:?}");
    assert!(gap(&pending) >= 59, "a minute's backoff: {pending:?}");
    let asked = k8s_openapi::jiff::Timestamp::now();
    apps.patch(
        "patient",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(serde_json::json!({
            "metadata": {"annotations": {"skiff.dev/requested-at": "now-please"}}
        })),
    )
    .await
    .expect("annotate");
    let handled = eventually(
        "the request handled at once",
        Duration::from_secs(15),
        || {
            let apps = apps.clone();
            async move {
                let status = apps.get("patient").await.ok()?.status?;
                (status.last_handled_request.as_deref() == Some("now-please"))
                    .then_some(status.operation_state?)
            }
        },
    )
    .await;
    let started = handled.started_at.as_ref().expect("startedAt").0;
    assert!(
        started.as_second() >= asked.as_second(),
        "a new operation: {handled:?}"
    );
    assert_eq!(handled.retry_count, Some(0), "a new chain: {handled:?}");
    assert!(gap(&handled) >= 59, "{handled:?}");

    // Git comes back: the next retry (or a poll that finds Git reachable
    // before it, which starts afresh) applies.
    let _server = git_http_server_on(
        served.dir.parent().expect("root"),
        "deployer",
        "pa55-w0rd",
        port,
    );
    let done = eventually("the retry that succeeds", Duration::from_secs(30), || {
        let apps = apps.clone();
        async move {
            operation(&apps, "flaky")
                .await
                .filter(|op| op.phase == "Succeeded")
        }
    })
    .await;
    assert!(done.retry_count.is_none_or(|n| n >= 3), "{done:?}");
    assert!(done.next_retry_at.is_none(), "{done:?}");
    let cm = ns.api::<ConfigMap>().get("flaky").await.expect("applied");
    assert_eq!(
        cm.data.unwrap_or_default().get("ok").map(String::as_str),
        Some("yes")
    );

    // A manifest that does not parse fails the same way every time: no retry,
    // and the polls since (every 2 s) compared instead of failing again.
    let broken = operation(&apps, "broken").await.expect("broken was tried");
    assert_eq!(broken.phase, "Error");
    assert!(broken.next_retry_at.is_none(), "{broken:?}");
    assert!(
        broken
            .message
            .as_deref()
            .is_some_and(|m| m.contains("not retried: the error is permanent")),
        "{broken:?}"
    );
    let status = apps
        .get("broken")
        .await
        .expect("broken")
        .status
        .expect("status");
    assert_eq!(
        status.history.len(),
        1,
        "one failed operation: {:?}",
        status.history
    );
    assert_eq!(status.history[0].result.as_deref(), Some("Error"));
    assert_eq!(
        status.history[0].revision,
        fleet.git(&["rev-parse", "HEAD"]),
        "the failed operation names its revision"
    );
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == "ComparisonError"),
        "{:?}",
        status.conditions
    );
}
