//! The testbed's real OpenTelemetry Collector takes OTLP over HTTP and writes
//! what it received as OTLP JSON lines that tests read back. Later telemetry
//! tests stand on this plumbing.

use std::process::Command;
use std::time::Duration;

use skiff_testbed::Collector;

#[test]
fn collector_receives_otlp_http_and_writes_json_lines() {
    let collector = Collector::start();
    let body = r#"{"resourceSpans":[{
        "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"skiff-test"}}]},
        "scopeSpans":[{"spans":[
          {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
           "name":"sync demo/app","kind":1,
           "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000",
           "attributes":[{"key":"skiff.app","value":{"stringValue":"app"}}],
           "events":[{"timeUnixNano":"1700000000500000000","name":"render.completed"}]},
          {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175",
           "parentSpanId":"eee19b7ec3c1b174","name":"render","kind":1,
           "startTimeUnixNano":"1700000000100000000","endTimeUnixNano":"1700000000400000000"}
        ]}]}]}"#;
    let out = Command::new("curl")
        .args([
            "-fsS",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
        ])
        .arg(format!("{}/v1/traces", collector.http_endpoint()))
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "OTLP/HTTP export refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let spans = collector.wait_for_spans(Duration::from_secs(10), |s| s.len() >= 2);
    assert_eq!(spans.len(), 2, "spans received: {spans:?}");
    let root = spans
        .iter()
        .find(|s| s["name"] == "sync demo/app")
        .expect("root span");
    let child = spans
        .iter()
        .find(|s| s["name"] == "render")
        .expect("child span");
    assert_eq!(child["parentSpanId"], root["spanId"]);
    assert_eq!(root["traceId"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(root["events"][0]["name"], "render.completed");
    assert_eq!(root["attributes"][0]["key"], "skiff.app");
    assert_eq!(
        root["resource"]["attributes"][0]["value"]["stringValue"],
        "skiff-test"
    );
}
