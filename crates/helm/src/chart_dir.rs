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
    let mut out = Vec::new();
    walk(root, root, &rules, &mut out)?;
    Ok(out)
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

fn walk(root: &Path, dir: &Path, rules: &Rules, out: &mut Vec<ChartFile>) -> Result<(), Error> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| unreadable(dir, e))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let rel = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        // The entry's type comes with the listing; only links need a stat.
        let is_dir = match e.file_type() {
            Ok(t) if !t.is_symlink() => t.is_dir(),
            _ => std::fs::metadata(&path)
                .map_err(|err| unreadable(&path, err))?
                .is_dir(),
        };
        if rules.ignored(&rel, is_dir) {
            continue;
        }
        if is_dir {
            walk(root, &path, rules, out)?;
            continue;
        }
        let data = if may_defer(&rel) {
            // Opened now, so that a file helm could not read is refused at load.
            let file = std::fs::File::open(&path).map_err(|err| unreadable(&path, err))?;
            let size = file.metadata().map_or(0, |m| m.len());
            // Templates are read by every render; the other files by few.
            let template = crate::chart::within_chart(&rel).starts_with("templates/");
            FileData::deferred(
                path,
                usize::try_from(size).unwrap_or(usize::MAX),
                template.then_some(file),
            )
        } else {
            std::fs::read(&path)
                .map_err(|err| unreadable(&path, err))?
                .into()
        };
        out.push(ChartFile { name: rel, data });
    }
    Ok(())
}
