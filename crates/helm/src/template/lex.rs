//! Lexer for Go templates with `{{`/`}}` delimiters that yields the same token
//! stream as `gotmpl` 0.6.1's lexer, lazily and fast: text between actions is
//! found with a SIMD substring search and line numbers are counted per slice,
//! never per character.
//!
//! Token positions follow gotmpl, since the parser copies them into the AST:
//! `pos` is where the token starts (for delimiters: just after them; for text:
//! before any trimming) and `line` is the line the lexer was on when it
//! finished the token.
//!
//! Any lexical error is reported as [`Reject`]; the caller asks gotmpl for the
//! message, so error wording stays gotmpl's.

use std::borrow::Cow;
use std::collections::VecDeque;

use gotmpl::parse::Number;

/// The input is not valid for gotmpl (or we do not decide it ourselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    LeftDelim,
    LeftTrimDelim,
    RightDelim,
    RightTrimDelim,
    Dot,
    Field,
    Variable,
    Identifier,
    String,
    Number,
    Bool,
    Nil,
    Char,
    Pipe,
    Comma,
    Assign,
    Declare,
    LeftParen,
    RightParen,
    If,
    Else,
    End,
    Range,
    With,
    Define,
    Template,
    Block,
    Break,
    Continue,
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token<'a> {
    pub kind: Kind,
    /// Text after trimming, the raw spelling of names, the value of strings.
    pub val: Cow<'a, str>,
    pub num: Number,
    pub pos: usize,
    pub line: usize,
}

enum Mode {
    /// Outside actions; `trim` says the last action closed with `-}}`.
    Text {
        trim: bool,
    },
    Inside,
    Done,
}

pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// Start of the pending text run (text mode only).
    start: usize,
    mode: Mode,
    /// `line` is the 1-based line number at byte `line_at`.
    line: usize,
    line_at: usize,
}

const RIGHT: &str = "}}";

/// Where the first `{{` starts; the searcher is built once, not per text run.
fn find_left(bytes: &[u8]) -> Option<usize> {
    static FINDER: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    FINDER
        .get_or_init(|| memchr::memmem::Finder::new(b"{{"))
        .find(bytes)
}

