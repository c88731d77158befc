//! YAML in and out, with the quirks of the Go libraries Helm uses.
//!
//! Reading follows sigs.k8s.io/yaml (YAML 1.1 scalars, every number becomes a
//! float64 because Helm round-trips values through JSON). Writing follows
//! `toYaml`: JSON encoding re-read by go-yaml v2 and emitted by its libyaml port,
//! which is why numbers, key order, quoting and line folding look the way they do.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

use crate::error::Error;
use crate::gofmt;

fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.legacy_octal_numbers = true;
    // sigs.k8s.io/yaml (go-yaml v2, not strict) takes a repeated key and
    // keeps the last value, in values files and rendered manifests alike.
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    o
}

/// A YAML error as go-yaml words it (`yaml: line N: cause`), without the
/// excerpt of the input the parser would add: values files hold secrets, and
/// errors reach logs and status.
pub fn error_text(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    if let Some(rest) = first.strip_prefix("line ")
        && let Some((position, cause)) = rest.split_once(": ")
        && let Some((line, _column)) = position.split_once(" column ")
    {
        return format!("yaml: line {}: {cause}", line.trim());
    }
    first.to_owned()
}

/// Parses one YAML document into JSON-shaped data (`Chart.yaml`,
/// `requirements.yaml`, `fromYaml`): in one pass when the reader can prove
/// the result equal to [`parse_json_reference`]'s, which otherwise decides
/// the data or the error.
pub fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    use crate::yaml_read::Document;
    match crate::yaml_read::json_document(text) {
        // A stream's first document included, without serde-saphyr failing
        // on the whole text first (a rendered ConfigMap of scripts through
        // `fromYaml`, several times per bitnami chart).
        Document::One(v) | Document::First(v) => Ok(v),
        Document::Refused => parse_json_reference(text),
    }
}

/// [`parse_json`] through serde-saphyr: the reference.
pub fn parse_json_reference(text: &str) -> Result<serde_json::Value, String> {
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    match serde_saphyr::from_str_with_options::<serde_json::Value>(text, options()) {
        Ok(v) => Ok(v),
        // go-yaml's Unmarshal reads the first document and ignores the rest.
        Err(e) if e.to_string().contains("multiple YAML documents") => match first_document(text) {
            Some(first) if first.len() < text.len() => parse_json_reference(first),
            _ => Err(error_text(&e)),
        },
        Err(e) => Err(error_text(&e)),
    }
}

/// The text of the first document of a stream (up to the second `---`).
pub(crate) fn first_document(text: &str) -> Option<&str> {
    let mut seen_content = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("---") {
            if seen_content {
                return Some(&text[..offset]);
            }
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            seen_content = true;
        }
        offset += line.len();
    }
    None
}

/// Parses one YAML document into `T` (the first document of a stream, as go-yaml).
pub fn parse_as<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    match serde_saphyr::from_str_with_options::<T>(text, options()) {
        Ok(v) => Ok(v),
        Err(e) if e.to_string().contains("multiple YAML documents") => match first_document(text) {
            Some(first) if first.len() < text.len() => parse_as(first),
            _ => Err(error_text(&e)),
        },
        Err(e) => Err(error_text(&e)),
    }
}

/// Parses a values document: numbers become floats, as in Helm.
pub fn parse_values(text: &str) -> Result<Value, Error> {
    // The one-pass reader answers for the documents it can prove equal; the
    // rest (and every error) take the reference path below.
    match crate::yaml_read::values(text) {
        Some(Value::Nil) => Ok(empty_map()),
        Some(v @ Value::Map(_)) => Ok(v),
        _ => parse_values_reference(text),
    }
}

