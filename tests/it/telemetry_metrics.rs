//! What an operator scrapes and reads from a live agent: `/healthz`,
//! `/readyz`, the Prometheus text on `/metrics` (per-Application state and
//! syncs, phase durations, reconcile errors, deployments and their lead
//! time) following a deployment, a broken commit and its fix, and one JSON
//! log line per sync outcome whose trace ID leads to the trace the collector
//! received over OTLP/HTTP.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use skiff_testbed::{Collector, ControlPlane};

use crate::fleet::{
    GitRepo, config_map, eventually, fleet_app_yaml, install_crds, scratch, spawn_agent,
};

/// (status code, body) of `GET url`.
fn get(url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "5", "-w", "\n%{http_code}", url])
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// The value of the sample `series` (name and labels exactly as exposed).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// The JSON log lines of the agent that say `message`.
fn log_lines(log: &std::path::Path, message: &str) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == message)
        .collect()
}

#[tokio::test]
async fn a_live_agent_serves_probes_metrics_and_one_log_line_per_sync() {
    let collector = Collector::start();
    let ns = ControlPlane::shared().namespace("metrics").await;
    install_crds(&ns.client).await;
    let repo = GitRepo::new("metrics-fleet");
    repo.write(
        "clusters/dev/web.yaml",
        &fleet_app_yaml("web", &ns.name, &repo.url(), "apps/web"),
    )
    .write("apps/web/config.yaml", &config_map("web", &[("v", "1")]));
    let committed = SystemTime::now();
    let first = repo.commit("web v1");

    let port = skiff_testbed::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let dir = scratch("metrics-agent");
    let log = dir.join("agent.log");
    let _agent = spawn_agent(
        &ns,
        &repo,
        "clusters/dev",
        &dir.join("cache"),
        &[
            ("SKIFF_METRICS_ADDRESS", format!("127.0.0.1:{port}")),
            ("SKIFF_LOG_FORMAT", "json".to_owned()),
            ("SKIFF_LOG", "info".to_owned()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.http_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
            // No export on a timer during the test: what the collector
            // gets, it gets from the flush when the agent stops.
            ("OTEL_BSP_SCHEDULE_DELAY", "600000".to_owned()),
        ],
        Some(&log),
    );
    skiff_testbed::wait_for_port(port, Duration::from_secs(30));
    assert_eq!(get(&format!("{base}/healthz")).0, 200);
    eventually("/readyz ready", Duration::from_secs(30), || async {
        (get(&format!("{base}/readyz")).0 == 200).then_some(())
    })
    .await;

    // The first deployment.
    let scrape = || get(&format!("{base}/metrics")).1;
    let deployed = r#"skiff_deployments_total{name="web",result="Succeeded"}"#;
    let metrics = eventually("web deployed", Duration::from_secs(90), || async {
        let m = scrape();
        (sample(&m, deployed) == Some(1.0)).then_some(m)
    })
    .await;
    let since_commit = committed.elapsed().expect("clock").as_secs_f64();
    assert_eq!(
        sample(
            &metrics,
            r#"skiff_app_info{name="web",project="default",sync_status="Synced",health_status="Healthy"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            r#"skiff_app_sync_total{name="web",phase="Succeeded"}"#
        ) >= Some(1.0),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            r#"skiff_app_sync_duration_seconds_count{name="web"}"#
        ) >= Some(1.0),
        "{metrics}"
    );
    assert!(sample(&metrics, "skiff_git_fetch_duration_seconds_count") >= Some(1.0));
    assert!(sample(&metrics, "skiff_render_duration_seconds_count") >= Some(1.0));
    assert_eq!(
        sample(
            &metrics,
            r#"skiff_deployment_lead_time_seconds_count{name="web"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    // Commit times have whole seconds.
    let lead = sample(
        &metrics,
        r#"skiff_deployment_lead_time_seconds_sum{name="web"}"#,
    )
    .expect("lead time");
    assert!(
        (0.0..=since_commit + 1.0).contains(&lead),
        "lead time {lead} s, commit {since_commit} s ago"
    );
    assert_eq!(sample(&metrics, "skiff_leader"), Some(1.0));
    // Polls of the same revision are syncs, not deployments.
    let polls = |m: &str| sample(m, r#"skiff_app_sync_total{name="web",phase="Succeeded"}"#);
    let before = polls(&metrics);
    let metrics = eventually("another poll", Duration::from_secs(20), || async {
        let m = scrape();
        (polls(&m) > before).then_some(m)
    })
    .await;
    assert_eq!(sample(&metrics, deployed), Some(1.0), "{metrics}");

    // The outcome log line, and its trace ID leads to the exported trace.
    let line = eventually(
        "a sync.outcome log line",
        Duration::from_secs(10),
        || async {
            log_lines(&log, "sync.outcome")
                .into_iter()
                .find(|l| l["fields"]["app"] == "web" && l["fields"]["revision"] == first.as_str())
        },
    )
    .await;
    let fields = &line["fields"];
    assert_eq!(fields["result"], "Succeeded", "{line}");
    assert_eq!(fields["namespace"], ns.name.as_str(), "{line}");
    assert!(fields["duration_ms"].as_u64().is_some(), "{line}");
    let trace_id = fields["trace_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(trace_id.len(), 32, "{line}");

    // A broken commit: an Error sync, a failed deployment counted once.
    repo.write("apps/web/bad.yaml", "kind: [\n");
    repo.commit("web: broken");
    let failed = r#"skiff_deployments_total{name="web",result="Error"}"#;
    let metrics = eventually(
        "the broken revision counted",
        Duration::from_secs(60),
        || async {
            let m = scrape();
            (sample(&m, failed) == Some(1.0)
                && sample(&m, r#"skiff_app_sync_total{name="web",phase="Error"}"#) >= Some(2.0))
            .then_some(m)
        },
    )
    .await;
    assert_eq!(
        sample(&metrics, failed),
        Some(1.0),
        "once per revision: {metrics}"
    );
    assert!(
        sample(&metrics, r#"skiff_app_reconcile_errors_total{name="web"}"#) >= Some(2.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            r#"skiff_app_info{name="web",project="default",sync_status="Unknown",health_status="Healthy"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    let info_series = metrics
        .lines()
        .filter(|l| l.starts_with(r#"skiff_app_info{name="web","#))
        .count();
    assert_eq!(
        info_series, 1,
        "one app_info series per Application: {metrics}"
    );
    let error_line = log_lines(&log, "sync.outcome")
        .into_iter()
        .find(|l| l["fields"]["app"] == "web" && l["fields"]["result"] == "Error")
        .expect("an Error outcome line");
    assert_eq!(error_line["level"], "WARN", "{error_line}");
    assert!(
        error_line["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("render")),
        "{error_line}"
    );

    // The fix is the second successful deployment.
    repo.remove("apps/web/bad.yaml");
    let fixed_at = Instant::now();
    repo.commit("web: fixed");
    let metrics = eventually("the fix deployed", Duration::from_secs(60), || async {
        let m = scrape();
        (sample(&m, deployed) == Some(2.0)).then_some(m)
    })
    .await;
    assert_eq!(
        sample(
            &metrics,
            r#"skiff_deployment_lead_time_seconds_count{name="web"}"#
        ),
        Some(2.0),
        "{metrics}"
    );
    eprintln!("fix deployed {:?} after its commit", fixed_at.elapsed());

    // SIGTERM: the agent stops, flushing the traces it holds; the logged
    // trace reaches the collector over OTLP/HTTP.
    let pid = log_lines(&log, "leader.waiting")
        .first()
        .and_then(|l| {
            l["fields"]["identity"]
                .as_str()?
                .rsplit('-')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .expect("the agent's pid in its identity");
    let stopping = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    eventually("the agent to exit", Duration::from_secs(20), || async {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Exited: gone, or a zombie until the guard reaps it.
        (stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z")).then_some(())
    })
    .await;
    eprintln!("agent stopped {:?} after SIGTERM", stopping.elapsed());
    let spans = collector.wait_for_spans(Duration::from_secs(10), |spans| {
        spans.iter().any(|s| s["traceId"] == trace_id.as_str())
    });
    let expected_name = format!("sync {}/web", ns.name);
    assert!(
        spans
            .iter()
            .any(|s| s["traceId"] == trace_id.as_str() && s["name"] == expected_name.as_str()),
        "the logged trace reached the collector when the agent stopped ({} spans)",
        spans.len()
    );
}
