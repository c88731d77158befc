//! In-place dict mutation on immutable values.
//!
//! Sprig's `set`, `unset`, `merge` and `mergeOverwrite` change a Go map that
//! every holder of it then sees (`$_ := set .Values.global "x" 1` and later
//! `.Values.global.x`). gotmpl maps are shared immutable `Arc`s, so a mutation
//! is recorded here as "this map is now that map", keyed by the map's address
//! (the original `Arc` is kept alive so the address cannot be reused), and
//! field reads (the executor's) follow the record.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gotmpl::Value;

/// Mutations by map address: the original map (kept alive, so that its
/// address cannot be reused) and what it now reads as.
type Records = HashMap<usize, (Value, Value)>;

#[derive(Default)]
pub struct Overlay {
    used: AtomicBool,
    map: Mutex<Records>,
}

fn addr(v: &Value) -> Option<usize> {
    match v {
        Value::Map(m) => Some(Arc::as_ptr(m) as *const () as usize),
        _ => None,
    }
}

impl Overlay {
    /// The current version of `v` (itself unless it was mutated).
    pub fn resolve(&self, v: Value) -> Value {
        if !self.used.load(Ordering::Relaxed) {
            note_read(&v, false);
            return v;
        }
        let resolved = SPECULATION.with(|s| {
            s.borrow_mut().as_mut().map(|s| {
                let r = s.chase(&v);
                if let Some(a) = addr(r.as_ref().unwrap_or(&v)) {
                    s.reads.maps.push(a);
                }
                r
            })
        });
        let v = match resolved {
            Some(resolved) => return resolved.unwrap_or(v),
            None => v,
        };
        let Ok(map) = self.map.lock() else { return v };
        chase(&[&map], &v).unwrap_or(v)
    }

    /// Resolves `v` and every map inside it, for functions that read whole trees.
    pub fn resolve_deep(&self, v: Value) -> Value {
        if !self.used.load(Ordering::Relaxed) {
            note_read(&v, true);
            return v;
        }
        match self.resolve(v) {
            Value::Map(m) => Value::Map(Arc::new(
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
        if unchanged(old, &new) {
            return;
        }
        self.used.store(true, Ordering::Relaxed);
        let new = match SPECULATION.with(|s| match s.borrow_mut().as_mut() {
            Some(s) => {
                let conflict = s.state.watched().contains(&a);
                s.conflict |= conflict;
                s.local.insert(a, (old.clone(), new.clone()));
                if let (true, Some((ahead, k))) = (conflict, &s.publish) {
                    ahead.publish(*k, &s.local);
                }
                None
            }
            None => Some(new),
        }) {
            Some(new) => new,
            None => return,
        };
        if let Ok(mut map) = self.map.lock() {
            map.insert(a, (old.clone(), new));
        }
    }
}

/// Whether a mutation leaves the map `old` as it was: the same keys and
/// values, and the same (not merely equal) maps inside, since a later
/// mutation of one of those is seen through every map holding it. Bitnami
/// charts set the generated password again in every template that needs it;
/// such a mutation is nothing for a later template to wait for.
fn unchanged(old: &Value, new: &Value) -> bool {
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Map(x), Value::Map(y)) => Arc::ptr_eq(x, y),
            (Value::List(x), Value::List(y)) => {
                Arc::ptr_eq(x, y)
                    || (x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(p, q)))
            }
            _ => a == b,
        }
    }
    match (old, new) {
        (Value::Map(x), Value::Map(y)) => {
            Arc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb)))
        }
        _ => false,
    }
}

/// The newest version of `v` in `layers` (searched in order at each step),
/// if it was mutated.
fn chase(layers: &[&Records], v: &Value) -> Option<Value> {
    let mut cur: Option<Value> = None;
    // Each step moves to a newer map; the bound guards against a cycle.
    for _ in 0..10_000 {
        let Some(a) = addr(cur.as_ref().unwrap_or(v)) else {
            break;
        };
        match layers.iter().find_map(|l| l.get(&a)) {
            Some((_, newer)) => cur = Some(newer.clone()),
            None => break,
        }
    }
    cur
}

/// Templates may run on several threads at once only as long as Helm's
/// one-after-the-other order cannot be told apart: a template that mutates
/// a map other templates can reach (bitnami charts keep a generated
/// password in `.Values` for the templates after them) changes what every
/// later template sees, and nothing earlier.
///
/// [`State`] is the state a run of templates starts from: the mutations
/// committed so far and the address of every map the templates can reach.
/// [`speculate`] runs one template with its mutations kept apart from every
/// other template's and says whether it mutated a reachable map. The caller
/// keeps the results of templates up to and including the first (in order)
/// that did, makes that template's mutations part of the state, and runs
/// the rest again from there.
pub struct State {
    /// Where the maps to watch are reached from, until they are listed in
    /// `watched` (on the first mutation: most charts make none).
    roots: Vec<Value>,
    watched: std::sync::OnceLock<HashSet<usize>>,
    committed: Records,
}

