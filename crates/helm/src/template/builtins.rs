//! The functions Go's text/template predefines and Sprig does not replace:
//! comparisons, `and`/`or`/`not`, `len`, `print`/`println`, `call` and the
//! three escapers. (`index`, `slice` and `printf` are Sprig's or ours, in
//! `funcs`.) Error texts are gotmpl 0.6.1's, which the engine ran before it
//! ran templates itself, and which `exec_error` and the error tests expect.

use std::cmp::Ordering;
use std::sync::Arc;

use gotmpl::{TemplateError, Value, ValueFunc};

use crate::gofmt;

type R = Result<Value, TemplateError>;

fn exec(msg: String) -> TemplateError {
    TemplateError::Exec(msg)
}

fn arity(name: &str, args: &[Value], want: usize, exact: bool) -> Result<(), TemplateError> {
    let ok = if exact {
        args.len() == want
    } else {
        args.len() >= want
    };
    if ok {
        Ok(())
    } else {
        Err(TemplateError::ArgCount {
            name: name.to_string(),
            expected: want,
            got: args.len(),
        })
    }
}

/// Go's `eq` on basic kinds: ints and uints compare by value, a nil equals
/// only nil, lists, maps and functions are not comparable.
fn equal(a: &Value, b: &Value) -> Result<bool, TemplateError> {
    use Value::*;
    Ok(match (a, b) {
        (Nil, Nil) => true,
        (Nil, _) | (_, Nil) => false,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Uint(x), Uint(y)) => x == y,
        (Int(i), Uint(u)) | (Uint(u), Int(i)) => u64::try_from(*i).is_ok_and(|i| i == *u),
        (Float(x), Float(y)) => x == y,
        (String(x), String(y)) => x == y,
        (List(_), List(_)) | (Map(_), Map(_)) | (Function(_), Function(_)) => {
            return Err(exec(format!("non-comparable type {}", a.type_name())));
        }
        _ => return Err(incompatible(a, b)),
    })
}

fn incompatible(a: &Value, b: &Value) -> TemplateError {
    exec(format!(
        "incompatible types for comparison: {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

/// Go's ordering of basic kinds (`lt`, `le`, `gt`, `ge`).
fn order(a: &Value, b: &Value) -> Result<Ordering, TemplateError> {
    use Value::*;
    let invalid = || exec("invalid type for comparison".into());
    match (a, b) {
        (Int(x), Int(y)) => Ok(x.cmp(y)),
        (Uint(x), Uint(y)) => Ok(x.cmp(y)),
        (Int(i), Uint(u)) => Ok(u64::try_from(*i).map_or(Ordering::Less, |i| i.cmp(u))),
        (Uint(u), Int(i)) => Ok(u64::try_from(*i).map_or(Ordering::Greater, |i| u.cmp(&i))),
        (Float(x), Float(y)) => x.partial_cmp(y).ok_or_else(invalid),
        (String(x), String(y)) => Ok(x.cmp(y)),
        _ if a.type_name() != b.type_name() => Err(incompatible(a, b)),
        _ => Err(invalid()),
    }
}

fn ordering(name: &'static str, holds: fn(Ordering) -> bool) -> (&'static str, ValueFunc) {
    (
        name,
        Arc::new(move |a: &[Value]| {
            arity(name, a, 2, true)?;
            Ok(Value::Bool(holds(order(&a[0], &a[1])?)))
        }),
    )
}

/// The first argument that decides `and` (falsy) or `or` (truthy), else
/// the last. The executor short-circuits both; these are for a bare `and`.
fn logic(name: &'static str, stops_on: bool) -> (&'static str, ValueFunc) {
    (
        name,
        Arc::new(move |a: &[Value]| {
            arity(name, a, 1, false)?;
            Ok(a.iter()
                .find(|v| v.is_truthy() == stops_on)
                .or(a.last())
                .cloned()
                .unwrap_or(Value::Nil))
        }),
    )
}

/// `fmt.Sprint`: a space between two operands when neither is a string.
fn sprint(a: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in a.iter().enumerate() {
        if i > 0 && !matches!(v, Value::String(_)) && !matches!(a[i - 1], Value::String(_)) {
            out.push(' ');
        }
        push_value(&mut out, v);
    }
    out
}

fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        other => out.push_str(&gofmt::sprint(other)),
    }
}

/// What the escapers see: Go's "no value" for nil.
fn escaped(name: &'static str, f: fn(&str) -> String) -> (&'static str, ValueFunc) {
    (
        name,
        Arc::new(move |a: &[Value]| {
            arity(name, a, 1, true)?;
            let text = match &a[0] {
                Value::Nil => "<no value>".into(),
                Value::String(s) => s.to_string(),
                other => gofmt::sprint(other),
            };
            Ok(Value::String(f(&text).into()))
        }),
    )
}

/// Every builtin, by name.
pub fn all() -> Vec<(&'static str, ValueFunc)> {
    let f = |name: &'static str, f: fn(&[Value]) -> R| -> (&'static str, ValueFunc) {
        (name, Arc::new(f))
    };
    vec![
        f("eq", |a| {
            arity("eq", a, 2, false)?;
            for b in &a[1..] {
                if equal(&a[0], b)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }),
        f("ne", |a| {
            arity("ne", a, 2, true)?;
            Ok(Value::Bool(!equal(&a[0], &a[1])?))
        }),
        ordering("lt", Ordering::is_lt),
        ordering("le", Ordering::is_le),
        ordering("gt", Ordering::is_gt),
        ordering("ge", Ordering::is_ge),
        logic("and", false),
        logic("or", true),
        f("not", |a| {
            arity("not", a, 1, true)?;
            Ok(Value::Bool(!a[0].is_truthy()))
        }),
        f("len", |a| {
            arity("len", a, 1, true)?;
            match a[0].len() {
                Some(n) => Ok(Value::Int(n as i64)),
                None => Err(exec(format!("len: cannot take length of {}", a[0]))),
            }
        }),
        f("print", |a| Ok(Value::String(sprint(a).into()))),
        f("println", |a| {
            let mut out = String::new();
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                push_value(&mut out, v);
            }
            out.push('\n');
            Ok(Value::String(out.into()))
        }),
        f("call", |a| {
            arity("call", a, 1, false)?;
            call(&a[0], &a[1..])
        }),
        escaped("html", gotmpl::html_escape),
        escaped("js", gotmpl::js_escape),
        escaped("urlquery", gotmpl::url_encode),
    ]
}

