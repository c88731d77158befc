//! A plain directory of YAML and JSON manifests, as Argo CD's `directory`
//! source reads it: `*.yaml`, `*.yml` and `*.json` files in path order, with
//! optional recursion and include/exclude globs on the path relative to the root.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use super::{Manifest, RenderError, yaml};
use crate::api::DirectorySource;

/// Files larger than this are refused rather than read into memory.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// Renders every manifest under `root` selected by `opts`.
pub fn render(root: &Path, opts: &DirectorySource) -> Result<Vec<Manifest>, RenderError> {
    let canonical_root = root
        .canonicalize()
        .map_err(|e| RenderError::new(root, None, format!("cannot open the source path: {e}")))?;
    if !canonical_root.is_dir() {
        return Err(RenderError::new(
            root,
            None,
            "the source path is not a directory",
        ));
    }
    let include = opts
        .include
        .as_deref()
        .map(|p| glob(root, "include", p))
        .transpose()?;
    let exclude = opts
        .exclude
        .as_deref()
        .map(|p| glob(root, "exclude", p))
        .transpose()?;

    let mut files = Vec::new();
    collect(&canonical_root, Path::new(""), opts.recurse, &mut files)?;
    files.sort();

    let mut manifests = Vec::new();
    for rel in files {
        if include.as_ref().is_some_and(|g| !g.is_match(&rel))
            || exclude.as_ref().is_some_and(|g| g.is_match(&rel))
        {
            continue;
        }
        let text = read(&canonical_root, &rel)?;
        manifests.extend(yaml::manifests(&rel, &text)?);
    }
    Ok(manifests)
}

fn glob(root: &Path, field: &str, pattern: &str) -> Result<GlobMatcher, RenderError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| {
            RenderError::new(
                root,
                None,
                format!("spec.source.directory.{field}: invalid glob {pattern:?}: {e}"),
            )
        })
}

/// Lists manifest files (relative paths) under `root/rel`. Hidden entries
/// (`.git`, `.github`, ...) are skipped; symlinked directories are not followed.
fn collect(
    root: &Path,
    rel: &Path,
    recurse: bool,
    out: &mut Vec<PathBuf>,
) -> Result<(), RenderError> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| RenderError::new(rel, None, format!("cannot list: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| RenderError::new(rel, None, format!("cannot list: {e}")))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = rel.join(&name);
        let file_type = entry
            .file_type()
            .map_err(|e| RenderError::new(&path, None, e.to_string()))?;
        if file_type.is_dir() {
            if recurse {
                collect(root, &path, recurse, out)?;
            }
        } else if is_manifest(&path) && !(file_type.is_symlink() && root.join(&path).is_dir()) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Reads one file, refusing symlinks that lead outside the source and huge files.
fn read(root: &Path, rel: &Path) -> Result<String, RenderError> {
    let real = root
        .join(rel)
        .canonicalize()
        .map_err(|e| RenderError::new(rel, None, format!("cannot open: {e}")))?;
    if !real.starts_with(root) {
        return Err(RenderError::new(
            rel,
            None,
            "is a symlink to a file outside the source; refused",
        ));
    }
    let size = real
        .metadata()
        .map_err(|e| RenderError::new(rel, None, format!("cannot open: {e}")))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(RenderError::new(
            rel,
            None,
            format!("is {size} bytes, more than the {MAX_FILE_BYTES}-byte limit"),
        ));
    }
    std::fs::read_to_string(&real)
        .map_err(|e| RenderError::new(rel, None, format!("cannot read: {e}")))
}
