//! Sprig's string functions, plus the general ones (`default`, `empty`,
//! `ternary`, type inspection) that every chart uses.

use std::collections::HashMap;

use super::{Reg, arg, err, is_empty, kind_of, s, sarg, strval, to_i64, type_of};
use crate::gofmt;
use gotmpl::Value;

fn title(t: &str) -> String {
    // strings.Title: upper-case the first letter of each word.
    let mut out = String::with_capacity(t.len());
    let mut prev_letter = false;
    for c in t.chars() {
        if !prev_letter && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}

fn words(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = t.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev_lower = chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev_lower || (next_lower && chars[i - 1].is_uppercase()) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

pub fn register(r: &mut Reg) {
    r.f("default", |a| {
        let given = arg(a, 1);
        Ok(if a.len() < 2 || is_empty(&given) {
            arg(a, 0)
        } else {
            given
        })
    });
    r.f("empty", |a| Ok(Value::Bool(is_empty(&arg(a, 0)))));
    r.f("coalesce", |a| {
        Ok(a.iter()
            .find(|v| !is_empty(v))
            .cloned()
            .unwrap_or(Value::Nil))
    });
    r.f("all", |a| Ok(Value::Bool(a.iter().all(|v| !is_empty(v)))));
    r.f("any", |a| Ok(Value::Bool(a.iter().any(|v| !is_empty(v)))));
    r.f("ternary", |a| {
        Ok(if gotmpl::is_true(&arg(a, 2)) {
            arg(a, 0)
        } else {
            arg(a, 1)
        })
    });
    r.f("kindOf", |a| Ok(s(kind_of(&arg(a, 0)))));
    r.f("kindIs", |a| {
        Ok(Value::Bool(sarg(a, 0) == kind_of(&arg(a, 1))))
    });
    r.f("typeOf", |a| Ok(s(type_of(&arg(a, 0)))));
    r.f("typeIs", |a| {
        Ok(Value::Bool(sarg(a, 0) == type_of(&arg(a, 1))))
    });
    r.f("typeIsLike", |a| {
        Ok(Value::Bool(sarg(a, 0) == type_of(&arg(a, 1))))
    });
    r.f("deepEqual", |a| {
        Ok(Value::Bool(
            gofmt::sprint(&arg(a, 0)) == gofmt::sprint(&arg(a, 1))
                && kind_of(&arg(a, 0)) == kind_of(&arg(a, 1)),
        ))
    });
    r.f("toString", |a| Ok(s(sarg(a, 0))));
    r.f("toStrings", |a| {
        let l = match arg(a, 0) {
            Value::List(l) => l
                .iter()
                .filter(|x| !matches!(x, Value::Nil))
                .map(|x| s(strval(x)))
                .collect(),
            Value::Nil => vec![],
            other => vec![s(strval(&other))],
        };
        Ok(Value::List(l.into()))
    });
    r.f("quote", |a| {
        Ok(s(a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| gofmt::quote(&strval(v)))
            .collect::<Vec<_>>()
            .join(" ")))
    });
    r.f("squote", |a| {
        Ok(s(a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| format!("'{}'", strval(v)))
            .collect::<Vec<_>>()
            .join(" ")))
    });
    r.f("cat", |a| {
        Ok(s(a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(strval)
            .collect::<Vec<_>>()
            .join(" ")))
    });
    r.f("upper", |a| Ok(s(sarg(a, 0).to_uppercase())));
    r.f("lower", |a| Ok(s(sarg(a, 0).to_lowercase())));
    r.f("title", |a| Ok(s(title(&sarg(a, 0)))));
    r.f("untitle", |a| {
        let t = sarg(a, 0);
        let mut out = String::new();
        let mut prev_space = true;
        for c in t.chars() {
            if prev_space {
                out.extend(c.to_lowercase())
            } else {
                out.push(c)
            }
            prev_space = c.is_whitespace();
        }
        Ok(s(out))
    });
    r.f("trim", |a| Ok(s(sarg(a, 0).trim())));
    r.f("trimAll", |a| {
        let cut: Vec<char> = sarg(a, 0).chars().collect();
        Ok(s(sarg(a, 1).trim_matches(|c| cut.contains(&c))))
    });
    r.f("trimPrefix", |a| {
        let v = sarg(a, 1);
        Ok(s(v.strip_prefix(sarg(a, 0).as_str()).unwrap_or(&v)))
    });
    r.f("trimSuffix", |a| {
        let v = sarg(a, 1);
        Ok(s(v.strip_suffix(sarg(a, 0).as_str()).unwrap_or(&v)))
    });
    r.f("nospace", |a| {
        Ok(s(sarg(a, 0)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()))
    });
    r.f("trunc", |a| {
        let n = to_i64(&arg(a, 0));
        let v = sarg(a, 1);
        let len = v.len() as i64;
        let out = if n < 0 && len + n > 0 {
            v.get((len + n) as usize..).unwrap_or(&v).to_string()
        } else if n >= 0 && len > n {
            v.get(..n as usize).unwrap_or(&v).to_string()
        } else {
            v
        };
        Ok(s(out))
    });
    r.f("abbrev", |a| {
        let w = to_i64(&arg(a, 0));
        let v = sarg(a, 1);
        if w < 4 || v.len() as i64 <= w {
            return Ok(s(v));
        }
        // Go slices bytes; a cut inside a character keeps what precedes it.
        let mut end = (w - 3) as usize;
        while !v.is_char_boundary(end) {
            end -= 1;
        }
        Ok(s(format!("{}...", &v[..end])))
    });
    r.f("substr", |a| {
        let (st, en) = (to_i64(&arg(a, 0)), to_i64(&arg(a, 1)));
        let v = sarg(a, 2);
        let b = v.as_bytes();
        let out = if st < 0 {
            &b[..(en.max(0) as usize).min(b.len())]
        } else if en < 0 || en as usize > b.len() {
            &b[(st as usize).min(b.len())..]
        } else {
            &b[(st as usize).min(en as usize)..en as usize]
        };
        Ok(s(String::from_utf8_lossy(out).into_owned()))
    });
    r.f("contains", |a| {
        Ok(Value::Bool(sarg(a, 1).contains(sarg(a, 0).as_str())))
    });
    r.f("hasPrefix", |a| {
        Ok(Value::Bool(sarg(a, 1).starts_with(sarg(a, 0).as_str())))
    });
    r.f("hasSuffix", |a| {
        Ok(Value::Bool(sarg(a, 1).ends_with(sarg(a, 0).as_str())))
    });
    r.f("replace", |a| {
        Ok(s(sarg(a, 2).replace(sarg(a, 0).as_str(), &sarg(a, 1))))
    });
    r.f("repeat", |a| {
        Ok(s(
            sarg(a, 1).repeat(to_i64(&arg(a, 0)).clamp(0, 1 << 20) as usize)
        ))
    });
    r.f("indent", |a| {
        let pad = " ".repeat(to_i64(&arg(a, 0)).clamp(0, 1 << 16) as usize);
        Ok(s(format!(
            "{pad}{}",
            sarg(a, 1).replace('\n', &format!("\n{pad}"))
        )))
    });
    r.f("nindent", |a| {
        let pad = " ".repeat(to_i64(&arg(a, 0)).clamp(0, 1 << 16) as usize);
        Ok(s(format!(
            "\n{pad}{}",
            sarg(a, 1).replace('\n', &format!("\n{pad}"))
        )))
    });
    r.f("wrap", |a| {
        Ok(s(wrap(&sarg(a, 1), to_i64(&arg(a, 0)).max(1) as usize)))
    });
    r.f("split", |a| {
        let sep = sarg(a, 0);
        let v = sarg(a, 1);
        let m = v
            .split(sep.as_str())
            .enumerate()
            .map(|(i, p)| (std::sync::Arc::from(format!("_{i}").as_str()), s(p)))
            .collect();
        Ok(Value::Map(std::sync::Arc::new(m)))
    });
    r.f("splitList", |a| {
        let sep = sarg(a, 0);
        let v = sarg(a, 1);
        if sep.is_empty() {
            return Ok(Value::List(v.chars().map(|c| s(c.to_string())).collect()));
        }
        Ok(Value::List(v.split(sep.as_str()).map(s).collect()))
    });
    r.f("splitn", |a| {
        let sep = sarg(a, 0);
        let n = to_i64(&arg(a, 1));
        let v = sarg(a, 2);
        let m = v
            .splitn(n.max(0) as usize, sep.as_str())
            .enumerate()
            .map(|(i, p)| (std::sync::Arc::from(format!("_{i}").as_str()), s(p)))
            .collect();
        Ok(Value::Map(std::sync::Arc::new(m)))
    });
    r.f("join", |a| {
        let sep = sarg(a, 0);
        let items: Vec<String> = match arg(a, 1) {
            Value::List(l) => l.iter().map(strval).collect(),
            Value::Nil => vec![],
            other => vec![strval(&other)],
        };
        Ok(s(items.join(&sep)))
    });
    r.f("camelcase", |a| {
        Ok(s(words(&sarg(a, 0))
            .iter()
            .map(|w| title(&w.to_lowercase()))
            .collect::<String>()))
    });
    r.f("snakecase", |a| {
        Ok(s(words(&sarg(a, 0))
            .iter()
            .map(|w| w.to_lowercase())
            .collect::<Vec<_>>()
            .join("_")))
    });
    r.f("kebabcase", |a| {
        Ok(s(words(&sarg(a, 0))
            .iter()
            .map(|w| w.to_lowercase())
            .collect::<Vec<_>>()
            .join("-")))
    });
    r.f("initials", |a| {
        Ok(s(sarg(a, 0)
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .collect::<String>()))
    });
    r.f("plural", |a| {
        Ok(if to_i64(&arg(a, 2)) == 1 {
            arg(a, 0)
        } else {
            arg(a, 1)
        })
    });
    r.f("printf", go_printf);
    r.f("base", |a| Ok(s(path_base(&sarg(a, 0)))));
    r.f("dir", |a| Ok(s(path_dir(&sarg(a, 0)))));
    r.f("ext", |a| {
        let b = path_base(&sarg(a, 0));
        Ok(s(b
            .rfind('.')
            .map(|i| b[i..].to_string())
            .unwrap_or_default()))
    });
    r.f("clean", |a| Ok(s(path_clean(&sarg(a, 0)))));
    r.f("isAbs", |a| Ok(Value::Bool(sarg(a, 0).starts_with('/'))));
    // Sprig's regexMatch swallows a bad pattern as "no match"; the must form reports it.
    r.f("regexMatch", |a| {
        Ok(Value::Bool(
            re(&sarg(a, 0)).is_ok_and(|r| r.is_match(&sarg(a, 1))),
        ))
    });
    r.f("mustRegexMatch", |a| {
        Ok(Value::Bool(re(&sarg(a, 0))?.is_match(&sarg(a, 1))))
    });
    r.f("regexFind", |a| {
        Ok(s(re(&sarg(a, 0))?.find(&sarg(a, 1)).unwrap_or("")))
    });
    r.f("regexFindAll", |a| {
        let n = to_i64(&arg(a, 2));
        let v = sarg(a, 1);
        let all: Vec<Value> = re(&sarg(a, 0))?
            .find_all(&v, if n < 0 { usize::MAX } else { n as usize })
            .into_iter()
            .map(s)
            .collect();
        Ok(Value::List(all.into()))
    });
    r.f("regexReplaceAll", |a| {
        Ok(s(re(&sarg(a, 0))?.replace_all(
            &sarg(a, 1),
            go_repl(&sarg(a, 2)).as_str(),
            false,
        )))
    });
    r.f("regexReplaceAllLiteral", |a| {
        Ok(s(re(&sarg(a, 0))?.replace_all(
            &sarg(a, 1),
            &sarg(a, 2),
            true,
        )))
    });
    r.f("regexSplit", |a| {
        let n = to_i64(&arg(a, 2));
        let v = sarg(a, 1);
        let r = re(&sarg(a, 0))?;
        let limit = (n >= 0).then_some(n as usize);
        let parts: Vec<Value> = r.split(&v, limit).into_iter().map(s).collect();
        Ok(Value::List(parts.into()))
    });
    r.f("regexQuoteMeta", |a| {
        Ok(s(crate::regexes::quote_meta(&sarg(a, 0))))
    });
}

