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
        serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| {
            let (line, message) = describe(&e);
            RenderError::new(rel, line, format!("invalid YAML: {message}"))
        })?;
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

/// The line and the cause of a YAML error, without the excerpt of the file
/// the parser would print: that excerpt may hold a Secret's value, and errors
/// end up in logs, events and status.
pub fn describe(e: &serde_saphyr::Error) -> (Option<u64>, String) {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 7 column 11: cause"
    if let Some(rest) = first.strip_prefix("line ")
        && let Some((position, cause)) = rest.split_once(": ")
        && let Some((line, column)) = position.split_once(" column ")
        && let Ok(line) = line.trim().parse::<u64>()
    {
        return (Some(line), format!("{cause} (column {})", column.trim()));
    }
    (None, first.to_owned())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn yaml_errors_name_the_line_and_never_quote_the_file() {
        let text =
            "apiVersion: v1\nkind: Secret\nstringData:\n  password: hunter2 [x\n  other: x: y\n";
        let err = super::manifests(Path::new("s.yaml"), text).expect_err("invalid");
        let shown = err.to_string();
        assert!(shown.starts_with("s.yaml:5: invalid YAML: "), "{shown}");
        assert!(shown.contains("column"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
