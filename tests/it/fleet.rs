//! Shared test scaffolding for sync tests: a real Git repository on disk
//! (served over `file://`), Applications pointing at it, an engine, and the
//! skiff CRDs installed once per control plane.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client, CustomResourceExt};
use skiff::api::{AppProject, Application};
use skiff::source::git::GitCache;
use skiff::sync::{Engine, EngineOptions, Mode, Outcome, SyncRequest, Trigger, record};

/// A Git repository in a scratch folder, one per test.
pub struct GitRepo {
    pub dir: PathBuf,
}

impl GitRepo {
    pub fn new(name: &str) -> GitRepo {
        let dir = scratch(name).join("origin");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let repo = GitRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn write(&self, path: &str, content: &str) -> &Self {
        let file = self.dir.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, content).expect("write");
        self
    }

    pub fn remove(&self, path: &str) -> &Self {
        std::fs::remove_file(self.dir.join(path)).expect("remove");
        self
    }

    /// Commits everything and returns the commit SHA.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// A fresh folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skiff-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// A new ed25519 key pair at `path` (and `path.pub`); the public key line.
pub fn keygen(path: &std::path::Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "skiff-test", "-f"])
        .arg(path)
        .output()
        .expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(path.with_extension("pub")).expect("public key")
}

/// A real smart-HTTP Git server (`git http-backend` behind
/// `tests/support/git_http_server.py`) serving the repositories under
/// `root` with basic auth; the guard and the port.
pub fn git_http_server(
    root: &std::path::Path,
    user: &str,
    password: &str,
) -> (skiff_testbed::ChildGuard, u16) {
    git_http_server_on(root, user, password, 0)
}

/// [`git_http_server`] on a given port (0: any free one).
pub fn git_http_server_on(
    root: &std::path::Path,
    user: &str,
    password: &str,
    port: u16,
) -> (skiff_testbed::ChildGuard, u16) {
    use std::io::{BufRead, BufReader};
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/git_http_server.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(root)
        .args([user, password, &port.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start the smart-HTTP server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("server prints its port");
    let port = line.trim().parse().expect("a port number");
    (skiff_testbed::ChildGuard::new(child), port)
}

/// An Application named `name` in `namespace`, deploying `path` of `repo` to
/// `namespace`, with `extra` merged into its spec (JSON).
pub fn application(
    name: &str,
    namespace: &str,
    repo: &str,
    path: &str,
    extra: serde_json::Value,
) -> Application {
    let mut spec = serde_json::json!({
        "source": {"repoURL": repo, "path": path, "targetRevision": "main"},
        "destination": {"namespace": namespace},
    });
    merge(&mut spec, extra);
    serde_json::from_value(serde_json::json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }))
    .expect("a valid Application")
}

