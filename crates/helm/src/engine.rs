//! Parses every template of a chart and its subcharts into one template set
//! (so `include` reaches any `define`), runs each non-partial template with its
//! chart's built-in objects (with [`crate::template::exec`]), and maps
//! execution errors to Helm's wording.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use gotmpl::Value;

use crate::chart::{Chart, FileData};
use crate::chart_dir;
use crate::coalesce::Table;
use crate::error::Error;
use crate::files;
use crate::funcs;
use crate::mutation;
use crate::template::Adapt;
use crate::template::ast::Tree;
use crate::template::exec::{Env, Funcs, Set};
use crate::values::Prepared;

/// Nesting limit for `include` and `tpl`, so runaway recursion is an error.
pub const MAX_INCLUDE_DEPTH: usize = 1000;
/// Rendered output larger than this is an error rather than a memory blow-up.
pub const MAX_OUTPUT_BYTES: usize = 256 << 20;

/// A template's file (read when parsed) and the chart it belongs to.
struct Source<'c> {
    data: &'c FileData,
    /// The chart's place in the walk over charts, the index of its objects.
    chart: usize,
    base_path: Arc<str>,
}

/// Marker wrapped around errors that Helm prints as
/// `execution error at (<pos>): <message>`.
pub const ERR_START: &str = "\u{2}HELMERR";
pub const ERR_END: &str = "\u{3}";

fn map(entries: Vec<(&str, Value)>) -> Table {
    entries
        .into_iter()
        .map(|(k, v)| (Arc::from(k), v))
        .collect()
}

fn chart_object(c: &Chart, is_root: bool) -> Value {
    let m = &c.metadata;
    let raw = &m.raw;
    let get_s = |k: &str| Value::String(raw.get(k).and_then(|v| v.as_str()).unwrap_or("").into());
    let list = |k: &str| match raw.get(k) {
        Some(serde_json::Value::Array(a)) => {
            Value::List(a.iter().map(|x| crate::yaml::from_json(x, false)).collect())
        }
        _ => Value::List(Arc::from(vec![])),
    };
    let maintainers = match raw.get("maintainers") {
        Some(serde_json::Value::Array(a)) => Value::List(
            a.iter()
                .map(|x| {
                    let o = x.as_object();
                    let f = |k: &str| {
                        Value::String(
                            o.and_then(|o| o.get(k))
                                .and_then(|v| v.as_str())
                                .unwrap_or("")
                                .into(),
                        )
                    };
                    Value::Map(Arc::new(map(vec![
                        ("Name", f("name")),
                        ("Email", f("email")),
                        ("URL", f("url")),
                    ])))
                })
                .collect(),
        ),
        _ => Value::List(Arc::from(vec![])),
    };
    let deps = Value::List(
        m.dependencies
            .iter()
            .map(|d| {
                Value::Map(Arc::new(map(vec![
                    ("Name", Value::String(d.name.as_str().into())),
                    ("Version", Value::String(d.version.as_str().into())),
                    ("Repository", Value::String(d.repository.as_str().into())),
                    ("Condition", Value::String(d.condition.as_str().into())),
                    (
                        "Tags",
                        Value::List(
                            d.tags
                                .iter()
                                .map(|t| Value::String(t.as_str().into()))
                                .collect(),
                        ),
                    ),
                    ("Enabled", Value::Bool(true)),
                    (
                        "ImportValues",
                        Value::List(
                            d.import_values
                                .iter()
                                .map(|x| crate::yaml::from_json(x, false))
                                .collect(),
                        ),
                    ),
                    ("Alias", Value::String(d.alias.as_str().into())),
                ])))
            })
            .collect(),
    );
    let annotations = match raw.get("annotations") {
        Some(v @ serde_json::Value::Object(_)) => crate::yaml::from_json(v, false),
        _ => Value::Map(Arc::new(Table::new())),
    };
    Value::Map(Arc::new(map(vec![
        ("Name", Value::String(m.name.as_str().into())),
        ("Home", get_s("home")),
        ("Sources", list("sources")),
        ("Version", Value::String(m.version.as_str().into())),
        ("Description", get_s("description")),
        ("Keywords", list("keywords")),
        ("Maintainers", maintainers),
        ("Icon", get_s("icon")),
        ("APIVersion", Value::String(m.api_version.as_str().into())),
        ("Condition", get_s("condition")),
        ("Tags", get_s("tags")),
        ("AppVersion", get_s("appVersion")),
        (
            "Deprecated",
            Value::Bool(
                raw.get("deprecated")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false),
            ),
        ),
        ("Annotations", annotations),
        ("KubeVersion", get_s("kubeVersion")),
        ("Dependencies", deps),
        ("Type", get_s("type")),
        ("IsRoot", Value::Bool(is_root)),
    ])))
}

fn chart_path(c: &Chart, parent_path: &str) -> String {
    if parent_path.is_empty() {
        c.name().to_string()
    } else {
        format!("{parent_path}/charts/{}", c.name())
    }
}

