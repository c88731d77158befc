//! Values files of the common shape read straight from the text, line by
//! line, before any YAML parser runs.
//!
//! granit-parser reads comment-heavy values files at about 40 MB/s: the
//! 207 KB values.yaml of kube-prometheus-stack costs ~5 ms, a tenth of a
//! whole `skiff helm template`, on the serial path before anything else can
//! start. Most values files use a small part of YAML: block mappings and
//! sequences, one-line plain and quoted scalars, comments, one-line flow
//! collections of scalars and block scalars. This reader handles exactly that
//! shape, several times faster, and builds the tree `yaml_read` builds,
//! resolving scalars with the same functions, so both `Numbers` modes agree
//! with it.
//!
//! Whenever it is not certain it answers `None`, and `yaml_read`'s event
//! reader (and then the reference) decides the value or the error. It
//! refuses: carriage returns and characters YAML does not print or may read
//! as line breaks, tabs outside quoted scalars, block scalar text and
//! comments, anchors, aliases, tags, merge keys, `?` keys, `:`-led scalars,
//! directives, document markers other than a first `---` line, scalars
//! continued on a later line, nested or multi-line flow collections (and `:`
//! or `#` in their plain scalars), block scalars whose indentation takes a
//! second look (whitespace-only lines deeper than the text, more-indented
//! folded lines, `|+` without text, text without a final line break), more
//! comments after an indicator than the parser buffers, null keys, integer
//! keys spelt twice, top-level scalars, empty documents, long keys, deep or
//! very large documents, and any line whose indentation does not fit the
//! collection it is in.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;
use granit_parser::ScalarStyle;

use crate::yaml_read::{MapKeys, Numbers, int_identity, is_null, scalar};

/// Well below the reference reading's budget (depth 64, 250k nodes, 1M
/// events): bigger documents go to the readers that know the exact limits.
const MAX_DEPTH: usize = 48;
const MAX_NODES: usize = 100_000;
/// Far below the reference's 64 MiB of scalars.
const MAX_TEXT: usize = 16 << 20;
/// Comment lines count as parser events too.
const MAX_LINES: usize = 200_000;
/// granit refuses a block key longer than its 1024-character lookahead.
const MAX_KEY: usize = 512;
/// granit refuses more than 32 comments between an indicator and its node.
const MAX_COMMENT_RUN: usize = 24;

/// The document read from its text, or `None` when the event reader must
/// decide.
pub(crate) fn read(text: &str, numbers: Numbers) -> Option<Value> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_TEXT || !printable(text.as_bytes()) {
        return None;
    }
    let mut r = Reader {
        text,
        b: text.as_bytes(),
        pos: 0,
        numbers,
        nodes: 0,
        lines: 0,
        comments: 0,
    };
    r.document()
}

/// False for bytes YAML does not print or reads as line breaks elsewhere
/// than `\n` (C0 and C1 controls, DEL, `\r`, U+2028, U+2029, a byte order
/// mark inside the text, U+FFFE, U+FFFF): the event reader decides those.
fn printable(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // Exact per-byte flags (for ASCII bytes; others take the slow look):
        // below 0x20 but not `\n` or `\t`, or 0x7f.
        let zero = |x: u64| !((((x & !HIGH) + (ONES * 0x7f)) | x) | !HIGH);
        let low = !((w & !HIGH) + ONES * 0x60) & HIGH;
        let controls = low & !zero(w ^ (ONES * b'\n' as u64)) & !zero(w ^ (ONES * b'\t' as u64));
        let del = zero(w ^ (ONES * 0x7f));
        if (controls | del | w) & HIGH != 0 && !printable_bytes(b, at, at + 8) {
            return false;
        }
        at += 8;
    }
    printable_bytes(b, at, b.len())
}

