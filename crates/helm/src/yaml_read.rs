//! Values files read in one pass: YAML parser events straight into template
//! values.
//!
//! The reference reading (`yaml::parse_json_reference` then `yaml::from_json`) goes
//! through serde-saphyr into a `serde_json::Value` and then into a second tree;
//! every key and string is allocated twice and the deserializer's bookkeeping
//! (comments, replay buffers, budgets) dominates a large values file. This
//! reader drives the same parser (granit-parser, with the options serde-saphyr
//! gives it) and resolves scalars the same way, but it only handles the forms
//! it can prove equal: anything else (tags, merge keys, several documents,
//! parser errors, keys that YAML compares by number, inputs near the
//! reference's resource limits) answers `None`, and the caller falls back to
//! the reference reading, which decides the value or the error text.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;
use granit_parser::{Event, Parser, ScalarStyle, StrInput};

/// Below serde-saphyr's default budget (250k nodes, 1M events, depth 64, 64 MiB
/// of scalars, 50k anchors and aliases, alias/anchor ratio checked from 100
/// aliases): a document past any of these goes to the reference reading, which
/// knows the exact limits and their messages.
const MAX_NODES: usize = 200_000;
const MAX_EVENTS: usize = 500_000;
const MAX_DEPTH: usize = 56;
const MAX_SCALAR_BYTES: usize = 32 << 20;
const MAX_ANCHORS: usize = 10_000;
const MAX_ALIASES: usize = 90;

/// The parser options serde-saphyr derives from its default budget, so that
/// both readings see the same events and the same parser errors.
fn parser_options() -> granit_parser::Options {
    granit_parser::options! {
        simple_key_max_lookahead: 1024,
        flow_nesting_limit: 255,
        block_nesting_limit: 255,
        emit_comments: true,
        max_buffered_comment_events: 32,
        strict_indentation: false,
        bom_inside_document_as_content: false,
    }
}

/// Reads a values document (every number a float64, as Helm's JSON round
/// trip leaves it). `None` when the document needs the reference reading.
pub fn values(text: &str) -> Option<Value> {
    read(text, Numbers::Floats)
}

/// Reads a document as `yaml::parse_json_reference` does (`Chart.yaml`,
/// `requirements.yaml`, `fromYaml`): the same `serde_json::Value`, integers kept apart
/// from floats. Only numbers whose kind is plain (decimal integers, decimal
/// fractions) are read here; `None` sends any other document (and any
/// stream of several) to the reference reading, which also words every
/// error. The renderer uses [`json_document`].
#[cfg(test)]
pub fn json(text: &str) -> Option<serde_json::Value> {
    match json_document(text) {
        Document::One(v) => Some(v),
        Document::First(_) | Document::Refused => None,
    }
}

/// What [`json_document`] found.
pub enum Document {
    /// The text is one document, read as the reference reads it.
    One(serde_json::Value),
    /// A stream of several documents whose first one (this value) the
    /// reference reads too: it reads only that one, as go-yaml does.
    First(serde_json::Value),
    /// For the reference reading.
    Refused,
}

/// [`json`], also reading a stream of several documents the way the
/// reference does. serde-saphyr reads the first document, peeks at the
/// next node of the same parser and fails with "multiple YAML documents"
/// when there is one; the reference then reads the text up to the second
/// marker line (`yaml::first_document`). When that line is a real marker,
/// a node follows it, and the text before it reads as one document, that
/// document is where the parser's first one ends too: it is the value.
pub fn json_document(text: &str) -> Document {
    // (Most texts have no marker line: skip the line-by-line cut.)
    let marker_line = text.starts_with("---") || text.contains("\n---");
    if marker_line
        && let Some(first) = crate::yaml::first_document(text)
        && let rest = &text[first.len()..]
        && is_document_marker(rest)
        && Reader::new(rest, Numbers::Exact).node_follows() == Some(true)
    {
        return read(first, Numbers::Exact)
            .map_or(Document::Refused, |v| Document::First(to_json(&v)));
    }
    read(text, Numbers::Exact).map_or(Document::Refused, |v| Document::One(to_json(&v)))
}

/// Whether `rest` starts with a document start marker (`---` then a
/// blank or the end), not with a longer token (`---x`).
fn is_document_marker(rest: &str) -> bool {
    rest.strip_prefix("---")
        .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t', '\n', '\r']))
}