/// The templates of `c` and its subcharts, by name; `charts` counts the
/// charts visited, in the order [`collect`] visits them.
fn list_templates<'c>(
    c: &'c Chart,
    parent_path: &str,
    charts: &mut usize,
    out: &mut BTreeMap<String, Source<'c>>,
) {
    let chart = *charts;
    *charts += 1;
    let full_path = chart_path(c, parent_path);
    for sub in &c.dependencies {
        list_templates(sub, &full_path, charts, out);
    }
    let base_path: Arc<str> = Arc::from(format!("{full_path}/templates"));
    for t in &c.templates {
        let base = t.name.rsplit('/').next().unwrap_or(&t.name);
        if c.is_library() && !base.starts_with('_') {
            continue;
        }
        out.insert(
            format!("{full_path}/{}", t.name),
            Source {
                data: &t.data,
                chart,
                base_path: base_path.clone(),
            },
        );
    }
}

/// The objects the templates of `c` (and of its subcharts) see, one table per
/// chart in the order [`list_templates`] visits them.
fn collect(
    c: &Chart,
    parent_path: &str,
    values: Value,
    p: &Prepared,
    is_root: bool,
    out: &mut Vec<Arc<Table>>,
) -> Arc<Table> {
    let id = out.len();
    out.push(Arc::default());
    let full_path = chart_path(c, parent_path);
    let mut subcharts = Table::new();
    let mut next = map(vec![
        ("Chart", chart_object(c, is_root)),
        ("Files", files::object(&c.files)),
        ("Release", p.release.clone()),
        ("Capabilities", p.capabilities.clone()),
        ("Values", values.clone()),
    ]);
    for sub in &c.dependencies {
        let sub_vals = match &values {
            Value::Map(m) => match m.get(sub.name()) {
                Some(v @ Value::Map(_)) => v.clone(),
                _ => Value::Map(Arc::new(Table::new())),
            },
            _ => Value::Map(Arc::new(Table::new())),
        };
        let obj = collect(sub, &full_path, sub_vals, p, false, out);
        subcharts.insert(sub.name().into(), Value::Map(obj));
    }
    next.insert("Subcharts".into(), Value::Map(Arc::new(subcharts)));
    let next = Arc::new(next);
    out[id] = next.clone();
    next
}

/// Helm parses deeper paths first, so a parent chart's `define` overrides a
/// subchart's definition of the same name.
fn parse_order(names: &mut [&String]) {
    names.sort_by(|a, b| {
        let (ca, cb) = (a.matches('/').count(), b.matches('/').count());
        cb.cmp(&ca).then_with(|| b.cmp(a))
    });
}

/// gotmpl trims the text after a `{{- /* comment */}}` as if the comment
/// closed with `-}}`; Go does not. An empty action after such a comment takes
/// the trim instead, leaving the text intact.
fn protect_comment_trim(src: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    // `src[..copied]` is in `out`; `{{-` before `from` is inside a comment
    // already handled.
    let (mut copied, mut from) = (0, 0);
    for i in memchr::memmem::find_iter(src.as_bytes(), "{{-") {
        if i < from {
            continue;
        }
        from = i + 3;
        let body = src[i + 3..].trim_start();
        if !body.starts_with("/*") {
            continue;
        }
        let Some(end) = memchr::memmem::find(body.as_bytes(), b"*/") else {
            continue;
        };
        let tail = body[end + 2..].trim_start();
        if tail.starts_with("}}") {
            let consumed = src.len() - tail.len() + 2;
            let o = out.get_or_insert_with(|| String::with_capacity(src.len() + 16));
            o.push_str(&src[copied..consumed]);
            o.push_str("{{\"\"}}");
            copied = consumed;
            from = consumed;
        }
    }
    match out {
        None => Cow::Borrowed(src),
        Some(mut o) => {
            o.push_str(&src[copied..]);
            Cow::Owned(o)
        }
    }
}

fn parse_with(name: &str, src: &str, template_as_include: bool) -> Result<Tree, Error> {
    parse_adapted(name, src, template_as_include).map_err(|e| parse_error(name, &e))
}

fn parse_adapted(
    name: &str,
    src: &str,
    template_as_include: bool,
) -> Result<Tree, gotmpl::TemplateError> {
    let fixed = protect_comment_trim(src);
    let adapt = Adapt {
        file: name,
        template_as_include,
        defined: funcs::defined,
    };
    crate::template::parse(Some(name), fixed.as_ref(), Some(adapt))
}

/// Parses a `tpl` text (positions name `name`, the calling template);
/// errors as Helm words them, for its template named `gotpl`.
pub fn parse_tpl(name: &str, text: &str) -> Result<Tree, String> {
    parse_adapted(name, text, true).map_err(|e| match e {
        gotmpl::TemplateError::Parse { line, message, .. }
        | gotmpl::TemplateError::Lex { line, message, .. } => {
            format!("template: gotpl:{line}: {message}")
        }
        other => other.to_string(),
    })
}