/// [`printable`] for the bytes from `from` to `to` (a multi-byte character
/// may go on past `to`).
fn printable_bytes(b: &[u8], from: usize, to: usize) -> bool {
    for i in from..to {
        let c = b[i];
        if c < 0x20 {
            if c != b'\n' && c != b'\t' {
                return false;
            }
        } else if c >= 0x7f {
            let next = |k: usize| b.get(i + k).copied().unwrap_or(0);
            let refused = match c {
                0x7f => true,
                0xc2 => next(1) < 0xa0,
                0xe2 => next(1) == 0x80 && matches!(next(2), 0xa8 | 0xa9),
                0xef => {
                    (next(1) == 0xbb && next(2) == 0xbf)
                        || (next(1) == 0xbf && matches!(next(2), 0xbe | 0xbf))
                }
                _ => false,
            };
            if refused {
                return false;
            }
        }
    }
    true
}

/// A line with content: where it starts, where its content starts (the
/// column, as indentation is spaces only) and where it ends (before `\n`).
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    at: usize,
    end: usize,
}

impl Line {
    fn indent(&self) -> usize {
        self.at - self.start
    }
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    /// The start of the first line not read yet.
    pos: usize,
    numbers: Numbers,
    nodes: usize,
    lines: usize,
    /// Comment lines the last peek went past.
    comments: usize,
}

impl<'a> Reader<'a> {
    fn document(&mut self) -> Option<Value> {
        // A `---` line may open the document (nothing else on it).
        let first = self.peek_lines(true)??;
        if first.indent() == 0 && self.text[first.at..first.end].trim_end_matches(' ') == "---" {
            self.take(first);
        }
        let line = self.peek()??;
        if line.indent() != 0 {
            return None;
        }
        self.take(line);
        let v = if self.dash(line.at, line.end) {
            self.sequence(line, line.at, 0)?
        } else {
            self.mapping(line, line.at, 0)?
        };
        // Anything left over (a less indented line cannot be) is not ours.
        match self.peek()? {
            None => Some(v),
            Some(_) => None,
        }
    }

    /// The next line with content, skipping blank and comment lines; `Some(None)`
    /// at the end of the text, `None` for lines this reader refuses (tabs in
    /// the indentation, document markers).
    fn peek(&mut self) -> Option<Option<Line>> {
        self.peek_lines(false)
    }

