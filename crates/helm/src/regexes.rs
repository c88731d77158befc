//! Go regular expressions, translated for the regex crates and compiled once
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
//!
//! Two engines. A chart's patterns match short strings once or a few times
//! per process, so compiling is what costs: `regex` builds UTF-8 automata
//! (and, with the `dfa-build` feature another crate of the binary turns on,
//! full DFAs), about 0.1-0.5 ms per pattern, 5% of bitnami-redis's CPU.
//! `regex-lite` compiles the same patterns some twenty times faster and
//! reads `\d`, `\w`, `\s` and `\b` as ASCII, as RE2 does. It has no Unicode
//! classes (`\pL`) and folds case in ASCII only: a pattern it refuses, or
//! one that asks for case folding (`(?i)`, where RE2 folds Unicode: `k`
//! matches the Kelvin sign), goes to `regex`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

const MAX_CACHED: usize = 256;

/// A compiled Go regular expression.
#[derive(Debug)]
pub enum GoRegex {
    Lite(regex_lite::Regex),
    Full(regex::Regex),
}

/// Runs `$body` with `$r` bound to whichever engine compiled the pattern
/// (the two share their API).
macro_rules! either {
    ($self:expr, $r:ident => $body:expr) => {
        match $self {
            GoRegex::Lite($r) => $body,
            GoRegex::Full($r) => $body,
        }
    };
}

impl GoRegex {
    pub fn is_match(&self, haystack: &str) -> bool {
        either!(self, r => r.is_match(haystack))
    }

    /// The leftmost match.
    pub fn find<'h>(&self, haystack: &'h str) -> Option<&'h str> {
        either!(self, r => r.find(haystack).map(|m| m.as_str()))
    }

    /// The first `limit` successive matches.
    pub fn find_all<'h>(&self, haystack: &'h str, limit: usize) -> Vec<&'h str> {
        self.spans(haystack, limit)
            .into_iter()
            .map(|(start, end)| &haystack[start..end])
            .collect()
    }

    /// Where the first `limit` successive matches start and end.
    fn spans(&self, haystack: &str, limit: usize) -> Vec<(usize, usize)> {
        either!(self, r => r
            .find_iter(haystack)
            .take(limit)
            .map(|m| (m.start(), m.end()))
            .collect())
    }

    /// Every match replaced by `with`, with `$1`/`${name}` expanded unless
    /// `literal`.
    pub fn replace_all(&self, haystack: &str, with: &str, literal: bool) -> String {
        match (self, literal) {
            (GoRegex::Lite(r), false) => r.replace_all(haystack, with).into_owned(),
            (GoRegex::Lite(r), true) => r
                .replace_all(haystack, regex_lite::NoExpand(with))
                .into_owned(),
            (GoRegex::Full(r), false) => r.replace_all(haystack, with).into_owned(),
            (GoRegex::Full(r), true) => r.replace_all(haystack, regex::NoExpand(with)).into_owned(),
        }
    }

    /// Go's `Regexp.Split`: the text between matches, in at most `limit`
    /// pieces when given. Unlike the regex crates' `split`, an empty match
    /// at the start yields no empty first piece, nor an empty match at the
    /// end an empty last one (`regexSplit "" "abc"` is `[a b c]`).
    pub fn split<'h>(&self, haystack: &'h str, limit: Option<usize>) -> Vec<&'h str> {
        if limit == Some(0) {
            return Vec::new();
        }
        if haystack.is_empty() && !self.is_empty_pattern() {
            return vec![""];
        }
        let spans = self.spans(haystack, limit.unwrap_or(usize::MAX));
        let mut pieces = Vec::with_capacity(spans.len() + 1);
        let (mut begin, mut end) = (0, 0);
        for (start, stop) in spans {
            if limit.is_some_and(|n| pieces.len() + 1 == n) {
                break;
            }
            end = start;
            if stop != 0 {
                pieces.push(&haystack[begin..end]);
            }
            begin = stop;
        }
        if end != haystack.len() {
            pieces.push(&haystack[begin..]);
        }
        pieces
    }

    fn is_empty_pattern(&self) -> bool {
        either!(self, r => r.as_str().is_empty())
    }
}

/// Go's `regexp.QuoteMeta`: only RE2's metacharacters are escaped (the
/// regex crates' `escape` also escapes `-`, `#`, `&` and `~`).
pub fn quote_meta(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The Go (RE2) regular expression `pattern`, translated and compiled once
/// per process for the first patterns seen (kept by the Go spelling, so a
/// pattern in a loop is translated once too): what the template functions
/// and values schemas' `pattern`s use (Helm's schema validator compiles
/// them with Go's regexp).
pub fn go(pattern: &str) -> Result<Arc<GoRegex>, regex::Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<GoRegex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(r);
    }
    let r = Arc::new(compile(pattern)?);
    if let Ok(mut c) = cache.lock()
        && c.len() < MAX_CACHED
    {
        c.insert(pattern.to_owned(), r.clone());
    }
    Ok(r)
}