/// How the reader gives numbers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbers {
    /// Every number a float64, as values are.
    Floats,
    /// Integers as `Int`/`Uint`, fractions as `Float`, as the reference
    /// reads them into JSON; spellings whose kind is less plain are refused.
    Exact,
}

fn read(text: &str, numbers: Numbers) -> Option<Value> {
    // The reference reads blank text (any Unicode white space) as null.
    if text.trim().is_empty() {
        return Some(Value::Nil);
    }
    // Values files of the common shape are read from the text directly.
    crate::yaml_block::read(text, numbers).or_else(|| events(text, numbers))
}

/// [`read`] through the parser's events, for any non-blank document.
pub(crate) fn events(text: &str, numbers: Numbers) -> Option<Value> {
    Reader::new(text, numbers).document()
}

/// A tree of [`Numbers::Exact`] as JSON data (maps are ordered by key in
/// both: serde_json's map is a BTreeMap without its `preserve_order` feature,
/// which a test checks).
pub(crate) fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Nil | Value::Function(_) => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => (*i).into(),
        Value::Uint(u) => (*u).into(),
        // Finite: the reader refuses other floats.
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => serde_json::Value::Array(l.iter().map(to_json).collect()),
        Value::Map(m) => {
            serde_json::Value::Object(m.iter().map(|(k, x)| (k.to_string(), to_json(x))).collect())
        }
    }
}

/// What a subtree charges to the budget (also charged again per alias replay).
#[derive(Clone, Copy, Default)]
struct Cost {
    nodes: usize,
    events: usize,
    scalar_bytes: usize,
    depth: usize,
}

impl Cost {
    /// A collection's own start and end events, before its children.
    const COLLECTION: Cost = Cost {
        nodes: 1,
        events: 2,
        scalar_bytes: 0,
        depth: 1,
    };

    fn scalar(text: &str) -> Cost {
        Cost {
            nodes: 1,
            events: 1,
            scalar_bytes: text.len(),
            depth: 0,
        }
    }

    fn add(&mut self, other: Cost) {
        self.nodes += other.nodes;
        self.events += other.events;
        self.scalar_bytes += other.scalar_bytes;
    }

    /// Adds a child node's cost to its collection's.
    fn add_child(&mut self, child: Cost) {
        self.add(child);
        self.depth = self.depth.max(child.depth + 1);
    }
}

struct Anchored {
    value: Value,
    cost: Cost,
}

