//! Strategic merge patch as `kustomize build` applies it (kyaml's merge2
//! walker with lists growing at the front), driven by the generated schema in
//! `smp_schema.rs`.
//!
//! What kustomize does, and so this does:
//! - maps merge; a patch `null` removes the field;
//! - a list merges by key only when the schema gives it a `merge` patch
//!   strategy (its `x-kubernetes-list-map-keys`, else its merge key; none for
//!   lists of scalars like `finalizers`); every other list, and every list of
//!   a kind the schema does not know (CRDs), is replaced whole, as written;
//! - `$patch: delete|replace|merge` on a map, and as the only field of a list
//!   element on a merging list; any other `$patch` value is an error;
//! - `$setElementOrder/...`, `$retainKeys`, `$deleteFromPrimitiveList/...` and
//!   `retainKeys` strategies are not interpreted: the directives stay in the
//!   output as ordinary fields.
//!
//! The walk follows kyaml step by step, quirks included (the order merged
//! elements come out in, elements without a key, keys that one side lacks),
//! since the output must be byte-identical.

use std::borrow::Cow;

use crate::smp_schema::{DEFS, Field, ROOTS};
use crate::value::{Map, Value};

/// Applies `patch` to `target` in place. `Ok(false)` when the patch deletes
/// the whole object.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<bool, String> {
    Ok(
        match walk(Some(target), Some(patch), Schema::Unknown, "")? {
            // A new top node (`$patch: replace` at the top) is dropped:
            // kustomize keeps the resource's own node, merged in place only.
            Outcome::Dest | Outcome::New(Value::Map(_)) => true,
            Outcome::New(_) | Outcome::Clear => false,
        },
    )
}

/// What the schema says about the node being walked.
#[derive(Clone, Copy)]
enum Schema {
    /// No schema: a custom kind, or inside one. Maps merge, lists replace.
    Unknown,
    /// Known, with nothing below that merges by key. Also used for a field
    /// the definition lacks, where kyaml has no schema and would look for an
    /// embedded `apiVersion`/`kind` below: the table keeps only the fields
    /// that lead to merging lists, so that lookup is skipped there.
    Leaf,
    Def(u16),
    List(&'static Field),
}

impl Schema {
    fn field(self, name: &str) -> Schema {
        match self {
            Schema::Unknown | Schema::List(_) => Schema::Unknown,
            Schema::Leaf => Schema::Leaf,
            Schema::Def(i) => {
                let fields = DEFS[usize::from(i)].1;
                let found = fields
                    .binary_search_by(|f| f.name.cmp(name))
                    .ok()
                    .or_else(|| fields.iter().position(|f| f.name == "*"));
                match found.map(|i| &fields[i]) {
                    Some(f) if f.list => Schema::List(f),
                    Some(f) => f.child.map_or(Schema::Leaf, Schema::Def),
                    None => Schema::Leaf,
                }
            }
        }
    }

    fn elements(self) -> Schema {
        match self {
            Schema::List(f) => f.child.map_or(Schema::Leaf, Schema::Def),
            _ => Schema::Unknown,
        }
    }

    fn merges(self) -> bool {
        matches!(self, Schema::List(f) if f.strategy.split(',').any(|s| s == "merge"))
    }
}

/// Where no schema is known, an object carrying `apiVersion` and `kind` of
/// a built-in kind brings that kind's (kyaml looks this up at every level).
fn sniff(schema: Schema, sources: [Option<&Value>; 2]) -> Schema {
    if !matches!(schema, Schema::Unknown) {
        return schema;
    }
    for v in sources.into_iter().flatten() {
        let (Some(api), Some(kind)) = (v.str_at(&["apiVersion"]), v.str_at(&["kind"])) else {
            continue;
        };
        if let Ok(i) = ROOTS.binary_search_by(|(a, k, _)| (*a, *k).cmp(&(api, kind))) {
            return Schema::Def(ROOTS[i].2);
        }
    }
    Schema::Unknown
}

/// The result of walking one node.
enum Outcome {
    /// The target's node, merged in place.
    Dest,
    /// A new node takes its place.
    New(Value),
    /// The node goes.
    Clear,
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Map,
    Seq,
    Scalar,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Map(_) => Kind::Map,
        Value::Seq(_) => Kind::Seq,
        _ => Kind::Scalar,
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Map => "a map",
        Kind::Seq => "a list",
        Kind::Scalar => "a scalar",
    }
}

