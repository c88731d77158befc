//! The rest of Sprig's map that skiff lacked: `hello`, `b32enc`/`b32dec`,
//! `abbrevboth`, `swapcase`, `wrapWith`, `randBytes` (goutils semantics where
//! Sprig uses goutils), and Sprig's alternate names for functions skiff has.

use crate::template::exec::Funcs;
use base64::Engine as _;

use super::{Reg, err, s, sarg, to_i64};

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Go's `base32.StdEncoding.EncodeToString`.
fn b32enc(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(char::from(BASE32[((bits >> (35 - 5 * i)) & 31) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base32.StdEncoding.DecodeString` (line breaks ignored); the error
/// names the offset of the first bad byte.
fn b32dec(text: &str) -> Result<Vec<u8>, String> {
    let clean: Vec<(usize, u8)> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b != b'\r' && *b != b'\n')
        .collect();
    let bad = |i: usize| format!("illegal base32 data at input byte {i}");
    if !clean.len().is_multiple_of(8) {
        let at = clean.len() - clean.len() % 8;
        return Err(bad(clean.get(at).map_or(text.len(), |(i, _)| *i)));
    }
    let mut out = Vec::new();
    for (n, group) in clean.chunks(8).enumerate() {
        let last = n + 1 == clean.len() / 8;
        let pad = group.iter().rev().take_while(|(_, b)| *b == b'=').count();
        let data = 8 - pad;
        if pad > 0 && (!last || !matches!(data, 2 | 4 | 5 | 7)) {
            return Err(bad(group[data].0));
        }
        let mut bits = 0u64;
        for (i, b) in &group[..data] {
            let v = BASE32.iter().position(|c| c == b).ok_or_else(|| bad(*i))?;
            bits = (bits << 5) | v as u64;
        }
        bits <<= 5 * pad;
        let bytes = match data {
            2 => 1,
            4 => 2,
            5 => 3,
            7 => 4,
            _ => 5,
        };
        out.extend_from_slice(&bits.to_be_bytes()[3..3 + bytes]);
    }
    Ok(out)
}

/// goutils' `AbbreviateFull`, bytewise as Go slices.
fn abbreviate_full(text: &str, offset: i64, width: i64) -> String {
    let b = text.as_bytes();
    let len = b.len() as i64;
    if text.is_empty() || width < 4 || len <= width {
        return text.to_string();
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    let lossy = |x: &[u8]| String::from_utf8_lossy(x).into_owned();
    if offset <= 4 {
        return format!("{}...", lossy(&b[..(width - 3) as usize]));
    }
    if width < 7 {
        return String::new();
    }
    if offset + width - 3 < len {
        let rest = lossy(&b[offset as usize..]);
        return format!("...{}", abbreviate_full(&rest, 0, width - 3));
    }
    format!("...{}", lossy(&b[(len - (width - 3)) as usize..]))
}

/// The title-case letter of a Latin digraph (Ǆ ǅ ǆ -> ǅ, ...); the only
/// letters whose title case is not their upper case outside a few scripts.
fn digraph_title(c: char) -> Option<char> {
    Some(match c {
        '\u{1c4}'..='\u{1c6}' => '\u{1c5}',
        '\u{1c7}'..='\u{1c9}' => '\u{1c8}',
        '\u{1ca}'..='\u{1cc}' => '\u{1cb}',
        '\u{1f1}'..='\u{1f3}' => '\u{1f2}',
        _ => return None,
    })
}

/// goutils' `SwapCase`: upper and title case to lower; lower case to upper,
/// or to title case at the start of a word.
fn swapcase(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = true;
    for c in text.chars() {
        let title = digraph_title(c) == Some(c);
        if c.is_uppercase() || title {
            out.extend(c.to_lowercase());
            word_start = false;
        } else if c.is_lowercase() {
            match digraph_title(c) {
                Some(t) if word_start => out.push(t),
                _ => out.extend(c.to_uppercase()),
            }
            word_start = false;
        } else {
            out.push(c);
            word_start = c.is_whitespace();
        }
    }
    out
}

/// goutils' `WrapCustom` with long words broken, bytewise as Go.
fn wrap_custom(text: &str, width: i64, newline: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = width.max(1) as usize;
    let b = text.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut offset = 0;
    while b.len() - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = width + offset + 1;
        match b[offset..end].iter().rposition(|c| *c == b' ') {
            Some(space) => {
                out.extend_from_slice(&b[offset..offset + space]);
                out.extend_from_slice(newline.as_bytes());
                offset += space + 1;
            }
            None => {
                out.extend_from_slice(&b[offset..offset + width]);
                out.extend_from_slice(newline.as_bytes());
                offset += width;
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    String::from_utf8_lossy(&out).into_owned()
}

pub fn register(r: &mut Reg) {
    r.f("hello", |_| Ok(s("Hello!")));
    r.f("b32enc", |a| {
        Ok(s(b32enc(&crate::gobytes::to_bytes(&sarg(a, 0)))))
    });
    // Sprig returns the decoder's error text as the result.
    r.f("b32dec", |a| {
        Ok(s(match b32dec(&sarg(a, 0)) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => e,
        }))
    });
    r.f("abbrevboth", |a| {
        let (left, right) = (to_i64(&super::arg(a, 0)), to_i64(&super::arg(a, 1)));
        let text = sarg(a, 2);
        if right < 4 || (left > 0 && right < 7) {
            return Ok(s(text));
        }
        Ok(s(abbreviate_full(&text, left, right)))
    });
    r.f("swapcase", |a| Ok(s(swapcase(&sarg(a, 0)))));
    r.f("wrapWith", |a| {
        Ok(s(wrap_custom(
            &sarg(a, 2),
            to_i64(&super::arg(a, 0)),
            &sarg(a, 1),
        )))
    });
    r.f("randBytes", |a| {
        let n = to_i64(&super::arg(a, 0));
        let n = usize::try_from(n).map_err(|_| err(format!("randBytes: negative count {n}")))?;
        let mut buf = vec![0u8; n.min(1 << 20)];
        getrandom::fill(&mut buf).map_err(|e| err(format!("randBytes: {e}")))?;
        Ok(s(base64::engine::general_purpose::STANDARD.encode(buf)))
    });
}

/// Sprig's second names for functions registered under their first.
pub fn aliases(m: &mut Funcs) {
    for (alias, name) in [
        ("biggest", "max"),
        ("trimall", "trimAll"),
        ("date_in_zone", "dateInZone"),
        ("date_modify", "dateModify"),
        ("must_date_modify", "mustDateModify"),
        // filepath on Linux is path.
        ("osBase", "base"),
        ("osClean", "clean"),
        ("osDir", "dir"),
        ("osExt", "ext"),
        ("osIsAbs", "isAbs"),
        // The must forms differ only in returning errors instead of
        // panicking, which reads the same from a template.
        ("mustChunk", "chunk"),
        ("mustRegexFind", "regexFind"),
        ("mustRegexFindAll", "regexFindAll"),
        ("mustRegexReplaceAll", "regexReplaceAll"),
        ("mustRegexReplaceAllLiteral", "regexReplaceAllLiteral"),
        ("mustRegexSplit", "regexSplit"),
    ] {
        if let Some(f) = m.get(name).cloned() {
            m.insert(alias, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trips_like_go() {
        assert_eq!(b32enc(b"hello"), "NBSWY3DP");
        assert_eq!(b32enc(b"hi"), "NBUQ====");
        assert_eq!(b32enc(b""), "");
        assert_eq!(b32dec("NBUQ====").unwrap(), b"hi");
        assert_eq!(b32dec("NBSWY3DP").unwrap(), b"hello");
        assert!(b32dec("NBU").is_err());
        assert!(b32dec("1BUQ====").is_err());
    }

    #[test]
    fn goutils_helpers() {
        assert_eq!(abbreviate_full("abcdefghijklmno", 5, 10), "...fghi...");
        assert_eq!(abbreviate_full("abcdefghijklmno", 0, 10), "abcdefg...");
        assert_eq!(swapcase("Hello World"), "hELLO wORLD");
        assert_eq!(swapcase("\u{1c6}a \u{1c6}"), "\u{1c5}A \u{1c5}");
        assert_eq!(
            wrap_custom("aaaa bbbb cccc", 6, "<br>"),
            "aaaa<br>bbbb<br>cccc"
        );
        assert_eq!(wrap_custom("abcdefgh", 3, "\n"), "abc\ndef\ngh");
    }
}
