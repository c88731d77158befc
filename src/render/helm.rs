//! A Helm chart rendered as Argo CD renders an Application's `helm` source:
//! values files (relative to the chart, inside the repository), then `values`,
//! then `valuesObject`, then `parameters` (`--set`, or `--set-string` with
//! `forceString`), CRDs included unless `skipCrds`, chart tests left out.

use std::path::{Path, PathBuf};

use skiff_helm::strvals::{self, SetKind};
use skiff_helm::{Capabilities, ReleaseOptions};

use super::{Manifest, RenderError, yaml};
use crate::api::HelmSource;

/// Where and as what a chart is rendered.
#[derive(Clone, Debug)]
pub struct Release<'a> {
    /// The release name (`spec.source.helm.releaseName`, else the Application's name).
    pub name: &'a str,
    /// The release namespace (the destination namespace).
    pub namespace: &'a str,
    /// What `.Capabilities` reports: the target cluster's version and APIs.
    pub capabilities: &'a Capabilities,
}

/// Renders the chart in `chart_dir`; value files may not leave `repo_root`.
pub fn render(
    repo_root: &Path,
    chart_dir: &Path,
    helm: &HelmSource,
    release: &Release<'_>,
) -> Result<Vec<Manifest>, RenderError> {
    let rel_chart = chart_dir.strip_prefix(repo_root).unwrap_or(chart_dir);
    let chart_err = |e: skiff_helm::Error| RenderError::new(rel_chart, None, e.to_string());
    refuse_links_outside(repo_root, chart_dir)?;
    let chart = skiff_helm::load(chart_dir).map_err(chart_err)?;

    let mut values = strvals::empty();
    for file in &helm.value_files {
        let path = inside(repo_root, &chart_dir.join(file)).map_err(|why| {
            RenderError::new(
                rel_chart,
                None,
                format!("spec.source.helm.valueFiles: {file:?} {why}"),
            )
        })?;
        let shown = chart_dir
            .strip_prefix(repo_root)
            .unwrap_or(chart_dir)
            .join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            RenderError::new(&shown, None, format!("spec.source.helm.valueFiles: {e}"))
        })?;
        let parsed = skiff_helm::parse_values(&text)
            .map_err(|e| RenderError::new(&shown, None, e.to_string()))?;
        values = skiff_helm::merge_values(values, parsed);
    }
    if let Some(text) = &helm.values {
        let parsed = skiff_helm::parse_values(text).map_err(|e| {
            RenderError::new(rel_chart, None, format!("spec.source.helm.values: {e}"))
        })?;
        values = skiff_helm::merge_values(values, parsed);
    }
    if let Some(object) = &helm.values_object {
        // JSON is YAML: the object goes through the same reader as values files,
        // so numbers and strings are typed exactly as Helm types them.
        let parsed = skiff_helm::parse_values(&object.to_string()).map_err(|e| {
            RenderError::new(
                rel_chart,
                None,
                format!("spec.source.helm.valuesObject: {e}"),
            )
        })?;
        values = skiff_helm::merge_values(values, parsed);
    }
    for p in &helm.parameters {
        let kind = if p.force_string {
            SetKind::String
        } else {
            SetKind::Typed
        };
        values = strvals::apply(values, &format!("{}={}", p.name, p.value), kind).map_err(|e| {
            RenderError::new(
                rel_chart,
                None,
                format!("spec.source.helm.parameters {:?}: {e}", p.name),
            )
        })?;
    }

    let options = ReleaseOptions {
        name: release.name.to_owned(),
        namespace: release.namespace.to_owned(),
        ..ReleaseOptions::default()
    };
    let rendered =
        skiff_helm::render(&chart, &values, &options, release.capabilities).map_err(chart_err)?;
    let crds = if helm.skip_crds {
        Vec::new()
    } else {
        rendered.crds().map_err(chart_err)?
    };
    let hooks = rendered.hooks.into_iter().filter(|h| !h.is_test());
    let mut manifests = Vec::new();
    for m in crds.into_iter().chain(rendered.manifests).chain(hooks) {
        manifests.extend(yaml::manifests(Path::new(&m.source), &m.content)?);
    }
    Ok(manifests)
}

/// Refuses symbolic links in a chart folder that lead outside the repository:
/// the chart loader follows links, and a commit must not make the agent read
/// (and apply) its own files. Archives are checked by the loader itself.
fn refuse_links_outside(repo_root: &Path, chart_dir: &Path) -> Result<(), RenderError> {
    if !chart_dir.is_dir() {
        return Ok(());
    }
    let shown = |p: &Path| p.strip_prefix(repo_root).unwrap_or(p).to_path_buf();
    let mut visited = std::collections::HashSet::new();
    let mut stack = vec![chart_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let real = dir
            .canonicalize()
            .map_err(|e| RenderError::new(shown(&dir), None, format!("cannot be read: {e}")))?;
        if !visited.insert(real) {
            continue;
        }
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| RenderError::new(shown(&dir), None, format!("cannot be read: {e}")))?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_symlink())
                && let Err(why) = inside(repo_root, &path)
            {
                let why = why.replace("is outside", "leads outside");
                return Err(RenderError::new(
                    shown(&path),
                    None,
                    format!("is a symbolic link that {why}; refused"),
                ));
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}

/// `path` resolved (symlinks too), if it stays inside `root`.
fn inside(root: &Path, path: &Path) -> Result<PathBuf, String> {
    let real = path
        .canonicalize()
        .map_err(|e| format!("cannot be read: {e}"))?;
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err("is outside the repository".to_owned())
    }
}
