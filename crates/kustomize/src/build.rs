//! The build: accumulate a kustomization's resources (recursively), generate,
//! transform, hash generated names, fix name references, sort, print.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fieldspec::FieldSpec;
use crate::generate::{self, Kind, content_hash};
use crate::kustomization::Kustomization;
use crate::loader::{Entry, Loader};
use crate::patch::{self, Selector};
use crate::resource::{Gvk, Resource};
use crate::smp;
use crate::transform;
use crate::value::Value;
use crate::yaml::{self, parse_documents, parse_documents_yaml11};

/// What a build prints: the manifests (stdout) and kustomize's warnings
/// about deprecated fields (stderr, one line each).
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub yaml: String,
    pub warnings: Vec<String>,
}

/// Builds the kustomization in `dir` and returns what `kustomize build dir`
/// prints on stdout.
pub fn build(dir: &Path) -> Result<String> {
    build_with_warnings(dir).map(|o| o.yaml)
}

/// The kustomizations being loaded (to find cycles) and the warnings so far.
#[derive(Default)]
struct Ctx {
    stack: Vec<PathBuf>,
    warnings: Vec<String>,
    /// No kustomization may live outside this folder (canonical), if set.
    boundary: Option<PathBuf>,
}

/// Like [`build`], but every kustomization it reaches (resources, bases,
/// components) must lie in or below `boundary`, e.g. the Git checkout: a
/// `../../..` that climbs out of the repository is refused. kustomize itself
/// allows such directories; an agent rendering untrusted commits must not.
pub fn build_within(dir: &Path, boundary: &Path) -> Result<String> {
    let boundary = boundary
        .canonicalize()
        .map_err(|e| Error::in_file(boundary, format!("cannot open the repository folder: {e}")))?;
    let ctx = Ctx {
        boundary: Some(boundary),
        ..Ctx::default()
    };
    build_in(dir, ctx).map(|o| o.yaml)
}

/// Like [`build`], also returning the deprecation warnings kustomize prints.
pub fn build_with_warnings(dir: &Path) -> Result<Output> {
    build_in(dir, Ctx::default())
}

fn build_in(dir: &Path, mut ctx: Ctx) -> Result<Output> {
    let (resources, sort) = accumulate(dir, None, &mut ctx, false)?;
    let mut resources = resources;
    for r in resources.iter_mut().filter(|r| r.needs_hash) {
        let name = format!("{}-{}", r.name(), content_hash(&r.value));
        r.set_name(name);
    }
    crate::nameref::fix(&mut resources);
    for r in &mut resources {
        stringify_annotations(&mut r.value);
    }
    if sort {
        resources.sort_by_key(legacy_key);
    }
    let mut out = String::new();
    for (i, r) in resources.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if let Value::Float(f) = find_non_finite(&r.value).unwrap_or(Value::Null) {
            return Err(Error::in_file(
                &r.source,
                format!("json: unsupported value: {f}"),
            ));
        }
        out.push_str(&yaml::to_string(&r.value));
    }
    Ok(Output {
        yaml: out,
        warnings: ctx.warnings,
    })
}

/// kustomize rewrites every object's annotations through a string map, so
/// `n: 1` comes out as `"n": "1"`. (It keeps the source spelling of a number;
/// this prints its canonical form, which differs only for spellings like
/// `0x1F` or `1.0` in an annotation.)
fn stringify_annotations(v: &mut Value) {
    if let Some(Value::Map(m)) = v.get_mut("metadata").and_then(|m| m.get_mut("annotations")) {
        for val in m.values_mut() {
            if !matches!(val, Value::String(_))
                && let Some(s) = val.scalar_string()
            {
                *val = Value::String(s);
            }
        }
    }
}

fn find_non_finite(v: &Value) -> Option<Value> {
    match v {
        Value::Float(f) if !f.is_finite() => Some(v.clone()),
        Value::Seq(s) => s.iter().find_map(find_non_finite),
        Value::Map(m) => m.values().find_map(find_non_finite),
        _ => None,
    }
}

const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// kustomize's legacy order: a fixed rank for well-known kinds, then the
/// GVK, then namespace and name.
fn legacy_key(r: &Resource) -> (i64, String, String) {
    let gvk = r.gvk();
    let rank = if let Some(i) = ORDER_FIRST.iter().position(|k| *k == gvk.kind) {
        i as i64 - ORDER_FIRST.len() as i64
    } else if let Some(i) = ORDER_LAST.iter().position(|k| *k == gvk.kind) {
        i as i64 + 1
    } else {
        0
    };
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    let gvk_key = format!(
        "{}_{}_{}",
        or(&gvk.group, "~G"),
        or(&gvk.version, "~V"),
        or(&gvk.kind, "~K")
    );
    let id_key = format!(
        "{}|{}|{}",
        gvk.display(),
        or(r.namespace(), "~X"),
        or(r.name(), "~N")
    );
    (rank, gvk_key, id_key)
}