fn re(p: &str) -> Result<std::sync::Arc<crate::regexes::GoRegex>, gotmpl::TemplateError> {
    crate::regexes::go(p).map_err(|e| err(format!("error parsing regexp: {e}")))
}

/// Go's `$1`/`${name}` expansion is close to the regex crate's; only `$$` and
/// a `$name` followed by letters differ, which charts do not rely on.
fn go_repl(r: &str) -> String {
    r.to_string()
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for (li, line) in text.split('\n').enumerate() {
        if li > 0 {
            out.push('\n');
        }
        let mut col = 0;
        for (wi, w) in line.split(' ').enumerate() {
            if wi > 0 {
                if col + 1 + w.len() > width {
                    out.push('\n');
                    col = 0;
                } else {
                    out.push(' ');
                    col += 1;
                }
            }
            out.push_str(w);
            col += w.len();
        }
    }
    out
}

/// Go's `path.Clean`.
fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Go's `path.Base`.
fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go's `path.Dir`.
fn path_dir(p: &str) -> String {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    path_clean(&p[..i])
}

thread_local! {
    /// One `{{printf .f .a0 ...}}` template per arity: gotmpl's own printf,
    /// reached without our override.
    static PRINTF: std::cell::RefCell<HashMap<usize, gotmpl::Template>> = Default::default();
}