fn merge(base: &mut serde_json::Value, extra: serde_json::Value) {
    match (base, extra) {
        (serde_json::Value::Object(b), serde_json::Value::Object(e)) => {
            for (k, v) in e {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, e) => *b = e,
    }
}

/// An engine with its own Git cache, not waiting for health unless asked.
pub fn engine(client: &Client, name: &str, wait: bool) -> Engine {
    let cache = GitCache::new(
        scratch(&format!("{name}-cache")),
        std::time::Duration::from_secs(30),
    )
    .expect("git cache");
    Engine::new(
        client.clone(),
        Arc::new(cache),
        EngineOptions {
            wait,
            health_timeout: std::time::Duration::from_secs(60),
            ..EngineOptions::default()
        },
    )
}

/// A sync request that applies, prunes when `prune`, and starts from `previous`.
pub fn apply_request(previous: &Outcome, prune: bool) -> SyncRequest {
    SyncRequest {
        revision: None,
        trigger: Trigger::Manual,
        mode: Mode::Apply,
        prune,
        previous: previous.inventory.clone(),
        auto: None,
    }
}

/// The first sync's request: nothing applied before.
pub fn first_request() -> SyncRequest {
    SyncRequest {
        revision: None,
        trigger: Trigger::Manual,
        mode: Mode::Apply,
        prune: true,
        previous: Vec::new(),
        auto: None,
    }
}

/// Installs skiff's CRDs into the control plane `client` talks to (idempotent).
pub async fn install_crds(client: &Client) {
    {
        let api = Api::<CustomResourceDefinition>::all(client.clone());
        for crd in [Application::crd(), AppProject::crd()] {
            let name = crd.metadata.name.clone().expect("name");
            api.patch(
                &name,
                &PatchParams::apply("skiff-tests").force(),
                &Patch::Apply(&crd),
            )
            .await
            .expect("apply CRD");
            tokio::time::timeout(
                std::time::Duration::from_secs(30),
                await_condition(api.clone(), &name, conditions::is_crd_established()),
            )
            .await
            .expect("CRD established in time")
            .expect("watch CRD");
        }
    }
}

/// Creates `app` in the cluster and returns it as stored.
pub async fn create_app(client: &Client, app: &Application) -> Application {
    install_crds(client).await;
    let ns = app.metadata.namespace.clone().expect("namespace");
    let api: Api<Application> = Api::namespaced(client.clone(), &ns);
    let name = app.metadata.name.clone().expect("name");
    api.patch(
        &name,
        &PatchParams::apply("skiff-tests"),
        &Patch::Apply(app),
    )
    .await
    .expect("create Application")
}

/// Records `outcome` in the Application's status and returns it re-read.
pub async fn record_outcome(client: &Client, app: &Application, outcome: &Outcome) -> Application {
    let status = record::next_status(
        app,
        outcome,
        &record::Extra {
            add_history: true,
            ..record::Extra::default()
        },
    );
    record::write(client, app, &status)
        .await
        .expect("status written")
}

/// A ConfigMap manifest as YAML.
pub fn config_map(name: &str, data: &[(&str, &str)]) -> String {
    let mut out = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    if !data.is_empty() {
        out.push_str("data:\n");
    }
    for (k, v) in data {
        out.push_str(&format!("  {k}: \"{v}\"\n"));
    }
    out
}

/// `skiff agent` as a child process serving `fleet_path` of `fleet` into
/// `ns`, polling every 2 s, its caches under `cache`, with `env` added (or
/// overriding) — e.g. `OTEL_*` for traces, `SKIFF_METRICS_ADDRESS` — and its
/// log in `log` (else on the test's stderr).
pub fn spawn_agent(
    ns: &skiff_testbed::TestNamespace,
    fleet: &GitRepo,
    fleet_path: &str,
    cache: &std::path::Path,
    env: &[(&str, String)],
    log: Option<&std::path::Path>,
) -> skiff_testbed::ChildGuard {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skiff"));
    command
        .arg("agent")
        .env(
            "KUBECONFIG",
            skiff_testbed::ControlPlane::shared().kubeconfig(),
        )
        .env("SKIFF_FLEET_REPO_URL", fleet.url())
        .env("SKIFF_FLEET_TARGET_REVISION", "main")
        .env("SKIFF_FLEET_PATH", fleet_path)
        .env("SKIFF_NAMESPACE", &ns.name)
        .env("SKIFF_INTERVAL", "2s")
        .env("SKIFF_LOG_FORMAT", "text")
        .env("SKIFF_LOG", "warn")
        .env("SKIFF_METRICS_ADDRESS", "127.0.0.1:0")
        .env("XDG_CACHE_HOME", cache)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(match log {
            Some(path) => std::fs::File::create(path).expect("agent log file").into(),
            None => std::process::Stdio::inherit(),
        });
    for (key, value) in env {
        command.env(key, value);
    }
    skiff_testbed::ChildGuard::new(command.spawn().expect("start skiff agent"))
}

/// An Application manifest for a fleet repository: `path` of `repo` into
/// `namespace`, automated with prune and self-heal, polled every 2 s.
pub fn fleet_app_yaml(name: &str, namespace: &str, repo: &str, path: &str) -> String {
    format!(
        "apiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  source:\n    repoURL: {repo}\n    targetRevision: main\n    path: {path}\n  destination:\n    namespace: {namespace}\n  interval: 2s\n  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n"
    )
}

/// Polls `check` every 100 ms until it gives a value; panics naming `what`
/// after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Asserts that every phase event of a sync that applies is among `events`,
/// in the order the engine emits them.
pub fn assert_phase_events_in_order(events: &[&str]) {
    let phases = [
        "source.fetched",
        "render.completed",
        "diff.computed",
        "apply.wave",
        "prune.completed",
        "health.ready",
    ];
    let positions: Vec<Option<usize>> = phases
        .iter()
        .map(|p| events.iter().position(|e| e == p))
        .collect();
    assert!(
        positions.iter().all(Option::is_some),
        "every phase event: {events:?}"
    );
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "phase events in order: {events:?}"
    );
}

/// Asserts a CLI run exited 0, showing what it printed when it did not.
pub fn assert_exit_ok(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
