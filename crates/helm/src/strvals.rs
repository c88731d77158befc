//! `--set` style expressions: `a.b=c,list[0]=x,arr={a,b}`.

use std::sync::Arc;

use gotmpl::Value;

use crate::coalesce::{Table, to_table};
use crate::error::Error;

/// How the right-hand sides of a `--set*` flag are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: ints, bools and `null` are typed, the rest are strings.
    Typed,
    /// `--set-string`: always strings.
    String,
    /// `--set-json`: values are JSON.
    Json,
    /// `--set-file`: values are file paths whose contents become strings.
    File,
}

fn typed(v: &str, kind: SetKind) -> Result<Value, Error> {
    Ok(match kind {
        SetKind::String => Value::String(v.into()),
        SetKind::File => Value::String(
            std::fs::read_to_string(v)
                .map_err(|e| Error::Values(format!("open {v}: {e}")))?
                .into(),
        ),
        SetKind::Json => {
            let j: serde_json::Value = serde_json::from_str(v)
                .map_err(|e| Error::Values(format!("failed parsing --set-json data {v}: {e}")))?;
            crate::yaml::from_json(&j, true)
        }
        SetKind::Typed => match v {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Nil,
            "0" => Value::Int(0),
            _ if !v.starts_with('0') && !v.starts_with("+") => match v.parse::<i64>() {
                Ok(i) if !v.starts_with("-0") => Value::Int(i),
                _ => Value::String(v.into()),
            },
            _ => Value::String(v.into()),
        },
    })
}

/// Splits on unescaped `sep`, outside `{...}` and `[...]` when `nest`.
fn split_unescaped(s: &str, sep: char, nest: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                cur.push('\\');
                cur.push(n);
            }
            continue;
        }
        if nest && c == '{' {
            depth += 1;
        }
        if nest && c == '}' {
            depth -= 1;
        }
        if c == sep && depth <= 0 {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

enum Seg {
    Key(String),
    Index(usize),
}

fn parse_key(k: &str) -> Result<Vec<Seg>, Error> {
    let mut segs = Vec::new();
    for part in split_unescaped(k, '.', false) {
        let mut rest = part.as_str();
        let name_end = rest.find('[').unwrap_or(rest.len());
        let name = unescape(&rest[..name_end]);
        if !name.is_empty() {
            segs.push(Seg::Key(name));
        }
        rest = &rest[name_end..];
        while let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| Error::Values(format!("key {k:?} has no value")))?;
            let idx: usize = r[..end]
                .parse()
                .map_err(|_| Error::Values(format!("failed to parse index in {k:?}")))?;
            if idx > 65536 {
                return Err(Error::Values(format!(
                    "index of {idx} is greater than maximum supported index value"
                )));
            }
            segs.push(Seg::Index(idx));
            rest = &r[end + 1..];
        }
    }
    if segs.is_empty() {
        return Err(Error::Values(format!("key {k:?} has no value")));
    }
    Ok(segs)
}

fn put(cur: Value, segs: &[Seg], v: Value) -> Value {
    match segs.first() {
        None => v,
        Some(Seg::Key(k)) => {
            let mut t = to_table(&cur);
            let child = t.get(k.as_str()).cloned().unwrap_or(Value::Nil);
            t.insert(Arc::from(k.as_str()), put(child, &segs[1..], v));
            Value::Map(Arc::new(t))
        }
        Some(Seg::Index(i)) => {
            let mut l = match cur {
                Value::List(l) => l.to_vec(),
                _ => Vec::new(),
            };
            while l.len() <= *i {
                l.push(Value::Nil);
            }
            let child = l[*i].clone();
            l[*i] = put(child, &segs[1..], v);
            Value::List(l.into())
        }
    }
}

/// Applies one `--set`-style argument to `base`.
pub fn apply(base: Value, expr: &str, kind: SetKind) -> Result<Value, Error> {
    let mut out = base;
    let parts = if kind == SetKind::Json {
        vec![expr.to_string()]
    } else {
        split_unescaped(expr, ',', true)
    };
    for part in parts {
        if part.is_empty() {
            continue;
        }
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| Error::Values(format!("key {:?} has no value", part)))?;
        let segs = parse_key(k)?;
        let value = if kind != SetKind::Json && v.starts_with('{') && v.ends_with('}') {
            let inner = &v[1..v.len() - 1];
            let items: Result<Vec<Value>, Error> = split_unescaped(inner, ',', false)
                .iter()
                .map(|x| typed(&unescape(x), kind))
                .collect();
            Value::List(items?.into())
        } else if kind == SetKind::Json {
            typed(v, kind)?
        } else {
            typed(&unescape(v), kind)?
        };
        out = put(out, &segs, value);
    }
    Ok(out)
}

/// An empty value tree, to start merging from.
pub fn empty() -> Value {
    Value::Map(Arc::new(Table::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_types_ints_bools_and_nests_keys() {
        let v = apply(empty(), "a.b=1,c=true,d=x,e[1]=y,f={p,q}", SetKind::Typed).unwrap();
        assert_eq!(
            crate::funcs::to_yaml_string(&v),
            "a:\n  b: 1\nc: true\nd: x\ne:\n- null\n- \"y\"\nf:\n- p\n- q"
        );
    }
}
