//! `replacements`: copy a field of one object (or a fixed value) into fields
//! of others.

use crate::error::Result;
use crate::kustomization::Kustomization;
use crate::loader::Loader;
use crate::patch::Selector;
use crate::resource::Resource;
use crate::value::{Map, Value};
use crate::yaml::parse_documents;
use crate::yaml::resolve::resolve_v3;

pub fn apply(k: &Kustomization, loader: &Loader, resources: &mut [Resource]) -> Result<()> {
    for entry in k.list("replacements")? {
        let specs = match entry.str_at(&["path"]) {
            Some(path) => {
                let (file, text) = loader.read_text(path, &k.file)?;
                let mut out = Vec::new();
                for d in parse_documents(&text).map_err(|e| e.with_file(&file))? {
                    match d.value {
                        Value::Seq(items) => out.extend(items),
                        v => out.push(v),
                    }
                }
                out
            }
            None => vec![entry],
        };
        for spec in specs {
            one(&spec, resources).map_err(|m| k.err(m))?;
        }
    }
    Ok(())
}

type Res<T> = std::result::Result<T, String>;

fn one(spec: &Value, resources: &mut [Resource]) -> Res<()> {
    let targets = match spec.get("targets") {
        Some(Value::Seq(t)) => t,
        _ => return Err("replacements must specify a source and at least one target".into()),
    };
    let value = source_value(spec, resources)?;
    for t in targets {
        let select = t
            .get("select")
            .ok_or("target must specify resources to select")?;
        let sel = Selector::from_value(select)?;
        let rejects = match t.get("reject") {
            Some(Value::Seq(r)) => r
                .iter()
                .map(Selector::from_value)
                .collect::<Res<Vec<_>>>()?,
            _ => Vec::new(),
        };
        let paths: Vec<String> = match t.get("fieldPaths") {
            Some(Value::Seq(p)) => p.iter().filter_map(Value::scalar_string).collect(),
            _ => vec!["metadata.name".into()],
        };
        let opts = t.get("options").cloned().unwrap_or(Value::Null);
        let create = matches!(opts.get("create"), Some(Value::Bool(true)));
        for r in resources.iter_mut() {
            if !sel.matches(r) || rejects.iter().any(|x| x.matches(r)) {
                continue;
            }
            for fp in &paths {
                let parts = split_path(fp);
                let mut hits = 0;
                set_at(&mut r.value, &parts, create, &mut |field| {
                    hits += 1;
                    set_field(field, &value, &opts)
                })?;
                if hits == 0 {
                    return Err(if create {
                        format!("unable to find or create field {fp:?} in replacement target")
                    } else {
                        format!("unable to find field {fp:?} in replacement target")
                    });
                }
            }
        }
    }
    Ok(())
}

fn source_value(spec: &Value, resources: &[Resource]) -> Res<Value> {
    match (spec.get("sourceValue"), spec.get("source")) {
        (Some(_), Some(_)) => Err("value and resource selectors are mutually exclusive".into()),
        (Some(v), None) => Ok(Value::String(v.scalar_string().unwrap_or_default())),
        (None, Some(src)) => {
            let want = |f: &str| {
                src.get(f)
                    .and_then(Value::scalar_string)
                    .filter(|s| !s.is_empty())
            };
            let matches: Vec<&Resource> = resources
                .iter()
                .filter(|r| {
                    let gvk = r.gvk();
                    let mut names = vec![r.name().to_string()];
                    names.extend(r.previous.iter().map(|(n, _)| n.clone()));
                    want("group").is_none_or(|g| g == gvk.group)
                        && want("version").is_none_or(|v| v == gvk.version)
                        && want("kind").is_none_or(|k| k == gvk.kind)
                        && want("name").is_none_or(|n| names.contains(&n))
                        && want("namespace").is_none_or(|n| n == r.namespace())
                })
                .collect();
            let describe = || {
                format!(
                    "{}/{}",
                    want("kind").unwrap_or_default(),
                    want("name").unwrap_or_default()
                )
            };
            let source = match matches.as_slice() {
                [one] => *one,
                [] => return Err(format!("nothing selected by {}", describe())),
                _ => return Err(format!("multiple matches for selector {}", describe())),
            };
            let fp = src.str_at(&["fieldPath"]).unwrap_or("metadata.name");
            let mut found = Vec::new();
            lookup(&source.value, &split_path(fp), &mut found);
            let v = match found.into_iter().next() {
                Some(v) if !is_empty(v) => v.clone(),
                _ => {
                    return Err(format!(
                        "fieldPath `{fp}` is missing for replacement source {}",
                        describe()
                    ));
                }
            };
            let opts = src.get("options").cloned().unwrap_or(Value::Null);
            match opts.str_at(&["delimiter"]).filter(|d| !d.is_empty()) {
                None => Ok(v),
                Some(d) => {
                    let text = v
                        .scalar_string()
                        .ok_or("delimiter option can only be used with scalar nodes")?;
                    let idx = index(&opts);
                    let parts: Vec<&str> = text.split(d).collect();
                    if idx < 0 || idx as usize >= parts.len() {
                        return Err(format!(
                            "options.index {idx} is out of bounds for value {text}"
                        ));
                    }
                    Ok(Value::String(parts[idx as usize].to_string()))
                }
            }
        }
        (None, None) => Err("replacements must specify a source and at least one target".into()),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Map(m) => m.is_empty(),
        Value::Seq(s) => s.is_empty(),
        _ => false,
    }
}

