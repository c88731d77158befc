//! Rendering: turns the files of a source into manifests. Pure: reads files,
//! never talks to a cluster.
//!
//! The renderer for a source is picked as DESIGN says (kustomization file ->
//! Kustomize, Chart.yaml -> Helm, else a plain directory).

pub mod directory;
pub mod helm;
pub mod kustomize;
mod yaml;

pub use yaml::describe as yaml_error;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::api::ApplicationSource;

/// One rendered object and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The file it was read from, relative to the source root.
    pub source: PathBuf,
    /// The 1-based line where its document starts in that file.
    pub line: u64,
    /// The object, as JSON.
    pub object: serde_json::Value,
}

/// Why a source could not be rendered. Always names the file, and the line
/// where there is one; rendering stops at the first error, so nothing is applied.
#[derive(Debug)]
pub struct RenderError {
    /// The file at fault (relative to the source root where possible).
    pub file: PathBuf,
    /// The 1-based line, when known.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl RenderError {
    fn new(file: impl Into<PathBuf>, line: Option<u64>, message: impl Into<String>) -> Self {
        RenderError {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for RenderError {}

/// Which renderer a source needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Plain YAML and JSON files.
    Directory,
    /// A kustomization.
    Kustomize,
    /// A Helm chart.
    Helm,
}

/// The kustomization file names kustomize looks for, in its order.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The renderer for `source` at `dir`: the one it names, else detected
/// (kustomization file -> Kustomize, `Chart.yaml` -> Helm, else a directory).
pub fn detect(dir: &Path, source: &ApplicationSource) -> Result<Kind, RenderError> {
    let named = [
        source.helm.as_ref().map(|_| Kind::Helm),
        source.kustomize.as_ref().map(|_| Kind::Kustomize),
        source.directory.as_ref().map(|_| Kind::Directory),
    ];
    let mut named = named.into_iter().flatten();
    match (named.next(), named.next()) {
        (Some(_), Some(_)) => Err(RenderError::new(
            dir,
            None,
            "spec.source: set at most one of helm, kustomize and directory",
        )),
        (Some(kind), None) => Ok(kind),
        (None, _) if KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file()) => {
            Ok(Kind::Kustomize)
        }
        (None, _) if dir.join("Chart.yaml").is_file() => Ok(Kind::Helm),
        (None, _) => Ok(Kind::Directory),
    }
}

/// What an Application renders for: its name, destination namespace and the
/// capabilities of the cluster.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    /// The Application's name (the default Helm release name).
    pub app: &'a str,
    /// The destination namespace.
    pub namespace: &'a str,
    /// The cluster's version and APIs, for Helm's `.Capabilities`.
    pub capabilities: &'a skiff_helm::Capabilities,
}

/// `path` (relative to `dir`, or inside it) as a path in the repository.
fn in_repo(repo_root: &Path, dir: &Path, path: &Path) -> PathBuf {
    let rel_dir = dir.strip_prefix(repo_root).unwrap_or(dir);
    let path = path.strip_prefix(dir).unwrap_or(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else if path.as_os_str().is_empty() {
        rel_dir.to_path_buf()
    } else {
        rel_dir.join(path)
    }
}

/// Renders `source` from its checked-out folder `dir` inside `repo_root`.
pub fn render_source(
    repo_root: &Path,
    dir: &Path,
    source: &ApplicationSource,
    target: &Target<'_>,
) -> Result<Vec<Manifest>, RenderError> {
    // A chart from a Helm repository arrives as its archive.
    let kind = if source.chart.is_some() {
        Kind::Helm
    } else {
        // Named by its path in the repository, not in the agent's cache.
        detect(dir, source).map_err(|mut e| {
            e.file = dir.strip_prefix(repo_root).unwrap_or(dir).to_path_buf();
            e
        })?
    };
    match kind {
        // Files are named by their path in the repository, as Kustomize and
        // Helm errors name them: `deployment.yaml:3` alone is ambiguous in a
        // fleet repository.
        Kind::Directory => directory::render(dir, &source.directory.clone().unwrap_or_default())
            .map(|manifests| {
                manifests
                    .into_iter()
                    .map(|mut m| {
                        m.source = in_repo(repo_root, dir, &m.source);
                        m
                    })
                    .collect()
            })
            .map_err(|mut e| {
                e.file = in_repo(repo_root, dir, &e.file);
                e
            }),
        Kind::Kustomize => kustomize::render(repo_root, dir),
        Kind::Helm => {
            let helm_source = source.helm.clone().unwrap_or_default();
            let release = helm::Release {
                name: helm_source.release_name.as_deref().unwrap_or(target.app),
                namespace: target.namespace,
                capabilities: target.capabilities,
            };
            helm::render(repo_root, dir, &helm_source, &release)
        }
    }
}
