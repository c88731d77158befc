//! Helm's duration helpers: `mustToDuration`, `durationSeconds` ...
//! `durationWeeks`, `durationRoundTo`, `durationTruncateTo`. A duration is a
//! map that prints as Go's `time.Duration.String()` and carries its
//! nanoseconds (JSON and YAML write the number, as Go marshals it).

use std::sync::Arc;

use gotmpl::Value;

use super::{R, Reg, arg, err, s};
use crate::coalesce::Table;

const NANOS: &str = "\u{0}durationnanos";
const SECOND: i64 = 1_000_000_000;

/// The nanoseconds of a duration value, if `v` is one.
pub fn nanos(v: &Value) -> Option<i64> {
    match v {
        Value::Map(m) => match m.get(NANOS)? {
            Value::Int(n) => Some(*n),
            _ => None,
        },
        _ => None,
    }
}

/// Go's `Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn go_string(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    // Digits of u / 10^prec after the point, trailing zeros dropped.
    let frac = |u: &mut u64, prec: u32| -> String {
        let mut digits = String::new();
        let mut print = false;
        for _ in 0..prec {
            let digit = *u % 10;
            print = print || digit != 0;
            if print {
                digits.insert(0, char::from(b'0' + digit as u8));
            }
            *u /= 10;
        }
        if print {
            digits.insert(0, '.');
        }
        digits
    };
    let body = if u < SECOND as u64 {
        let (prec, unit) = match u {
            0 => return "0s".into(),
            1..=999 => (0, "ns"),
            1_000..=999_999 => (3, "\u{b5}s"),
            _ => (6, "ms"),
        };
        let f = frac(&mut u, prec);
        format!("{u}{f}{unit}")
    } else {
        let f = frac(&mut u, 9);
        let secs = u % 60;
        let minutes = u / 60;
        let mut out = format!("{secs}{f}s");
        if minutes > 0 {
            out = format!("{}m{out}", minutes % 60);
            let hours = minutes / 60;
            if hours > 0 {
                out = format!("{hours}h{out}");
            }
        }
        out
    };
    if neg { format!("-{body}") } else { body }
}

fn duration_value(d: i64) -> Value {
    let mut t = Table::new();
    t.insert(crate::gofmt::STRING_KEY.into(), s(go_string(d)));
    t.insert(NANOS.into(), Value::Int(d));
    Value::Map(Arc::new(t))
}

fn from_seconds_float(secs: f64) -> Result<i64, String> {
    if !secs.is_finite() {
        return Err(format!(
            "invalid duration seconds: {}",
            crate::gofmt::float_g(secs)
        ));
    }
    let max = i64::MAX as f64 / SECOND as f64;
    let min = i64::MIN as f64 / SECOND as f64;
    if secs > max || secs < min {
        return Err(format!(
            "duration seconds overflow: {}",
            crate::gofmt::float_g(secs)
        ));
    }
    let n = secs * SECOND as f64;
    if n > i64::MAX as f64 || n < i64::MIN as f64 {
        return Err(format!(
            "duration nanoseconds overflow: {}",
            crate::gofmt::float_g(n)
        ));
    }
    Ok(n as i64)
}

/// Helm's `asDuration`: a duration, a Go duration string, a number of
/// seconds (as a number or a string).
fn as_duration(v: &Value) -> Result<i64, String> {
    if let Some(n) = nanos(v) {
        return Ok(n);
    }
    match v {
        Value::String(x) => {
            let t = x.trim();
            if t.is_empty() {
                return Err("empty duration".into());
            }
            if let Some(d) = super::dates::parse_go_duration(t) {
                return Ok(d);
            }
            if crate::gofmt::parse_go_float(t)
                && let Ok(f) = t.replace('_', "").parse::<f64>()
            {
                return from_seconds_float(f);
            }
            Err(format!(
                "could not parse duration {}",
                crate::gofmt::quote(x)
            ))
        }
        Value::Nil => Err("invalid duration".into()),
        Value::Int(i) => i
            .checked_mul(SECOND)
            .ok_or_else(|| format!("duration seconds overflow: {i}")),
        Value::Uint(u) => i64::try_from(*u)
            .ok()
            .and_then(|i| i.checked_mul(SECOND))
            .ok_or_else(|| format!("duration seconds overflow: {u}")),
        Value::Float(f) => from_seconds_float(*f),
        other => Err(format!(
            "unsupported duration type {}",
            super::type_of(other)
        )),
    }
}

