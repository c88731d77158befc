//! JSON as Go's `encoding/json` writes it, which kustomize hashes to name
//! generated ConfigMaps and Secrets: compact, map keys in byte order, `<`, `>`
//! and `&` escaped as `\u003c` etc. serde_json writes these characters raw, so
//! the hash would differ; that is why this small encoder exists.

use crate::value::Value;

pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::UInt(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&format_float_json(*f)),
        Value::String(s) => write_str(s, out),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(item, out);
            }
            out.push('}');
        }
    }
}

pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Shortest round-trip digits and decimal exponent of `f` (which is finite
/// and non-zero): `1234.5` gives ("12345", 3).
fn digits(f: f64) -> (String, i32) {
    let e = format!("{:e}", f.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    (mant.replace('.', ""), exp)
}

fn sign(f: f64) -> &'static str {
    if f.is_sign_negative() { "-" } else { "" }
}

/// `strconv.FormatFloat(f, 'e', -1, 64)`.
fn go_e(f: f64) -> String {
    let (d, exp) = digits(f);
    let mut s = String::from(sign(f));
    s.push_str(&d[..1]);
    if d.len() > 1 {
        s.push('.');
        s.push_str(&d[1..]);
    }
    s.push('e');
    s.push(if exp < 0 { '-' } else { '+' });
    s.push_str(&format!("{:02}", exp.abs()));
    s
}

/// `strconv.FormatFloat(f, 'f', -1, 64)`.
fn go_f(f: f64) -> String {
    let (d, exp) = digits(f);
    let mut s = String::from(sign(f));
    if exp < 0 {
        s.push_str("0.");
        for _ in 0..(-exp - 1) {
            s.push('0');
        }
        s.push_str(&d);
    } else {
        let point = exp as usize + 1;
        if d.len() <= point {
            s.push_str(&d);
            for _ in d.len()..point {
                s.push('0');
            }
        } else {
            s.push_str(&d[..point]);
            s.push('.');
            s.push_str(&d[point..]);
        }
    }
    s
}

/// A float as Go's JSON encoder writes it.
pub fn format_float_json(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        // Go trims the exponent to at least one digit here: 1e-07 -> 1e-7.
        let e = go_e(f);
        let (m, x) = e.split_once('e').unwrap_or((&e, "+0"));
        let (sgn, num) = x.split_at(1);
        let num = num.trim_start_matches('0');
        format!("{m}e{sgn}{}", if num.is_empty() { "0" } else { num })
    } else {
        go_f(f)
    }
}

/// A float as it appears in kustomize's output: JSON first, then go-yaml v2
/// reads integral values back as integers and prints the rest with `%g`.
pub fn format_float(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return format!("{}", f as i64);
    }
    if f.fract() == 0.0 && f > 0.0 && f < 1.8e19 {
        return format!("{}", f as u64);
    }
    let (_, exp) = digits(f);
    if !(-4..21).contains(&exp) || exp >= 6 {
        go_e(f)
    } else {
        go_f(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_like_go() {
        assert_eq!(
            to_string(&Value::from("a<b>&c")),
            r#""a\u003cb\u003e\u0026c""#
        );
    }

    #[test]
    fn floats_print_like_kustomize_output() {
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(0.000001), "1e-06");
        assert_eq!(format_float(1234567.5), "1.2345675e+06");
        assert_eq!(format_float(1.5e10), "15000000000");
        assert_eq!(format_float(123.25), "123.25");
    }

    #[test]
    fn floats_encode_like_go_json() {
        assert_eq!(format_float_json(1e-7), "1e-7");
        assert_eq!(format_float_json(1e21), "1e+21");
        assert_eq!(format_float_json(0.25), "0.25");
        assert_eq!(format_float_json(1234.0), "1234");
    }
}