/// Loads one kustomization (or component) and everything below it.
/// Returns the resources and whether to sort them in the legacy order.
/// `loader` is the directory's when the including kustomization has already
/// resolved it; `dir` is the path errors name.
fn accumulate(
    dir: &Path,
    loader: Option<Loader>,
    ctx: &mut Ctx,
    component: bool,
) -> Result<(Vec<Resource>, bool)> {
    accumulate_onto(dir, loader, ctx, component, Vec::new())
}

fn accumulate_onto(
    dir: &Path,
    loader: Option<Loader>,
    ctx: &mut Ctx,
    component: bool,
    base: Vec<Resource>,
) -> Result<(Vec<Resource>, bool)> {
    let loader = match loader {
        Some(loader) => loader,
        None => Loader::new(dir)?,
    };
    if let Some(boundary) = &ctx.boundary
        && !loader.root.starts_with(boundary)
    {
        return Err(Error::in_file(
            dir,
            "security; this kustomization is outside the repository (a resource path climbs out of it)",
        ));
    }
    if ctx.stack.contains(&loader.root) {
        return Err(Error::in_file(
            &loader.root,
            "cycle detected: this kustomization includes itself",
        ));
    }
    ctx.stack.push(loader.root.clone());
    let k = Kustomization::load(&loader.kustomization_file()?)?;
    ctx.warnings.extend(k.deprecation_warnings());
    if k.is_component != component {
        return Err(k.err(if component {
            "expected kind Component for an entry of 'components'"
        } else {
            "a Component must be listed under 'components', not 'resources'"
        }));
    }
    let mut resources = base;
    let mut seen: HashSet<String> = resources.iter().map(id_key).collect();
    let mut entries = k.strings("resources")?;
    let bases = k.strings("bases")?;
    entries.extend(bases);
    for entry in &entries {
        if entry.contains("://") || entry.starts_with("github.com/") || entry.starts_with("git@") {
            return Err(k.err(format!(
                "remote resource {entry:?}: skiff builds offline; vendor it into the repository"
            )));
        }
        match loader.resolve(entry) {
            (path, Entry::Dir(dir)) => {
                let (sub, _) =
                    accumulate(&path, Some(dir), ctx, false).map_err(|e| e.with_file(&k.file))?;
                for r in sub {
                    append(&mut resources, &mut seen, r)?;
                }
            }
            (_, Entry::File(file)) => {
                let (file, text) = loader.read_located_text(file, &k.file)?;
                for r in load_resources(&file, &text)? {
                    append(&mut resources, &mut seen, r)?;
                }
            }
        }
    }

    for kind in [Kind::ConfigMap, Kind::Secret] {
        for g in generate::generate(&k, &loader, kind)? {
            add_generated(&mut resources, &mut seen, g, &k)?;
        }
    }

    for c in k.strings("components")? {
        let (path, Entry::Dir(dir)) = loader.resolve(&c) else {
            return Err(k.err(format!("component {c:?} is not a directory")));
        };
        // A component works on what the including kustomization has so far.
        let (with_component, _) =
            accumulate_onto(&path, Some(dir), ctx, true, std::mem::take(&mut resources))?;
        resources = with_component;
    }

    transform_all(&k, &loader, &mut resources)?;

    ctx.stack.pop();
    let sort = match k.value.str_at(&["sortOptions", "order"]) {
        None | Some("legacy") => true,
        Some("fifo") => false,
        Some(other) => {
            return Err(k.err(format!(
                "sortOptions.order must be legacy or fifo, not {other:?}"
            )));
        }
    };
    Ok((resources, sort))
}

fn load_resources(file: &Path, text: &str) -> Result<Vec<Resource>> {
    let docs = parse_documents(text).map_err(|e| e.with_file(file))?;
    let mut out = Vec::new();
    for d in docs {
        let Value::Map(m) = &d.value else {
            return Err(Error::in_file(file, "a resource must be a mapping").at_line(d.line));
        };
        // A List is unpacked into its items, as kustomize does.
        if m.get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && m.contains_key("items")
        {
            if let Some(Value::Seq(items)) = m.get("items") {
                for item in items {
                    out.push(check_resource(file, d.line, item.clone())?);
                }
            }
            continue;
        }
        out.push(check_resource(file, d.line, d.value)?);
    }
    Ok(out)
}

