//! `skiff get apps`, `status`, `history`, `sync`, `rollback`, `suspend` and
//! `resume`: the binary against the testbed's API server. The tests write
//! Application status as the agent records it (with `skiff::sync::record`),
//! standing in for the agent, whose own end-to-end test drives it for real.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use serde_json::{Value, json};
use skiff::api::{
    Application, ApplicationStatus, HealthStatus, HealthStatusCode, OperationState,
    REQUESTED_AT_ANNOTATION, ResourceStatus, RevisionHistory, SYNC_REVISION_ANNOTATION, SyncStatus,
    SyncStatusCode,
};
use skiff::sync::record;
use skiff_testbed::{ControlPlane, TestNamespace};

use crate::fleet::{application, create_app};

const SHA_NEW: &str = "b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9";
const SHA_OLD: &str = "a1a2a3a4a5a6a7a8a9a0a1a2a3a4a5a6a7a8a9a0";
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn command(args: &[&str], ns: &TestNamespace) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skiff"));
    command
        .args(args)
        .arg("--kubeconfig")
        .arg(ControlPlane::shared().kubeconfig())
        .args(["-n", &ns.name])
        // Whatever the environment says, the output is a pipe: no colour.
        .env_remove("NO_COLOR");
    command
}

fn skiff(args: &[&str], ns: &TestNamespace) -> (Output, String, String) {
    let out = command(args, ns).output().expect("run skiff");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// Runs skiff and expects exit status 0; returns stdout.
fn ok(args: &[&str], ns: &TestNamespace) -> String {
    let (out, stdout, stderr) = skiff(args, ns);
    assert!(
        out.status.success(),
        "skiff {args:?}: {:?}\n{stdout}{stderr}",
        out.status
    );
    stdout
}

fn ago(seconds: i64) -> Time {
    Time(Timestamp::from_second(Timestamp::now().as_second() - seconds).expect("time"))
}

async fn new_app(ns: &TestNamespace, name: &str, extra: Value) -> Application {
    let app = application(
        name,
        &ns.name,
        "https://git.example/fleet.git",
        "apps/web",
        extra,
    );
    create_app(&ns.client, &app).await
}

/// What an agent records after two syncs, the newest 15 minutes ago.
fn synced_status() -> ApplicationStatus {
    let health = |status, message: Option<&str>| {
        Some(HealthStatus {
            status,
            message: message.map(str::to_owned),
        })
    };
    ApplicationStatus {
        sync: Some(SyncStatus {
            status: SyncStatusCode::Synced,
            revision: Some(SHA_NEW.to_owned()),
        }),
        health: health(HealthStatusCode::Healthy, None),
        operation_state: Some(OperationState {
            phase: "Succeeded".to_owned(),
            message: Some("successfully synced (2 objects)".to_owned()),
            started_at: Some(ago(901)),
            finished_at: Some(ago(900)),
            trace_id: Some(TRACE.to_owned()),
            ..OperationState::default()
        }),
        resources: vec![
            ResourceStatus {
                group: "apps".to_owned(),
                version: "v1".to_owned(),
                kind: "Deployment".to_owned(),
                namespace: Some("web".to_owned()),
                name: "frontend".to_owned(),
                status: Some(SyncStatusCode::Synced),
                health: health(HealthStatusCode::Healthy, None),
            },
            ResourceStatus {
                group: String::new(),
                version: "v1".to_owned(),
                kind: "ConfigMap".to_owned(),
                namespace: Some("web".to_owned()),
                name: "settings".to_owned(),
                status: Some(SyncStatusCode::Synced),
                health: None,
            },
        ],
        history: vec![
            RevisionHistory {
                id: 2,
                revision: SHA_NEW.to_owned(),
                deployed_at: Some(ago(900)),
                result: Some("Succeeded".to_owned()),
                trace_id: Some(TRACE.to_owned()),
            },
            RevisionHistory {
                id: 1,
                revision: SHA_OLD.to_owned(),
                deployed_at: Some(ago(7200)),
                result: Some("Failed".to_owned()),
                trace_id: None,
            },
        ],
        ..ApplicationStatus::default()
    }
}

async fn read(ns: &TestNamespace, name: &str) -> Application {
    ns.api::<Application>()
        .get(name)
        .await
        .expect("read Application")
}

fn annotation(app: &Application, key: &str) -> Option<String> {
    app.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key).cloned())
}