/// Go's `%v` prints floats and collections of floats in Go's style (`1e+06`);
/// gotmpl's printf does not, so those arguments are pre-formatted.
fn go_printf(args: &[Value]) -> Result<Value, gotmpl::TemplateError> {
    let Some(Value::String(format)) = args.first() else {
        return Err(err("wrong type for value; expected string"));
    };
    let mut rest: Vec<Value> = args[1..].to_vec();
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    let mut argi = 0;
    // Verbs Go refuses for their argument (`%d` of a float: chart values
    // are float64 in Helm), as the char range of the spec: printed as Go's
    // `%!d(float64=7)`, which gotmpl's printf does not do.
    let mut refused: Vec<(usize, usize)> = Vec::new();
    while i < chars.len() {
        if chars[i] != '%' {
            i += 1;
            continue;
        }
        let spec = i;
        i += 1;
        if chars.get(i) == Some(&'%') {
            i += 1;
            continue;
        }
        while i < chars.len() && "+-# 0".contains(chars[i]) {
            i += 1;
        }
        let mut explicit = false;
        while i < chars.len()
            && (chars[i].is_ascii_digit() || chars[i] == '*' || chars[i] == '.' || chars[i] == '[')
        {
            if chars[i] == '*' {
                argi += 1;
            }
            if chars[i] == '[' {
                explicit = true;
            }
            i += 1;
        }
        if explicit {
            break;
        }
        if let Some(&verb) = chars.get(i) {
            if verb == 'v'
                && let Some(a) = rest.get_mut(argi)
                && matches!(a, Value::Float(_) | Value::List(_) | Value::Map(_))
            {
                *a = s(gofmt::sprint(a));
            }
            // Go values with a String method (times, durations) format
            // through it for %s and %q; a duration is an integer to %d.
            if let Some(a) = rest.get_mut(argi) {
                let stringer = super::dates::time_nanos(a).is_some()
                    || super::durations::nanos(a).is_some()
                    || super::pki::is_certificate(a);
                if stringer && matches!(verb, 's' | 'q') {
                    *a = s(gofmt::sprint(a));
                } else if verb == 'd'
                    && let Some(n) = super::durations::nanos(a)
                {
                    *a = Value::Int(n);
                } else if let Value::Float(_) = a
                    && matches!(verb, 'd' | 'o' | 'O' | 'c' | 'U')
                {
                    // The value as `%v` with the spec's flags and width.
                    let how: String = chars[spec..i].iter().chain(['v'].iter()).collect();
                    let shown = strval(&go_printf(&[s(how), a.clone()])?);
                    *a = s(format!("%!{verb}(float64={shown})"));
                    refused.push((spec, i));
                }
            }
            argi += 1;
            i += 1;
        }
    }
    let format = if refused.is_empty() {
        format.clone()
    } else {
        let mut f = String::with_capacity(format.len());
        let mut from = 0;
        for (start, end) in refused {
            f.extend(&chars[from..start]);
            f.push_str("%s");
            from = end + 1;
        }
        f.extend(&chars[from..]);
        std::sync::Arc::from(f)
    };
    let n = rest.len();
    let mut data = crate::coalesce::Table::new();
    data.insert("f".into(), Value::String(format));
    for (k, v) in rest.into_iter().enumerate() {
        data.insert(format!("a{k}").as_str().into(), v);
    }
    let data = Value::Map(std::sync::Arc::new(data));
    PRINTF.with(|cache| {
        let mut cache = cache.borrow_mut();
        let t = match cache.entry(n) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let args: String = (0..n).map(|k| format!(" .a{k}")).collect();
                v.insert(
                    gotmpl::Template::new("printf").parse(&format!("{{{{printf .f{args}}}}}"))?,
                )
            }
        };
        t.execute_to_string(&data).map(s)
    })
}