/// Parses a values document through serde-saphyr and `serde_json::Value`:
/// slower, and the reference the one-pass reader is tested against.
pub fn parse_values_reference(text: &str) -> Result<Value, Error> {
    let json = parse_json_reference(text).map_err(Error::Values)?;
    match from_json(&json, true) {
        Value::Nil => Ok(empty_map()),
        v @ Value::Map(_) => Ok(v),
        _ => Err(Error::Values(
            "error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}"
                .into(),
        )),
    }
}

pub fn empty_map() -> Value {
    Value::Map(Arc::new(BTreeMap::new()))
}

/// Converts JSON data to a template value. With `floats`, every number is a
/// float64 (what `json.Unmarshal` into `interface{}` yields).
pub fn from_json(v: &serde_json::Value, floats: bool) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if !floats && let Some(i) = n.as_i64() {
                return Value::Int(i);
            }
            Value::Float(n.as_f64().unwrap_or(0.0))
        }
        serde_json::Value::String(s) => Value::String(s.as_str().into()),
        serde_json::Value::Array(a) => {
            Value::List(a.iter().map(|x| from_json(x, floats)).collect())
        }
        serde_json::Value::Object(m) => Value::Map(Arc::new(
            m.iter()
                .map(|(k, x)| (Arc::from(k.as_str()), from_json(x, floats)))
                .collect(),
        )),
    }
}

