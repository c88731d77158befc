//! A YAML stream into [`Value`]s, one per non-empty document.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::resolve::resolve_v3;
use crate::error::{Error, Result};
type Res<T> = std::result::Result<T, String>;
use crate::value::{Map, Value};

/// One document of a stream, with the line it starts on (1-based).
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub line: usize,
}

/// Parses every document of `text`. Empty documents (nothing but comments or
/// `---`) are dropped, as kustomize drops them.
pub fn parse_documents(text: &str) -> Result<Vec<Document>> {
    parse_with(text, false)
}

/// Like [`parse_documents`], but typing plain scalars as go-yaml v2 (YAML
/// 1.1) does: `yes`, `on`, `y` are booleans. kustomize reads JSON 6902
/// patches this way (through `sigs.k8s.io/yaml.YAMLToJSON`).
pub fn parse_documents_yaml11(text: &str) -> Result<Vec<Document>> {
    parse_with(text, true)
}

fn parse_with(text: &str, yaml11: bool) -> Result<Vec<Document>> {
    let mut p = Builder {
        events: Parser::new_from_str(text).peekable(),
        anchors: HashMap::new(),
        depth: 0,
        nodes: 0,
        yaml11,
    };
    let mut docs = Vec::new();
    loop {
        let (ev, _) = p.next()?;
        match ev {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                let (ev, span) = p.next()?;
                if matches!(ev, Event::DocumentEnd) {
                    continue;
                }
                let line = span.start.line();
                let value = p.node(ev, span)?;
                let (end, _) = p.next()?;
                if !matches!(end, Event::DocumentEnd) {
                    return Err(Error::new("expected the end of a document").at_line(line));
                }
                if value != Value::Null {
                    docs.push(Document { value, line });
                }
            }
            _ => {}
        }
    }
    Ok(docs)
}

struct Builder<'a> {
    events: std::iter::Peekable<Parser<'a, saphyr_parser::StrInput<'a>>>,
    anchors: HashMap<usize, (Value, usize)>,
    depth: usize,
    /// Nodes built so far, aliases counted at their expanded size.
    nodes: usize,
    yaml11: bool,
}

/// More nodes than any real stream of manifests has; aliases that expand
/// past it (a "billion laughs" document) are refused instead of eating memory.
const MAX_NODES: usize = 1_000_000;

/// Deeper nesting than any manifest has; it keeps hostile input from
/// overflowing the stack.
const MAX_DEPTH: usize = 256;

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span)> {
        match self.events.next() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => {
                Err(Error::new(format!("invalid YAML: {}", e.info())).at_line(e.marker().line()))
            }
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<Value> {
        let line = span.start.line();
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| t.suffix.clone());
                let mut v = scalar(&text, style, tag.as_deref())
                    .map_err(|m| Error::new(m).at_line(line))?;
                if self.yaml11 && style == ScalarStyle::Plain && tag.is_none() {
                    match text.as_ref() {
                        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
                            v = Value::Bool(true)
                        }
                        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                            v = Value::Bool(false)
                        }
                        _ => {}
                    }
                }
                self.count(1, line)?;
                self.remember(anchor, &v);
                Ok(v)
            }
            Event::Alias(id) => {
                let size = self
                    .anchors
                    .get(&id)
                    .map(|(_, size)| *size)
                    .ok_or_else(|| Error::new("alias to an unknown anchor").at_line(line))?;
                // Counted before the copy is made, so a bomb is refused small.
                self.count(size, line)?;
                Ok(self.anchors[&id].0.clone())
            }
            Event::SequenceStart(anchor, _) => {
                self.enter(line)?;
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    if matches!(ev, Event::StreamEnd) {
                        return Err(Error::new("unterminated sequence").at_line(line));
                    }
                    items.push(self.node(ev, span)?);
                }
                self.depth -= 1;
                let v = Value::Seq(items);
                self.remember(anchor, &v);
                Ok(v)
            }
            Event::MappingStart(anchor, _) => {
                self.enter(line)?;
                let mut map = Map::new();
                let mut merged = Map::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    if matches!(ev, Event::StreamEnd) {
                        return Err(Error::new("unterminated mapping").at_line(line));
                    }
                    let key_line = span.start.line();
                    let is_merge =
                        matches!(&ev, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
                    let key = self.node(ev, span)?;
                    let (ev, span) = self.next()?;
                    let value = self.node(ev, span)?;
                    if is_merge {
                        merge_into(&mut merged, value)
                            .map_err(|m| Error::new(m).at_line(key_line))?;
                        continue;
                    }
                    let key = match key {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => {
                            return Err(Error::new(format!(
                                "map key {} is not a string",
                                other
                                    .scalar_string()
                                    .unwrap_or_else(|| "(a collection)".into())
                            ))
                            .at_line(key_line));
                        }
                    };
                    if map.contains_key(&key) {
                        return Err(Error::new(format!("mapping key {key:?} already defined"))
                            .at_line(key_line));
                    }
                    map.insert(key, value);
                }
                self.depth -= 1;
                for (k, v) in merged {
                    map.entry(k).or_insert(v);
                }
                let v = Value::Map(map);
                self.remember(anchor, &v);
                Ok(v)
            }
            _ => Err(Error::new("unexpected YAML event").at_line(line)),
        }
    }

    fn enter(&mut self, line: usize) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::new("YAML nested too deeply").at_line(line));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, v: &Value) {
        if anchor > 0 {
            self.anchors.insert(anchor, (v.clone(), size_of(v)));
        }
    }

    fn count(&mut self, nodes: usize, line: usize) -> Result<()> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(Error::new(format!(
                "the document expands to more than {MAX_NODES} nodes through its aliases; refusing it"
            ))
            .at_line(line));
        }
        Ok(())
    }
}

