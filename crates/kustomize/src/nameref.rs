//! Name references: after prefixes, suffixes and content hashes rename
//! objects, every field that names one of them is rewritten to the new name.

use std::collections::HashMap;

use crate::nameref_table::NAME_REFERENCES;
use crate::resource::{Gvk, Resource};
use crate::value::Value;

/// What a renamed object was called, and what it is called now:
/// (gvk, previous names, current name, current namespace).
type Renamed = (Gvk, Vec<(String, String)>, String, String);

/// (referenced name, referrer's namespace) -> (new name, new namespace).
type Lookup<'a> = dyn Fn(&str, &str) -> Option<(String, String)> + 'a;

pub fn fix(resources: &mut [Resource]) {
    // Snapshot of what each object was called and is called now.
    let renamed: Vec<Renamed> = resources
        .iter()
        .filter(|r| !r.previous.is_empty())
        .map(|r| {
            let names = r.previous.clone();
            (
                r.gvk(),
                names,
                r.name().to_string(),
                r.namespace().to_string(),
            )
        })
        .collect();
    if renamed.is_empty() {
        return;
    }
    // kind -> any previous name -> the objects that had it.
    let mut by_kind: HashMap<&str, HashMap<&str, Vec<&Renamed>>> = HashMap::new();
    for r in &renamed {
        let names = by_kind.entry(r.0.kind.as_str()).or_default();
        for (n, _) in &r.1 {
            let list = names.entry(n.as_str()).or_default();
            if !list.iter().any(|x| std::ptr::eq(*x, r)) {
                list.push(r);
            }
        }
    }
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        let ns = r.namespace().to_string();
        for &(rg, rv, rk, g, v, k, path) in NAME_REFERENCES {
            if (!g.is_empty() && g != gvk.group)
                || (!v.is_empty() && v != gvk.version)
                || (!k.is_empty() && k != gvk.kind)
            {
                continue;
            }
            let Some(of_kind) = by_kind.get(rk) else {
                continue;
            };
            let lookup = |name: &str, ref_ns: &str| -> Option<(String, String)> {
                let hits: Vec<_> = of_kind
                    .get(name)?
                    .iter()
                    .filter(|(t, prev, _, cur_ns)| {
                        // An empty namespace means "default" when comparing.
                        let same_ns = |a: &str| ns_eq(a, ref_ns);
                        (rg.is_empty() || group_matches(rg, &t.group))
                            && (rv.is_empty() || rv == t.version || rv == "v1")
                            && (t.is_cluster_scoped()
                                || same_ns(cur_ns)
                                || prev.iter().any(|(n, pns)| n == name && same_ns(pns)))
                    })
                    .collect();
                let first = hits.first()?;
                hits.iter()
                    .all(|h| h.2 == first.2)
                    .then(|| (first.2.clone(), first.3.clone()))
            };
            let segs: Vec<String> = split_path(path);
            walk(&mut r.value, &segs, rk, &ns, &lookup);
        }
    }
}

fn ns_eq(a: &str, b: &str) -> bool {
    let norm = |s: &str| if s.is_empty() { "default" } else { s }.to_string();
    norm(a) == norm(b)
}

fn group_matches(want: &str, got: &str) -> bool {
    // The table spells IngressClass's group with its version.
    want == got || want.split('/').next() == Some(got)
}

fn split_path(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                chars.next();
                if let Some(s) = out.last_mut() {
                    s.push('/');
                }
            }
            '/' => out.push(String::new()),
            c => {
                if let Some(s) = out.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    out
}

fn walk(v: &mut Value, segs: &[String], kind: &str, ns: &str, lookup: &Lookup) {
    if let Value::Seq(items) = v {
        for i in items {
            walk(i, segs, kind, ns, lookup);
        }
        return;
    }
    let Some((first, rest)) = segs.split_first() else {
        rewrite(v, kind, ns, lookup);
        return;
    };
    // roleRef names a Role or a ClusterRole; only rewrite the one it says.
    if first == "roleRef" && v.str_at(&["roleRef", "kind"]) != Some(kind) {
        return;
    }
    if let Some(child) = v.get_mut(first) {
        walk(child, rest, kind, ns, lookup);
    }
}

fn rewrite(v: &mut Value, kind: &str, ns: &str, lookup: &Lookup) {
    match v {
        Value::String(s) => {
            if let Some((new, _)) = lookup(s, ns) {
                *s = new;
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| rewrite(i, kind, ns, lookup)),
        Value::Map(m) => {
            // A subject or a service reference: {kind?, name, namespace?}.
            if let Some(k) = m.get("kind").and_then(Value::as_str)
                && k != kind
            {
                return;
            }
            let ref_ns = m
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or(ns)
                .to_string();
            let Some(Value::String(s)) = m.get_mut("name") else {
                return;
            };
            let Some((new, new_ns)) = lookup(s, &ref_ns) else {
                return;
            };
            *s = new;
            // A renamed ServiceAccount subject also gets its namespace.
            if kind == "ServiceAccount" && m.contains_key("kind") && !new_ns.is_empty() {
                m.insert("namespace".into(), Value::String(new_ns));
            }
        }
        _ => {}
    }
}
