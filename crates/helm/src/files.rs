//! `.Files`: the chart's non-template files, with Helm's accessors.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use gotmpl::{TemplateError, Value};

use crate::chart::{ChartFile, FileData};
use crate::coalesce::Table;

/// Key under which the Files object keeps its contents for `AsConfig`.
pub const CONTENTS: &str = "__files";

/// One chart's files for `.Files`. A file becomes text the first time a
/// template reads it, and only then: most files are never read (READMEs,
/// CRDs), and kube-prometheus-stack's are megabytes. The text is kept for
/// `Get`, `Lines`, `Glob` and `AsConfig`/`AsSecrets` alike.
struct Files {
    by_name: BTreeMap<String, Entry>,
}

struct Entry {
    data: FileData,
    text: OnceLock<Arc<str>>,
}

impl Files {
    fn new(files: &[ChartFile]) -> Files {
        Files {
            by_name: files
                .iter()
                .map(|f| {
                    let entry = Entry {
                        data: f.data.clone(),
                        text: OnceLock::new(),
                    };
                    (f.name.clone(), entry)
                })
                .collect(),
        }
    }

    /// The file's text; a file that could not be read by now (it could at
    /// load) is an error naming it.
    fn text(e: &Entry) -> Result<Arc<str>, TemplateError> {
        if let Some(t) = e.text.get() {
            return Ok(t.clone());
        }
        // Not lossy: binary files reach b64enc byte for byte.
        let text = e
            .data
            .with_bytes(|b| Arc::<str>::from(crate::gobytes::from_bytes(b)))
            .map_err(|err| crate::funcs::err(err.to_string()))?;
        Ok(e.text.get_or_init(|| text).clone())
    }

    fn get(&self, name: &str) -> Result<Option<Arc<str>>, TemplateError> {
        self.by_name.get(name).map(Files::text).transpose()
    }

    /// The files whose names `keep` accepts, as a map of name to text.
    fn map(&self, keep: impl Fn(&str) -> bool) -> Result<Value, TemplateError> {
        let mut m = Table::new();
        for (name, e) in &self.by_name {
            if keep(name) {
                m.insert(Arc::from(name.as_str()), Value::String(Files::text(e)?));
            }
        }
        Ok(Value::Map(Arc::new(m)))
    }
}

fn arg_str(args: &[Value]) -> String {
    args.first().map(crate::funcs::strval).unwrap_or_default()
}

/// Builds the `.Files` object of one chart.
pub fn object(files: &[ChartFile]) -> Value {
    let all = Arc::new(Files::new(files));
    let mut t = Table::new();
    let a = all.clone();
    let get = Value::Function(Arc::new(move |args: &[Value]| {
        Ok(Value::String(
            a.get(&arg_str(args))?.unwrap_or_else(|| "".into()),
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
            let Some(s) = a.get(&arg_str(args))? else {
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
            a.map(|name| re.as_ref().is_some_and(|r| r.is_match(name)))
        })),
    );
    // Every file, for `.Files.AsConfig`/`AsSecrets`: a function, so that the
    // files are only read when a template asks for all of them.
    t.insert(
        CONTENTS.into(),
        Value::Function(Arc::new(move |_: &[Value]| all.map(|_| true))),
    );
    Value::Map(Arc::new(t))
}

/// gobwas/glob with `/` as separator: `*` stays within a path segment, `**`
/// crosses segments, `{a,b}` alternates.
fn glob_regex(p: &str) -> Option<regex_lite::Regex> {
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
                re.push_str(&regex_lite::escape(&chars[i + 1].to_string()));
                i += 1;
            }
            c => re.push_str(&regex_lite::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    regex_lite::Regex::new(&re).ok()
}

/// The files `AsConfig`/`AsSecrets` read: all of `.Files`, or a map from
/// `Glob`.
fn file_map(v: &Value) -> Result<Vec<(String, String)>, TemplateError> {
    let m = match v {
        Value::Map(m) => match m.get(CONTENTS) {
            Some(Value::Function(all)) => match all(&[])? {
                Value::Map(inner) => inner,
                _ => return Ok(Vec::new()),
            },
            _ => m.clone(),
        },
        _ => return Ok(Vec::new()),
    };
    Ok(m.iter()
        .filter(|(_, v)| matches!(v, Value::String(_)))
        .map(|(k, v)| (k.to_string(), crate::funcs::strval(v)))
        .collect())
}

fn base(p: &str) -> String {
    p.rsplit('/').next().unwrap_or(p).to_string()
}

/// `Files.AsConfig`: file basenames to contents, as YAML.
pub fn try_as_config(v: &Value) -> Result<String, TemplateError> {
    let m: Table = file_map(v)?
        .into_iter()
        .map(|(k, c)| (Arc::from(base(&k).as_str()), Value::String(c.into())))
        .collect();
    Ok(crate::funcs::to_yaml_string(&Value::Map(Arc::new(m))))
}

/// `Files.AsSecrets`: file basenames to base64 contents, as YAML.
pub fn try_as_secrets(v: &Value) -> Result<String, TemplateError> {
    let m: Table = file_map(v)?
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
    Ok(crate::funcs::to_yaml_string(&Value::Map(Arc::new(m))))
}
