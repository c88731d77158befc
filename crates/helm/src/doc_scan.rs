//! A fast, conservative check of one rendered document: for the block-YAML
//! subset Kubernetes manifests are written in, it finds what Helm reads of a
//! document (`kind` and the `helm.sh/hook` annotation) without building
//! anything. Whatever it does not recognise, or recognises but cannot prove
//! valid, is `Unsure`, and the caller parses the document fully instead (which
//! also words the error). It must never call a document valid that the full
//! parse rejects, nor read another kind or hook than it does.
//!
//! The subset: block mappings and sequences by indentation (spaces only),
//! `- key: value` items, single-line plain keys of ordinary characters or
//! quoted keys without escapes, plain scalars (continued on more-indented
//! lines), quoted scalars (also across lines), `|`/`>` block scalars with
//! indicators, comments, and the empty flow collections `{}` and `[]`.

/// What the scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan<'a> {
    /// The document is valid YAML; `kind` (empty when absent) and the raw
    /// `helm.sh/hook` annotation are what the full parse reads.
    Valid {
        kind: &'a str,
        hook: Option<&'a str>,
    },
    /// Outside the subset: parse it fully.
    Unsure,
}

/// Scans one document (as `split_documents` yields it).
pub fn scan(doc: &str) -> Scan<'_> {
    match Scanner::new(doc).run() {
        Some((kind, hook)) => Scan::Valid { kind, hook },
        None => Scan::Unsure,
    }
}

// Limits well inside the full parser's budget (nesting 64, 250k nodes, 1M
// events, 1024-character simple keys): past them the full parse decides.
const MAX_DEPTH: usize = 40;
const MAX_NODES: usize = 100_000;
const MAX_KEY_BYTES: usize = 512;
const MAX_DOC_BYTES: usize = 16 << 20;
// Duplicate detection is quadratic in a mapping's size; huge ones go the slow way.
const MAX_KEYS_PER_MAP: usize = 2048;

/// Where a mapping sits, as far as the head is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Other,
    Root,
    Metadata,
    Annotations,
}

/// What a key's value must be for the head to be read the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueRole {
    Any,
    /// `kind`: a string scalar on one line.
    Kind,
    /// `helm.sh/hook`: a string scalar on one line.
    Hook,
    /// Another annotation: any scalar.
    Scalar,
    /// `metadata` / `annotations`: a block mapping or `{}`.
    Map(Role),
}

#[derive(Debug, Clone, Copy)]
struct Level {
    indent: usize,
    seq: bool,
    /// A sequence at its parent key's indentation (`key:\n- a`).
    indentless: bool,
    role: Role,
    keys_start: usize,
    /// Whether a plain key that may resolve to a number, bool or null was seen:
    /// two of them could be equal as values though their text differs.
    typed_key: bool,
}

#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The last value is complete.
    None,
    /// `key:` with nothing after it; the key is at column `col`.
    KeyEmpty { col: usize, role: ValueRole },
    /// `-` with nothing after it, at column `col`.
    DashEmpty { col: usize },
    /// A plain scalar that continues on lines indented more than `n`.
    Plain { n: usize },
    /// Inside a quoted scalar spanning lines; continuation lines indented more than `n`.
    Quoted { n: usize, double: bool },
    /// A block scalar under a node at indentation `n`; `content` once known.
    Block {
        n: usize,
        content: Option<usize>,
        leading_blank: usize,
    },
}

struct Scanner<'a> {
    text: &'a str,
    levels: [Level; MAX_DEPTH],
    depth: usize,
    keys: Vec<u64>,
    pending: Pending,
    nodes: usize,
    kind: Option<&'a str>,
    hook: Option<&'a str>,
}

