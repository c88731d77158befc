//! Agent benchmark: `skiff agent` (the release binary) serving a fleet of N
//! small Applications (one ConfigMap each, declared in Git and applied by the
//! root app-of-apps) on the testbed's real API server. It measures
//!
//! - the cold start: agent start until every Application is Synced and Healthy;
//! - the agent at rest: CPU seconds per minute (from `/proc/PID/stat`, over
//!   one whole `interval`, so every Application is polled once inside the
//!   window) and its resident memory (VmRSS now, VmHWM peak);
//! - a change: a commit touching one app, then the trigger annotation; the
//!   time from writing the annotation to the sync starting (`operationState`
//!   Running) and to the new value being in the cluster. Median of several.
//!
//! ```text
//! cargo build --release && cargo run --release --example agent_bench -- --apps 500 --out bench/agent.md
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client, CustomResourceExt};
use skiff::api::{AppProject, Application, HealthStatusCode, SyncStatusCode};

#[path = "support/git.rs"]
mod git;
use git::git;

const NAMESPACE: &str = "skiff-system";

#[derive(Debug, Parser)]
#[command(about = "Benchmark the skiff agent at rest and on a change")]
struct Args {
    /// Applications in the fleet.
    #[arg(long, default_value_t = 500)]
    apps: usize,
    /// The agent's default `spec.interval` (the at-rest window is one interval).
    #[arg(long, default_value = "3m")]
    interval: String,
    /// Trigger-to-applied measurements; the median is reported.
    #[arg(long, default_value_t = 5)]
    changes: usize,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let root = skiff_testbed::repo_root();
    let skiff = root.join("target/release/skiff");
    // `skiff agent` execs skiff-agent from the same folder.
    for binary in [skiff.clone(), root.join("target/release/skiff-agent")] {
        if !binary.is_file() {
            return Err(format!(
                "build it first: cargo build --release ({})",
                binary.display()
            ));
        }
    }
    let interval = skiff::api::parse_duration(&args.interval)?;
    let plane = skiff_testbed::ControlPlane::shared();
    let client = plane.client().await;
    install_crds(&client).await?;
    ensure_namespace(&client).await?;

