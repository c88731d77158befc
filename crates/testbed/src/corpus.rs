//! Charts assembled from `../shared/corpus` for the renderer tests and benchmarks.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The corpus folder of Helm charts.
pub fn charts() -> PathBuf {
    crate::repo_root().join("../shared/corpus/charts")
}

/// kube-prometheus-stack as the corpus holds it does not render: four of its
/// dependencies are missing from `charts/`, and helm refuses it. Two of them
/// are corpus charts at exactly the versions it asks for (kube-state-metrics
/// 8.4.0, prometheus-node-exporter 4.56.1); this copy has those two vendored
/// and the other two (grafana, prometheus-windows-exporter) dropped from
/// Chart.yaml, so the renderers can be compared on the real chart, the
/// largest of the corpus. Assembled once in the temporary folder and shared by later runs.
pub fn kube_prometheus_stack_vendored() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let parent = std::env::temp_dir().join("skiff-corpus");
        let dir = parent.join("kube-prometheus-stack-vendored");
        if dir.join("Chart.yaml").is_file() {
            return dir;
        }
        // Built aside and renamed into place, so concurrent test processes
        // never see half a chart; the loser of the race drops its copy.
        let building = parent.join(format!("building-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        assemble(&building).unwrap_or_else(|e| panic!("assembling {}: {e}", building.display()));
        if std::fs::rename(&building, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&building);
        }
        dir
    })
}

/// One Helm rendering case: a chart folder and, optionally, a values file.
#[derive(Debug, Clone)]
pub struct HelmCase {
    /// `chart` or `chart -f relative/values.yaml`.
    pub name: String,
    pub chart: PathBuf,
    pub values: Option<PathBuf>,
}

/// The charts the Helm tests render: every corpus chart, every chart under
/// `fixtures`, kube-prometheus-stack with its dependencies vendored and the
/// agent's own chart; each with its default values and with every values
/// file it ships (`values*.yaml` beside Chart.yaml, `ci/*.yaml`,
/// `examples/*/values.yaml`).
pub fn helm_cases(fixtures: &Path) -> Vec<HelmCase> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in [charts(), fixtures.to_path_buf()] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            dirs.extend(
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.join("Chart.yaml").is_file()),
            );
        }
    }
    dirs.sort();
    dirs.push(kube_prometheus_stack_vendored().to_path_buf());
    dirs.push(crate::repo_root().join("charts/skiff"));
    let mut out = Vec::new();
    for chart in dirs {
        let name = chart
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.push(HelmCase {
            name: name.clone(),
            chart: chart.clone(),
            values: None,
        });
        let mut files = Vec::new();
        for (dir, in_ci) in [(chart.clone(), false), (chart.join("ci"), true)] {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for p in rd.filter_map(Result::ok).map(|e| e.path()) {
                let f = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let yaml = f.ends_with(".yaml") || f.ends_with(".yml");
                if yaml && (in_ci || (f.starts_with("values") && f != "values.yaml")) {
                    files.push(p);
                }
            }
        }
        if let Ok(rd) = std::fs::read_dir(chart.join("examples")) {
            files.extend(
                rd.filter_map(Result::ok)
                    .map(|e| e.path().join("values.yaml"))
                    .filter(|p| p.is_file()),
            );
        }
        files.sort();
        for f in files {
            let rel = f.strip_prefix(&chart).unwrap_or(&f).display().to_string();
            out.push(HelmCase {
                name: format!("{name} -f {rel}"),
                chart: chart.clone(),
                values: Some(f),
            });
        }
    }
    out
}

/// A small deterministic generator (xorshift) for mutation tests, so a
/// failure reproduces from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; zero is made odd).
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

fn assemble(dir: &Path) -> std::io::Result<()> {
    let corpus = charts();
    copy_dir(&corpus.join("kube-prometheus-stack"), dir)?;
    for dep in ["kube-state-metrics", "prometheus-node-exporter"] {
        copy_dir(&corpus.join(dep), &dir.join("charts").join(dep))?;
    }
    let chart_yaml = dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml)?;
    let kept = drop_dependencies(&text, &["grafana", "prometheus-windows-exporter"]);
    std::fs::write(&chart_yaml, kept)
}

/// Every file below `dir` (recursively), sorted; a folder that cannot be read
/// adds nothing.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// Copies a folder tree; copies are writable (the corpus is read-only).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            let mut perms = std::fs::metadata(&target)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&target, perms)?;
        }
    }
    Ok(())
}

/// Chart.yaml without the `dependencies` entries of the given names (each
/// entry runs from its `- name:` line to the next entry or the end of the list).
fn drop_dependencies(chart_yaml: &str, names: &[&str]) -> String {
    let mut out = String::new();
    let (mut in_dependencies, mut dropping) = (false, false);
    for line in chart_yaml.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !line.starts_with([' ', '-']) && !trimmed.is_empty() {
            in_dependencies = line.starts_with("dependencies:");
            dropping = false;
        } else if in_dependencies && let Some(name) = trimmed.strip_prefix("- name:") {
            dropping = names.contains(&name.trim().trim_matches('"'));
        }
        if !dropping {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::drop_dependencies;

    #[test]
    fn named_dependencies_are_dropped_and_the_rest_kept() {
        let text = "name: x\nmaintainers:\n  - name: b\ndependencies:\n  - name: a\n    version: \"1\"\n  - name: b\n    version: \"2\"\n  - name: c\n    condition: c.on\nannotations: {}\n";
        assert_eq!(
            drop_dependencies(text, &["b", "c"]),
            "name: x\nmaintainers:\n  - name: b\ndependencies:\n  - name: a\n    version: \"1\"\nannotations: {}\n"
        );
    }
}
