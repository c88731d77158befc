//! From rendered files to Helm's output: documents split on `---`, hooks kept
//! apart, manifests sorted by kind in install order, `# Source:` headers.

use std::collections::BTreeMap;

use crate::chart::{Chart, FileData};
use crate::error::Error;

/// One rendered document and the template it came from.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// `chart/templates/file.yaml` (or `chart/crds/file.yaml`).
    pub source: String,
    pub content: String,
    pub kind: String,
    /// Hook events (`pre-install`, `test`, ...); empty for plain manifests.
    pub hook_events: Vec<String>,
}

impl Manifest {
    pub fn is_test(&self) -> bool {
        self.hook_events
            .iter()
            .any(|e| e == "test" || e == "test-success")
    }
}

/// The result of a render, in Helm's order.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The chart's CRD files, read when they are asked for ([`Rendered::crds`]
    /// or printed): `helm template` prints them only with `--include-crds`.
    crds: Vec<CrdFile>,
    pub manifests: Vec<Manifest>,
    pub hooks: Vec<Manifest>,
}

/// A `crds/` file of the chart or of a subchart, not read yet.
#[derive(Debug, Clone)]
struct CrdFile {
    /// `chart/crds/file.yaml`, `chart/charts/sub/crds/file.yaml`.
    source: String,
    data: FileData,
}

/// How `helm template` prints a render.
#[derive(Debug, Clone, Default)]
pub struct PrintOptions {
    pub include_crds: bool,
    pub no_hooks: bool,
    pub skip_tests: bool,
    pub show_only: Vec<String>,
}

impl PrintOptions {
    /// Whether the hook `h` is printed (`--no-hooks`, `--skip-tests`).
    fn shows_hook(&self, h: &Manifest) -> bool {
        !(self.no_hooks || (self.skip_tests && h.is_test()))
    }
}

