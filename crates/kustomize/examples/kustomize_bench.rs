//! Benchmark: whole-process `skiff kustomize build` against `kustomize build`
//! on the same machine in the same run; median wall time of repeated runs and
//! the peak resident memory (from `/usr/bin/time`). Prints a Markdown table
//! and writes it to `crates/kustomize/BENCHMARK.md`.
//!
//! `cargo build --release && cargo run --release -p skiff-kustomize --example kustomize_bench [RUNS]`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(9);
    let root = skiff_testbed::repo_root();
    let skiff = root.join("target/release/skiff");
    assert!(
        skiff.is_file(),
        "build it first: cargo build --release ({})",
        skiff.display()
    );
    let kustomize = skiff_testbed::bin("kustomize");
    let large = std::env::temp_dir().join("skiff-kustomize-bench-large");
    let objects = generate_large(&large);
    let cases = [
        (
            "podinfo-deploy/overlays/production".to_string(),
            root.join("../shared/corpus/kustomize/podinfo-deploy/overlays/production"),
        ),
        (
            format!("generated overlay ({objects} objects)"),
            large.join("overlay"),
        ),
    ];
    let mut table = String::from(
        "| case | kustomize median | skiff median | speed-up | kustomize peak RSS | skiff peak RSS | memory ratio |\n|---|---|---|---|---|---|---|\n",
    );
    for (name, dir) in &cases {
        let want = output(&kustomize, dir);
        let got = output(&skiff, dir);
        assert!(want == got, "{name}: outputs differ");
        let (kt, km) = measure(&kustomize, dir, runs);
        let (st, sm) = measure(&skiff, dir, runs);
        table.push_str(&format!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1}x | {} KiB | {} KiB | {:.2} |\n",
            kt * 1e3,
            st * 1e3,
            kt / st,
            km,
            sm,
            sm as f64 / km as f64
        ));
    }
    let note = format!(
        "Median of {runs} runs each, whole process, same machine and run (2 cores). \
         Peak RSS is the largest of three further runs under /usr/bin/time.\n\n"
    );
    print!("{note}{table}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARK.md");
    std::fs::write(
        &out,
        format!("# skiff kustomize build vs kustomize build\n\n{note}{table}"),
    )
    .expect("write BENCHMARK.md");
}

fn output(bin: &Path, dir: &Path) -> Vec<u8> {
    let out = Command::new(bin)
        .arg(if is_skiff(bin) { "kustomize" } else { "build" })
        .args(build_args(bin, dir))
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{} failed: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn is_skiff(bin: &Path) -> bool {
    bin.file_name().is_some_and(|n| n == "skiff")
}

fn build_args(bin: &Path, dir: &Path) -> Vec<PathBuf> {
    if is_skiff(bin) {
        vec!["build".into(), dir.into()]
    } else {
        vec![dir.into()]
    }
}

/// Median seconds over `runs` direct runs, and peak KiB over a few more
/// runs under `/usr/bin/time` (kept apart so its own fork and exec do not
/// count in the timings).
fn measure(bin: &Path, dir: &Path, runs: usize) -> (f64, u64) {
    let sub = if is_skiff(bin) { "kustomize" } else { "build" };
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let st = Command::new(bin)
            .arg(sub)
            .args(build_args(bin, dir))
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run");
        times.push(start.elapsed().as_secs_f64());
        assert!(st.success());
    }
    let mut peak = 0;
    let tmp = std::env::temp_dir().join("skiff-bench-time.txt");
    for _ in 0..3 {
        let st = Command::new("/usr/bin/time")
            .args(["-f", "%M", "-o"])
            .arg(&tmp)
            .arg(bin)
            .arg(sub)
            .args(build_args(bin, dir))
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run /usr/bin/time");
        assert!(st.success());
        let kib: u64 = std::fs::read_to_string(&tmp)
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or(0);
        peak = peak.max(kib);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], peak)
}

/// A base of Deployments, Services and generated ConfigMaps, and an overlay
/// with a prefix, a namespace, labels, images, a strategic merge patch on
/// every Deployment and a JSON patch. Returns the number of objects.
fn generate_large(dir: &Path) -> usize {
    let _ = std::fs::remove_dir_all(dir);
    let base = dir.join("base");
    let overlay = dir.join("overlay");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&overlay).unwrap();
    let n = 700;
    let mut res = String::new();
    let mut gens = String::from("configMapGenerator:\n");
    for i in 0..n {
        res.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app{i}\n  labels:\n    app: app{i}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: app{i}\n  template:\n    metadata:\n      labels:\n        app: app{i}\n    spec:\n      containers:\n      - name: main\n        image: nginx:1.25\n        ports:\n        - containerPort: 8080\n        envFrom:\n        - configMapRef:\n            name: cfg{i}\n        resources:\n          requests:\n            cpu: 100m\n            memory: 64Mi\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app{i}\nspec:\n  selector:\n    app: app{i}\n  ports:\n  - port: 80\n    targetPort: 8080\n---\n"
        ));
        gens.push_str(&format!(
            "- name: cfg{i}\n  literals:\n  - INDEX={i}\n  - MODE=prod\n"
        ));
    }
    std::fs::write(base.join("resources.yaml"), res).unwrap();
    std::fs::write(
        base.join("kustomization.yaml"),
        format!("resources:\n- resources.yaml\n{gens}"),
    )
    .unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "resources:\n- ../base\nnamePrefix: prod-\nnamespace: production\nlabels:\n- pairs:\n    env: production\n  includeSelectors: true\nimages:\n- name: nginx\n  newTag: \"1.27\"\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: any\n    spec:\n      replicas: 3\n      template:\n        spec:\n          containers:\n          - name: main\n            env:\n            - name: TIER\n              value: production\n- target:\n    kind: Service\n  patch: |-\n    - op: add\n      path: /metadata/annotations\n      value: {exposed: \"true\"}\n",
    )
    .unwrap();
    n * 3
}
