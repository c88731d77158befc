//! Loading a chart: a folder or a `.tgz`, its `Chart.yaml`, values, templates,
//! other files and the subcharts vendored under `charts/`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use gotmpl::Value;

use crate::chart_dir::text;
use crate::error::Error;
use crate::ignore::Rules;
use crate::yaml;

/// Archives larger than this (uncompressed) are refused rather than read.
const MAX_ARCHIVE_BYTES: u64 = 256 << 20;

/// One file of a chart, with its path relative to the chart root.
#[derive(Debug, Clone)]
pub struct ChartFile {
    pub name: String,
    pub data: FileData,
}

/// A chart file's bytes, shared: the render clones the chart (aliases,
/// dependency pruning), and a clone must not copy megabytes of files.
///
/// The files a render may never look at (`crds/`, and the files only
/// `.Files` reads) of a chart read from a folder are only opened at load, so
/// an unreadable file is still refused there, naming it, and read when they
/// are used: CRDs when they are printed or asked for ([`crate::Rendered::crds`]),
/// other files when a template reads them. A chart refused before its render
/// (missing dependencies, bad values) reads none of them. Templates stay
/// open from load until read (up to a limit, see [`Kept`]), so one removed
/// in between still renders, as in helm.
#[derive(Clone)]
pub struct FileData(Arc<Content>);

struct Content {
    bytes: OnceLock<Vec<u8>>,
    /// Where to read `bytes` from when they were not read at load.
    deferred: Option<PathBuf>,
    /// The file as opened at load, for the first read (see [`Kept`]).
    opened: std::sync::Mutex<Option<Kept>>,
    /// The size of a deferred file at load.
    size: usize,
    /// The file read as values (`values.yaml`) or as a schema
    /// (`values.schema.json`), once: see [`FileData::values`].
    values: OnceLock<Result<Value, Error>>,
    schema: OnceLock<Result<Arc<serde_json::Value>, String>>,
}

/// A template file opened at load and kept open until read: opening it
/// again to read it (and closing it twice) were a third of the time it
/// took to read a chart's templates (kube-prometheus-stack: 220 files). At
/// most [`Kept::MAX`] are held at once in the process, so that charts with
/// many templates, or many charts rendered at once, cannot exhaust the
/// file descriptors; the others are opened again when read.
struct Kept(std::fs::File);