    let work = std::env::temp_dir().join(format!("skiff-agent-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let fleet = work.join("fleet");
    write_fleet(&fleet, args.apps)?;

    // cold start
    let started = Instant::now();
    let mut agent = start_agent(&skiff, plane.kubeconfig(), &fleet, &work, &args.interval)?;
    let apps: Api<Application> = Api::namespaced(client.clone(), NAMESPACE);
    let cold = loop {
        let list = apps
            .list(&ListParams::default())
            .await
            .map_err(|e| e.to_string())?;
        let ready = list.items.iter().filter(|a| synced_and_healthy(a)).count();
        // the root Application is one more
        if ready == args.apps + 1 {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(900) {
            return Err(format!(
                "only {ready} of {} Applications converged in 15 minutes",
                args.apps + 1
            ));
        }
        if let Some(status) = agent.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("the agent exited: {status}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    eprintln!("cold start: {} Applications in {cold:.1?}", args.apps + 1);

    // at rest: settle, then one whole interval
    tokio::time::sleep(Duration::from_secs(10)).await;
    let pid = agent.id();
    let (cpu0, t0) = (cpu_seconds(pid)?, Instant::now());
    tokio::time::sleep(interval).await;
    let (cpu1, elapsed) = (cpu_seconds(pid)?, t0.elapsed());
    let per_minute = (cpu1 - cpu0) / elapsed.as_secs_f64() * 60.0;
    let core_share = (cpu1 - cpu0) / elapsed.as_secs_f64() * 100.0;
    let (rss, hwm) = memory_kib(pid)?;
    eprintln!(
        "at rest: {per_minute:.2} CPU s/min ({core_share:.2}% of a core), RSS {} MiB, peak {} MiB",
        rss / 1024,
        hwm / 1024
    );

    // a change: commit + trigger annotation, one app at a time
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
    let mut to_start = Vec::new();
    let mut to_applied = Vec::new();
    for round in 0..args.changes {
        let i = (round * 7 + 3) % args.apps;
        let value = format!("change-{round}");
        std::fs::write(
            fleet.join(format!("apps/app-{i}/cm.yaml")),
            config_map(i, &value),
        )
        .map_err(|e| e.to_string())?;
        git(&fleet, &["commit", "-q", "-am", &value])?;
        let asked = Instant::now();
        apps.patch(
            &format!("app-{i}"),
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"annotations": {
                "skiff.dev/requested-at": format!("bench-{round}-{}", std::process::id())
            }}})),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut start = None;
        loop {
            if start.is_none() {
                let app = apps
                    .get(&format!("app-{i}"))
                    .await
                    .map_err(|e| e.to_string())?;
                let op = app.status.and_then(|s| s.operation_state);
                if op.is_some_and(|op| {
                    (op.phase == "Running" || op.finished_at.is_some())
                        && started_after(op.started_at.as_ref(), asked)
                }) {
                    start = Some(asked.elapsed());
                }
            }
            let cm = cms
                .get(&format!("app-{i}"))
                .await
                .map_err(|e| e.to_string())?;
            if cm.data.and_then(|d| d.get("value").cloned()).as_deref() == Some(value.as_str()) {
                let applied = asked.elapsed();
                to_applied.push(applied);
                to_start.push(start.unwrap_or(applied));
                break;
            }
            if asked.elapsed() > Duration::from_secs(60) {
                return Err(format!("app-{i}: change not applied within 60 s"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let start_median = median(&mut to_start);
    let applied_median = median(&mut to_applied);
    eprintln!(
        "trigger to sync start: {start_median:.3?} (median of {})",
        args.changes
    );
    eprintln!(
        "trigger to applied: {applied_median:.3?} (median of {})",
        args.changes
    );
    let _ = agent.kill();
    let _ = agent.wait();

    let mut table = String::new();
    let _ = writeln!(
        table,
        "{} Applications (one ConfigMap each, from one Git repository through an app-of-apps), agent interval {}, concurrency 8, Kubernetes v1.37.2 testbed, 2 cores. Medians of {} changes.\n",
        args.apps, args.interval, args.changes
    );
    table.push_str("| measure | target | skiff |\n|---|---|---|\n");
    let _ = writeln!(
        table,
        "| cold start, all Synced and Healthy | — | {:.1} s |",
        cold.as_secs_f64()
    );
    let _ = writeln!(
        table,
        "| CPU at rest (over one interval) | < 2% of a core | {core_share:.2}% ({per_minute:.2} CPU s/min) |"
    );
    let _ = writeln!(
        table,
        "| RSS at rest | < 100 MiB | {:.1} MiB |",
        rss as f64 / 1024.0
    );
    let _ = writeln!(
        table,
        "| peak RSS (cold start included) | — | {:.1} MiB |",
        hwm as f64 / 1024.0
    );
    let _ = writeln!(
        table,
        "| trigger annotation to sync start | < 1 s | {:.0} ms |",
        start_median.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        table,
        "| trigger annotation to change applied | < 2 s | {:.0} ms |",
        applied_median.as_secs_f64() * 1e3
    );
    print!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, format!("# Agent benchmark\n\n`cargo build --release && cargo run --release --example agent_bench -- --apps {} --out {}`\n\n{table}", args.apps, out.display()))
            .map_err(|e| format!("writing {}: {e}", out.display()))?;
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

fn synced_and_healthy(app: &Application) -> bool {
    app.status.as_ref().is_some_and(|s| {
        s.sync
            .as_ref()
            .is_some_and(|x| x.status == SyncStatusCode::Synced)
            && s.health
                .as_ref()
                .is_some_and(|h| h.status == HealthStatusCode::Healthy)
    })
}

/// Whether an operation that started at `started` began after `asked`
/// (and is not an earlier one still on record).
fn started_after(
    started: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    asked: Instant,
) -> bool {
    let Some(started) = started else {
        return false;
    };
    // Status times have one-second resolution: allow for the truncation.
    let ago = k8s_openapi::jiff::Timestamp::now().duration_since(started.0);
    ago.as_secs_f64() <= asked.elapsed().as_secs_f64() + 1.0
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn start_agent(
    skiff: &Path,
    kubeconfig: &Path,
    fleet: &Path,
    work: &Path,
    interval: &str,
) -> Result<Child, String> {
    Command::new(skiff)
        .arg("agent")
        .env("KUBECONFIG", kubeconfig)
        .env(
            "SKIFF_FLEET_REPO_URL",
            format!("file://{}", fleet.display()),
        )
        .env("SKIFF_FLEET_TARGET_REVISION", "main")
        .env("SKIFF_FLEET_PATH", "clusters/bench")
        .env("SKIFF_NAMESPACE", NAMESPACE)
        .env("SKIFF_INTERVAL", interval)
        .env("SKIFF_CONCURRENCY", "8")
        .env("SKIFF_LOG_FORMAT", "text")
        .env("SKIFF_LOG", "warn")
        .env("SKIFF_METRICS_ADDRESS", "127.0.0.1:0")
        .env("XDG_CACHE_HOME", work.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", skiff.display()))
}

/// utime + stime of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    // fields after the parenthesised command name; utime and stime are 14 and 15
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .ok_or("short /proc stat")?
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    // CLK_TCK is 100 on every Linux this runs on
    Ok(ticks / 100.0)
}

/// (VmRSS, VmHWM) of `pid` in KiB.
fn memory_kib(pid: u32) -> Result<(u64, u64), String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

fn config_map(i: usize, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}\ndata:\n  value: {value}\n"
    )
}

/// `apps/app-<i>/cm.yaml` and, for the root app-of-apps,
/// `clusters/bench/app-<i>.yaml`, committed on `main`.
fn write_fleet(dir: &Path, n: usize) -> Result<(), String> {
    let url = format!("file://{}", dir.display());
    for i in 0..n {
        let app = dir.join(format!("apps/app-{i}"));
        std::fs::create_dir_all(&app).map_err(|e| e.to_string())?;
        std::fs::write(app.join("cm.yaml"), config_map(i, "initial")).map_err(|e| e.to_string())?;
        let cluster = dir.join("clusters/bench");
        std::fs::create_dir_all(&cluster).map_err(|e| e.to_string())?;
        std::fs::write(
            cluster.join(format!("app-{i}.yaml")),
            format!(
                "apiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: app-{i}\n  namespace: {NAMESPACE}\nspec:\n  source:\n    repoURL: {url}\n    targetRevision: main\n    path: apps/app-{i}\n  destination:\n    namespace: {NAMESPACE}\n  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n"
            ),
        )
        .map_err(|e| e.to_string())?;
    }
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "fleet"])
}

async fn install_crds(client: &Client) -> Result<(), String> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in [Application::crd(), AppProject::crd()] {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(
            &name,
            &PatchParams::apply("skiff-bench").force(),
            &Patch::Apply(&crd),
        )
        .await
        .map_err(|e| format!("applying CRD {name}: {e}"))?;
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .map_err(|_| format!("CRD {name} not established"))?
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn ensure_namespace(client: &Client) -> Result<(), String> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    api.patch(
        NAMESPACE,
        &PatchParams::apply("skiff-bench"),
        &Patch::Apply(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}
        })),
    )
    .await
    .map(|_| ())
    .map_err(|e| format!("creating namespace {NAMESPACE}: {e}"))
}
