//! `values.schema.json` validation, with messages in the shape Helm prints
//! (santhosh-tekuri/jsonschema's error tree). Covers the keywords charts use:
//! type, properties, additionalProperties, required, enum, const, items,
//! numeric and length bounds, pattern, $ref, allOf/anyOf/oneOf/not.

use serde_json::Value as J;

/// One failed check: where, what, and the checks under it.
#[derive(Debug)]
pub struct Failure {
    pub at: String,
    pub msg: String,
    pub causes: Vec<Failure>,
}

fn type_name(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(n) => {
            if n.as_i64().is_some()
                || n.as_u64().is_some()
                || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            {
                "integer"
            } else {
                "number"
            }
        }
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

fn type_ok(want: &str, v: &J) -> bool {
    match want {
        "number" => v.is_number(),
        "integer" => type_name(v) == "integer",
        other => type_name(v) == other || (other == "number" && v.is_number()),
    }
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn resolve<'a>(root: &'a J, r: &str) -> Option<&'a J> {
    let path = r.strip_prefix('#')?;
    if path.is_empty() {
        return Some(root);
    }
    root.pointer(path)
}

fn num(v: &J) -> Option<f64> {
    v.as_f64()
}

fn fmt_num(f: f64) -> String {
    crate::gofmt::float_g(f)
}