fn index(opts: &Value) -> i64 {
    match opts.get("index") {
        Some(Value::Int(i)) => *i,
        _ => 0,
    }
}

/// A replacement path: `.`-separated, `[key=value]` (which may hold dots)
/// selects list elements, `*` all of them, a number one of them.
pub fn split_path(path: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open: Option<String> = None;
    for part in path.split('.') {
        match open.take() {
            Some(mut acc) => {
                acc.push('.');
                acc.push_str(part);
                if part.ends_with(']') {
                    out.push(finish_bracket(acc));
                } else {
                    open = Some(acc);
                }
            }
            None if part.starts_with('[') && !part.ends_with(']') => open = Some(part.to_string()),
            None if part.starts_with('[') => out.push(finish_bracket(part.to_string())),
            None => out.push(part.to_string()),
        }
    }
    if let Some(acc) = open {
        out.push(acc);
    }
    out
}

fn finish_bracket(s: String) -> String {
    if s.contains('=') {
        s
    } else {
        s.trim_matches(['[', ']']).to_string()
    }
}

fn element_matches(item: &Value, sel: &str) -> bool {
    let inner = sel.trim_start_matches('[').trim_end_matches(']');
    let Some((k, v)) = inner.split_once('=') else {
        return false;
    };
    if k.is_empty() {
        return item.scalar_string().as_deref() == Some(v);
    }
    item.get(k).and_then(Value::scalar_string).as_deref() == Some(v)
}

fn lookup<'a>(v: &'a Value, parts: &[String], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = parts.split_first() else {
        out.push(v);
        return;
    };
    match v {
        Value::Map(m) => {
            if let Some(child) = m.get(first) {
                lookup(child, rest, out);
            }
        }
        Value::Seq(items) => {
            if first == "*" {
                items.iter().for_each(|i| lookup(i, rest, out));
            } else if first.starts_with('[') {
                items
                    .iter()
                    .filter(|i| element_matches(i, first))
                    .for_each(|i| lookup(i, rest, out));
            } else if let Some(item) = first.parse::<usize>().ok().and_then(|i| items.get(i)) {
                lookup(item, rest, out);
            }
        }
        _ => {}
    }
}

/// Calls `f` on every field `parts` reaches, creating missing map fields and
/// list elements when `create` is set.
fn set_at(
    v: &mut Value,
    parts: &[String],
    create: bool,
    f: &mut dyn FnMut(&mut Value) -> Res<()>,
) -> Res<()> {
    let Some((first, rest)) = parts.split_first() else {
        return f(v);
    };
    if create && *v == Value::Null {
        *v = if first.starts_with('[') {
            Value::Seq(Vec::new())
        } else {
            Value::Map(Map::new())
        };
    }
    match v {
        Value::Map(m) => {
            if !m.contains_key(first) {
                if !create {
                    return Ok(());
                }
                m.insert(first.clone(), Value::Null);
            }
            let child = m.get_mut(first).ok_or("internal: missing field")?;
            set_at(child, rest, create, f)
        }
        Value::Seq(items) => {
            if first == "*" {
                for i in items.iter_mut() {
                    set_at(i, rest, create, f)?;
                }
            } else if first.starts_with('[') {
                let mut any = false;
                for i in items.iter_mut().filter(|i| element_matches(i, first)) {
                    any = true;
                    set_at(i, rest, create, f)?;
                }
                if !any && create {
                    let inner = first.trim_start_matches('[').trim_end_matches(']');
                    if let Some((k, val)) = inner.split_once('=') {
                        let mut item = Map::new();
                        item.insert(k.to_string(), resolve_v3(val));
                        items.push(Value::Map(item));
                        if let Some(last) = items.last_mut() {
                            set_at(last, rest, create, f)?;
                        }
                    }
                }
            } else if let Some(item) = first.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                set_at(item, rest, create, f)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// kustomize replaces only the text of a scalar target, which keeps the
/// target's type: a source string "3" written over `replicas: 1` is the
/// number 3.
fn set_field(field: &mut Value, value: &Value, opts: &Value) -> Res<()> {
    let mut value = value.clone();
    if let Some(d) = opts.str_at(&["delimiter"]).filter(|d| !d.is_empty()) {
        let target = field
            .scalar_string()
            .ok_or("delimiter option can only be used with scalar nodes")?;
        let mut parts: Vec<String> = target.split(d).map(str::to_string).collect();
        let v = value.scalar_string().unwrap_or_default();
        let idx = index(opts);
        if idx < 0 {
            parts.insert(0, v);
        } else if idx as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[idx as usize] = v;
        }
        value = Value::String(parts.join(d));
    }
    let text = value.scalar_string();
    *field = match (&*field, text) {
        (Value::String(_), Some(t)) if !matches!(value, Value::Seq(_) | Value::Map(_)) => {
            Value::String(t)
        }
        (Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_), Some(t))
            if !matches!(value, Value::Seq(_) | Value::Map(_)) =>
        {
            match resolve_v3(&t) {
                v @ (Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_)) => v,
                _ => Value::String(t),
            }
        }
        _ => value,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_paths_with_dotted_selectors() {
        assert_eq!(
            split_path("spec.containers.[name=a.b].image"),
            ["spec", "containers", "[name=a.b]", "image"]
        );
        assert_eq!(split_path("a.[0].b"), ["a", "0", "b"]);
    }
}
