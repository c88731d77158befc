//! Sprig's date functions, in UTC (the local zone) unless a zone is named:
//! `now`, `date`, `dateInZone`, `htmlDate`, `unixEpoch`, `duration`, `toDate`
//! (parsing in `time_parse`, zones by name in `zones`). A time is a map that prints like
//! Go's `time.Time` and carries its Unix nanoseconds.

use std::sync::Arc;

use super::{Reg, arg, err, s, sarg, to_i64};
use crate::coalesce::Table;
use gotmpl::Value;

const NANOS: &str = "\u{0}unixnanos";
const OFFSET: &str = "\u{0}zoneoffset";
const ZONE: &str = "\u{0}zonename";
/// Go's zero `time.Time`, 0001-01-01 00:00:00 UTC, in Unix nanoseconds.
const ZERO_TIME: i128 = -62_135_596_800 * 1_000_000_000;

pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: u32,
    weekday: usize,
    yday: u32,
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil(unix_nanos: i128) -> Civil {
    let secs = unix_nanos.div_euclid(1_000_000_000) as i64;
    let nanos = unix_nanos.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let cum = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = cum[(month - 1) as usize] + day + u32::from(leap && month > 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        min: (rem % 3600 / 60) as u32,
        sec: (rem % 60) as u32,
        nanos,
        weekday: (days + 4).rem_euclid(7) as usize,
        yday,
    }
}

/// A time's location: UTC, or a fixed offset (seconds east) with an optional
/// name, as `time.Parse` makes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    pub offset: i64,
    pub name: String,
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            offset: 0,
            name: "UTC".into(),
        }
    }
}

/// A numeric zone offset as Go prints it: sign, hours, then minutes and
/// seconds as the layout asks (`colon` between them).
fn offset_text(offset: i64, minutes: bool, seconds: bool, colon: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    let sep = if colon { ":" } else { "" };
    let mut out = format!("{sign}{:02}", a / 3600);
    if minutes {
        out.push_str(&format!("{sep}{:02}", a / 60 % 60));
    }
    if seconds {
        out.push_str(&format!("{sep}{:02}", a % 60));
    }
    out
}

/// Go's reference-time layout (`2006-01-02T15:04:05Z07:00`), in UTC.
pub fn format(layout: &str, unix_nanos: i128) -> String {
    format_in(layout, unix_nanos, &Zone::utc())
}

