//! In-place dict mutation on immutable values.
//!
//! Sprig's `set`, `unset`, `merge` and `mergeOverwrite` change a Go map that
//! every holder of it then sees (`$_ := set .Values.global "x" 1` and later
//! `.Values.global.x`). gotmpl maps are shared immutable `Arc`s, so a mutation
//! is recorded here as "this map is now that map", keyed by the map's address
//! (the original `Arc` is kept alive so the address cannot be reused), and
//! field access (rewritten to `__field`) follows the record.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use gotmpl::Value;

#[derive(Default)]
pub struct Overlay {
    used: AtomicBool,
    map: Mutex<HashMap<usize, (Value, Value)>>,
}

fn addr(v: &Value) -> Option<usize> {
    match v {
        Value::Map(m) => Some(std::sync::Arc::as_ptr(m) as *const () as usize),
        _ => None,
    }
}

impl Overlay {
    /// The current version of `v` (itself unless it was mutated).
    pub fn resolve(&self, v: Value) -> Value {
        if !self.used.load(Ordering::Relaxed) {
            return v;
        }
        let Ok(map) = self.map.lock() else { return v };
        let mut cur = v;
        // Each step moves to a newer map; the bound guards against a cycle.
        for _ in 0..10_000 {
            match addr(&cur).and_then(|a| map.get(&a)) {
                Some((_, newer)) => cur = newer.clone(),
                None => break,
            }
        }
        cur
    }

    /// Resolves `v` and every map inside it, for functions that read whole trees.
    pub fn resolve_deep(&self, v: Value) -> Value {
        if !self.used.load(Ordering::Relaxed) {
            return v;
        }
        match self.resolve(v) {
            Value::Map(m) => Value::Map(std::sync::Arc::new(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.resolve_deep(x.clone())))
                    .collect(),
            )),
            Value::List(l) => Value::List(l.iter().map(|x| self.resolve_deep(x.clone())).collect()),
            other => other,
        }
    }

    /// Records that the (resolved) map `old` now reads as `new`.
    pub fn replace(&self, old: &Value, new: Value) {
        let Some(a) = addr(old) else { return };
        if let Ok(mut map) = self.map.lock() {
            map.insert(a, (old.clone(), new));
            self.used.store(true, Ordering::Relaxed);
        }
    }
}
