//! Sprig's `urlParse` and `urlJoin`, following Go's `net/url` (`url.Parse`
//! and `URL.String`), bracketed IPv6 hosts (with zones) included.

use std::sync::Arc;

use gotmpl::Value;

use super::{R, Reg, arg, err, s, sarg};
use crate::coalesce::Table;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    /// An IPv6 zone (`%25eth0`): host rules, but any escape of a byte the
    /// host allows.
    Zone,
    UserPassword,
    Fragment,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone) && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => c == b'?',
            Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => false,
            Mode::Host | Mode::Zone => true,
        },
        b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
        _ => true,
    }
}

fn escape(text: &str, mode: Mode) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if should_escape(b, mode) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

fn unescape(text: &str, mode: Mode) -> Result<String, String> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            match (
                b.get(i + 1).and_then(|c| hex(*c)),
                b.get(i + 2).and_then(|c| hex(*c)),
            ) {
                (Some(h), Some(l)) => {
                    let escape = &text[i..i + 3];
                    if mode == Mode::Host && h < 8 && escape != "%25" {
                        return Err(format!("invalid URL escape {escape:?}"));
                    }
                    let v = (h * 16 + l) as u8;
                    if mode == Mode::Zone
                        && escape != "%25"
                        && v != b' '
                        && should_escape(v, Mode::Host)
                    {
                        return Err(format!("invalid URL escape {escape:?}"));
                    }
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    let end = (i + 3).min(b.len());
                    let bad = String::from_utf8_lossy(&b[i..end]).into_owned();
                    return Err(format!("invalid URL escape {bad:?}"));
                }
            }
        } else {
            if matches!(mode, Mode::Host | Mode::Zone) && b[i] < 0x80 && should_escape(b[i], mode) {
                let bad = (b[i] as char).to_string();
                return Err(format!("invalid character {bad:?} in host name"));
            }
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|c| c.is_ascii_digit()))
}

#[derive(Default, Debug, PartialEq)]
struct Url {
    scheme: String,
    opaque: String,
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    omit_host: bool,
    force_query: bool,
    raw_query: String,
    fragment: String,
}

fn user_string(user: &(String, Option<String>)) -> String {
    let mut out = escape(&user.0, Mode::UserPassword);
    if let Some(p) = &user.1 {
        out.push(':');
        out.push_str(&escape(p, Mode::UserPassword));
    }
    out
}

fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_host(scheme: &str, host: &str) -> Result<String, String> {
    match host.rfind('[') {
        Some(0) => return parse_ip_literal(host),
        Some(_) => return Err("invalid IP-literal".into()),
        None => {}
    }
    if let Some(first) = host.find(':') {
        let last = host.rfind(':').unwrap_or(first);
        let i = if last != first && !matches!(scheme, "http" | "https") {
            last
        } else {
            first
        };
        let port = &host[i..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {port:?} after host"));
        }
    }
    unescape(host, Mode::Host)
}

/// A bracketed IPv6 literal with an optional `%25zone` and port, which must
/// hold an IPv6 address (Go's `netip.ParseAddr`; IPv4 is refused).
fn parse_ip_literal(host: &str) -> Result<String, String> {
    let close = host.rfind(']').ok_or("missing ']' in host")?;
    let colon_port = &host[close + 1..];
    if !valid_optional_port(colon_port) {
        return Err(format!("invalid port {colon_port:?} after host"));
    }
    let colon_port = unescape(colon_port, Mode::Host)?;
    let inner = &host[1..close];
    let unescaped = match inner.find("%25") {
        Some(z) => unescape(&inner[..z], Mode::Host)? + &unescape(&inner[z..], Mode::Zone)?,
        None => unescape(inner, Mode::Host)?,
    };
    let (addr, zone) = match unescaped.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (unescaped.as_str(), None),
    };
    let quoted = crate::gofmt::quote(&unescaped);
    if addr.parse::<std::net::Ipv4Addr>().is_ok() && zone.is_none() {
        return Err("invalid IP-literal".into());
    }
    if addr.parse::<std::net::Ipv6Addr>().is_err() {
        return Err(format!(
            "invalid host: ParseAddr({quoted}): unable to parse IP"
        ));
    }
    if zone == Some("") {
        return Err(format!(
            "invalid host: ParseAddr({quoted}): zone must be a non-empty string"
        ));
    }
    Ok(format!("[{unescaped}]{colon_port}"))
}

