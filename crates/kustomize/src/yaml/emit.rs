//! Prints a [`Value`] the way kustomize does: `sigs.k8s.io/yaml.JSONToYAML`,
//! which is go-yaml v2's `Marshal` of the JSON value.
//!
//! The rules mirrored here, all observable in kustomize's output:
//! - keys sorted with go-yaml v2's order (letters before other characters,
//!   runs of digits compared as numbers: `a9` before `a10`);
//! - block style, two-space indent, sequences inside a mapping not indented;
//! - empty maps and lists as `{}` and `[]`;
//! - strings plain when go-yaml would read them back as the same string,
//!   otherwise single-quoted when that can say it, otherwise double-quoted;
//!   strings with a newline as literal blocks (`|`, `|-`, `|+`) when allowed;
//! - long plain and quoted strings folded at spaces past column 80.

use std::cmp::Ordering;

use super::resolve::v2_reads_as_non_string;
use crate::json::format_float;
use crate::value::Value;

const BEST_WIDTH: usize = 80;
const BEST_INDENT: usize = 2;

/// One document, ending in a newline.
pub fn to_string(v: &Value) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        open_ended: false,
    };
    e.node(v, -1, Ctx::Root);
    // The implicit document end.
    e.write_indent(0);
    if e.open_ended {
        e.indicator("...", true, false, false);
        e.write_indent(0);
    }
    e.out
}

