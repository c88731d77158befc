//! Helm's own functions: `include`, `tpl`, `required`, `fail`, `lookup`, and
//! the helpers behind `.Files.Glob(...).AsConfig`.

use std::sync::Arc;

use gotmpl::{TemplateError, Value};

use super::{Reg, arg, err, s, sarg, sarg_ref};
use crate::engine::{self, ERR_END, ERR_START, MAX_INCLUDE_DEPTH, Shared};
use crate::template::POS_MARK;
use crate::template::exec::{Env, Set};

/// Splits off the hidden position argument the parser adds.
fn take_pos(args: &[Value]) -> (&str, &[Value]) {
    if let Some(Value::String(p)) = args.first()
        && let Some(rest) = p.strip_prefix(POS_MARK)
    {
        return (rest, &args[1..]);
    }
    ("", args)
}

/// An error Helm prints as `execution error at (pos): msg`.
fn helm_error(pos: &str, msg: &str) -> TemplateError {
    err(format!("{ERR_START}{pos}\u{4}{msg}{ERR_END}"))
}

/// An error Helm prints as `template: pos: msg`.
fn generic_error(pos: &str, msg: &str) -> TemplateError {
    err(format!("{ERR_START}{pos}\u{4}\u{5}{msg}{ERR_END}"))
}

/// Re-anchors an error from a nested template at the calling position: Helm
/// reports the outermost call site with the innermost message.
fn reanchor(pos: &str, what: &str, e: &TemplateError) -> TemplateError {
    let text = e.to_string();
    if let Some(start) = text.find(ERR_START) {
        let rest = &text[start + ERR_START.len()..];
        let body = &rest[..rest.find(ERR_END).unwrap_or(rest.len())];
        if let Some((_, msg)) = body.split_once('\u{4}') {
            return match msg.strip_prefix('\u{5}') {
                Some(g) => generic_error(pos, g),
                None => helm_error(pos, msg),
            };
        }
    }
    let text = text.strip_prefix("execution error: ").unwrap_or(&text);
    generic_error(pos, &format!("error calling {what}: {text}"))
}

thread_local! {
    /// `include`/`tpl` nesting on this thread. Per thread, since templates
    /// may run on two threads at once and each nests on its own stack.
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

struct DepthGuard;

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Enters an `include` or `tpl`: the nesting limit, and the early stop of
/// a template whose result is dropped ([`engine::superseded`]).
fn enter(pos: &str, name: &str) -> Result<DepthGuard, TemplateError> {
    if engine::superseded() {
        return Err(err("superseded: the result is dropped"));
    }
    if DEPTH.with(|d| d.get()) >= MAX_INCLUDE_DEPTH {
        return Err(generic_error(
            pos,
            &format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            ),
        ));
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    Ok(DepthGuard)
}

pub fn register(r: &mut Reg, shared: &Arc<Shared>) {
    let sh = Arc::downgrade(shared);
    r.f("include", move |args| {
        let (pos, a) = take_pos(args);
        let name = sarg_ref(a, 0);
        let shared = super::up(&sh)?;
        let _g = enter(pos, &name)?;
        let env = shared.env().map_err(|e| err(e.to_string()))?;
        let data = a.get(1).unwrap_or(&Value::Nil);
        if env.set.lookup(&name).is_some() {
            return env.run_named(&name, data).map(s).map_err(|e| reanchor(pos, "include", &e));
        }
        // A template parsed only when it runs, included by its path (say,
        // for a checksum of a ConfigMap).
        match shared.included_tree(&name) {
            None => Err(generic_error(pos, &format!("error calling include: template: no template {name:?} associated with template \"gotpl\""))),
            // The render reports the parse error itself, first.
            Some(Err(e)) => Err(generic_error(pos, &format!("error calling include: {e}"))),
            Some(Ok(tree)) => env.run_main(&tree, data).map(s).map_err(|e| reanchor(pos, "include", &e)),
        }
    });
    let sh = Arc::downgrade(shared);
    r.f("tpl", move |args| {
        let (pos, a) = take_pos(args);
        let text = sarg(a, 0);
        let data = arg(a, 1);
        let shared = super::up(&sh)?;
        let _g = enter(pos, "tpl")?;
        let name = match &data {
            Value::Map(m) => match m.get("Template") {
                Some(Value::Map(t)) => t.get("Name").map(super::strval).unwrap_or_default(),
                _ => String::new(),
            },
            _ => String::new(),
        };
        let t = match shared.tpl_cache.get(&name, &text) {
            Some(t) => t,
            None => {
                let tree = engine::parse_tpl(&name, &text).map_err(|e| {
                    generic_error(
                        pos,
                        &format!("error calling tpl: cannot parse template {text:?}: {e}"),
                    )
                })?;
                // A set of its own: in a `tpl` text `template` has become
                // `include`, which runs the chart's set, so nothing looks a
                // chart's definition up in this one; a copy of the chart's
                // set (hundreds of definitions) per text cost
                // kube-prometheus-stack 13% of its template execution.
                let mut t = Set::default();
                t.add("\u{0}tpl", Arc::new(tree));
                let t = Arc::new(t);
                shared.tpl_cache.insert(&name, &text, t.clone());
                t
            }
        };
        let env = shared.env().map_err(|e| err(e.to_string()))?;
        let out = Env { set: &t, ..env }
            .run_named("\u{0}tpl", &data)
            .map_err(|e| reanchor(pos, "tpl", &e))?;
        Ok(s(out.replace("<no value>", "")))
    });
    r.f("required", |args| {
        let (pos, a) = take_pos(args);
        let v = arg(a, 1);
        match &v {
            Value::Nil => Err(helm_error(pos, &sarg(a, 0))),
            Value::String(t) if t.is_empty() => Err(helm_error(pos, &sarg(a, 0))),
            _ => Ok(v),
        }
    });
    r.f("fail", |args| {
        let (pos, a) = take_pos(args);
        Err(helm_error(pos, &sarg(a, 0)))
    });
    // `helm template` has no cluster: lookups find nothing.
    r.f("lookup", |_| Ok(Value::Map(Arc::new(Default::default()))));
    r.f("getHostByName", |_| Ok(s("")));
    // A file that vanished since load is an error naming it.
    r.f("__asConfig", |a| {
        crate::files::try_as_config(&arg(a, 0)).map(s)
    });
    r.f("__asSecrets", |a| {
        crate::files::try_as_secrets(&arg(a, 0)).map(s)
    });
}
