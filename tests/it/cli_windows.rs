//! `skiff windows`: the binary reads AppProjects from the testbed's API server
//! and says which sync windows are open now and when they next open or close.

use std::process::Output;

use chrono::{DateTime, Duration, DurationRound, Timelike, Utc};
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use skiff::api::AppProject;
use skiff_testbed::{ControlPlane, TestNamespace};

use crate::fleet::install_crds;

fn skiff(args: &[&str], ns: &TestNamespace) -> (Output, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(args)
        .arg("--kubeconfig")
        .arg(ControlPlane::shared().kubeconfig())
        .args(["-n", &ns.name])
        .output()
        .expect("run skiff");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

async fn apply_project(ns: &TestNamespace, name: &str, windows: Value) {
    let project = json!({
        "apiVersion": "skiff.dev/v1alpha1", "kind": "AppProject",
        "metadata": {"name": name, "namespace": ns.name},
        "spec": {"sourceRepos": ["*"], "syncWindows": windows},
    });
    Api::<AppProject>::namespaced(ns.client.clone(), &ns.name)
        .patch(
            name,
            &PatchParams::apply("skiff-tests"),
            &Patch::Apply(&project),
        )
        .await
        .expect("AppProject");
}

/// A daily schedule starting at `t`'s minute, in UTC.
fn daily_at(t: DateTime<Utc>) -> String {
    format!("{} {} * * *", t.minute(), t.hour())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn windows_shows_what_is_open_and_when_that_changes() {
    let ns = ControlPlane::shared().namespace("cli-windows").await;
    install_crds(&ns.client).await;
    // Schedules built from the clock: one window opened this minute for two
    // hours, one opens in three hours for one; the test runs well inside both.
    let started = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .expect("minute");
    let opens = started + Duration::hours(3);
    apply_project(
        &ns,
        "payments",
        json!([
            {"kind": "allow", "schedule": daily_at(started), "duration": "2h",
             "applications": ["*"]},
            {"kind": "deny", "schedule": daily_at(opens), "duration": "1h",
             "namespaces": ["prod-*"], "manualSync": true},
            {"kind": "allow", "schedule": "* * * * *", "duration": "1h",
             "applications": ["web"], "timeZone": "Europe/Paris"},
        ]),
    )
    .await;

    let (out, stdout, stderr) = skiff(&["windows", "payments", "-o", "json"], &ns);
    assert!(out.status.success(), "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    assert!(doc["now"].is_string(), "{doc}");
    let project = &doc["projects"][0];
    assert_eq!(project["name"], "payments");
    assert_eq!(project["namespace"], ns.name.as_str());
    assert!(project.get("error").is_none(), "{project}");
    let windows = project["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 3, "{project}");

    let open = &windows[0];
    assert_eq!(open["index"], 0);
    assert_eq!(open["kind"], "allow");
    assert_eq!(open["timeZone"], "UTC");
    assert_eq!(open["open"], true, "{open}");
    assert_eq!(open["closesAt"], rfc3339(started + Duration::hours(2)));
    assert_eq!(open["nextOpen"], rfc3339(started + Duration::days(1)));

    let closed = &windows[1];
    assert_eq!(closed["kind"], "deny");
    assert_eq!(closed["open"], false, "{closed}");
    assert_eq!(closed["closesAt"], Value::Null);
    assert_eq!(closed["nextOpen"], rfc3339(opens));
    assert_eq!(closed["namespaces"], json!(["prod-*"]));
    assert_eq!(closed["applications"], json!([]));
    assert_eq!(closed["manualSync"], true);

    let always = &windows[2];
    assert_eq!(always["open"], true, "{always}");
    assert_eq!(always["timeZone"], "Europe/Paris");
    assert_eq!(always["closesAt"], Value::Null, "reopens every minute");

    let (out, table, stderr) = skiff(&["windows"], &ns);
    assert!(out.status.success(), "{table}{stderr}");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    let columns = |line: &str| -> Vec<String> {
        line.split("   ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let header = columns(lines[0]);
    assert_eq!(
        header,
        [
            "PROJECT",
            "KIND",
            "SCHEDULE",
            "DURATION",
            "TIME ZONE",
            "APPLICATIONS",
            "NAMESPACES",
            "MANUAL SYNC",
            "OPEN",
            "NEXT"
        ]
    );
    let open_row = columns(lines[1]);
    assert_eq!(open_row[..3], ["payments", "allow", &daily_at(started)]);
    assert_eq!(open_row[8], "yes", "{table}");
    assert!(open_row[9].starts_with("closes in "), "{table}");
    let closed_row = columns(lines[2]);
    assert_eq!(closed_row[1], "deny");
    assert_eq!(
        closed_row[5..9],
        ["<none>", "prod-*", "yes", "no"],
        "{table}"
    );
    assert!(closed_row[9].starts_with("opens in "), "{table}");
    let always_row = columns(lines[3]);
    assert_eq!(
        always_row[8..],
        ["yes", "stays open over a year"],
        "{table}"
    );

    let (out, wide, stderr) = skiff(&["windows", "payments", "-o", "wide"], &ns);
    assert!(out.status.success(), "{wide}{stderr}");
    assert!(
        wide.lines().next().unwrap_or("").ends_with("NEXT AT"),
        "{wide}"
    );
    assert!(wide.contains(&rfc3339(opens)), "{wide}");

    // A project with an invalid window: the error names it, the exit status is 1.
    apply_project(
        &ns,
        "broken",
        json!([{"kind": "deny", "schedule": "@daily", "duration": "1h",
                "applications": ["*"], "timeZone": "Europe/Pariss"}]),
    )
    .await;
    let (out, stdout, stderr) = skiff(&["windows", "broken"], &ns);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!(
            "AppProject {}/broken: syncWindows[0].timeZone: unknown time zone \"Europe/Pariss\"",
            ns.name
        )),
        "{stderr}"
    );
    let (out, stdout, stderr) = skiff(&["windows", "-o", "json"], &ns);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("JSON");
    let names: Vec<&str> = doc["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["broken", "payments"]);
    assert!(
        doc["projects"][0]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("syncWindows[0].timeZone")),
        "{doc}"
    );

    // Every namespace: this one's projects among them, NAMESPACE in front.
    let (_, stdout, stderr) = skiff(&["windows", "-A", "-o", "yaml"], &ns);
    assert!(
        stdout.contains(&format!("namespace: {}", ns.name)),
        "{stdout}{stderr}"
    );
    assert!(stdout.contains("closesAt:"), "{stdout}");
    let (_, table, stderr) = skiff(&["windows", "-A"], &ns);
    assert!(table.starts_with("NAMESPACE   "), "{table}{stderr}");
    let ours = table.lines().filter(|l| l.starts_with(&ns.name)).count();
    assert_eq!(ours, 3, "{table}");

    let (out, _, stderr) = skiff(&["windows", "missing"], &ns);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains(&format!("AppProject {}/missing not found", ns.name)),
        "{stderr}"
    );
}