type Found<'a> = (&'a str, Option<&'a str>);

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        const EMPTY: Level = Level {
            indent: 0,
            seq: false,
            indentless: false,
            role: Role::Other,
            keys_start: 0,
            typed_key: false,
        };
        Scanner {
            text,
            levels: [EMPTY; MAX_DEPTH],
            depth: 0,
            keys: Vec::with_capacity(64),
            pending: Pending::None,
            nodes: 0,
            kind: None,
            hook: None,
        }
    }

    fn run(mut self) -> Option<Found<'a>> {
        let bytes = self.text.as_bytes();
        if bytes.len() > MAX_DOC_BYTES || !plain_bytes(bytes) {
            return None;
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', bytes) {
            self.line(start, end)?;
            start = end + 1;
        }
        if start < bytes.len() {
            self.line(start, bytes.len())?;
        }
        match self.pending {
            Pending::Quoted { .. } => return None,
            Pending::KeyEmpty { role, .. } => self.null_value(role)?,
            Pending::Block {
                n,
                content: None,
                leading_blank,
                ..
            } if leading_blank > n => return None,
            _ => {}
        }
        Some((self.kind.unwrap_or(""), self.hook))
    }

    fn line(&mut self, start: usize, end: usize) -> Option<()> {
        let bytes = self.text.as_bytes();
        let line = &bytes[start..end];
        let indent = leading_spaces(line);
        let rest = &line[indent..];
        if indent == 0
            && (line.starts_with(b"---") || line.starts_with(b"...") || line.starts_with(b"%"))
        {
            return None;
        }
        // Lines that belong to a scalar already under way.
        match self.pending {
            Pending::Block {
                n,
                content,
                leading_blank,
            } => {
                if rest.is_empty() {
                    if content.is_none() {
                        self.pending = Pending::Block {
                            n,
                            content,
                            leading_blank: leading_blank.max(indent),
                        };
                    }
                    return Some(());
                }
                match content {
                    Some(c) if indent >= c => return Some(()),
                    None if indent > n && rest[0] != b'\t' => {
                        if leading_blank > indent {
                            return None;
                        }
                        self.pending = Pending::Block {
                            n,
                            content: Some(indent),
                            leading_blank,
                        };
                        return Some(());
                    }
                    None if leading_blank > n => return None,
                    _ => {}
                }
                if rest[0] == b'\t' {
                    return None;
                }
                self.pending = Pending::None;
            }
            Pending::Quoted { n, double } => {
                if rest.is_empty() {
                    return Some(());
                }
                if indent <= n || rest[0] == b'\t' {
                    return None;
                }
                return self.quoted_from(start + indent, end, n, double);
            }
            _ => {}
        }
        if rest.is_empty() {
            return Some(());
        }
        if rest[0] == b'#' {
            if let Pending::Plain { .. } = self.pending {
                self.pending = Pending::None;
            }
            return Some(());
        }
        if rest[0] == b'\t' {
            return None;
        }
        if let Pending::Plain { n } = self.pending {
            if indent > n {
                return self.plain_continuation(start + indent, end);
            }
            self.pending = Pending::None;
        }
        self.structure(indent, start + indent, end)
    }

    /// A line that starts a key or an item, at column `col`.
    fn structure(&mut self, col: usize, at: usize, end: usize) -> Option<()> {
        let dash = is_dash(&self.text.as_bytes()[at..end]);
        if self.depth == 0 {
            if col != 0 || dash {
                return None;
            }
            self.push(0, false, false, Role::Root)?;
            return self.key_line(at, end);
        }
        match self.pending {
            Pending::KeyEmpty { col: k, role } => {
                self.pending = Pending::None;
                if col > k {
                    return self.nested(col, at, end, dash, role);
                }
                let top = self.levels[self.depth - 1];
                if col == k && dash && !top.seq {
                    if !matches!(role, ValueRole::Any) {
                        return None;
                    }
                    self.push(col, true, true, Role::Other)?;
                    return self.dash_line(col, at, end);
                }
                self.null_value(role)?;
            }
            Pending::DashEmpty { col: d } => {
                self.pending = Pending::None;
                if col > d {
                    return self.nested(col, at, end, dash, ValueRole::Any);
                }
            }
            _ => {}
        }
        while self.depth > 0 && self.levels[self.depth - 1].indent > col {
            self.pop();
        }
        if self.depth > 0 {
            let top = self.levels[self.depth - 1];
            if top.indentless && top.indent == col && !dash {
                self.pop();
            }
        }
        if self.depth == 0 {
            return None;
        }
        let top = self.levels[self.depth - 1];
        if top.indent != col || top.seq != dash {
            return None;
        }
        if dash {
            self.dash_line(col, at, end)
        } else {
            self.key_line(at, end)
        }
    }

    /// A collection nested under a key or item, starting at column `col`.
    fn nested(
        &mut self,
        col: usize,
        at: usize,
        end: usize,
        dash: bool,
        role: ValueRole,
    ) -> Option<()> {
        let bytes = self.text.as_bytes();
        if matches!(bytes[at], b'{' | b'[') {
            // `key:` then `{}` or `[]` on the next line.
            self.count()?;
            return self.flow(at, end, role);
        }
        let map_role = match role {
            ValueRole::Any => Role::Other,
            ValueRole::Map(r) if !dash => r,
            _ => return None,
        };
        self.push(col, dash, false, map_role)?;
        if dash {
            self.dash_line(col, at, end)
        } else {
            self.key_line(at, end)
        }
    }

    /// `- ...` at column `col`, the top level being that sequence.
    fn dash_line(&mut self, col: usize, at: usize, end: usize) -> Option<()> {
        self.count()?;
        let bytes = self.text.as_bytes();
        let after = &bytes[at + 1..end];
        let spaces = after.iter().take_while(|&&b| b == b' ').count();
        let rest = &after[spaces..];
        if rest.is_empty() || rest[0] == b'#' {
            self.pending = Pending::DashEmpty { col };
            return Some(());
        }
        if rest[0] == b'\t' || is_dash(rest) {
            return None;
        }
        let item = at + 1 + spaces;
        if parse_key(&bytes[item..end]).is_some() {
            self.push(col + 1 + spaces, false, false, Role::Other)?;
            return self.key_line(item, end);
        }
        self.value(item, end, col, ValueRole::Any)
    }

    /// `key: ...`, the top level being the mapping it belongs to.
    fn key_line(&mut self, at: usize, end: usize) -> Option<()> {
        self.count()?;
        let bytes = self.text.as_bytes();
        let key = parse_key(&bytes[at..end])?;
        let level = self.depth - 1;
        let Level {
            indent,
            role,
            keys_start,
            typed_key,
            ..
        } = self.levels[level];
        let text = &bytes[at + key.text.0..at + key.text.1];
        if text.len() > MAX_KEY_BYTES {
            return None;
        }
        if key.typed {
            if typed_key || role != Role::Other {
                return None;
            }
            self.levels[level].typed_key = true;
        }
        let h = hash(text);
        let siblings = &self.keys[keys_start..];
        if siblings.len() >= MAX_KEYS_PER_MAP || siblings.contains(&h) {
            return None;
        }
        self.keys.push(h);
        let value_role = match (role, text) {
            (Role::Root, b"kind") => ValueRole::Kind,
            (Role::Root, b"metadata") => ValueRole::Map(Role::Metadata),
            (Role::Metadata, b"annotations") => ValueRole::Map(Role::Annotations),
            (Role::Annotations, b"helm.sh/hook") => ValueRole::Hook,
            (Role::Annotations, _) => ValueRole::Scalar,
            _ => ValueRole::Any,
        };
        let after = &bytes[at + key.len..end];
        let spaces = after.iter().take_while(|&&b| b == b' ').count();
        let rest = &after[spaces..];
        if rest.is_empty() || rest[0] == b'#' {
            self.pending = Pending::KeyEmpty {
                col: indent,
                role: value_role,
            };
            return Some(());
        }
        if rest[0] == b'\t' {
            return None;
        }
        self.value(at + key.len + spaces, end, indent, value_role)
    }

    /// A key's or item's value that starts on its line, at byte `at`; `n` is
    /// the indentation of the collection it belongs to.
    fn value(&mut self, at: usize, end: usize, n: usize, role: ValueRole) -> Option<()> {
        self.count()?;
        let bytes = self.text.as_bytes();
        let v = &bytes[at..end];
        match v[0] {
            b'|' | b'>' => {
                if !matches!(role, ValueRole::Any | ValueRole::Scalar) {
                    return None;
                }
                let explicit = block_header(&v[1..])?;
                self.pending = Pending::Block {
                    n,
                    content: explicit.map(|d| n + d),
                    leading_blank: 0,
                };
                Some(())
            }
            b'\'' | b'"' => {
                let quote = v[0];
                self.quoted_from(at + 1, end, n, quote == b'"')?;
                if matches!(self.pending, Pending::Quoted { .. }) {
                    // Spanning lines: only where any scalar will do.
                    return matches!(role, ValueRole::Any | ValueRole::Scalar).then_some(());
                }
                match role {
                    ValueRole::Kind | ValueRole::Hook => {
                        let close = memchr_from(bytes, at + 1, end, quote)?;
                        if bytes.get(close + 1) == Some(&quote) {
                            return None;
                        }
                        let inner = &self.text[at + 1..close];
                        if inner.contains('\\') {
                            return None;
                        }
                        self.record(role, inner);
                        Some(())
                    }
                    ValueRole::Map(_) => None,
                    _ => Some(()),
                }
            }
            b'{' | b'[' => self.flow(at, end, role),
            b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b'?' | b':' | b',' | b']' | b'}' | b'#' => {
                None
            }
            b'-' if v.len() == 1 || v[1] == b' ' => None,
            _ => {
                let (len, commented) = plain_body(v)?;
                let text = &self.text[at..at + len];
                match role {
                    ValueRole::Kind | ValueRole::Hook => {
                        if !safe_word(text) {
                            return None;
                        }
                        self.record(role, text);
                    }
                    ValueRole::Map(_) => return None,
                    _ => {
                        if may_be_non_finite(text) {
                            return None;
                        }
                    }
                }
                // A head field continued on the next line is not read here.
                self.pending = if commented {
                    Pending::None
                } else if matches!(role, ValueRole::Kind | ValueRole::Hook) {
                    // Any more-indented line after it is then refused.
                    Pending::None
                } else {
                    Pending::Plain { n }
                };
                Some(())
            }
        }
    }

    /// A flow collection on one line: `{}`, or a sequence of plain words and
    /// quoted strings without escapes.
    fn flow(&self, at: usize, end: usize, role: ValueRole) -> Option<()> {
        let v = &self.text.as_bytes()[at..end];
        let inner = &v[1..];
        let spaces = inner.iter().take_while(|&&b| b == b' ').count();
        let rest = match (v[0], inner.get(spaces)) {
            (b'{', Some(b'}')) => {
                return (trailing_ok(&inner[spaces + 1..])
                    && matches!(role, ValueRole::Any | ValueRole::Map(_)))
                .then_some(());
            }
            (b'[', _) if role == ValueRole::Any => flow_sequence(&inner[spaces..])?,
            _ => return None,
        };
        trailing_ok(rest).then_some(())
    }

    fn record(&mut self, role: ValueRole, text: &'a str) {
        match role {
            ValueRole::Kind => self.kind = Some(text),
            ValueRole::Hook => self.hook = Some(text),
            _ => {}
        }
    }

    /// A key whose value is null (nothing after `key:`).
    fn null_value(&mut self, role: ValueRole) -> Option<()> {
        match role {
            // An absent `metadata` or `annotations` reads as none.
            ValueRole::Any | ValueRole::Scalar | ValueRole::Map(_) => Some(()),
            ValueRole::Kind | ValueRole::Hook => None,
        }
    }

    /// Scans a quoted scalar's text from byte `at` (after the opening quote, or
    /// at a continuation line's first non-space byte) to the end of the line.
    /// Sets `pending` to `Quoted` when the scalar goes on, else `None`.
    fn quoted_from(&mut self, at: usize, end: usize, n: usize, double: bool) -> Option<()> {
        let bytes = self.text.as_bytes();
        let quote = if double { b'"' } else { b'\'' };
        // Only tabs, quotes and (when double-quoted) backslashes decide anything.
        let escape = if double { b'\\' } else { quote };
        let mut i = at;
        while let Some(p) = memchr::memchr3(b'\t', quote, escape, &bytes[i..end]) {
            i += p;
            match bytes[i] {
                b'\t' => return None,
                b'\'' if !double => {
                    if i + 1 < end && bytes[i + 1] == b'\'' {
                        i += 2;
                        continue;
                    }
                    self.pending = Pending::None;
                    return trailing_ok(&bytes[i + 1..end]).then_some(());
                }
                b'"' if double => {
                    self.pending = Pending::None;
                    return trailing_ok(&bytes[i + 1..end]).then_some(());
                }
                b'\\' if double => {
                    if i + 1 == end {
                        // An escaped line break: the scalar goes on.
                        break;
                    }
                    i += 1 + escape_len(&bytes[i + 1..end])?;
                    continue;
                }
                _ => i += 1,
            }
        }
        // Trailing blanks before a break are dropped; nothing else to check.
        self.pending = Pending::Quoted { n, double };
        Some(())
    }

    fn plain_continuation(&mut self, at: usize, end: usize) -> Option<()> {
        let v = &self.text.as_bytes()[at..end];
        // Past its first line a plain scalar may go on with a quote, a backtick
        // or a `-` that is no entry (`--flag`); other indicators go to the full parse.
        let continues = match v[0] {
            b'"' | b'\'' | b'`' => true,
            b'-' => v.len() > 1 && v[1] != b' ',
            b => !is_indicator(b),
        };
        if !continues {
            return None;
        }
        // A folded multi-line scalar holds a space, so it is never a number.
        let (_, commented) = plain_body(v)?;
        if commented {
            self.pending = Pending::None;
        }
        Some(())
    }

    fn push(&mut self, indent: usize, seq: bool, indentless: bool, role: Role) -> Option<()> {
        if self.depth == MAX_DEPTH {
            return None;
        }
        self.levels[self.depth] = Level {
            indent,
            seq,
            indentless,
            role,
            keys_start: self.keys.len(),
            typed_key: false,
        };
        self.depth += 1;
        Some(())
    }

    fn pop(&mut self) {
        self.depth -= 1;
        self.keys.truncate(self.levels[self.depth].keys_start);
    }

    fn count(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES).then_some(())
    }
}