#[tokio::test]
async fn get_status_and_history_show_what_the_agent_recorded() {
    let ns = ControlPlane::shared().namespace("cli-apps-get").await;
    let web = new_app(&ns, "web", json!({"project": "default"})).await;
    record::write(&ns.client, &web, &synced_status())
        .await
        .expect("status");
    new_app(&ns, "api", json!({})).await;

    // JSON: a kubectl-style list of the objects, sorted by name.
    let list: Value = serde_json::from_str(&ok(&["get", "apps", "-o", "json"], &ns)).expect("json");
    let keys = |v: &Value| {
        v.as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&list), ["apiVersion", "items", "kind"]);
    assert_eq!(list["apiVersion"], "skiff.dev/v1alpha1");
    assert_eq!(list["kind"], "ApplicationList");
    let items = list["items"].as_array().expect("items");
    let names: Vec<&str> = items
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["api", "web"]);
    let item = &items[1];
    assert_eq!(
        keys(item),
        ["apiVersion", "kind", "metadata", "spec", "status"]
    );
    assert_eq!(item["kind"], "Application");
    assert_eq!(item["metadata"]["namespace"], ns.name.as_str());
    assert!(item["metadata"].get("managedFields").is_none(), "{item}");
    assert_eq!(
        item["spec"]["source"]["repoURL"],
        "https://git.example/fleet.git"
    );
    assert_eq!(
        item["status"]["sync"],
        json!({"status": "Synced", "revision": SHA_NEW})
    );
    assert_eq!(item["status"]["health"]["status"], "Healthy");
    assert_eq!(item["status"]["operationState"]["traceID"], TRACE);
    assert_eq!(item["status"]["history"][0]["id"], 2);
    assert!(
        items[0].get("status").is_none(),
        "no status yet: {}",
        items[0]
    );

    // YAML: the same document.
    let yaml = ok(&["get", "apps", "-o", "yaml"], &ns);
    let from_yaml: Value = serde_saphyr::from_str(&yaml).expect("yaml");
    assert_eq!(from_yaml, list);

    // The table: aligned columns, the short revision, the age, no colour in a pipe.
    let table = ok(&["get", "apps"], &ns);
    assert!(!table.contains('\x1b'), "{table:?}");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let header = lines[0];
    for column in [
        "NAME",
        "PROJECT",
        "SYNC",
        "HEALTH",
        "REVISION",
        "LAST SYNC",
        "MESSAGE",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let at = |column: &str| header.find(column).expect("column");
    let web_line = lines[2];
    assert_eq!(web_line[..at("PROJECT")].trim_end(), "web");
    assert!(web_line[at("SYNC")..].starts_with("Synced "), "{table}");
    assert!(web_line[at("HEALTH")..].starts_with("Healthy "), "{table}");
    assert!(
        web_line[at("REVISION")..].starts_with(&format!("{} ", &SHA_NEW[..12])),
        "{table}"
    );
    assert!(!web_line.contains(SHA_NEW), "{table}");
    assert!(web_line[at("LAST SYNC")..].starts_with("15m "), "{table}");
    assert!(
        web_line[at("MESSAGE")..].starts_with("successfully synced (2 objects)"),
        "{table}"
    );
    let api_line = lines[1];
    assert!(api_line[at("SYNC")..].starts_with("Unknown "), "{table}");
    assert!(api_line[at("REVISION")..].starts_with("<none> "), "{table}");

    // Wide: the whole revision and the source.
    let wide = ok(&["get", "application", "web", "-o", "wide"], &ns);
    assert_eq!(wide.lines().count(), 2, "only web: {wide}");
    assert!(wide.contains(SHA_NEW), "{wide}");
    assert!(wide.contains("https://git.example/fleet.git"), "{wide}");
    assert!(
        wide.lines().next().expect("header").contains("DESTINATION"),
        "{wide}"
    );

    // Every namespace: a NAMESPACE column first.
    let all = ok(&["get", "app", "-A"], &ns);
    assert!(all.starts_with("NAMESPACE "), "{all}");
    assert!(
        all.lines()
            .any(|l| l.starts_with(&ns.name) && l.contains(" web ")),
        "{all}"
    );

    // Status: sections, the trace ID, every resource with its sync and health.
    let status = ok(&["status", "web"], &ns);
    assert!(!status.contains('\x1b'), "{status:?}");
    assert!(status.contains(&format!("Trace ID: {TRACE}")), "{status}");
    assert!(
        status.contains("Repo:   https://git.example/fleet.git"),
        "{status}"
    );
    assert!(status.contains(&format!("Revision: {SHA_NEW}")), "{status}");
    for section in [
        "Source:",
        "Destination:",
        "Sync:",
        "Health:",
        "Last Operation:",
        "Resources:",
    ] {
        assert!(status.contains(section), "{section}: {status}");
    }
    let resource_line = |name: &str| {
        let line = status
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("{name} listed: {status}"));
        output_words(line)
    };
    assert_eq!(
        resource_line("frontend"),
        ["Deployment", "web", "frontend", "Synced", "Healthy"]
    );
    assert_eq!(
        resource_line("settings"),
        ["ConfigMap", "web", "settings", "Synced"]
    );
    let as_json: Value =
        serde_json::from_str(&ok(&["status", "web", "-o", "json"], &ns)).expect("json");
    assert_eq!(as_json["status"]["operationState"]["traceID"], TRACE);
    assert_eq!(as_json["metadata"]["name"], "web");

    // History: newest first.
    let history = ok(&["history", "web"], &ns);
    let rows: Vec<Vec<String>> = history.lines().map(output_words).collect();
    assert_eq!(
        rows[0],
        ["ID", "REVISION", "DEPLOYED", "AT", "RESULT", "TRACE", "ID"]
    );
    assert_eq!(rows[1][..2], ["2".to_owned(), SHA_NEW[..12].to_owned()]);
    assert_eq!(rows[1][3..], ["Succeeded".to_owned(), TRACE.to_owned()]);
    assert_eq!(rows[2][..2], ["1".to_owned(), SHA_OLD[..12].to_owned()]);
    assert_eq!(rows[2][3..], ["Failed".to_owned(), "<none>".to_owned()]);
    let entries: Value =
        serde_json::from_str(&ok(&["history", "web", "-o", "json"], &ns)).expect("json");
    assert_eq!(entries[0]["id"], 2);
    assert_eq!(entries[1]["revision"], SHA_OLD);

    // An unknown Application is named in the error.
    for args in [
        &["status", "nope"][..],
        &["history", "nope"],
        &["get", "apps", "nope"],
    ] {
        let (out, _, stderr) = skiff(args, &ns);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!("Error: Application {}/nope not found", ns.name)
        );
    }
}