/// Go's `Duration.Round`.
fn round(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let less_than_half = |x: i64| (x as u64).wrapping_add(x as u64) < m as u64;
    let mut r = d % m;
    if d < 0 {
        r = -r;
        if less_than_half(r) {
            return d + r;
        }
        return match (d - m).checked_add(r) {
            Some(d1) if d1 < d => d1,
            _ => i64::MIN,
        };
    }
    if less_than_half(r) {
        return d - r;
    }
    match (d + r.wrapping_neg()).checked_add(m) {
        Some(d1) if d1 > d => d1,
        _ => i64::MAX,
    }
}

/// Go's `Duration.Truncate`.
fn truncate(d: i64, m: i64) -> i64 {
    if m <= 0 { d } else { d - d % m }
}

/// A float of whole units plus the remainder, as Go's `Seconds()` and kin.
fn in_units(d: i64, unit: i64) -> f64 {
    (d / unit) as f64 + (d % unit) as f64 / unit as f64
}

/// A duration read as a number of some unit.
type InUnits = fn(i64) -> f64;
/// A duration rounded to a multiple of another.
type ToMultiple = fn(i64, i64) -> i64;

pub fn register(r: &mut Reg) {
    r.f("mustToDuration", |a| -> R {
        as_duration(&arg(a, 0)).map(duration_value).map_err(err)
    });
    // Helm answers 0 for anything it cannot read as a duration.
    let float_fns: [(&str, InUnits); 5] = [
        ("durationSeconds", |d| in_units(d, SECOND)),
        ("durationMinutes", |d| in_units(d, 60 * SECOND)),
        ("durationHours", |d| in_units(d, 3600 * SECOND)),
        ("durationDays", |d| in_units(d, 3600 * SECOND) / 24.0),
        ("durationWeeks", |d| in_units(d, 3600 * SECOND) / 24.0 / 7.0),
    ];
    for (name, f) in float_fns {
        r.f(name, move |a| {
            Ok(Value::Float(as_duration(&arg(a, 0)).map_or(0.0, f)))
        });
    }
    let int_fns: [(&str, i64); 3] = [
        ("durationMilliseconds", 1_000_000),
        ("durationMicroseconds", 1_000),
        ("durationNanoseconds", 1),
    ];
    for (name, unit) in int_fns {
        r.f(name, move |a| {
            Ok(Value::Int(as_duration(&arg(a, 0)).map_or(0, |d| d / unit)))
        });
    }
    let rounding: [(&str, ToMultiple); 2] =
        [("durationRoundTo", round), ("durationTruncateTo", truncate)];
    for (name, f) in rounding {
        r.f(name, move |a| {
            let Ok(d) = as_duration(&arg(a, 0)) else {
                return Ok(duration_value(0));
            };
            Ok(duration_value(match as_duration(&arg(a, 1)) {
                Ok(m) => f(d, m),
                Err(_) => d,
            }))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_and_round_like_go() {
        assert_eq!(go_string(0), "0s");
        assert_eq!(go_string(1_500), "1.5\u{b5}s");
        assert_eq!(go_string(1_500_000), "1.5ms");
        assert_eq!(go_string(3_723_500_000_000), "1h2m3.5s");
        assert_eq!(go_string(-90 * SECOND), "-1m30s");
        assert_eq!(go_string(i64::MIN), "-2562047h47m16.854775808s");
        assert_eq!(round(90 * SECOND, 60 * SECOND), 120 * SECOND);
        assert_eq!(round(-90 * SECOND, 60 * SECOND), -120 * SECOND);
        assert_eq!(round(89 * SECOND, 60 * SECOND), 60 * SECOND);
        assert_eq!(truncate(-90 * SECOND, 60 * SECOND), -60 * SECOND);
        assert_eq!(as_duration(&s("2.5")), Ok(2_500_000_000));
        assert_eq!(as_duration(&s(" ")), Err("empty duration".into()));
    }
}
