//! Sprig's list functions.

use std::sync::Arc;

use super::{Reg, arg, err, kind_of, list_of, strval, to_i64};
use gotmpl::Value;

fn list(v: Vec<Value>) -> Value {
    Value::List(Arc::from(v))
}

fn eq(a: &Value, b: &Value) -> bool {
    kind_of(a) == kind_of(b) && crate::gofmt::sprint(a) == crate::gofmt::sprint(b)
}

pub fn register(r: &mut Reg) {
    r.f("list", |a| Ok(list(a.to_vec())));
    r.f("tuple", |a| Ok(list(a.to_vec())));
    for name in ["first", "mustFirst"] {
        r.f(name, |a| {
            Ok(list_of(&arg(a, 0))?.first().cloned().unwrap_or(Value::Nil))
        });
    }
    for name in ["last", "mustLast"] {
        r.f(name, |a| {
            Ok(list_of(&arg(a, 0))?.last().cloned().unwrap_or(Value::Nil))
        });
    }
    for name in ["rest", "mustRest"] {
        r.f(name, |a| {
            let l = list_of(&arg(a, 0))?;
            Ok(list(l.get(1..).map(<[Value]>::to_vec).unwrap_or_default()))
        });
    }
    for name in ["initial", "mustInitial"] {
        r.f(name, |a| {
            let l = list_of(&arg(a, 0))?;
            let n = l.len().saturating_sub(1);
            Ok(list(l[..n].to_vec()))
        });
    }
    for name in ["append", "push", "mustAppend", "mustPush"] {
        r.f(name, |a| {
            let mut l = list_of(&arg(a, 0))?;
            l.push(arg(a, 1));
            Ok(list(l))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        r.f(name, |a| {
            let mut l = list_of(&arg(a, 0))?;
            l.insert(0, arg(a, 1));
            Ok(list(l))
        });
    }
    r.f("concat", |a| {
        let mut out = Vec::new();
        for x in a {
            out.extend(list_of(x)?);
        }
        Ok(list(out))
    });
    for name in ["reverse", "mustReverse"] {
        r.f(name, |a| {
            let mut l = list_of(&arg(a, 0))?;
            l.reverse();
            Ok(list(l))
        });
    }
    for name in ["uniq", "mustUniq"] {
        r.f(name, |a| {
            let mut out: Vec<Value> = Vec::new();
            for x in list_of(&arg(a, 0))? {
                if !out.iter().any(|y| eq(y, &x)) {
                    out.push(x);
                }
            }
            Ok(list(out))
        });
    }
    for name in ["compact", "mustCompact"] {
        r.f(name, |a| {
            Ok(list(
                list_of(&arg(a, 0))?
                    .into_iter()
                    .filter(|x| !super::is_empty(x))
                    .collect(),
            ))
        });
    }
    for name in ["without", "mustWithout"] {
        r.f(name, |a| {
            let l = list_of(&arg(a, 0))?;
            Ok(list(
                l.into_iter()
                    .filter(|x| !a[1..].iter().any(|y| eq(x, y)))
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        r.f(name, |a| {
            Ok(Value::Bool(
                list_of(&arg(a, 1))?.iter().any(|x| eq(x, &arg(a, 0))),
            ))
        });
    }
    r.f("sortAlpha", |a| {
        // Sprig's strslice drops nils.
        let mut l: Vec<String> = list_of(&arg(a, 0))?
            .iter()
            .filter(|x| !matches!(x, Value::Nil))
            .map(strval)
            .collect();
        l.sort();
        Ok(list(
            l.into_iter().map(|x| Value::String(x.into())).collect(),
        ))
    });
    // Sprig's, which replaces Go's builtin `slice` in Helm: lists only, at
    // most two indices (any that cast to an int), nil for an empty list.
    // `slice` panics where `mustSlice` errs; Helm reports both the same way.
    for name in ["slice", "mustSlice"] {
        r.f(name, |a| {
            let l = match arg(a, 0) {
                Value::List(l) => l,
                Value::Nil => {
                    return Err(err(
                        "runtime error: invalid memory address or nil pointer dereference",
                    ));
                }
                other => {
                    return Err(err(format!(
                        "list should be type of slice or array but {}",
                        kind_of(&other)
                    )));
                }
            };
            if l.is_empty() {
                return Ok(Value::Nil);
            }
            let start = a.get(1).map_or(0, to_i64);
            let end = a.get(2).map_or(l.len() as i64, to_i64);
            if start < 0 || end < start || end > l.len() as i64 {
                return Err(err("reflect.Value.Slice: slice index out of bounds"));
            }
            Ok(list(l[start as usize..end as usize].to_vec()))
        });
    }
    r.f("until", |a| {
        let n = to_i64(&arg(a, 0));
        Ok(list(range(0, n, if n < 0 { -1 } else { 1 })))
    });
    r.f("untilStep", |a| {
        Ok(list(range(
            to_i64(&arg(a, 0)),
            to_i64(&arg(a, 1)),
            to_i64(&arg(a, 2)),
        )))
    });
    r.f("seq", |a| {
        let nums: Vec<i64> = a.iter().map(to_i64).collect();
        let v = match nums.as_slice() {
            [e] => range(1, e + 1, 1),
            [s, e] => {
                if s <= e {
                    range(*s, e + 1, 1)
                } else {
                    range(*s, e - 1, -1)
                }
            }
            [s, st, e] => {
                if *st == 0 {
                    vec![]
                } else {
                    range(*s, if st > &0 { e + 1 } else { e - 1 }, *st)
                }
            }
            _ => vec![],
        };
        Ok(Value::String(
            v.iter()
                .map(crate::gofmt::sprint)
                .collect::<Vec<_>>()
                .join(" ")
                .into(),
        ))
    });
    r.f("chunk", |a| {
        let n = to_i64(&arg(a, 0)).max(1) as usize;
        Ok(list(
            list_of(&arg(a, 1))?
                .chunks(n)
                .map(|c| list(c.to_vec()))
                .collect(),
        ))
    });
    r.f("sortedKeys", |_| {
        Err(err("sortedKeys is not a Sprig function"))
    });
}

fn range(start: i64, stop: i64, step: i64) -> Vec<Value> {
    let mut out = Vec::new();
    if step == 0 {
        return out;
    }
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(Value::Int(i));
        if out.len() > 1 << 20 {
            break;
        }
        i += step;
    }
    out
}
