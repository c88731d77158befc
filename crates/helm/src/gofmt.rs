//! Go's `fmt` and `strconv` formatting, where the output of templates depends on
//! it (gotmpl prints floats the Rust way: `1000000` where Go prints `1e+06`).

use gotmpl::Value;

/// `strconv.FormatFloat(f, 'g', -1, 64)`, which is also `fmt`'s `%v` for floats.
pub fn float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, like Go's.
    let sci = format!("{:e}", f);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    // Shortest formatting switches to an exponent outside 1e-4 .. 1e6.
    if !(-4..6).contains(&exp) {
        let mut m = String::new();
        m.push_str(&digits[..1]);
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let es = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{es}{:02}", exp.abs());
    }
    let d = digits.len() as i32;
    if exp >= d - 1 {
        let zeros = (exp - (d - 1)) as usize;
        format!("{sign}{digits}{}", "0".repeat(zeros))
    } else if exp >= 0 {
        let (a, b) = digits.split_at((exp + 1) as usize);
        format!("{sign}{a}.{b}")
    } else {
        format!("{sign}0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    }
}

/// `encoding/json`'s float encoding.
pub fn float_json(f: f64) -> String {
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = float_g_exp(f);
        return s;
    }
    // Rust's Display is the shortest round-trip form without an exponent,
    // like Go's 'f' with precision -1 (12345678901234567000, -0, 0.1).
    format!("{}", f)
}

fn float_g_exp(f: f64) -> String {
    let sci = format!("{:e}", f);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let es = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{es}{}", exp.abs())
}

/// `fmt.Sprint(v)` for one value.
pub fn sprint(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

/// A map holding this key prints as its value: Go objects with a `String()`
/// method (`.Capabilities.KubeVersion` prints `v1.33.0`).
pub const STRING_KEY: &str = "\u{0}string";

fn write_value(out: &mut String, v: &Value) {
    if let Value::Map(m) = v
        && let Some(Value::String(s)) = m.get(STRING_KEY)
    {
        out.push_str(s);
        return;
    }
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&float_g(*f)),
        Value::String(s) => out.push_str(s),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_value(out, x);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_value(out, x);
            }
            out.push(']');
        }
        Value::Function(_) => out.push_str("<func>"),
    }
}

/// `strconv.ParseInt(s, 0, 64)` (and ParseUint), for YAML's int resolution.
pub fn parse_go_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, r)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, r)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, r)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i128::from_str_radix(digits, radix).ok()?;
    let n = if neg { -n } else { n };
    if n < i64::MIN as i128 || n > u64::MAX as i128 {
        return None;
    }
    Some(n)
}

/// Whether `strconv.ParseFloat(s, 64)` accepts `s`.
pub fn parse_go_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return true;
    }
    if s.eq_ignore_ascii_case("nan") {
        return true;
    }
    if lower.contains("inf") || lower.contains("nan") {
        return false;
    }
    body.parse::<f64>().is_ok() && !body.is_empty()
}

/// `strconv.Quote`: Go's double-quoted string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    // A close approximation of unicode.IsPrint: letters, marks, numbers,
    // punctuation, symbols and the ASCII space.
    !(c.is_control()
        || (0x80..0xa0).contains(&u)
        || u == 0xad
        || (0x2000..=0x200f).contains(&u) && u != 0x2010
        || (0x2028..=0x202e).contains(&u)
        || (0x2060..=0x206f).contains(&u)
        || u == 0xfeff
        || (0xd800..=0xdfff).contains(&u)
        || (0xfff0..=0xfffb).contains(&u)
        || u == 0xa0
        || u == 0x3000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        assert_eq!(float_g(1e6), "1e+06");
        assert_eq!(float_g(123456.0), "123456");
        assert_eq!(float_g(1234567.0), "1.234567e+06");
        assert_eq!(float_g(0.5), "0.5");
        assert_eq!(float_g(0.0001), "0.0001");
        assert_eq!(float_g(0.00001), "1e-05");
        assert_eq!(float_g(3.0), "3");
        assert_eq!(float_g(-2.5), "-2.5");
        assert_eq!(float_g(1.5e300), "1.5e+300");
    }

    #[test]
    fn json_floats_switch_to_exponent_only_outside_1e_minus6_to_1e21() {
        assert_eq!(float_json(1e6), "1000000");
        assert_eq!(float_json(0.5), "0.5");
        assert_eq!(float_json(1e21), "1e+21");
        assert_eq!(float_json(1e-7), "1e-7");
    }
}