fn check_resource(file: &Path, line: usize, v: Value) -> Result<Resource> {
    if v.str_at(&["kind"]).is_none_or(str::is_empty) {
        return Err(Error::in_file(file, "missing kind in a resource").at_line(line));
    }
    if v.str_at(&["metadata", "name"]).is_none_or(str::is_empty) {
        return Err(Error::in_file(file, "missing metadata.name in a resource").at_line(line));
    }
    Ok(Resource::new(v, file.to_path_buf()))
}

/// The identity kustomize refuses to see twice: group/version/kind,
/// namespace and name.
fn id_key(r: &Resource) -> String {
    format!(
        "{}|{}|{}|{}",
        r.value.str_at(&["apiVersion"]).unwrap_or_default(),
        r.value.str_at(&["kind"]).unwrap_or_default(),
        r.namespace(),
        r.name()
    )
}

fn append(resources: &mut Vec<Resource>, seen: &mut HashSet<String>, r: Resource) -> Result<()> {
    if !seen.insert(id_key(&r)) {
        return Err(Error::in_file(
            &r.source,
            format!(
                "may not add resource with an already registered id: {}",
                r.id().display()
            ),
        ));
    }
    resources.push(r);
    Ok(())
}

fn add_generated(
    resources: &mut Vec<Resource>,
    seen: &mut HashSet<String>,
    g: Resource,
    k: &Kustomization,
) -> Result<()> {
    let behavior = g.behavior.clone().unwrap_or_else(|| "create".into());
    if behavior == "create" {
        return append(resources, seen, g);
    }
    let gvk = g.gvk();
    let pos = resources.iter().position(|r| {
        r.gvk() == gvk
            && (r.name() == g.name() || r.orig_id().name == g.name())
            && (g.namespace().is_empty() || r.namespace() == g.namespace())
    });
    match (behavior.as_str(), pos) {
        ("create", _) => append(resources, seen, g),
        (_, None) => Err(k.err(format!(
            "generator {}: behavior {behavior} needs an existing {} to work on",
            g.name(),
            gvk.kind
        ))),
        ("replace", Some(i)) => {
            let old = &mut resources[i];
            let mut value = g.value.clone();
            // The existing object keeps its identity (name, namespace).
            if let Some(m) = value.map_at_mut(&["metadata"]) {
                m.insert("name".into(), old.name().into());
                if !old.namespace().is_empty() {
                    m.insert("namespace".into(), old.namespace().into());
                }
            }
            old.value = value;
            old.needs_hash = g.needs_hash;
            Ok(())
        }
        (_, Some(i)) => {
            let old = &mut resources[i];
            for field in ["data", "binaryData"] {
                if let Some(Value::Map(new)) = g.value.get(field)
                    && let Some(m) = old.value.map_at_mut(&[field])
                {
                    for (a, b) in new {
                        m.insert(a.clone(), b.clone());
                    }
                }
            }
            for field in ["labels", "annotations"] {
                if let Some(Value::Map(new)) = g.value.at(&["metadata", field])
                    && let Some(m) = old.value.map_at_mut(&["metadata", field])
                {
                    for (a, b) in new {
                        m.insert(a.clone(), b.clone());
                    }
                }
            }
            old.needs_hash = g.needs_hash;
            Ok(())
        }
    }
}

