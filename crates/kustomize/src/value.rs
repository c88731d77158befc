//! The value model every resource lives in between reading and printing.
//!
//! kustomize turns each resource into JSON before printing, so only what JSON
//! can say survives: maps with string keys, lists, strings, numbers, booleans
//! and null. Map keys are kept sorted by byte order, which is the order Go's
//! JSON encoder uses for the content hash; the printer re-sorts them the way
//! go-yaml does.

use std::collections::BTreeMap;

pub type Map = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    String(String),
    Seq(Vec<Value>),
    Map(Map),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.as_map_mut().and_then(|m| m.get_mut(key))
    }

    /// Follows `path` through maps; `None` as soon as a step is missing.
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).and_then(Value::as_str)
    }

    /// The map at `path`, created (with every map on the way) when missing.
    /// `None` when something on the way is not a map.
    pub fn map_at_mut(&mut self, path: &[&str]) -> Option<&mut Map> {
        let mut cur = self;
        for k in path {
            let m = cur.as_map_mut()?;
            cur = m
                .entry((*k).to_string())
                .or_insert_with(|| Value::Map(Map::new()));
            if matches!(cur, Value::Null) {
                *cur = Value::Map(Map::new());
            }
        }
        cur.as_map_mut()
    }

    /// A scalar as the string kustomize would see in its YAML node.
    pub fn scalar_string(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::UInt(u) => Some(u.to_string()),
            Value::Float(f) => Some(crate::json::format_float(*f)),
            Value::Null => Some(String::new()),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
