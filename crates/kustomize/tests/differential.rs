//! The differential test: every kustomization of the shared corpus and every
//! fixture folder is built by the reference `kustomize` (v5.8.2, from the
//! testbed) and by this crate, and the outputs must be byte-identical. When
//! the reference fails, this crate must fail too.
//!
//! Fixture folders live in `tests/fixtures/<name>/`; the kustomization at the
//! folder's top is built. `expected.yaml` (or `expected.err` for a failing
//! build) holds what the reference printed when the fixture was written
//! (`scripts/regen-fixtures.sh`); the test also checks the live reference
//! still agrees with it, so a fixture cannot silently drift.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Cases whose output is allowed to differ, each with its reason. Empty: every
/// case must match.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn is_kustomization_dir(dir: &Path) -> bool {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|f| dir.join(f).is_file())
}

fn find_kustomizations(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    if is_kustomization_dir(dir) {
        out.push(dir.to_path_buf());
    }
    for e in entries {
        if e.is_dir()
            && !e
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            find_kustomizations(&e, out);
        }
    }
}

fn corpus_cases() -> Vec<PathBuf> {
    let corpus = skiff_testbed::repo_root().join("../shared/corpus");
    let mut out = Vec::new();
    for sub in ["kustomize", "fleets"] {
        find_kustomizations(&corpus.join(sub), &mut out);
    }
    out
}

fn fixture_cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

struct Reference {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn reference(dir: &Path) -> Reference {
    let out = Command::new(skiff_testbed::bin("kustomize"))
        .arg("build")
        .arg(dir)
        .output()
        .expect("run the reference kustomize");
    Reference {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Compares one case; returns a description of the difference, if any.
fn compare(dir: &Path) -> Option<String> {
    let want = reference(dir);
    let got = skiff_kustomize::build(dir);
    match (want.ok, got) {
        (true, Ok(out)) if out == want.stdout => None,
        (true, Ok(out)) => Some(format!(
            "output differs:\n{}",
            first_difference(&want.stdout, &out)
        )),
        (true, Err(e)) => Some(format!("kustomize succeeded, skiff failed: {e}")),
        (false, Ok(_)) => Some(format!(
            "kustomize failed ({}), skiff succeeded",
            want.stderr.trim()
        )),
        (false, Err(_)) => None,
    }
}

fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<_>, Vec<_>) = (want.lines().collect(), got.lines().collect());
    let i = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
    format!(
        "  line {}:\n  kustomize: {:?}\n  skiff:     {:?}",
        i + 1,
        w.get(i).unwrap_or(&"<end>"),
        g.get(i).unwrap_or(&"<end>")
    )
}

fn run(cases: &[PathBuf]) {
    assert!(!cases.is_empty(), "no cases found");
    let mut failures = Vec::new();
    for dir in cases {
        let known = KNOWN_DIFFERENCES.iter().any(|(p, _)| dir.ends_with(p));
        match compare(dir) {
            Some(diff) if !known => failures.push(format!("{}: {diff}", dir.display())),
            None if known => failures.push(format!(
                "{}: listed as a known difference but matches",
                dir.display()
            )),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_kustomizations_are_byte_identical() {
    let cases = corpus_cases();
    assert!(
        cases.len() >= 16,
        "expected the shared corpus, found {} kustomizations",
        cases.len()
    );
    run(&cases);
}

#[test]
fn fixtures_are_byte_identical() {
    run(&fixture_cases());
}

#[test]
fn fixtures_match_their_recorded_reference_output() {
    let mut stale = Vec::new();
    for dir in fixture_cases() {
        let want = reference(&dir);
        let (file, text) = if want.ok {
            ("expected.yaml", want.stdout)
        } else {
            ("expected.err", String::new())
        };
        match std::fs::read_to_string(dir.join(file)) {
            Ok(recorded) if !want.ok || recorded == text => {}
            _ => stale.push(format!("{} ({file})", dir.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "fixtures whose recorded output is missing or stale (run scripts/regen-fixtures.sh):\n{}",
        stale.join("\n")
    );
}