fn parse_error(name: &str, e: &gotmpl::TemplateError) -> Error {
    match e {
        gotmpl::TemplateError::Parse { line, message, .. }
        | gotmpl::TemplateError::Lex { line, message, .. } => {
            Error::Parse(format!("parse error at ({name}:{line}): {message}"))
        }
        other => Error::Parse(format!("parse error in ({name}): {other}")),
    }
}

/// Turns an execution error into Helm's message.
pub fn exec_error(file: &str, e: &gotmpl::TemplateError) -> Error {
    let text = e.to_string();
    if let Some(start) = text.find(ERR_START) {
        let rest = &text[start + ERR_START.len()..];
        let end = rest.find(ERR_END).unwrap_or(rest.len());
        let body = &rest[..end];
        if let Some((pos, msg)) = body.split_once('\u{4}') {
            if let Some(generic) = msg.strip_prefix('\u{5}') {
                return Error::Exec(format!("template: {pos}: {generic}"));
            }
            return Error::Exec(format!("execution error at ({pos}): {msg}"));
        }
    }
    let text = text.strip_prefix("execution error: ").unwrap_or(&text);
    Error::Exec(format!("template: {file}: {text}"))
}

/// The shared state behind `include` and `tpl`.
#[derive(Default)]
pub struct Shared {
    /// The chart's definitions and the templates parsed before any runs.
    pub template: OnceLock<Set>,
    pub funcs: OnceLock<Funcs>,
    pub overlay: mutation::Overlay,
    pub tpl_cache: TplCache,
    /// The templates parsed only when they run (see [`Parsed::Later`]), by
    /// name: run by the render, and by `include` of their path.
    pub later: std::collections::HashMap<String, LaterTemplate>,
}

/// A template parsed only when it runs or is included by its path.
pub struct LaterTemplate {
    data: FileData,
    tree: std::sync::Mutex<LaterTree>,
    /// Another template included it by its path, and may again.
    included: AtomicBool,
}

impl LaterTemplate {
    fn parse(&self, name: &str) -> Result<Tree, Error> {
        let bytes = self.data.read()?;
        parse_with(name, &chart_dir::text(bytes), false)
    }
}

/// A [`LaterTemplate`]'s tree: not parsed yet (or parsed early, while the
/// values were checked), or kept for the next `include` of its path.
enum LaterTree {
    Waiting(Option<Tree>),
    Kept(Arc<Tree>),
}

impl Shared {
    /// What a template runs with: the chart's definitions, the functions
    /// and the mutation record.
    pub fn env(&self) -> Result<Env<'_>, Error> {
        match (self.template.get(), self.funcs.get()) {
            (Some(set), Some(funcs)) => Ok(Env {
                set,
                funcs,
                overlay: &self.overlay,
            }),
            _ => Err(Error::Exec("template set missing".into())),
        }
    }

    /// The tree of the template `name` (one parsed only when it runs), for
    /// an `include` of its path: parsed on first use, then kept for the
    /// next (another `include` of it, or its own run, again after a
    /// mutation) until [`Shared::ran`] lets it go. `None` when no template
    /// parsed only when it runs has that name.
    pub fn included_tree(&self, name: &str) -> Option<Result<Arc<Tree>, Error>> {
        let later = self.later.get(name)?;
        later.included.store(true, Ordering::Relaxed);
        Some(self.kept_tree(later, name))
    }

    fn kept_tree(&self, later: &LaterTemplate, name: &str) -> Result<Arc<Tree>, Error> {
        // Held while parsing: a second thread wanting the same tree waits
        // for it rather than parsing it too.
        let mut tree = later.tree.lock().unwrap_or_else(|e| e.into_inner());
        let parsed = match &mut *tree {
            LaterTree::Kept(t) => return Ok(t.clone()),
            LaterTree::Waiting(early) => match early.take() {
                Some(t) => t,
                None => later.parse(name)?,
            },
        };
        let parsed = Arc::new(parsed);
        *tree = LaterTree::Kept(parsed.clone());
        Ok(parsed)
    }

    /// Runs the template `name`, one parsed only when it runs, on `vals`
    /// for the render; `None` when there is no such template. Its tree is
    /// dropped once it ran, unless kept (see [`Shared::ran`]): the trees of
    /// a chart's templates (most of a render's memory) are never all held
    /// at once.
    fn run_later(&self, name: &str, vals: &Value) -> Option<Result<String, Error>> {
        let later = self.later.get(name)?;
        let env = match self.env() {
            Ok(env) => env,
            Err(e) => return Some(Err(e)),
        };
        let early = {
            let mut tree = later.tree.lock().unwrap_or_else(|e| e.into_inner());
            match &mut *tree {
                LaterTree::Waiting(early) => Some(early.take()),
                LaterTree::Kept(_) => None,
            }
        };
        let out = match early {
            // Not kept: nobody else wants this tree.
            Some(early) => {
                let tree = match early.map_or_else(|| later.parse(name), Ok) {
                    Ok(tree) => tree,
                    Err(e) => return Some(Err(e)),
                };
                env.run_main(&tree, vals)
            }
            None => match self.kept_tree(later, name) {
                Ok(tree) => {
                    let out = env.run_main(&tree, vals);
                    self.ran(name);
                    out
                }
                Err(e) => return Some(Err(e)),
            },
        };
        Some(out.map_err(|e| exec_error(name, &e)))
    }

    /// The template `name` has run: its kept tree is dropped unless it may
    /// be wanted again, when another template included it, or when its
    /// result will be dropped and it runs again (see [`superseded`]).
    fn ran(&self, name: &str) {
        let Some(later) = self.later.get(name) else {
            return;
        };
        if !later.included.load(Ordering::Relaxed) && !superseded() {
            *later.tree.lock().unwrap_or_else(|e| e.into_inner()) = LaterTree::Waiting(None);
        }
    }

    /// The parse error of a template parsed only when it runs, if it has
    /// one (its text was read when it was listed).
    fn later_parse_error(&self, name: &str) -> Option<Error> {
        self.later.get(name)?.parse(name).err()
    }
}