    /// [`Self::peek`], letting a document start marker through if `opening_allowed`.
    fn peek_lines(&mut self, opening_allowed: bool) -> Option<Option<Line>> {
        let b = self.b;
        self.comments = 0;
        loop {
            if self.pos >= b.len() {
                return Some(None);
            }
            let start = self.pos;
            let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i);
            let mut at = start;
            while at < end && b[at] == b' ' {
                at += 1;
            }
            if at == end || b[at] == b'#' {
                self.comments += usize::from(at < end);
                self.lines += 1;
                if self.lines > MAX_LINES {
                    return None;
                }
                self.pos = end + 1;
                continue;
            }
            if b[at] == b'\t' {
                return None;
            }
            if at == start && end - start >= 3 {
                let marker = &b[start..start + 3];
                let after = b.get(start + 3).copied().unwrap_or(b'\n');
                let opening = opening_allowed && marker == b"---";
                if (marker == b"---" || marker == b"...")
                    && matches!(after, b' ' | b'\n')
                    && !opening
                {
                    return None;
                }
            }
            return Some(Some(Line { start, at, end }));
        }
    }

    fn take(&mut self, line: Line) {
        self.pos = line.end + 1;
    }

    /// A block sequence entry starts at `at`: `-` then a space or the line end.
    fn dash(&self, at: usize, end: usize) -> bool {
        self.b[at] == b'-' && (at + 1 == end || self.b[at + 1] == b' ')
    }

    fn node(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES).then_some(())
    }

    /// A block sequence whose first `-` is at `at` on `line` (already taken);
    /// its column is the sequence's indentation.
    fn sequence(&mut self, line: Line, at: usize, depth: usize) -> Option<Value> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.node()?;
        let col = at - line.start;
        let mut items = Vec::new();
        let (mut line, mut at) = (line, at);
        loop {
            items.push(self.entry(line, at + 1, col, false, depth + 1)?);
            let Some(next) = self.peek()? else { break };
            if next.indent() < col {
                break;
            }
            if next.indent() > col {
                return None;
            }
            if !self.dash(next.at, next.end) {
                // A mapping at the same indentation goes on (a compact
                // sequence as one of its values); anything else is refused
                // by whoever reads that line next.
                break;
            }
            self.take(next);
            (line, at) = (next, next.at);
        }
        Some(Value::List(Arc::from(items)))
    }

    /// A block mapping whose first key is at `at` on `line` (already taken).
    fn mapping(&mut self, line: Line, at: usize, depth: usize) -> Option<Value> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.node()?;
        let col = at - line.start;
        let mut map: BTreeMap<Arc<str>, Value> = BTreeMap::new();
        let mut keys = MapKeys::default();
        let (mut line, mut at) = (line, at);
        loop {
            let (key, after, plain) = self.key(at, line.end)?;
            self.node()?;
            // The same keys as the event reader's.
            if !keys.admit(&key, plain) {
                return None;
            }
            let key = Arc::<str>::from(key.as_ref());
            let v = self.entry(line, after, col, true, depth + 1)?;
            // A repeated key keeps its last value, as in the event reader.
            map.insert(key, v);
            let Some(next) = self.peek()? else { break };
            if next.indent() < col {
                break;
            }
            if next.indent() > col || self.dash(next.at, next.end) {
                return None;
            }
            self.take(next);
            (line, at) = (next, next.at);
        }
        if !keys.settled(map.len()) {
            return None;
        }
        Some(Value::Map(Arc::new(map)))
    }

    /// A mapping key at `at`: its text, the offset just past its `:`, and
    /// whether it is plain. `None` when the line does not start with a key
    /// this reader takes.
    fn key(&self, at: usize, end: usize) -> Option<(Cow<'a, str>, usize, bool)> {
        let b = self.b;
        let (key, colon, plain) = match b[at] {
            b'\'' | b'"' => {
                let (s, close) = self.quoted(at, end)?;
                (s, close, false)
            }
            _ => {
                if !plain_first(b, at, end) {
                    return None;
                }
                let mut i = at + 1;
                loop {
                    if i >= end {
                        return None;
                    }
                    match b[i] {
                        b':' if i + 1 == end || b[i + 1] == b' ' => break,
                        b'#' if b[i - 1] == b' ' => return None,
                        b'\t' => return None,
                        _ => i += 1,
                    }
                }
                if b[i - 1] == b' ' {
                    return None;
                }
                (Cow::Borrowed(&self.text[at..i]), i, true)
            }
        };
        if colon - at > MAX_KEY {
            return None;
        }
        let after_colon = colon + 1;
        let separated = b.get(colon) == Some(&b':')
            && (after_colon == end || b.get(after_colon) == Some(&b' '));
        separated.then_some((key, after_colon, plain))
    }

    /// The node after a `key:` or a `-` (from `at` to the end of `line`), in
    /// a collection at column `col`; it may go on over the next lines.
    fn entry(
        &mut self,
        line: Line,
        at: usize,
        col: usize,
        in_mapping: bool,
        depth: usize,
    ) -> Option<Value> {
        let b = self.b;
        let end = line.end;
        let mut at = at;
        while at < end && b[at] == b' ' {
            at += 1;
        }
        if at == end || b[at] == b'#' {
            return self.value_below(col, in_mapping, usize::from(at < end), depth);
        }
        if depth >= MAX_DEPTH {
            return None;
        }
        match b[at] {
            b'|' | b'>' => return self.block_scalar(at, end, col, in_mapping),
            b'-' if self.dash(at, end) => {
                // `- - x`: a sequence in a sequence entry, at this column.
                return if in_mapping {
                    None
                } else {
                    self.sequence(line, at, depth)
                };
            }
            _ => {}
        }
        if !in_mapping && self.key(at, end).is_some() {
            // `- key: value`: a mapping in a sequence entry, at this column.
            return self.mapping(line, at, depth);
        }
        self.node()?;
        let (v, rest) = match b[at] {
            b'\'' | b'"' => {
                let (s, close) = self.quoted(at, end)?;
                let style = if b[at] == b'"' {
                    ScalarStyle::DoubleQuoted
                } else {
                    ScalarStyle::SingleQuoted
                };
                (scalar(s, style, self.numbers)?, close)
            }
            b'{' | b'[' => self.flow(at, end)?,
            _ => {
                if !plain_first(b, at, end) {
                    return None;
                }
                let stop = self.plain_end(at, end)?;
                (self.plain(&self.text[at..stop])?, stop)
            }
        };
        self.line_rest(rest, end)?;
        Some(v)
    }

    /// A plain scalar resolved as `yaml_read` resolves it; words that cannot
    /// be a null, a boolean or a number skip the resolution.
    fn plain(&self, s: &str) -> Option<Value> {
        let first = s.as_bytes()[0];
        if first.is_ascii_alphabetic() && !b"nNtTfFyYoO".contains(&first) {
            return Some(Value::String(Arc::from(s)));
        }
        scalar(Cow::Borrowed(s), ScalarStyle::Plain, self.numbers)
    }

    /// After a scalar: spaces, then the line end or a comment.
    fn line_rest(&self, rest: usize, end: usize) -> Option<()> {
        let b = self.b;
        let mut i = rest;
        while i < end && b[i] == b' ' {
            i += 1;
        }
        (i == end || (i > rest && b[i] == b'#')).then_some(())
    }

    /// The end of a one-line plain scalar starting at `at` (its trailing
    /// spaces excluded), or `None` for `: ` inside it, a `:` at its end or a
    /// tab.
    fn plain_end(&self, at: usize, end: usize) -> Option<usize> {
        let b = self.b;
        let mut i = at + 1;
        let mut last = at + 1;
        while i < end {
            match b[i] {
                b' ' => {}
                b'#' if b[i - 1] == b' ' => break,
                b':' if i + 1 == end || b[i + 1] == b' ' => return None,
                b'\t' => return None,
                _ => last = i + 1,
            }
            i += 1;
        }
        Some(last)
    }

    /// The node of an entry whose line ends after its indicator: a block
    /// collection on the next lines, or null.
    fn value_below(
        &mut self,
        col: usize,
        in_mapping: bool,
        comment: usize,
        depth: usize,
    ) -> Option<Value> {
        let next = self.peek()?;
        // The parser buffers at most 32 comments while it looks for the
        // node after an indicator.
        if comment + self.comments > MAX_COMMENT_RUN {
            return None;
        }
        let Some(next) = next else {
            self.node()?;
            return Some(Value::Nil);
        };
        let compact = in_mapping && next.indent() == col && self.dash(next.at, next.end);
        if next.indent() <= col && !compact {
            self.node()?;
            return Some(Value::Nil);
        }
        self.take(next);
        if self.dash(next.at, next.end) {
            self.sequence(next, next.at, depth)
        } else if self.key(next.at, next.end).is_some() {
            self.mapping(next, next.at, depth)
        } else {
            // A scalar on its own line (maybe over several): not ours.
            None
        }
    }

    /// A one-line flow collection of scalars starting at `at` (`[a, "b"]`,
    /// `{k: v}`, empty ones): the value and the offset past its end.
    fn flow(&mut self, at: usize, end: usize) -> Option<(Value, usize)> {
        let b = self.b;
        let mapping = b[at] == b'{';
        let close = if mapping { b'}' } else { b']' };
        let mut items = Vec::new();
        let mut entries: Vec<(Arc<str>, Value)> = Vec::new();
        let mut i = self.flow_space(at + 1, end);
        if b.get(i) == Some(&close) && i < end {
            i += 1;
        } else {
            loop {
                if mapping {
                    let (key, k_end, style) = self.flow_scalar(i, end, close)?;
                    // `key: value`, nothing else (no adjacent `:`).
                    if style == ScalarStyle::Plain
                        && (is_null(&key) || int_identity(&key).is_some())
                        || &*key == "<<"
                        || b.get(k_end) != Some(&b':')
                        || b.get(k_end + 1) != Some(&b' ')
                    {
                        return None;
                    }
                    let key = Arc::<str>::from(key.as_ref());
                    if entries.iter().any(|(k, _)| *k == key) {
                        return None;
                    }
                    let (v, v_end, style) =
                        self.flow_scalar(self.flow_space(k_end + 1, end), end, close)?;
                    self.node()?;
                    self.node()?;
                    entries.push((key, scalar(v, style, self.numbers)?));
                    i = v_end;
                } else {
                    let (v, v_end, style) = self.flow_scalar(i, end, close)?;
                    self.node()?;
                    items.push(scalar(v, style, self.numbers)?);
                    i = v_end;
                }
                i = self.flow_space(i, end);
                match b.get(i) {
                    Some(&c) if c == close && i < end => {
                        i += 1;
                        break;
                    }
                    // A trailing `,` is refused by `flow_scalar`.
                    Some(b',') if i < end => i = self.flow_space(i + 1, end),
                    _ => return None,
                }
            }
        }
        let v = if mapping {
            Value::Map(Arc::new(entries.into_iter().collect()))
        } else {
            Value::List(Arc::from(items))
        };
        Some((v, i))
    }

    fn flow_space(&self, mut i: usize, end: usize) -> usize {
        while i < end && self.b[i] == b' ' {
            i += 1;
        }
        i
    }

    /// A scalar in a one-line flow collection: quoted, or plain without any
    /// of `:,[]{}#` and tabs. Its text, the offset past it and its style.
    fn flow_scalar(
        &self,
        at: usize,
        end: usize,
        close: u8,
    ) -> Option<(Cow<'a, str>, usize, ScalarStyle)> {
        let b = self.b;
        if at >= end {
            return None;
        }
        match b[at] {
            b'\'' => {
                let (s, q) = self.quoted(at, end)?;
                Some((s, q, ScalarStyle::SingleQuoted))
            }
            b'"' => {
                let (s, q) = self.quoted(at, end)?;
                Some((s, q, ScalarStyle::DoubleQuoted))
            }
            _ => {
                if !plain_first(b, at, end) || b[at] == b'-' && b[at + 1] == close {
                    return None;
                }
                let mut i = at;
                let mut last = at;
                while i < end {
                    match b[i] {
                        b' ' => {}
                        b',' => break,
                        c if c == close => break,
                        b':' | b'[' | b']' | b'{' | b'}' | b'#' | b'\t' => return None,
                        _ => last = i + 1,
                    }
                    i += 1;
                }
                (last > at).then(|| {
                    (
                        Cow::Borrowed(&self.text[at..last]),
                        last,
                        ScalarStyle::Plain,
                    )
                })
            }
        }
    }

    /// A one-line quoted scalar starting at `at`: its text and the offset
    /// past its closing quote.
    fn quoted(&self, at: usize, end: usize) -> Option<(Cow<'a, str>, usize)> {
        let b = self.b;
        if b[at] == b'\'' {
            let mut out: Option<String> = None;
            let mut from = at + 1;
            loop {
                let q = from + memchr::memchr(b'\'', &b[from..end])?;
                if b.get(q + 1) == Some(&b'\'') && q + 1 < end {
                    let s = out.get_or_insert_with(String::new);
                    s.push_str(&self.text[from..q + 1]);
                    from = q + 2;
                    continue;
                }
                return Some((self.closed(out, at, from, q), q + 1));
            }
        }
        let mut out: Option<String> = None;
        let mut from = at + 1;
        loop {
            let q = from + memchr::memchr2(b'"', b'\\', &b[from..end])?;
            if b[q] == b'"' {
                return Some((self.closed(out, at, from, q), q + 1));
            }
            let s = out.get_or_insert_with(String::new);
            s.push_str(&self.text[from..q]);
            from = escape(&self.text[q + 1..end], s)? + q + 1;
        }
    }

    /// The text of a quoted scalar opened at `at` and closed at `q`: borrowed
    /// unless escapes made `out`, which then takes the rest from `from`.
    fn closed(&self, out: Option<String>, at: usize, from: usize, q: usize) -> Cow<'a, str> {
        match out {
            Some(mut s) => {
                s.push_str(&self.text[from..q]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&self.text[at + 1..q]),
        }
    }

    /// A literal or folded scalar whose header is at `at`, in a collection at
    /// column `col`.
    fn block_scalar(
        &mut self,
        at: usize,
        end: usize,
        col: usize,
        in_mapping: bool,
    ) -> Option<Value> {
        let b = self.b;
        let literal = b[at] == b'|';
        let mut i = at + 1;
        let (mut chomp, mut increment) = (b'c', 0usize);
        for _ in 0..2 {
            match b.get(i).copied() {
                Some(c @ (b'+' | b'-')) if i < end && chomp == b'c' => chomp = c,
                Some(c @ b'1'..=b'9') if i < end && increment == 0 => {
                    increment = usize::from(c - b'0');
                }
                _ => break,
            }
            i += 1;
        }
        self.line_rest(i, end)?;
        // Entries of a sequence are two columns in at least.
        let least = if in_mapping { col + 1 } else { col + 2 };
        // Zero until the first text line decides it.
        let mut indent = if increment > 0 { col + increment } else { 0 };
        if increment > 0 && indent < least {
            return None;
        }
        let mut text = String::new();
        // Empty lines since the last text line (or the header).
        let mut breaks = 0usize;
        let mut lines = 0usize;
        // The deepest whitespace-only line before the first text line: the
        // parser takes it as the indentation when it is deeper.
        let mut leading = 0usize;
        while self.pos < b.len() {
            let start = self.pos;
            let line_end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |k| start + k);
            let mut s = start;
            while s < line_end && b[s] == b' ' {
                s += 1;
            }
            let spaces = s - start;
            if s == line_end {
                // Deeper than the text, such a line is text in a literal.
                if indent > 0 && spaces > indent {
                    return None;
                }
                leading = leading.max(spaces);
                breaks += 1;
                self.pos = line_end + 1;
                continue;
            }
            // The first line after the header, deeper than the collection
            // but not as deep as the text: the parser's error.
            if lines == 0 && spaces > col && spaces < indent.max(least) {
                return None;
            }
            if indent == 0 {
                if spaces < least {
                    break;
                }
                indent = spaces;
            }
            if lines == 0 && leading > indent {
                return None;
            }
            if spaces < indent {
                if b[s] == b'\t' {
                    return None;
                }
                break;
            }
            let content = &self.text[start + indent..line_end];
            if !literal && content.starts_with([' ', '\t']) {
                // More-indented folded lines keep their breaks: not ours.
                return None;
            }
            let kept = if lines == 0 || !literal {
                breaks
            } else {
                breaks + 1
            };
            if kept == 0 && lines > 0 {
                text.push(' ');
            }
            text.extend(std::iter::repeat_n('\n', kept));
            text.push_str(content);
            lines += 1;
            breaks = 0;
            self.pos = line_end + 1;
        }
        // Text at the very end without a line break, or no text at all:
        // the parser's reading of those takes a second look.
        if (self.pos >= b.len() && !self.text.ends_with('\n')) || lines == 0 {
            if lines > 0 || chomp == b'+' || leading >= least {
                return None;
            }
            self.node()?;
            return Some(Value::String(Arc::from("")));
        }
        match chomp {
            b'-' => {}
            b'+' => text.extend(std::iter::repeat_n('\n', breaks + 1)),
            _ => text.push('\n'),
        }
        self.node()?;
        let style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        scalar(Cow::Owned(text), style, self.numbers)
    }
}