/// Calls a function value (`call f x`, or a method: `.Files.Get "x"`).
pub fn call(f: &Value, args: &[Value]) -> R {
    match f {
        Value::Function(f) => f(args),
        Value::Nil => Err(exec("call of nil".into())),
        other => Err(exec(format!(
            "call: non-function value of type {}",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: &[Value]) -> R {
        let (_, f) = all().into_iter().find(|(n, _)| *n == name).expect(name);
        f(args)
    }

    #[test]
    fn comparisons_follow_go_on_basic_kinds() {
        let (i, u, s) = (Value::Int, Value::Uint, |x: &str| Value::String(x.into()));
        assert_eq!(run("eq", &[i(1), u(1)]).unwrap(), Value::Bool(true));
        assert_eq!(
            run("eq", &[i(-1), u(u64::MAX)]).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            run("eq", &[s("a"), s("b"), s("a")]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(run("eq", &[Value::Nil, s("")]).unwrap(), Value::Bool(false));
        assert_eq!(run("lt", &[i(-1), u(0)]).unwrap(), Value::Bool(true));
        assert_eq!(run("ge", &[s("b"), s("a")]).unwrap(), Value::Bool(true));
        assert_eq!(
            run("eq", &[i(1), s("1")]).unwrap_err().to_string(),
            "execution error: incompatible types for comparison: int and string"
        );
        assert_eq!(
            run("lt", &[Value::Bool(true), Value::Bool(false)])
                .unwrap_err()
                .to_string(),
            "execution error: invalid type for comparison"
        );
        assert!(run("ne", &[i(1)]).is_err());
    }

    #[test]
    fn print_spaces_operands_as_go_does() {
        let (i, s) = (Value::Int, |x: &str| Value::String(x.into()));
        assert_eq!(
            run("print", &[i(1), i(2), s("a"), i(3)]).unwrap(),
            s("1 2a3")
        );
        assert_eq!(run("print", &[Value::Float(1e6)]).unwrap(), s("1e+06"));
        assert_eq!(run("println", &[s("a"), i(1)]).unwrap(), s("a 1\n"));
        assert_eq!(run("html", &[Value::Nil]).unwrap(), s("&lt;no value&gt;"));
    }

    #[test]
    fn and_or_pick_the_deciding_argument() {
        let i = Value::Int;
        assert_eq!(run("and", &[i(1), i(0), i(2)]).unwrap(), i(0));
        assert_eq!(run("and", &[i(1), i(2)]).unwrap(), i(2));
        assert_eq!(run("or", &[i(0), i(3), i(0)]).unwrap(), i(3));
        assert_eq!(run("or", &[i(0), Value::Nil]).unwrap(), Value::Nil);
        assert!(run("and", &[]).is_err());
    }
}
