//! Sprig's dict functions. gotmpl maps are immutable: `set`, `unset` and
//! `merge` return the changed dict, and the executor assigns it back when the
//! target is a variable.

use std::sync::Arc;

use super::{Reg, arg, err, key_of, str_of, strval};
use crate::coalesce::{Table, table, to_table};
use crate::engine::Shared;
use gotmpl::Value;

fn fresh(v: &Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(Arc::new(
            m.iter().map(|(k, x)| (k.clone(), fresh(x))).collect(),
        )),
        Value::List(l) => Value::List(l.iter().map(fresh).collect()),
        other => other.clone(),
    }
}

fn dict(t: Table) -> Value {
    Value::Map(Arc::new(t))
}

/// Deep merge where `dst` wins (mergo without overwrite).
fn merge_into(dst: &mut Table, src: &Table, overwrite: bool) {
    for (k, v) in src {
        match (dst.get(k), v) {
            (Some(Value::Map(d)), Value::Map(s)) => {
                let mut d = (**d).clone();
                merge_into(&mut d, s, overwrite);
                dst.insert(k.clone(), dict(d));
            }
            (None, _) => {
                dst.insert(k.clone(), v.clone());
            }
            (Some(existing), _) => {
                if overwrite || super::is_empty(existing) {
                    dst.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

pub fn register(r: &mut Reg, shared: &Arc<Shared>) {
    for name in ["deepCopy", "mustDeepCopy"] {
        let sh = Arc::downgrade(shared);
        // A copy must be a new map: mutating it must not touch the original.
        r.f(name, move |a| {
            Ok(fresh(&super::up(&sh)?.overlay.resolve_deep(arg(a, 0))))
        });
    }
    let sh = Arc::downgrade(shared);
    r.f("index", move |a| {
        let shared = super::up(&sh)?;
        let mut cur = shared.overlay.resolve(arg(a, 0));
        for k in a.iter().skip(1) {
            cur = match (&cur, k) {
                (Value::Map(m), _) => m.get(&*str_of(k)).cloned().unwrap_or(Value::Nil),
                (Value::List(l), _) => {
                    let i = super::to_i64(k);
                    if i < 0 || i as usize >= l.len() {
                        return Err(err(format!("error calling index: index out of range: {i}")));
                    }
                    l[i as usize].clone()
                }
                (Value::Nil, _) => return Err(err("error calling index: index of untyped nil")),
                (other, _) => {
                    return Err(err(format!(
                        "error calling index: can't index item of type {}",
                        super::type_of(other)
                    )));
                }
            };
            cur = shared.overlay.resolve(cur);
        }
        Ok(cur)
    });
    r.f("dict", |a| {
        let mut t = Table::new();
        for pair in a.chunks(2) {
            t.insert(key_of(&pair[0]), pair.get(1).cloned().unwrap_or(Value::Nil));
        }
        Ok(dict(t))
    });
    let sh = Arc::downgrade(shared);
    r.f("set", move |a| {
        let shared = super::up(&sh)?;
        let target = shared.overlay.resolve(arg(a, 0));
        let mut t = to_table(&target);
        t.insert(a.get(1).map_or_else(|| Arc::from(""), key_of), arg(a, 2));
        let new = dict(t);
        shared.overlay.replace(&target, new.clone());
        Ok(new)
    });
    let sh = Arc::downgrade(shared);
    r.f("unset", move |a| {
        let shared = super::up(&sh)?;
        let target = shared.overlay.resolve(arg(a, 0));
        let mut t = to_table(&target);
        t.remove(&*super::sarg_ref(a, 1));
        let new = dict(t);
        shared.overlay.replace(&target, new.clone());
        Ok(new)
    });
    // The readers below look into the map where it is; copying it first
    // (a whole values section, for `hasKey .Values "x"`) is what they cost.
    let sh = Arc::downgrade(shared);
    r.f("hasKey", move |a| {
        let target = super::up(&sh)?.overlay.resolve(arg(a, 0));
        let found = table(&target).is_some_and(|t| t.contains_key(&*super::sarg_ref(a, 1)));
        Ok(Value::Bool(found))
    });
    let sh = Arc::downgrade(shared);
    r.f("get", move |a| {
        let target = super::up(&sh)?.overlay.resolve(arg(a, 0));
        Ok(table(&target)
            .and_then(|t| t.get(&*super::sarg_ref(a, 1)))
            .cloned()
            .unwrap_or_else(|| Value::String("".into())))
    });
    r.f("keys", |a| {
        let mut out = Vec::new();
        for d in a {
            if let Some(t) = table(d) {
                out.extend(t.keys().map(|k| Value::String(k.clone())));
            }
        }
        Ok(Value::List(out.into()))
    });
    r.f("values", |a| {
        Ok(Value::List(match a.first().and_then(table) {
            Some(t) => t.values().cloned().collect(),
            None => Arc::from(vec![]),
        }))
    });
    r.f("pluck", |a| {
        let k = super::sarg_ref(a, 0);
        Ok(Value::List(
            a[1.min(a.len())..]
                .iter()
                .filter_map(|d| table(d).and_then(|t| t.get(&*k)).cloned())
                .collect(),
        ))
    });
    r.f("pick", |a| {
        let keys: Vec<String> = a.iter().skip(1).map(strval).collect();
        Ok(dict(match a.first().and_then(table) {
            Some(t) => t
                .iter()
                .filter(|(k, _)| keys.iter().any(|x| x == &***k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            None => Table::new(),
        }))
    });
    r.f("omit", |a| {
        let keys: Vec<String> = a.iter().skip(1).map(strval).collect();
        Ok(dict(match a.first().and_then(table) {
            Some(t) => t
                .iter()
                .filter(|(k, _)| !keys.iter().any(|x| x == &***k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            None => Table::new(),
        }))
    });
    r.f("dig", |a| {
        if a.len() < 3 {
            return Err(err("dig needs at least three arguments"));
        }
        let keys = &a[..a.len() - 2];
        let default = a[a.len() - 2].clone();
        let mut cur = a[a.len() - 1].clone();
        for k in keys {
            match cur {
                Value::Map(m) => match m.get(&*str_of(k)) {
                    Some(v) => cur = v.clone(),
                    None => return Ok(default),
                },
                _ => return Ok(default),
            }
        }
        Ok(cur)
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        let sh = Arc::downgrade(shared);
        r.f(name, move |a| {
            let target = super::up(&sh)?.overlay.resolve_deep(arg(a, 0));
            let mut dst = to_table(&target);
            for src in a.iter().skip(1) {
                let src = super::up(&sh)?.overlay.resolve_deep(src.clone());
                if let Some(src) = table(&src) {
                    merge_into(&mut dst, src, overwrite);
                }
            }
            let new = dict(dst);
            super::up(&sh)?
                .overlay
                .replace(&super::up(&sh)?.overlay.resolve(arg(a, 0)), new.clone());
            Ok(new)
        });
    }
}