fn valid_userinfo(s: &str) -> bool {
    s.bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c))
}

fn parse_inner(raw: &str) -> Result<Url, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = Url::default();
    if raw == "*" {
        url.path = "*".into();
        return Ok(url);
    }
    let (scheme, rest) = get_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();
    let mut rest = rest.to_string();
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest.pop();
    } else if let Some((r, q)) = rest.clone().split_once('?') {
        rest = r.to_string();
        url.raw_query = q.to_string();
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest;
            return Ok(url);
        }
        if rest.split('/').next().unwrap_or("").contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let mut authority = rest[2..].to_string();
        rest = String::new();
        if let Some(i) = authority.find('/') {
            rest = authority[i..].to_string();
            authority.truncate(i);
        }
        match authority.rfind('@') {
            None => url.host = parse_host(&url.scheme, &authority)?,
            Some(i) => {
                url.host = parse_host(&url.scheme, &authority[i + 1..])?;
                let info = &authority[..i];
                if !valid_userinfo(info) {
                    return Err("net/url: invalid userinfo".into());
                }
                url.user = Some(match info.split_once(':') {
                    None => (unescape(info, Mode::UserPassword)?, None),
                    Some((u, p)) => (
                        unescape(u, Mode::UserPassword)?,
                        Some(unescape(p, Mode::UserPassword)?),
                    ),
                });
            }
        }
    } else if !url.scheme.is_empty() && rest.starts_with('/') {
        url.omit_host = true;
    }
    url.path = unescape(&rest, Mode::Path)?;
    Ok(url)
}

/// Go's `url.Parse`, with its error text.
fn parse(raw: &str) -> Result<Url, String> {
    let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
    let wrap = |e: String| format!("parse {}: {e}", crate::gofmt::quote(raw));
    let mut url = parse_inner(u).map_err(wrap)?;
    url.fragment = unescape(frag, Mode::Fragment).map_err(wrap)?;
    Ok(url)
}

/// Go's `URL.String`.
fn to_string(u: &Url) -> String {
    let mut buf = String::new();
    if !u.scheme.is_empty() {
        buf.push_str(&u.scheme);
        buf.push(':');
    }
    if !u.opaque.is_empty() {
        buf.push_str(&u.opaque);
    } else {
        let no_authority = u.host.is_empty() && u.user.is_none();
        let omitted = u.omit_host && no_authority;
        if (!u.scheme.is_empty() || !no_authority) && !omitted {
            if !u.host.is_empty() || !u.path.is_empty() || u.user.is_some() {
                buf.push_str("//");
            }
            if let Some(user) = &u.user {
                buf.push_str(&user_string(user));
                buf.push('@');
            }
            buf.push_str(&escape(&u.host, Mode::Host));
        }
        let path = if u.path == "*" {
            "*".to_string()
        } else {
            escape(&u.path, Mode::Path)
        };
        if !path.is_empty() && !path.starts_with('/') && !u.host.is_empty() {
            buf.push('/');
        }
        if buf.is_empty() && path.split('/').next().unwrap_or("").contains(':') {
            buf.push_str("./");
        }
        buf.push_str(&path);
    }
    if u.force_query || !u.raw_query.is_empty() {
        buf.push('?');
        buf.push_str(&u.raw_query);
    }
    if !u.fragment.is_empty() {
        buf.push('#');
        buf.push_str(&escape(&u.fragment, Mode::Fragment));
    }
    buf
}