fn walk(
    dest: Option<&mut Value>,
    origin: Option<&Value>,
    schema: Schema,
    path: &str,
) -> Result<Outcome, String> {
    let dest = dest.filter(|d| !matches!(d, Value::Null));
    if matches!(origin, Some(Value::Null)) {
        return Ok(Outcome::Clear);
    }
    if dest.is_none() && origin.is_none() {
        return Ok(Outcome::Dest);
    }
    let schema = sniff(schema, [dest.as_deref(), origin]);
    let dkind = dest.as_deref().map(kind);
    let okind = origin.map(kind);
    let k = dkind.or(okind).unwrap_or(Kind::Map);
    if let (Some(d), Some(o)) = (dkind, okind)
        && d != o
    {
        return Err(format!(
            "strategic merge patch: at {}: the patch has {} where the object has {}",
            if path.is_empty() { "the top" } else { path },
            kind_name(o),
            kind_name(d)
        ));
    }
    match k {
        Kind::Map => walk_map(dest, origin, schema, path),
        Kind::Seq if schema.merges() => walk_keyed_list(dest, origin, schema, path),
        Kind::Seq | Kind::Scalar => Ok(match origin {
            Some(o) => Outcome::New(o.clone()),
            None => Outcome::Dest,
        }),
    }
}

#[derive(PartialEq)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

fn directive_named(v: &str) -> Option<Directive> {
    match v {
        "merge" => Some(Directive::Merge),
        "replace" => Some(Directive::Replace),
        "delete" => Some(Directive::Delete),
        _ => None,
    }
}

/// The `$patch` of a patch map, removed from it when it is a known one.
fn map_directive(m: &mut Map) -> Result<Directive, String> {
    let Some(v) = m.get("$patch") else {
        return Ok(Directive::Merge);
    };
    let v = node_value(v);
    let d = directive_named(&v).ok_or_else(|| format!("unknown patch strategy '{v}'"))?;
    m.remove("$patch");
    Ok(d)
}

fn walk_map(
    dest: Option<&mut Value>,
    origin: Option<&Value>,
    schema: Schema,
    path: &str,
) -> Result<Outcome, String> {
    let origin = origin.and_then(Value::as_map);
    match dest.and_then(Value::as_map_mut) {
        None => {
            let Some(o) = origin else {
                return Ok(Outcome::Clear);
            };
            let mut o = o.clone();
            // An unknown `$patch` on a new map is kept as a field here.
            if map_directive(&mut o).ok() == Some(Directive::Delete) {
                return Ok(Outcome::Clear);
            }
            walk_self(&mut o, schema, path)?;
            Ok(Outcome::New(Value::Map(o)))
        }
        Some(d) => {
            let Some(o) = origin else {
                let keys: Vec<String> = d.keys().cloned().collect();
                merge_fields(d, None, &keys, schema, path)?;
                return Ok(Outcome::Dest);
            };
            // Copied only when a directive has to come out of it.
            let mut o = Cow::Borrowed(o);
            let directive = match o.contains_key("$patch") {
                true => map_directive(o.to_mut())?,
                false => Directive::Merge,
            };
            match directive {
                Directive::Delete => Ok(Outcome::Clear),
                Directive::Replace => {
                    let mut o = o.into_owned();
                    walk_self(&mut o, schema, path)?;
                    Ok(Outcome::New(Value::Map(o)))
                }
                Directive::Merge => {
                    let mut keys: Vec<String> = d.keys().chain(o.keys()).cloned().collect();
                    keys.sort();
                    keys.dedup();
                    merge_fields(d, Some(&o), &keys, schema, path)?;
                    Ok(Outcome::Dest)
                }
            }
        }
    }
}

/// A patch map that becomes the target's node is still walked against
/// itself (kyaml walks the same node as both sides), which is where nested
/// directives get applied.
fn walk_self(m: &mut Map, schema: Schema, path: &str) -> Result<(), String> {
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        let child_path = join(path, &k);
        let Some(v) = m.get_mut(&k) else { continue };
        if let Outcome::Clear = walk_alias(v, schema.field(&k), &child_path)? {
            m.remove(&k);
        }
    }
    Ok(())
}

