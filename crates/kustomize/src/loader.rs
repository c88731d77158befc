//! Reads files for one kustomization, enforcing kustomize's default load
//! restrictor: a file must lie in or below the kustomization's directory.
//! Directories elsewhere are fine as resources, because they are
//! kustomizations with roots of their own.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

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

    /// Resolves `rel` against the root without the restriction, which
    /// applies only to files (a directory is a kustomization with a root of
    /// its own): the joined path, as errors name it, and what it names.
    pub fn resolve(&self, rel: &str) -> (PathBuf, Entry) {
        let path = self.root.join(rel);
        let entry = match canonical_from(&self.root, rel) {
            Ok((root, meta)) if meta.is_dir() => Entry::Dir(Loader { root }),
            found => Entry::File(Located {
                path: path.clone(),
                found,
            }),
        };
        (path, entry)
    }

    /// Reads a file that must be in or below the root.
    pub fn read(&self, rel: &str, referrer: &Path) -> Result<(PathBuf, Vec<u8>)> {
        let located = Located {
            path: self.root.join(rel),
            found: canonical_from(&self.root, rel),
        };
        self.read_located(located, referrer)
    }

    /// Reads what [`Loader::resolve`] found not to be a directory, under the
    /// same restriction as [`Loader::read`], without looking it up again.
    pub fn read_located(&self, located: Located, referrer: &Path) -> Result<(PathBuf, Vec<u8>)> {
        let (canon, meta) = located.found.map_err(|e| {
            Error::in_file(
                referrer,
                format!("cannot read {}: {e}", located.path.display()),
            )
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
        let bytes = read_file(&canon, &meta).map_err(|e| {
            Error::in_file(referrer, format!("cannot read {}: {e}", canon.display()))
        })?;
        Ok((canon, bytes))
    }

    pub fn read_text(&self, rel: &str, referrer: &Path) -> Result<(PathBuf, String)> {
        text(self.read(rel, referrer)?)
    }

    /// [`Loader::read_located`] as UTF-8 text.
    pub fn read_located_text(
        &self,
        located: Located,
        referrer: &Path,
    ) -> Result<(PathBuf, String)> {
        text(self.read_located(located, referrer)?)
    }
}

/// What a kustomization's entry (a resource, a component) names.
#[derive(Debug)]
pub enum Entry {
    /// A directory, with its loader.
    Dir(Loader),
    /// Anything else: a file to read with [`Loader::read_located`], or
    /// nothing (the error is reported when it is read).
    File(Located),
}

/// A looked-up path: the joined path errors name, and its canonical form
/// and metadata, or why it could not be looked up.
#[derive(Debug)]
pub struct Located {
    path: PathBuf,
    found: std::io::Result<(PathBuf, Metadata)>,
}

fn text((path, bytes): (PathBuf, Vec<u8>)) -> Result<(PathBuf, String)> {
    let text = String::from_utf8(bytes).map_err(|_| Error::in_file(&path, "not valid UTF-8"))?;
    Ok((path, text))
}

/// `base.join(rel)` with every symlink resolved, as `canonicalize` returns
/// it, for a `base` that is already canonical, and the metadata of what it
/// names. Only the components of `rel` are looked at, one `lstat` each:
/// `canonicalize` would read every component of the absolute path again for
/// each file of a kustomization (glibc's realpath), which is most of the
/// system calls of a small build. Anything unusual (a symlink, `..` after a
/// non-directory, a trailing slash) is left to `canonicalize`, so the result
/// and the errors are the same as its.
fn canonical_from(base: &Path, rel: &str) -> std::io::Result<(PathBuf, Metadata)> {
    let slow = || {
        let canon = base.join(rel).canonicalize()?;
        let meta = std::fs::metadata(&canon)?;
        Ok((canon, meta))
    };
    if rel.ends_with('/') {
        return slow();
    }
    let mut path = base.to_path_buf();
    // The metadata of `path` when its last step was a name that was looked up.
    let mut meta: Option<Metadata> = None;
    for component in Path::new(rel).components() {
        // Only a directory has something below it, `..` included.
        if meta.as_ref().is_some_and(|m| !m.is_dir()) {
            return slow();
        }
        match component {
            Component::CurDir => continue,
            Component::RootDir => path = PathBuf::from("/"),
            // `path` is canonical, so its parent is what `..` leads to.
            Component::ParentDir => {
                path.pop();
            }
            Component::Normal(name) => {
                path.push(name);
                let m = std::fs::symlink_metadata(&path)?;
                if m.file_type().is_symlink() {
                    return slow();
                }
                meta = Some(m);
                continue;
            }
            Component::Prefix(_) => return slow(),
        }
        meta = None;
    }
    let meta = match meta {
        Some(m) => m,
        None => std::fs::metadata(&path)?,
    };
    Ok((path, meta))
}

/// The whole file; its size is known from `meta`, so the buffer is sized
/// without another `stat`.
fn read_file(path: &Path, meta: &Metadata) -> std::io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    // Through `take`, because `File::read_to_end` would `stat` the file for
    // the size we already have; a file that grew since is still read whole.
    (&file).take(u64::MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{Entry, Loader};

    /// root/{in.yaml, sub/deep.yaml, link-out -> ../outside.yaml,
    /// link-in -> sub/deep.yaml, dir-out -> ..}, and outside.yaml next to root.
    fn tree(name: &str) -> PathBuf {
        let top = std::env::temp_dir().join(format!("skiff-loader-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&top);
        let root = top.join("root");
        std::fs::create_dir_all(root.join("sub")).expect("dirs");
        std::fs::write(root.join("in.yaml"), "in").expect("write");
        std::fs::write(root.join("sub/deep.yaml"), "deep").expect("write");
        std::fs::write(top.join("outside.yaml"), "outside").expect("write");
        std::os::unix::fs::symlink("../outside.yaml", root.join("link-out")).expect("link");
        std::os::unix::fs::symlink("sub/deep.yaml", root.join("link-in")).expect("link");
        std::os::unix::fs::symlink("..", root.join("dir-out")).expect("link");
        top
    }

    fn read(loader: &Loader, rel: &str) -> Result<(PathBuf, String), String> {
        loader
            .read_text(rel, Path::new("kustomization.yaml"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn files_resolve_to_what_canonicalize_says_and_outside_is_refused() {
        let top = tree("restrict");
        let loader = Loader::new(&top.join("root")).expect("loader");
        let root = loader.root.clone();
        for (rel, want) in [
            ("in.yaml", "in"),
            ("./sub/../in.yaml", "in"),
            ("sub/deep.yaml", "deep"),
            ("link-in", "deep"),
            ("../root/in.yaml", "in"),
        ] {
            let (path, text) = read(&loader, rel).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert_eq!(text, want, "{rel}");
            assert_eq!(
                path,
                root.join(rel).canonicalize().expect("canonical"),
                "{rel}"
            );
        }
        for rel in [
            "../outside.yaml",
            "link-out",
            "dir-out/outside.yaml",
            "sub/../../outside.yaml",
        ] {
            let err = read(&loader, rel).expect_err(rel);
            assert!(err.contains("is not in or below"), "{rel}: {err}");
        }
        for rel in [
            "missing.yaml",
            "in.yaml/../in.yaml",
            "in.yaml/",
            "sub/missing/../deep.yaml",
        ] {
            let err = read(&loader, rel).expect_err(rel);
            assert!(err.contains("cannot read"), "{rel}: {err}");
        }
        let _ = std::fs::remove_dir_all(&top);
    }

    #[test]
    fn directories_resolve_through_links_and_parents() {
        let top = tree("dirs");
        let loader = Loader::new(&top.join("root")).expect("loader");
        let dir = |rel: &str| match loader.resolve(rel) {
            (_, Entry::Dir(d)) => Some(d.root),
            (_, Entry::File(_)) => None,
        };
        assert_eq!(dir("sub"), Some(loader.root.join("sub")));
        assert_eq!(dir("dir-out"), Some(top.canonicalize().expect("top")));
        assert_eq!(dir("in.yaml"), None);
        assert_eq!(dir("missing"), None);
        let (path, Entry::File(file)) = loader.resolve("in.yaml") else {
            panic!("in.yaml is a file");
        };
        assert_eq!(path, loader.root.join("in.yaml"));
        let (_, text) = loader
            .read_located_text(file, Path::new("kustomization.yaml"))
            .expect("read");
        assert_eq!(text, "in");
        let (_, Entry::File(link)) = loader.resolve("link-out") else {
            panic!("link-out is a file");
        };
        let err = loader
            .read_located(link, Path::new("kustomization.yaml"))
            .expect_err("outside");
        assert!(err.to_string().contains("is not in or below"), "{err}");
        let _ = std::fs::remove_dir_all(&top);
    }
}
