//! Patches: JSON 6902, and the target selectors that pick what patches
//! apply to (the strategic merge itself is in `smp`).

use regex::Regex;

use crate::resource::Resource;
use crate::value::{Map, Value};

/// A `target:` selector. Name, namespace and GVK parts are anchored regexes.
#[derive(Debug)]
pub struct Selector {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Vec<(String, Option<String>)>,
    annotations: Vec<(String, Option<String>)>,
}

impl Selector {
    pub fn from_value(v: &Value) -> Result<Selector, String> {
        let re = |f: &str| -> Result<Option<Regex>, String> {
            match v.get(f).and_then(Value::scalar_string) {
                Some(s) if !s.is_empty() => Regex::new(&format!("^(?:{s})$"))
                    .map(Some)
                    .map_err(|e| format!("target {f} {s:?} is not a valid regex: {e}")),
                _ => Ok(None),
            }
        };
        Ok(Selector {
            group: re("group")?,
            version: re("version")?,
            kind: re("kind")?,
            name: re("name")?,
            namespace: re("namespace")?,
            labels: parse_selector(v.str_at(&["labelSelector"]).unwrap_or_default())?,
            annotations: parse_selector(v.str_at(&["annotationSelector"]).unwrap_or_default())?,
        })
    }

    pub fn matches(&self, r: &Resource) -> bool {
        let gvk = r.gvk();
        let ok = |re: &Option<Regex>, s: &str| re.as_ref().is_none_or(|re| re.is_match(s));
        let orig = r.orig_id();
        ok(&self.group, &gvk.group)
            && ok(&self.version, &gvk.version)
            && ok(&self.kind, &gvk.kind)
            && (ok(&self.name, r.name()) || ok(&self.name, &orig.name))
            && (ok(&self.namespace, r.namespace()) || ok(&self.namespace, &orig.namespace))
            && map_matches(&self.labels, r.labels())
            && map_matches(&self.annotations, r.annotations())
    }
}

/// Equality-based selectors: `a=b,c!=d,e` (the forms kustomize users write).
fn parse_selector(s: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.contains(" in ") || part.contains(" notin ") || part.starts_with('!') {
            return Err(format!(
                "selector {part:?}: set-based selectors are not supported"
            ));
        }
        if let Some((k, v)) = part.split_once("!=") {
            out.push((format!("!{}", k.trim()), Some(v.trim().to_string())));
        } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            out.push((k.trim().to_string(), Some(v.trim().to_string())));
        } else {
            out.push((part.to_string(), None));
        }
    }
    Ok(out)
}

fn map_matches(sel: &[(String, Option<String>)], m: Option<&Map>) -> bool {
    sel.iter().all(|(k, v)| {
        if let Some(k) = k.strip_prefix('!') {
            return m.and_then(|m| m.get(k)).and_then(Value::as_str) != v.as_deref();
        }
        match (m.and_then(|m| m.get(k)), v) {
            (Some(got), Some(want)) => got.scalar_string().as_deref() == Some(want),
            (Some(_), None) => true,
            _ => false,
        }
    })
}

/// Applies RFC 6902 operations.
pub fn json6902(target: &mut Value, ops: &Value) -> Result<(), String> {
    let Value::Seq(ops) = ops else {
        return Err("a JSON 6902 patch must be a list of operations".into());
    };
    for op in ops {
        let name = op
            .str_at(&["op"])
            .ok_or("a JSON patch operation needs 'op'")?;
        let path = op
            .str_at(&["path"])
            .ok_or("a JSON patch operation needs 'path'")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{name} {path}: missing 'value'"))
        };
        match name {
            "add" => add(target, path, value()?)?,
            "remove" => {
                remove(target, path)?;
            }
            "replace" => {
                // kustomize's JSON patch lets `replace` create a missing
                // field of an object (a missing list index is still an error).
                if let Err(e) = remove(target, path) {
                    let parent_path = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                    if !matches!(get(target, parent_path), Some(Value::Map(_))) {
                        return Err(e);
                    }
                }
                add(target, path, value()?)?;
            }
            "move" | "copy" => {
                let from = op
                    .str_at(&["from"])
                    .ok_or_else(|| format!("{name} {path}: missing 'from'"))?;
                let v = if name == "move" {
                    remove(target, from)?
                } else {
                    get(target, from)
                        .cloned()
                        .ok_or_else(|| format!("copy: no value at {from}"))?
                };
                add(target, path, v)?;
            }
            "test" => {
                let want = value()?;
                if get(target, path) != Some(&want) {
                    return Err(format!("test operation failed at {path}"));
                }
            }
            other => return Err(format!("unknown JSON patch operation {other:?}")),
        }
    }
    Ok(())
}

fn pointer(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("JSON pointer {path:?} must start with '/'"))?;
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in pointer(path).ok()? {
        cur = match cur {
            Value::Map(m) => m.get(&seg)?,
            Value::Seq(s) => s.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn parent<'a>(v: &'a mut Value, segs: &[String], path: &str) -> Result<&'a mut Value, String> {
    let mut cur = v;
    for seg in segs {
        cur = match cur {
            Value::Map(m) => m.get_mut(seg),
            Value::Seq(s) => seg.parse::<usize>().ok().and_then(move |i| s.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("JSON patch path {path:?}: {seg:?} does not exist"))?;
    }
    Ok(cur)
}

fn add(v: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segs = pointer(path)?;
    let Some((last, init)) = segs.split_last() else {
        *v = value;
        return Ok(());
    };
    match parent(v, init, path)? {
        Value::Map(m) => {
            m.insert(last.clone(), value);
        }
        Value::Seq(s) => {
            let i = if last == "-" {
                s.len()
            } else {
                last.parse::<usize>()
                    .map_err(|_| format!("bad index in {path:?}"))?
            };
            if i > s.len() {
                return Err(format!("JSON patch path {path:?}: index out of range"));
            }
            s.insert(i, value);
        }
        _ => {
            return Err(format!(
                "JSON patch path {path:?}: parent is not a map or list"
            ));
        }
    }
    Ok(())
}

fn remove(v: &mut Value, path: &str) -> Result<Value, String> {
    let segs = pointer(path)?;
    let Some((last, init)) = segs.split_last() else {
        return Err("cannot remove the whole document".into());
    };
    let missing = || format!("JSON patch path {path:?} does not exist");
    match parent(v, init, path)? {
        Value::Map(m) => m.remove(last).ok_or_else(missing),
        Value::Seq(s) => {
            let i = last.parse::<usize>().map_err(|_| missing())?;
            if i >= s.len() {
                return Err(missing());
            }
            Ok(s.remove(i))
        }
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn y(s: &str) -> Value {
        parse_documents(s).unwrap().remove(0).value
    }

    #[test]
    fn json6902_add_append_and_remove() {
        let mut t = y("a:\n  b: [1]\n");
        json6902(
            &mut t,
            &y("- op: add\n  path: /a/b/-\n  value: 2\n- op: remove\n  path: /a/b/0\n"),
        )
        .unwrap();
        assert_eq!(t.at(&["a", "b"]), Some(&Value::Seq(vec![Value::Int(2)])));
        assert!(json6902(&mut t, &y("- op: remove\n  path: /nope\n")).is_err());
    }
}