struct Reader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    numbers: Numbers,
    anchors: Vec<Option<Anchored>>,
    /// Anchored collections being read: each event is recorded once per open
    /// anchor by the reference reading.
    open_anchors: usize,
    cost: Cost,
    events: usize,
    recorded: usize,
    aliases: usize,
    anchor_count: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, numbers: Numbers) -> Self {
        Reader {
            parser: Parser::new_from_str_with_options(text, parser_options()),
            numbers,
            anchors: Vec::new(),
            open_anchors: 0,
            cost: Cost::default(),
            events: 0,
            recorded: 0,
            aliases: 0,
            anchor_count: 0,
        }
    }

    /// The next event that is not a comment; `None` on parser errors.
    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let (ev, _span) = self.parser.next()?.ok()?;
            self.events += 1;
            if self.events > MAX_EVENTS {
                return None;
            }
            if !matches!(ev, Event::Comment(..)) {
                return Some(ev);
            }
        }
    }

    /// The document, when it is the only one (a stream of several, and a
    /// parser error after the first, are the reference's: see
    /// [`json_document`]).
    fn document(&mut self) -> Option<Value> {
        if !matches!(self.next()?, Event::StreamStart) {
            return None;
        }
        let value = match self.next()? {
            // No document at all: the reference reads null.
            Event::StreamEnd => return Some(Value::Nil),
            Event::DocumentStart(_, None) => {
                let first = self.next()?;
                let (v, _) = self.node(first, 0)?;
                if !matches!(self.next()?, Event::DocumentEnd) {
                    return None;
                }
                v
            }
            _ => return None,
        };
        (!self.node_follows()?).then_some(value)
    }

    /// Whether a node comes next, past stream and document markers (and
    /// comments): what serde-saphyr peeks at after a first document. A
    /// parser error before it is the error it reports (`None`); an alias,
    /// which it resolves while peeking, is left to it too.
    fn node_follows(&mut self) -> Option<bool> {
        loop {
            match self.next()? {
                Event::StreamEnd => return Some(false),
                Event::StreamStart | Event::DocumentStart(..) | Event::DocumentEnd => {}
                Event::Alias(..) => return None,
                _ => return Some(true),
            }
        }
    }

    fn charge(&mut self, c: Cost, depth: usize) -> Option<()> {
        self.cost.add(c);
        self.recorded += c.events * self.open_anchors;
        let within = self.cost.nodes <= MAX_NODES
            && self.cost.events + self.events <= MAX_EVENTS
            && self.cost.scalar_bytes <= MAX_SCALAR_BYTES
            && self.recorded <= MAX_EVENTS
            && depth + c.depth <= MAX_DEPTH;
        within.then_some(())
    }

    fn remember(&mut self, anchor: usize, value: &Value, cost: Cost) -> Option<()> {
        if anchor == 0 {
            return Some(());
        }
        self.anchor_count += 1;
        if self.anchor_count > MAX_ANCHORS {
            return None;
        }
        if self.anchors.len() <= anchor {
            self.anchors.resize_with(anchor + 1, || None);
        }
        self.anchors[anchor] = Some(Anchored {
            value: value.clone(),
            cost,
        });
        Some(())
    }

    /// One node starting with `ev`, at nesting `depth`, and what it cost.
    fn node(&mut self, ev: Event<'a>, depth: usize) -> Option<(Value, Cost)> {
        match ev {
            Event::Scalar(text, style, anchor, None) => {
                let cost = Cost::scalar(&text);
                self.charge(cost, depth)?;
                let v = scalar(text, style, self.numbers)?;
                self.remember(anchor, &v, cost)?;
                Some((v, cost))
            }
            Event::Alias(id) => {
                self.aliases += 1;
                if self.aliases > MAX_ALIASES {
                    return None;
                }
                let a = self.anchors.get(id)?.as_ref()?;
                let (v, cost) = (a.value.clone(), a.cost);
                self.charge(cost, depth)?;
                Some((v, cost))
            }
            Event::SequenceStart(_, anchor, None) => {
                self.collection_start(anchor, depth)?;
                let mut cost = Cost::COLLECTION;
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => break,
                        ev => {
                            let (v, c) = self.node(ev, depth + 1)?;
                            cost.add_child(c);
                            items.push(v);
                        }
                    }
                }
                let v = Value::List(Arc::from(items));
                self.collection_end(anchor, &v, cost)?;
                Some((v, cost))
            }
            Event::MappingStart(_, anchor, None) => {
                self.collection_start(anchor, depth)?;
                let mut cost = Cost::COLLECTION;
                let mut entries: Vec<(Arc<str>, Value)> = Vec::new();
                let mut keys = MapKeys::default();
                loop {
                    let key = match self.next()? {
                        Event::MappingEnd => break,
                        Event::Scalar(text, style, key_anchor, None) => {
                            let c = Cost::scalar(&text);
                            self.charge(c, depth + 1)?;
                            cost.add(c);
                            if !keys.admit(&text, style == ScalarStyle::Plain) {
                                return None;
                            }
                            if key_anchor != 0 {
                                let v = scalar(text.clone(), style, self.numbers)?;
                                self.remember(key_anchor, &v, c)?;
                            }
                            Arc::<str>::from(text.as_ref())
                        }
                        // Collection keys, aliases as keys, tagged keys.
                        _ => return None,
                    };
                    let ev = self.next()?;
                    let (v, c) = self.node(ev, depth + 1)?;
                    cost.add_child(c);
                    entries.push((key, v));
                }
                // Sorting is stable and the bulk build keeps the last of equal
                // keys: a repeated key keeps its last value, as go-yaml v2 does.
                let map: BTreeMap<Arc<str>, Value> = entries.into_iter().collect();
                if !keys.settled(map.len()) {
                    return None;
                }
                let v = Value::Map(Arc::new(map));
                self.collection_end(anchor, &v, cost)?;
                Some((v, cost))
            }
            // Tags, and events that cannot start a node.
            _ => None,
        }
    }

    fn collection_start(&mut self, anchor: usize, depth: usize) -> Option<()> {
        self.charge(Cost::COLLECTION, depth)?;
        if anchor != 0 {
            self.open_anchors += 1;
        }
        Some(())
    }

    fn collection_end(&mut self, anchor: usize, v: &Value, cost: Cost) -> Option<()> {
        if anchor != 0 {
            self.open_anchors -= 1;
            self.remember(anchor, v, cost)?;
        }
        Some(())
    }
}