/// The template sets `tpl` built, by file name and text. Charts call `tpl`
/// in loops with the same text; each call would otherwise parse it again.
#[derive(Default)]
pub struct TplCache(std::sync::Mutex<TplEntries>);

/// Template sets by file name, then by text (two levels, so a lookup needs
/// no owned key); `count` is the number of sets held.
#[derive(Default)]
pub struct TplEntries {
    by_name: std::collections::HashMap<String, std::collections::HashMap<String, Arc<Set>>>,
    count: usize,
}

impl TplCache {
    /// Sets kept; each holds a parsed text.
    const MAX_ENTRIES: usize = 64;

    pub fn get(&self, name: &str, text: &str) -> Option<Arc<Set>> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries.by_name.get(name)?.get(text).cloned()
    }

    pub fn insert(&self, name: &str, text: &str, t: Arc<Set>) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.count >= Self::MAX_ENTRIES {
            entries.by_name.clear();
            entries.count = 0;
        }
        let texts = entries.by_name.entry(name.to_string()).or_default();
        if texts.insert(text.to_string(), t).is_none() {
            entries.count += 1;
        }
    }
}

/// A rendered template's text and what [`crate::output::scan`] read of it.
pub type Done = (String, Result<crate::output::Scanned, Error>);

/// Renders the templates of `chart` (resolved for the user's values; `loaded`
/// is the chart as loaded, for errors). `prepare` checks and coalesces the
/// values while the templates are read and parsed: it runs first in Helm's
/// order, so its error comes before any template's.
pub fn render(
    loaded: &Chart,
    chart: &Chart,
    prepare: impl FnOnce() -> Result<Prepared, Error> + Send,
) -> Result<BTreeMap<String, Done>, Error> {
    let mut tpls = BTreeMap::new();
    list_templates(chart, "", &mut 0, &mut tpls);
    let mut names: Vec<&String> = tpls.keys().collect();
    parse_order(&mut names);
    let sources: Vec<(&str, &FileData)> =
        names.iter().map(|n| (n.as_str(), tpls[*n].data)).collect();
    // The values are checked, and the objects (`.Files` copies every file)
    // built, while the other thread reads and parses.
    let (mut parsed, side) = parse_all(&sources, || {
        let p = prepare()?;
        let mut objects = Vec::new();
        collect(
            chart,
            "",
            Value::Map(Arc::new(p.values.clone())),
            &p,
            true,
            &mut objects,
        );
        Ok(objects)
    });
    let objects = side?;
    // An unreadable template (of any chart, enabled or not) is refused after
    // the values checks and before any parse error, naming the first one in
    // load order.
    loaded.read_templates()?;
    parse_named_later(&names, &mut parsed);
    if parsed.iter().any(Result::is_err) {
        return Err(first_parse_error(&names, parsed));
    }
    let parsed: Vec<Parsed> = parsed.into_iter().flatten().collect();
    let weights: Vec<Weight> = parsed.iter().map(Parsed::weight).collect();
    let mut later = std::collections::HashMap::new();
    let mut now = Vec::new();
    for (name, p) in names.iter().zip(parsed) {
        match p {
            Parsed::Now(tree, ..) => now.push((*name, tree)),
            Parsed::Later { early, .. } => {
                let t = LaterTemplate {
                    data: tpls[*name].data.clone(),
                    tree: std::sync::Mutex::new(LaterTree::Waiting(early)),
                    included: AtomicBool::new(false),
                };
                later.insert((*name).clone(), t);
            }
        }
    }
    let shared = Arc::new(Shared {
        later,
        ..Default::default()
    });
    let _ = shared.funcs.set(funcs::all(&shared));
    let _ = shared.template.set(build_set(now));
    let env = shared.env()?;
    // Helm runs templates in its parse order; it matters when templates
    // mutate shared values (`set .Values ...`).
    let (jobs, weights): (Vec<&String>, Vec<Weight>) = names
        .iter()
        .copied()
        .zip(weights)
        .filter(|(name, _)| !name.rsplit('/').next().unwrap_or(name).starts_with('_'))
        .unzip();
    let run = |name: &String| -> Result<Done, Error> {
        let r = &tpls[name];
        let mut vals = objects
            .get(r.chart)
            .map(|o| Table::clone(o))
            .ok_or_else(|| Error::Exec(format!("no objects for the chart of {name}")))?;
        vals.insert(
            "Template".into(),
            Value::Map(Arc::new(map(vec![
                ("Name", Value::String(name.as_str().into())),
                ("BasePath", Value::String(r.base_path.clone())),
            ]))),
        );
        let vals = Value::Map(Arc::new(vals));
        let out = match shared.run_later(name, &vals) {
            None => env
                .run_named(name, &vals)
                .map_err(|e| exec_error(name, &e))?,
            Some(out) => out?,
        };
        // Go prints a missing value as `<no value>`; Helm drops it.
        let out = if memchr::memmem::find(out.as_bytes(), b"<no value>").is_some() {
            out.replace("<no value>", "")
        } else {
            out
        };
        let scanned = crate::output::scan(name, &out);
        Ok((out, scanned))
    };
    let bytes = jobs.iter().map(|n| tpls[*n].data.size()).sum();
    let outputs = match run_all(&jobs, &weights, bytes, &objects, &run) {
        Ok(outputs) => outputs,
        // Helm parses every template before it runs one: a parse error in
        // any template parsed only when it runs comes first.
        Err(e) => {
            let mut later = names.iter().filter_map(|n| shared.later_parse_error(n));
            return Err(later.next().unwrap_or(e));
        }
    };
    let rendered: BTreeMap<String, Done> = jobs
        .iter()
        .map(|name| (*name).clone())
        .zip(outputs)
        .collect();
    drop(tpls);
    drop_in_background((shared, objects));
    Ok(rendered)
}

