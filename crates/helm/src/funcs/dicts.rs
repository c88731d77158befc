//! Sprig's dict functions. gotmpl maps are immutable: `set`, `unset` and
//! `merge` return the changed dict, and the rewriter assigns it back when the
//! target is a variable.

use std::sync::Arc;

use super::{Reg, arg, err, sarg, strval};
use crate::coalesce::{Table, to_table};
use gotmpl::Value;

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

pub fn register(r: &mut Reg) {
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
    r.f("set", |a| {
        let mut t = to_table(&arg(a, 0));
        t.insert(Arc::from(sarg(a, 1).as_str()), arg(a, 2));
        Ok(dict(t))
    });
    r.f("unset", |a| {
        let mut t = to_table(&arg(a, 0));
        t.remove(sarg(a, 1).as_str());
        Ok(dict(t))
    });
    r.f("hasKey", |a| {
        Ok(Value::Bool(
            to_table(&arg(a, 0)).contains_key(sarg(a, 1).as_str()),
        ))
    });
    r.f("get", |a| {
        Ok(to_table(&arg(a, 0))
            .get(sarg(a, 1).as_str())
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
        r.f(name, move |a| {
            let mut dst = to_table(&arg(a, 0));
            for src in a.iter().skip(1) {
                merge_into(&mut dst, &to_table(src), overwrite);
            }
            Ok(dict(dst))
        });
    }
}
