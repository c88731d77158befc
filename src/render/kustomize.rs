//! A Kustomize overlay, built natively by skiff-kustomize (what `kustomize build`
//! prints), then read back into objects.

use std::path::Path;

use super::{Manifest, RenderError, yaml};

/// Builds the kustomization in `dir`; `repo_root` only shortens names in errors.
pub fn render(repo_root: &Path, dir: &Path) -> Result<Vec<Manifest>, RenderError> {
    let rel = dir.strip_prefix(repo_root).unwrap_or(dir);
    let text =
        skiff_kustomize::build(dir).map_err(|e| RenderError::new(rel, None, e.to_string()))?;
    // kustomize prints a stream without `# Source` markers: every object is
    // attributed to the kustomization folder.
    yaml::manifests(rel, &text)
}
