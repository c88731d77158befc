//! Encodings: base64, JSON and YAML in Go's formats, digests.

use std::sync::Arc;

use base64::Engine as _;
use gotmpl::Value;
use sha2::Digest as _;

use super::{Reg, arg, err, s, sarg, to_yaml_string};
use crate::gofmt;

fn json_string(out: &mut String, t: &str, html: bool) {
    out.push('"');
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json.Marshal` (or `MarshalIndent` with `indent`), Go's formatting.
pub fn to_json(v: &Value, html: bool, indent: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v, html, indent, 0)?;
    Ok(out)
}

fn write_json(
    out: &mut String,
    v: &Value,
    html: bool,
    indent: Option<&str>,
    depth: usize,
) -> Result<(), String> {
    let nl = |out: &mut String, d: usize| {
        if let Some(i) = indent {
            out.push('\n');
            for _ in 0..d {
                out.push_str(i);
            }
        }
    };
    // Go's time.Time marshals itself as an RFC 3339 string.
    if let Some(t) = super::dates::rfc3339(v) {
        json_string(out, &t, html);
        return Ok(());
    }
    // A time.Duration is an int64 to encoding/json.
    if let Some(n) = super::durations::nanos(v) {
        out.push_str(&n.to_string());
        return Ok(());
    }
    match v {
        Value::Nil | Value::Function(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!("json: unsupported value: {}", gofmt::float_g(*f)));
            }
            out.push_str(&gofmt::float_json(*f))
        }
        Value::String(t) => json_string(out, t, html),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                write_json(out, x, html, indent, depth + 1)?;
            }
            nl(out, depth);
            out.push(']');
        }
        Value::Map(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in m
                .iter()
                .filter(|(k, _)| &***k != gofmt::STRING_KEY)
                .enumerate()
            {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                json_string(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, x, html, indent, depth + 1)?;
            }
            nl(out, depth);
            out.push('}');
        }
    }
    Ok(())
}

fn err_map(msg: String) -> Value {
    let mut t = crate::coalesce::Table::new();
    t.insert("Error".into(), s(msg));
    Value::Map(Arc::new(t))
}

/// Sprig's `bcrypt`: Go's `bcrypt.GenerateFromPassword` at the default cost
/// (10, `$2a$`), or the failure as text (Go refuses passwords over 72 bytes).
fn bcrypt_text(input: &str) -> String {
    if input.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    match bcrypt::hash_with_result(input, 10) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

/// Sprig's `htpasswd` (the two-argument form Helm ships): `user:bcrypt`.
fn htpasswd(user: &str, password: &str) -> String {
    if user.contains(':') {
        return format!("invalid username: {user}");
    }
    format!("{user}:{}", bcrypt_text(password))
}

pub fn register(r: &mut Reg, shared: &Arc<crate::engine::Shared>) {
    r.f("bcrypt", |a| Ok(s(bcrypt_text(&sarg(a, 0)))));
    r.f("htpasswd", |a| Ok(s(htpasswd(&sarg(a, 0), &sarg(a, 1)))));
    r.f("b64enc", |a| {
        Ok(s(
            base64::engine::general_purpose::STANDARD.encode(crate::gobytes::to_bytes(&sarg(a, 0)))
        ))
    });
    r.f("b64dec", |a| {
        Ok(s(
            match base64::engine::general_purpose::STANDARD.decode(sarg(a, 0).as_bytes()) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => e.to_string(),
            },
        ))
    });
    r.f("sha256sum", |a| {
        Ok(s(hex(&sha2::Sha256::digest(crate::gobytes::to_bytes(
            &sarg(a, 0),
        )))))
    });
    r.f("sha512sum", |a| {
        Ok(s(hex(&sha2::Sha512::digest(crate::gobytes::to_bytes(
            &sarg(a, 0),
        )))))
    });
    r.f("sha1sum", |a| {
        Ok(s(hex(&sha1(&crate::gobytes::to_bytes(&sarg(a, 0))))))
    });
    r.f("adler32sum", |a| {
        Ok(s(
            adler32(&crate::gobytes::to_bytes(&sarg(a, 0))).to_string()
        ))
    });
    let sh = Arc::downgrade(shared);
    r.f("toJson", move |a| {
        Ok(s(to_json(
            &super::up(&sh)?.overlay.resolve_deep(arg(a, 0)),
            true,
            None,
        )
        .unwrap_or_default()))
    });
    let sh = Arc::downgrade(shared);
    r.f("mustToJson", move |a| {
        to_json(&super::up(&sh)?.overlay.resolve_deep(arg(a, 0)), true, None)
            .map(s)
            .map_err(err)
    });
    let sh = Arc::downgrade(shared);
    r.f("toRawJson", move |a| {
        Ok(s(to_json(
            &super::up(&sh)?.overlay.resolve_deep(arg(a, 0)),
            false,
            None,
        )
        .unwrap_or_default()))
    });
    let sh = Arc::downgrade(shared);
    r.f("mustToRawJson", move |a| {
        to_json(
            &super::up(&sh)?.overlay.resolve_deep(arg(a, 0)),
            false,
            None,
        )
        .map(s)
        .map_err(err)
    });
    let sh = Arc::downgrade(shared);
    r.f("toPrettyJson", move |a| {
        Ok(s(to_json(
            &super::up(&sh)?.overlay.resolve_deep(arg(a, 0)),
            true,
            Some("  "),
        )
        .unwrap_or_default()))
    });
    let sh = Arc::downgrade(shared);
    r.f("mustToPrettyJson", move |a| {
        to_json(
            &super::up(&sh)?.overlay.resolve_deep(arg(a, 0)),
            true,
            Some("  "),
        )
        .map(s)
        .map_err(err)
    });
    r.f("fromJson", |a| {
        Ok(
            match serde_json::from_str::<serde_json::Value>(&sarg(a, 0)) {
                Ok(v @ serde_json::Value::Object(_)) => crate::yaml::from_json(&v, true),
                Ok(_) => err_map(
                    "json: cannot unmarshal into Go value of type map[string]interface {}".into(),
                ),
                Err(e) => err_map(e.to_string()),
            },
        )
    });
    r.f("mustFromJson", |a| {
        serde_json::from_str::<serde_json::Value>(&sarg(a, 0))
            .map(|v| crate::yaml::from_json(&v, true))
            .map_err(|e| err(e.to_string()))
    });
    r.f("fromJsonArray", |a| {
        Ok(
            match serde_json::from_str::<serde_json::Value>(&sarg(a, 0)) {
                Ok(v @ serde_json::Value::Array(_)) => crate::yaml::from_json(&v, true),
                Ok(_) => Value::List(Arc::from(vec![s(
                    "json: cannot unmarshal into Go value of type []interface {}",
                )])),
                Err(e) => Value::List(Arc::from(vec![s(e.to_string())])),
            },
        )
    });
    let sh = Arc::downgrade(shared);
    r.f("toYaml", move |a| {
        Ok(s(to_yaml_string(
            &super::up(&sh)?.overlay.resolve_deep(arg(a, 0)),
        )))
    });
    let sh = Arc::downgrade(shared);
    r.f("mustToYaml", move |a| {
        crate::yaml::to_yaml(&super::up(&sh)?.overlay.resolve_deep(arg(a, 0)))
            .map(|y| s(y.strip_suffix('\n').unwrap_or(&y)))
            .map_err(err)
    });
    let sh = Arc::downgrade(shared);
    r.f("toYamlPretty", move |a| {
        Ok(s(to_yaml_string(
            &super::up(&sh)?.overlay.resolve_deep(arg(a, 0)),
        )))
    });
    r.f("fromYaml", |a| Ok(match crate::yaml::parse_json(&sarg(a, 0)) {
        Ok(v @ serde_json::Value::Object(_)) => crate::yaml::from_json(&v, true),
        Ok(serde_json::Value::Null) => Value::Map(Arc::new(Default::default())),
        Ok(_) => err_map("error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}".into()),
        Err(e) => err_map(e),
    }));
    r.f("fromYamlArray", |a| Ok(match crate::yaml::parse_json(&sarg(a, 0)) {
        Ok(v @ serde_json::Value::Array(_)) => crate::yaml::from_json(&v, true),
        Ok(serde_json::Value::Null) => Value::List(Arc::from(vec![])),
        Ok(_) => Value::List(Arc::from(vec![s("error unmarshaling JSON: json: cannot unmarshal into Go value of type []interface {}")])),
        Err(e) => Value::List(Arc::from(vec![s(e)])),
    }));
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// SHA-1, for Sprig's `sha1sum` (checksums only, not security).
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htpasswd_is_user_and_a_go_style_bcrypt_hash() {
        let line = htpasswd("admin", "s3cret");
        let (user, hash) = line.split_once(':').unwrap();
        assert_eq!(user, "admin");
        assert!(hash.starts_with("$2a$10$") && hash.len() == 60, "{hash}");
        assert!(bcrypt::verify("s3cret", hash).unwrap());
        assert!(!bcrypt::verify("other", hash).unwrap());
        assert_ne!(htpasswd("admin", "s3cret"), line, "salted");
        assert_eq!(htpasswd("a:b", "x"), "invalid username: a:b");
        assert_eq!(
            htpasswd("u", &"x".repeat(73)),
            "u:failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
        );
        assert!(bcrypt::verify("x".repeat(72), &bcrypt_text(&"x".repeat(72))).unwrap());
    }

    #[test]
    fn sha1_matches_the_standard_vectors() {
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