static KEPT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Kept {
    const MAX: usize = 256;

    fn new(file: std::fs::File) -> Option<Kept> {
        use std::sync::atomic::Ordering;
        if KEPT.fetch_add(1, Ordering::Relaxed) < Self::MAX {
            Some(Kept(file))
        } else {
            KEPT.fetch_sub(1, Ordering::Relaxed);
            None
        }
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        KEPT.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl FileData {
    /// A file read when first used; `opened`, the file as opened at load,
    /// is kept for that read when it is a template.
    pub(crate) fn deferred(path: PathBuf, size: usize, opened: Option<std::fs::File>) -> Self {
        FileData(Arc::new(Content {
            bytes: OnceLock::new(),
            deferred: Some(path),
            opened: std::sync::Mutex::new(opened.and_then(Kept::new)),
            size,
            values: OnceLock::new(),
            schema: OnceLock::new(),
        }))
    }

    /// The file read as a values file, read once. The walk of a chart
    /// folder reads the values files as it meets them, on the thread that
    /// read them, while the other walks on (see `chart_dir::open`): read
    /// after the walk, kube-prometheus-stack's 200 KB took a millisecond
    /// with a core idle.
    pub(crate) fn values(&self) -> Result<Value, Error> {
        self.0
            .values
            .get_or_init(|| yaml::parse_values(&text(self)))
            .clone()
    }

    /// The file read as a JSON schema, once; made early as
    /// [`FileData::values`] is, and kept for the next render.
    pub(crate) fn schema(&self) -> Result<Arc<serde_json::Value>, String> {
        self.0
            .schema
            .get_or_init(|| {
                serde_json::from_slice(self)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// Whether the file was read as values, and as a schema, yet.
    #[cfg(test)]
    fn made(&self) -> (bool, bool) {
        (self.0.values.get().is_some(), self.0.schema.get().is_some())
    }

    /// The size in bytes: as read, or as found at load when not read yet
    /// (the render plans its threads by it before reading).
    pub(crate) fn size(&self) -> usize {
        self.0.bytes.get().map_or(self.0.size, Vec::len)
    }

    /// Reads a deferred file now and keeps its bytes; an error names the file.
    pub(crate) fn read(&self) -> Result<&[u8], Error> {
        if let Some(b) = self.0.bytes.get() {
            return Ok(b);
        }
        let data = self.read_from_disk()?;
        Ok(self.0.bytes.get_or_init(|| data))
    }

    /// The bytes, without keeping a deferred file's bytes once `use_bytes`
    /// is done with them: for callers that keep what they make of them (the
    /// text of `.Files`, the printed CRDs) instead.
    pub(crate) fn with_bytes<R>(&self, use_bytes: impl FnOnce(&[u8]) -> R) -> Result<R, Error> {
        match self.0.bytes.get() {
            Some(b) => Ok(use_bytes(b)),
            None => Ok(use_bytes(&self.read_from_disk()?)),
        }
    }

    fn read_from_disk(&self) -> Result<Vec<u8>, Error> {
        let Some(path) = &self.0.deferred else {
            return Ok(Vec::new());
        };
        let unreadable =
            |e: std::io::Error| Error::Chart(format!("unable to read {}: {e}", path.display()));
        let opened = self.0.opened.lock().ok().and_then(|mut k| k.take());
        match opened {
            Some(mut kept) => read_all(&mut kept.0, self.0.size).map_err(unreadable),
            None => std::fs::read(path).map_err(unreadable),
        }
    }
}

/// Reads `file` to its end, in one read (and one more to see the end) when
/// it still has the `size` it had at load. `File::read_to_end` first asks
/// the file for its size and position, two more system calls per template
/// (450 of kube-prometheus-stack's 2,700); without them (through `take`)
/// it reads in chunks growing from 8 KiB.
fn read_all(file: &mut std::fs::File, size: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; size.saturating_add(1)];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            bytes.resize(len * 2, 0);
        }
        match file.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(len);
    Ok(bytes)
}

impl From<Vec<u8>> for FileData {
    fn from(v: Vec<u8>) -> Self {
        FileData(Arc::new(Content {
            bytes: OnceLock::from(v),
            deferred: None,
            opened: std::sync::Mutex::new(None),
            size: 0,
            values: OnceLock::new(),
            schema: OnceLock::new(),
        }))
    }
}

impl From<&[u8]> for FileData {
    fn from(v: &[u8]) -> Self {
        v.to_vec().into()
    }
}

impl std::ops::Deref for FileData {
    type Target = [u8];

    /// The bytes. A deferred file that cannot be read by now (it was readable
    /// at load) reads as empty here; [`Chart::read_deferred`] reports it.
    fn deref(&self) -> &[u8] {
        self.read().unwrap_or(&[])
    }
}

impl std::fmt::Debug for FileData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.bytes.get() {
            Some(b) => write!(f, "{} bytes", b.len()),
            None => write!(f, "not read yet"),
        }
    }
}

/// A dependency entry of `Chart.yaml` (or v1 `requirements.yaml`).
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub alias: String,
    pub import_values: Vec<serde_json::Value>,
    pub raw: serde_json::Map<String, serde_json::Value>,
}

/// The parts of `Chart.yaml` the renderer needs, plus the whole document for
/// `.Chart`.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub api_version: String,
    pub name: String,
    pub version: String,
    pub app_version: String,
    pub kube_version: String,
    pub chart_type: String,
    pub dependencies: Vec<Dependency>,
    pub raw: serde_json::Map<String, serde_json::Value>,
}

/// A loaded chart and its subcharts.
#[derive(Debug, Clone)]
pub struct Chart {
    pub metadata: Metadata,
    pub values: Value,
    /// `values.schema.json`.
    pub schema: Option<FileData>,
    pub templates: Vec<ChartFile>,
    pub files: Vec<ChartFile>,
    pub dependencies: Vec<Chart>,
}

