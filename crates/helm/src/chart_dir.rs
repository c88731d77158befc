//! Reading a chart folder: its files in the order of a sorted walk,
//! `.helmignore` applied, links followed as helm follows them. Only what the
//! loader reads itself is read here; the other files are opened (so that an
//! unreadable one is refused at load, by name) and read when used.

use std::borrow::Cow;
use std::path::Path;

use crate::chart::{ChartFile, FileData, may_defer};
use crate::error::Error;
use crate::ignore::Rules;

/// The files of the chart in `root`, with paths relative to it. The first
/// file that cannot be read (or listed) in walk order is the error.
pub fn read(root: &Path) -> Result<Vec<ChartFile>, Error> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(t) => Rules::parse(&t),
        Err(_) => Rules::parse(""),
    };
    // On the render threads: folders are walked in parallel.
    crate::threads()?.install(|| walk(root, root, &rules))
}

/// The folders `dirs` walked, split in halves between the render threads.
fn walk_all(root: &Path, dirs: &[&Path], rules: &Rules) -> Vec<Result<Vec<ChartFile>, Error>> {
    match dirs {
        [] => Vec::new(),
        [one] => vec![walk(root, one, rules)],
        _ => {
            let (a, b) = dirs.split_at(dirs.len() / 2);
            let (mut a, b) =
                rayon_core::join(|| walk_all(root, a, rules), || walk_all(root, b, rules));
            a.extend(b);
            a
        }
    }
}

/// The file at `path` (`rel` in the chart): read now if the loader reads
/// it, else opened and read when used.
fn open(path: &Path, rel: &str) -> Result<ChartFile, Error> {
    let data = if may_defer(rel) {
        // Opened now, so that a file helm could not read is refused at load.
        let file = std::fs::File::open(path).map_err(|err| unreadable(path, err))?;
        let size = file.metadata().map_or(0, |m| m.len());
        // Templates are read by every render; the other files by few.
        let template = crate::chart::within_chart(rel).starts_with("templates/");
        FileData::deferred(
            path.to_path_buf(),
            usize::try_from(size).unwrap_or(usize::MAX),
            template.then_some(file),
        )
    } else {
        let data: FileData = std::fs::read(path)
            .map_err(|err| unreadable(path, err))?
            .into();
        // Read now, by this thread, while the other walks on.
        match crate::chart::within_chart(rel) {
            "values.yaml" => drop(data.values()),
            "values.schema.json" => drop(data.schema()),
            _ => {}
        }
        data
    };
    Ok(ChartFile {
        name: rel.to_string(),
        data,
    })
}

/// The bytes as text for the YAML readers, invalid UTF-8 replaced; valid
/// text (nearly always) takes the fast check and is borrowed.
pub fn text(data: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(t) => Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(data),
    }
}

fn unreadable(path: &Path, err: std::io::Error) -> Error {
    Error::Chart(format!("unable to read {}: {err}", path.display()))
}

/// The files under `dir`, in walk order. Its subfolders are walked while
/// its own files are opened, on the other render thread when it is free (the
/// walk of kube-prometheus-stack, hundreds of files, took a tenth of its
/// render with a core idle); the files are put back in order, and so is the
/// first error.
fn walk(root: &Path, dir: &Path, rules: &Rules) -> Result<Vec<ChartFile>, Error> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| unreadable(dir, e))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    // Each entry left after `.helmignore`: a folder or a file, by path.
    let mut kept = Vec::new();
    for e in entries {
        let path = e.path();
        let rel = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        // The entry's type comes with the listing; only links need a stat.
        let is_dir = match e.file_type() {
            Ok(t) if !t.is_symlink() => Ok(t.is_dir()),
            _ => std::fs::metadata(&path)
                .map(|m| m.is_dir())
                .map_err(|err| unreadable(&path, err)),
        };
        if let Ok(is_dir) = is_dir
            && rules.ignored(&rel, is_dir)
        {
            continue;
        }
        kept.push((path, rel, is_dir));
    }
    let folders: Vec<&Path> = kept
        .iter()
        .filter(|(.., d)| matches!(d, Ok(true)))
        .map(|(p, ..)| p.as_path())
        .collect();
    let (files, walked) = rayon_core::join(
        || {
            kept.iter()
                .filter(|(.., d)| !matches!(d, Ok(true)))
                .map(|(path, rel, d)| match d {
                    Err(e) => Err(e.clone()),
                    Ok(_) => open(path, rel),
                })
                .collect::<Vec<_>>()
        },
        || walk_all(root, &folders, rules),
    );
    let (mut files, mut walked) = (files.into_iter(), walked.into_iter());
    let mut out = Vec::new();
    for (.., d) in &kept {
        if matches!(d, Ok(true)) {
            if let Some(sub) = walked.next() {
                out.extend(sub?);
            }
        } else if let Some(f) = files.next() {
            out.push(f?);
        }
    }
    Ok(out)
}
