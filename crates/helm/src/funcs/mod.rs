//! The function map templates see: Sprig's families and Helm's own functions.

use std::sync::Arc;

use gotmpl::{TemplateError, Value};

use crate::engine::Shared;
use crate::gofmt;
use crate::template::exec::Funcs;

mod aes_cbc;
pub(crate) mod dates;
mod dicts;
pub(crate) mod durations;
mod encoding;
mod helm;
mod lists;
mod master_password;
mod math;
mod pki;
mod random;
pub mod semver;
mod sprig_extras;
mod strings;
mod time_parse;
mod toml;
mod url;
mod zones;

pub type R = Result<Value, TemplateError>;

pub fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

/// Sprig's `strval`: strings as they are, everything else through `fmt.Sprint`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => gofmt::sprint(other),
    }
}

/// [`strval`] without a copy when the value is already a string.
pub fn str_of(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(gofmt::sprint(other)),
    }
}

/// Argument `i` as text ([`str_of`]); empty when absent.
pub fn sarg_ref(args: &[Value], i: usize) -> std::borrow::Cow<'_, str> {
    args.get(i).map_or(std::borrow::Cow::Borrowed(""), str_of)
}

/// A map key from a value: a string key shares its text.
pub fn key_of(v: &Value) -> Arc<str> {
    match v {
        Value::String(s) => s.clone(),
        other => Arc::from(gofmt::sprint(other)),
    }
}

pub fn s(v: impl Into<Arc<str>>) -> Value {
    Value::String(v.into())
}

pub fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

pub fn sarg(args: &[Value], i: usize) -> String {
    args.get(i).map(strval).unwrap_or_default()
}

/// cast.ToInt64: numbers truncate, strings parse (base prefixes allowed), else 0.
pub fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Uint(u) => *u as i64,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => *b as i64,
        Value::String(s) => {
            let t = s.trim();
            let t = t.strip_suffix(".0").unwrap_or(t);
            gofmt::parse_go_int(t).map(|n| n as i64).unwrap_or(0)
        }
        _ => 0,
    }
}

pub fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Uint(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => *b as i64 as f64,
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `empty`.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Function(_) => false,
    }
}

pub fn list_of(v: &Value) -> Result<Vec<Value>, TemplateError> {
    match v {
        Value::List(l) => Ok(l.to_vec()),
        Value::Nil => Ok(Vec::new()),
        other => Err(err(format!("Cannot find first on type {}", kind_of(other)))),
    }
}

/// Go's reflect kind names, as `kindOf` reports them.
pub fn kind_of(v: &Value) -> &'static str {
    if dates::time_nanos(v).is_some() || pki::is_certificate(v) {
        return "struct";
    }
    if durations::nanos(v).is_some() {
        return "int64";
    }
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        // Template literals, `int` and `len` give Go ints; Sprig's int64
        // results are rarer in kind checks.
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Function(_) => "func",
    }
}

pub fn type_of(v: &Value) -> &'static str {
    if dates::time_nanos(v).is_some() {
        return "time.Time";
    }
    if pki::is_certificate(v) {
        return "sprig.certificate";
    }
    if durations::nanos(v).is_some() {
        return "time.Duration";
    }
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
        Value::Function(_) => "func",
    }
}

pub fn to_yaml_string(v: &Value) -> String {
    match crate::yaml::to_yaml(v) {
        Ok(s) => s.strip_suffix('\n').unwrap_or(&s).to_string(),
        Err(_) => String::new(),
    }
}

/// The render's shared state, from the weak handle functions keep (a strong
/// one would make a cycle through the template that holds the functions).
pub fn up(w: &std::sync::Weak<Shared>) -> Result<Arc<Shared>, TemplateError> {
    w.upgrade().ok_or_else(|| err("render state is gone"))
}

pub(crate) struct Reg<'a>(pub &'a mut Funcs);

impl Reg<'_> {
    pub fn f(&mut self, name: &str, f: impl Fn(&[Value]) -> R + Send + Sync + 'static) {
        self.0.insert(name, Arc::new(f));
    }
}

/// Whether templates can call a function `name` (ours, Sprig's or Go's): Go
/// refuses to parse a template that names any other, even where it would
/// never run.
pub fn defined(name: &str) -> bool {
    static NAMES: std::sync::LazyLock<Funcs> =
        std::sync::LazyLock::new(|| all(&Arc::new(Shared::default())));
    NAMES.get(name).is_some()
}

/// Every function (Go's builtins, Sprig's over them, Helm's), with
/// `include`/`tpl` bound to the chart's template set.
pub fn all(shared: &Arc<Shared>) -> Funcs {
    let mut m = Funcs::default();
    let mut r = Reg(&mut m);
    strings::register(&mut r);
    lists::register(&mut r);
    dates::register(&mut r);
    url::register(&mut r);
    dicts::register(&mut r, shared);
    math::register(&mut r);
    random::register(&mut r);
    encoding::register(&mut r, shared);
    semver::register(&mut r);
    aes_cbc::register(&mut r);
    master_password::register(&mut r);
    pki::register(&mut r);
    toml::register(&mut r);
    helm::register(&mut r, shared);
    sprig_extras::register(&mut r);
    durations::register(&mut r);
    sprig_extras::aliases(&mut m);
    m
}
