//! configMapGenerator and secretGenerator, and the content hash kustomize
//! appends to generated names.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::kustomization::{Kustomization, string_map};
use crate::loader::Loader;
use crate::resource::Resource;
use crate::value::{Map, Value};

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    ConfigMap,
    Secret,
}

/// Every generated object of one kustomization, in declaration order.
pub fn generate(k: &Kustomization, loader: &Loader, kind: Kind) -> Result<Vec<Resource>> {
    let field = match kind {
        Kind::ConfigMap => "configMapGenerator",
        Kind::Secret => "secretGenerator",
    };
    let global = k.get("generatorOptions").cloned().unwrap_or(Value::Null);
    let mut out = Vec::new();
    for spec in k.list(field)? {
        out.push(one(k, loader, kind, &spec, &global)?);
    }
    Ok(out)
}

fn one(
    k: &Kustomization,
    loader: &Loader,
    kind: Kind,
    spec: &Value,
    global: &Value,
) -> Result<Resource> {
    let name = spec.str_at(&["name"]).unwrap_or_default().to_string();
    if name.is_empty() {
        return Err(k.err("a generator needs a name"));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut binary: Vec<(String, String)> = Vec::new();
    let strings = |key: &str| -> Result<Vec<String>> {
        match spec.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Seq(items)) => items
                .iter()
                .map(|i| {
                    i.scalar_string().ok_or_else(|| {
                        k.err(format!("generator {name}: '{key}' must list strings"))
                    })
                })
                .collect(),
            Some(Value::String(s)) if key == "env" => Ok(vec![s.clone()]),
            Some(_) => Err(k.err(format!("generator {name}: '{key}' must list strings"))),
        }
    };
    for file in strings("envs")?.into_iter().chain(strings("env")?) {
        let (path, text) = loader.read_text(&file, &k.file)?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_start_matches('\u{feff}');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let Some((key, val)) = line.split_once('=') else {
                return Err(Error::in_file(
                    &path,
                    "a line without '=' (values from the environment are not supported)",
                )
                .at_line(i + 1));
            };
            pairs.push((key.trim_start().to_string(), val.to_string()));
        }
    }
    for lit in strings("literals")? {
        let Some((key, val)) = lit.split_once('=') else {
            return Err(k.err(format!(
                "generator {name}: literal {lit:?} is not KEY=VALUE"
            )));
        };
        pairs.push((key.to_string(), unquote(val).to_string()));
    }
    for f in strings("files")? {
        let (key, path) = match f.split_once('=') {
            Some((key, path)) => (key.to_string(), path.to_string()),
            None => (
                std::path::Path::new(&f)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                f.clone(),
            ),
        };
        let (_, bytes) = loader.read(&path, &k.file)?;
        match String::from_utf8(bytes) {
            Ok(text) => pairs.push((key, text)),
            Err(e) => binary.push((key, base64(e.as_bytes()))),
        }
    }
    let mut data = Map::new();
    for (key, val) in pairs {
        if data.contains_key(&key) {
            return Err(k.err(format!("generator {name}: key {key:?} already exists")));
        }
        let val = match kind {
            Kind::ConfigMap => val,
            Kind::Secret => base64(val.as_bytes()),
        };
        data.insert(key, Value::String(val));
    }

    let mut meta = Map::new();
    meta.insert("name".into(), Value::String(name.clone()));
    if let Some(ns) = spec.str_at(&["namespace"]) {
        meta.insert("namespace".into(), ns.into());
    }
    let opts = spec.get("options").cloned().unwrap_or(Value::Null);
    for (field, key) in [("labels", "labels"), ("annotations", "annotations")] {
        let mut m = Map::new();
        for source in [global.get(field), opts.get(field)] {
            let pairs = string_map(source)
                .ok_or_else(|| k.err(format!("generator {name}: '{field}' must be a map")))?;
            for (a, b) in pairs {
                m.insert(a, Value::String(b));
            }
        }
        if !m.is_empty() {
            meta.insert(key.into(), Value::Map(m));
        }
    }
    let flag = |o: &Value, f: &str| match o.get(f) {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    };
    let disable_hash = flag(&opts, "disableNameSuffixHash")
        .or(flag(global, "disableNameSuffixHash"))
        .unwrap_or(false);
    let immutable = flag(&opts, "immutable")
        .or(flag(global, "immutable"))
        .unwrap_or(false);

    let mut obj = Map::new();
    obj.insert("apiVersion".into(), "v1".into());
    obj.insert(
        "kind".into(),
        match kind {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
        .into(),
    );
    obj.insert("metadata".into(), Value::Map(meta));
    if !data.is_empty() {
        obj.insert("data".into(), Value::Map(data));
    }
    if !binary.is_empty() {
        obj.insert(
            "binaryData".into(),
            Value::Map(
                binary
                    .into_iter()
                    .map(|(a, b)| (a, Value::String(b)))
                    .collect(),
            ),
        );
    }
    if kind == Kind::Secret {
        obj.insert(
            "type".into(),
            spec.str_at(&["type"]).unwrap_or("Opaque").into(),
        );
    }
    if immutable {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    let mut r = Resource::new(Value::Map(obj), k.file.clone());
    r.needs_hash = !disable_hash;
    let behavior = spec.str_at(&["behavior"]).unwrap_or("create");
    if !matches!(behavior, "create" | "merge" | "replace") {
        return Err(k.err(format!("generator {name}: unknown behavior {behavior:?}")));
    }
    r.behavior = Some(behavior.to_string());
    Ok(r)
}

/// kustomize drops one pair of matching quotes around a literal's value.
fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The ten-character suffix kustomize derives from a ConfigMap or Secret:
/// SHA-256 over Go's JSON of a few fields, hex, with easily confused
/// characters swapped.
///
/// ```
/// # use skiff_kustomize::Value;
/// let cm = skiff_kustomize::yaml::parse_documents("kind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n").unwrap();
/// assert_eq!(skiff_kustomize::content_hash(&cm[0].value), "4h2mbtbbt6");
/// ```
pub fn content_hash(v: &Value) -> String {
    let kind = v.str_at(&["kind"]).unwrap_or_default();
    let field = |p: &[&str]| -> Value {
        match v.at(p) {
            None | Some(Value::Null) => Value::String(String::new()),
            Some(x) => x.clone(),
        }
    };
    let mut m = Map::new();
    m.insert("kind".into(), kind.into());
    // kustomize looks the name up as one field called "metadata/name", which
    // never exists, so the name it hashes is always empty.
    m.insert("name".into(), Value::String(String::new()));
    m.insert("data".into(), field(&["data"]));
    let encoded = match kind {
        "ConfigMap" => {
            if let Some(b @ Value::Map(_)) = v.get("binaryData") {
                m.insert("binaryData".into(), b.clone());
            }
            crate::json::to_string(&Value::Map(m))
        }
        "Secret" => {
            m.insert("type".into(), field(&["type"]));
            if let Some(b @ Value::Map(_)) = v.get("stringData") {
                m.insert("stringData".into(), b.clone());
            }
            crate::json::to_string(&Value::Map(m))
        }
        _ => crate::json::to_string(v),
    };
    let digest = Sha256::digest(encoded.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn literal_quotes_are_dropped() {
        assert_eq!(unquote("\"x y\""), "x y");
        assert_eq!(unquote("'x'"), "x");
        assert_eq!(unquote("\"x"), "\"x");
    }
}