/// The keys of one mapping as the readers admit them: merge keys (any
/// spelling), null keys and a second spelling of an integer key (YAML
/// compares integer keys by value: `0x1F` and `31` are the same key) are the
/// reference's to resolve.
#[derive(Default)]
pub(crate) struct MapKeys {
    ints: Vec<(bool, u128)>,
    count: usize,
}

impl MapKeys {
    /// Whether a reader may take `key` (`plain`: unquoted); counts it.
    pub(crate) fn admit(&mut self, key: &str, plain: bool) -> bool {
        self.count += 1;
        if key == "<<" {
            return false;
        }
        // Only keys starting so can be null or an integer.
        let maybe_special = matches!(
            key.as_bytes().first(),
            None | Some(b'~' | b'n' | b'N' | b'0'..=b'9' | b'+' | b'-')
        );
        if !plain || !maybe_special {
            return true;
        }
        if is_null(key) {
            return false;
        }
        if let Some(id) = int_identity(key) {
            if self.ints.contains(&id) {
                return false;
            }
            self.ints.push(id);
        }
        true
    }

    /// Whether the map of the admitted keys, `len` entries once a repeated
    /// key kept its last value, is the reference's: with integer keys the
    /// reference may reorder entries before a repeated spelling meets its
    /// first one, and that is its call.
    pub(crate) fn settled(&self, len: usize) -> bool {
        self.ints.is_empty() || len == self.count
    }
}

pub(crate) fn is_null(plain: &str) -> bool {
    matches!(plain, "" | "~" | "null" | "Null" | "NULL")
}

/// The padding scalar conversion ignores (quoted and block scalars may carry it).
fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

fn yaml11_bool(s: &str) -> Option<bool> {
    let t = trim(s);
    let is = |words: [&str; 4]| words.iter().any(|w| t.eq_ignore_ascii_case(w));
    if is(["true", "yes", "y", "on"]) {
        Some(true)
    } else if is(["false", "no", "n", "off"]) {
        Some(false)
    } else {
        None
    }
}

/// A scalar resolved as the reference reading resolves an untagged node for
/// `serde_json::Value`, with numbers then widened to float64. `None` for
/// values the reference refuses (non-finite floats).
pub(crate) fn scalar(text: Cow<'_, str>, style: ScalarStyle, numbers: Numbers) -> Option<Value> {
    let v = scalar_as_values(text.as_ref(), style)?;
    match (numbers, &v) {
        (Numbers::Exact, Value::Float(_)) => exact_number(trim(&text)),
        _ => Some(v),
    }
}

/// A number the reference reads (into JSON) as an integer or a float for
/// sure: `-?digits` (no leading zero, which would be octal) as i64 when
/// negative else u64, and `-?digits.digits` as f64. `None` for the rest.
fn exact_number(t: &str) -> Option<Value> {
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let decimal = |d: &str| {
        !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && (d == "0" || !d.starts_with('0'))
    };
    if decimal(unsigned) {
        return if negative {
            t.parse::<i64>().ok().map(Value::Int)
        } else {
            t.parse::<u64>().ok().map(Value::Uint)
        };
    }
    let (whole, fraction) = unsigned.split_once('.')?;
    let fraction_digits = !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit());
    if !(decimal(whole) && fraction_digits) {
        return None;
    }
    let f = t.parse::<f64>().ok()?;
    f.is_finite().then_some(Value::Float(f))
}