/// No byte the YAML reader could treat specially: control characters other
/// than tab and newline (CR included: CRLF documents go the slow way), DEL,
/// C1 controls incl. NEL, byte order marks, non-characters, and the Unicode
/// line and paragraph separators.
fn plain_bytes(bytes: &[u8]) -> bool {
    // Blocks of printable ASCII, tabs and newlines pass without a closer look;
    // the loop is written so the compiler can check a block in a few vector
    // instructions. Manifests are mostly such text.
    const BLOCK: usize = 32;
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        let plain = block.iter().fold(true, |ok, &b| {
            ok & ((b.wrapping_sub(0x20) < 0x5f) | (b == b'\n') | (b == b'\t'))
        });
        if !plain && !special_free(bytes, offset, offset + BLOCK) {
            return false;
        }
        offset += BLOCK;
    }
    special_free(bytes, offset, bytes.len())
}

/// Byte by byte: whether `bytes[from..to]` holds no byte the reader treats
/// specially (a multi-byte sequence is looked at from its first byte, which
/// may read past `to`).
fn special_free(bytes: &[u8], from: usize, to: usize) -> bool {
    for i in from..to {
        let b = bytes[i];
        if (0x20..0x7f).contains(&b) {
            continue;
        }
        match b {
            b'\n' | b'\t' => {}
            0xC2 if bytes.get(i + 1).is_some_and(|&c| c < 0xA0) => return false,
            0xEF if matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(0xBB), Some(0xBF)) | (Some(0xBF), Some(0xBE | 0xBF))
            ) =>
            {
                return false;
            }
            0xE2 if matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(0x80), Some(0xA8 | 0xA9))
            ) =>
            {
                return false;
            }
            0x80..=0xFF => {}
            _ => return false,
        }
    }
    true
}

