//! Go strings hold any bytes; Rust strings hold UTF-8.
//!
//! A chart's file that is not UTF-8 (kube-prometheus-stack's `crds.bz2`, read
//! with `.Files.Get` and piped to `b64enc`) must reach the functions that read
//! a string as bytes unchanged. Each byte of an invalid sequence therefore
//! travels as one private-use character, U+10FF00 + byte, which text never
//! holds in practice, and those functions map it back.

use std::borrow::Cow;

const BASE: u32 = 0x10FF00;
/// The first byte of every character from U+10FF00 up, in UTF-8.
const LEAD: u8 = 0xF4;

/// The bytes as a string: unchanged when they are UTF-8 (and hold no
/// character of the escape range, whose bytes are escaped so that
/// [`to_bytes`] gives back exactly `data`).
pub fn from_bytes(data: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(data)
        && !data.contains(&LEAD)
    {
        return Cow::Borrowed(text);
    }
    let escape = |out: &mut String, bytes: &[u8]| {
        for &b in bytes {
            out.push(char::from_u32(BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
    };
    let mut out = String::with_capacity(data.len() + data.len() / 2);
    for chunk in data.utf8_chunks() {
        for c in chunk.valid().chars() {
            if u32::from(c) >= BASE {
                escape(&mut out, c.encode_utf8(&mut [0; 4]).as_bytes());
            } else {
                out.push(c);
            }
        }
        escape(&mut out, chunk.invalid());
    }
    Cow::Owned(out)
}

/// The bytes a Go string would hold: the inverse of [`from_bytes`].
pub fn to_bytes(text: &str) -> Cow<'_, [u8]> {
    if !text.as_bytes().contains(&LEAD) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        match u32::from(c).checked_sub(BASE) {
            Some(b) => out.push(b as u8),
            None => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{from_bytes, to_bytes};

    #[test]
    fn any_bytes_survive_the_round_trip_and_text_is_untouched() {
        let binary: Vec<u8> = (0..=255u8).chain([0xF4, 0x8F, 0xBF, 0xBF, b'a']).collect();
        assert_eq!(to_bytes(&from_bytes(&binary)).as_ref(), binary.as_slice());
        let odd = "héllo \u{10FFFF}?".as_bytes();
        assert_eq!(to_bytes(&from_bytes(odd)).as_ref(), odd);
        assert!(matches!(
            from_bytes("héllo".as_bytes()),
            std::borrow::Cow::Borrowed("héllo")
        ));
    }
}
