//! Sync benchmark in the shape of Flux's public one: N apps, each a Namespace
//! holding a Deployment scaled to zero, a ServiceAccount, a Service and an
//! Ingress, synced from Git into an empty cluster. For every N it measures
//! skiff (one process syncing all N Applications, a bounded number at once)
//! and, on a second fresh control plane, `kubectl apply --server-side` of the
//! same objects as the floor: wall time, peak RSS and API requests.
//!
//! ```text
//! cargo run --release --example sync_bench -- --apps 100,500 --out bench/sync.md
//! ```
//!
//! Every measurement starts from a fresh control plane (`testbed/up`), so no
//! run benefits from another's objects. Peak RSS is what `/usr/bin/time`
//! reports for the measured process (its `ru_maxrss`); API requests are the
//! growth of the API server's own `apiserver_request_total` across the run.
//! The worker mode (`sync_bench worker`) is the skiff side: it is this same
//! binary re-executed, so its memory is measured apart from the harness's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use futures::{StreamExt, stream};
use kube::api::ListParams;
use kube::{Api, Client};
use skiff::api::Application;
use skiff::source::git::GitCache;
use skiff::sync::{Engine, EngineOptions, Mode, OperationPhase, SyncRequest, Trigger, record};

#[path = "support/git.rs"]
mod git;
use git::git;

/// The namespace the Applications live in, as the agent's would.
const AGENT_NAMESPACE: &str = "skiff-system";
/// Objects per app: Namespace, Deployment, ServiceAccount, Service, Ingress.
const OBJECTS_PER_APP: usize = 5;

#[derive(Debug, Parser)]
#[command(about = "Benchmark skiff's sync against kubectl apply --server-side")]
struct Args {
    /// Numbers of apps to measure, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "100,500")]
    apps: Vec<usize>,
    /// Applications synced at once by the skiff worker.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Requests in flight at once within one sync (EngineOptions::concurrency).
    #[arg(long, default_value_t = 16)]
    engine_concurrency: usize,
    /// Measurements per N and tool; the median wall time is reported.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// The kubectl used for setup and as the floor.
    #[arg(long, default_value = "kubectl")]
    kubectl: PathBuf,
    /// Measure only the floor, not also kubectl with its default flags (slow).
    #[arg(long)]
    floor_only: bool,
    /// Write the skiff worker's span timings (the engine's tracing spans as
    /// they close, with busy and idle time) to this file, to see where time goes.
    #[arg(long)]
    worker_log: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where to generate repositories and control-plane state (default: a temp dir).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    #[command(subcommand)]
    worker: Option<Worker>,
}

#[derive(Debug, Subcommand)]
enum Worker {
    /// (internal) Sync every Application of the agent namespace once, the way
    /// the agent would, and print a one-line summary.
    #[command(hide = true)]
    Worker {
        #[arg(long)]
        concurrency: usize,
        #[arg(long)]
        engine_concurrency: usize,
        #[arg(long)]
        cache_dir: PathBuf,
        /// Log every closing span to stderr.
        #[arg(long)]
        trace: bool,
    },
}