/// The host without its port (and without IPv6 brackets), as `URL.Hostname`.
fn hostname(host: &str) -> &str {
    let h = match host.rfind(':') {
        Some(i) if valid_optional_port(&host[i..]) => &host[..i],
        _ => host,
    };
    h.strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h)
}

fn url_parse(raw: &str) -> R {
    let u = parse(raw).map_err(|e| err(format!("unable to parse url: {e}")))?;
    let mut t = Table::new();
    t.insert("scheme".into(), s(u.scheme.as_str()));
    t.insert("host".into(), s(u.host.as_str()));
    t.insert("hostname".into(), s(hostname(&u.host)));
    t.insert("path".into(), s(u.path.as_str()));
    t.insert("query".into(), s(u.raw_query.as_str()));
    t.insert("opaque".into(), s(u.opaque.as_str()));
    t.insert("fragment".into(), s(u.fragment.as_str()));
    t.insert(
        "userinfo".into(),
        s(u.user.as_ref().map(user_string).unwrap_or_default()),
    );
    Ok(Value::Map(Arc::new(t)))
}

fn url_join(d: &Value) -> R {
    let Value::Map(m) = d else {
        return Err(err("urlJoin needs a dict"));
    };
    let get = |k: &str| -> Result<String, gotmpl::TemplateError> {
        match m.get(k) {
            None => Ok(String::new()),
            Some(Value::String(v)) => Ok(v.to_string()),
            Some(_) => Err(err(format!(
                "unable to parse {k} key, must be of type string"
            ))),
        }
    };
    let mut u = Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        ..Url::default()
    };
    let info = get("userinfo")?;
    if !info.is_empty() {
        let tmp = parse(&format!("proto://{info}@host"))
            .map_err(|e| err(format!("unable to parse userinfo in dict: {e}")))?;
        u.user = tmp.user;
    }
    Ok(s(to_string(&u)))
}

pub fn register(r: &mut Reg) {
    r.f("urlParse", |a| url_parse(&sarg(a, 0)));
    r.f("urlJoin", |a| url_join(&arg(a, 0)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_print_like_go() {
        let u = parse("HTTPS://u%40x:p%3Aw@Example.com:8443/a%20b/c?x=1&y=2#frag%20ment").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "Example.com:8443");
        assert_eq!(hostname(&u.host), "Example.com");
        assert_eq!(u.path, "/a b/c");
        assert_eq!(u.raw_query, "x=1&y=2");
        assert_eq!(u.fragment, "frag ment");
        assert_eq!(user_string(u.user.as_ref().unwrap()), "u%40x:p%3Aw");
        assert_eq!(
            to_string(&u),
            "https://u%40x:p%3Aw@Example.com:8443/a%20b/c?x=1&y=2#frag%20ment"
        );
        assert_eq!(parse("mailto:joe@x.org").unwrap().opaque, "joe@x.org");
        assert_eq!(
            to_string(&parse("file:///etc/hosts").unwrap()),
            "file:///etc/hosts"
        );
        assert!(
            parse("http://h:x/")
                .unwrap_err()
                .contains("invalid port \":x\" after host")
        );
        assert!(parse("a:b/c").is_ok());
        let u = parse("http://[::1]:8080/x").unwrap();
        assert_eq!((u.host.as_str(), hostname(&u.host)), ("[::1]:8080", "::1"));
        let u = parse("http://[fe80::1%25en0]/").unwrap();
        assert_eq!(u.host, "[fe80::1%en0]");
        assert_eq!(to_string(&u), "http://[fe80::1%25en0]/");
        assert!(
            parse("http://[1.2.3.4]/")
                .unwrap_err()
                .contains("invalid IP-literal")
        );
        assert!(
            parse("http://[::1/")
                .unwrap_err()
                .contains("missing ']' in host")
        );
        assert!(
            parse("http://a[::1]/")
                .unwrap_err()
                .contains("invalid IP-literal")
        );
        assert!(parse("1a:b").unwrap_err().contains("first path segment"));
        assert!(
            parse("%zz")
                .unwrap_err()
                .contains("invalid URL escape \"%zz\"")
        );
    }
}