/// go-yaml v2's key order.
pub fn key_cmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    if key_less(a, b) {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

fn key_less(a: &str, b: &str) -> bool {
    // Keys are nearly always ASCII, where bytes are the characters: compare
    // them in place rather than collecting characters for every comparison.
    if a.is_ascii() && b.is_ascii() {
        return runes_less(a.as_bytes(), b.as_bytes());
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    runes_less(&ar, &br)
}

/// go-yaml v2's `keyLess` over characters (`char`, or ASCII bytes).
fn runes_less<C: Copy + Ord + Into<char>>(ar: &[C], br: &[C]) -> bool {
    let digit = |c: C| c.into().is_ascii_digit();
    let value = |c: C| c.into() as i64 - '0' as i64;
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].into().is_alphabetic();
        let bl = br[i].into().is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i].into() == '0' || br[i].into() == '0' {
            let mut j = i;
            while j > 0 && digit(ar[j - 1]) {
                j -= 1;
                if ar[j].into() != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && digit(ar[ai]) {
            an = an.wrapping_mul(10).wrapping_add(value(ar[ai]));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && digit(br[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(value(br[bi]));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Root,
    MappingValue,
    SequenceItem,
    /// A complex (`? `) key.
    Key,
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self, indent: isize) {
        let indent = indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(
        &mut self,
        s: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in s.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn node(&mut self, v: &Value, indent: isize, ctx: Ctx) {
        match v {
            Value::Map(m) if !m.is_empty() => {
                let indent = if indent < 0 {
                    0
                } else {
                    indent + BEST_INDENT as isize
                };
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_by(|a, b| key_cmp(a, b));
                for k in keys {
                    self.write_indent(indent);
                    let a = analyze(k);
                    if !a.multiline && k.len() <= 128 {
                        self.key(k, a, indent);
                        self.indicator(":", false, false, false);
                    } else {
                        self.indicator("?", true, false, true);
                        self.node(&Value::String(k.clone()), indent, Ctx::Key);
                        self.write_indent(indent);
                        self.indicator(":", true, false, true);
                    }
                    self.node(&m[k], indent, Ctx::MappingValue);
                }
            }
            Value::Seq(items) if !items.is_empty() => {
                let indentless = ctx == Ctx::MappingValue && !self.indention;
                let indent = if indent < 0 {
                    0
                } else if indentless {
                    indent
                } else {
                    indent + BEST_INDENT as isize
                };
                for item in items {
                    self.write_indent(indent);
                    self.indicator("-", true, false, true);
                    self.node(item, indent, Ctx::SequenceItem);
                }
            }
            Value::Map(_) => {
                self.indicator("{", true, true, false);
                self.indicator("}", false, false, false);
            }
            Value::Seq(_) => {
                self.indicator("[", true, true, false);
                self.indicator("]", false, false, false);
            }
            Value::Null => self.typed_scalar("null", indent, ctx),
            Value::Bool(b) => self.typed_scalar(if *b { "true" } else { "false" }, indent, ctx),
            Value::Int(i) => self.typed_scalar(&i.to_string(), indent, ctx),
            Value::UInt(u) => self.typed_scalar(&u.to_string(), indent, ctx),
            Value::Float(f) => self.typed_scalar(&format_float(*f), indent, ctx),
            Value::String(s) => {
                let scalar_indent = if indent < 0 {
                    BEST_INDENT as isize
                } else {
                    indent + BEST_INDENT as isize
                };
                let _ = ctx;
                self.string(s, scalar_indent, false);
            }
        }
    }

    fn typed_scalar(&mut self, s: &str, indent: isize, ctx: Ctx) {
        let _ = ctx;
        let scalar_indent = if indent < 0 {
            BEST_INDENT as isize
        } else {
            indent + BEST_INDENT as isize
        };
        if !self.whitespace {
            self.put(' ');
        }
        self.write_plain(s, scalar_indent, true);
        let _ = scalar_indent;
    }

    /// A simple mapping key written at `indent`, already analysed.
    fn key(&mut self, s: &str, a: Analysis, indent: isize) {
        self.analysed_string(s, a, indent + BEST_INDENT as isize, true);
    }

    fn string(&mut self, s: &str, indent: isize, simple_key: bool) {
        self.analysed_string(s, analyze(s), indent, simple_key);
    }

    fn analysed_string(&mut self, s: &str, a: Analysis, indent: isize, simple_key: bool) {
        let can_plain = !v2_reads_as_non_string(s);
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if can_plain {
            Style::Plain
        } else {
            Style::Double
        };
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => {
                if !self.whitespace {
                    self.put(' ');
                }
                self.write_plain(s, indent, allow_breaks);
            }
            Style::Single => self.write_single(s, indent, allow_breaks),
            Style::Double => self.write_double(s, indent, allow_breaks),
            Style::Literal => self.write_literal(s, indent),
        }
    }

    fn write_plain(&mut self, s: &str, indent: isize, allow_breaks: bool) {
        let mut spaces = false;
        let mut breaks = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && chars.peek() != Some(&' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_single(&mut self, s: &str, indent: isize, allow_breaks: bool) {
        self.indicator("'", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < chars.len() - 1
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, s: &str, indent: isize, allow_breaks: bool) {
        self.indicator("\"", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let v = c as u32;
                        let (p, w) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(p);
                        for ch in format!("{v:0w$X}").chars() {
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < chars.len() - 1
                {
                    self.write_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, s: &str, indent: isize) {
        self.indicator("|", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        // Block scalar hints: an explicit indent when the text starts with
        // a space or a break, and the chomping indicator.
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        self.open_ended = false;
        let n = chars.len();
        let chomp = if n == 0 || !is_break(chars[n - 1]) {
            Some('-')
        } else if n == 1 || is_break(chars[n - 2]) {
            Some('+')
        } else {
            None
        };
        let plus = chomp == Some('+');
        if let Some(c) = chomp {
            self.indicator(&c.to_string(), false, false, false);
        }
        if plus {
            self.open_ended = true;
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0A
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}

#[derive(Clone, Copy)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// go-yaml v2's scalar analysis (block context: flow styles are never used
/// for strings here).
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut chars = s.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let last = next.is_none();
        let followed_by_whitespace = next.is_none_or(|n| matches!(n, ' ' | '\t') || is_break(n));
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    block_indicators = true;
                }
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if first {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if first {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = matches!(c, ' ' | '\t' | '\0') || is_break(c);
        first = false;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    fn doc(pairs: &[(&str, Value)]) -> String {
        let m: Map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        to_string(&Value::Map(m))
    }

    #[test]
    fn sorts_keys_like_go_yaml_v2() {
        let mut keys = vec!["a10", "a9", "A", "_b", "1", "b"];
        keys.sort_by(|a, b| key_cmp(a, b));
        assert_eq!(keys, ["_b", "1", "A", "a9", "a10", "b"]);
    }

    #[test]
    fn ascii_keys_compare_as_their_characters_do() {
        let keys = [
            "", "a", "a1", "a01", "a001", "a10", "a9", "x0", "x00", "x09", "1.10", "1.9", "B", "_",
            "-", "é", "z", "10a", "9z", "a-b", "a_b",
        ];
        for a in keys {
            for b in keys {
                let chars = |s: &str| s.chars().collect::<Vec<char>>();
                assert_eq!(
                    key_less(a, b),
                    runes_less(&chars(a), &chars(b)),
                    "{a:?} < {b:?}"
                );
            }
        }
    }

    #[test]
    fn quotes_what_v2_would_misread() {
        assert_eq!(doc(&[("d", "yes".into())]), "d: \"yes\"\n");
        assert_eq!(doc(&[("r", "a: b".into())]), "r: 'a: b'\n");
        assert_eq!(doc(&[("u", "\ttab".into())]), "u: \"\\ttab\"\n");
        assert_eq!(doc(&[("t", "".into())]), "t: \"\"\n");
        assert_eq!(doc(&[("y", Value::Int(1))]), "\"y\": 1\n");
    }

    #[test]
    fn literal_blocks_and_nesting() {
        let v = doc(&[
            ("l", "line1\nline2\n".into()),
            (
                "s",
                Value::Seq(vec![
                    Value::Int(1),
                    Value::Map([("c".to_string(), "d".into())].into()),
                ]),
            ),
            ("e", Value::Map(Map::new())),
        ]);
        assert_eq!(v, "e: {}\nl: |\n  line1\n  line2\ns:\n- 1\n- c: d\n");
    }

    #[test]
    fn folds_long_strings_at_80_columns() {
        let s = "this is a very long string that goes on and on and on and on and on past eighty columns for sure yes";
        assert_eq!(
            doc(&[("n", s.into())]),
            "\"n\": this is a very long string that goes on and on and on and on and on past eighty\n  columns for sure yes\n"
        );
    }
}
