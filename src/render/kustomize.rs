//! A Kustomize overlay, built natively by skiff-kustomize (what `kustomize build`
//! prints), then read back into objects.

use std::path::Path;

use super::{Manifest, RenderError, yaml};

/// Builds the kustomization in `dir`; nothing it includes may lie outside
/// `repo_root`, and errors name files relative to it.
pub fn render(repo_root: &Path, dir: &Path) -> Result<Vec<Manifest>, RenderError> {
    let rel = dir.strip_prefix(repo_root).unwrap_or(dir);
    let text = skiff_kustomize::build_within(dir, repo_root)
        .map_err(|e| RenderError::new(rel, None, relative_paths(repo_root, &e.to_string())))?;
    // kustomize prints a stream without `# Source` markers: every object is
    // attributed to the kustomization folder.
    yaml::manifests(rel, &text)
}

/// `message` with the checkout's absolute paths made relative to the
/// repository: the cache folder means nothing to the author of the commit.
fn relative_paths(repo_root: &Path, message: &str) -> String {
    let mut out = message.to_owned();
    let canonical = repo_root.canonicalize().ok();
    for root in canonical.as_deref().into_iter().chain([repo_root]) {
        out = out.replace(&format!("{}/", root.display()), "");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn errors_name_files_relative_to_the_repository() {
        let root = std::env::temp_dir().join(format!("skiff-kustomize-rel-{}", std::process::id()));
        let dir = root.join("apps/web");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("kustomization.yaml"),
            "resources:\n  - missing.yaml\n",
        )
        .expect("write");
        let err = render(&root, &dir).expect_err("a missing resource");
        let text = err.to_string();
        std::fs::remove_dir_all(&root).expect("cleanup");
        assert!(
            text.contains("apps/web/kustomization.yaml: cannot read apps/web/missing.yaml"),
            "{text}"
        );
        assert!(!text.contains(&root.display().to_string()), "{text}");
    }
}