/// One node walked as both target and patch. Directives are applied (and
/// removed) in place; `Clear` when the node goes.
fn walk_alias(v: &mut Value, schema: Schema, path: &str) -> Result<Outcome, String> {
    let schema = sniff(schema, [Some(v), None]);
    match v {
        Value::Null => Ok(Outcome::Clear),
        Value::Map(m) => {
            if map_directive(m)? == Directive::Delete {
                return Ok(Outcome::Clear);
            }
            walk_self(m, schema, path)?;
            Ok(Outcome::Dest)
        }
        Value::Seq(items) if schema.merges() => {
            if list_directive(items)? == Directive::Delete {
                return Ok(Outcome::Clear);
            }
            *items = merge_keyed(std::mem::take(items), Origin::Same, schema, path)?;
            Ok(Outcome::Dest)
        }
        _ => Ok(Outcome::Dest),
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn merge_fields(
    d: &mut Map,
    o: Option<&Map>,
    keys: &[String],
    schema: Schema,
    path: &str,
) -> Result<(), String> {
    for k in keys {
        let child_path = join(path, k);
        let ov = o.and_then(|o| o.get(k));
        match walk(d.get_mut(k), ov, schema.field(k), &child_path)? {
            Outcome::Dest => {}
            Outcome::New(Value::Null) | Outcome::Clear => {
                d.remove(k);
            }
            Outcome::New(v) => {
                d.insert(k.clone(), v);
            }
        }
    }
    Ok(())
}

/// A list whose schema strategy is `merge`.
fn walk_keyed_list(
    dest: Option<&mut Value>,
    origin: Option<&Value>,
    schema: Schema,
    path: &str,
) -> Result<Outcome, String> {
    let origin = origin.and_then(Value::as_seq);
    let Some(dest) = dest.and_then(|d| match d {
        Value::Seq(items) => Some(std::mem::take(items)),
        _ => None,
    }) else {
        // A new list is taken as written, then walked against itself.
        let new = origin.cloned().unwrap_or_default();
        return Ok(Outcome::New(Value::Seq(merge_keyed(
            new,
            Origin::Same,
            schema,
            path,
        )?)));
    };
    let Some(origin) = origin else {
        return Ok(Outcome::New(Value::Seq(merge_keyed(
            dest,
            Origin::None,
            schema,
            path,
        )?)));
    };
    let mut o = origin.clone();
    let merged = match list_directive(&mut o)? {
        Directive::Delete => return Ok(Outcome::Clear),
        Directive::Replace => merge_keyed(o, Origin::Same, schema, path)?,
        Directive::Merge => merge_keyed(dest, Origin::Other(&o), schema, path)?,
    };
    Ok(Outcome::New(Value::Seq(merged)))
}

/// The patch side of a keyed list merge.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// Only the target's elements (the patch lacks the field).
    None,
    Other(&'a [Value]),
    /// The list is walked against itself.
    Same,
}

fn merge_keyed(
    dest: Vec<Value>,
    origin: Origin,
    schema: Schema,
    path: &str,
) -> Result<Vec<Value>, String> {
    let Schema::List(field) = schema else {
        return Ok(dest);
    };
    let keys: Vec<String> = field.keys.iter().map(|k| k.to_string()).collect();
    // The patch's elements come first (kustomize prepends what patches add).
    let sources: Vec<&[Value]> = match origin {
        Origin::Other(o) => vec![o, &dest],
        Origin::None | Origin::Same => vec![&dest],
    };
    let mut values: Vec<Vec<String>> = Vec::new();
    for src in &sources {
        for item in src.iter() {
            let v: Vec<String> = if keys.is_empty() {
                vec![node_value(item)]
            } else {
                keys.iter().map(|k| key_value(item, k)).collect()
            };
            if !values.contains(&v) {
                values.push(v);
            }
        }
    }
    let keys = if keys.is_empty() {
        vec![String::new()]
    } else {
        keys
    };
    merge_elements(values, &keys, dest, origin, schema.elements(), path)
}

/// A list-level `$patch`: the first element holding `$patch`, if that is
/// all it holds. Elements carrying the same directive are then dropped.
fn list_directive(o: &mut Vec<Value>) -> Result<Directive, String> {
    let Some(first) = o
        .iter()
        .filter_map(Value::as_map)
        .find(|m| m.contains_key("$patch"))
    else {
        return Ok(Directive::Merge);
    };
    if first.len() > 1 {
        return Ok(Directive::Merge);
    }
    let v = first.get("$patch").map(node_value).unwrap_or_default();
    let d = directive_named(&v).ok_or_else(|| format!("unknown patch strategy '{v}'"))?;
    *o = set_element(std::mem::take(o), None, &["$patch".into()], &[v])?;
    Ok(d)
}

/// The string kyaml compares for a node: a scalar's text, "" for a map or
/// a list.
fn node_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Map(_) | Value::Seq(_) => String::new(),
        other => other.scalar_string().unwrap_or_default(),
    }
}