impl Chart {
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// The `crds/` files, as `helm template --include-crds` prints them.
    pub fn crd_files(&self) -> Vec<&ChartFile> {
        self.files
            .iter()
            .filter(|f| f.name.starts_with("crds/"))
            .collect()
    }

    /// Reads the files whose reading was deferred at load, in this chart and
    /// its subcharts; the error names the first file that cannot be read.
    pub fn read_deferred(&self) -> Result<(), Error> {
        for f in self.templates.iter().chain(&self.files) {
            f.data.read()?;
        }
        self.dependencies.iter().try_for_each(Chart::read_deferred)
    }

    /// Reads the templates of this chart and its subcharts (deferred at
    /// load, like every file the loader does not read itself); the error
    /// names the first one that cannot be read.
    pub fn read_templates(&self) -> Result<(), Error> {
        for t in &self.templates {
            t.data.read()?;
        }
        self.dependencies.iter().try_for_each(Chart::read_templates)
    }

    /// The size of the templates of this chart and its subcharts.
    pub(crate) fn template_bytes(&self) -> usize {
        let own: usize = self.templates.iter().map(|t| t.data.size()).sum();
        own + self
            .dependencies
            .iter()
            .map(Chart::template_bytes)
            .sum::<usize>()
    }
}

/// Whether the loader may defer reading a file: any file but those it reads
/// itself (`Chart.yaml`, values, schema, v1 requirements, subchart
/// archives). A chart refused for missing dependencies then reads no
/// template (the templates of others are read while their values are
/// checked); CRDs are printed only with
/// `--include-crds` and are most of the bytes of the charts that ship them
/// (kube-prometheus-stack: 4.4 of 6.5 MB); other files are read by few
/// templates (READMEs, dashboards, scripts).
pub(crate) fn may_defer(rel: &str) -> bool {
    let local = within_chart(rel);
    let read_by_loader = matches!(
        local,
        "Chart.yaml" | "values.yaml" | "values.schema.json" | "requirements.yaml"
    ) || (local.starts_with("charts/")
        && (local.ends_with(".tgz") || local.ends_with(".tar.gz")));
    !read_by_loader
}

/// The path of a file inside the chart it belongs to: `rel` without the
/// `charts/<name>/` of the subcharts it is in, at any depth.
pub(crate) fn within_chart(rel: &str) -> &str {
    let mut rest = rel;
    while let Some((_, inner)) = rest.strip_prefix("charts/").and_then(|r| r.split_once('/')) {
        rest = inner;
    }
    rest
}

pub fn load(path: &Path) -> Result<Chart, Error> {
    if path.is_dir() {
        from_files(crate::chart_dir::read(path)?)
    } else if path.is_file() {
        let data = std::fs::read(path)
            .map_err(|e| Error::Chart(format!("unable to read {}: {e}", path.display())))?;
        from_files(read_archive(&data)?)
    } else {
        Err(Error::Chart(format!(
            "path {:?} not found",
            path.display().to_string()
        )))
    }
}