fn transform_all(k: &Kustomization, loader: &Loader, resources: &mut Vec<Resource>) -> Result<()> {
    // Legacy strategic merge patches first, then `patches`, as kustomize.
    let psm = k.list("patchesStrategicMerge")?;
    for p in psm {
        let text = p
            .as_str()
            .ok_or_else(|| k.err("patchesStrategicMerge entries must be strings"))?;
        let (file, body) = inline_or_file(k, loader, text)?;
        for d in parse_documents(&body).map_err(|e| e.with_file(&file))? {
            apply_smp(&file, resources, &d.value, None, false)?;
        }
    }
    for p in k.list("patches")? {
        let target = match p.get("target") {
            Some(t) if *t != Value::Null => Some(Selector::from_value(t).map_err(|e| k.err(e))?),
            _ => None,
        };
        let (file, body) = match (p.str_at(&["path"]), p.str_at(&["patch"])) {
            (Some(path), None) => {
                let (f, t) = loader.read_text(path, &k.file)?;
                (f, t)
            }
            (None, Some(inline)) => (k.file.clone(), inline.to_string()),
            _ => return Err(k.err("a patch needs exactly one of 'path' and 'patch'")),
        };
        let allow_kind_change = p.at(&["options", "allowKindChange"]) == Some(&Value::Bool(true));
        let docs = parse_documents(&body).map_err(|e| e.with_file(&file))?;
        let is_json = docs.len() == 1 && matches!(docs[0].value, Value::Seq(_));
        let docs = if is_json {
            parse_documents_yaml11(&body).map_err(|e| e.with_file(&file))?
        } else {
            docs
        };
        if is_json {
            let Some(target) = target else {
                return Err(Error::in_file(&file, "a JSON 6902 patch needs a target"));
            };
            for r in resources.iter_mut().filter(|r| target.matches(r)) {
                patch::json6902(&mut r.value, &docs[0].value)
                    .map_err(|e| Error::in_file(&file, e))?;
            }
        } else {
            for d in docs {
                apply_smp(
                    &file,
                    resources,
                    &d.value,
                    target.as_ref(),
                    allow_kind_change,
                )?;
            }
        }
    }

    if let Some(ns) = k.str("namespace")?
        && !ns.is_empty()
    {
        transform::namespace(resources, ns);
    }
    let prefix = k.str("namePrefix")?.unwrap_or_default();
    let suffix = k.str("nameSuffix")?.unwrap_or_default();
    if !prefix.is_empty() || !suffix.is_empty() {
        transform::prefix_suffix(resources, prefix, suffix);
    }

    for l in k.list("labels")? {
        let pairs = crate::kustomization::strict_string_map(l.get("pairs"), "labels.pairs")
            .map_err(|m| k.err(m))?;
        let flag = |f: &str| matches!(l.get(f), Some(Value::Bool(true)));
        let mut specs = if flag("includeSelectors") {
            crate::specs::common_labels()
        } else if flag("includeTemplates") {
            crate::specs::template_labels()
        } else {
            vec![FieldSpec::new("", "", "", "metadata/labels", true)]
        };
        if let Some(Value::Seq(fields)) = l.get("fields") {
            for f in fields {
                specs.push(
                    FieldSpec::from_value(f)
                        .ok_or_else(|| k.err("labels.fields entries need a path"))?,
                );
            }
        }
        transform::set_map_entries(resources, &pairs, &specs);
    }
    // kustomize runs the `labels` entries before `commonLabels`.
    let common = k.string_map("commonLabels")?;
    if !common.is_empty() {
        transform::set_map_entries(resources, &common, &crate::specs::common_labels());
    }
    let annotations = k.string_map("commonAnnotations")?;
    if !annotations.is_empty() {
        transform::set_map_entries(resources, &annotations, &crate::specs::annotations());
    }

    let pj = k.list("patchesJson6902")?;
    for p in pj {
        let target = p
            .get("target")
            .ok_or_else(|| k.err("patchesJson6902 entries need a target"))?;
        let sel = Selector::from_value(target).map_err(|e| k.err(e))?;
        let (file, body) = match (p.str_at(&["path"]), p.str_at(&["patch"])) {
            (Some(path), _) => loader.read_text(path, &k.file)?,
            (None, Some(inline)) => (k.file.clone(), inline.to_string()),
            _ => return Err(k.err("a patchesJson6902 entry needs 'path' or 'patch'")),
        };
        let ops = parse_documents_yaml11(&body).map_err(|e| e.with_file(&file))?;
        let ops = ops
            .into_iter()
            .next()
            .map(|d| d.value)
            .unwrap_or(Value::Seq(Vec::new()));
        for r in resources.iter_mut().filter(|r| sel.matches(r)) {
            patch::json6902(&mut r.value, &ops).map_err(|e| Error::in_file(&file, e))?;
        }
    }

    transform::replicas(k, resources)?;
    transform::images(k, resources)?;
    crate::replacements::apply(k, loader, resources)?;

    for t in k.strings("transformers")? {
        let (file, text) = loader.read_text(&t, &k.file)?;
        for d in parse_documents(&text).map_err(|e| e.with_file(&file))? {
            builtin_transformer(&file, &d.value, resources)?;
        }
    }
    Ok(())
}

/// `patchesStrategicMerge` entries may be a file name or an inline patch.
fn inline_or_file(k: &Kustomization, loader: &Loader, text: &str) -> Result<(PathBuf, String)> {
    if text.contains('\n') || text.contains(": ") {
        return Ok((k.file.clone(), text.to_string()));
    }
    loader.read_text(text, &k.file)
}