fn compile(pattern: &str) -> Result<GoRegex, regex::Error> {
    if !folds_case(pattern)
        && let Ok(r) = regex_lite::Regex::new(&go_regex(pattern, false))
    {
        return Ok(GoRegex::Lite(r));
    }
    // Errors are worded by `regex` whichever engine refused.
    regex::Regex::new(&go_regex(pattern, true)).map(GoRegex::Full)
}

/// Whether `pattern` may set the `i` flag (a `(?flags)` or `(?flags:`
/// group with an `i`). Errs towards yes: an escaped `\(?i` only costs the
/// faster engine.
fn folds_case(pattern: &str) -> bool {
    pattern.match_indices("(?").any(|(at, _)| {
        pattern[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '-')
            .any(|c| c == 'i')
    })
}

/// A Go regular expression for the regex crates:
/// - RE2's Perl classes (`\d`, `\w`, `\s`, their negations) and word
///   boundaries (`\b`, `\B`) are ASCII, `regex`'s Unicode: `\W` matches `é`
///   in Go and not there. For `regex` (`spell_ascii`) they are spelled out
///   as ASCII sets, which also compile many times faster than the Unicode
///   tables; `regex-lite` reads them as RE2 does.
/// - RE2 reads `-` next to a class escape inside `[...]` as a literal,
///   where both crates see a broken range: such dashes are escaped.
fn go_regex(p: &str, spell_ascii: bool) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len());
    let mut in_class = false;
    let is_class_escape =
        |i: usize| i + 1 < chars.len() && chars[i] == '\\' && "wWdDsS".contains(chars[i + 1]);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            match ascii_class(chars[i + 1], in_class).filter(|_| spell_ascii) {
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
    use super::{GoRegex, go, go_regex};

    /// `pattern` compiled by each engine, for what both must read alike.
    fn both(pattern: &str) -> [GoRegex; 2] {
        [
            GoRegex::Lite(regex_lite::Regex::new(&go_regex(pattern, false)).unwrap()),
            GoRegex::Full(regex::Regex::new(&go_regex(pattern, true)).unwrap()),
        ]
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_go_in_both_engines() {
        for [lite, full] in [r"\W", r"^\d+$", r"^[\D]+$", r"\s", r"^[\w-.]+$"].map(both) {
            for hay in ["é", "٣", "\u{a0}", "a-b.c", "7"] {
                assert_eq!(
                    lite.is_match(hay),
                    full.is_match(hay),
                    "{lite:?} on {hay:?}"
                );
            }
        }
        for r in both(r"\W") {
            assert!(r.is_match("é"));
        }
        for r in both(r"^\d+$") {
            assert!(!r.is_match("٣"));
        }
        for r in both(r"^[\D]+$") {
            assert!(r.is_match("٣"));
        }
        for r in both(r"\s") {
            assert!(!r.is_match("\u{a0}"));
        }
        for r in both(r"\bx") {
            assert_eq!(r.replace_all("éx x", "Y", false), "éY Y");
        }
        for r in both(r"^[\w-.]+$") {
            assert!(r.is_match("a-b.c"));
        }
    }

    #[test]
    fn case_folding_and_unicode_classes_go_to_the_full_engine() {
        // RE2 folds case in Unicode: `k` matches the Kelvin sign.
        let kelvin = go("(?i)^k$").unwrap();
        assert!(matches!(*kelvin, GoRegex::Full(_)));
        assert!(kelvin.is_match("\u{212A}"));
        assert!(go("(?mi:^é)").unwrap().is_match("É"));
        let letters = go(r"^\pL+$").unwrap();
        assert!(matches!(*letters, GoRegex::Full(_)));
        assert!(letters.is_match("éΩ"));
        assert!(matches!(*go("^a(?m:b)$").unwrap(), GoRegex::Lite(_)));
    }

    #[test]
    fn replace_split_and_find_agree_between_engines() {
        for [lite, full] in [r"a(b*)", r"(?P<x>[0-9]+)-", r"", r"x*"].map(both) {
            for hay in ["", "abbb-ab a", "12-34-5", "xxyx"] {
                assert_eq!(lite.find(hay), full.find(hay));
                assert_eq!(
                    lite.find_all(hay, usize::MAX),
                    full.find_all(hay, usize::MAX)
                );
                assert_eq!(lite.find_all(hay, 1), full.find_all(hay, 1));
                for (with, literal) in [("[$1]", false), ("${x}!", false), ("$1", true)] {
                    assert_eq!(
                        lite.replace_all(hay, with, literal),
                        full.replace_all(hay, with, literal)
                    );
                }
                assert_eq!(lite.split(hay, None), full.split(hay, None));
                assert_eq!(lite.split(hay, Some(2)), full.split(hay, Some(2)));
            }
        }
    }

    #[test]
    fn the_same_pattern_matches_the_same_way_twice_and_errors_are_not_cached() {
        assert!(go("^a.c$").unwrap().is_match("abc"));
        assert!(!go("^a.c$").unwrap().is_match("abd"));
        assert!(go("[").is_err());
        assert!(go("[").is_err());
    }
}