/// An element's value for a merge key, "" when missing, null or empty.
fn key_value(item: &Value, key: &str) -> String {
    match item.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(v) => node_value(v),
    }
}

/// Keys that have a value somewhere in `all`; all keys when none has.
fn valid_keys(
    all: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let valid: Vec<&String> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| all.iter().any(|v| v.get(*i).is_some_and(|s| !s.is_empty())))
        .map(|(_, k)| k)
        .collect();
    if valid.is_empty() {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys.iter().filter(|k| valid.contains(k)).cloned().collect();
    let vv = values
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.is_empty() || keys.get(*i).is_some_and(|k| valid.contains(&k)))
        .map(|(_, v)| v.clone())
        .collect();
    (vk, vv)
}

/// With several keys, key tuples that agree where both have a value are the
/// same element (a port without a protocol matches one with).
fn unify_values(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        let a = list[i].clone();
        for j in 0..list.len() {
            if a.len() != list[j].len() {
                continue;
            }
            let mut common = false;
            let mut res = Vec::with_capacity(a.len());
            let mut ok = true;
            for (x, y) in a.iter().zip(&list[j]) {
                if x == y {
                    common = true;
                    res.push(x.clone());
                } else if !x.is_empty() && !y.is_empty() {
                    ok = false;
                    break;
                } else {
                    res.push(if x.is_empty() { y.clone() } else { x.clone() });
                }
            }
            if ok && common {
                list[i] = res.clone();
                list[j] = res;
            }
        }
    }
}

/// The first map element whose keys have exactly these values (for a list
/// of scalars, the first equal scalar).
fn find_element(list: &[Value], keys: &[String], values: &[String]) -> Option<usize> {
    if keys.first().is_none_or(|k| k.is_empty()) {
        let want = values.first().cloned().unwrap_or_default();
        return list.iter().position(|v| node_value(v) == want);
    }
    list.iter().position(|e| {
        e.as_map().is_some_and(|m| {
            keys.iter()
                .zip(values)
                .all(|(k, v)| m.get(k).is_some_and(|f| node_value(f) == *v))
                && keys.len() == values.len()
        })
    })
}

fn merge_elements(
    mut values: Vec<Vec<String>>,
    keys: &[String],
    mut dest: Vec<Value>,
    origin: Origin,
    schema: Schema,
    path: &str,
) -> Result<Vec<Value>, String> {
    let mut items: Vec<Value> = Vec::new();
    if keys.len() > 1 {
        unify_values(&mut values);
    }
    let mut last_keys: Vec<String> = keys.to_vec();
    for v in &values {
        if v.is_empty() {
            continue;
        }
        let (vk, vv) = valid_keys(&values, v, keys);
        last_keys = vk.clone();
        let (ek, ev) = valid_keys(std::slice::from_ref(&vv), &vv, &vk);
        let di = find_element(&dest, &ek, &ev);
        let elem_path = format!("{path}[{}]", vv.join(","));
        let outcome = match (origin, di) {
            (Origin::Same, Some(i)) => walk_alias(&mut dest[i], schema, &elem_path)?,
            (Origin::Same, None) => Outcome::Clear,
            (Origin::None, di) => walk(di.map(|i| &mut dest[i]), None, schema, &elem_path)?,
            (Origin::Other(o), di) => {
                let oe = find_element(o, &ek, &ev).map(|i| o[i].clone());
                walk(di.map(|i| &mut dest[i]), oe.as_ref(), schema, &elem_path)?
            }
        };
        let val = match outcome {
            Outcome::Dest => di.map(|i| dest[i].clone()),
            Outcome::New(v) => Some(v),
            Outcome::Clear => None,
        };
        let mut val = match val {
            Some(v) if !is_empty_element(&v) => v,
            _ => {
                dest = set_element(dest, None, &vk, &vv)?;
                continue;
            }
        };
        if let Value::Map(m) = &mut val {
            for (k, v) in vk.iter().zip(&vv) {
                if !k.is_empty() && !v.is_empty() && !m.contains_key(k) {
                    m.insert(k.clone(), scalar_from(v));
                }
            }
        }
        items = set_element(items, Some(val), &vk, &vv)?;
    }
    if values.is_empty() {
        return Ok(dest);
    }
    append_list(items, dest, &last_keys)
}

