//! Whole-process benchmark: `skiff helm template` against `helm template` on
//! corpus charts, same machine, same run. Wall time is the median of runs
//! timed directly (helm and skiff alternate, after one warm-up run each);
//! peak memory is the median of three further runs under `/usr/bin/time`.
//! Prints a Markdown table and writes it to the path given as the second
//! argument. Both outputs are compared first: a benchmark of different work
//! would mean nothing.
//!
//! Usage: cargo run --release -p skiff-helm --example bench -- target/release/skiff [table.md] [RUNS]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

const CHARTS: &[&str] = &[
    "kube-prometheus-stack",
    "argo-cd",
    "bitnami-redis",
    "podinfo",
];

fn timed(program: &str, args: &[String]) -> f64 {
    let start = Instant::now();
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    start.elapsed().as_secs_f64()
}

fn peak_rss_kib(program: &str, args: &[String]) -> f64 {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(program)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run /usr/bin/time: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0.0)
}

fn output(program: &str, args: &[String]) -> (bool, Vec<u8>) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    (out.status.success(), out.stdout)
}

/// How many lines differ when both outputs have the same number of lines.
fn differing_lines(a: &[u8], b: &[u8]) -> Option<usize> {
    let (a, b) = (a.split(|&c| c == b'\n'), b.split(|&c| c == b'\n'));
    let (a, b): (Vec<_>, Vec<_>) = (a.collect(), b.collect());
    (a.len() == b.len()).then(|| a.iter().zip(&b).filter(|(x, y)| x != y).count())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let skiff = argv.next().unwrap_or_else(|| "target/release/skiff".into());
    let table_path = argv.next();
    let runs: usize = argv.next().and_then(|r| r.parse().ok()).unwrap_or(11);
    let helm = skiff_testbed::bin("helm").to_string_lossy().into_owned();
    let corpus = skiff_testbed::corpus_charts();
    let mut charts: Vec<(String, PathBuf, &str)> = CHARTS
        .iter()
        .map(|c| (c.to_string(), corpus.join(c), ""))
        .collect();
    charts.insert(
        1,
        (
            "kube-prometheus-stack, dependencies vendored".into(),
            skiff_testbed::kube_prometheus_stack_vendored().to_path_buf(),
            "kube-state-metrics and node-exporter from the corpus; grafana and windows-exporter (absent) dropped",
        ),
    );
    let mut table = String::from(
        "| chart | helm median s | skiff median s | speed-up | helm peak MiB | skiff peak MiB | memory ratio | note |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (label, path, note) in &charts {
        let args: Vec<String> = vec![
            "template".into(),
            path.to_string_lossy().into_owned(),
            "--kube-version".into(),
            "1.33.0".into(),
        ];
        let mut sargs = vec!["helm".to_string()];
        sargs.extend(args.iter().cloned());
        let (hok, hout) = output(&helm, &args);
        let (sok, sout) = output(&skiff, &sargs);
        let note = match (hok, sok) {
            (true, true) if hout == sout => note.to_string(),
            (true, true) => match differing_lines(&hout, &sout) {
                // Random values (generated passwords, test-pod suffixes) differ
                // between two helm runs too.
                Some(n) if n <= 4 => format!("{n} lines differ: random values"),
                _ => "OUTPUTS DIFFER".into(),
            },
            (false, false) => "both refuse the chart (dependencies missing from charts/)".into(),
            _ => "ONLY ONE RENDERS".into(),
        };
        let (mut ht, mut st) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            ht.push(timed(&helm, &args));
            st.push(timed(&skiff, &sargs));
        }
        let (ht, st) = (median(ht), median(st));
        let hm = median((0..3).map(|_| peak_rss_kib(&helm, &args)).collect());
        let sm = median((0..3).map(|_| peak_rss_kib(&skiff, &sargs)).collect());
        let row = format!(
            "| {label} | {ht:.4} | {st:.4} | {:.1}x | {:.1} | {:.1} | {:.2} | {note} |\n",
            if st > 0.0 { ht / st } else { f64::INFINITY },
            hm / 1024.0,
            sm / 1024.0,
            if hm > 0.0 { sm / hm } else { 0.0 },
        );
        eprint!("{row}");
        table.push_str(&row);
    }
    table.push_str(&format!(
        "\nMedian of {runs} runs each, alternating, whole process, `--kube-version 1.33.0`; peak RSS median of 3 runs under /usr/bin/time.\n"
    ));
    print!("{table}");
    if let Some(p) = table_path
        && let Err(e) = std::fs::write(&p, &table)
    {
        eprintln!("cannot write {p}: {e}");
    }
}