/// The number of spaces a line starts with.
fn leading_spaces(line: &[u8]) -> usize {
    // Nested manifests (CRD schemas) indent by dozens of spaces.
    let mut n = 0;
    while line.len() - n >= 8 && line[n..n + 8] == *b"        " {
        n += 8;
    }
    while n < line.len() && line[n] == b' ' {
        n += 1;
    }
    n
}

/// Whether a line's content is a block sequence entry (`-` then space or end).
fn is_dash(rest: &[u8]) -> bool {
    rest.first() == Some(&b'-') && (rest.len() == 1 || rest[1] == b' ')
}

fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

struct Key {
    /// Byte range of the key's text, relative to the line content.
    text: (usize, usize),
    /// Bytes up to and including the `:`.
    len: usize,
    /// A plain key that may resolve to a number, bool or null.
    typed: bool,
}

/// A mapping key at the start of `s`: a plain key of ordinary characters, or a
/// quoted one without escapes, then `:` and a space or the end of the line.
fn parse_key(s: &[u8]) -> Option<Key> {
    let first = *s.first()?;
    let (text, after) = if first == b'"' || first == b'\'' {
        let close = s[1..].iter().position(|&b| b == first)? + 1;
        let inner = &s[1..close];
        if inner
            .iter()
            .any(|&b| b == b'\\' || b == b'\'' || b == b'"' || b == b'\t')
        {
            return None;
        }
        ((1, close), close + 1)
    } else {
        if !(first.is_ascii_alphanumeric() || matches!(first, b'_' | b'.' | b'/' | b'$')) {
            return None;
        }
        let len = s
            .iter()
            .position(|&b| !KEY_BYTES[usize::from(b)])
            .unwrap_or(s.len());
        ((0, len), len)
    };
    if s.get(after) != Some(&b':') || !matches!(s.get(after + 1), None | Some(b' ')) {
        return None;
    }
    let typed = (first != b'"' && first != b'\'') && typed_key(&s[text.0..text.1]);
    Some(Key {
        text,
        len: after + 1,
        typed,
    })
}

