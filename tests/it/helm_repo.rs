//! Helm chart repositories against a real one: charts packaged and indexed by
//! the real `helm`, served by a real HTTP server that logs every request.
//! Versions resolve as Helm resolves them, archives are checked against the
//! index digest and downloaded once, credentials are sent and never shown, and
//! a fetched archive renders exactly as `helm template` renders it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};
use skiff::source::helm_repo::{HelmRepoCache, HelmRepoError, RepoAuth};
use skiff_testbed::{ChildGuard, free_port, wait_for_port};

const VERSIONS: [&str; 5] = ["1.0.0", "1.2.3", "1.2.9", "1.5.0", "2.0.0-rc.1"];

/// A fresh folder for one test.
/// Runs the testbed's helm in `dir`, with its own homes under `scratch`.
fn helm(scratch: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(skiff_testbed::bin("helm"))
        .args(args)
        .current_dir(dir)
        .env("HELM_CACHE_HOME", scratch.join("helm-home/cache"))
        .env("HELM_CONFIG_HOME", scratch.join("helm-home/config"))
        .env("HELM_DATA_HOME", scratch.join("helm-home/data"))
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `<scratch>/repo`: chart `demo` packaged in every version of VERSIONS and
/// indexed with relative URLs, as `helm repo index` writes them.
fn chart_repo(scratch: &Path) -> PathBuf {
    let src = scratch.join("src");
    let repo = scratch.join("repo");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::create_dir_all(&repo).expect("mkdir");
    helm(scratch, &src, &["create", "demo"]);
    let out = repo.to_str().expect("utf-8 path");
    for version in VERSIONS {
        helm(
            scratch,
            &src,
            &["package", "demo", "--version", version, "-d", out],
        );
    }
    helm(scratch, &repo, &["repo", "index", "."]);
    assert!(repo.join("index.yaml").is_file());
    repo
}

fn sha256_of(path: &Path) -> String {
    let data = std::fs::read(path).expect("read archive");
    Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The chart repository server with its request log.
struct Server {
    url: String,
    log: PathBuf,
    _child: ChildGuard,
}

impl Server {
    /// Serves `root`; `options` are the script's flags (credentials, TLS).
    fn start(root: &Path, log: PathBuf, options: &[&str]) -> Server {
        let port = free_port();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/helm_repo_server.py");
        let child = Command::new("python3")
            .arg(&script)
            .arg(root)
            .arg(port.to_string())
            .arg(&log)
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the chart repository server");
        let child = ChildGuard::new(child);
        wait_for_port(port, Duration::from_secs(10));
        let scheme = if options.contains(&"--cert") {
            "https"
        } else {
            "http"
        };
        Server {
            url: format!("{scheme}://127.0.0.1:{port}"),
            log,
            _child: child,
        }
    }

    /// How many GETs of `path` the server answered with `status`.
    fn served(&self, path: &str, status: u16) -> usize {
        self.requests(path, status).len()
    }

    /// Whether each GET of `path` answered with `status` carried credentials.
    fn requests(&self, path: &str, status: u16) -> Vec<bool> {
        let wanted = format!("GET {path} {status} ");
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.strip_prefix(&wanted))
            .map(|sent| sent == "credentials")
            .collect()
    }
}

/// A repository, its server, and an empty cache.
fn setup(
    name: &str,
    credentials: Option<(&str, &str)>,
) -> (PathBuf, PathBuf, Server, HelmRepoCache) {
    let root = crate::fleet::scratch(&format!("helmrepo-{name}"));
    let repo = chart_repo(&root);
    let options = match credentials {
        Some((user, password)) => vec!["--user", user, "--password", password],
        None => Vec::new(),
    };
    let server = Server::start(&repo, root.join("requests.log"), &options);
    let cache = HelmRepoCache::new(root.join("cache"), Duration::from_secs(30));
    (root, repo, server, cache)
}

/// Files in the archive cache.
fn cached_files(root: &Path) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(root.join("cache/helm")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn versions_resolve_as_helm_resolves_them() {
    let (root, repo, server, cache) = setup("resolve", None);
    let cases: [(Option<&str>, &str); 9] = [
        (Some("1.2.3"), "1.2.3"),
        (Some("~1.2.0"), "1.2.9"),
        (Some(">=1.0.0 <2.0.0"), "1.5.0"),
        (Some("^1.0.0"), "1.5.0"),
        (Some("1.2.x"), "1.2.9"),
        (None, "1.5.0"),
        (Some(""), "1.5.0"),
        (Some("*"), "1.5.0"),
        (Some(">=2.0.0-0"), "2.0.0-rc.1"),
    ];
    for (constraint, version) in cases {
        let fetched = cache
            .fetch_chart(&server.url, "demo", constraint, None)
            .await
            .unwrap_or_else(|e| panic!("{constraint:?}: {e}"));
        assert_eq!(fetched.version, version, "constraint {constraint:?}");
        assert_eq!(fetched.name, "demo");
        let served = repo.join(format!("demo-{version}.tgz"));
        assert_eq!(
            fetched.digest,
            sha256_of(&served),
            "constraint {constraint:?}"
        );
        assert_eq!(
            fetched.archive,
            root.join("cache/helm")
                .join(format!("{}.tgz", fetched.digest))
        );
        assert_eq!(
            std::fs::read(&fetched.archive).expect("cached archive"),
            std::fs::read(&served).expect("served archive"),
            "constraint {constraint:?}"
        );
    }
    // The pre-release was served only for the range that asked for it.
    assert_eq!(server.served("/demo-2.0.0-rc.1.tgz", 200), 1);
    assert_eq!(
        cached_files(&root).len(),
        4,
        "one archive per version fetched"
    );
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn a_cached_version_is_not_downloaded_again() {
    let (root, _repo, server, cache) = setup("cache", None);
    let first = cache
        .fetch_chart(&server.url, "demo", Some("1.2.3"), None)
        .await
        .expect("first fetch");
    let second = cache
        .fetch_chart(&server.url, "demo", Some("~1.2.0, <1.2.4"), None)
        .await
        .expect("second fetch");
    assert_eq!(first, second);
    // A new cache on the same folder (an agent restart) finds it too.
    let restarted = HelmRepoCache::new(root.join("cache"), Duration::from_secs(30));
    let third = restarted
        .fetch_chart(&server.url, "demo", Some("1.2.3"), None)
        .await
        .expect("fetch after restart");
    assert_eq!(first, third);
    assert_eq!(
        server.served("/index.yaml", 200),
        3,
        "the index is read each time"
    );
    assert_eq!(
        server.served("/demo-1.2.3.tgz", 200),
        1,
        "the archive is downloaded once"
    );
    // A damaged cache entry is noticed and replaced.
    std::fs::write(&first.archive, b"not a chart").expect("damage the cache");
    let fourth = cache
        .fetch_chart(&server.url, "demo", Some("1.2.3"), None)
        .await
        .expect("fetch over a damaged cache entry");
    assert_eq!(fourth, first);
    assert_eq!(sha256_of(&fourth.archive), first.digest);
    assert_eq!(server.served("/demo-1.2.3.tgz", 200), 2);
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn a_tampered_archive_is_refused_and_not_cached() {
    let (root, repo, server, cache) = setup("tamper", None);
    let archive = repo.join("demo-1.5.0.tgz");
    let indexed = sha256_of(&archive);
    // Replace the archive after indexing with another valid chart archive.
    std::fs::copy(repo.join("demo-1.0.0.tgz"), &archive).expect("tamper");
    let served = sha256_of(&archive);

    let err = cache
        .fetch_chart(&server.url, "demo", Some("1.5.0"), None)
        .await
        .expect_err("tampered archive");
    assert!(
        matches!(&err, HelmRepoError::DigestMismatch { expected, actual, .. }
            if *expected == indexed && *actual == served),
        "{err:?}"
    );
    let message = err.to_string();
    for part in ["\"demo\"", "1.5.0", &indexed, &served] {
        assert!(message.contains(part), "{message:?} names {part}");
    }
    assert_eq!(server.served("/demo-1.5.0.tgz", 200), 1);
    assert!(
        cached_files(&root).is_empty(),
        "nothing cached: {:?}",
        cached_files(&root)
    );
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn basic_auth_is_sent_and_the_password_never_shows() {
    let password = "s3cr3t-Pa55";
    let (root, _repo, server, cache) = setup("auth", Some(("deployer", password)));
    let good = RepoAuth::Basic {
        username: "deployer".into(),
        password: password.into(),
    };
    let fetched = cache
        .fetch_chart(&server.url, "demo", Some("1.0.0"), Some(&good))
        .await
        .expect("fetch with the right credentials");
    assert_eq!(fetched.version, "1.0.0");
    assert_eq!(server.requests("/demo-1.0.0.tgz", 200), [true]);

    let wrong_password = "wr0ng-Pa55";
    let bad = RepoAuth::Basic {
        username: "deployer".into(),
        password: wrong_password.into(),
    };
    let err = cache
        .fetch_chart(&server.url, "demo", Some("1.2.3"), Some(&bad))
        .await
        .expect_err("wrong password");
    assert!(
        matches!(
            err,
            HelmRepoError::AuthFailed {
                status: 401,
                credentials_given: true,
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("authentication failed"), "{message}");
    assert!(
        message.contains(&server.url),
        "{message} names the repository"
    );
    for secret in [password, wrong_password] {
        assert!(!message.contains(secret), "{message}");
        assert!(!format!("{err:?}").contains(secret));
        assert!(!format!("{bad:?} {good:?}").contains(secret));
    }

    let err = cache
        .fetch_chart(&server.url, "demo", Some("1.2.3"), None)
        .await
        .expect_err("no credentials");
    assert!(err.to_string().contains("none were given"), "{err}");
    assert_eq!(server.served("/index.yaml", 401), 2);
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn missing_charts_and_versions_are_named() {
    let (root, _repo, server, cache) = setup("missing", None);
    let err = cache
        .fetch_chart(&server.url, "nginx", None, None)
        .await
        .expect_err("no such chart");
    assert!(
        matches!(err, HelmRepoError::ChartNotFound { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("\"nginx\"") && message.contains("demo"),
        "{message}"
    );

    let err = cache
        .fetch_chart(&server.url, "demo", Some("3.x"), None)
        .await
        .expect_err("no such version");
    assert!(
        matches!(err, HelmRepoError::NoMatchingVersion { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("\"3.x\"") && message.contains("2.0.0-rc.1, 1.5.0, 1.2.9"),
        "{message}"
    );

    let err = cache
        .fetch_chart(&server.url, "demo", Some("9.9.9"), None)
        .await
        .expect_err("no such exact version");
    assert!(
        matches!(err, HelmRepoError::NoMatchingVersion { .. }),
        "{err:?}"
    );

    let err = cache
        .fetch_chart(&server.url, "demo", Some("latest"), None)
        .await
        .expect_err("not a version");
    assert!(
        matches!(err, HelmRepoError::InvalidConstraint { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("\"latest\""), "{err}");
    assert!(cached_files(&root).is_empty());
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn unreachable_missing_broken_and_oversized_indexes_are_refused_clearly() {
    let (root, repo, server, cache) = setup("broken", None);

    let nobody = format!("http://127.0.0.1:{}/charts", free_port());
    let err = cache
        .fetch_chart(&nobody, "demo", None, None)
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, HelmRepoError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&nobody), "{err}");

    let with_password = nobody.replace("http://", "http://bob:hunter2@");
    let err = cache
        .fetch_chart(&with_password, "demo", None, None)
        .await
        .expect_err("nothing listens");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.to_string().contains("bob:***@"), "{err}");

    let err = cache
        .fetch_chart(&format!("{}/elsewhere", server.url), "demo", None, None)
        .await
        .expect_err("no index there");
    assert!(
        matches!(err, HelmRepoError::IndexNotFound { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("/elsewhere/index.yaml"), "{err}");

    std::fs::create_dir_all(repo.join("broken")).expect("mkdir");
    std::fs::write(
        repo.join("broken/index.yaml"),
        "apiVersion: v1\nentries:\n  demo:\n  - version: 1.0.0\n    urls: [demo.tgz\n  other: {\n",
    )
    .expect("write");
    let err = cache
        .fetch_chart(&format!("{}/broken/", server.url), "demo", None, None)
        .await
        .expect_err("broken index");
    assert!(
        matches!(err, HelmRepoError::BadIndex { line: Some(_), .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("line 6"), "{err}");

    let small = HelmRepoCache::new(root.join("cache"), Duration::from_secs(30)).with_limits(64, 64);
    let err = small
        .fetch_chart(&server.url, "demo", None, None)
        .await
        .expect_err("index over the limit");
    assert!(
        matches!(err, HelmRepoError::TooLarge { limit: 64, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("64 bytes"), "{err}");
    let small =
        HelmRepoCache::new(root.join("cache"), Duration::from_secs(30)).with_limits(1 << 20, 1024);
    let err = small
        .fetch_chart(&server.url, "demo", None, None)
        .await
        .expect_err("archive over the limit");
    assert!(
        matches!(&err, HelmRepoError::TooLarge { url, .. } if url.ends_with("/demo-1.5.0.tgz")),
        "{err:?}"
    );
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(cached_files(&root).is_empty());
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn the_fetched_archive_renders_as_helm_template_renders_it() {
    let (root, _repo, server, cache) = setup("render", None);
    let fetched = cache
        .fetch_chart(&server.url, "demo", Some("~1.2.0"), None)
        .await
        .expect("fetch");
    assert_eq!(fetched.version, "1.2.9");

    let chart = skiff_helm::load(&fetched.archive).expect("the cached archive loads");
    assert_eq!(chart.metadata.version, "1.2.9");
    let caps = skiff_helm::Capabilities::default();
    let release = skiff_helm::ReleaseOptions {
        name: "shop".into(),
        namespace: "web".into(),
        ..Default::default()
    };
    let ours = skiff_helm::render(&chart, &skiff_helm::strvals::empty(), &release, &caps)
        .expect("render")
        .to_helm_output(&skiff_helm::PrintOptions::default())
        .expect("print");

    let theirs = helm(
        &root,
        &root,
        &[
            "template",
            "shop",
            fetched.archive.to_str().expect("utf-8 path"),
            "-n",
            "web",
            "--kube-version",
            &caps.kube_version,
        ],
    );
    assert_eq!(ours, theirs);
    assert!(ours.contains("helm.sh/chart: demo-1.2.9"), "{ours}");
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn https_repositories_are_verified_against_the_trust_store() {
    let root = crate::fleet::scratch("helmrepo-tls");
    let repo = chart_repo(&root);
    let (cert, key) = (root.join("cert.pem"), root.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(
        &repo,
        root.join("requests.log"),
        &[
            "--cert",
            cert.to_str().expect("utf-8 path"),
            "--key",
            key.to_str().expect("utf-8 path"),
        ],
    );
    let cache = HelmRepoCache::new(root.join("cache"), Duration::from_secs(30));
    // A self-signed certificate is in no trust store: the TLS handshake runs
    // (rustls with ring) and refuses it, so nothing is requested.
    let err = cache
        .fetch_chart(&server.url, "demo", None, None)
        .await
        .expect_err("untrusted certificate");
    assert!(matches!(err, HelmRepoError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_eq!(server.served("/index.yaml", 200), 0);
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn credentials_are_not_sent_to_archives_on_another_host() {
    let root = crate::fleet::scratch("helmrepo-origin");
    let charts = chart_repo(&root);
    // The archives live on a second server (a CDN); the index, on a private one,
    // points at them with absolute URLs.
    let cdn = Server::start(&charts, root.join("cdn.log"), &[]);
    let private = root.join("private");
    std::fs::create_dir_all(&private).expect("mkdir");
    helm(&root, &charts, &["repo", "index", ".", "--url", &cdn.url]);
    std::fs::rename(charts.join("index.yaml"), private.join("index.yaml")).expect("move");
    let server = Server::start(
        &private,
        root.join("private.log"),
        &["--user", "deployer", "--password", "pa55"],
    );
    let auth = RepoAuth::Basic {
        username: "deployer".into(),
        password: "pa55".into(),
    };
    let cache = HelmRepoCache::new(root.join("cache"), Duration::from_secs(30));
    let fetched = cache
        .fetch_chart(&server.url, "demo", Some("1.2.3"), Some(&auth))
        .await
        .expect("fetch");
    assert_eq!(fetched.digest, sha256_of(&charts.join("demo-1.2.3.tgz")));
    assert_eq!(server.requests("/index.yaml", 200), [true]);
    assert_eq!(cdn.requests("/demo-1.2.3.tgz", 200), [false]);
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[tokio::test]
async fn an_application_syncs_a_chart_from_a_private_repository() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::PostParams;

    let (root, _repo, server, _cache) = setup("sync-chart", Some(("bob", "pa55word")));
    let ns = skiff_testbed::ControlPlane::shared()
        .namespace("helm-repo-sync")
        .await;
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "charts", "labels": {"skiff.dev/secret-type": "repository"}},
        "stringData": {"url": server.url, "username": "bob", "password": "pa55word"},
    }))
    .expect("secret");
    ns.api::<Secret>()
        .create(&PostParams::default(), &secret)
        .await
        .expect("credentials Secret");
    let app: skiff::api::Application = serde_json::from_value(serde_json::json!({
        "apiVersion": "skiff.dev/v1alpha1", "kind": "Application",
        "metadata": {"name": "shop", "namespace": ns.name},
        "spec": {
            "source": {"repoURL": server.url, "chart": "demo", "targetRevision": "~1.2.0",
                       "helm": {"valuesObject": {"replicaCount": 0}}},
            "destination": {"namespace": ns.name},
        },
    }))
    .expect("Application");
    let engine = skiff::sync::Engine::new(
        ns.client.clone(),
        std::sync::Arc::new(
            skiff::source::git::GitCache::new(root.join("git"), Duration::from_secs(30))
                .expect("git cache"),
        ),
        skiff::sync::EngineOptions {
            wait: false,
            chart_cache: Some(root.join("charts")),
            ..skiff::sync::EngineOptions::default()
        },
    );
    let request = skiff::sync::SyncRequest {
        revision: None,
        trigger: skiff::sync::Trigger::Manual,
        mode: skiff::sync::Mode::Apply,
        prune: true,
        previous: Vec::new(),
        auto: None,
    };

    let outcome = engine.sync(&app, &request).await;

    assert_eq!(
        outcome.phase,
        skiff::sync::OperationPhase::Succeeded,
        "{}",
        outcome.message
    );
    assert_eq!(outcome.revision.as_deref(), Some("1.2.9"));
    let deployment = ns
        .api::<Deployment>()
        .get("shop-demo")
        .await
        .expect("the chart's Deployment");
    assert_eq!(deployment.spec.replicas, Some(0));
    assert!(
        outcome.inventory.iter().all(|k| k.kind != "Pod"),
        "the chart's test hook is not applied: {:?}",
        outcome.inventory
    );
    assert_eq!(server.served("/demo-1.2.9.tgz", 200), 1);
}