fn output_words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test]
async fn sync_rollback_suspend_and_resume_write_the_application() {
    let ns = ControlPlane::shared().namespace("cli-apps-ops").await;
    let automated = json!({"syncPolicy": {"automated": {"prune": true}}});
    let web = new_app(&ns, "web", automated).await;
    record::write(&ns.client, &web, &synced_status())
        .await
        .expect("status");

    let before = Timestamp::now();
    let out = ok(&["sync", "web"], &ns);
    assert_eq!(out, "application.skiff.dev/web sync requested\n");
    let app = read(&ns, "web").await;
    let first = annotation(&app, REQUESTED_AT_ANNOTATION).expect("trigger set");
    let requested: Timestamp = first.parse().expect("RFC 3339");
    assert!(
        requested >= before && requested <= Timestamp::now(),
        "{first}"
    );
    assert_eq!(annotation(&app, SYNC_REVISION_ANNOTATION), None);
    let managers: Vec<_> = app
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.as_deref())
        .collect();
    assert!(managers.contains(&"skiff-cli"), "{managers:?}");

    ok(&["sync", "web", "--revision", "v1.2.3"], &ns);
    let app = read(&ns, "web").await;
    let second = annotation(&app, REQUESTED_AT_ANNOTATION).expect("trigger set");
    assert_ne!(second, first, "each request is new");
    assert_eq!(
        annotation(&app, SYNC_REVISION_ANNOTATION).as_deref(),
        Some("v1.2.3")
    );

    // A plain sync again follows the target revision: the pin is gone.
    ok(&["sync", "web"], &ns);
    assert_eq!(
        annotation(&read(&ns, "web").await, SYNC_REVISION_ANNOTATION),
        None
    );

    // Rollback to entry 1: its revision, and automated sync off.
    let (out, stdout, stderr) = skiff(&["rollback", "web", "1"], &ns);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("rollback to history entry 1"), "{stdout}");
    assert!(stderr.contains("Automated sync"), "{stderr}");
    let app = read(&ns, "web").await;
    assert_eq!(
        annotation(&app, SYNC_REVISION_ANNOTATION).as_deref(),
        Some(SHA_OLD)
    );
    assert_ne!(annotation(&app, REQUESTED_AT_ANNOTATION), Some(second));
    let policy = app.spec.sync_policy.expect("sync policy kept");
    assert_eq!(policy.automated, None);

    let (out, _, stderr) = skiff(&["rollback", "web", "7"], &ns);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("has no history entry 7; its entries are 2, 1"),
        "{stderr}"
    );

    assert_eq!(
        ok(&["suspend", "web"], &ns),
        "application.skiff.dev/web suspended\n"
    );
    assert!(read(&ns, "web").await.spec.suspend);
    let (_, _, stderr) = skiff(&["sync", "web"], &ns);
    assert!(stderr.contains("is suspended"), "a sync warns: {stderr}");
    assert_eq!(
        ok(&["resume", "web"], &ns),
        "application.skiff.dev/web resumed\n"
    );
    assert!(!read(&ns, "web").await.spec.suspend);

    for args in [
        &["sync", "nope"][..],
        &["suspend", "nope"],
        &["rollback", "nope", "1"],
    ] {
        let (out, _, stderr) = skiff(args, &ns);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.trim_end(),
            format!("Error: Application {}/nope not found", ns.name)
        );
    }
}