fn main() {
    let args = Args::parse();
    let result = match &args.worker {
        Some(Worker::Worker {
            concurrency,
            engine_concurrency,
            cache_dir,
            trace,
        }) => {
            if *trace {
                tracing_subscriber::fmt()
                    .with_writer(std::io::stderr)
                    .with_ansi(false)
                    .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
                    .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
                    .init();
            }
            worker(*concurrency, *engine_concurrency, cache_dir)
        }
        None => bench(&args),
    };
    if let Err(e) = result {
        eprintln!("sync_bench: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------- worker

/// The skiff side: list the Applications, sync each (at most `concurrency` at
/// once) with one shared engine, record each outcome in its status.
fn worker(concurrency: usize, engine_concurrency: usize, cache_dir: &Path) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    runtime.block_on(async {
        let client = Client::try_default()
            .await
            .map_err(|e| format!("connecting with KUBECONFIG: {e}"))?;
        let cache = GitCache::new(cache_dir, Duration::from_secs(60))
            .map_err(|e| format!("git cache {}: {e}", cache_dir.display()))?;
        let engine = Engine::new(
            client.clone(),
            Arc::new(cache),
            EngineOptions {
                concurrency: engine_concurrency,
                // No controllers run in the benchmark's control plane, so
                // nothing would ever report ready; the floor does not wait either.
                wait: false,
                ..EngineOptions::default()
            },
        );
        let apps = Api::<Application>::namespaced(client.clone(), AGENT_NAMESPACE)
            .list(&ListParams::default())
            .await
            .map_err(|e| format!("listing Applications in {AGENT_NAMESPACE}: {e}"))?
            .items;
        let total = apps.len();
        // The syncs are polled on this task rather than spawned: the future of
        // `Engine::sync` is not provably `Send` (rustc's "FnOnce is not general
        // enough" on the per-object streams). Git and rendering still run on
        // blocking threads and the connections on the runtime's workers.
        let results: Vec<Result<usize, String>> = stream::iter(&apps)
            .map(|app| sync_one(&engine, &client, app))
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let objects: usize = results.iter().filter_map(|r| r.as_ref().ok()).sum();
        let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        for f in failures.iter().take(5) {
            eprintln!("sync_bench worker: {f}");
        }
        println!(
            "{{\"apps\":{total},\"succeeded\":{},\"objects\":{objects}}}",
            total - failures.len()
        );
        if failures.is_empty() {
            Ok(())
        } else {
            Err(format!("{} of {total} syncs failed", failures.len()))
        }
    })
}

/// One Application: sync, then record the outcome as the agent does. Returns
/// the number of objects applied.
async fn sync_one(engine: &Engine, client: &Client, app: &Application) -> Result<usize, String> {
    let name = app.metadata.name.clone().unwrap_or_default();
    let request = SyncRequest {
        revision: None,
        trigger: Trigger::Poll,
        mode: Mode::Apply,
        prune: true,
        previous: Vec::new(),
        auto: None,
    };
    let outcome = engine.sync(app, &request).await;
    let extra = record::Extra {
        add_history: true,
        ..record::Extra::default()
    };
    let status = record::next_status(app, &outcome, &extra);
    record::write(client, app, &status).await?;
    if outcome.phase != OperationPhase::Succeeded {
        return Err(format!("Application {name}: {}", outcome.message));
    }
    Ok(outcome.inventory.len())
}

// ---------------------------------------------------------------- harness

/// One measured process.
#[derive(Clone, Debug)]
struct Measured {
    wall: Duration,
    peak_rss_kib: Option<u64>,
    /// CPU time (user + system) of the measured process.
    cpu: Option<Duration>,
    /// CPU time of kube-apiserver and etcd meanwhile: the cluster's side of the work.
    server_cpu: Option<Duration>,
    requests: u64,
    /// Requests by `VERB resource[/subresource][ dry-run]`.
    by_kind: BTreeMap<String, u64>,
    /// What the process wrote to stderr.
    stderr: Vec<u8>,
}

/// Every tool's measurement for one N; the first is skiff, the second the floor.
#[derive(Debug)]
struct Row {
    apps: usize,
    tools: Vec<(String, Measured)>,
}

/// The kubectl variants measured. `--validate=false` is the floor: one
/// server-side apply request per object and nothing else. kubectl's default
/// (`--validate=strict`) adds client-side work per object that is not part of
/// applying (it reads the OpenAPI document again for every object), so it
/// is reported, but not used as the floor.
const KUBECTL_VARIANTS: [(&str, &[&str]); 2] = [
    ("kubectl --validate=false (floor)", &["--validate=false"]),
    ("kubectl (default flags)", &[]),
];

fn bench(args: &Args) -> Result<(), String> {
    let repo_root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let testbed = repo_root.join("testbed");
    let crds = repo_root.join("manifests").join("crds");
    let work = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("skiff-sync-bench-{}", std::process::id())),
    };
    if work.exists() {
        return Err(format!(
            "{} already exists; give an absent --work-dir",
            work.display()
        ));
    }
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let self_exe =
        std::env::current_exe().map_err(|e| format!("finding this program's path: {e}"))?;
    let mut rows = Vec::new();
    let mut server_version = String::new();
    for &n in &args.apps {
        let dir = work.join(format!("n{n}"));
        let fleet = dir.join("fleet");
        write_fleet(&fleet, n)?;
        let applications = dir.join("applications.yaml");
        write_applications(&applications, &fleet, n)?;

        let variants = if args.floor_only {
            &KUBECTL_VARIANTS[..1]
        } else {
            &KUBECTL_VARIANTS[..]
        };
        let mut skiff_runs = Vec::new();
        let mut kubectl_runs: Vec<Vec<Measured>> = vec![Vec::new(); variants.len()];
        for run in 0..args.runs.max(1) {
            // skiff, on a control plane of its own
            let plane = ControlPlane::up(&testbed, &dir.join(format!("skiff-cp-{run}")))?;
            if server_version.is_empty() {
                server_version = plane.server_version(&args.kubectl);
            }
            plane.kubectl(
                &args.kubectl,
                &["apply", "--server-side", "-f"],
                Some(&crds),
            )?;
            plane.kubectl(
                &args.kubectl,
                &[
                    "wait",
                    "--for=condition=Established",
                    "--timeout=60s",
                    "crd/applications.skiff.dev",
                    "crd/appprojects.skiff.dev",
                ],
                None,
            )?;
            plane.kubectl(
                &args.kubectl,
                &["create", "namespace", AGENT_NAMESPACE],
                None,
            )?;
            plane.kubectl(
                &args.kubectl,
                &["apply", "--server-side", "-f"],
                Some(&applications),
            )?;
            let mut worker = Command::new(&self_exe);
            worker
                .arg("worker")
                .arg("--concurrency")
                .arg(args.concurrency.to_string())
                .arg("--engine-concurrency")
                .arg(args.engine_concurrency.to_string())
                .arg("--cache-dir")
                .arg(dir.join(format!("git-cache-{run}")));
            if args.worker_log.is_some() {
                worker.arg("--trace");
            }
            let measured = plane.measure(&args.kubectl, worker, &dir.join("skiff.time"))?;
            if let Some(log) = &args.worker_log {
                std::fs::write(log, &measured.stderr)
                    .map_err(|e| format!("writing {}: {e}", log.display()))?;
            }
            plane.expect_applied(&args.kubectl, n)?;
            println!(
                "N={n} run {run}: skiff {:.2}s, {} requests",
                measured.wall.as_secs_f64(),
                measured.requests
            );
            skiff_runs.push(measured);
            drop(plane);

            // the same objects through kubectl, each variant on a fresh plane
            for (v, (label, flags)) in variants.iter().enumerate() {
                let plane = ControlPlane::up(&testbed, &dir.join(format!("kubectl{v}-cp-{run}")))?;
                let mut apply = Command::new(&args.kubectl);
                apply
                    .args(["apply", "--server-side", "--field-manager=floor", "-R"])
                    .args(*flags)
                    // A cold discovery cache, as skiff's worker starts with.
                    .arg("--cache-dir")
                    .arg(dir.join(format!("kubectl{v}-cache-{run}")))
                    .arg("-f")
                    .arg(fleet.join("apps"));
                let measured = plane.measure(&args.kubectl, apply, &dir.join("kubectl.time"))?;
                plane.expect_applied(&args.kubectl, n)?;
                println!(
                    "N={n} run {run}: {label} {:.2}s, {} requests",
                    measured.wall.as_secs_f64(),
                    measured.requests
                );
                kubectl_runs[v].push(measured);
            }
        }
        let mut tools = vec![("skiff".to_owned(), median(skiff_runs))];
        for ((label, _), runs) in variants.iter().zip(kubectl_runs) {
            tools.push(((*label).to_owned(), median(runs)));
        }
        rows.push(Row { apps: n, tools });
    }
    let report = markdown(args, &rows, &server_version);
    print!("{report}");
    if let Some(out) = &args.out {
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
        std::fs::write(out, &report).map_err(|e| format!("writing {}: {e}", out.display()))?;
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// The run with the median wall time.
fn median(mut runs: Vec<Measured>) -> Measured {
    runs.sort_by_key(|m| m.wall);
    runs.swap_remove(runs.len() / 2)
}

/// A control plane started by `testbed/up`, stopped when dropped.
struct ControlPlane {
    testbed: PathBuf,
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl ControlPlane {
    fn up(testbed: &Path, dir: &Path) -> Result<ControlPlane, String> {
        let out = Command::new(testbed.join("up"))
            .arg("--dir")
            .arg(dir)
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("running testbed/up: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "testbed/up failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let kubeconfig = stdout
            .lines()
            .find_map(|l| l.strip_prefix("export KUBECONFIG="))
            .ok_or_else(|| format!("testbed/up printed no KUBECONFIG: {stdout}"))?;
        Ok(ControlPlane {
            testbed: testbed.to_owned(),
            dir: dir.to_owned(),
            kubeconfig: PathBuf::from(kubeconfig.trim()),
        })
    }

    /// Runs kubectl against this plane (with `file` appended, if given).
    fn kubectl(
        &self,
        kubectl: &Path,
        args: &[&str],
        file: Option<&Path>,
    ) -> Result<String, String> {
        let mut cmd = Command::new(kubectl);
        cmd.args(args).env("KUBECONFIG", &self.kubeconfig);
        if let Some(file) = file {
            cmd.arg(file);
        }
        let out = cmd
            .output()
            .map_err(|e| format!("running {}: {e}", kubectl.display()))?;
        if !out.status.success() {
            return Err(format!(
                "kubectl {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn server_version(&self, kubectl: &Path) -> String {
        self.kubectl(kubectl, &["get", "--raw", "/version"], None)
            .ok()
            .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
            .and_then(|v| v["gitVersion"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into())
    }

    /// The API server's request counters, by label set.
    fn request_counters(&self, kubectl: &Path) -> Result<BTreeMap<String, u64>, String> {
        let text = self.kubectl(kubectl, &["get", "--raw", "/metrics"], None)?;
        Ok(text
            .lines()
            .filter_map(|l| l.strip_prefix("apiserver_request_total{"))
            .filter_map(|l| {
                let (labels, value) = l.rsplit_once("} ")?;
                Some((labels.to_owned(), value.trim().parse::<f64>().ok()? as u64))
            })
            .collect())
    }

    /// Runs `cmd` against this plane under `/usr/bin/time`, and counts the
    /// API requests made meanwhile.
    fn measure(&self, kubectl: &Path, cmd: Command, time_file: &Path) -> Result<Measured, String> {
        let before = self.request_counters(kubectl)?;
        let server_before = self.server_cpu();
        let timed = Path::new("/usr/bin/time").exists();
        let mut run = if timed {
            let mut t = Command::new("/usr/bin/time");
            t.arg("-f").arg("%M %U %S").arg("-o").arg(time_file);
            t.arg(cmd.get_program()).args(cmd.get_args());
            t
        } else {
            cmd
        };
        run.env("KUBECONFIG", &self.kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let out = run
            .output()
            .map_err(|e| format!("running the measured command: {e}"))?;
        let wall = started.elapsed();
        let server_cpu = match (server_before, self.server_cpu()) {
            (Some(a), Some(b)) => b.checked_sub(a),
            _ => None,
        };
        if !out.status.success() {
            return Err(format!(
                "the measured command failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // The last line is ours (`%M %U %S`); anything above it is time's own
        // remarks, such as an exit status.
        let report = if timed {
            std::fs::read_to_string(time_file).unwrap_or_default()
        } else {
            String::new()
        };
        let fields: Vec<&str> = report
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let peak_rss_kib = fields.first().and_then(|f| f.parse().ok());
        let cpu = match (fields.get(1), fields.get(2)) {
            (Some(u), Some(s)) => match (u.parse::<f64>(), s.parse::<f64>()) {
                (Ok(u), Ok(s)) => Some(Duration::from_secs_f64(u + s)),
                _ => None,
            },
            _ => None,
        };
        let after = self.request_counters(kubectl)?;
        let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
        for (labels, count) in &after {
            let grown = count.saturating_sub(before.get(labels).copied().unwrap_or(0));
            if grown == 0 {
                continue;
            }
            let label = |name: &str| {
                labels
                    .split(',')
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                    .map(|v| v.trim_end_matches('"').to_owned())
                    .unwrap_or_default()
            };
            let (group, resource, sub) = (label("group"), label("resource"), label("subresource"));
            // The API server's own requests (its identity lease, flow-control
            // status, the ClusterIP allocator's IPAddress objects) and our
            // /metrics reads are nobody's sync.
            if group == "coordination.k8s.io"
                || group == "flowcontrol.apiserver.k8s.io"
                || resource == "ipaddresses"
                || sub == "/metrics"
            {
                continue;
            }
            let mut kind = format!(
                "{} {}",
                label("verb"),
                if resource.is_empty() { &sub } else { &resource }
            );
            if !resource.is_empty() && !sub.is_empty() {
                kind.push('/');
                kind.push_str(&sub);
            }
            if !label("dry_run").is_empty() {
                kind.push_str(" (dry run)");
            }
            *by_kind.entry(kind).or_default() += grown;
        }
        Ok(Measured {
            wall,
            peak_rss_kib,
            cpu,
            server_cpu,
            requests: by_kind.values().sum(),
            by_kind,
            stderr: out.stderr,
        })
    }

    /// CPU time used so far by this plane's kube-apiserver and etcd, from
    /// /proc (Linux only; `None` elsewhere).
    fn server_cpu(&self) -> Option<Duration> {
        // Clock ticks per second; 100 on every Linux we run on.
        const TICKS: f64 = 100.0;
        let mut ticks = 0u64;
        for name in ["kube-apiserver", "etcd"] {
            let pid = std::fs::read_to_string(self.dir.join("pids").join(name)).ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).ok()?;
            // Fields after the parenthesised command name; utime and stime are
            // the 14th and 15th fields of the whole line.
            let rest = stat.rsplit_once(") ")?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            ticks += fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        }
        Some(Duration::from_secs_f64(ticks as f64 / TICKS))
    }

    /// Checks that all N apps' objects are there, so a fast run is a complete one.
    fn expect_applied(&self, kubectl: &Path, apps: usize) -> Result<(), String> {
        for kind in ["deployments", "serviceaccounts", "services", "ingresses"] {
            let names = self.kubectl(
                kubectl,
                &["get", kind, "-A", "-l", "bench=sync", "-o", "name"],
                None,
            )?;
            let found = names.lines().count();
            if found != apps {
                return Err(format!(
                    "expected {apps} {kind} after the run, found {found}"
                ));
            }
        }
        Ok(())
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = Command::new(self.testbed.join("down"))
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

// ---------------------------------------------------------------- fleet

/// A Git repository with `apps/app-<i>/` for i in 0..n, committed on `main`.
fn write_fleet(dir: &Path, n: usize) -> Result<(), String> {
    for i in 0..n {
        let app = dir.join("apps").join(format!("app-{i}"));
        std::fs::create_dir_all(&app).map_err(|e| format!("creating {}: {e}", app.display()))?;
        // The Namespace file sorts first, so kubectl's walk creates it before
        // the objects in it (skiff orders Namespaces first by itself).
        for (file, text) in [
            ("0-namespace.yaml", namespace(i)),
            ("deployment.yaml", deployment(i)),
            ("serviceaccount.yaml", service_account(i)),
            ("service.yaml", service(i)),
            ("ingress.yaml", ingress(i)),
        ] {
            let path = app.join(file);
            std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
    }
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "fleet"],
    ] {
        git(dir, args).map_err(|e| format!("in {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// One Application per app, deploying `apps/app-<i>` into namespace `app-<i>`.
fn write_applications(file: &Path, fleet: &Path, n: usize) -> Result<(), String> {
    let mut out = String::new();
    for i in 0..n {
        let _ = write!(
            out,
            "---\napiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: app-{i}\n  namespace: {AGENT_NAMESPACE}\nspec:\n  source:\n    repoURL: file://{}\n    targetRevision: main\n    path: apps/app-{i}\n  destination:\n    namespace: app-{i}\n",
            fleet.display()
        );
    }
    std::fs::write(file, out).map_err(|e| format!("writing {}: {e}", file.display()))
}

fn namespace(i: usize) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app-{i}\n  labels:\n    bench: sync\n"
    )
}

fn deployment(i: usize) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: app-{i}
  labels:
    bench: sync
spec:
  replicas: 0
  selector:
    matchLabels:
      app: app-{i}
  template:
    metadata:
      labels:
        app: app-{i}
    spec:
      serviceAccountName: app-{i}
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.5.3
          ports:
            - name: http
              containerPort: 9898
          resources:
            requests:
              cpu: 1m
              memory: 16Mi
"#
    )
}

fn service_account(i: usize) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app-{i}\n  namespace: app-{i}\n  labels:\n    bench: sync\n"
    )
}

fn service(i: usize) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: app-{i}
  labels:
    bench: sync
spec:
  selector:
    app: app-{i}
  ports:
    - name: http
      port: 80
      targetPort: http
"#
    )
}

fn ingress(i: usize) -> String {
    format!(
        r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app-{i}
  namespace: app-{i}
  labels:
    bench: sync
spec:
  rules:
    - host: app-{i}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: app-{i}
                port:
                  name: http
"#
    )
}

// ---------------------------------------------------------------- report

fn markdown(args: &Args, rows: &[Row], server_version: &str) -> String {
    let mib = |m: &Measured| {
        m.peak_rss_kib
            .map(|k| format!("{:.1}", k as f64 / 1024.0))
            .unwrap_or_else(|| "?".into())
    };
    let mut out = String::new();
    let _ = writeln!(out, "# Sync benchmark\n");
    let _ = writeln!(
        out,
        "Written by `cargo run --release --example sync_bench -- --apps {} --concurrency {} --engine-concurrency {} --runs {}{}`.\n",
        args.apps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        args.concurrency,
        args.engine_concurrency,
        args.runs,
        if args.floor_only { " --floor-only" } else { "" },
    );
    let _ = writeln!(out, "- date: {}", k8s_openapi::jiff::Timestamp::now());
    let _ = writeln!(out, "- machine: {}", machine());
    let _ = writeln!(
        out,
        "- build profile: {}",
        if cfg!(debug_assertions) {
            "debug (numbers not representative)"
        } else {
            "release"
        }
    );
    let _ = writeln!(
        out,
        "- control plane: testbed etcd + kube-apiserver {server_version}, fresh for every measurement; no controllers"
    );
    let _ = writeln!(
        out,
        "- floor: `kubectl apply --server-side --validate=false -R -f apps/` (kubectl {}), one request per object, in sequence{}",
        kubectl_version(&args.kubectl),
        if args.floor_only {
            ""
        } else {
            "; kubectl with its default flags is shown too"
        }
    );
    let _ = writeln!(
        out,
        "- skiff: one process, {} Applications at once, {} requests in flight per sync, no health wait, status written per Application",
        args.concurrency, args.engine_concurrency
    );
    let _ = writeln!(
        out,
        "- each app: Namespace, Deployment (replicas 0), ServiceAccount, Service, Ingress ({OBJECTS_PER_APP} objects)"
    );
    let _ = writeln!(
        out,
        "- API requests: growth of `apiserver_request_total` over the run, less the API server's own (leases, flow control, IPAddress allocation) and the harness's /metrics reads\n"
    );
    let _ = writeln!(
        out,
        "| N | objects | tool | wall (s) | peak RSS (MiB) | API requests | wall / floor | CPU (s) | apiserver + etcd CPU (s) |"
    );
    let _ = writeln!(out, "|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let floor = r
            .tools
            .get(1)
            .map(|(_, m)| m.wall.as_secs_f64())
            .unwrap_or(f64::NAN);
        for (tool, m) in &r.tools {
            let _ = writeln!(
                out,
                "| {} | {} | {tool} | {:.2} | {} | {} | {:.2}x | {} | {} |",
                r.apps,
                r.apps * OBJECTS_PER_APP,
                m.wall.as_secs_f64(),
                mib(m),
                m.requests,
                m.wall.as_secs_f64() / floor,
                secs(m.cpu),
                secs(m.server_cpu),
            );
        }
    }
    let _ = writeln!(
        out,
        "\nTargets (issue 5): skiff within 1.5x of the floor's wall time; skiff peak RSS under 64 MiB at N = 500.\n"
    );
    let _ = writeln!(out, "## API requests by kind\n");
    for r in rows {
        for (tool, m) in &r.tools {
            let kinds: Vec<String> = m.by_kind.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let _ = writeln!(out, "- N = {}, {tool}: {}", r.apps, kinds.join(", "));
        }
    }
    out
}

fn secs(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.2}", d.as_secs_f64()))
        .unwrap_or_else(|| "?".into())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|l| l.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown memory".into());
    format!("{cpus} CPUs ({model}), {memory}")
}

fn kubectl_version(kubectl: &Path) -> String {
    Command::new(kubectl)
        .args(["version", "--client", "-o", "json"])
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v["clientVersion"]["gitVersion"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "version unknown".into())
}
