//! Values coalescing as Helm does it: user values win over chart defaults, maps
//! merge key by key, a `null` from the user deletes a default, subcharts get
//! their own section plus the parent's `global`.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

use crate::chart::Chart;

pub type Table = BTreeMap<Arc<str>, Value>;

pub fn table(v: &Value) -> Option<&Table> {
    match v {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

pub fn to_table(v: &Value) -> Table {
    table(v).cloned().unwrap_or_default()
}

/// Merges successive user value sources (`-f`, `--set`): `over` wins, maps merge.
pub fn merge_maps(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Map(b), Value::Map(o)) => {
            let mut out: Table = (*b).clone();
            for (k, v) in o.iter() {
                let merged = match (out.remove(k), v) {
                    (Some(bv @ Value::Map(_)), Value::Map(_)) => merge_maps(bv, v.clone()),
                    (_, v) => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Map(Arc::new(out))
        }
        (_, o) => o,
    }
}

/// Coalesces `user` (values for `chart`) with the chart's defaults and those
/// of its subcharts.
pub fn coalesce(chart: &Chart, user: Table) -> Table {
    let mut dest = user;
    coalesce_values(chart, &mut dest);
    coalesce_deps(chart, &mut dest);
    dest
}

fn coalesce_values(chart: &Chart, dest: &mut Table) {
    let Some(defaults) = table(&chart.values) else {
        return;
    };
    for (key, default) in defaults {
        match dest.get(key) {
            Some(Value::Nil) => {
                dest.remove(key);
            }
            Some(Value::Map(user)) => {
                if let Value::Map(src) = default {
                    // A subchart's section keeps its nulls: they delete keys
                    // of the subchart's own defaults one level down.
                    let merge = chart.dependencies.iter().any(|d| d.name() == &**key);
                    let mut src = (**src).clone();
                    if !merge {
                        clean_nils(&mut src);
                    }
                    let mut d = (**user).clone();
                    coalesce_tables(&mut d, src, merge);
                    dest.insert(key.clone(), Value::Map(Arc::new(d)));
                }
            }
            Some(_) => {}
            None => match default {
                Value::Nil => {}
                Value::Map(m) => {
                    let mut m = (**m).clone();
                    clean_nils(&mut m);
                    dest.insert(key.clone(), Value::Map(Arc::new(m)));
                }
                other => {
                    dest.insert(key.clone(), other.clone());
                }
            },
        }
    }
}

/// Drops null entries at every depth: a null default means "no value".
fn clean_nils(t: &mut Table) {
    t.retain(|_, v| !matches!(v, Value::Nil));
    for v in t.values_mut() {
        if let Value::Map(m) = v {
            let mut inner = (**m).clone();
            clean_nils(&mut inner);
            *v = Value::Map(Arc::new(inner));
        }
    }
}

/// Fills `dst` with what `src` has and `dst` lacks; `dst` wins. Without
/// `merge`, a null in `dst` deletes the key `src` would have supplied.
pub fn coalesce_tables(dst: &mut Table, mut src: Table, merge: bool) {
    let src_non_nil: std::collections::BTreeSet<Arc<str>> = src
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Nil))
        .map(|(k, _)| k.clone())
        .collect();
    for (k, v) in dst.iter() {
        if matches!(v, Value::Nil) {
            src.insert(k.clone(), Value::Nil);
        }
    }
    for (key, val) in src {
        match dst.get(&key) {
            Some(Value::Nil) if !merge && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(Value::Map(dv)) => {
                if let Value::Map(sv) = val {
                    let mut d = (**dv).clone();
                    coalesce_tables(&mut d, (*sv).clone(), merge);
                    dst.insert(key, Value::Map(Arc::new(d)));
                }
            }
            Some(_) => {}
        }
    }
}

fn coalesce_deps(chart: &Chart, dest: &mut Table) {
    for sub in &chart.dependencies {
        let name: Arc<str> = sub.name().into();
        let mut dv = match dest.get(&name) {
            None => Table::new(),
            Some(Value::Map(m)) => (**m).clone(),
            // Not a table: Helm logs and leaves it alone.
            Some(_) => continue,
        };
        coalesce_globals(&mut dv, dest);
        let merged = coalesce(sub, dv);
        dest.insert(name, Value::Map(Arc::new(merged)));
    }
}

/// Copies the parent's `global` into the subchart's values; parent globals win.
fn coalesce_globals(dest: &mut Table, src: &Table) {
    let mut dg = dest.get("global").map(to_table).unwrap_or_default();
    let sg = src.get("global").map(to_table).unwrap_or_default();
    for (key, val) in &sg {
        match val {
            Value::Map(vv) => {
                let mut vv = (**vv).clone();
                match dg.get(key) {
                    Some(Value::Map(destv)) => coalesce_tables(&mut vv, (**destv).clone(), true),
                    None => {}
                    // Helm refuses to merge a map onto a non-map global.
                    Some(_) => continue,
                }
                dg.insert(key.clone(), Value::Map(Arc::new(vv)));
            }
            _ => {
                if !matches!(dg.get(key), Some(Value::Map(_))) {
                    dg.insert(key.clone(), val.clone());
                }
            }
        }
    }
    dest.insert("global".into(), Value::Map(Arc::new(dg)));
}

/// Looks up a dotted path (`a.b.c`) in a table.
pub fn path_value<'a>(t: &'a Table, path: &str) -> Option<&'a Value> {
    let mut cur = t;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        let v = cur.get(*p)?;
        if i == parts.len() - 1 {
            return Some(v);
        }
        cur = table(v)?;
    }
    None
}