/// The chart's template set: the trees parsed now (`now`, in parse order)
/// and their definitions. A later definition of a name replaces an earlier
/// one unless it is empty.
fn build_set(now: Vec<(&String, Tree)>) -> Set {
    let mut set = Set::default();
    for (name, tree) in now {
        set.add(name, Arc::new(tree));
    }
    set
}

/// A guess at what running a template costs, to start the costly ones
/// first: its actions, and more for each `include` or `tpl`, which run
/// other templates. Size alone misleads: a large template wrapped in a
/// disabled `if` costs little.
fn weight(text: &str) -> Weight {
    let count = |word: &str| memchr::memmem::find_iter(text.as_bytes(), word).count();
    count("{{") + 4 * (count("include") + count("tpl"))
}

/// Runs the templates `jobs` (of `bytes` of source; `weights` guess what
/// each costs) and returns their outputs in order, or the first error in
/// that order. With two cores and enough templates to gain, two threads run
/// them, each template from the state that Helm's one-after-the-other run
/// would give it (see [`mutation::State`]): a template that mutated
/// a map the others can reach ends a round. The results of later templates
/// that read none of what it changed are kept; the others run again in the
/// next round, which starts after it with its mutations. Templates after it
/// need not wait for that: they may start from its mutations as it makes
/// them ([`mutation::Ahead`]), and those results are kept when it made no
/// further mutation they read.
fn run_all(
    jobs: &[&String],
    weights: &[Weight],
    bytes: usize,
    objects: &[Arc<Table>],
    run: &(dyn Fn(&String) -> Result<Done, Error> + Sync),
) -> Result<Vec<Done>, Error> {
    let mut out = Output::default();
    if jobs.len() < 2 || !second_thread_pays(bytes) {
        for name in jobs {
            out.push(run(name))?;
        }
        return Ok(out.texts);
    }
    let roots: Vec<Value> = objects.iter().map(|o| Value::Map(o.clone())).collect();
    let mut state = Arc::new(mutation::State::new(&roots));
    let mut slots: Vec<Option<Outcome>> = jobs.iter().map(|_| None).collect();
    while out.texts.len() < jobs.len() {
        let start = out.texts.len();
        if slots[start..].iter().any(Option::is_none) {
            round(jobs, weights, start, out.bytes, &state, run, &mut slots);
        }
        // The results in order up to one not run yet or one that mutated.
        for k in start..jobs.len() {
            // A run from mutations that were not kept runs again.
            if matches!(slots[k], Some((.., mutation::Base::Ahead { .. }))) {
                slots[k] = None;
            }
            let Some((r, mutations, ..)) = slots[k].take() else {
                break;
            };
            out.push(r)?;
            if let Some(m) = mutations {
                for later in &mut slots[k + 1..] {
                    match later {
                        Some((.., reads, base)) if mutation::holds(base, reads, k, &m) => {
                            *base = mutation::Base::Round;
                        }
                        _ => *later = None,
                    }
                }
                state = Arc::new(state.commit(m));
                break;
            }
        }
    }
    Ok(out.texts)
}

