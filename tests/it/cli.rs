//! The binary answers `--version` and `--help` like any clap CLI, and the
//! front (`skiff`) hands the cluster commands to `skiff-agent` untouched.

use std::path::Path;
use std::process::Command;

fn skiff(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(args)
        .output()
        .expect("run skiff")
}

#[test]
fn version_prints_the_package_version() {
    let out = skiff(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("skiff {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_describes_the_tool() {
    let out = skiff(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GitOps"), "{text}");
    assert!(text.contains("Usage: skiff"), "{text}");
}

#[test]
fn no_arguments_prints_help_and_fails() {
    let out = skiff(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage: skiff"));
}

#[test]
fn the_agent_binary_takes_the_same_command_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_skiff-agent"))
        .args(["windows", "--help"])
        .output()
        .expect("run skiff-agent");
    assert!(out.status.success());
    // The same help, under the name it was run as.
    let agent = String::from_utf8_lossy(&out.stdout);
    assert!(agent.contains("Usage: skiff-agent windows"), "{agent}");
    let front = skiff(&["windows", "--help"]);
    assert_eq!(
        agent.replace("skiff-agent", "skiff"),
        String::from_utf8_lossy(&front.stdout)
    );
}

#[test]
fn the_front_passes_arguments_and_exit_status_through() {
    // A usage error the front accepts and the agent's command reports:
    // `skiff diff` exits 2 on errors (kubectl's convention), which only
    // skiff-agent knows.
    let out = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args([
            "diff",
            "no-such-app.yaml",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ])
        .output()
        .expect("run skiff");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/kubeconfig"), "{stderr}");
}

#[test]
fn a_missing_agent_binary_is_named_with_where_skiff_looked() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("skiff-it-front-alone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let front = dir.join("skiff");
    // A hard link, not a copy: a file this process just wrote can still be
    // open for writing in a child another test is forking, and executing it
    // then fails with "Text file busy".
    std::fs::hard_link(env!("CARGO_BIN_EXE_skiff"), &front).expect("link skiff");
    let empty = dir.join("empty-path");
    std::fs::create_dir_all(&empty).expect("empty dir");

    let run = |args: &[&str]| {
        Command::new(&front)
            .args(args)
            .env("PATH", &empty)
            .output()
            .expect("run the copied skiff")
    };
    let out = run(&["get", "apps"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skiff-agent not found"), "{stderr}");
    assert!(stderr.contains(&dir.display().to_string()), "{stderr}");
    assert!(stderr.contains("PATH"), "{stderr}");

    // The renderers run in the front alone.
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/skiff");
    let out = stdout_of(run(&["helm", "template", chart]));
    assert!(String::from_utf8_lossy(&out).contains("kind: Deployment"));

    let _ = std::fs::remove_dir_all(&dir);
}

/// `skiff helm template` runs in the front, on render threads whose heaps
/// it tunes (huge pages, see src/main.rs): the process prints what helm
/// prints, byte for byte, for a chart that keeps both threads busy.
#[test]
fn the_front_prints_what_helm_template_prints() {
    let chart = skiff_testbed::repo_root().join("../shared/corpus/charts/argo-cd");
    let chart = chart.display().to_string();
    let args = ["template", chart.as_str(), "--kube-version", "1.33.0"];
    let helm = stdout_of(
        Command::new(skiff_testbed::bin("helm"))
            .args(args)
            .output()
            .expect("run helm"),
    );
    let ours = stdout_of(skiff(&[&["helm"][..], &args[..]].concat()));
    assert!(!ours.is_empty());
    assert!(
        ours == helm,
        "skiff and helm differ on argo-cd:\n{}",
        String::from_utf8_lossy(&ours)
    );
}

/// The standard output of a run that must succeed (its stderr otherwise).
fn stdout_of(out: std::process::Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