/// Reads a chart archive: every entry must be a regular file below one top
/// folder; links, absolute paths and `..` are refused.
fn read_archive(data: &[u8]) -> Result<Vec<ChartFile>, Error> {
    let gz = flate2::read::GzDecoder::new(data);
    let mut ar = tar::Archive::new(gz.take(MAX_ARCHIVE_BYTES));
    let mut files = Vec::new();
    let entries = ar
        .entries()
        .map_err(|e| Error::Chart(format!("unable to read chart archive: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| Error::Chart(format!("unable to read chart archive: {e}")))?;
        let kind = entry.header().entry_type();
        let name = entry
            .path()
            .map_err(|e| Error::Chart(format!("unable to read chart archive: {e}")))?
            .to_string_lossy()
            .replace('\\', "/");
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        if !kind.is_file() {
            return Err(Error::Chart(format!(
                "chart archive entry {name:?} is not a regular file"
            )));
        }
        if name.starts_with('/') || name.split('/').any(|c| c == "..") {
            return Err(Error::Chart(format!(
                "chart illegally contains content outside the base directory: {name:?}"
            )));
        }
        // Drop the top folder (the chart name).
        let rel = match name.split_once('/') {
            Some((_, rest)) => rest.to_string(),
            None => continue,
        };
        let mut buf = Vec::new();
        entry
            .read_to_end(&mut buf)
            .map_err(|e| Error::Chart(format!("unable to read chart archive: {e}")))?;
        files.push(ChartFile {
            name: rel,
            data: buf.into(),
        });
    }
    let rules = files
        .iter()
        .find(|f| f.name == ".helmignore")
        .map(|f| Rules::parse(&String::from_utf8_lossy(&f.data)))
        .unwrap_or_else(|| Rules::parse(""));
    files.retain(|f| !ignored_with_parents(&rules, &f.name));
    Ok(files)
}

fn ignored_with_parents(rules: &Rules, name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    for i in 1..parts.len() {
        if rules.ignored(&parts[..i].join("/"), true) {
            return true;
        }
    }
    rules.ignored(name, false)
}

fn str_field(m: &serde_json::Map<String, serde_json::Value>, k: &str) -> String {
    match m.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn parse_dependencies(v: Option<&serde_json::Value>) -> Vec<Dependency> {
    let Some(serde_json::Value::Array(a)) = v else {
        return Vec::new();
    };
    a.iter()
        .filter_map(|d| d.as_object())
        .map(|d| Dependency {
            name: str_field(d, "name"),
            version: str_field(d, "version"),
            repository: str_field(d, "repository"),
            condition: str_field(d, "condition"),
            tags: match d.get("tags") {
                Some(serde_json::Value::Array(t)) => t
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                _ => Vec::new(),
            },
            alias: str_field(d, "alias"),
            import_values: match d.get("import-values") {
                Some(serde_json::Value::Array(t)) => t.clone(),
                _ => Vec::new(),
            },
            raw: d.clone(),
        })
        .collect()
}

pub fn from_files(files: Vec<ChartFile>) -> Result<Chart, Error> {
    let chart_yaml = files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .ok_or_else(|| Error::Chart("Chart.yaml file is missing".into()))?;
    let raw = match yaml::parse_json(&text(&chart_yaml.data))
        .map_err(|e| Error::Chart(format!("cannot load Chart.yaml: {e}")))?
    {
        serde_json::Value::Object(m) => m,
        _ => return Err(Error::Chart("cannot load Chart.yaml: not a mapping".into())),
    };
    let mut metadata = Metadata {
        api_version: str_field(&raw, "apiVersion"),
        name: str_field(&raw, "name"),
        version: str_field(&raw, "version"),
        app_version: str_field(&raw, "appVersion"),
        kube_version: str_field(&raw, "kubeVersion"),
        chart_type: str_field(&raw, "type"),
        dependencies: parse_dependencies(raw.get("dependencies")),
        raw,
    };
    if metadata.name.is_empty() {
        return Err(Error::Chart(
            "validation: chart.metadata.name is required".into(),
        ));
    }
    if metadata.api_version.is_empty() {
        metadata.api_version = "v1".into();
    }
    let mut values = yaml::empty_map();
    let mut schema = None;
    let mut templates = Vec::new();
    let mut rest = Vec::new();
    let mut sub_files: std::collections::BTreeMap<String, Vec<ChartFile>> = Default::default();
    let mut sub_archives = Vec::new();
    for f in files {
        if f.name == "Chart.yaml" {
            continue;
        } else if f.name == "values.yaml" {
            values = f
                .data
                .values()
                .map_err(|e| Error::Chart(format!("cannot load values.yaml: {e}")))?;
        } else if f.name == "values.schema.json" {
            schema = Some(f.data);
        } else if f.name == "requirements.yaml" && metadata.api_version == "v1" {
            if let Ok(serde_json::Value::Object(m)) = yaml::parse_json(&text(&f.data)) {
                metadata.dependencies = parse_dependencies(m.get("dependencies"));
            }
            rest.push(f);
        } else if let Some(t) = f.name.strip_prefix("templates/") {
            let _ = t;
            templates.push(f);
        } else if let Some(sub) = f.name.strip_prefix("charts/") {
            match sub.split_once('/') {
                Some((dir, _)) => {
                    let dir = dir.to_string();
                    // The name loses its `charts/<dir>/` prefix in place.
                    let mut f = f;
                    f.name.drain(.."charts/".len() + dir.len() + 1);
                    sub_files.entry(dir).or_default().push(f);
                }
                None if sub.ends_with(".tgz") || sub.ends_with(".tar.gz") => sub_archives.push(f),
                None => {}
            }
        } else {
            rest.push(f);
        }
    }
    let mut dependencies = Vec::new();
    for (dir, files) in sub_files {
        if dir.starts_with('.') || dir.starts_with('_') {
            continue;
        }
        if !files.iter().any(|f| f.name == "Chart.yaml") {
            continue;
        }
        let sub = from_files(files).map_err(|e| {
            Error::Chart(format!(
                "error unpacking subchart {dir} in {}: {e}",
                metadata.name
            ))
        })?;
        dependencies.push(sub);
    }
    for a in sub_archives {
        let sub = from_files(read_archive(&a.data)?)?;
        dependencies.push(sub);
    }
    Ok(Chart {
        metadata,
        values,
        schema,
        templates,
        files: rest,
        dependencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("/etc/passwd").expect("link name");
            }
            // Bypass the builder's own path checks to write hostile names.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_cksum();
            b.append(&h, *data).expect("append");
        }
        b.into_inner().expect("tar").finish().expect("gzip")
    }

    const CHART: &[u8] = b"apiVersion: v2\nname: c\nversion: 0.1.0\n";

    #[test]
    fn templates_past_the_open_file_cap_read_all_the_same() {
        let dir = std::env::temp_dir().join(format!("skiff-chart-kept-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
        std::fs::write(dir.join("Chart.yaml"), CHART).expect("write");
        let count = Kept::MAX + 20;
        for i in 0..count {
            let text = format!("n: {i}\n");
            std::fs::write(dir.join(format!("templates/t{i:04}.yaml")), text).expect("write");
        }
        let c = {
            // Not while another test fills the cap on purpose.
            let _only = KEPT_TESTS.lock().unwrap_or_else(|e| e.into_inner());
            let c = load(&dir).expect("load");
            // Other tests may hold some too; never more than the cap.
            assert!(KEPT.load(std::sync::atomic::Ordering::Relaxed) <= Kept::MAX);
            c
        };
        for t in &c.templates {
            let i: usize = t.name["templates/t".len()..][..4].parse().expect("index");
            assert_eq!(t.data.read().expect("read"), format!("n: {i}\n").as_bytes());
        }
        assert_eq!(c.templates.len(), count);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn archives_load_below_their_top_folder() {
        let a = archive(&[
            ("c/Chart.yaml", tar::EntryType::Regular, CHART),
            ("c/templates/x.yaml", tar::EntryType::Regular, b"a: 1\n"),
        ]);
        let c = from_files(read_archive(&a).expect("read")).expect("chart");
        assert_eq!(c.name(), "c");
        assert_eq!(c.templates[0].name, "templates/x.yaml");
    }

    fn chart_dir(tag: &str, chart_yaml: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("skiff-chart-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in [
            ("Chart.yaml", chart_yaml),
            ("templates/cm.yaml", "kind: ConfigMap\n"),
            ("crds/a.yaml", "kind: CustomResourceDefinition\n"),
            (
                "charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
            ),
            ("charts/sub/crds/b.yaml", "kind: CustomResourceDefinition\n"),
            ("charts/sub/templates/crds/c.yaml", "kind: Secret\n"),
        ] {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        dir
    }

    #[test]
    fn the_walk_reads_values_and_schemas_as_it_meets_them() {
        let dir = chart_dir("made", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        std::fs::write(dir.join("values.yaml"), "a: 1\n").expect("write");
        std::fs::write(dir.join("values.schema.json"), "{\"type\": ").expect("write");
        std::fs::write(dir.join("charts/sub/values.yaml"), "b: [\n").expect("write");
        let files = crate::chart_dir::read(&dir).expect("walk");
        let made = |name: &str| {
            let f = files.iter().find(|f| f.name == name).expect(name);
            f.data.made()
        };
        assert_eq!(made("values.yaml"), (true, false));
        assert_eq!(made("values.schema.json"), (false, true));
        // Read whatever they hold: the subchart's values do not parse.
        assert_eq!(made("charts/sub/values.yaml"), (true, false));
        assert_eq!(made("templates/cm.yaml"), (false, false));
        // Their errors are still the loader's and the render's, in order.
        let err = from_files(files)
            .expect_err("bad subchart values")
            .to_string();
        assert!(
            err.starts_with(
                "error unpacking subchart sub in c: cannot load values.yaml: yaml: line"
            ),
            "{err}"
        );
        std::fs::write(dir.join("charts/sub/values.yaml"), "b: 2\n").expect("write");
        let chart = load(&dir).expect("chart");
        let err = render(&chart).expect_err("bad schema").to_string();
        assert!(
            err.starts_with("c: invalid values.schema.json: EOF while parsing"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn render(chart: &Chart) -> Result<crate::Rendered, Error> {
        crate::render(
            chart,
            &crate::strvals::empty(),
            &crate::ReleaseOptions::default(),
            &crate::Capabilities::default(),
        )
    }

    /// Held by the tests that need templates kept open, or none kept.
    static KEPT_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// Runs `f` as if the process held as many opened templates as it may,
    /// so that a load keeps none open (other tests then read theirs again
    /// by path, which changes nothing for them).
    fn without_kept_files<R>(f: impl FnOnce() -> R) -> R {
        use std::sync::atomic::Ordering;
        let _only = KEPT_TESTS.lock().unwrap_or_else(|e| e.into_inner());
        KEPT.fetch_add(Kept::MAX, Ordering::Relaxed);
        let r = f();
        KEPT.fetch_sub(Kept::MAX, Ordering::Relaxed);
        r
    }

    /// Loads the chart in `dir` (keeping no template open), removes `gone`
    /// (paths in it), and returns the chart and the render's error.
    fn error_once_removed(dir: &Path, gone: &[&str]) -> (Chart, String) {
        let chart = without_kept_files(|| load(dir)).expect("load");
        for path in gone {
            std::fs::remove_file(dir.join(path)).expect("rm");
        }
        let err = render(&chart).expect_err("files are gone").to_string();
        (chart, err)
    }

    #[test]
    fn only_what_the_loader_reads_is_read_at_load() {
        for eager in [
            "Chart.yaml",
            "values.yaml",
            "values.schema.json",
            "requirements.yaml",
            "charts/sub/values.yaml",
            "charts/sub.tgz",
            "charts/a/charts/b/Chart.yaml",
            "charts/crds/values.schema.json",
        ] {
            assert!(!may_defer(eager), "{eager}");
        }
        for deferred in [
            "crds/a.yaml",
            "charts/sub/crds/b.yaml",
            "charts/a/charts/b/crds/c.yaml",
            "files/crds/x.yaml",
            "README.md",
            "charts/sub/files/x.json",
            "charts/README.md",
            "x/values.yaml",
            "templates/crds/x.yaml",
            "charts/a/charts/b/templates/x.yaml",
            "charts/crds/templates/x.yaml",
        ] {
            assert!(may_defer(deferred), "{deferred}");
        }
    }

    #[test]
    fn crds_are_read_when_asked_for_and_a_vanished_one_is_named() {
        let dir = chart_dir("deferred", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        let chart = load(&dir).expect("load");
        let sub = &chart.dependencies[0];
        assert_eq!(format!("{:?}", sub.templates[0].data), "not read yet");
        let rendered = render(&chart).expect("render");
        assert_eq!(format!("{:?}", sub.templates[0].data), "13 bytes");
        // Neither the render nor a clone of the chart read them.
        let clone = chart.clone();
        assert_eq!(format!("{:?}", chart.files[0].data), "not read yet");
        assert_eq!(
            format!("{:?}", clone.dependencies[0].files[0].data),
            "not read yet"
        );
        let crds = rendered.crds().expect("crds");
        let found: Vec<(&str, &str)> = crds
            .iter()
            .map(|m| (m.source.as_str(), m.content.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("c/crds/a.yaml", "kind: CustomResourceDefinition\n"),
                (
                    "c/charts/sub/crds/b.yaml",
                    "kind: CustomResourceDefinition\n"
                ),
            ]
        );
        let print = crate::PrintOptions {
            include_crds: true,
            ..Default::default()
        };
        let out = rendered.to_helm_output(&print).expect("print");
        assert!(
            out.starts_with("---\n# Source: c/crds/a.yaml\nkind: CustomResourceDefinition\n\n---\n# Source: c/charts/sub/crds/b.yaml\n"),
            "{out}"
        );

        std::fs::remove_file(dir.join("charts/sub/crds/b.yaml")).expect("rm");
        let err = rendered.crds().expect_err("the file is gone").to_string();
        assert!(err.contains("charts/sub/crds/b.yaml"), "{err}");
        let err = rendered
            .to_helm_output(&print)
            .expect_err("gone")
            .to_string();
        assert!(err.contains("charts/sub/crds/b.yaml"), "{err}");
        // Without --include-crds nothing reads them.
        rendered
            .to_helm_output(&crate::PrintOptions::default())
            .expect("print without CRDs");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_are_read_when_a_template_reads_them() {
        let dir = chart_dir("files", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        std::fs::write(
            dir.join("templates/cm.yaml"),
            "kind: ConfigMap\ndata:\n  x: {{ .Files.Get \"files/x.txt\" | quote }}\n",
        )
        .expect("write");
        std::fs::create_dir_all(dir.join("files")).expect("mkdir");
        std::fs::write(dir.join("files/x.txt"), "hello").expect("write");
        std::fs::write(dir.join("README.md"), "unread").expect("write");
        let chart = load(&dir).expect("load");
        let out = render(&chart)
            .expect("render")
            .to_helm_output(&crate::PrintOptions::default())
            .expect("print");
        assert!(out.contains("  x: \"hello\"\n"), "{out}");
        let readme = chart.files.iter().find(|f| f.name == "README.md");
        assert_eq!(
            format!("{:?}", readme.expect("README.md").data),
            "not read yet"
        );

        let (_, err) = error_once_removed(&dir, &["files/x.txt"]);
        assert!(err.contains("files/x.txt"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_chart_refused_for_missing_dependencies_is_refused_before_its_files_are_read() {
        let dir = chart_dir(
            "refused",
            "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: gone\n  version: 1.0.0\n  repository: https://example.com\n",
        );
        let (chart, err) = error_once_removed(&dir, &["crds/a.yaml", "templates/cm.yaml"]);
        assert!(err.contains("gone"), "{err}");
        assert_eq!(format!("{:?}", chart.files[0].data), "not read yet");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_crd_file_that_cannot_be_opened_is_refused_at_load() {
        let dir = chart_dir("dangling", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("crds/z.yaml")).expect("link");
        let err = load(&dir).expect_err("dangling link").to_string();
        assert!(err.contains("crds/z.yaml"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_template_kept_open_since_load_renders_though_removed_since() {
        // As in helm, which reads every file at load.
        let dir = chart_dir("kept-open", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        let chart = {
            let _only = KEPT_TESTS.lock().unwrap_or_else(|e| e.into_inner());
            load(&dir).expect("load")
        };
        std::fs::remove_file(dir.join("templates/cm.yaml")).expect("rm");
        let out = render(&chart)
            .expect("render")
            .to_helm_output(&crate::PrintOptions::default())
            .expect("output");
        assert!(out.contains("kind: ConfigMap"), "{out}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_template_that_vanished_since_load_is_named_by_the_render() {
        let dir = chart_dir("vanished", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        let (_, err) = error_once_removed(&dir, &["charts/sub/templates/crds/c.yaml"]);
        assert!(err.contains("charts/sub/templates/crds/c.yaml"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_vanished_template_is_reported_after_the_values_checks_and_before_parse_errors() {
        // Templates are read while the values are checked: the checks'
        // error still comes first, as in helm, which checks before it renders.
        let dir = chart_dir(
            "read-order",
            "apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: \">=9.0.0\"\n",
        );
        let (_, err) = error_once_removed(&dir, &["templates/cm.yaml"]);
        assert!(err.starts_with("chart requires kubeVersion"), "{err}");
        // Then the unreadable template, before another template's parse error;
        // a disabled subchart's templates are read too (helm reads every
        // file at load).
        std::fs::write(
            dir.join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n  condition: sub.enabled\n",
        )
        .expect("write");
        std::fs::write(dir.join("values.yaml"), "sub:\n  enabled: false\n").expect("write");
        std::fs::write(dir.join("templates/cm.yaml"), "{{ if }}\n").expect("write");
        let (_, err) = error_once_removed(&dir, &["charts/sub/templates/crds/c.yaml"]);
        assert!(err.contains("charts/sub/templates/crds/c.yaml"), "{err}");
        let err = render(&load(&dir).expect("load"))
            .expect_err("parse error")
            .to_string();
        assert!(err.contains("c/templates/cm.yaml"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_first_unreadable_file_in_walk_order_is_the_error() {
        let dir = chart_dir("first-error", "apiVersion: v2\nname: c\nversion: 0.1.0\n");
        std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("values.yaml")).expect("link");
        std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("crds/z.yaml")).expect("link");
        std::fs::write(dir.join("charts/sub/values.yaml"), "a: [").expect("write");
        let err = load(&dir).expect_err("dangling links").to_string();
        assert!(err.contains("crds/z.yaml"), "{err}");
        std::fs::remove_file(dir.join("crds/z.yaml")).expect("rm");
        let err = load(&dir).expect_err("dangling link").to_string();
        assert!(
            err.ends_with("values.yaml: No such file or directory (os error 2)"),
            "{err}"
        );
        // A bad values file is reported where the loader reads it: the
        // subchart's, after the chart's own.
        std::fs::remove_file(dir.join("values.yaml")).expect("rm");
        std::fs::write(dir.join("values.yaml"), "x: 1\n").expect("write");
        let err = load(&dir).expect_err("bad subchart values").to_string();
        assert!(
            err.starts_with(
                "error unpacking subchart sub in c: cannot load values.yaml: yaml: line"
            ),
            "{err}"
        );
        std::fs::write(dir.join("values.yaml"), "x: [").expect("write");
        let err = load(&dir).expect_err("bad values").to_string();
        assert!(
            err.starts_with("cannot load values.yaml: yaml: line"),
            "{err}"
        );
        std::fs::write(dir.join("charts/sub/values.yaml"), "b: 2\n").expect("write");
        std::fs::write(dir.join("values.yaml"), "sub:\n  a: 1\n").expect("write");
        let chart = load(&dir).expect("load");
        let sub = &chart.dependencies[0];
        assert_eq!(
            format!("{:?} {:?}", chart.values, sub.values),
            format!(
                "{:?} {:?}",
                crate::parse_values("sub:\n  a: 1\n").expect("values"),
                crate::parse_values("b: 2\n").expect("values")
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn archives_with_links_or_parent_paths_are_refused() {
        let link = archive(&[
            ("c/Chart.yaml", tar::EntryType::Regular, CHART),
            ("c/templates/l.yaml", tar::EntryType::Symlink, b""),
        ]);
        assert!(read_archive(&link).is_err());
        let parent = archive(&[
            ("c/Chart.yaml", tar::EntryType::Regular, CHART),
            ("c/../../evil", tar::EntryType::Regular, b"x"),
        ]);
        assert!(read_archive(&parent).is_err());
        let absolute = archive(&[("/c/Chart.yaml", tar::EntryType::Regular, CHART)]);
        assert!(read_archive(&absolute).is_err());
    }
}