const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// Helm's install order of kinds: known kinds by their place in the list,
/// unknown kinds after them, alphabetically. The sync engine applies in it too.
pub fn kind_less(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let pa = INSTALL_ORDER.iter().position(|k| *k == a);
    let pb = INSTALL_ORDER.iter().position(|k| *k == b);
    match (pa, pb) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Helm's `SplitManifests`: documents separated by lines starting with `---`,
/// as slices of `text` (each document is one contiguous run of it).
pub fn split_documents(text: &str) -> Vec<&str> {
    let trimmed = text.trim_start();
    let mut docs = Vec::new();
    let mut start = 0;
    // Separator lines: the first line, or any line after a newline, starting with `---`.
    let first = trimmed.starts_with("---").then_some(0);
    let rest = memchr::memmem::find_iter(trimmed.as_bytes(), b"\n---").map(|i| i + 1);
    for line_start in first.into_iter().chain(rest) {
        if line_start > 0 {
            docs.push(&trimmed[start..line_start]);
        }
        let line_end = memchr::memchr(b'\n', &trimmed.as_bytes()[line_start..])
            .map_or(trimmed.len(), |i| line_start + i + 1);
        // The separator regex eats `---` and following blanks; the rest of the line stays.
        let after = &trimmed[line_start + 3..line_end];
        start = line_end - after.trim_start_matches([' ', '\t']).len();
    }
    docs.push(&trimmed[start..]);
    docs.retain(|d| !d.trim().is_empty());
    for d in &mut docs {
        *d = d.trim_start();
    }
    docs
}

pub struct Head {
    kind: String,
    hook: Option<String>,
}

/// The part of a manifest Helm looks at (its `SimpleHead`); the rest of the
/// document is only checked to be YAML, which is much cheaper than building it.
#[derive(serde::Deserialize, Default)]
struct SimpleHead {
    #[serde(default)]
    kind: Option<serde_json::Value>,
    #[serde(default)]
    metadata: Option<HeadMetadata>,
}

#[derive(serde::Deserialize, Default)]
struct HeadMetadata {
    #[serde(default)]
    annotations: Option<BTreeMap<String, serde_json::Value>>,
}

/// Reads what Helm reads of a document (kind, hook annotation); like Helm, a
/// document that is not YAML is an error. Documents in the plain subset the
/// scanner proves valid skip the full parse.
fn head(path: &str, doc: &str) -> Result<Head, Error> {
    if let crate::doc_scan::Scan::Valid { kind, hook } = crate::doc_scan::scan(doc) {
        return Ok(Head {
            kind: kind.to_string(),
            hook: hook.map(String::from),
        });
    }
    let (kind, hook) = full_head(doc).map_err(|e| {
        Error::Output(format!(
            "YAML parse error on {path}: error converting YAML to JSON: {e}"
        ))
    })?;
    Ok(Head { kind, hook })
}

/// The full parse of a document's head: kind (empty when absent or not a
/// string) and the hook annotation (a non-string value in its JSON form).
pub(crate) fn full_head(doc: &str) -> Result<(String, Option<String>), String> {
    let h: Option<SimpleHead> = crate::yaml::parse_as(doc)?;
    let h = h.unwrap_or_default();
    let kind = h
        .kind
        .as_ref()
        .and_then(|k| k.as_str())
        .unwrap_or("")
        .to_string();
    let hook = h.metadata.and_then(|m| m.annotations).and_then(|a| {
        a.get("helm.sh/hook").map(|v| {
            v.as_str()
                .map(String::from)
                .unwrap_or_else(|| v.to_string())
        })
    });
    Ok((kind, hook))
}

/// What [`scan`] found in a rendered file: each document's head and where
/// the document is in the file's text.
pub struct Scanned(Vec<(Head, std::ops::Range<usize>)>);

/// Splits a rendered file into documents and reads each one's head (the
/// costly part of sorting, done by the engine as each template finishes);
/// nothing for files Helm does not print.
pub fn scan(path: &str, content: &str) -> Result<Scanned, Error> {
    let base = path.rsplit('/').next().unwrap_or(path);
    if path.ends_with("NOTES.txt") || base.starts_with('_') || content.trim().is_empty() {
        return Ok(Scanned(Vec::new()));
    }
    let at = |doc: &str| doc.as_ptr() as usize - content.as_ptr() as usize;
    split_documents(content)
        .into_iter()
        .map(|doc| Ok((head(path, doc)?, at(doc)..at(doc) + doc.len())))
        .collect::<Result<_, Error>>()
        .map(Scanned)
}

/// Rendered files in Helm's order: hooks apart from manifests, each sorted
/// by kind; the first error in path order is the one Helm reports.
pub fn sort(
    chart: &Chart,
    files: BTreeMap<String, (String, Result<Scanned, Error>)>,
) -> Result<Rendered, Error> {
    let mut manifests = Vec::new();
    let mut hooks = Vec::new();
    for (path, (content, scanned)) in files {
        let Scanned(mut docs) = scanned?;
        // A file of one document keeps its buffer: the document is cut out in place.
        let owned: Vec<(Head, String)> = if docs.len() == 1 {
            let Some((h, range)) = docs.pop() else {
                continue;
            };
            let mut content = content;
            content.truncate(range.end);
            content.drain(..range.start);
            vec![(h, content)]
        } else {
            docs.into_iter()
                .map(|(h, range)| (h, content[range].to_string()))
                .collect()
        };
        for (h, doc) in owned {
            match h.hook {
                None => manifests.push(Manifest {
                    source: path.clone(),
                    content: doc,
                    kind: h.kind,
                    hook_events: vec![],
                }),
                Some(events) => {
                    let events: Vec<String> =
                        events.split(',').map(|e| e.trim().to_lowercase()).collect();
                    if events.iter().any(|e| !HOOK_EVENTS.contains(&e.as_str())) {
                        continue;
                    }
                    hooks.push(Manifest {
                        source: path.clone(),
                        content: doc,
                        kind: h.kind,
                        hook_events: events,
                    });
                }
            }
        }
    }
    manifests.sort_by(|a, b| kind_less(&a.kind, &b.kind));
    hooks.sort_by(|a, b| kind_less(&a.kind, &b.kind));
    let mut crds = Vec::new();
    collect_crds(chart, "", &mut crds);
    Ok(Rendered {
        crds,
        manifests,
        hooks,
    })
}

fn collect_crds(c: &Chart, parent: &str, out: &mut Vec<CrdFile>) {
    let full = if parent.is_empty() {
        c.name().to_string()
    } else {
        format!("{parent}/charts/{}", c.name())
    };
    for f in c.crd_files() {
        if !(f.name.ends_with(".yaml") || f.name.ends_with(".yml") || f.name.ends_with(".json")) {
            continue;
        }
        out.push(CrdFile {
            source: format!("{full}/{}", f.name),
            data: f.data.clone(),
        });
    }
    for d in &c.dependencies {
        collect_crds(d, &full, out);
    }
}

/// Appends a file's text, invalid UTF-8 replaced like Go's conversion of
/// bytes to text does. Valid text (nearly always) takes the fast check and
/// one copy: the lossy conversion walks megabytes of CRDs char by char.
fn text_of(out: &mut String, data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(data)),
    }
}

impl Rendered {
    /// The chart's CRDs (the `crds/` files of the chart and its subcharts),
    /// read now; a file that cannot be read by now (it could at load) is an
    /// error naming it.
    pub fn crds(&self) -> Result<Vec<Manifest>, Error> {
        self.crds
            .iter()
            .map(|f| {
                let mut content = String::new();
                f.data.with_bytes(|b| text_of(&mut content, b))?;
                Ok(Manifest {
                    source: f.source.clone(),
                    content,
                    kind: "CustomResourceDefinition".into(),
                    hook_events: vec![],
                })
            })
            .collect()
    }