/// Space, tab, CR or LF: the only bytes that make `{{-`/`-}}` trim markers.
fn is_go_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            start: 0,
            mode: Mode::Text { trim: false },
            line: 1,
            line_at: 0,
        }
    }

    /// The line at byte `at`; `at` never goes backwards between calls
    /// (every byte of a template is counted once: text runs are most of it).
    fn line_to(&mut self, at: usize) -> usize {
        if at > self.line_at {
            self.line += newlines(&self.src.as_bytes()[self.line_at..at]);
            self.line_at = at;
        }
        self.line
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..).and_then(|s| s.chars().next())
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    /// End of the run of (Unicode) whitespace starting at `at`.
    fn skip_space(&self, mut at: usize) -> usize {
        let bytes = self.src.as_bytes();
        while let Some(&b) = bytes.get(at) {
            if b < 0x80 {
                if !(b as char).is_whitespace() {
                    break;
                }
                at += 1;
            } else {
                match self.char_at(at) {
                    Some(c) if c.is_whitespace() => at += c.len_utf8(),
                    _ => break,
                }
            }
        }
        at
    }

    /// End of the run of identifier characters starting at `at`.
    fn skip_ident(&self, mut at: usize) -> usize {
        let bytes = self.src.as_bytes();
        while let Some(&b) = bytes.get(at) {
            if b < 0x80 {
                if !(b.is_ascii_alphanumeric() || b == b'_') {
                    break;
                }
                at += 1;
            } else {
                match self.char_at(at) {
                    Some(c) if is_ident_char(c) => at += c.len_utf8(),
                    _ => break,
                }
            }
        }
        at
    }

    fn at_right_trim(&self, at: usize, space_before: bool) -> bool {
        space_before && self.byte(at) == Some(b'-') && self.src[at + 1..].starts_with(RIGHT)
    }

    fn push(&mut self, out: &mut VecDeque<Token<'a>>, kind: Kind, val: Cow<'a, str>, pos: usize) {
        let line = self.line_to(self.pos);
        out.push_back(Token {
            kind,
            val,
            num: Number::Int(0),
            pos,
            line,
        });
    }

    /// Appends at least one token to `out` (after the end: `Eof` again).
    pub fn fill(&mut self, out: &mut VecDeque<Token<'a>>) -> Result<(), Reject> {
        loop {
            match self.mode {
                Mode::Done => {
                    self.push(out, Kind::Eof, Cow::Borrowed(""), self.src.len());
                    return Ok(());
                }
                Mode::Inside => return self.inside(out),
                Mode::Text { trim } => {
                    if self.text(out, trim)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Emits the pending text run ending at `end`, trimmed as the delimiters say.
    fn pending_text(&mut self, out: &mut VecDeque<Token<'a>>, end: usize, lead: bool, trail: bool) {
        if end <= self.start {
            return;
        }
        let mut slice = &self.src[self.start..end];
        if lead {
            slice = slice.trim_start();
        }
        if trail {
            slice = slice.trim_end();
        }
        if !slice.is_empty() {
            let line = self.line_to(end);
            out.push_back(Token {
                kind: Kind::Text,
                val: Cow::Borrowed(slice),
                num: Number::Int(0),
                pos: self.start,
                line,
            });
        }
        self.start = end;
    }

    /// One step in text mode; returns whether a token was produced.
    fn text(&mut self, out: &mut VecDeque<Token<'a>>, trim: bool) -> Result<bool, Reject> {
        let bytes = self.src.as_bytes();
        let before = out.len();
        let Some(rel) = find_left(&bytes[self.pos..]) else {
            let end = self.src.len();
            self.pending_text(out, end, trim, false);
            self.pos = end;
            self.mode = Mode::Done;
            return Ok(out.len() > before);
        };
        let at = self.pos + rel;
        let left_trim =
            bytes.get(at + 2) == Some(&b'-') && bytes.get(at + 3).is_some_and(|b| is_go_space(*b));
        self.pending_text(out, at, trim, left_trim);
        self.pos = at + if left_trim { 3 } else { 2 };
        self.start = self.pos;
        if let Some(close_trim) = self.comment()? {
            self.mode = Mode::Text {
                trim: left_trim || close_trim,
            };
            return Ok(out.len() > before);
        }
        let kind = if left_trim {
            Kind::LeftTrimDelim
        } else {
            Kind::LeftDelim
        };
        self.push(out, kind, Cow::Borrowed(""), self.pos);
        self.mode = Mode::Inside;
        Ok(true)
    }

    /// Consumes a `/* */` comment action whose left delimiter was just read;
    /// returns whether it closed with `-}}`, or `None` when it is no comment.
    fn comment(&mut self) -> Result<Option<bool>, Reject> {
        let open = self.skip_space(self.pos);
        if !self.src[open..].starts_with("/*") {
            return Ok(None);
        }
        let body = open + 2;
        let rel = memchr::memmem::find(&self.src.as_bytes()[body..], b"*/").ok_or(Reject)?;
        let after = body + rel + 2;
        let close = self.skip_space(after);
        let (end, trims) = if self.at_right_trim(close, close > after) {
            (close + 3, true)
        } else if self.src[close..].starts_with(RIGHT) {
            (close + 2, false)
        } else {
            return Err(Reject);
        };
        self.pos = end;
        self.start = end;
        Ok(Some(trims))
    }

    /// Lexes one token inside an action.
    fn inside(&mut self, out: &mut VecDeque<Token<'a>>) -> Result<(), Reject> {
        let at = self.skip_space(self.pos);
        let spaced = at > self.pos;
        self.pos = at;
        if at >= self.src.len() {
            return Err(Reject);
        }
        if self.at_right_trim(at, spaced) {
            self.pos = at + 3;
            self.start = self.pos;
            self.push(out, Kind::RightTrimDelim, Cow::Borrowed(""), self.pos);
            self.mode = Mode::Text { trim: true };
            return Ok(());
        }
        if self.src[at..].starts_with(RIGHT) {
            self.pos = at + 2;
            self.start = self.pos;
            self.push(out, Kind::RightDelim, Cow::Borrowed(""), self.pos);
            self.mode = Mode::Text { trim: false };
            return Ok(());
        }
        let c = self.char_at(at).ok_or(Reject)?;
        let single = |k| Some(k);
        let kind = match c {
            '|' => single(Kind::Pipe),
            ',' => single(Kind::Comma),
            '(' => single(Kind::LeftParen),
            ')' => single(Kind::RightParen),
            '=' => single(Kind::Assign),
            _ => None,
        };
        if let Some(kind) = kind {
            self.pos = at + 1;
            self.push(out, kind, Cow::Borrowed(&self.src[at..at + 1]), at);
            return Ok(());
        }
        match c {
            ':' => {
                if self.byte(at + 1) != Some(b'=') {
                    return Err(Reject);
                }
                self.pos = at + 2;
                self.push(out, Kind::Declare, Cow::Borrowed(&self.src[at..at + 2]), at);
            }
            '"' => self.quoted(out, at)?,
            '`' => {
                let rel = memchr::memchr(b'`', &self.src.as_bytes()[at + 1..]).ok_or(Reject)?;
                let end = at + 1 + rel;
                self.pos = end + 1;
                self.push(out, Kind::String, Cow::Borrowed(&self.src[at + 1..end]), at);
            }
            '.' => match self.char_at(at + 1) {
                Some(n) if n.is_ascii_digit() => self.number(out, at)?,
                Some(n) if is_ident_char(n) => {
                    self.pos = self.skip_ident(at + 1);
                    self.push(out, Kind::Field, Cow::Borrowed(&self.src[at..self.pos]), at);
                }
                _ => {
                    self.pos = at + 1;
                    self.push(out, Kind::Dot, Cow::Borrowed("."), at);
                }
            },
            '$' => {
                self.pos = self.skip_ident(at + 1);
                self.push(
                    out,
                    Kind::Variable,
                    Cow::Borrowed(&self.src[at..self.pos]),
                    at,
                );
            }
            '-' | '+'
                if self
                    .byte(at + 1)
                    .is_some_and(|b| b.is_ascii_digit() || b == b'.') =>
            {
                self.number(out, at)?;
            }
            '0'..='9' => self.number(out, at)?,
            '\'' => self.char_literal(out, at)?,
            c if c.is_alphabetic() || c == '_' => {
                self.pos = self.skip_ident(at);
                let word = &self.src[at..self.pos];
                let kind = match word {
                    "if" => Kind::If,
                    "else" => Kind::Else,
                    "end" => Kind::End,
                    "range" => Kind::Range,
                    "with" => Kind::With,
                    "define" => Kind::Define,
                    "template" => Kind::Template,
                    "block" => Kind::Block,
                    "break" => Kind::Break,
                    "continue" => Kind::Continue,
                    "true" | "false" => Kind::Bool,
                    "nil" => Kind::Nil,
                    _ => Kind::Identifier,
                };
                self.push(out, kind, Cow::Borrowed(word), at);
            }
            _ => return Err(Reject),
        }
        Ok(())
    }

    fn quoted(&mut self, out: &mut VecDeque<Token<'a>>, at: usize) -> Result<(), Reject> {
        let bytes = self.src.as_bytes();
        let mut i = at + 1;
        let mut escaped = false;
        loop {
            // A backslash skips the next character whatever it is; the bytes
            // of a multi-byte character are never `"` or `\`, so skipping
            // one byte is the same.
            let rel = memchr::memchr2(b'"', b'\\', &bytes[i..]).ok_or(Reject)?;
            i += rel;
            if bytes[i] == b'"' {
                break;
            }
            escaped = true;
            if i + 1 >= bytes.len() {
                return Err(Reject);
            }
            i += 2;
        }
        let inner = &self.src[at + 1..i];
        self.pos = i + 1;
        let val = if escaped {
            Cow::Owned(unescape(inner)?)
        } else {
            Cow::Borrowed(inner)
        };
        self.push(out, Kind::String, val, at);
        Ok(())
    }

    fn char_literal(&mut self, out: &mut VecDeque<Token<'a>>, at: usize) -> Result<(), Reject> {
        let mut chars = self.src[at + 1..].chars();
        let c = match chars.next().ok_or(Reject)? {
            '\\' => match chars.next().ok_or(Reject)? {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '\\' => '\\',
                '\'' => '\'',
                'a' => '\x07',
                'b' => '\x08',
                'f' => '\x0C',
                'v' => '\x0B',
                'x' => hex_char(&mut chars, 2)?,
                'u' => hex_char(&mut chars, 4)?,
                'U' => hex_char(&mut chars, 8)?,
                d @ '0'..='7' => char::from(octal(d, chars.next(), chars.next())?),
                other => other,
            },
            other => other,
        };
        if chars.next() != Some('\'') {
            return Err(Reject);
        }
        self.pos = self.src.len() - chars.as_str().len();
        let line = self.line_to(self.pos);
        out.push_back(Token {
            kind: Kind::Char,
            val: Cow::Borrowed(&self.src[at..self.pos]),
            num: Number::Int(i64::from(u32::from(c))),
            pos: at,
            line,
        });
        Ok(())
    }

    fn number(&mut self, out: &mut VecDeque<Token<'a>>, at: usize) -> Result<(), Reject> {
        let (end, num) = number::scan(self.src, at)?;
        self.pos = end;
        let line = self.line_to(end);
        out.push_back(Token {
            kind: Kind::Number,
            val: Cow::Borrowed(&self.src[at..end]),
            num,
            pos: at,
            line,
        });
        Ok(())
    }
}

/// `count` hex digits as a character; an invalid code point is NUL.
fn hex_char(chars: &mut std::str::Chars<'_>, count: usize) -> Result<char, Reject> {
    let mut n: u32 = 0;
    for _ in 0..count {
        let d = chars.next().and_then(|c| c.to_digit(16)).ok_or(Reject)?;
        n = n * 16 + d;
    }
    Ok(char::from_u32(n).unwrap_or('\0'))
}

/// A three-digit octal escape `\NNN` (at most 255).
fn octal(d1: char, d2: Option<char>, d3: Option<char>) -> Result<u8, Reject> {
    let digit = |c: Option<char>| c.and_then(|c| c.to_digit(8)).ok_or(Reject);
    let n = digit(Some(d1))? * 64 + digit(d2)? * 8 + digit(d3)?;
    u8::try_from(n).map_err(|_| Reject)
}

/// The value of a double-quoted string body, as gotmpl decodes it: unknown
/// escapes stay as written, malformed `\x`/`\u`/`\U` escapes vanish.
fn unescape(s: &str) -> Result<String, Reject> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        let simple = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            '\'' => Some('\''),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0C'),
            'v' => Some('\x0B'),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            continue;
        }
        match e {
            'x' | 'u' | 'U' => {
                let width = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let digits: String = chars.by_ref().take(width).collect();
                // from_str_radix, like gotmpl, also takes a leading `+`.
                if let Some(v) = u32::from_str_radix(&digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                {
                    out.push(v);
                }
            }
            d @ '0'..='7' => out.push(char::from(octal(d, chars.next(), chars.next())?)),
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Go number literals, read the way gotmpl reads them (including its quirks:
/// `0755` is octal, `1_000` drops separators, `+0b1` is an error).
mod number {
    use super::Reject;
    use gotmpl::parse::Number;
    use std::borrow::Cow;

    fn clean(raw: &str) -> Cow<'_, str> {
        if raw.contains('_') {
            Cow::Owned(raw.replace('_', ""))
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// An integer from unsigned `digits`; non-negative values past i64 are u64.
    fn radix(digits: &str, base: u32, negative: bool) -> Result<Number, Reject> {
        match i64::from_str_radix(digits, base) {
            Ok(n) => Ok(Number::Int(if negative { -n } else { n })),
            Err(e) if !negative && *e.kind() == std::num::IntErrorKind::PosOverflow => {
                u64::from_str_radix(digits, base)
                    .map(Number::Uint)
                    .map_err(|_| Reject)
            }
            Err(_) => Err(Reject),
        }
    }

    /// Scans the number starting at `at`; returns its end and value.
    pub fn scan(src: &str, at: usize) -> Result<(usize, Number), Reject> {
        let b = src.as_bytes();
        let get = |i: usize| b.get(i).copied();
        let mut p = at;
        if matches!(get(p), Some(b'+' | b'-')) {
            p += 1;
        }
        if get(p) == Some(b'0') {
            p += 1;
            match get(p) {
                Some(b'x' | b'X') => return hex(src, at, p + 1),
                Some(b'o' | b'O') => return based(src, at, p + 1, 8),
                Some(b'b' | b'B') => return based(src, at, p + 1, 2),
                _ => {
                    if let Some(r) = legacy_octal(src, at, p) {
                        return r;
                    }
                }
            }
        }
        decimal(src, at, p)
    }

    /// `0` followed only by octal digits and separators; `None` when the
    /// literal is decimal after all (a `.`, exponent, 8 or 9 follows).
    fn legacy_octal(src: &str, at: usize, p: usize) -> Option<Result<(usize, Number), Reject>> {
        let b = src.as_bytes();
        let mut end = p;
        let mut digits = false;
        while let Some(&c) = b.get(end) {
            match c {
                b'0'..=b'7' => digits = true,
                b'_' => {}
                b'.' | b'e' | b'E' | b'8' | b'9' => return None,
                _ => break,
            }
            end += 1;
        }
        if !digits {
            return None;
        }
        let text = clean(&src[at..end]);
        let (negative, rest) = if let Some(d) = text.strip_prefix("-0") {
            (true, d)
        } else if let Some(d) = text.strip_prefix("+0") {
            (false, d)
        } else {
            (false, text.strip_prefix('0').unwrap_or(&text))
        };
        Some(radix(rest, 8, negative).map(|n| (end, n)))
    }

    fn hex(src: &str, at: usize, mut p: usize) -> Result<(usize, Number), Reject> {
        let b = src.as_bytes();
        let mut digits = false;
        while let Some(&c) = b.get(p) {
            if c.is_ascii_hexdigit() {
                digits = true;
            } else if c == b'.' || c == b'p' || c == b'P' {
                return hex_float(src, at, p);
            } else if c != b'_' {
                break;
            }
            p += 1;
        }
        if !digits {
            return Err(Reject);
        }
        let text = clean(&src[at..p]);
        let negative = text.starts_with('-');
        let sign = usize::from(text.starts_with(['-', '+']));
        radix(&text[sign + 2..], 16, negative).map(|n| (p, n))
    }

    /// Hex floats are left to gotmpl itself (its own rounding), by parsing
    /// the literal alone; charts practically never contain them.
    fn hex_float(src: &str, at: usize, mut p: usize) -> Result<(usize, Number), Reject> {
        let b = src.as_bytes();
        if b.get(p) == Some(&b'.') {
            p += 1;
            while b
                .get(p)
                .is_some_and(|c| c.is_ascii_hexdigit() || *c == b'_')
            {
                p += 1;
            }
        }
        if matches!(b.get(p), Some(b'p' | b'P')) {
            p += 1;
            if matches!(b.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            while b.get(p).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
                p += 1;
            }
        }
        let probe = format!("{{{{{}}}}}", &src[at..p]);
        let parsed = gotmpl::parse::Parser::new(&probe, "{{", "}}")
            .and_then(|parser| parser.parse())
            .map_err(|_| Reject)?;
        match parsed.0.nodes.first() {
            Some(gotmpl::parse::Node::Action(a)) => {
                match a.pipe.commands.first().map(|c| &c.args[..]) {
                    Some([gotmpl::parse::Expr::Number(_, n)]) => Ok((p, *n)),
                    _ => Err(Reject),
                }
            }
            _ => Err(Reject),
        }
    }

    fn based(src: &str, at: usize, mut p: usize, base: u32) -> Result<(usize, Number), Reject> {
        let b = src.as_bytes();
        let mut digits = false;
        while let Some(&c) = b.get(p) {
            let valid = if base == 2 {
                matches!(c, b'0' | b'1')
            } else {
                matches!(c, b'0'..=b'7')
            };
            if valid {
                digits = true;
            } else if c != b'_' {
                break;
            }
            p += 1;
        }
        if !digits {
            return Err(Reject);
        }
        let text = clean(&src[at..p]);
        let negative = text.starts_with('-');
        // Only a `-` sign is skipped: gotmpl rejects `+0b1`/`+0o7` this way.
        let skip = if negative { 3 } else { 2 };
        radix(&text[skip..], base, negative).map(|n| (p, n))
    }

    fn decimal(src: &str, at: usize, mut p: usize) -> Result<(usize, Number), Reject> {
        let b = src.as_bytes();
        let (mut dot, mut exp) = (false, false);
        let mut digits = p > 0 && b[p - 1].is_ascii_digit();
        while let Some(&c) = b.get(p) {
            match c {
                b'0'..=b'9' => digits = true,
                b'_' => {}
                b'.' if !dot && !exp => dot = true,
                b'e' | b'E' if !exp => {
                    exp = true;
                    if matches!(b.get(p + 1), Some(b'+' | b'-')) {
                        p += 1;
                    }
                }
                _ => break,
            }
            p += 1;
        }
        if !digits {
            return Err(Reject);
        }
        let text = clean(&src[at..p]);
        let num = if dot || exp {
            Number::Float(text.parse::<f64>().map_err(|_| Reject)?)
        } else {
            let negative = text.starts_with('-');
            let unsigned = text
                .strip_prefix('-')
                .or_else(|| text.strip_prefix('+'))
                .unwrap_or(&text);
            radix(unsigned, 10, negative)?
        };
        Ok((p, num))
    }
}

/// The newlines in `bytes`. Counted per 64-byte block (and the shorter
/// rest, most slices here) into a byte, which the compiler turns into
/// 16-byte compares and adds: summing per byte into a `usize` (a plain
/// `filter().count()`) went two bytes at a time, and was most of the
/// lexer's token pushing.
fn newlines(bytes: &[u8]) -> usize {
    // At most 64 per block: a byte holds the count.
    let in_block = |block: &[u8]| {
        usize::from(
            block
                .iter()
                .fold(0u8, |count, &b| count + u8::from(b == b'\n')),
        )
    };
    let mut blocks = bytes.chunks_exact(64);
    let mut n = 0;
    for block in &mut blocks {
        n += in_block(block);
    }
    n + in_block(blocks.remainder())
}

#[cfg(test)]
mod tests {
    #[test]
    fn newlines_are_counted_in_blocks_and_remainders() {
        let mut text = String::new();
        for i in 0..300 {
            // Runs of newlines longer than a block, and none for a while.
            text.push_str(match i % 7 {
                0 => "\n",
                1 => "ab",
                2 => "\n\n",
                3 => "ééé",
                _ => "x",
            });
            if i % 50 == 0 {
                text.push_str(&"\n".repeat(130));
            }
        }
        let bytes = text.as_bytes();
        for start in [0, 1, 63, 64, 65] {
            for end in [start, start + 1, start + 64, start + 200, bytes.len()] {
                let slice = &bytes[start..end.min(bytes.len())];
                let plain = slice.iter().filter(|&&b| b == b'\n').count();
                assert_eq!(super::newlines(slice), plain, "{start}..{end}");
            }
        }
    }
}