fn apply_smp(
    file: &Path,
    resources: &mut Vec<Resource>,
    patch: &Value,
    target: Option<&Selector>,
    allow_kind_change: bool,
) -> Result<()> {
    let matches = |r: &Resource| match target {
        Some(sel) => sel.matches(r),
        None => patch_matches(patch, r),
    };
    // `$patch: delete` at the top removes the objects it matches.
    if patch.get("$patch").and_then(Value::as_str) == Some("delete") {
        let before = resources.len();
        resources.retain(|r| !matches(r));
        if resources.len() == before && target.is_none() {
            return Err(Error::in_file(
                file,
                "no resource matches the deleting patch",
            ));
        }
        return Ok(());
    }
    let mut hits = 0;
    let mut deleted = vec![false; resources.len()];
    for (i, r) in resources.iter_mut().enumerate() {
        let matched = matches(r);
        if !matched {
            continue;
        }
        hits += 1;
        let name = r.name().to_string();
        let ns = r.value.at(&["metadata", "namespace"]).cloned();
        let api_version = r.value.get("apiVersion").cloned();
        let kind = r.value.get("kind").cloned();
        if !smp::strategic_merge(&mut r.value, patch).map_err(|e| Error::in_file(file, e))? {
            deleted[i] = true;
            continue;
        }
        // kustomize gives a targeted patch the target's apiVersion, and
        // keeps the target's kind unless the patch may change it.
        if let Some(m) = r.value.as_map_mut() {
            let mut restore = |field: &str, v: Option<Value>| match v {
                Some(v) => m.insert(field.into(), v),
                None => m.remove(field),
            };
            if target.is_some() {
                restore("apiVersion", api_version);
            }
            if !allow_kind_change {
                restore("kind", kind);
            }
        }
        // A patch never renames what it patches.
        if let Some(m) = r.value.map_at_mut(&["metadata"]) {
            m.insert("name".into(), Value::String(name));
            match ns {
                Some(ns) => {
                    m.insert("namespace".into(), ns);
                }
                None => {
                    m.remove("namespace");
                }
            }
        }
    }
    let mut flags = deleted.into_iter();
    resources.retain(|_| !flags.next().unwrap_or(false));
    if hits == 0 && target.is_none() {
        let id = format!(
            "{}/{}",
            patch.str_at(&["kind"]).unwrap_or_default(),
            patch.str_at(&["metadata", "name"]).unwrap_or_default()
        );
        return Err(Error::in_file(
            file,
            format!("no resource matches strategic merge patch \"{id}\""),
        ));
    }
    Ok(())
}

/// A patch without a target applies to the object it names.
fn patch_matches(patch: &Value, r: &Resource) -> bool {
    let pg = Gvk::of(patch);
    let g = r.gvk();
    let orig = r.orig_id();
    let name = patch.str_at(&["metadata", "name"]).unwrap_or_default();
    let ns = patch.str_at(&["metadata", "namespace"]);
    pg.kind == g.kind
        && (pg.group == g.group || pg.version.is_empty())
        && (name == r.name() || name == orig.name)
        && ns.is_none_or(|ns| ns == r.namespace() || ns == orig.namespace)
}

/// Builtin transformer configurations listed under `transformers:`.
fn builtin_transformer(file: &Path, cfg: &Value, resources: &mut [Resource]) -> Result<()> {
    let kind = cfg.str_at(&["kind"]).unwrap_or_default();
    let api = cfg.str_at(&["apiVersion"]).unwrap_or_default();
    if api != "builtin" {
        return Err(Error::in_file(
            file,
            format!("transformer {kind} ({api}): only builtin transformers are supported"),
        ));
    }
    let specs = |cfg: &Value| -> Result<Vec<FieldSpec>> {
        match cfg.get("fieldSpecs") {
            Some(Value::Seq(items)) => items
                .iter()
                .map(|i| {
                    FieldSpec::from_value(i)
                        .ok_or_else(|| Error::in_file(file, "a fieldSpec needs a path"))
                })
                .collect(),
            _ => Ok(Vec::new()),
        }
    };
    match kind {
        "LabelTransformer" | "AnnotationsTransformer" => {
            let field = if kind == "LabelTransformer" {
                "labels"
            } else {
                "annotations"
            };
            let pairs = crate::kustomization::string_map(cfg.get(field))
                .ok_or_else(|| Error::in_file(file, format!("{field} must be a map")))?;
            transform::set_map_entries(resources, &pairs, &specs(cfg)?);
            Ok(())
        }
        other => Err(Error::in_file(
            file,
            format!("builtin transformer {other} is not supported"),
        )),
    }
}
