//! Rendering: turns the files of a source into manifests. Pure: reads files,
//! never talks to a cluster.
//!
//! The renderer for a source is picked as DESIGN says (kustomization file ->
//! Kustomize, Chart.yaml -> Helm, else a plain directory); only the directory
//! renderer is here so far.

pub mod directory;
mod yaml;

use std::fmt;
use std::path::PathBuf;

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
