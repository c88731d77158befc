//! Helm's `toToml` and `mustToToml`: the output of BurntSushi/toml's encoder
//! (v1.6, what helm v4 links), which is not a general TOML writer: keys are
//! sorted with plain values before tables, nested tables are indented, floats
//! always carry a decimal point, and arrays of maps become `[[tables]]`.

use gotmpl::Value;

use super::{R, Reg, arg, err, s};
use crate::coalesce::Table;

const NIL_IN_ARRAY: &str = "toml: cannot encode array with nil element";
const NO_KEY: &str = "toml: top-level values must be Go maps or structs";

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Table,
    TableArray,
    Nil,
}

/// Helm's hidden map keys (a time's nanoseconds, an object's print form) are
/// not data.
fn visible(t: &Table) -> impl Iterator<Item = (&str, &Value)> {
    t.iter()
        .filter(|(k, _)| !k.starts_with('\u{0}'))
        .map(|(k, v)| (&**k, v))
}

/// The encoder's `tomlTypeOfGo`: what a value becomes, and whether a `nil`
/// hides in an array (an error wherever the type is asked).
fn kind(v: &Value) -> Result<Kind, String> {
    Ok(match v {
        Value::Nil => Kind::Nil,
        Value::Map(_) if super::dates::time_nanos(v).is_some() => Kind::Plain,
        Value::Map(_) => Kind::Table,
        Value::List(l) => {
            let mut all_tables = !l.is_empty();
            for x in l.iter() {
                match kind(x)? {
                    Kind::Nil => return Err(NIL_IN_ARRAY.into()),
                    Kind::Table => {}
                    _ => all_tables = false,
                }
            }
            if all_tables {
                Kind::TableArray
            } else {
                Kind::Plain
            }
        }
        Value::Function(_) => return Err("toml: unsupported type: func".into()),
        _ => Kind::Plain,
    })
}

