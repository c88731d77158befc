//! The kustomization file: typed access to its fields, with the errors
//! kustomize gives for the wrong shapes.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::value::Value;
use crate::yaml::parse_documents;

/// Fields this crate does not implement. They are refused by name rather than
/// ignored, so a build never silently differs from kustomize's.
const REFUSED: &[(&str, &str)] = &[
    ("helmCharts", "helm chart inflation is not supported"),
    ("helmGlobals", "helm chart inflation is not supported"),
    (
        "helmChartInflationGenerator",
        "helm chart inflation is not supported",
    ),
    ("vars", "vars are not supported; use replacements"),
    (
        "configurations",
        "custom transformer configurations are not supported",
    ),
    (
        "crds",
        "crds (custom name-reference configurations) are not supported",
    ),
    ("generators", "generator plugins are not supported"),
    ("validators", "validator plugins are not supported"),
    ("openapi", "custom OpenAPI schemas are not supported"),
    ("buildMetadata", "buildMetadata is not supported"),
];

const KNOWN: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "components",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "imageTags",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "transformers",
    "replacements",
    "sortOptions",
];

#[derive(Debug, Clone)]
pub struct Kustomization {
    pub file: PathBuf,
    pub value: Value,
    pub is_component: bool,
}

impl Kustomization {
    pub fn load(file: &Path) -> Result<Kustomization> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::in_file(file, format!("cannot read: {e}")))?;
        let docs = parse_documents(&text).map_err(|e| e.with_file(file))?;
        let value = match docs.len() {
            0 => Value::Map(Default::default()),
            1 => docs
                .into_iter()
                .next()
                .map(|d| d.value)
                .unwrap_or(Value::Null),
            _ => {
                return Err(Error::in_file(
                    file,
                    "a kustomization file must hold exactly one document",
                ));
            }
        };
        let Value::Map(mut map) = value else {
            return Err(Error::in_file(file, "a kustomization must be a mapping"));
        };
        // kustomize decodes with Go's encoding/json, which matches field
        // names case-insensitively when there is no exact match.
        let keys: Vec<String> = map.keys().cloned().collect();
        for k in keys {
            let mut canonical = KNOWN.iter().chain(REFUSED.iter().map(|(f, _)| f));
            if let Some(c) = canonical
                .find(|c| **c != k && c.eq_ignore_ascii_case(&k))
                .filter(|c| !map.contains_key(**c))
                && let Some(v) = map.remove(&k)
            {
                map.insert((*c).to_string(), v);
            }
        }
        let value = Value::Map(map);
        let Value::Map(map) = &value else {
            return Err(Error::in_file(file, "a kustomization must be a mapping"));
        };
        for (k, why) in REFUSED {
            if map.contains_key(*k) {
                return Err(Error::in_file(file, format!("field '{k}': {why}")));
            }
        }
        for k in map.keys() {
            if !KNOWN.contains(&k.as_str()) {
                return Err(Error::in_file(
                    file,
                    format!("invalid Kustomization: json: unknown field \"{k}\""),
                ));
            }
        }
        if map.keys().all(|k| k == "apiVersion" || k == "kind") {
            return Err(Error::in_file(file, "kustomization.yaml is empty"));
        }
        let kind = value.str_at(&["kind"]).unwrap_or("Kustomization");
        let is_component = match kind {
            "Kustomization" | "" => false,
            "Component" => true,
            other => {
                return Err(Error::in_file(
                    file,
                    format!("unsupported kind {other:?} for a kustomization"),
                ));
            }
        };
        Ok(Kustomization {
            file: file.to_path_buf(),
            value,
            is_component,
        })
    }

    /// The warnings kustomize prints for deprecated fields, in its order.
    pub fn deprecation_warnings(&self) -> Vec<String> {
        [
            ("bases", "resources"),
            ("commonLabels", "labels"),
            ("imageTags", "images"),
            ("patchesJson6902", "patches"),
            ("patchesStrategicMerge", "patches"),
        ]
        .iter()
        .filter(|(f, _)| self.value.get(f).is_some())
        .map(|(f, new)| {
            format!(
                "# Warning: '{f}' is deprecated. Please use '{new}' instead. Run 'kustomize edit fix' to update your Kustomization automatically."
            )
        })
        .collect()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.value.get(key).filter(|v| **v != Value::Null)
    }

    pub fn str(&self, key: &str) -> Result<Option<&str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.err(format!("field '{key}' must be a string"))),
        }
    }

    pub fn strings(&self, key: &str) -> Result<Vec<String>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Seq(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| self.err(format!("field '{key}' must be a list of strings")))
                })
                .collect(),
            Some(_) => Err(self.err(format!("field '{key}' must be a list of strings"))),
        }
    }

    pub fn list(&self, key: &str) -> Result<Vec<Value>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Seq(items)) => Ok(items.clone()),
            Some(_) => Err(self.err(format!("field '{key}' must be a list"))),
        }
    }

    /// A map of strings (labels, annotations); scalars are taken as text.
    pub fn string_map(&self, key: &str) -> Result<Vec<(String, String)>> {
        strict_string_map(self.get(key), key).map_err(|m| self.err(m))
    }

    pub fn err(&self, msg: impl Into<String>) -> Error {
        Error::in_file(&self.file, msg)
    }
}

pub fn string_map(v: Option<&Value>) -> Option<Vec<(String, String)>> {
    match v {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, v)| Some((k.clone(), v.scalar_string()?)))
            .collect(),
        Some(_) => None,
    }
}

/// kustomize decodes its own file into typed fields after a round trip that
/// drops the quotes around YAML 1.1 booleans, so `"on"` and `yes` arrive as
/// booleans; a string field then fails to decode. Mirrors that, and refuses
/// numbers and booleans where strings belong, as kustomize does.
pub fn strict_string_map(
    v: Option<&Value>,
    field: &str,
) -> std::result::Result<Vec<(String, String)>, String> {
    const V2_BOOLS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    let bad = |t: &str| {
        format!(
            "invalid Kustomization: json: cannot unmarshal {t} into Go struct field Kustomization.{field} of type string"
        )
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) if V2_BOOLS.contains(&s.as_str()) => Err(bad("bool")),
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Bool(_) => Err(bad("bool")),
                Value::Int(_) | Value::UInt(_) | Value::Float(_) => Err(bad("number")),
                Value::Null => Ok((k.clone(), String::new())),
                _ => Err(bad("object")),
            })
            .collect(),
        Some(_) => Err(format!("field '{field}' must be a map of strings")),
    }
}