/// A template's result, its mutations of shared maps, what it read and
/// what it started from.
type Outcome = (
    Result<Done, Error>,
    Option<mutation::Mutations>,
    mutation::Reads,
    mutation::Base,
);

/// The outputs kept so far, in order, and their size.
#[derive(Default)]
struct Output {
    texts: Vec<Done>,
    bytes: usize,
}

impl Output {
    fn push(&mut self, r: Result<Done, Error>) -> Result<(), Error> {
        let text = r?;
        self.bytes += text.0.len();
        if self.bytes > MAX_OUTPUT_BYTES {
            return Err(Error::Output(format!(
                "rendered output exceeds {MAX_OUTPUT_BYTES} bytes"
            )));
        }
        self.texts.push(text);
        Ok(())
    }
}

/// One round of [`run_all`] from `jobs[start]` on two threads, from
/// `state`: it fills `slots` (the results known so far, by job) up to the
/// first template (in order) that mutated shared maps, failed, or passed the
/// output limit, and keeps the results of the later templates that
/// finished without error.
///
/// One thread takes the templates in order, the other the costliest first
/// (by `weights`), so that a long template is not left to the end of a
/// round (bitnami-redis: the replica set template, which stores the
/// generated password, is the eleventh of forty and the longest).
fn round(
    jobs: &[&String],
    weights: &[Weight],
    start: usize,
    kept_bytes: usize,
    state: &Arc<mutation::State>,
    run: &(dyn Fn(&String) -> Result<Done, Error> + Sync),
    slots: &mut [Option<Outcome>],
) {
    // Templates already run (and still valid) are not run again; one of
    // them that mutated ends this round.
    let taken: Vec<AtomicBool> = slots.iter().map(|s| AtomicBool::new(s.is_some())).collect();
    let first_mutation =
        (start..jobs.len()).find(|&k| slots[k].as_ref().is_some_and(|(_, m, ..)| m.is_some()));
    let ahead = Arc::new(mutation::Ahead::new(state));
    let mut heavy_first: Vec<usize> = (start..jobs.len()).collect();
    heavy_first.sort_by_key(|&k| std::cmp::Reverse(weights[k]));
    let in_order = AtomicUsize::new(start);
    let by_weight = AtomicUsize::new(0);
    // The first template (in order) after which results are not needed.
    let cut = Arc::new(AtomicUsize::new(first_mutation.unwrap_or(jobs.len() - 1)));
    let bytes = AtomicUsize::new(kept_bytes);
    // Past the cut, a template may still run from the mutations a template
    // before it published (and is still making), unless the round ends
    // before that one.
    let ahead_for = |k: usize| {
        ahead
            .by()
            .is_some_and(|by| by < k && by <= cut.load(Ordering::Relaxed))
    };
    let wanted = |k: usize| k <= cut.load(Ordering::Relaxed) || ahead_for(k);
    // The next template for this thread. Every template up to the cut is
    // taken by one of them: the in-order thread only stops past the cut,
    // and the cut only moves down.
    let next = |heavy: bool| -> Option<usize> {
        loop {
            let k = if heavy {
                *heavy_first.get(by_weight.fetch_add(1, Ordering::Relaxed))?
            } else {
                in_order.fetch_add(1, Ordering::Relaxed)
            };
            if k >= jobs.len() || (!heavy && !wanted(k)) {
                return None;
            }
            if wanted(k) && !taken[k].swap(true, Ordering::Relaxed) {
                return Some(k);
            }
        }
    };
    let work = |heavy: bool| -> Vec<(usize, Outcome)> {
        let mut done = Vec::new();
        while let Some(k) = next(heavy) {
            let (r, mutations, reads, base) = loop {
                let (from, base) = ahead.state_for(k);
                // A run from published mutations is dropped only when the
                // round ends before the template that made them.
                let last = match base {
                    mutation::Base::Ahead { by, .. } => by,
                    mutation::Base::Round => k,
                };
                let (r, mutations, reads) = {
                    let _running = Running::set(&cut, last);
                    mutation::speculate(&from, Some((&ahead, k)), || run(jobs[k]))
                };
                // A run from the round's state that failed (or stopped
                // because it read what an earlier template replaced) runs
                // again at once from that template's published mutations.
                let again = r.is_err() && matches!(base, mutation::Base::Round) && ahead_for(k);
                if !again {
                    break (r, mutations, reads, base);
                }
            };
            let len = r.as_ref().map_or(0, |(text, _)| text.len());
            let over = bytes.fetch_add(len, Ordering::Relaxed) + len > MAX_OUTPUT_BYTES;
            if mutations.is_some() || r.is_err() || over {
                cut.fetch_min(k, Ordering::Relaxed);
            }
            done.push((k, (r, mutations, reads, base)));
        }
        done
    };
    // The other render thread takes the costliest-first share.
    let (mine, theirs) = rayon_core::join(|| work(false), || work(true));
    let cut = cut.load(Ordering::Relaxed);
    for (k, outcome) in mine.into_iter().chain(theirs) {
        // Past the cut, a failure may be the early stop of a template whose
        // result was going to be dropped: it runs again.
        if k <= cut || outcome.0.is_ok() {
            slots[k] = Some(outcome);
        }
    }
    // Every template up to the cut has run (one thread alone runs them all
    // when the other could not start); should one be missing all the same,
    // it runs here.
    for k in start..=cut {
        if slots[k].is_none() {
            let (r, m, reads) = mutation::speculate(state, None, || run(jobs[k]));
            slots[k] = Some((r, m, reads, mutation::Base::Round));
        }
    }
}

