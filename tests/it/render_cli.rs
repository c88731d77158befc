//! `skiff render APP.yaml` end to end: the Application's Git source is fetched
//! (a real repository over file://), the renderer is detected from the path, and
//! the objects printed are the ones the real kustomize and helm produce.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(program: &Path, args: &[&str], dir: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn documents(text: &str) -> Vec<serde_json::Value> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple_with_options(
        text,
        serde_saphyr::options! { legacy_octal_numbers: true },
    )
    .expect("YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// A fleet repository: a Kustomize overlay, a Helm chart and a plain folder.
fn fleet(root: &Path) -> PathBuf {
    let repo = root.join("fleet");
    let corpus = skiff_testbed::repo_root().join("../shared/corpus");
    std::fs::create_dir_all(repo.join("apps")).expect("mkdir");
    std::fs::create_dir_all(repo.join("plain")).expect("mkdir");
    let cp = Path::new("/bin/cp");
    for (from, to) in [
        (
            corpus.join("kustomize/podinfo-deploy"),
            repo.join("apps/podinfo-deploy"),
        ),
        (
            corpus.join("charts/podinfo"),
            repo.join("apps/podinfo-chart"),
        ),
    ] {
        ok(run(
            cp,
            &["-r", &from.display().to_string(), &to.display().to_string()],
            root,
        ));
    }
    std::fs::write(
        repo.join("plain/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  enabled: yes\n",
    )
    .expect("write");
    let git = Path::new("/usr/bin/git");
    ok(run(git, &["init", "-q", "-b", "main"], &repo));
    ok(run(git, &["add", "-A"], &repo));
    ok(run(git, &["commit", "-q", "-m", "fleet"], &repo));
    repo
}

fn application(root: &Path, name: &str, repo: &Path, path: &str, extra: &str) -> PathBuf {
    let file = root.join(format!("{name}.yaml"));
    std::fs::write(
        &file,
        format!(
            "apiVersion: skiff.dev/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: skiff-system\n\
             spec:\n  source:\n    repoURL: file://{}\n    targetRevision: main\n    path: {path}\n{extra}\
             \n  destination:\n    namespace: shop\n",
            repo.display()
        ),
    )
    .expect("write Application");
    file
}

#[test]
fn render_fetches_detects_and_matches_the_reference_tools() {
    let root = std::env::temp_dir().join(format!("skiff-render-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("mkdir");
    let repo = fleet(&root);
    let skiff = Path::new(env!("CARGO_BIN_EXE_skiff"));
    let cache = root.join("cache").display().to_string();
    let render = |app: &Path| {
        run(
            skiff,
            &["render", &app.display().to_string(), "--cache-dir", &cache],
            &root,
        )
    };

    // Kustomize, detected from kustomization.yaml.
    let app = application(
        &root,
        "podinfo",
        &repo,
        "apps/podinfo-deploy/overlays/production",
        "",
    );
    let ours = documents(&ok(render(&app)));
    let theirs = documents(&ok(run(
        &skiff_testbed::bin("kustomize"),
        &[
            "build",
            &repo
                .join("apps/podinfo-deploy/overlays/production")
                .display()
                .to_string(),
        ],
        &root,
    )));
    assert!(!ours.is_empty());
    assert_eq!(ours, theirs);

    // Helm, detected from Chart.yaml; the release is named after the Application.
    let app = application(&root, "web", &repo, "apps/podinfo-chart", "");
    let ours = documents(&ok(render(&app)));
    let theirs = documents(&ok(run(
        &skiff_testbed::bin("helm"),
        &[
            "template",
            "web",
            &repo.join("apps/podinfo-chart").display().to_string(),
            "-n",
            "shop",
            "--include-crds",
            "--skip-tests",
            "--kube-version",
            &skiff_helm::Capabilities::default().kube_version,
        ],
        &root,
    )));
    assert!(!ours.is_empty());
    assert_eq!(ours, theirs);

    // A plain directory; YAML 1.1 scalars read as Kubernetes reads them.
    let app = application(&root, "plain", &repo, "plain", "");
    let ours = documents(&ok(render(&app)));
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["data"]["enabled"], true);

    // Two renderers named at once is refused, naming the field.
    let app = application(
        &root,
        "both",
        &repo,
        "plain",
        "    helm: {}\n    kustomize: {}\n",
    );
    let out = render(&app);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("spec.source: set at most one of helm, kustomize and directory"),
        "{err}"
    );

    // A path that does not exist at the revision.
    let app = application(&root, "missing", &repo, "apps/nope", "");
    let out = render(&app);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("spec.source.path"));
    std::fs::remove_dir_all(&root).expect("cleanup");
}