/// Converts a template value to JSON data, as `json.Marshal` sees it.
pub fn to_json(v: &Value) -> Result<serde_json::Value, String> {
    Ok(match v {
        Value::Nil | Value::Function(_) => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => (*i).into(),
        Value::Uint(u) => (*u).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| format!("json: unsupported value: {}", gofmt::float_g(*f)))?,
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => {
            serde_json::Value::Array(l.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        // Go's time.Time marshals itself as an RFC 3339 string.
        Value::Map(_) if let Some(t) = crate::funcs::dates::rfc3339(v) => {
            serde_json::Value::String(t)
        }
        // A time.Duration is an int64 to encoding/json.
        Value::Map(_) if let Some(n) = crate::funcs::durations::nanos(v) => n.into(),
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(k, _)| &***k != gofmt::STRING_KEY)
                .map(|(k, x)| Ok((k.to_string(), to_json(x)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// What go-yaml v2 resolves a plain scalar to, which decides whether a string
/// must be quoted to stay a string.
fn resolves_to_non_string(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "true" | "True"
        | "TRUE" | "false" | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF"
        | "~" | "null" | "Null" | "NULL" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf"
        | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN" | "<<" => return true,
        _ => {}
    }
    let first = s.as_bytes()[0];
    if matches!(first, b'+' | b'-' | b'.' | b'0'..=b'9') {
        let plain = s.replace('_', "");
        if gofmt::parse_go_int(&plain).is_some() || gofmt::parse_go_float(&plain) {
            return true;
        }
        if let Some(rest) = plain
            .strip_prefix("0b")
            .or_else(|| plain.strip_prefix("-0b"))
            && !rest.is_empty()
            && rest.bytes().all(|b| b == b'0' || b == b'1')
        {
            return true;
        }
        if is_base60_float(s) || is_timestamp(s) {
            return true;
        }
    }
    false
}

fn is_base60_float(s: &str) -> bool {
    static RE: std::sync::OnceLock<regex_lite::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex_lite::Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
            .expect("valid")
    })
    .is_match(s)
}

fn is_timestamp(s: &str) -> bool {
    static RE: std::sync::OnceLock<regex_lite::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex_lite::Regex::new(
            r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$",
        )
        .expect("valid")
    })
    .is_match(s)
}

/// go-yaml v2's key order: digit runs compare as numbers, and non-letters sort
/// before letters.
fn key_less(a: &str, b: &str) -> std::cmp::Ordering {
    // ASCII keys (nearly all) compare as bytes, without collecting chars.
    if a.is_ascii() && b.is_ascii() {
        return key_less_units(a.as_bytes(), b.as_bytes());
    }
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    key_less_units(&ar, &br)
}

/// [`key_less`] over the keys' characters, given as chars or ASCII bytes.
fn key_less_units<T: Copy + Into<char>>(a: &[T], b: &[T]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ac = |i: usize| -> char { a[i].into() };
    let bc = |i: usize| -> char { b[i].into() };
    let n = a.len().min(b.len());
    for i in 0..n {
        if ac(i) == bc(i) {
            continue;
        }
        let al = ac(i).is_alphabetic();
        let bl = bc(i).is_alphabetic();
        if al && bl {
            return ac(i).cmp(&bc(i));
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ac(i) == '0' || bc(i) == '0' {
            let mut j = i;
            while j > 0 && ac(j - 1).is_ascii_digit() {
                j -= 1;
                if ac(j) != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < a.len() && ac(ai).is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ac(ai) as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < b.len() && bc(bi).is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(bc(bi) as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ac(i).cmp(&bc(i));
    }
    a.len().cmp(&b.len())
}

/// The scalar forms go-yaml emits after its JSON round trip.
enum Scalar<'a> {
    Null,
    Bool(bool),
    Number(String),
    Str(&'a str),
}

/// Encodes like Helm's `toYaml` (without its final newline trim).
pub fn to_yaml(v: &Value) -> Result<String, String> {
    let json = to_json(v)?;
    let mut e = Emitter {
        out: String::new(),
        column: 0,
    };
    e.node(&json, -1, Ctx::Top);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    Ok(e.out)
}

fn json_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // go-yaml re-reads the JSON text: integers (that fit 64 bits) stay
    // integers, anything else is a float printed the 'g' way.
    let text = gofmt::float_json(f);
    if let Ok(i) = text.parse::<i64>() {
        return i.to_string();
    }
    if let Ok(u) = text.parse::<u64>() {
        return u.to_string();
    }
    gofmt::float_g(f)
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Top,
    MapValue,
    SeqItem,
}

struct Emitter {
    out: String,
    column: usize,
}

const WIDTH: usize = 80;

impl Emitter {
    fn write(&mut self, s: &str) {
        // The column counts chars since the last line break.
        match s.rfind('\n') {
            Some(i) => self.column = s[i + 1..].chars().count(),
            None => self.column += s.chars().count(),
        }
        self.out.push_str(s);
    }

    fn spaces(&mut self, n: usize) {
        const SPACES: &str = "                                ";
        let mut left = n;
        while left > 0 {
            let k = left.min(SPACES.len());
            self.write(&SPACES[..k]);
            left -= k;
        }
    }

    /// libyaml skips the line break when the previous scalar already ended one.
    fn newline_indent(&mut self, indent: i64) {
        if self.column != 0 || !self.out.ends_with('\n') {
            self.write("\n");
        }
        self.spaces(indent.max(0) as usize);
    }

    /// `indent` is the indentation of the collection this node belongs to.
    fn node(&mut self, v: &serde_json::Value, indent: i64, ctx: Ctx) {
        match v {
            serde_json::Value::Object(m) if !m.is_empty() => {
                let ind = if indent < 0 { 0 } else { indent + 2 };
                let ind = if ctx == Ctx::SeqItem { indent + 2 } else { ind };
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_by(|a, b| key_less(a, b));
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 || ctx == Ctx::MapValue {
                        self.newline_indent(ind);
                    }
                    self.scalar(&Scalar::Str(k), ind, true);
                    self.write(":");
                    let val = &m[k.as_str()];
                    match val {
                        serde_json::Value::Object(x) if !x.is_empty() => {
                            self.node(val, ind, Ctx::MapValue)
                        }
                        serde_json::Value::Array(x) if !x.is_empty() => {
                            // go-yaml v2 writes sequences inside mappings without indenting them.
                            self.seq(x, ind, true)
                        }
                        _ => {
                            self.write(" ");
                            self.node(val, ind, Ctx::MapValue);
                        }
                    }
                }
            }
            serde_json::Value::Array(a) if !a.is_empty() => {
                self.seq(
                    a,
                    if indent < 0 { 0 } else { indent + 2 },
                    ctx != Ctx::Top && ctx != Ctx::SeqItem,
                );
            }
            serde_json::Value::Object(_) => self.write("{}"),
            serde_json::Value::Array(_) => self.write("[]"),
            serde_json::Value::Null => self.scalar(&Scalar::Null, indent, false),
            serde_json::Value::Bool(b) => self.scalar(&Scalar::Bool(*b), indent, false),
            serde_json::Value::Number(n) => {
                self.scalar(&Scalar::Number(json_number(n)), indent, false)
            }
            serde_json::Value::String(s) => self.scalar(&Scalar::Str(s), indent, false),
        }
    }

    fn seq(&mut self, a: &[serde_json::Value], ind: i64, newline_first: bool) {
        for (i, item) in a.iter().enumerate() {
            if i > 0 || newline_first {
                self.newline_indent(ind);
            }
            self.write("-");
            match item {
                serde_json::Value::Object(x) if !x.is_empty() => {
                    self.write(" ");
                    self.node(item, ind, Ctx::SeqItem)
                }
                serde_json::Value::Array(x) if !x.is_empty() => {
                    self.write(" ");
                    self.seq(x, ind + 2, false)
                }
                _ => {
                    self.write(" ");
                    self.node(item, ind, Ctx::SeqItem)
                }
            }
        }
    }

    /// Writes a scalar whose parent collection sits at `indent`.
    fn scalar(&mut self, s: &Scalar, indent: i64, simple_key: bool) {
        let text = match s {
            Scalar::Null => {
                self.write("null");
                return;
            }
            Scalar::Bool(b) => {
                self.write(if *b { "true" } else { "false" });
                return;
            }
            Scalar::Number(n) => {
                self.write(n);
                return;
            }
            Scalar::Str(t) => t,
        };
        // The scalar's own indentation is one level deeper than its parent.
        let ind = if indent < 0 { 2 } else { indent + 2 };
        let a = analyze(text);
        let style = if text.contains('\n') {
            if !a.block_allowed || simple_key {
                Style::Double
            } else {
                Style::Literal
            }
        } else if resolves_to_non_string(text) {
            Style::Double
        } else if !a.block_plain_allowed || (text.is_empty() && simple_key) {
            if a.single_allowed {
                Style::Single
            } else {
                Style::Double
            }
        } else {
            Style::Plain
        };
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.plain(text, ind, allow_breaks),
            Style::Single => self.single(text, ind, allow_breaks),
            Style::Double => self.double(text, ind, allow_breaks),
            Style::Literal => self.literal(text, ind),
        }
    }

    fn plain(&mut self, text: &str, ind: i64, allow_breaks: bool) {
        // Without a space there is nowhere to break.
        if !text.contains(' ') {
            self.write(text);
            return;
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > WIDTH && !next_space {
                    self.newline_indent(ind);
                } else {
                    self.write(" ");
                }
                spaces = true;
            } else {
                let mut b = [0u8; 4];
                self.write(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
    }

    fn single(&mut self, text: &str, ind: i64, allow_breaks: bool) {
        self.write("'");
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && !next_space
                {
                    self.newline_indent(ind);
                } else {
                    self.write(" ");
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.write("'");
                }
                let mut b = [0u8; 4];
                self.write(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
        self.write("'");
    }

    fn double(&mut self, text: &str, ind: i64, allow_breaks: bool) {
        self.write("\"");
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c)
                || c == '\u{feff}'
                || c == '\n'
                || c == '"'
                || c == '\\'
                || c == '\r'
                || c == '\u{85}'
                || c == '\u{2028}'
                || c == '\u{2029}'
            {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".to_string(),
                    '\u{8}' => "\\b".to_string(),
                    '\t' => "\\t".to_string(),
                    '\n' => "\\n".to_string(),
                    '\u{b}' => "\\v".to_string(),
                    '\u{c}' => "\\f".to_string(),
                    '\r' => "\\r".to_string(),
                    '\u{1b}' => "\\e".to_string(),
                    '"' => "\\\"".to_string(),
                    '\\' => "\\\\".to_string(),
                    '\u{85}' => "\\N".to_string(),
                    '\u{a0}' => "\\_".to_string(),
                    '\u{2028}' => "\\L".to_string(),
                    '\u{2029}' => "\\P".to_string(),
                    c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.write(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > WIDTH && i != 0 && i != chars.len() - 1
                {
                    self.newline_indent(ind);
                    if chars.get(i + 1) == Some(&' ') {
                        self.write("\\");
                    }
                } else {
                    self.write(" ");
                }
                spaces = true;
            } else {
                let mut b = [0u8; 4];
                self.write(c.encode_utf8(&mut b));
                spaces = false;
            }
        }
        self.write("\"");
    }

    fn literal(&mut self, text: &str, ind: i64) {
        self.write("|");
        let first = text.chars().next();
        if matches!(first, Some(' ') | Some('\n')) {
            self.write("2");
        }
        let chomp = if !text.ends_with('\n') {
            "-"
        } else if text == "\n" || text.ends_with("\n\n") {
            "+"
        } else {
            ""
        };
        self.write(chomp);
        self.write("\n");
        // Each line indented, empty lines left empty.
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.write("\n");
            }
            if !line.is_empty() {
                self.spaces(ind.max(0) as usize);
                self.write(line);
            }
        }
    }
}

enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || u == 0x85
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
        || (0x10000..=0x10ffff).contains(&u)
}

struct Analysis {
    block_plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
}

/// libyaml's scalar analysis, reduced to the block-context decisions toYaml needs.
fn analyze(text: &str) -> Analysis {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Analysis {
            block_plain_allowed: false,
            single_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_ind = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut special, mut line_breaks) =
        (false, false, false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    if text.starts_with("---") || text.starts_with("...") {
        block_ind = true;
    }
    let blankz =
        |c: Option<&char>| matches!(c, None | Some(' ') | Some('\t') | Some('\n') | Some('\r'));
    let mut preceded_ws = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_ws = blankz(chars.get(i + 1));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_ind = true,
                '?' | ':' if followed_ws => block_ind = true,
                '-' if followed_ws => block_ind = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_ws => block_ind = true,
                '#' if preceded_ws => block_ind = true,
                _ => {}
            }
        }
        if !is_printable(c) || c == '\u{feff}' {
            special = true;
        }
        let is_break = matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if is_break {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == chars.len() - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break {
            if i == 0 {
                leading_break = true;
            }
            if i == chars.len() - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_break = true;
            prev_space = false;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = blankz(Some(&c));
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_allowed: true,
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
        a.single_allowed = false;
    }
    if space_break || special {
        a = Analysis {
            block_plain_allowed: false,
            single_allowed: false,
            block_allowed: false,
        };
    }
    if line_breaks {
        a.block_plain_allowed = false;
    }
    if block_ind {
        a.block_plain_allowed = false;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_puts_digits_numerically_and_symbols_before_letters() {
        let mut keys = vec!["b", "a10", "a9", "_x", "A"];
        keys.sort_by(|a, b| key_less(a, b));
        assert_eq!(keys, vec!["_x", "A", "a9", "a10", "b"]);
    }

    #[test]
    fn strings_that_read_back_as_other_types_are_double_quoted() {
        let v = from_json(
            &serde_json::json!({"a": "true", "b": "1", "c": "", "d": "x"}),
            false,
        );
        assert_eq!(
            to_yaml(&v).unwrap(),
            "a: \"true\"\nb: \"1\"\nc: \"\"\nd: x\n"
        );
    }
}