/// Go's reference-time layout in a given zone.
pub fn format_in(layout: &str, unix_nanos: i128, zone: &Zone) -> String {
    let t = civil(unix_nanos + zone.offset as i128 * 1_000_000_000);
    let off = zone.offset;
    let iso = |minutes, seconds, colon| {
        if off == 0 {
            "Z".to_string()
        } else {
            offset_text(off, minutes, seconds, colon)
        }
    };
    let zone_name = if zone.name.is_empty() {
        offset_text(off, true, false, false)
    } else {
        zone.name.clone()
    };
    let mut out = String::new();
    let mut rest = layout;
    let h12 = if t.hour.is_multiple_of(12) {
        12
    } else {
        t.hour % 12
    };
    while !rest.is_empty() {
        let tokens: &[(&str, String)] = &[
            ("January", MONTHS[(t.month - 1) as usize].to_string()),
            ("Monday", DAYS[t.weekday].to_string()),
            ("2006", format!("{:04}", t.year)),
            ("Z070000", iso(true, true, false)),
            ("Z07:00:00", iso(true, true, true)),
            ("Z0700", iso(true, false, false)),
            ("Z07:00", iso(true, false, true)),
            ("Z07", iso(false, false, false)),
            ("-070000", offset_text(off, true, true, false)),
            ("-07:00:00", offset_text(off, true, true, true)),
            ("-0700", offset_text(off, true, false, false)),
            ("-07:00", offset_text(off, true, false, true)),
            ("-07", offset_text(off, false, false, false)),
            ("Jan", MONTHS[(t.month - 1) as usize][..3].to_string()),
            ("Mon", DAYS[t.weekday][..3].to_string()),
            ("MST", zone_name.clone()),
            ("002", format!("{:03}", t.yday)),
            ("01", format!("{:02}", t.month)),
            ("02", format!("{:02}", t.day)),
            ("_2", format!("{:>2}", t.day)),
            ("06", format!("{:02}", t.year.rem_euclid(100))),
            ("15", format!("{:02}", t.hour)),
            ("03", format!("{:02}", h12)),
            ("04", format!("{:02}", t.min)),
            ("05", format!("{:02}", t.sec)),
            ("PM", if t.hour >= 12 { "PM" } else { "AM" }.into()),
            ("pm", if t.hour >= 12 { "pm" } else { "am" }.into()),
            ("1", t.month.to_string()),
            ("2", t.day.to_string()),
            ("3", h12.to_string()),
            ("4", t.min.to_string()),
            ("5", t.sec.to_string()),
        ];
        // Fractional seconds: .000 (fixed) or .999 (trailing zeros dropped).
        if let Some(r) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(','))
            && let Some(c @ ('0' | '9')) = r.chars().next()
        {
            let n = r.chars().take_while(|x| *x == c).count();
            if !r[n..].starts_with(|x: char| x.is_ascii_digit()) {
                let digits = format!("{:09}", t.nanos)[..n.min(9)].to_string();
                let digits = if c == '9' {
                    digits.trim_end_matches('0').to_string()
                } else {
                    digits
                };
                if !digits.is_empty() {
                    out.push_str(&rest[..1]);
                    out.push_str(&digits);
                }
                rest = &r[n..];
                continue;
            }
        }
        if let Some((tok, val)) = tokens.iter().find(|(tok, _)| rest.starts_with(tok)) {
            out.push_str(val);
            rest = &rest[tok.len()..];
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn time_value(unix_nanos: i128) -> Value {
    time_value_in(unix_nanos, &Zone::utc())
}

/// A `time.Time`: prints as Go's `Time.String()` in its zone; carries its
/// instant as Unix nanoseconds (in text: the zero time is below `i64::MIN`).
pub fn time_value_in(unix_nanos: i128, zone: &Zone) -> Value {
    let mut t = Table::new();
    t.insert(
        crate::gofmt::STRING_KEY.into(),
        s(format_in(
            "2006-01-02 15:04:05.999999999 -0700 MST",
            unix_nanos,
            zone,
        )),
    );
    t.insert(NANOS.into(), s(unix_nanos.to_string()));
    if zone != &Zone::utc() {
        t.insert(OFFSET.into(), Value::Int(zone.offset));
        t.insert(ZONE.into(), s(zone.name.as_str()));
    }
    Value::Map(Arc::new(t))
}

/// The instant of a time value (`now`, `toDate`, ...), if `v` is one.
pub fn time_nanos(v: &Value) -> Option<i128> {
    let Value::Map(m) = v else { return None };
    match m.get(NANOS)? {
        Value::String(t) => t.parse().ok(),
        other => Some(to_i64(other) as i128),
    }
}

/// The zone a time value prints in (UTC unless `toDate` read an offset).
pub fn time_zone(v: &Value) -> Zone {
    match v {
        Value::Map(m) if m.contains_key(OFFSET) => Zone {
            offset: m.get(OFFSET).map(to_i64).unwrap_or(0),
            name: m.get(ZONE).map(super::strval).unwrap_or_default(),
        },
        _ => Zone::utc(),
    }
}

/// A time value as Go's `MarshalJSON`/`MarshalText` write it (RFC 3339 with
/// nanoseconds, in its zone); `None` for anything else.
pub fn rfc3339(v: &Value) -> Option<String> {
    let nanos = time_nanos(v)?;
    Some(format_in(
        "2006-01-02T15:04:05.999999999Z07:00",
        nanos,
        &time_zone(v),
    ))
}

/// Unix nanoseconds of a time argument: a time from `now`, or Unix seconds.
fn nanos_of(v: &Value) -> i128 {
    match v {
        Value::Map(_) => time_nanos(v).unwrap_or(0),
        other => to_i64(other) as i128 * 1_000_000_000,
    }
}

/// Go's `time.Duration.String()` for whole seconds.
fn duration(secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let sign = if secs < 0 { "-" } else { "" };
    let a = secs.unsigned_abs();
    let (h, m, sec) = (a / 3600, a % 3600 / 60, a % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{sec}s")
    } else if m > 0 {
        format!("{sign}{m}m{sec}s")
    } else {
        format!("{sign}{sec}s")
    }
}

/// Go's `time.ParseDuration`: nanoseconds, or `None` where Go reports an error.
pub fn parse_go_duration(text: &str) -> Option<i64> {
    go_duration(text).ok()
}

/// Go's `time.ParseDuration`, with Go's error text.
fn go_duration(text: &str) -> Result<i64, String> {
    let q = crate::gofmt::quote(text);
    let invalid = || format!("time: invalid duration {q}");
    let mut s = text;
    let mut neg = false;
    if let Some(c) = s.chars().next()
        && (c == '-' || c == '+')
    {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut d: u64 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        // integer part
        let ilen = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for b in s[..ilen].bytes() {
            if v > LIMIT / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(b - b'0');
            if v > LIMIT {
                return Err(invalid());
            }
        }
        let pre = ilen != 0;
        s = &s[ilen..];
        // fraction
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if let Some(rest) = s.strip_prefix('.') {
            s = rest;
            let flen = s.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in s[..flen].bytes() {
                if overflow {
                    continue;
                }
                if f > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(b - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = flen != 0;
            s = &s[flen..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let ulen = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        if ulen == 0 {
            return Err(format!("time: missing unit in duration {q}"));
        }
        let unit: u64 = match &s[..ulen] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            u => {
                let u = crate::gofmt::quote(u);
                return Err(format!("time: unknown unit {u} in duration {q}"));
            }
        };
        s = &s[ulen..];
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        d += v;
        if d > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Sprig's `durationRound`: the largest whole unit (y = 365d, mo = 30d) of
/// a duration's magnitude, truncated.
fn duration_round(d: i64) -> String {
    let u = d.unsigned_abs();
    let second = 1_000_000_000u64;
    let (minute, hour) = (60 * second, 3600 * second);
    let day = 24 * hour;
    let units = [
        (365 * day, "y"),
        (30 * day, "mo"),
        (day, "d"),
        (hour, "h"),
        (minute, "m"),
        (second, "s"),
    ];
    for (size, suffix) in units {
        if u > size {
            return format!("{}{suffix}", u / size);
        }
    }
    "0s".into()
}

/// The Unix nanoseconds of a `time.Time` argument (Go refuses anything else).
fn time_arg(v: &Value) -> Result<i128, gotmpl::TemplateError> {
    match v {
        Value::Map(m) if m.contains_key(NANOS) => Ok(time_nanos(v).unwrap_or(0)),
        _ => Err(err(format!(
            "wrong type for value; expected time.Time; got {}",
            super::type_of(v)
        ))),
    }
}

/// Sprig's `ago`: an elapsed time rounded to seconds (halves away from
/// zero), printed like Go's `time.Duration`.
fn ago(nanos: i128) -> String {
    let half = if nanos < 0 { -500_000_000 } else { 500_000_000 };
    duration(((nanos + half) / 1_000_000_000) as i64)
}

fn now_nanos() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

pub fn register(r: &mut Reg) {
    r.f("now", |_| Ok(time_value(now_nanos())));
    // Sprig parses in the local zone; skiff's local zone is UTC.
    r.f("toDate", |a| {
        Ok(
            match super::time_parse::parse_time(&sarg(a, 0), &sarg(a, 1)) {
                Ok((nanos, zone)) => time_value_in(nanos, &zone),
                Err(_) => time_value(ZERO_TIME),
            },
        )
    });
    r.f("mustToDate", |a| {
        let (nanos, zone) = super::time_parse::parse_time(&sarg(a, 0), &sarg(a, 1)).map_err(err)?;
        Ok(time_value_in(nanos, &zone))
    });
    r.f("dateModify", |a| {
        let t = time_arg(&arg(a, 1))?;
        Ok(time_value(match go_duration(&sarg(a, 0)) {
            Ok(d) => t + d as i128,
            Err(_) => t,
        }))
    });
    r.f("mustDateModify", |a| {
        let t = time_arg(&arg(a, 1))?;
        let d = go_duration(&sarg(a, 0)).map_err(err)?;
        Ok(time_value(t + d as i128))
    });
    // Sprig: a time, or Unix seconds as a Go int; anything else is "now".
    r.f("ago", |a| {
        let then = match arg(a, 0) {
            ref t @ Value::Map(ref m) if m.contains_key(NANOS) => time_nanos(t).unwrap_or(0),
            Value::Int(i) => i as i128 * 1_000_000_000,
            _ => now_nanos(),
        };
        Ok(s(ago(now_nanos() - then)))
    });
    // Sprig reads strings (Go durations), int64s and times (elapsed since);
    // as for `duration`, our integers cannot be told from Go ints (zero).
    r.f("durationRound", |a| {
        let d = match arg(a, 0) {
            Value::String(t) => parse_go_duration(&t).unwrap_or(0),
            ref t @ Value::Map(ref m) if m.contains_key(NANOS) => {
                let then = time_nanos(t).unwrap_or(0);
                (now_nanos() - then).clamp(i64::MIN as i128, i64::MAX as i128) as i64
            }
            _ => 0,
        };
        Ok(s(duration_round(d)))
    });
    r.f("date", |a| Ok(s(format(&sarg(a, 0), nanos_of(&arg(a, 1))))));
    r.f("dateInZone", |a| {
        let nanos = nanos_of(&arg(a, 1));
        let zone = super::zones::at(&sarg(a, 2), nanos);
        Ok(s(format_in(&sarg(a, 0), nanos, &zone)))
    });
    r.f("htmlDate", |a| {
        Ok(s(format("2006-01-02", nanos_of(&arg(a, 0)))))
    });
    r.f("htmlDateInZone", |a| {
        let nanos = nanos_of(&arg(a, 0));
        let zone = super::zones::at(&sarg(a, 1), nanos);
        Ok(s(format_in("2006-01-02", nanos, &zone)))
    });
    r.f("unixEpoch", |a| {
        Ok(s(
            (nanos_of(&arg(a, 0)).div_euclid(1_000_000_000)).to_string()
        ))
    });
    // Sprig reads only strings and int64s; template literals (Go ints) and
    // values (float64s) count as zero. Our integers cannot tell int from
    // int64, so only strings count.
    r.f("duration", |a| {
        Ok(s(duration(match arg(a, 0) {
            Value::String(t) => t.trim().parse::<i64>().unwrap_or(0),
            _ => 0,
        })))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_and_round_like_sprig() {
        assert_eq!(parse_go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(
            go_duration("1"),
            Err("time: missing unit in duration \"1\"".into())
        );
        assert_eq!(
            go_duration("1d"),
            Err("time: unknown unit \"d\" in duration \"1d\"".into())
        );
        assert_eq!(go_duration("x"), Err("time: invalid duration \"x\"".into()));
        assert_eq!(ago(1_499_999_999), "1s");
        assert_eq!(ago(1_500_000_000), "2s");
        assert_eq!(ago(-1_500_000_000), "-2s");
        assert_eq!(ago(3_723_000_000_000), "1h2m3s");
        assert_eq!(parse_go_duration("-1.5s"), Some(-1_500_000_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        assert_eq!(parse_go_duration("1"), None);
        assert_eq!(parse_go_duration("1d"), None);
        assert_eq!(parse_go_duration("9223372036854775808ns"), None);
        assert_eq!(parse_go_duration("-9223372036854775808ns"), Some(i64::MIN));
        assert_eq!(duration_round(parse_go_duration("2h5m").unwrap()), "2h");
        assert_eq!(duration_round(parse_go_duration("-49h").unwrap()), "2d");
        assert_eq!(duration_round(parse_go_duration("1s").unwrap()), "0s");
        assert_eq!(duration_round(parse_go_duration("8760h1s").unwrap()), "1y");
        assert_eq!(duration_round(parse_go_duration("8760h").unwrap()), "12mo");
    }

    #[test]
    fn go_layouts_format_utc_times() {
        // 2021-03-04T05:06:07.5Z, a Thursday, day 63 of the year.
        let t = 1_614_834_367_500_000_000i128;
        assert_eq!(
            format("2006-01-02T15:04:05Z07:00", t),
            "2021-03-04T05:06:07Z"
        );
        assert_eq!(
            format("Mon Jan _2 3:4:5 PM 2006 .000 .999", t),
            "Thu Mar  4 5:6:7 AM 2021 .500 .5"
        );
        assert_eq!(
            format("Monday, 02-Jan-06 002 MST -0700", t),
            "Thursday, 04-Mar-21 063 UTC +0000"
        );
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(duration(3723), "1h2m3s");
        assert_eq!(duration(65), "1m5s");
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(-5), "-5s");
    }
}