fn bare(piece: &str) -> bool {
    !piece.is_empty()
        && piece
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{0}'..='\u{1f}' | '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key_piece(piece: &str) -> String {
    if piece.is_empty() {
        "\"\"".into()
    } else if bare(piece) {
        piece.to_string()
    } else {
        quoted(piece)
    }
}

fn dotted(key: &[String]) -> String {
    key.iter()
        .map(|k| key_piece(k))
        .collect::<Vec<_>>()
        .join(".")
}

fn float(f: f64) -> String {
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f.is_nan() {
        return format!("{sign}nan");
    }
    if f.is_infinite() {
        return format!("{sign}inf");
    }
    let g = crate::gofmt::float_g(f);
    if g.contains(['e', '.']) { g } else { g + ".0" }
}

struct Encoder {
    out: String,
}

impl Encoder {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(&mut self, key: &[String]) {
        self.out.push_str(&"  ".repeat(key.len().saturating_sub(1)));
    }

    fn encode(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        match kind(v)? {
            Kind::Nil => Ok(()),
            Kind::Plain => self.key_value(key, v, false),
            Kind::TableArray => self.table_array(key, v),
            Kind::Table => self.table(key, v),
        }
    }

    fn key_value(&mut self, key: &[String], v: &Value, inline: bool) -> Result<(), String> {
        let Some(last) = key.last() else {
            return self.element(v);
        };
        self.indent(key);
        self.out.push_str(&key_piece(last));
        self.out.push_str(" = ");
        self.element(v)?;
        if !inline {
            self.newline();
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> Result<(), String> {
        if let Some(nanos) = super::dates::time_nanos(v) {
            // Local kinds (from `fromToml`) print without their zone.
            let zone = super::dates::time_zone(v);
            let layout = match zone.name.as_str() {
                "datetime-local" => "2006-01-02T15:04:05.999999999",
                "date-local" => "2006-01-02",
                "time-local" => "15:04:05.999999999",
                _ => "2006-01-02T15:04:05.999999999Z07:00",
            };
            self.out
                .push_str(&super::dates::format_in(layout, nanos, &zone));
            return Ok(());
        }
        match v {
            Value::String(t) => self.out.push_str(&quoted(t)),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => self.out.push_str(&i.to_string()),
            Value::Uint(u) => self.out.push_str(&u.to_string()),
            Value::Float(f) => self.out.push_str(&float(*f)),
            Value::List(l) => {
                self.out.push('[');
                for (i, x) in l.iter().enumerate() {
                    self.element(x)?;
                    if i + 1 != l.len() {
                        self.out.push_str(", ");
                    }
                }
                self.out.push(']');
            }
            Value::Map(m) => self.map(&[], m, true)?,
            Value::Nil => return Err("toml: unexpected type: <nil>".into()),
            Value::Function(_) => return Err("toml: unsupported type: func".into()),
        }
        Ok(())
    }

    fn table_array(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        if key.is_empty() {
            return Err(NO_KEY.into());
        }
        let Value::List(l) = v else { return Ok(()) };
        for x in l.iter() {
            let Value::Map(m) = x else { continue };
            self.newline();
            self.indent(key);
            self.out.push_str(&format!("[[{}]]", dotted(key)));
            self.newline();
            self.map(key, m, false)?;
        }
        Ok(())
    }

    fn table(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        let Value::Map(m) = v else { return Ok(()) };
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            self.indent(key);
            self.out.push_str(&format!("[{}]", dotted(key)));
            self.newline();
        }
        self.map(key, m, false)
    }

    fn map(&mut self, key: &[String], m: &Table, inline: bool) -> Result<(), String> {
        let mut direct = Vec::new();
        let mut sub = Vec::new();
        for (k, v) in visible(m) {
            match kind(v)? {
                Kind::Table | Kind::TableArray => sub.push((k, v)),
                _ => direct.push((k, v)),
            }
        }
        if inline {
            self.out.push('{');
        }
        let trailing_comma = !sub.is_empty();
        for (group, trail) in [(direct, trailing_comma), (sub, false)] {
            let n = group.len();
            for (i, (k, v)) in group.into_iter().enumerate() {
                if matches!(v, Value::Nil) {
                    continue;
                }
                let mut path = key.to_vec();
                path.push(k.to_string());
                if inline {
                    self.key_value(&path[path.len() - 1..], v, true)?;
                    if trail || i + 1 != n {
                        self.out.push_str(", ");
                    }
                } else {
                    self.encode(&path, v)?;
                }
            }
        }
        if inline {
            self.out.push('}');
        }
        Ok(())
    }
}

/// Go's encoder panics on a nil interface; Helm reports the panic.
const NIL_PANIC: &str = "reflect: call of reflect.Value.Type on zero Value";

/// The encoder's output for `v`, or its error text.
pub fn to_toml(v: &Value) -> Result<String, String> {
    let mut enc = Encoder { out: String::new() };
    enc.encode(&[], v)?;
    Ok(enc.out)
}

/// A TOML datetime as BurntSushi/toml decodes it: a `time.Time` at its
/// offset, local ones in zones named for their kind (a bare time falls on
/// 0000-01-01).
fn datetime(d: &toml::value::Datetime) -> Value {
    use super::dates::{Zone, time_value_in};
    use super::time_parse::days_from_civil;
    let (year, month, day) = d.date.map_or((0, 1, 1), |x| {
        (i64::from(x.year), i64::from(x.month), i64::from(x.day))
    });
    let (hour, minute, second, nanos) = d.time.map_or((0, 0, 0, 0), |t| {
        (
            i64::from(t.hour),
            i64::from(t.minute),
            i64::from(t.second.unwrap_or(0)),
            i128::from(t.nanosecond.unwrap_or(0)),
        )
    });
    let offset = match d.offset {
        Some(toml::value::Offset::Custom { minutes }) => i64::from(minutes) * 60,
        _ => 0,
    };
    let clock = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let instant = i128::from(clock - offset) * 1_000_000_000 + nanos;
    // Local kinds get BurntSushi's named zones at the local offset (UTC).
    let local = match (d.date, d.time) {
        (Some(_), Some(_)) => "datetime-local",
        (Some(_), None) => "date-local",
        _ => "time-local",
    };
    let zone = match d.offset {
        None => Zone {
            offset: 0,
            name: local.into(),
        },
        Some(_) if offset == 0 => Zone::utc(),
        Some(_) => Zone {
            offset,
            name: String::new(),
        },
    };
    time_value_in(instant, &zone)
}

fn from_toml_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(t) => s(t.as_str()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => datetime(d),
        toml::Value::Array(a) => Value::List(a.iter().map(from_toml_value).collect()),
        toml::Value::Table(t) => Value::Map(std::sync::Arc::new(
            t.iter()
                .map(|(k, x)| (k.as_str().into(), from_toml_value(x)))
                .collect(),
        )),
    }
}

/// Helm's `fromToml`: a document's table, or `Error` holding the parse error
/// (the toml crate's wording, not BurntSushi's).
pub fn from_toml(text: &str) -> Value {
    match text.parse::<toml::Table>() {
        Ok(t) => from_toml_value(&toml::Value::Table(t)),
        Err(e) => {
            let mut t = Table::new();
            t.insert("Error".into(), s(e.to_string().trim_end()));
            Value::Map(std::sync::Arc::new(t))
        }
    }
}

pub fn register(r: &mut Reg) {
    r.f("fromToml", |a| Ok(from_toml(&super::sarg(a, 0))));
    // Helm returns the encoder's error text as the result; only the panic
    // on nil fails the render.
    r.f("toToml", |a| match arg(a, 0) {
        Value::Nil => Err(err(NIL_PANIC)),
        v => Ok(s(to_toml(&v).unwrap_or_else(|e| e))),
    });
    r.f("mustToToml", |a| -> R {
        match arg(a, 0) {
            Value::Nil => Err(err(NIL_PANIC)),
            v => to_toml(&v).map(s).map_err(err),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(Arc::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), v.clone()))
                .collect(),
        ))
    }

    #[test]
    fn tables_follow_plain_keys_and_indent() {
        let v = map(&[
            ("z", Value::Int(1)),
            ("a", map(&[("b c", Value::Float(2.0)), ("d", map(&[]))])),
            (
                "arr",
                Value::List(Arc::from(vec![map(&[("x", Value::Bool(true))])])),
            ),
        ]);
        assert_eq!(
            to_toml(&v).unwrap(),
            "z = 1\n\n[a]\n  \"b c\" = 2.0\n  [a.d]\n\n[[arr]]\n  x = true\n"
        );
    }

    #[test]
    fn nil_in_arrays_and_top_level_arrays_are_errors() {
        let v = map(&[("l", Value::List(Arc::from(vec![Value::Nil])))]);
        assert_eq!(to_toml(&v).unwrap_err(), NIL_IN_ARRAY);
        let v = Value::List(Arc::from(vec![map(&[])]));
        assert_eq!(to_toml(&v).unwrap_err(), NO_KEY);
    }
}