/// How many nodes a value holds, itself included.
fn size_of(v: &Value) -> usize {
    match v {
        Value::Seq(items) => 1 + items.iter().map(size_of).sum::<usize>(),
        Value::Map(m) => 1 + m.values().map(size_of).sum::<usize>(),
        _ => 1,
    }
}

/// `<<: *base` or `<<: [*a, *b]`; earlier sources win, explicit keys win over all.
fn merge_into(merged: &mut Map, value: Value) -> Res<()> {
    match value {
        Value::Map(m) => {
            for (k, v) in m {
                merged.entry(k).or_insert(v);
            }
            Ok(())
        }
        Value::Seq(items) => {
            for item in items {
                match item {
                    Value::Map(m) => {
                        for (k, v) in m {
                            merged.entry(k).or_insert(v);
                        }
                    }
                    _ => return Err("map merge requires a map or a sequence of maps".into()),
                }
            }
            Ok(())
        }
        _ => Err("map merge requires a map or a sequence of maps".into()),
    }
}

fn scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Res<Value> {
    match tag {
        Some("str") | Some("binary") => return Ok(Value::String(text.to_string())),
        Some("null") => return Ok(Value::Null),
        Some("bool") | Some("int") | Some("float") => {
            let v = resolve_v3(text);
            let ok = matches!(
                (tag, &v),
                (Some("bool"), Value::Bool(_))
                    | (Some("int"), Value::Int(_) | Value::UInt(_))
                    | (Some("float"), Value::Float(_))
            );
            return match (tag, v) {
                (Some("float"), Value::Int(i)) => Ok(Value::Float(i as f64)),
                (_, v) if ok => Ok(v),
                _ => Err(format!(
                    "cannot decode {text:?} as !!{}",
                    tag.unwrap_or_default()
                )),
            };
        }
        _ => {}
    }
    if style != ScalarStyle::Plain || tag.is_some() {
        return Ok(Value::String(text.to_string()));
    }
    Ok(resolve_v3(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_empty_documents_and_keeps_lines() {
        let docs = parse_documents("# only a comment\n---\na: 1\n---\n---\nb: yes\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].value.get("a"), Some(&Value::Int(1)));
        assert_eq!(docs[1].value.get("b"), Some(&Value::from("yes")));
        assert_eq!(docs[1].line, 6);
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let docs = parse_documents("a: \"1\"\nb: '0755'\nc: 0755\n").unwrap();
        let v = &docs[0].value;
        assert_eq!(v.get("a"), Some(&Value::from("1")));
        assert_eq!(v.get("b"), Some(&Value::from("0755")));
        assert_eq!(v.get("c"), Some(&Value::Int(493)));
    }

    #[test]
    fn merge_keys_and_aliases() {
        let docs = parse_documents("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n").unwrap();
        let o = docs[0].value.get("other").unwrap();
        assert_eq!(o.get("x"), Some(&Value::Int(1)));
        assert_eq!(o.get("y"), Some(&Value::Int(3)));
    }

    #[test]
    fn yaml11_mode_reads_yes_and_on_as_booleans() {
        let docs = parse_documents_yaml11("a: yes\nb: \"yes\"\nc: off\n").unwrap();
        let v = &docs[0].value;
        assert_eq!(v.get("a"), Some(&Value::Bool(true)));
        assert_eq!(v.get("b"), Some(&Value::from("yes")));
        assert_eq!(v.get("c"), Some(&Value::Bool(false)));
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = parse_documents("a: 1\nb: [\n").unwrap_err();
        assert!(e.line.is_some(), "{e}");
    }
}
