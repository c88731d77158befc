//! Reads files for one kustomization, enforcing kustomize's default load
//! restrictor: a file must lie in or below the kustomization's directory.
//! Directories elsewhere are fine as resources, because they are
//! kustomizations with roots of their own.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[derive(Debug, Clone)]
pub struct Loader {
    /// The kustomization's directory, canonical.
    pub root: PathBuf,
}

impl Loader {
    pub fn new(dir: &Path) -> Result<Loader> {
        let root = dir.canonicalize().map_err(|e| {
            Error::in_file(dir, format!("cannot open the kustomization directory: {e}"))
        })?;
        if !root.is_dir() {
            return Err(Error::in_file(dir, "not a directory"));
        }
        Ok(Loader { root })
    }

    /// The kustomization file of the root, as kustomize looks for it.
    pub fn kustomization_file(&self) -> Result<PathBuf> {
        let found: Vec<PathBuf> = KUSTOMIZATION_FILES
            .iter()
            .map(|n| self.root.join(n))
            .filter(|p| p.is_file())
            .collect();
        match found.len() {
            1 => Ok(found.into_iter().next().unwrap_or_default()),
            0 => Err(Error::in_file(
                &self.root,
                "unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory",
            )),
            _ => Err(Error::in_file(
                &self.root,
                "found multiple kustomization files; keep only one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization'",
            )),
        }
    }

    /// Resolves `rel` against the root without the restriction (for
    /// directories, which become kustomizations of their own).
    pub fn resolve(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Reads a file that must be in or below the root.
    pub fn read(&self, rel: &str, referrer: &Path) -> Result<(PathBuf, Vec<u8>)> {
        let path = self.root.join(rel);
        let canon = path.canonicalize().map_err(|e| {
            Error::in_file(referrer, format!("cannot read {}: {e}", path.display()))
        })?;
        if !canon.starts_with(&self.root) {
            return Err(Error::in_file(
                referrer,
                format!(
                    "security; file '{}' is not in or below '{}'",
                    canon.display(),
                    self.root.display()
                ),
            ));
        }
        let bytes = std::fs::read(&canon).map_err(|e| {
            Error::in_file(referrer, format!("cannot read {}: {e}", canon.display()))
        })?;
        Ok((canon, bytes))
    }

    pub fn read_text(&self, rel: &str, referrer: &Path) -> Result<(PathBuf, String)> {
        let (p, bytes) = self.read(rel, referrer)?;
        let text = String::from_utf8(bytes).map_err(|_| Error::in_file(&p, "not valid UTF-8"))?;
        Ok((p, text))
    }
}