    /// The text `helm template` prints.
    pub fn to_helm_output(&self, o: &PrintOptions) -> Result<String, Error> {
        let shown_hooks = || self.hooks.iter().filter(move |h| o.shows_hook(h));
        let size: usize = self
            .manifests
            .iter()
            .chain(shown_hooks())
            .map(|m| m.source.len() + m.content.len() + "---\n# Source: \n\n".len())
            .sum();
        let mut out = String::with_capacity(size + 1);
        if o.include_crds {
            // Each file is read straight into the output, not kept.
            for f in &self.crds {
                out.push_str("---\n# Source: ");
                out.push_str(&f.source);
                out.push('\n');
                f.data.with_bytes(|b| text_of(&mut out, b))?;
                out.push('\n');
            }
        }
        for m in &self.manifests {
            print_manifest(&mut out, m);
        }
        // Helm trims the joined manifests and ends them with one newline; they
        // start with `---`, so only the end needs trimming.
        out.truncate(out.trim_end().len());
        out.push('\n');
        for h in shown_hooks() {
            print_manifest(&mut out, h);
        }
        if o.show_only.is_empty() {
            return Ok(out);
        }
        let docs = split_documents(&out);
        let mut shown = String::new();
        for pattern in &o.show_only {
            let pattern = pattern.replace('\\', "/");
            let mut found = false;
            for d in &docs {
                let Some(line) = d.lines().find(|l| l.starts_with("# Source: ")) else {
                    continue;
                };
                let src = &line["# Source: ".len()..];
                let Some((_, rel)) = src.split_once('/') else {
                    continue;
                };
                if crate::ignore::glob_match(&pattern, rel) {
                    shown.push_str("---\n");
                    shown.push_str(d);
                    shown.push('\n');
                    found = true;
                }
            }
            if !found {
                return Err(Error::Output(format!(
                    "could not find template {pattern} in chart"
                )));
            }
        }
        Ok(shown)
    }
}

impl Rendered {
    /// Writes what [`Rendered::to_helm_output`] returns to `w`. Without
    /// `--include-crds` and `--show-only` (which can still fail) it is
    /// written piece by piece, never held whole: the full text is another
    /// copy of every manifest (2 MB for argo-cd).
    pub fn write_helm_output(
        &self,
        o: &PrintOptions,
        w: &mut dyn std::io::Write,
    ) -> Result<(), Error> {
        let io = |e: std::io::Error| Error::Output(format!("cannot write the output: {e}"));
        if o.include_crds || !o.show_only.is_empty() {
            return w.write_all(self.to_helm_output(o)?.as_bytes()).map_err(io);
        }
        let last = self.manifests.len().saturating_sub(1);
        for (i, m) in self.manifests.iter().enumerate() {
            // Helm trims the joined manifests at the end (see to_helm_output).
            let content = if i == last {
                m.content.trim_end()
            } else {
                m.content.as_str()
            };
            write!(w, "---\n# Source: {}\n{content}\n", m.source).map_err(io)?;
        }
        if self.manifests.is_empty() {
            w.write_all(b"\n").map_err(io)?;
        }
        for h in &self.hooks {
            if o.shows_hook(h) {
                write!(w, "---\n# Source: {}\n{}\n", h.source, h.content).map_err(io)?;
            }
        }
        w.flush().map_err(io)
    }
}

fn print_manifest(out: &mut String, m: &Manifest) {
    out.push_str("---\n# Source: ");
    out.push_str(&m.source);
    out.push('\n');
    out.push_str(&m.content);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::split_documents;

    /// The splitting as it was written first (a String per document), kept to
    /// check that the slicing one finds the same documents.
    fn reference(text: &str) -> Vec<String> {
        let mut docs = Vec::new();
        let mut cur = String::new();
        let mut first = true;
        for line in text.trim_start().split_inclusive('\n') {
            if let Some(after) = line.strip_prefix("---") {
                if !first || !cur.is_empty() {
                    docs.push(std::mem::take(&mut cur));
                }
                first = false;
                cur.push_str(after.trim_start_matches([' ', '\t']));
                continue;
            }
            first = false;
            cur.push_str(line);
        }
        docs.push(cur);
        docs.into_iter()
            .filter(|d| !d.trim().is_empty())
            .map(|d| d.trim_start().to_string())
            .collect()
    }

    #[test]
    fn documents_split_like_helm() {
        let cases = [
            "",
            "\n\n",
            "a: 1\n",
            "---\na: 1\n",
            "\n  \n---\na: 1\n---\nb: 2",
            "a: 1\n---\n---\n\n---   c: 3\n---\t\td: 4\n",
            "---x\ny\n--- \n  \n---\n",
            "a: |\n  ---\n---\nb: 1\n\n\n",
            "# Source: x\n---\n# only comments\n",
            "a\r\n---\r\nb\r\n",
            "---",
            "a\n---",
            "a\n--",
            "a\n----\n-- -\n --- x\n---\n",
            "---\n---\n---\n",
        ];
        for text in cases {
            let got: Vec<String> = split_documents(text)
                .into_iter()
                .map(String::from)
                .collect();
            assert_eq!(got, reference(text), "{text:?}");
        }
    }
}