/// The bytes of a plain key: ASCII letters, digits and `_./$-+@~=%`.
static KEY_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'_' | b'.' | b'/' | b'$' | b'-' | b'+' | b'@' | b'~' | b'=' | b'%'
            );
        b += 1;
    }
    t
};

fn typed_key(k: &[u8]) -> bool {
    if matches!(k[0], b'0'..=b'9' | b'+' | b'-' | b'.') {
        return true;
    }
    const WORDS: &[&[u8]] = &[
        b"y", b"n", b"yes", b"no", b"on", b"off", b"true", b"false", b"null",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(k))
}

/// A plain scalar's text on this line: its length without trailing blanks and
/// whether a comment follows. `None` if it holds what the subset leaves out
/// (a tab, `: ` or a `:` at its end).
fn plain_body(v: &[u8]) -> Option<(usize, bool)> {
    let mut end = v.len();
    let mut commented = false;
    // Only tabs, colons and `#` decide anything; long description lines are
    // searched for them rather than walked.
    for i in memchr::memchr3_iter(b'\t', b':', b'#', v) {
        match v[i] {
            b'\t' => return None,
            b':' if i + 1 == v.len() || v[i + 1] == b' ' => return None,
            b'#' if i > 0 && v[i - 1] == b' ' => {
                end = i - 1;
                commented = true;
                break;
            }
            _ => {}
        }
    }
    while end > 0 && v[end - 1] == b' ' {
        end -= 1;
    }
    // A `:` just before the trailing blanks or comment ends a key, not a value.
    if end > 0 && v[end - 1] == b':' {
        return None;
    }
    Some((end, commented))
}