/// Validates `v` against `schema` (a subschema of `root`) at JSON pointer `at`.
pub fn validate(root: &J, schema: &J, v: &J, at: &str, depth: usize) -> Vec<Failure> {
    let mut out = Vec::new();
    let J::Object(s) = schema else {
        if schema == &J::Bool(false) {
            out.push(Failure {
                at: at.into(),
                msg: "false schema".into(),
                causes: vec![],
            });
        }
        return out;
    };
    if depth > 64 {
        return out;
    }
    if let Some(J::String(r)) = s.get("$ref")
        && let Some(target) = resolve(root, r)
    {
        out.extend(validate(root, target, v, at, depth + 1));
    }
    if let Some(t) = s.get("type") {
        let wants: Vec<String> = match t {
            J::String(x) => vec![x.clone()],
            J::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => vec![],
        };
        if !wants.is_empty() && !wants.iter().any(|w| type_ok(w, v)) {
            out.push(Failure {
                at: at.into(),
                msg: format!("got {}, want {}", type_name(v), wants.join(" or ")),
                causes: vec![],
            });
            return out;
        }
    }
    if let Some(J::Array(e)) = s.get("enum")
        && !e.iter().any(|x| json_eq(x, v))
    {
        let vals: Vec<String> = e.iter().map(|x| x.to_string()).collect();
        out.push(Failure {
            at: at.into(),
            msg: format!("value must be one of {}", vals.join(", ")),
            causes: vec![],
        });
    }
    if let Some(c) = s.get("const")
        && !json_eq(c, v)
    {
        out.push(Failure {
            at: at.into(),
            msg: format!("value must be {c}"),
            causes: vec![],
        });
    }
    if let Some(x) = num(v) {
        if let Some(m) = s.get("minimum").and_then(num)
            && x < m
        {
            out.push(Failure {
                at: at.into(),
                msg: format!("minimum: got {}, want {}", fmt_num(x), fmt_num(m)),
                causes: vec![],
            });
        }
        if let Some(m) = s.get("maximum").and_then(num)
            && x > m
        {
            out.push(Failure {
                at: at.into(),
                msg: format!("maximum: got {}, want {}", fmt_num(x), fmt_num(m)),
                causes: vec![],
            });
        }
    }
    if let J::String(t) = v {
        let n = t.chars().count() as f64;
        if let Some(m) = s.get("minLength").and_then(num)
            && n < m
        {
            out.push(Failure {
                at: at.into(),
                msg: format!("minLength: got {n}, want {m}"),
                causes: vec![],
            });
        }
        if let Some(m) = s.get("maxLength").and_then(num)
            && n > m
        {
            out.push(Failure {
                at: at.into(),
                msg: format!("maxLength: got {n}, want {m}"),
                causes: vec![],
            });
        }
        if let Some(J::String(p)) = s.get("pattern")
            && let Ok(re) = crate::regexes::go(p)
            && !re.is_match(t)
        {
            out.push(Failure {
                at: at.into(),
                msg: format!("'{t}' does not match pattern '{p}'"),
                causes: vec![],
            });
        }
    }
    if let J::Object(m) = v {
        if let Some(J::Array(req)) = s.get("required") {
            let missing: Vec<String> = req
                .iter()
                .filter_map(|r| r.as_str())
                .filter(|r| !m.contains_key(*r))
                .map(String::from)
                .collect();
            match missing.len() {
                0 => {}
                1 => out.push(Failure {
                    at: at.into(),
                    msg: format!("missing property {}", quote_list(&missing)),
                    causes: vec![],
                }),
                _ => out.push(Failure {
                    at: at.into(),
                    msg: format!("missing properties {}", quote_list(&missing)),
                    causes: vec![],
                }),
            }
        }
        let props = s.get("properties").and_then(|p| p.as_object());
        let pattern_props: Vec<(std::sync::Arc<crate::regexes::GoRegex>, &J)> = s
            .get("patternProperties")
            .and_then(|p| p.as_object())
            .map(|p| {
                p.iter()
                    .filter_map(|(k, sch)| crate::regexes::go(k).ok().map(|r| (r, sch)))
                    .collect()
            })
            .unwrap_or_default();
        let mut extra = Vec::new();
        for (k, val) in m {
            let child_at = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            let mut matched = false;
            if let Some(ps) = props.and_then(|p| p.get(k)) {
                matched = true;
                out.extend(validate(root, ps, val, &child_at, depth + 1));
            }
            for (re, ps) in &pattern_props {
                if re.is_match(k) {
                    matched = true;
                    out.extend(validate(root, ps, val, &child_at, depth + 1));
                }
            }
            if !matched {
                match s.get("additionalProperties") {
                    Some(J::Bool(false)) => extra.push(k.clone()),
                    Some(ap @ J::Object(_)) => {
                        out.extend(validate(root, ap, val, &child_at, depth + 1))
                    }
                    _ => {}
                }
            }
        }
        if !extra.is_empty() {
            out.push(Failure {
                at: at.into(),
                msg: format!("additional properties {} not allowed", quote_list(&extra)),
                causes: vec![],
            });
        }
    }
    if let J::Array(a) = v {
        if let Some(items @ J::Object(_)) = s.get("items") {
            for (i, x) in a.iter().enumerate() {
                out.extend(validate(root, items, x, &format!("{at}/{i}"), depth + 1));
            }
        }
        if let Some(m) = s.get("minItems").and_then(num)
            && (a.len() as f64) < m
        {
            out.push(Failure {
                at: at.into(),
                msg: format!("minItems: got {}, want {m}", a.len()),
                causes: vec![],
            });
        }
        if let Some(m) = s.get("maxItems").and_then(num)
            && (a.len() as f64) > m
        {
            out.push(Failure {
                at: at.into(),
                msg: format!("maxItems: got {}, want {m}", a.len()),
                causes: vec![],
            });
        }
    }
    if let Some(J::Array(all)) = s.get("allOf") {
        let causes: Vec<Failure> = all
            .iter()
            .flat_map(|x| validate(root, x, v, at, depth + 1))
            .collect();
        if !causes.is_empty() {
            out.push(Failure {
                at: at.into(),
                msg: "allOf failed".into(),
                causes,
            });
        }
    }
    if let Some(J::Array(any)) = s.get("anyOf") {
        let results: Vec<Vec<Failure>> = any
            .iter()
            .map(|x| validate(root, x, v, at, depth + 1))
            .collect();
        if results.iter().all(|r| !r.is_empty()) {
            out.push(Failure {
                at: at.into(),
                msg: "anyOf failed".into(),
                causes: results.into_iter().flatten().collect(),
            });
        }
    }
    if let Some(J::Array(one)) = s.get("oneOf") {
        let results: Vec<Vec<Failure>> = one
            .iter()
            .map(|x| validate(root, x, v, at, depth + 1))
            .collect();
        let ok: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_empty())
            .map(|(i, _)| i)
            .collect();
        if ok.is_empty() {
            out.push(Failure {
                at: at.into(),
                msg: "oneOf failed, none matched".into(),
                causes: results.into_iter().flatten().collect(),
            });
        } else if ok.len() > 1 {
            out.push(Failure {
                at: at.into(),
                msg: format!("oneOf failed, subschemas {}, {} matched", ok[0], ok[1]),
                causes: vec![],
            });
        }
    }
    if let Some(not) = s.get("not")
        && validate(root, not, v, at, depth + 1).is_empty()
    {
        out.push(Failure {
            at: at.into(),
            msg: "not failed".into(),
            causes: vec![],
        });
    }
    out
}

fn json_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn render_tree(f: &Failure, indent: usize, out: &mut String) {
    out.push_str(&format!(
        "{}- at '{}': {}\n",
        "  ".repeat(indent),
        f.at,
        f.msg
    ));
    for c in &f.causes {
        render_tree(c, indent + 1, out);
    }
}

/// The failures for one chart, as Helm lists them under the chart's name.
pub fn report(failures: Vec<Failure>) -> Option<String> {
    let mut out = String::new();
    match failures.len() {
        0 => return None,
        1 => render_tree(&failures[0], 0, &mut out),
        _ => render_tree(
            &Failure {
                at: String::new(),
                msg: "validation failed".into(),
                causes: failures,
            },
            0,
            &mut out,
        ),
    }
    Some(out)
}