/// See [`scalar`]; every number a float64.
fn scalar_as_values(text: &str, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(Arc::from(text)));
    }
    if is_null(text) {
        return Some(Value::Nil);
    }
    if let Some(b) = yaml11_bool(text) {
        return Some(Value::Bool(b));
    }
    let t = trim(text);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    // Upper-case radix prefixes and signed NaN stay strings in YAML 1.2 Core.
    let upper_radix = matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..]);
    let signed_nan = t.len() != unsigned.len() && matches!(unsigned, ".nan" | ".NaN" | ".NAN");
    if !upper_radix && !signed_nan {
        if let Some(f) = integer(t) {
            return Some(Value::Float(f));
        }
        if let Some(f) = float(t) {
            // The reference rejects non-finite numbers in values.
            return f.is_finite().then_some(Value::Float(f));
        }
    }
    Some(Value::String(Arc::from(text)))
}

/// An integer as serde-saphyr reads one with legacy octal (`017`) enabled:
/// i64 when the text starts with `-`, else u64; then as a float64.
fn integer(t: &str) -> Option<f64> {
    if let Some(rest) = t.strip_prefix('-') {
        let mag = magnitude(rest)?;
        // -mag must fit an i64.
        if mag > 1u128 << 63 {
            return None;
        }
        let v = (mag as i128).checked_neg()?;
        Some(i64::try_from(v).ok()? as f64)
    } else {
        let rest = t.strip_prefix('+').unwrap_or(t);
        Some(u64::try_from(magnitude(rest)?).ok()? as f64)
    }
}

/// The identity YAML gives an integer key: sign and magnitude, zero unsigned.
pub(crate) fn int_identity(plain: &str) -> Option<(bool, u128)> {
    let t = trim(plain);
    if let Some(rest) = t.strip_prefix('-') {
        let mag = magnitude(rest)?;
        // An i128 holds magnitudes up to 2^127 when negative.
        if mag > 1u128 << 127 {
            return None;
        }
        Some((mag != 0, mag))
    } else {
        Some((false, magnitude(t.strip_prefix('+').unwrap_or(t))?))
    }
}

/// The magnitude of an unsigned integer spelling: `0x`, `0o`, `0b` prefixes
/// (either case), a leading `0` for legacy octal, `_` between digits.
fn magnitude(rest: &str) -> Option<u128> {
    let prefixed = |p: [&str; 2]| rest.strip_prefix(p[0]).or_else(|| rest.strip_prefix(p[1]));
    let (radix, digits) = if let Some(r) = prefixed(["0x", "0X"]) {
        (16, r)
    } else if let Some(r) = prefixed(["0o", "0O"]) {
        (8, r)
    } else if let Some(r) = prefixed(["0b", "0B"]) {
        (2, r)
    } else if rest == "0" {
        (8, "0")
    } else if let Some(r) = rest.strip_prefix('0') {
        (8, r)
    } else {
        return digits_value(rest, 10);
    };
    // With legacy octal, one `_` may follow a prefix.
    digits_value(digits.strip_prefix('_').unwrap_or(digits), radix)
}

/// Digits in `radix`, `_` allowed only between two non-`_` characters; at
/// least one digit; no overflow of u128.
fn digits_value(digits: &str, radix: u32) -> Option<u128> {
    let b = digits.as_bytes();
    let mut val: u128 = 0;
    let mut saw = false;
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            if i == 0 || b[i - 1] == b'_' || i + 1 >= b.len() || b[i + 1] == b'_' {
                return None;
            }
            continue;
        }
        let d = (c as char).to_digit(16)?;
        if d >= radix {
            return None;
        }
        val = val
            .checked_mul(u128::from(radix))?
            .checked_add(u128::from(d))?;
        saw = true;
    }
    saw.then_some(val)
}

/// A float the way the reference reads an untagged one: YAML's `.inf` and
/// `.nan` spellings, Rust's float syntax when finite, and numerals that
/// overflow to infinity.
fn float(t: &str) -> Option<f64> {
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        _ => {}
    }
    let parsed = t.parse::<f64>().ok()?;
    if parsed.is_finite() {
        return Some(parsed);
    }
    // `inf`, `nan`, `infinity` stay strings; `1e999` is an infinite number.
    let digit_first = t
        .strip_prefix(['+', '-'])
        .unwrap_or(t)
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_digit);
    (digit_first && parsed.is_infinite()).then_some(parsed)
}

#[cfg(test)]
#[path = "yaml_read_tests.rs"]
pub(crate) mod tests;
