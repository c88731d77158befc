//! `.Files`: the chart's non-template files, with Helm's accessors.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use gotmpl::Value;

use crate::chart::ChartFile;
use crate::coalesce::Table;

/// Key under which the Files object keeps its contents for `AsConfig`.
pub const CONTENTS: &str = "__files";

/// Each file's content once, shared by `Get`, `Lines`, `Glob` and the map
/// `AsConfig` reads (a chart's files were held three times over: kube-
/// prometheus-stack's are megabytes).
fn contents(files: &[ChartFile]) -> Arc<BTreeMap<String, Arc<str>>> {
    Arc::new(
        files
            .iter()
            // Not lossy: binary files reach b64enc byte for byte.
            .map(|f| {
                (
                    f.name.clone(),
                    Arc::from(crate::gobytes::from_bytes(&f.data)),
                )
            })
            .collect(),
    )
}

fn string_map<'a>(m: impl Iterator<Item = (&'a String, &'a Arc<str>)>) -> Value {
    Value::Map(Arc::new(
        m.map(|(k, v)| (Arc::from(k.as_str()), Value::String(v.clone())))
            .collect(),
    ))
}

fn arg_str(args: &[Value]) -> String {
    args.first().map(crate::funcs::strval).unwrap_or_default()
}

/// Builds the `.Files` object of one chart.
pub fn object(files: &[ChartFile]) -> Value {
    let all = contents(files);
    let mut t = Table::new();
    let a = all.clone();
    let get = Value::Function(Arc::new(move |args: &[Value]| {
        Ok(Value::String(
            a.get(&arg_str(args)).cloned().unwrap_or_else(|| "".into()),
        ))
    }));
    // GetBytes serves the same content: templates use it through functions
    // (b64enc, sha256sum) that take text and bytes alike.
    t.insert("GetBytes".into(), get.clone());
    t.insert("Get".into(), get);
    let a = all.clone();
    t.insert(
        "Lines".into(),
        Value::Function(Arc::new(move |args: &[Value]| {
            let Some(s) = a.get(&arg_str(args)) else {
                return Ok(Value::List(Arc::from(vec![])));
            };
            let s = s.strip_suffix('\n').unwrap_or(s.as_ref());
            Ok(Value::List(
                s.split('\n').map(|l| Value::String(l.into())).collect(),
            ))
        })),
    );
    let a = all.clone();
    t.insert(
        "Glob".into(),
        Value::Function(Arc::new(move |args: &[Value]| {
            let pat = arg_str(args);
            let re = glob_regex(&pat);
            Ok(string_map(a.iter().filter(|(k, _)| {
                re.as_ref().is_some_and(|r| r.is_match(k))
            })))
        })),
    );
    t.insert(CONTENTS.into(), string_map(all.iter()));
    Value::Map(Arc::new(t))
}

/// gobwas/glob with `/` as separator: `*` stays within a path segment, `**`
/// crosses segments, `{a,b}` alternates.
fn glob_regex(p: &str) -> Option<regex::Regex> {
    let mut re = String::from("^");
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut depth = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '{' => {
                depth += 1;
                re.push_str("(?:");
            }
            '}' if depth > 0 => {
                depth -= 1;
                re.push(')');
            }
            ',' if depth > 0 => re.push('|'),
            '[' => {
                let mut j = i + 1;
                let mut class = String::from("[");
                if matches!(chars.get(j), Some('!')) {
                    class.push('^');
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    if chars[j] == '\\' || chars[j] == '[' {
                        class.push('\\');
                    }
                    class.push(chars[j]);
                    j += 1;
                }
                class.push(']');
                re.push_str(&class);
                i = j;
            }
            '\\' if i + 1 < chars.len() => {
                re.push_str(&regex::escape(&chars[i + 1].to_string()));
                i += 1;
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

fn file_map(v: &Value) -> Vec<(String, String)> {
    let m = match v {
        Value::Map(m) => match m.get(CONTENTS) {
            Some(Value::Map(inner)) => inner.clone(),
            _ => m.clone(),
        },
        _ => return Vec::new(),
    };
    m.iter()
        .filter(|(_, v)| matches!(v, Value::String(_)))
        .map(|(k, v)| (k.to_string(), crate::funcs::strval(v)))
        .collect()
}

fn base(p: &str) -> String {
    p.rsplit('/').next().unwrap_or(p).to_string()
}

/// `Files.AsConfig`: file basenames to contents, as YAML.
pub fn as_config(v: &Value) -> String {
    let m: Table = file_map(v)
        .into_iter()
        .map(|(k, c)| (Arc::from(base(&k).as_str()), Value::String(c.into())))
        .collect();
    crate::funcs::to_yaml_string(&Value::Map(Arc::new(m)))
}

/// `Files.AsSecrets`: file basenames to base64 contents, as YAML.
pub fn as_secrets(v: &Value) -> String {
    let m: Table = file_map(v)
        .into_iter()
        .map(|(k, c)| {
            (
                Arc::from(base(&k).as_str()),
                Value::String(
                    base64::engine::general_purpose::STANDARD
                        .encode(crate::gobytes::to_bytes(&c))
                        .into(),
                ),
            )
        })
        .collect();
    crate::funcs::to_yaml_string(&Value::Map(Arc::new(m)))
}
