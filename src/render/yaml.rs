//! Reading Kubernetes YAML the way the API server's clients do (YAML 1.1 scalars:
//! `yes`/`on` are booleans, `0755` is octal), one document at a time with the
//! line each starts on.

use std::path::Path;

use serde_saphyr::Spanned;

use super::{Manifest, RenderError};

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! { legacy_octal_numbers: true }
}

/// Every non-empty document of a YAML (or JSON) stream that is an object, in
/// order. `kind: List` objects are expanded into their items, as kubectl does.
pub(super) fn manifests(rel: &Path, text: &str) -> Result<Vec<Manifest>, RenderError> {
    let docs: Vec<Spanned<serde_json::Value>> =
        serde_saphyr::from_multiple_with_options(text, options())
            .map_err(|e| RenderError::new(rel, None, format!("invalid YAML: {e}")))?;
    let mut out = Vec::new();
    for doc in docs {
        let line = doc.referenced.line();
        push_object(rel, line, doc.value, &mut out)?;
    }
    Ok(out)
}

fn push_object(
    rel: &Path,
    line: u64,
    value: serde_json::Value,
    out: &mut Vec<Manifest>,
) -> Result<(), RenderError> {
    let serde_json::Value::Object(map) = value else {
        if value.is_null() {
            return Ok(());
        }
        return Err(RenderError::new(
            rel,
            Some(line),
            "a document must be a Kubernetes object (a mapping with apiVersion and kind)",
        ));
    };
    for field in ["apiVersion", "kind"] {
        if map
            .get(field)
            .and_then(|v| v.as_str())
            .is_none_or(str::is_empty)
        {
            return Err(RenderError::new(
                rel,
                Some(line),
                format!("object has no `{field}`"),
            ));
        }
    }
    if map["kind"] == "List"
        && let Some(serde_json::Value::Array(items)) = map.get("items")
    {
        for item in items.clone() {
            push_object(rel, line, item, out)?;
        }
        return Ok(());
    }
    out.push(Manifest {
        source: rel.to_path_buf(),
        line,
        object: serde_json::Value::Object(map),
    });
    Ok(())
}