/// Whether a plain scalar (or key) may start at `at`: not with an indicator,
/// except `-` before a character that is not a space.
fn plain_first(b: &[u8], at: usize, end: usize) -> bool {
    match b[at] {
        b'-' => at + 1 < end && !matches!(b[at + 1], b' ' | b'\t'),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b'\t' => false,
        _ => true,
    }
}

/// Appends the character a double-quoted escape stands for; `rest` follows
/// the backslash. The length of the escape after the backslash, or `None`
/// for an escape this reader does not take (a line break among them).
fn escape(rest: &str, out: &mut String) -> Option<usize> {
    let c = *rest.as_bytes().first()?;
    let simple = match c {
        b'0' => '\0',
        b'a' => '\u{7}',
        b'b' => '\u{8}',
        b't' | b'\t' => '\t',
        b'n' => '\n',
        b'v' => '\u{b}',
        b'f' => '\u{c}',
        b'r' => '\r',
        b'e' => '\u{1b}',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' | b'u' | b'U' => {
            let n = match c {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = rest.get(1..1 + n)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
            out.push(ch);
            return Some(1 + n);
        }
        _ => return None,
    };
    out.push(simple);
    Some(1)
}

#[cfg(test)]
#[path = "yaml_block_tests.rs"]
mod tests;