impl State {
    /// The state of a run that starts from `roots`, nothing mutated yet.
    pub fn new<'a>(roots: impl IntoIterator<Item = &'a Value>) -> Self {
        State {
            roots: roots.into_iter().cloned().collect(),
            watched: std::sync::OnceLock::new(),
            committed: Records::new(),
        }
    }

    /// The address of every map reachable from the roots.
    fn watched(&self) -> &HashSet<usize> {
        self.watched.get_or_init(|| {
            let mut watched = HashSet::new();
            watch(&mut watched, &self.roots);
            watched
        })
    }

    /// The state after a template's `mutations` (from [`speculate`]): what
    /// they made is reachable by every later template.
    pub fn commit(&self, mutations: Mutations) -> Self {
        let mut watched = self.watched().clone();
        watch(&mut watched, mutations.0.values().map(|(_, new)| new));
        let mut committed = self.committed.clone();
        committed.extend(mutations.0);
        State {
            roots: Vec::new(),
            watched: std::sync::OnceLock::from(watched),
            committed,
        }
    }
}

/// Adds to `watched` every map reachable from `roots`.
fn watch<'a>(watched: &mut HashSet<usize>, roots: impl IntoIterator<Item = &'a Value>) {
    reaches(roots, watched, |_| false);
}

/// Whether a map reachable from `roots`, and not in `seen` (which gets
/// every map visited), is one for which `wanted` holds.
fn reaches<'a>(
    roots: impl IntoIterator<Item = &'a Value>,
    seen: &mut HashSet<usize>,
    mut wanted: impl FnMut(usize) -> bool,
) -> bool {
    let mut lists = HashSet::new();
    let mut stack: Vec<&Value> = roots.into_iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Map(m) => {
                let a = Arc::as_ptr(m) as *const () as usize;
                if wanted(a) {
                    return true;
                }
                if seen.insert(a) {
                    stack.extend(m.values());
                }
            }
            Value::List(l) if lists.insert(Arc::as_ptr(l) as *const () as usize) => {
                stack.extend(l.iter());
            }
            _ => {}
        }
    }
    false
}

/// What one template mutated.
pub struct Mutations(Records);

impl Mutations {
    /// What these add to `snapshot` (an earlier view of the same
    /// template's mutations), when they keep every record of it as it was.
    fn beyond(&self, snapshot: &Records) -> Option<HashSet<usize>> {
        let kept = snapshot.iter().all(|(a, (_, new))| {
            self.0
                .get(a)
                .is_some_and(|(_, now)| matches!((new, now), (Value::Map(x), Value::Map(y)) if Arc::ptr_eq(x, y)))
        });
        kept.then(|| {
            self.0
                .keys()
                .filter(|a| !snapshot.contains_key(a))
                .copied()
                .collect()
        })
    }
}

/// The mutations a template running in a round has made so far, once it
/// has mutated a map other templates can reach: the templates after it can
/// start from them ([`Ahead::state_for`]) instead of waiting for it to
/// end. bitnami-redis stores its generated password early in its longest
/// template; the master's template, which reads it, then runs alongside
/// the rest of it.
pub struct Ahead {
    base: Arc<State>,
    published: Mutex<Published>,
    /// How many times mutations were published, so that a run can tell
    /// cheaply whether there is anything new to check its reads against.
    version: AtomicUsize,
}

#[derive(Default)]
struct Published {
    /// The template (by place in the round) the mutations are of: the
    /// first in order of those that published.
    by: Option<usize>,
    records: Arc<Records>,
    /// `base` with `records` committed, built for the first template that
    /// asks.
    state: Option<Arc<State>>,
}

/// What a template's run in a round started from.
pub enum Base {
    /// The round's state (or, once checked, the state now committed).
    Round,
    /// The round's state and what template `by` had mutated so far.
    Ahead { by: usize, records: Arc<Records> },
}

impl Ahead {
    pub fn new(base: &Arc<State>) -> Self {
        Ahead {
            base: base.clone(),
            published: Mutex::default(),
            version: AtomicUsize::new(0),
        }
    }

    fn publish(&self, k: usize, local: &Records) {
        let Ok(mut p) = self.published.lock() else {
            return;
        };
        if p.by.is_some_and(|by| by < k) {
            return;
        }
        *p = Published {
            by: Some(k),
            records: Arc::new(local.clone()),
            state: None,
        };
        self.version.fetch_add(1, Ordering::Relaxed);
    }

    /// The template whose mutations were published, if any.
    pub fn by(&self) -> Option<usize> {
        self.published.lock().ok()?.by
    }

    /// The state template `k` starts from: the round's, or with the
    /// mutations published by an earlier template.
    pub fn state_for(&self, k: usize) -> (Arc<State>, Base) {
        let round = || (self.base.clone(), Base::Round);
        let Ok(mut p) = self.published.lock() else {
            return round();
        };
        let Some(by) = p.by.filter(|&by| by < k) else {
            return round();
        };
        let records = p.records.clone();
        let state = p
            .state
            .get_or_insert_with(|| Arc::new(self.base.commit(Mutations((*records).clone()))))
            .clone();
        (state, Base::Ahead { by, records })
    }
}