/// The rest of a one-line flow sequence after its `[`: `]`, or items of
/// plain words and quoted strings without escapes, separated by `, `.
/// Returns what follows the closing `]`.
fn flow_sequence(mut s: &[u8]) -> Option<&[u8]> {
    if let Some(rest) = s.strip_prefix(b"]") {
        return Some(rest);
    }
    loop {
        let spaces = s.iter().take_while(|&&b| b == b' ').count();
        s = &s[spaces..];
        let first = *s.first()?;
        let len = if first == b'"' || first == b'\'' {
            let close = s[1..].iter().position(|&b| b == first)? + 1;
            if s[1..close].iter().any(|&b| b == b'\\' || b == b'\t') {
                return None;
            }
            close + 1
        } else {
            if !(first.is_ascii_alphanumeric() || first == b'/' || first == b'_') {
                return None;
            }
            let len = s
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b"._/-=+@".contains(&b)))
                .unwrap_or(s.len());
            let word = std::str::from_utf8(&s[..len]).ok()?;
            if may_be_non_finite(word) {
                return None;
            }
            len
        };
        s = &s[len..];
        let spaces = s.iter().take_while(|&&b| b == b' ').count();
        s = &s[spaces..];
        match s.first()? {
            b']' => return Some(&s[1..]),
            b',' => s = &s[1..],
            _ => return None,
        }
    }
}

