//! Reading a chart folder on two threads. A helper lists the files
//! (`.helmignore` applied), opens those whose reading is deferred (all but
//! what the loader reads itself: see `chart::may_defer`), and reads and
//! parses the subcharts' values files, while this thread reads and parses
//! the chart's own `values.yaml`, the largest piece of work in loading most
//! charts (argo-cd's is 179 KB, kube-prometheus-stack's 207 KB).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gotmpl::Value;

use crate::chart::{ChartFile, FileData, may_defer, within_chart};
use crate::error::Error;
use crate::ignore::Rules;

/// Values files parsed while the other files were read, by their path from
/// the chart root. A parse error is kept, not returned: the chart loader
/// reports it only where it would have parsed the file itself.
pub type ParsedValues = HashMap<String, Result<Value, Error>>;

/// A file the listing found.
struct Listed {
    rel: String,
    path: PathBuf,
}

/// What the helper thread found: the files in listing order (the chart's
/// own `values.yaml` not read yet), the listing's own error, and the
/// subcharts' values parsed.
struct Found {
    files: Vec<(Listed, Option<Result<FileData, Error>>)>,
    listing: Result<(), Error>,
    parsed: ParsedValues,
}

/// The files of the chart in `root` (paths relative to it), in the order of
/// a sorted walk, and its values files already parsed. The first file that
/// cannot be read (or listed) in that order is the error.
pub fn read(root: &Path) -> Result<(Vec<ChartFile>, ParsedValues), Error> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(t) => Rules::parse(&t),
        Err(_) => Rules::parse(""),
    };
    let find = || list_and_read(root, &rules);
    // Read ahead of the listing; used only if the listing finds the file.
    let own_values = || {
        if rules.ignored("values.yaml", false) {
            return None;
        }
        let data = std::fs::read(root.join("values.yaml")).ok()?;
        let parsed = crate::yaml::parse_values(&text(&data));
        Some((data, parsed))
    };
    let (found, own_values) = std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("skiff-helm-load".into())
            .spawn_scoped(scope, find);
        let own_values = own_values();
        // Without a helper thread (or should it fail), this one does its work.
        let found = match helper.map(|h| h.join()) {
            Ok(Ok(found)) => found,
            _ => find(),
        };
        (found, own_values)
    });

    let Found {
        files: found,
        listing,
        mut parsed,
    } = found;
    let mut own_values = own_values;
    let mut files = Vec::with_capacity(found.len());
    for (l, data) in found {
        let data = match data {
            Some(d) => d?,
            None => match own_values.take() {
                Some((data, values)) => {
                    parsed.insert(l.rel.clone(), values);
                    data.into()
                }
                None => read_file(&l)?,
            },
        };
        files.push(ChartFile { name: l.rel, data });
    }
    // A listing error comes after the files listed before it.
    listing?;
    Ok((files, parsed))
}

/// The helper's work: lists the chart, reads (or opens) every file but the
/// chart's own `values.yaml` and parses the subcharts' values files.
fn list_and_read(root: &Path, rules: &Rules) -> Found {
    let mut listed = Vec::new();
    let listing = list(root, root, rules, &mut listed);
    let mut parsed = ParsedValues::new();
    let files = listed
        .into_iter()
        .map(|l| {
            if l.rel == "values.yaml" {
                return (l, None);
            }
            let data = read_file(&l);
            if let Ok(d) = &data
                && within_chart(&l.rel) == "values.yaml"
            {
                parsed.insert(l.rel.clone(), crate::yaml::parse_values(&text(d)));
            }
            (l, Some(data))
        })
        .collect();
    Found {
        files,
        listing,
        parsed,
    }
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

fn read_file(l: &Listed) -> Result<FileData, Error> {
    if may_defer(&l.rel) {
        // Opened now, so that a file helm could not read is refused at load.
        std::fs::File::open(&l.path).map_err(|e| unreadable(&l.path, e))?;
        Ok(FileData::deferred(l.path.clone()))
    } else {
        Ok(std::fs::read(&l.path)
            .map_err(|e| unreadable(&l.path, e))?
            .into())
    }
}

/// Lists the files under `dir` that `.helmignore` keeps, in sorted order,
/// following links as helm does.
fn list(root: &Path, dir: &Path, rules: &Rules, out: &mut Vec<Listed>) -> Result<(), Error> {
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
            list(root, &path, rules, out)?;
        } else {
            out.push(Listed { rel, path });
        }
    }
    Ok(())
}