/// Whether the result of a run that started from `base` and read `reads`
/// holds once template `k`'s mutations `m` are committed.
pub fn holds(base: &Base, reads: &Reads, k: usize, m: &Mutations) -> bool {
    match base {
        Base::Round => !reads.see(m),
        Base::Ahead { by, records } => {
            *by == k
                && m.beyond(records)
                    .is_some_and(|added| !reads.touch(|a| added.contains(&a)))
        }
    }
}

/// The maps a template read, to tell whether its result still holds once
/// an earlier template's mutations are committed: the maps its reads ended
/// at, and the trees it read whole (`toYaml .Values`) before anything was
/// mutated.
#[derive(Default)]
pub struct Reads {
    maps: Vec<usize>,
    trees: Vec<Value>,
    /// Nothing was recorded: assume it read everything.
    unknown: bool,
}

impl Reads {
    /// Whether a template that read these could read differently after
    /// `m`: what a read returns changes only when it ends at a map that
    /// `m` replaced.
    pub fn see(&self, m: &Mutations) -> bool {
        self.touch(|a| m.0.contains_key(&a))
    }

    /// Whether these reads ended at, or read whole, a map `changed` holds for.
    fn touch(&self, changed: impl Fn(usize) -> bool) -> bool {
        self.touch_from(0, changed)
    }

    /// [`Reads::touch`] for the reads from the `from`th map on; the trees
    /// are looked at only from the start (they are read before anything
    /// is mutated).
    fn touch_from(&self, from: usize, changed: impl Fn(usize) -> bool) -> bool {
        self.unknown
            || self.maps[from..].iter().any(|&a| changed(a))
            || (from == 0 && reaches(&self.trees, &mut HashSet::new(), &changed))
    }
}

/// Notes, in a speculative run, that `v` was read (with everything inside
/// it when `deep`).
fn note_read(v: &Value, deep: bool) {
    let whole = deep && matches!(v, Value::Map(_) | Value::List(_));
    let map = if deep { None } else { addr(v) };
    if !whole && map.is_none() {
        return;
    }
    SPECULATION.with(|s| {
        if let Some(s) = s.borrow_mut().as_mut() {
            match map {
                Some(a) => s.reads.maps.push(a),
                None => s.reads.trees.push(v.clone()),
            }
        }
    });
}

struct Speculation {
    state: Arc<State>,
    /// Where to publish this template's mutations (and its place), when
    /// later templates of its round may start from them.
    publish: Option<(Arc<Ahead>, usize)>,
    /// How far [`stale`] has checked: the version of the published
    /// mutations and the number of `reads.maps` it checked against them.
    checked: (usize, usize),
    local: Records,
    conflict: bool,
    reads: Reads,
}

impl Speculation {
    fn chase(&self, v: &Value) -> Option<Value> {
        chase(&[&self.local, &self.state.committed], v)
    }
}

/// Whether the template this thread runs, from its round's state, has read
/// a map that an earlier template of the round has since replaced (and
/// published): its result will be dropped, and it can start again from
/// those mutations at once.
pub fn stale() -> bool {
    SPECULATION.with(|s| {
        let mut s = s.borrow_mut();
        let Some(s) = s.as_mut() else {
            return false;
        };
        let Some((ahead, k)) = &s.publish else {
            return false;
        };
        let version = ahead.version.load(Ordering::Relaxed);
        if version == 0 || !Arc::ptr_eq(&s.state, &ahead.base) {
            return false;
        }
        let records = match ahead.published.lock() {
            Ok(p) if p.by.is_some_and(|by| by < *k) => p.records.clone(),
            _ => return false,
        };
        let from = if s.checked.0 == version {
            s.checked.1
        } else {
            0
        };
        let stale = s.reads.touch_from(from, |a| records.contains_key(&a));
        s.checked = (version, s.reads.maps.len());
        stale
    })
}

thread_local! {
    static SPECULATION: RefCell<Option<Speculation>> = const { RefCell::new(None) };
}

/// Runs `f` (one template) on this thread from the state `state`, its
/// mutations kept apart; they are returned when it mutated a map of
/// `state`, which later templates then have to see; and what it read.
/// With `publish`, its mutations of reachable maps are published there as
/// they happen, as those of template `publish.1`.
pub fn speculate<R>(
    state: &Arc<State>,
    publish: Option<(&Arc<Ahead>, usize)>,
    f: impl FnOnce() -> R,
) -> (R, Option<Mutations>, Reads) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = SPECULATION.with(|s| s.borrow_mut().take());
        }
    }
    SPECULATION.with(|s| {
        *s.borrow_mut() = Some(Speculation {
            state: state.clone(),
            publish: publish.map(|(a, k)| (a.clone(), k)),
            checked: (0, 0),
            local: Records::new(),
            conflict: false,
            reads: Reads::default(),
        })
    });
    let reset = Reset;
    let r = f();
    let done = SPECULATION.with(|s| s.borrow_mut().take());
    drop(reset);
    let Some(done) = done else {
        let unknown = Reads {
            unknown: true,
            ..Reads::default()
        };
        return (r, None, unknown);
    };
    let mutations = done.conflict.then_some(Mutations(done.local));
    (r, mutations, done.reads)
}
