//! Sprig's dict functions. gotmpl maps are immutable: `set`, `unset` and
//! `merge` return the changed dict, and the rewriter assigns it back when the
//! target is a variable.

use std::sync::Arc;

use super::{Reg, arg, err, sarg, strval};
use crate::coalesce::{Table, to_table};
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
    let sh = Arc::downgrade(shared);
    r.f("__field", move |a| {
        let mut cur = super::up(&sh)?.overlay.resolve(arg(a, 0));
        // Go's zero value for a nil base is no error; a nil met while walking
        // the chain (missing or null key) is "nil pointer evaluating".
        for (i, f) in a.iter().skip(1).enumerate() {
            let name = strval(f);
            cur = match cur {
                Value::Map(m) => super::up(&sh)?
                    .overlay
                    .resolve(m.get(name.as_str()).cloned().unwrap_or(Value::Nil)),
                // `.Capabilities.APIVersions.Has` is a method of a string list.
                Value::List(l) if name == "Has" => {
                    Value::Function(Arc::new(move |args: &[Value]| {
                        let want = args.first().map(strval).unwrap_or_default();
                        Ok(Value::Bool(l.iter().any(|x| strval(x) == want)))
                    }))
                }
                Value::Nil if i == 0 => return Ok(Value::Nil),
                Value::Nil => {
                    return Err(err(format!("nil pointer evaluating interface {{}}.{name}")));
                }
                other => {
                    return Err(err(format!(
                        "can't evaluate field {name} in type {}",
                        super::type_of(&other)
                    )));
                }
            };
        }
        Ok(cur)
    });
    for name in ["deepCopy", "mustDeepCopy"] {
        let sh = Arc::downgrade(shared);
        // A copy must be a new map: mutating it must not touch the original.
        r.f(name, move |a| {
            Ok(fresh(&super::up(&sh)?.overlay.resolve_deep(arg(a, 0))))
        });
    }
    let sh = Arc::downgrade(shared);
    r.f("index", move |a| {
        let mut cur = super::up(&sh)?.overlay.resolve(arg(a, 0));
        for k in a.iter().skip(1) {
            cur = match (&cur, k) {
                (Value::Map(m), _) => m.get(strval(k).as_str()).cloned().unwrap_or(Value::Nil),
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
            cur = super::up(&sh)?.overlay.resolve(cur);
        }
        Ok(cur)
    });
    r.f("dict", |a| {
        let mut t = Table::new();
        for pair in a.chunks(2) {
            t.insert(
                Arc::from(strval(&pair[0]).as_str()),
                pair.get(1).cloned().unwrap_or(Value::Nil),
            );
        }
        Ok(dict(t))
    });
    let sh = Arc::downgrade(shared);
    r.f("set", move |a| {
        let target = super::up(&sh)?.overlay.resolve(arg(a, 0));
        let mut t = to_table(&target);
        t.insert(Arc::from(sarg(a, 1).as_str()), arg(a, 2));
        let new = dict(t);
        super::up(&sh)?.overlay.replace(&target, new.clone());
        Ok(new)
    });
    let sh = Arc::downgrade(shared);
    r.f("unset", move |a| {
        let target = super::up(&sh)?.overlay.resolve(arg(a, 0));
        let mut t = to_table(&target);
        t.remove(sarg(a, 1).as_str());
        let new = dict(t);
        super::up(&sh)?.overlay.replace(&target, new.clone());
        Ok(new)
    });
    let sh = Arc::downgrade(shared);
    r.f("hasKey", move |a| {
        let t = to_table(&super::up(&sh)?.overlay.resolve(arg(a, 0)));
        Ok(Value::Bool(t.contains_key(sarg(a, 1).as_str())))
    });
    let sh = Arc::downgrade(shared);
    r.f("get", move |a| {
        let t = to_table(&super::up(&sh)?.overlay.resolve(arg(a, 0)));
        Ok(t.get(sarg(a, 1).as_str())
            .cloned()
            .unwrap_or_else(|| Value::String("".into())))
    });
    r.f("keys", |a| {
        let mut out = Vec::new();
        for d in a {
            out.extend(to_table(d).keys().map(|k| Value::String(k.clone())));
        }
        Ok(Value::List(out.into()))
    });
    r.f("values", |a| {
        Ok(Value::List(
            to_table(&arg(a, 0)).values().cloned().collect(),
        ))
    });
    r.f("pluck", |a| {
        let k = sarg(a, 0);
        Ok(Value::List(
            a[1.min(a.len())..]
                .iter()
                .filter_map(|d| to_table(d).get(k.as_str()).cloned())
                .collect(),
        ))
    });
    r.f("pick", |a| {
        let t = to_table(&arg(a, 0));
        let keys: Vec<String> = a.iter().skip(1).map(strval).collect();
        Ok(dict(
            t.into_iter()
                .filter(|(k, _)| keys.iter().any(|x| x == &**k))
                .collect(),
        ))
    });
    r.f("omit", |a| {
        let t = to_table(&arg(a, 0));
        let keys: Vec<String> = a.iter().skip(1).map(strval).collect();
        Ok(dict(
            t.into_iter()
                .filter(|(k, _)| !keys.iter().any(|x| x == &**k))
                .collect(),
        ))
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
                Value::Map(m) => match m.get(strval(k).as_str()) {
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
                merge_into(
                    &mut dst,
                    &to_table(&super::up(&sh)?.overlay.resolve_deep(src.clone())),
                    overwrite,
                );
            }
            let new = dict(dst);
            super::up(&sh)?
                .overlay
                .replace(&super::up(&sh)?.overlay.resolve(arg(a, 0)), new.clone());
            Ok(new)
        });
    }
}