fn is_empty_element(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// A key value kyaml had to write back as a plain scalar.
fn scalar_from(s: &str) -> Value {
    s.parse::<i64>()
        .map(Value::Int)
        .unwrap_or_else(|_| Value::String(s.to_string()))
}

/// kyaml's ElementSetter: every element matching `keys`/`values` is
/// replaced by `element` (or removed when it is `None`); without a match
/// the element is appended. Empty maps and nulls are dropped on the way.
fn set_element(
    list: Vec<Value>,
    element: Option<Value>,
    keys: &[String],
    values: &[String],
) -> Result<Vec<Value>, String> {
    let blank = [String::new()];
    let keys = if keys.is_empty() { &blank[..] } else { keys };
    let mapping_setter = !keys[0].is_empty() && values.first().is_some_and(|v| !v.is_empty());
    let mut out = Vec::with_capacity(list.len() + 1);
    let mut matched = false;
    for e in list {
        if is_empty_element(&e) {
            continue;
        }
        if !matches!(e, Value::Map(_)) && mapping_setter {
            out.push(e);
            continue;
        }
        let mut found = false;
        for (j, k) in keys.iter().enumerate() {
            if let Some(v) = values.get(j) {
                found = field_matches(&e, k, v)?;
            }
            if !found {
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                out.push(e);
            }
            continue;
        }
        matched = true;
        if let Some(el) = &element {
            out.push(el.clone());
        }
    }
    match element {
        None | Some(Value::Null) => {}
        Some(el) if !matched => out.push(el),
        Some(_) => {}
    }
    Ok(out)
}

/// kyaml's FieldMatcher: `name` "" compares a scalar element itself; an
/// empty `value` only asks for the field to exist.
fn field_matches(e: &Value, name: &str, value: &str) -> Result<bool, String> {
    if matches!(e, Value::Null) {
        return Ok(false);
    }
    if name.is_empty() {
        if !matches!(kind(e), Kind::Scalar) {
            return Err(format!(
                "strategic merge patch: a list of scalars holds {}",
                kind_name(kind(e))
            ));
        }
        return Ok(node_value(e) == value);
    }
    let Value::Map(m) = e else {
        return Err(format!(
            "strategic merge patch: a list keyed by {name:?} holds {}",
            kind_name(kind(e))
        ));
    };
    Ok(m.get(name)
        .is_some_and(|f| value.is_empty() || node_value(f) == value))
}

/// Puts the target's elements into the merged ones: matching elements take
/// the target's node, the rest go at the end.
fn append_list(
    mut dst: Vec<Value>,
    src: Vec<Value>,
    keys: &[String],
) -> Result<Vec<Value>, String> {
    for e in src {
        if keys.first().is_none_or(|k| k.is_empty()) {
            let v = node_value(&e);
            dst = set_element(dst, Some(e), &[String::new()], &[v])?;
            continue;
        }
        let Value::Map(m) = &e else {
            return Err(format!(
                "strategic merge patch: a list keyed by {:?} holds {}",
                keys[0],
                kind_name(kind(&e))
            ));
        };
        let mut v = Vec::new();
        for k in keys {
            match m.get(k) {
                None => dst.push(e.clone()),
                Some(f) => v.push(node_value(f)),
            }
        }
        if keys.len() > 1 {
            dst = set_element(dst, None, keys, &v)?;
        }
        dst = set_element(dst, Some(e), keys, &v)?;
    }
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn y(s: &str) -> Value {
        parse_documents(s).unwrap().remove(0).value
    }

    fn merged(target: &str, patch: &str) -> Value {
        let mut t = y(target);
        assert!(strategic_merge(&mut t, &y(patch)).unwrap());
        t
    }

    #[test]
    fn containers_merge_by_name_patch_order_first() {
        let t = merged(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: x\n      - name: b\n        image: y\n",
            "spec:\n  template:\n    spec:\n      containers:\n      - name: b\n        image: z\n      - name: c\n        image: w\n",
        );
        let c = t.at(&["spec", "template", "spec", "containers"]).unwrap();
        let names: Vec<_> = c
            .as_seq()
            .unwrap()
            .iter()
            .map(|c| c.str_at(&["name"]).unwrap())
            .collect();
        assert_eq!(names, ["b", "c", "a"]);
        assert_eq!(c.as_seq().unwrap()[0].str_at(&["image"]), Some("z"));
    }

    #[test]
    fn service_ports_are_keyed_by_port_and_protocol() {
        let t = merged(
            "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 53\n    protocol: TCP\n  - port: 53\n    protocol: UDP\n",
            "spec:\n  ports:\n  - port: 53\n    protocol: UDP\n    name: dns\n",
        );
        // With two keys kustomize moves the target's elements after the
        // patch's new ones, keeping their order.
        let p = t.at(&["spec", "ports"]).unwrap().as_seq().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].str_at(&["protocol"]), Some("TCP"));
        assert_eq!(p[0].str_at(&["name"]), None);
        assert_eq!(p[1].str_at(&["protocol"]), Some("UDP"));
        assert_eq!(p[1].str_at(&["name"]), Some("dns"));
    }

    #[test]
    fn unknown_kinds_merge_maps_and_replace_lists() {
        let t = merged(
            "apiVersion: example.com/v1\nkind: Thing\nspec:\n  a: 1\n  b: 2\n  list:\n  - name: x\n",
            "spec:\n  a: null\n  list:\n  - name: y\n",
        );
        assert_eq!(t.at(&["spec", "a"]), None);
        assert_eq!(t.at(&["spec", "b"]), Some(&Value::Int(2)));
        let l = t.at(&["spec", "list"]).unwrap().as_seq().unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].str_at(&["name"]), Some("y"));
    }

    #[test]
    fn generated_table_is_sorted_for_binary_search() {
        assert!(
            ROOTS
                .windows(2)
                .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1))
        );
        for (name, fields) in DEFS {
            assert!(
                fields.windows(2).all(|w| w[0].name < w[1].name),
                "{name}: fields out of order"
            );
        }
    }

    #[test]
    fn schema_gives_kyaml_keys_and_strategies() {
        let root = |api, kind| match sniff(
            Schema::Unknown,
            [
                Some(&y(&format!("apiVersion: {api}\nkind: {kind}\n"))),
                None,
            ],
        ) {
            Schema::Def(i) => Schema::Def(i),
            _ => panic!("{api} {kind} has no schema"),
        };
        let pod = root("apps/v1", "Deployment")
            .field("spec")
            .field("template")
            .field("spec");
        let Schema::List(c) = pod.field("containers") else {
            panic!("containers is not a list")
        };
        assert_eq!((c.strategy, c.keys), ("merge", &["name"][..]));
        let Schema::List(p) = pod.field("containers").elements().field("ports") else {
            panic!("ports is not a list")
        };
        assert_eq!(p.keys, ["containerPort", "protocol"]);
        assert!(pod.field("volumes").merges());
        // Not in kustomize's (Kubernetes 1.21) schema: replaced like any list.
        assert!(!pod.field("resourceClaims").merges());
        assert!(!pod.field("tolerations").merges());
        let Schema::List(v) = pod.field("volumes") else {
            panic!("volumes is not a list")
        };
        assert_eq!(v.strategy, "merge,retainKeys");
        // Kinds kustomize's schema lacks stay unknown.
        assert!(matches!(
            sniff(
                Schema::Unknown,
                [
                    Some(&y(
                        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
                    )),
                    None
                ]
            ),
            Schema::Unknown
        ));
    }

    #[test]
    fn unknown_patch_directive_is_an_error() {
        let mut t = y("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n");
        let err = strategic_merge(&mut t, &y("data:\n  $patch: nope\n")).unwrap_err();
        assert!(err.contains("unknown patch strategy 'nope'"), "{err}");
    }

    #[test]
    fn mismatched_shapes_name_the_field() {
        let mut t = y("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n");
        let err = strategic_merge(&mut t, &y("data: [1]\n")).unwrap_err();
        assert!(err.contains("at data"), "{err}");
    }
}