/// What may follow a closed quoted scalar or `{}`: blanks, then a comment.
fn trailing_ok(rest: &[u8]) -> bool {
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    let after = &rest[spaces..];
    after.is_empty() || (spaces > 0 && after[0] == b'#')
}

/// The header after `|` or `>`: chomping and indentation indicators in either
/// order, then blanks and a comment. Returns the indentation indicator.
fn block_header(h: &[u8]) -> Option<Option<usize>> {
    let mut i = 0;
    let mut indent = None;
    let mut chomp = false;
    while i < h.len() {
        match h[i] {
            b'1'..=b'9' if indent.is_none() => indent = Some((h[i] - b'0') as usize),
            b'+' | b'-' if !chomp => chomp = true,
            _ => break,
        }
        i += 1;
    }
    trailing_ok(&h[i..]).then_some(indent)
}

/// Length of a valid escape after `\` in a double-quoted scalar.
fn escape_len(s: &[u8]) -> Option<usize> {
    let hex = |n: usize| -> Option<u32> {
        let digits = s.get(1..1 + n)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    };
    match s[0] {
        b'0' | b'a' | b'b' | b't' | b'n' | b'v' | b'f' | b'r' | b'e' | b' ' | b'"' | b'/'
        | b'\\' | b'N' | b'_' | b'L' | b'P' => Some(1),
        b'x' => hex(2).map(|_| 3),
        b'u' => hex(4).and_then(char::from_u32).map(|_| 5),
        b'U' => hex(8).and_then(char::from_u32).map(|_| 9),
        _ => None,
    }
}

fn memchr_from(bytes: &[u8], from: usize, end: usize, needle: u8) -> Option<usize> {
    bytes[from..end]
        .iter()
        .position(|&b| b == needle)
        .map(|p| from + p)
}

/// A plain scalar that certainly reads as a string: a letter, then letters,
/// digits and `-_.,/` or spaces, and not a YAML 1.1 bool or null word.
fn safe_word(t: &str) -> bool {
    let b = t.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphabetic() {
        return false;
    }
    if !b
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || b"-_.,/ ".contains(&c))
    {
        return false;
    }
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "inf", "infinity", "nan",
    ];
    !WORDS.iter().any(|w| w.eq_ignore_ascii_case(t))
}

/// Plain scalars the full parse reads as an infinite or NaN float, which it
/// rejects: `.inf`/`.nan` spellings and numerals that overflow.
fn may_be_non_finite(t: &str) -> bool {
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let b = unsigned.as_bytes();
    match b.first() {
        Some(b'.') => {
            b.len() >= 4
                && (b[1..4].eq_ignore_ascii_case(b"inf") || b[1..4].eq_ignore_ascii_case(b"nan"))
        }
        Some(b'0'..=b'9') => {
            (t.len() > 15 || b.iter().any(|&c| c == b'e' || c == b'E'))
                && t.parse::<f64>().is_ok_and(|v| !v.is_finite())
        }
        _ => false,
    }
}

fn hash(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
#[path = "doc_scan_tests.rs"]
mod tests;
