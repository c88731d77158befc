//! Go regular expressions, translated for the regex crate and compiled once
//! for the process.
//!
//! Charts call the regex functions inside loops with the same few patterns,
//! and values schemas apply one `pattern` to every matching value; compiling
//! costs far more than matching (bitnami-redis spent 15% of its render
//! compiling the same regexes again). Bounded, so input cannot grow it
//! without limit.
//!
//! The cache hands out shared handles, not clones: a cloned `Regex` gets its
//! own empty match cache, which the next search has to build (that was 7% of
//! bitnami-redis's template execution).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;

const MAX_CACHED: usize = 256;

/// The Go (RE2) regular expression `pattern`, translated and compiled once
/// per process for the first patterns seen (kept by the Go spelling, so a
/// pattern in a loop is translated once too): what the template functions
/// and values schemas' `pattern`s use (Helm's schema validator compiles
/// them with Go's regexp).
pub fn go(pattern: &str) -> Result<Arc<Regex>, regex::Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(r);
    }
    let r = Arc::new(Regex::new(&go_regex(pattern))?);
    if let Ok(mut c) = cache.lock()
        && c.len() < MAX_CACHED
    {
        c.insert(pattern.to_owned(), r.clone());
    }
    Ok(r)
}

/// A Go regular expression for the regex crate:
/// - RE2's Perl classes (`\d`, `\w`, `\s`, their negations) and word
///   boundaries (`\b`, `\B`) are ASCII, the regex crate's Unicode: `\W`
///   matches `é` in Go and not there. They are spelled out as ASCII sets,
///   which also compile many times faster than the Unicode tables (regex
///   compilation was 5% of bitnami-redis's CPU time: `\W`, `\d`).
/// - RE2 reads `-` next to a class escape inside `[...]` as a literal,
///   where the regex crate sees a broken range: such dashes are escaped.
fn go_regex(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len());
    let mut in_class = false;
    let is_class_escape =
        |i: usize| i + 1 < chars.len() && chars[i] == '\\' && "wWdDsS".contains(chars[i + 1]);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            match ascii_class(chars[i + 1], in_class) {
                Some(set) => out.push_str(set),
                None => {
                    out.push(c);
                    out.push(chars[i + 1]);
                }
            }
            i += 2;
            continue;
        }
        if !in_class && c == '[' {
            in_class = true;
        } else if in_class && c == ']' {
            in_class = false;
        } else if in_class && c == '-' {
            let after_escape = i >= 2 && is_class_escape(i - 2);
            let before_escape = is_class_escape(i + 1);
            if after_escape || before_escape {
                out.push_str("\\-");
                i += 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// RE2's meaning of a backslash and `escape` as regex crate syntax, inside a
/// bracketed class or outside one; `None` when both read it alike.
fn ascii_class(escape: char, in_class: bool) -> Option<&'static str> {
    Some(match (escape, in_class) {
        ('d', false) => "[0-9]",
        ('d', true) => "0-9",
        ('w', false) => "[0-9A-Za-z_]",
        ('w', true) => "0-9A-Za-z_",
        ('s', false) => r"[\t\n\x0C\r ]",
        ('s', true) => r"\t\n\x0C\r ",
        // A negated set inside a class is a nested class.
        ('D', _) => "[^0-9]",
        ('W', _) => "[^0-9A-Za-z_]",
        ('S', _) => r"[^\t\n\x0C\r ]",
        ('b', false) => r"(?-u:\b)",
        ('B', false) => r"(?-u:\B)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::go;

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_go() {
        assert!(go(r"\W").unwrap().is_match("é"));
        assert!(!go(r"^\d+$").unwrap().is_match("٣"));
        assert!(go(r"^[\D]+$").unwrap().is_match("٣"));
        assert!(!go(r"\s").unwrap().is_match("\u{a0}"));
        assert_eq!(go(r"\bx").unwrap().replace_all("éx x", "Y"), "éY Y");
        assert!(go(r"^[\w-.]+$").unwrap().is_match("a-b.c"));
    }

    #[test]
    fn the_same_pattern_matches_the_same_way_twice_and_errors_are_not_cached() {
        assert!(go("^a.c$").unwrap().is_match("abc"));
        assert!(!go("^a.c$").unwrap().is_match("abd"));
        assert!(go("[").is_err());
        assert!(go("[").is_err());
    }
}
