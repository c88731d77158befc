//! `.Files`: the chart's non-template files, with Helm's accessors.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use gotmpl::Value;

use crate::chart::ChartFile;
use crate::coalesce::Table;

/// Key under which the Files object keeps its contents for `AsConfig`.
pub const CONTENTS: &str = "__files";

fn contents(files: &[ChartFile]) -> Arc<BTreeMap<String, String>> {
    Arc::new(
        files
            .iter()
            .map(|f| {
                // Not lossy: binary files reach b64enc byte for byte.
                (
                    f.name.clone(),
                    crate::gobytes::from_bytes(&f.data).into_owned(),
                )
            })
            .collect(),
    )
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(Arc::new(
        m.iter()
            .map(|(k, v)| (Arc::from(k.as_str()), Value::String(v.as_str().into())))
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
            a.get(&arg_str(args))
                .map(String::as_str)
                .unwrap_or("")
                .into(),
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
            let s = s.strip_suffix('\n').unwrap_or(s);
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
            let m: BTreeMap<String, String> = a
                .iter()
                .filter(|(k, _)| re.as_ref().is_some_and(|r| r.is_match(k)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(string_map(&m))
        })),
    );
    t.insert(CONTENTS.into(), string_map(&all));
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
                        .encode(c.as_bytes())
                        .into(),
                ),
            )
        })
        .collect();
    crate::funcs::to_yaml_string(&Value::Map(Arc::new(m)))
}