thread_local! {
    /// The cut of the round this thread runs a template of, and the
    /// template's place in it.
    static RUNNING: std::cell::RefCell<Option<(Arc<AtomicUsize>, usize)>> =
        const { std::cell::RefCell::new(None) };
}

/// Marks this thread as running template `k` of a round until dropped.
struct Running;

impl Running {
    fn set(cut: &Arc<AtomicUsize>, k: usize) -> Running {
        RUNNING.with(|r| *r.borrow_mut() = Some((cut.clone(), k)));
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.with(|r| *r.borrow_mut() = None);
    }
}

/// Whether the template this thread runs will have its result dropped: an
/// earlier one in the round mutated values it may read (bitnami charts store
/// a generated password). `include` and `tpl` then stop it, so the next
/// round starts without waiting for it.
pub fn superseded() -> bool {
    RUNNING.with(|r| {
        r.borrow()
            .as_ref()
            .is_some_and(|(cut, k)| cut.load(Ordering::Relaxed) < *k)
    }) || mutation::stale()
}

/// Whether parsing or running `bytes` of templates gains from a second
/// thread: two render threads (two cores), and at least 16 KiB. Below, the
/// hand-over costs more than it saves; at 16-64 KiB it saved 13-21% of a
/// render once the threads were started ahead (podinfo,
/// kube-state-metrics, prometheus-node-exporter).
pub fn second_thread_pays(bytes: usize) -> bool {
    bytes >= 16 << 10 && rayon_core::current_num_threads() >= 2
}

/// Reads and parses `(name, file)` templates, results in the same order,
/// and runs `meanwhile` on this thread. With two or more cores, a second
/// thread parses while `meanwhile` runs and both parse after it (parsing is
/// a third of a render): each takes the next file from a shared counter,
/// largest first, since cost follows the density of actions more than size.
/// The caller still builds the template set in parse order. When `meanwhile`
/// fails, parsing stops and the results are left out.
fn parse_all<'c, T: Send>(
    sources: &[(&str, &'c FileData)],
    meanwhile: impl FnOnce() -> Result<T, Error> + Send,
) -> (Vec<Result<Parsed<'c>, Error>>, Result<T, Error>) {
    let total: usize = sources.iter().map(|(_, d)| d.size()).sum();
    if !second_thread_pays(total) {
        let side = meanwhile();
        if side.is_err() {
            return (Vec::new(), side);
        }
        let parsed = sources
            .iter()
            .map(|(name, data)| read_and_parse(name, data))
            .collect();
        return (parsed, side);
    }
    let mut by_size: Vec<usize> = (0..sources.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(sources[i].1.size()));
    let next = AtomicUsize::new(0);
    let work = || -> Vec<(usize, Result<Parsed<'c>, Error>)> {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = by_size.get(k) else {
                return done;
            };
            let (name, data) = sources[i];
            done.push((i, read_and_parse(name, data)));
        }
    };
    let checked = AtomicBool::new(false);
    // While this thread is still checking values, the helper also parses
    // the templates that could wait until they run.
    let helper_work = || {
        let mut done = work();
        // Costliest first: those start the round, on the thread that takes
        // the costliest first (see `round`).
        let mut waiting: Vec<(Weight, usize, &mut Option<Tree>, &str)> = done
            .iter_mut()
            .filter_map(|(i, r)| match r {
                Ok(Parsed::Later {
                    text,
                    early,
                    weight,
                    ..
                }) => Some((*weight, *i, early, &**text)),
                _ => None,
            })
            .collect();
        waiting.sort_by_key(|(w, ..)| std::cmp::Reverse(*w));
        for (_, i, early, text) in waiting {
            if checked.load(Ordering::Relaxed) {
                break;
            }
            *early = parse_with(sources[i].0, text, false).ok();
        }
        done
    };
    // The other render thread takes the helper's share.
    let ((mine, side), theirs) = rayon_core::join(
        || {
            let side = meanwhile();
            checked.store(true, Ordering::Relaxed);
            let mine = if side.is_ok() {
                work()
            } else {
                // The helper stops after the file it is parsing.
                next.store(by_size.len(), Ordering::Relaxed);
                Vec::new()
            };
            (mine, side)
        },
        helper_work,
    );
    if side.is_err() {
        return (Vec::new(), side);
    }
    let mut out: Vec<Option<Result<Parsed<'c>, Error>>> =
        (0..sources.len()).map(|_| None).collect();
    for (i, r) in mine.into_iter().chain(theirs) {
        out[i] = Some(r);
    }
    let parsed = out
        .into_iter()
        .zip(sources)
        .map(|(r, (name, data))| {
            // Each file is taken by one of the two; should one be missing,
            // it is parsed here.
            r.unwrap_or_else(|| read_and_parse(name, data))
        })
        .collect();
    (parsed, side)
}