#[tokio::test]
async fn sync_wait_times_out_when_no_agent_answers() {
    let ns = ControlPlane::shared().namespace("cli-apps-timeout").await;
    new_app(&ns, "web", json!({})).await;
    let (out, _, stderr) = skiff(&["sync", "web", "--wait", "--timeout", "2s"], &ns);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("timed out after 2s"), "{stderr}");
    assert!(
        stderr.contains("has not picked up the sync request"),
        "{stderr}"
    );
}

/// Plays the agent: waits for the trigger, records a running operation, then
/// its end with `phase`.
async fn answer(ns: &TestNamespace, name: &str, phase: &str, message: &str) {
    let api: Api<Application> = ns.api();
    let mut app = api.get(name).await.expect("read");
    for _ in 0..100 {
        if annotation(&app, REQUESTED_AT_ANNOTATION).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        app = api.get(name).await.expect("read");
    }
    let request = annotation(&app, REQUESTED_AT_ANNOTATION).expect("the CLI set the trigger");
    let mut status = ApplicationStatus {
        last_handled_request: Some(request),
        operation_state: Some(OperationState {
            phase: "Running".to_owned(),
            message: Some("applying wave 0".to_owned()),
            started_at: Some(ago(0)),
            trace_id: Some(TRACE.to_owned()),
            ..OperationState::default()
        }),
        ..ApplicationStatus::default()
    };
    record::write(&ns.client, &app, &status)
        .await
        .expect("running");
    // Long enough for the CLI, which wrote the trigger just before, to be watching.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let op = status.operation_state.as_mut().expect("operation");
    op.phase = phase.to_owned();
    op.message = Some(message.to_owned());
    op.finished_at = Some(ago(0));
    record::write(&ns.client, &app, &status)
        .await
        .expect("finished");
}

