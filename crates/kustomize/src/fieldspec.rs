//! Field specs: "this path, in resources of this group/version/kind". The
//! builtin transformers reach the fields they change through them.

use crate::resource::Gvk;
use crate::value::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub path: String,
    pub create: bool,
}

impl FieldSpec {
    pub fn new(group: &str, version: &str, kind: &str, path: &str, create: bool) -> Self {
        FieldSpec {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            path: path.into(),
            create,
        }
    }

    /// Empty parts of the spec match anything.
    pub fn matches(&self, gvk: &Gvk) -> bool {
        (self.group.is_empty() || self.group == gvk.group)
            && (self.version.is_empty() || self.version == gvk.version)
            && (self.kind.is_empty() || self.kind == gvk.kind)
    }

    /// Reads a spec from a transformer config (`path`, `create`, `group`, ...).
    pub fn from_value(v: &Value) -> Option<Self> {
        Some(FieldSpec {
            group: v.str_at(&["group"]).unwrap_or_default().into(),
            version: v.str_at(&["version"]).unwrap_or_default().into(),
            kind: v.str_at(&["kind"]).unwrap_or_default().into(),
            path: v.str_at(&["path"])?.into(),
            create: matches!(v.get("create"), Some(Value::Bool(true))),
        })
    }
}

/// Splits a field-spec path at `/`, keeping `\/` as a literal slash.
fn segments(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                chars.next();
                if let Some(s) = out.last_mut() {
                    s.push('/')
                }
            }
            '/' => out.push(String::new()),
            c => {
                if let Some(s) = out.last_mut() {
                    s.push(c)
                }
            }
        }
    }
    out
}

/// Calls `f` on the value at `path` in `root`. `[]` after a segment visits
/// every element of a list. With `create`, a missing final field is created
/// by `f` from `Value::Null` (intermediate maps are created too); otherwise
/// missing fields are skipped.
pub fn visit(root: &mut Value, path: &str, create: bool, f: &mut dyn FnMut(&mut Value)) {
    let segs = segments(path);
    walk(root, &segs, create, f);
}

fn walk(node: &mut Value, segs: &[String], create: bool, f: &mut dyn FnMut(&mut Value)) {
    let Some((first, rest)) = segs.split_first() else {
        f(node);
        return;
    };
    // Like kustomize, a list met on the way is walked element by element
    // even without `[]` in the path (e.g. `spec/ingress/from/podSelector`).
    if let Value::Seq(items) = node {
        for item in items {
            walk(item, segs, create, f);
        }
        return;
    }
    let (name, is_list) = match first.strip_suffix("[]") {
        Some(n) => (n, true),
        None => (first.as_str(), false),
    };
    let Some(map) = node.as_map_mut() else { return };
    if is_list {
        if let Some(Value::Seq(items)) = map.get_mut(name) {
            for item in items {
                walk(item, rest, create, f);
            }
        }
        return;
    }
    match map.get_mut(name) {
        Some(Value::Null) if create && !rest.is_empty() => {
            let mut child = Value::Map(Map::new());
            walk(&mut child, rest, create, f);
            map.insert(name.to_string(), child);
        }
        Some(child) => walk(child, rest, create, f),
        None if create => {
            let mut child = if rest.is_empty() {
                Value::Null
            } else {
                Value::Map(Map::new())
            };
            walk(&mut child, rest, create, f);
            if child != Value::Null {
                map.insert(name.to_string(), child);
            }
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    #[test]
    fn visits_list_elements_and_creates_fields() {
        let mut v = parse_documents("spec:\n  containers:\n  - image: a\n  - name: b\n").unwrap()
            [0]
        .value
        .clone();
        visit(&mut v, "spec/containers[]/image", false, &mut |x| {
            *x = "z".into()
        });
        assert_eq!(
            v.at(&["spec", "containers"]).unwrap().as_seq().unwrap()[0].get("image"),
            Some(&"z".into())
        );
        assert_eq!(
            v.at(&["spec", "containers"]).unwrap().as_seq().unwrap()[1].get("image"),
            None
        );
        visit(&mut v, "metadata/labels", true, &mut |x| {
            *x = Value::Map(Map::new())
        });
        assert!(v.at(&["metadata", "labels"]).is_some());
    }
}
