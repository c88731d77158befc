//! How go-yaml types an untagged plain scalar. Reading uses the v3 rules;
//! printing asks whether v2 would read a string back as something else, in
//! which case the string must be quoted.

use crate::value::Value;

/// The type go-yaml v3 gives a plain scalar, as the value kustomize carries on.
pub fn resolve_v3(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match s.as_bytes()[0] {
        b'.' => match parse_go_float(s) {
            Some(f) => Value::Float(f),
            None => Value::String(s.to_string()),
        },
        b'0'..=b'9' | b'+' | b'-' => {
            if let Some(ts) = timestamp(s) {
                return Value::String(ts);
            }
            number(s).unwrap_or_else(|| Value::String(s.to_string()))
        }
        _ => Value::String(s.to_string()),
    }
}

/// Integers and floats in go-yaml's number syntax (shared by v2 and v3):
/// underscores dropped, Go's base prefixes, legacy `0755` octal.
fn number(s: &str) -> Option<Value> {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_go_int(&plain) {
        return Some(i);
    }
    if is_yaml_float(&plain)
        && let Some(f) = parse_go_float(&plain)
    {
        return Some(Value::Float(f));
    }
    let (neg, rest) = match plain.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, plain.as_str()),
    };
    for (prefix, radix) in [("0b", 2), ("0o", 8)] {
        if let Some(digits) = rest.strip_prefix(prefix) {
            if digits.is_empty() || digits.starts_with(['+', '-']) {
                return None;
            }
            let v = i64::from_str_radix(digits, radix)
                .ok()
                .map(|v| if neg { -v } else { v });
            if let Some(v) = v {
                return Some(Value::Int(v));
            }
            if !neg {
                return u64::from_str_radix(digits, radix).ok().map(Value::UInt);
            }
        }
    }
    None
}

/// `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint`.
fn parse_go_int(s: &str) -> Option<Value> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mag = u128::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= i64::MAX as u128 + 1 {
            return Some(Value::Int((-(mag as i128)) as i64));
        }
        return None;
    }
    if mag <= i64::MAX as u128 {
        Some(Value::Int(mag as i64))
    } else if mag <= u64::MAX as u128 {
        Some(Value::UInt(mag as u64))
    } else {
        None
    }
}

/// go-yaml's `yamlStyleFloat`: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Enough of `strconv.ParseFloat` for the decimal forms go-yaml hands it.
fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.starts_with("inf")
        || body.starts_with("nan")
        || body.contains('_')
        || body.contains('x')
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// A plain scalar go-yaml reads as a timestamp, rendered as Go's JSON encoder
/// writes a `time.Time`. Only the date-only form is reformatted; full
/// timestamps are written by Go exactly as RFC 3339 input spells them in the
/// common UTC case, so they pass through.
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let date_len = date_prefix(b)?;
    if date_len == b.len() {
        let (y, rest) = s.split_once('-')?;
        let (m, d) = rest.split_once('-')?;
        return Some(format!("{y}-{:0>2}-{:0>2}T00:00:00Z", m, d));
    }
    None
}

/// Length of a leading `YYYY-M-D` (one or two digit month and day).
fn date_prefix(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    let digits = |i: &mut usize, min: usize, max: usize| -> Option<()> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        (*i - start >= min).then_some(())
    };
    digits(&mut i, 4, 4)?;
    (b.get(i) == Some(&b'-')).then_some(())?;
    i += 1;
    digits(&mut i, 1, 2)?;
    (b.get(i) == Some(&b'-')).then_some(())?;
    i += 1;
    digits(&mut i, 1, 2)?;
    Some(i)
}

/// Whether go-yaml v2 would read the plain scalar `s` as anything but a
/// string, in which case its printer quotes it.
pub fn v2_reads_as_non_string(s: &str) -> bool {
    const MAP: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null",
        "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if MAP.contains(&s) {
        return true;
    }
    let typed = match s.as_bytes()[0] {
        b'.' => parse_go_float(s).is_some(),
        b'0'..=b'9' | b'+' | b'-' => {
            if is_timestamp_v2(s) {
                return true;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if parse_go_int(&plain).is_some()
                || (is_yaml_float(&plain) && parse_go_float(&plain).is_some())
            {
                return true;
            }
            if let Some(d) = plain
                .strip_prefix("0b")
                .or_else(|| plain.strip_prefix("-0b"))
            {
                return !d.is_empty() && d.chars().all(|c| c == '0' || c == '1');
            }
            false
        }
        _ => false,
    };
    typed || is_base60_float(s)
}

/// go-yaml's timestamp layouts: a date, optionally followed by `T`, `t` or a
/// space and a time.
fn is_timestamp_v2(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(n) = date_prefix(b) else {
        return false;
    };
    if n == b.len() {
        return true;
    }
    if !matches!(b[n], b'T' | b't' | b' ') {
        return false;
    }
    // A time must follow: H:M:S with one or two digit fields.
    let rest = &s[n + 1..];
    let mut parts = rest.splitn(3, ':');
    let h = parts.next().unwrap_or("");
    let m = parts.next().unwrap_or("");
    let sec = parts.next().unwrap_or("");
    let two = |x: &str| !x.is_empty() && x.len() <= 2 && x.bytes().all(|c| c.is_ascii_digit());
    if !two(h) || !two(m) || sec.len() < 2 || !sec.as_bytes()[..1].iter().all(u8::is_ascii_digit) {
        return false;
    }
    true
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let g = &b[start..i];
        let ok = match g.len() {
            1 => true,
            2 => g[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_keeps_yaml11_words_as_strings() {
        assert_eq!(resolve_v3("yes"), Value::from("yes"));
        assert_eq!(resolve_v3("on"), Value::from("on"));
        assert_eq!(resolve_v3("true"), Value::Bool(true));
    }

    #[test]
    fn v3_reads_go_numbers() {
        assert_eq!(resolve_v3("0755"), Value::Int(493));
        assert_eq!(resolve_v3("1_000"), Value::Int(1000));
        assert_eq!(resolve_v3("0x1F"), Value::Int(31));
        assert_eq!(resolve_v3("0o17"), Value::Int(15));
        assert_eq!(resolve_v3("1.5"), Value::Float(1.5));
        assert_eq!(resolve_v3(".5"), Value::Float(0.5));
        assert_eq!(
            resolve_v3("12345678901234567890"),
            Value::UInt(12345678901234567890)
        );
        assert_eq!(resolve_v3("1.2.3"), Value::from("1.2.3"));
        assert_eq!(resolve_v3("12:30"), Value::from("12:30"));
    }

    #[test]
    fn v3_turns_dates_into_timestamps() {
        assert_eq!(
            resolve_v3("2001-12-14"),
            Value::from("2001-12-14T00:00:00Z")
        );
    }

    #[test]
    fn v2_quoting_decisions() {
        for s in [
            "yes",
            "on",
            "n",
            "1",
            "0x1F",
            "1e3",
            "12:30",
            "2001-12-14",
            "",
            "null",
            "-1",
            ".5",
        ] {
            assert!(v2_reads_as_non_string(s), "{s}");
        }
        for s in ["hello", "1.2.3", "v1", "-", "0x", "e3", "1-2"] {
            assert!(!v2_reads_as_non_string(s), "{s}");
        }
    }
}