async fn sync_and_wait(ns: &TestNamespace, name: &str, phase: &str, message: &str) -> Output {
    let child = command(&["sync", name, "--wait", "--timeout", "60s"], ns)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start skiff");
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    answer(ns, name, phase, message).await;
    waiting.await.expect("join").expect("skiff output")
}

#[tokio::test]
async fn sync_wait_reports_the_result_the_agent_records() {
    let ns = ControlPlane::shared().namespace("cli-apps-wait").await;
    new_app(&ns, "good", json!({})).await;
    new_app(&ns, "bad", json!({})).await;

    let out = sync_and_wait(&ns, "good", "Succeeded", "successfully synced").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Running: applying wave 0"),
        "progress shown: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "Application {}/good synced (trace {TRACE})",
            ns.name
        )),
        "{stderr}"
    );

    let out = sync_and_wait(&ns, "bad", "Failed", "Deployment web: image pull failed").await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("ended Failed: Deployment web: image pull failed"),
        "{stderr}"
    );
}

/// Runs skiff on a pseudo-terminal (util-linux `script`), as a person would.
fn on_terminal(args: &[&str], ns: &TestNamespace, no_color: bool) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let kubeconfig = ControlPlane::shared()
        .kubeconfig()
        .to_str()
        .expect("utf-8 path")
        .to_owned();
    let mut line = vec![quote(env!("CARGO_BIN_EXE_skiff"))];
    line.extend(args.iter().map(|a| quote(a)));
    line.extend([
        "--kubeconfig".to_owned(),
        quote(&kubeconfig),
        "-n".to_owned(),
        quote(&ns.name),
    ]);
    let mut script = Command::new("script");
    script
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env("TERM", "xterm");
    if no_color {
        script.env("NO_COLOR", "1");
    } else {
        script.env_remove("NO_COLOR");
    }
    let out = script.output().expect("run script(1) from util-linux");
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert!(out.status.success(), "{:?}: {text}", out.status);
    text
}

#[tokio::test]
async fn colour_only_on_a_terminal_without_no_color() {
    let ns = ControlPlane::shared().namespace("cli-apps-colour").await;
    let web = new_app(&ns, "web", json!({})).await;
    record::write(&ns.client, &web, &synced_status())
        .await
        .expect("status");

    let coloured = on_terminal(&["get", "apps"], &ns, false);
    assert!(coloured.contains("\x1b[32mSynced\x1b[0m"), "{coloured:?}");
    assert!(coloured.contains("\x1b[32mHealthy\x1b[0m"), "{coloured:?}");
    // The escape codes take no columns: without them it is the piped table.
    let plain = coloured.replace("\x1b[32m", "").replace("\x1b[0m", "");
    assert_eq!(plain, ok(&["get", "apps"], &ns));

    let history = on_terminal(&["history", "web"], &ns, false);
    assert!(history.contains("\x1b[31mFailed\x1b[0m"), "{history:?}");

    let uncoloured = on_terminal(&["get", "apps"], &ns, true);
    assert!(!uncoloured.contains('\x1b'), "NO_COLOR: {uncoloured:?}");
}