/// A template read, and parsed now or when it runs.
enum Parsed<'c> {
    /// Partials, and templates that may define: every template may call
    /// their definitions, so they are parsed before any runs.
    Now(Tree, Named, Weight),
    /// A template without `define` or `block`: only it (or an `include` of
    /// its path) runs its tree, so it is parsed when first wanted and its
    /// tree dropped when no longer (see [`Shared::ran`]), and the trees of a
    /// chart's templates (most of a render's memory) are never all held at
    /// once.
    Later {
        text: Cow<'c, str>,
        named: Named,
        /// Its tree, when a thread was idle while the values were checked.
        early: Option<Tree>,
        weight: Weight,
    },
}

impl Parsed<'_> {
    fn weight(&self) -> Weight {
        match self {
            Parsed::Now(.., w) | Parsed::Later { weight: w, .. } => *w,
        }
    }
}

/// A guess at what running a template costs (see [`weight`]).
type Weight = usize;

/// The names a template's `template "name"` actions call.
type Named = Vec<String>;

/// Reads a template (deferred at load), and parses it now unless it can
/// wait until it runs. A read error here is reported by the caller's
/// `read_templates`, which names the first unreadable template in load order.
fn read_and_parse<'c>(name: &str, data: &'c FileData) -> Result<Parsed<'c>, Error> {
    let text = chart_dir::text(data.read()?);
    let has = |word: &str| memchr::memmem::find(text.as_bytes(), word.as_bytes()).is_some();
    let named = template_literals(&text);
    let partial = name.rsplit('/').next().unwrap_or(name).starts_with('_');
    if partial || has("define") || has("block") {
        let weight = if partial { 0 } else { weight(&text) };
        let tree = parse_with(name, &text, false)?;
        return Ok(Parsed::Now(tree, named, weight));
    }
    Ok(Parsed::Later {
        weight: weight(&text),
        text,
        named,
        early: None,
    })
}

/// The string literals after the word `template` in `text`: every name a
/// `{{template "name"}}` action can call (Go requires a constant name), and
/// some more.
fn template_literals(text: &str) -> Vec<String> {
    memchr::memmem::find_iter(text.as_bytes(), "template")
        .filter_map(|i| {
            let rest = text[i + "template".len()..].trim_start();
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '`')?;
            let body = &rest[1..];
            body.find(quote).map(|end| body[..end].to_string())
        })
        .collect()
}

/// Parses now the templates that would otherwise wait but that another
/// calls by name with `template` (gotmpl looks those up in the chart's set)
/// or whose name a definition also has (the set then holds whichever Helm's
/// parse order gives).
fn parse_named_later(names: &[&String], parsed: &mut [Result<Parsed, Error>]) {
    let mut wanted: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for p in parsed.iter() {
        match p {
            Ok(Parsed::Now(tree, named, _)) => {
                wanted.extend(tree.defines.iter().map(|d| d.name.as_str()));
                wanted.extend(named.iter().map(String::as_str));
            }
            Ok(Parsed::Later { named, .. }) => wanted.extend(named.iter().map(String::as_str)),
            Err(_) => {}
        }
    }
    let wanted: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(i, n)| {
            matches!(parsed[*i], Ok(Parsed::Later { .. })) && wanted.contains(n.as_str())
        })
        .map(|(i, _)| i)
        .collect();
    for i in wanted {
        if let Ok(Parsed::Later { text, weight, .. }) = &parsed[i] {
            let weight = *weight;
            parsed[i] =
                parse_with(names[i], text, false).map(|tree| Parsed::Now(tree, Vec::new(), weight));
        }
    }
}

/// The first parse error in parse order, also parsing the templates that
/// would wait; for a render that has one.
fn first_parse_error(names: &[&String], parsed: Vec<Result<Parsed, Error>>) -> Error {
    for (name, p) in names.iter().zip(parsed) {
        match p {
            Err(e) => return e,
            Ok(Parsed::Later { text, .. }) => {
                if let Err(e) = parse_with(name, &text, false) {
                    return e;
                }
            }
            Ok(Parsed::Now(..)) => {}
        }
    }
    Error::Parse("a template failed to parse".into())
}

/// Freeing the template set (partials and definitions; the other templates'
/// trees are freed as they finish) and the objects is still a visible part
/// of a render: another render thread does it, so the caller gets its
/// output first; the CLI exits without waiting for it.
fn drop_in_background<T: Send + 'static>(value: T) {
    rayon_core::spawn(move || drop(value));
}
