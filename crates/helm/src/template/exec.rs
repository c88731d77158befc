//! Runs parsed templates ([`super::ast`]): Go's text/template semantics,
//! with what Helm's Go runtime does that a plain text/template executor
//! does not, done where it happens rather than by rewriting the tree:
//!
//! - Field reads (`.a.b`, `$x.a`, `(f).a`) follow the in-place dict
//!   mutations `set`/`merge` record ([`Overlay`]), and
//!   `.Capabilities.APIVersions.Has` is a method of a string list.
//! - A field chain given arguments or a piped value is a method call
//!   (`.Files.Get "x"`): the chain reads a function, which is called.
//! - A printed value is formatted the Go way (`1e+06`, `map[a:1]`).
//! - `$_ := set $d "k" v` changes the dict `$d` holds, in Go; gotmpl values
//!   are immutable, so the changed dict is assigned back to `$d`.
//!
//! gotmpl's executor did these through functions a rewriting pass inserted
//! (`__field`, `__print`, `call`): a name lookup among 250 functions and an
//! argument vector for every field read and every print. Functions are found
//! by hash here, and their arguments are gathered on one stack per run.
//! Error texts are gotmpl 0.6.1's (and, for field reads, those of the
//! `__field` function it replaces), which `exec_error`, `include` and the
//! error tests expect.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use gotmpl::parse::{Number, SmolStr};
use gotmpl::{TemplateError, Value, ValueFunc};

use super::ast::{Branch, Command, Expr, List, Node, Pipe, Tree};

use crate::mutation::Overlay;

/// gotmpl's limits: nested actions per run, and range iterations per run.
const MAX_DEPTH: usize = 200;
const MAX_RANGE_ITERATIONS: u64 = 10_000_000;

/// The functions templates call, by name: Go's builtins, and whatever is
/// [`insert`](Funcs::insert)ed over them (Sprig's `index`, ...).
pub struct Funcs(HashMap<Box<str>, ValueFunc, BuildHasherDefault<Fnv>>);

impl Default for Funcs {
    fn default() -> Self {
        Funcs(
            super::builtins::all()
                .into_iter()
                .map(|(name, f)| (name.into(), f))
                .collect(),
        )
    }
}

impl Funcs {
    pub fn insert(&mut self, name: &str, f: ValueFunc) {
        self.0.insert(name.into(), f);
    }

    pub fn get(&self, name: &str) -> Option<&ValueFunc> {
        self.0.get(name)
    }
}

/// FNV-1a: the keys are short names, and the maps are built per render from
/// our function names and the chart's own template names; SipHash's
/// resistance to chosen collisions buys nothing there, and costs a visible
/// share of lookups made for nearly every action.
#[derive(Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Templates by name: a file's main list or one of its definitions, each
/// in its file's tree, which all of them share.
#[derive(Default, Clone)]
pub struct Set(HashMap<Box<str>, (Arc<Tree>, Entry), BuildHasherDefault<Fnv>>);

#[derive(Clone, Copy)]
enum Entry {
    Main,
    Define(usize),
}

impl Set {
    pub fn lookup(&self, name: &str) -> Option<(&Tree, &List)> {
        let (tree, entry) = self.0.get(name)?;
        Some(match *entry {
            Entry::Main => (tree, &tree.main),
            Entry::Define(i) => (tree, &tree.defines[i].body),
        })
    }

    fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Adds the file `name`'s tree and its definitions, as Go adds a parsed
    /// file to a template set: a later template of a name replaces an
    /// earlier one unless it is empty.
    pub fn add(&mut self, name: &str, tree: Arc<Tree>) {
        if !tree.is_empty(&tree.main) || !self.contains(name) {
            self.0.insert(name.into(), (tree.clone(), Entry::Main));
        }
        for (i, d) in tree.defines.iter().enumerate() {
            if tree.is_empty(&d.body) && self.contains(&d.name) {
                continue;
            }
            self.0
                .insert(d.name.as_str().into(), (tree.clone(), Entry::Define(i)));
        }
    }
}

/// What a run needs besides the tree: the definitions `template` calls,
/// the functions, and the mutation record field reads follow.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub set: &'a Set,
    pub funcs: &'a Funcs,
    pub overlay: &'a Overlay,
}

impl<'a> Env<'a> {
    /// Runs `list` of `tree` with `data` as dot and `$`.
    fn run(self, tree: &'a Tree, list: &'a List, data: &Value) -> Result<String, TemplateError> {
        let mut run = Run {
            env: self,
            tree,
            vars: vec![("$", data.clone())],
            frame: 0,
            depth: 0,
            iterations_left: MAX_RANGE_ITERATIONS,
            args: Vec::new(),
        };
        let mut out = String::new();
        run.list(&mut out, list, data).map_err(|stop| match stop {
            Stop::Err(e) => *e,
            Stop::Break => TemplateError::Exec("unexpected break outside of range".into()),
            Stop::Continue => TemplateError::Exec("unexpected continue outside of range".into()),
        })?;
        Ok(out)
    }

    /// Runs the main list of `tree`.
    pub fn run_main(self, tree: &'a Tree, data: &Value) -> Result<String, TemplateError> {
        self.run(tree, &tree.main, data)
    }

    /// Runs the definition (or template) `name` of the set.
    pub fn run_named(self, name: &str, data: &Value) -> Result<String, TemplateError> {
        let (tree, list) = self
            .set
            .lookup(name)
            .ok_or_else(|| TemplateError::UndefinedTemplate(name.to_string()))?;
        self.run(tree, list, data)
    }
}

/// Why a walk stopped early.
enum Stop {
    Break,
    Continue,
    Err(Box<TemplateError>),
}

impl From<TemplateError> for Stop {
    fn from(e: TemplateError) -> Self {
        Stop::Err(Box::new(e))
    }
}

type R<T> = Result<T, Stop>;

fn fail<T>(msg: String) -> R<T> {
    Err(TemplateError::Exec(msg).into())
}

/// Sprig's functions that change a dict in place.
const MUTATORS: &[&str] = &[
    "set",
    "unset",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
];

struct Run<'a> {
    env: Env<'a>,
    /// The tree of the list being run.
    tree: &'a Tree,
    /// Variables in scope, innermost last; those from `frame` on belong to
    /// the innermost `if`/`with`/`range` body.
    vars: Vec<(&'a str, Value)>,
    frame: usize,
    depth: usize,
    iterations_left: u64,
    /// The arguments of the calls being evaluated, innermost last.
    args: Vec<Value>,
}

impl<'a> Run<'a> {
    fn list(&mut self, out: &mut String, list: &'a List, dot: &Value) -> R<()> {
        let tree = self.tree;
        for node in tree.nodes(list) {
            self.node(out, node, dot)?;
        }
        Ok(())
    }

    fn node(&mut self, out: &mut String, node: &'a Node, dot: &Value) -> R<()> {
        let tree = self.tree;
        match node {
            Node::Text(_, t) => out.push_str(tree.text(*t)),
            Node::Action(_, pipe) => {
                let pipe = &tree.pipes[*pipe as usize];
                let v = self.pipeline_value(dot, pipe)?;
                if pipe.decl.is_empty() {
                    match v {
                        // Go's "missing": Helm drops it after the run.
                        Value::Nil => out.push_str("<no value>"),
                        Value::String(s) => out.push_str(&s),
                        other => out.push_str(&crate::gofmt::sprint(&other)),
                    }
                } else {
                    // `$_ := set $d "k" v` changes the dict `$d` holds in
                    // Go; ours are immutable, so `$d` gets the changed one.
                    if let Some(target) = self.mutated_variable(pipe) {
                        self.assign(target, v.clone())?;
                    }
                    self.bind_decl(pipe, v)?;
                }
            }
            Node::If(b) => self.nested(|run| run.branch(out, b, dot, false))?,
            Node::With(b) => self.nested(|run| run.branch(out, b, dot, true))?,
            Node::Range(b) => self.nested(|run| run.range(out, b, dot))?,
            Node::Template(_, name, pipe) => self.nested(|run| {
                let dot = match pipe {
                    Some(p) => run.pipeline(dot, &tree.pipes[*p as usize])?,
                    None => dot.clone(),
                };
                let (callee, list) = run
                    .env
                    .set
                    .lookup(name)
                    .ok_or_else(|| TemplateError::UndefinedTemplate(name.to_string()))?;
                // A definition sees only its own `$`, not the caller's variables.
                let vars = std::mem::replace(&mut run.vars, vec![("$", dot.clone())]);
                let frame = std::mem::replace(&mut run.frame, 0);
                let caller = std::mem::replace(&mut run.tree, callee);
                let r = run.list(out, list, &dot);
                run.vars = vars;
                run.frame = frame;
                run.tree = caller;
                r
            })?,
            Node::Break(_) => return Err(Stop::Break),
            Node::Continue(_) => return Err(Stop::Continue),
        }
        Ok(())
    }

    /// The variable a `set`/`merge`-style action mutates, when it is a
    /// plain variable other than the one declared.
    fn mutated_variable(&self, pipe: &'a Pipe) -> Option<&'a SmolStr> {
        let tree = self.tree;
        let ([cmd], [decl]) = (tree.commands(pipe), tree.names(pipe.decl)) else {
            return None;
        };
        match tree.args(cmd) {
            [Expr::Identifier(_, f), Expr::Variable(_, v, fields), ..]
                if MUTATORS.contains(&f.as_str())
                    && fields.is_empty()
                    && v.as_str() != "$"
                    && v != decl =>
            {
                Some(v)
            }
            _ => None,
        }
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self) -> R<()>) -> R<()> {
        if self.depth >= MAX_DEPTH {
            return Err(TemplateError::RecursionLimit.into());
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// Opens a scope for the variables a body declares.
    fn open(&mut self) -> usize {
        std::mem::replace(&mut self.frame, self.vars.len())
    }

    fn close(&mut self, outer: usize) {
        self.vars.truncate(self.frame);
        self.frame = outer;
    }

    /// `$x := v`: in the innermost scope.
    fn declare(&mut self, name: &'a SmolStr, v: Value) {
        match self.vars[self.frame..].iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = v,
            None => self.vars.push((name.as_str(), v)),
        }
    }

    /// `$x = v`: where `$x` was declared; Go's error when it was not.
    fn assign(&mut self, name: &'a SmolStr, v: Value) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => fail(format!("undefined variable: {name}")),
        }
    }

    fn bind(&mut self, pipe: &'a Pipe, name: &'a SmolStr, v: Value) -> R<()> {
        if pipe.is_assign {
            self.assign(name, v)
        } else {
            self.declare(name, v);
            Ok(())
        }
    }

    /// Binds the variable a pipeline declares (or assigns), if any.
    fn bind_decl(&mut self, pipe: &'a Pipe, v: Value) -> R<()> {
        match self.tree.names(pipe.decl) {
            [] => Ok(()),
            [name] => self.bind(pipe, name, v),
            more => fail(format!(
                "cannot assign {} variables outside a range pipeline",
                more.len()
            )),
        }
    }

    /// `if` (`with` when `with`): the body when the pipeline is truthy.
    fn branch(&mut self, out: &mut String, b: &'a Branch, dot: &Value, with: bool) -> R<()> {
        let outer = self.open();
        let r = (|| {
            let v = self.pipeline(dot, &self.tree.pipes[b.pipe as usize])?;
            if v.is_truthy() {
                self.list(out, &b.body, if with { &v } else { dot })
            } else if let Some(e) = &b.else_body {
                self.list(out, e, dot)
            } else {
                Ok(())
            }
        })();
        self.close(outer);
        r
    }

    fn range(&mut self, out: &mut String, b: &'a Branch, dot: &Value) -> R<()> {
        let pipe = &self.tree.pipes[b.pipe as usize];
        // The loop binds its variables itself, per iteration.
        let v = self.pipeline_value(dot, pipe)?;
        let counted = |n: &dyn std::fmt::Display| -> R<()> {
            if pipe.decl.end - pipe.decl.start > 1 {
                return fail(format!(
                    "can't use {n} to iterate over more than one variable"
                ));
            }
            Ok(())
        };
        let empty = match &v {
            Value::List(l) => l.is_empty(),
            Value::Map(m) => m.is_empty(),
            Value::Int(n) => {
                counted(n)?;
                *n <= 0
            }
            Value::Uint(n) => {
                counted(n)?;
                *n == 0
            }
            Value::Nil => true,
            other => return Err(TemplateError::NotIterable(other.type_name().to_string()).into()),
        };
        if empty {
            return match &b.else_body {
                Some(e) => self.list(out, e, dot),
                None => Ok(()),
            };
        }
        match &v {
            Value::List(l) => {
                for (i, item) in l.iter().enumerate() {
                    if !self.iteration(out, b, pipe, Value::Int(i as i64), item)? {
                        break;
                    }
                }
            }
            Value::Map(m) => {
                for (k, item) in m.iter() {
                    if !self.iteration(out, b, pipe, Value::String(k.clone()), item)? {
                        break;
                    }
                }
            }
            Value::Int(n) => {
                for i in 0..*n {
                    if !self.iteration(out, b, pipe, Value::Int(i), &Value::Int(i))? {
                        break;
                    }
                }
            }
            Value::Uint(n) => {
                for i in 0..*n {
                    if !self.iteration(out, b, pipe, Value::Uint(i), &Value::Uint(i))? {
                        break;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// One pass of a range body; `false` after a `{{break}}`.
    fn iteration(
        &mut self,
        out: &mut String,
        b: &'a Branch,
        pipe: &'a Pipe,
        key: Value,
        item: &Value,
    ) -> R<bool> {
        if self.iterations_left == 0 {
            return Err(TemplateError::RangeIterLimit.into());
        }
        self.iterations_left -= 1;
        let outer = self.open();
        match self.tree.names(pipe.decl) {
            [] => {}
            [v] => self.bind(pipe, v, item.clone())?,
            [k, v, ..] => {
                self.bind(pipe, k, key)?;
                self.bind(pipe, v, item.clone())?;
            }
        }
        let r = self.list(out, &b.body, item);
        self.close(outer);
        match r {
            Ok(()) | Err(Stop::Continue) => Ok(true),
            Err(Stop::Break) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The pipeline's value, bound to its variable if it declares one.
    fn pipeline(&mut self, dot: &Value, pipe: &'a Pipe) -> R<Value> {
        let v = self.pipeline_value(dot, pipe)?;
        if !pipe.decl.is_empty() {
            self.bind_decl(pipe, v.clone())?;
        }
        Ok(v)
    }

    fn pipeline_value(&mut self, dot: &Value, pipe: &'a Pipe) -> R<Value> {
        let mut v = None;
        for cmd in self.tree.commands(pipe) {
            v = Some(self.command(dot, cmd, v.take())?);
        }
        Ok(v.unwrap_or(Value::Nil))
    }

    fn command(&mut self, dot: &Value, cmd: &'a Command, piped: Option<Value>) -> R<Value> {
        let tree = self.tree;
        let Some((first, args)) = tree.args(cmd).split_first() else {
            return fail("empty command".into());
        };
        match first {
            Expr::Identifier(_, name) => return self.call(dot, name, args, piped),
            Expr::Chain(_, inner, fields) => {
                if let Expr::Identifier(_, name) = &tree.exprs[*inner as usize] {
                    let v = self.call(dot, name, args, piped)?;
                    return self.plain_fields(v, tree.names(*fields));
                }
            }
            _ => {}
        }
        let method = matches!(
            first,
            Expr::Field(..) | Expr::Variable(..) | Expr::Chain(..)
        );
        if method && (!args.is_empty() || piped.is_some()) {
            let f = self.expr(dot, first)?;
            let base = self.gather(dot, args, piped)?;
            let r = super::builtins::call(&f, &self.args[base..]);
            self.args.truncate(base);
            return Ok(r?);
        }
        if piped.is_some() || !args.is_empty() {
            return fail(format!(
                "can't give argument to non-function {}",
                expr_name(first)
            ));
        }
        if matches!(first, Expr::Nil(_)) {
            return fail("nil is not a command".into());
        }
        self.expr(dot, first)
    }

    /// Calls the function `name`; a piped value is its last argument.
    fn call(
        &mut self,
        dot: &Value,
        name: &str,
        args: &'a [Expr],
        piped: Option<Value>,
    ) -> R<Value> {
        if name == "and" || name == "or" {
            return self.and_or(dot, name == "and", args, piped);
        }
        let f = self
            .env
            .funcs
            .get(name)
            .ok_or_else(|| TemplateError::UndefinedFunction(name.to_string()))?;
        let base = self.gather(dot, args, piped)?;
        let r = invoke(name, f, &self.args[base..]);
        self.args.truncate(base);
        r
    }

    /// Evaluates a call's arguments onto the argument stack, a piped value
    /// last; returns where they start (the caller truncates back to it).
    fn gather(&mut self, dot: &Value, args: &'a [Expr], piped: Option<Value>) -> R<usize> {
        let base = self.args.len();
        for a in args {
            let v = self.expr(dot, a)?;
            self.args.push(v);
        }
        self.args.extend(piped);
        Ok(base)
    }

    /// `and`/`or`: arguments are evaluated until one decides.
    fn and_or(
        &mut self,
        dot: &Value,
        and: bool,
        args: &'a [Expr],
        piped: Option<Value>,
    ) -> R<Value> {
        if args.is_empty() && piped.is_none() {
            return Err(TemplateError::ArgCount {
                name: if and { "and" } else { "or" }.to_string(),
                expected: 1,
                got: 0,
            }
            .into());
        }
        let mut last = Value::Nil;
        for a in args {
            let v = self.expr(dot, a)?;
            if v.is_truthy() != and {
                return Ok(v);
            }
            last = v;
        }
        if let Some(v) = piped {
            return Ok(v);
        }
        Ok(last)
    }

    fn expr(&mut self, dot: &Value, e: &'a Expr) -> R<Value> {
        let tree = self.tree;
        Ok(match e {
            Expr::Dot(_) => dot.clone(),
            Expr::Field(_, fields) => self.fields(dot.clone(), tree.names(*fields))?,
            Expr::Variable(_, name, fields) => {
                let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| *n == name) else {
                    return Err(TemplateError::UndefinedVariable(name.to_string()).into());
                };
                let v = v.clone();
                if fields.is_empty() {
                    v
                } else {
                    self.fields(v, tree.names(*fields))?
                }
            }
            Expr::Chain(_, inner, fields) => {
                let inner = &tree.exprs[*inner as usize];
                let v = self.expr(dot, inner)?;
                if matches!(inner, Expr::Identifier(..)) {
                    self.plain_fields(v, tree.names(*fields))?
                } else {
                    self.fields(v, tree.names(*fields))?
                }
            }
            Expr::String(_, s) => Value::String(s.clone()),
            Expr::Number(_, n) => match *n {
                Number::Int(i) => Value::Int(i),
                // Go narrows an untyped constant to int where it is used.
                Number::Uint(u) => return fail(format!("{u} overflows int")),
                Number::Float(f) => Value::Float(f),
            },
            Expr::Bool(_, b) => Value::Bool(*b),
            Expr::Nil(_) => Value::Nil,
            Expr::Pipe(_, p) => self.pipeline(dot, &tree.pipes[*p as usize])?,
            Expr::Identifier(_, name) => match self.env.funcs.get(name) {
                Some(f) => invoke(name, f, &[])?,
                None => return Err(TemplateError::UndefinedFunction(name.to_string()).into()),
            },
        })
    }

    /// A field chain read through the mutation record. A nil base reads as
    /// nil (Go's zero value); a nil met along the chain is an error.
    fn fields(&self, base: Value, fields: &[SmolStr]) -> R<Value> {
        let overlay = self.env.overlay;
        let mut cur = overlay.resolve(base);
        for (i, name) in fields.iter().enumerate() {
            cur = match cur {
                Value::Map(m) => {
                    overlay.resolve(m.get(name.as_str()).cloned().unwrap_or(Value::Nil))
                }
                Value::List(l) if name == "Has" => has_method(l),
                Value::Nil if i == 0 => return Ok(Value::Nil),
                Value::Nil => return fail(format!("nil pointer evaluating interface {{}}.{name}")),
                other => {
                    return fail(format!(
                        "can't evaluate field {name} in type {}",
                        crate::funcs::type_of(&other)
                    ));
                }
            };
        }
        Ok(cur)
    }

    /// Fields of a function's result (`(list 1).x`): read as gotmpl did,
    /// without the mutation record.
    fn plain_fields(&self, mut v: Value, fields: &[SmolStr]) -> R<Value> {
        for name in fields {
            v = match v.field(name) {
                Some(x) => x.clone(),
                None if matches!(v, Value::Map(_) | Value::Nil) => Value::Nil,
                None => {
                    return fail(format!(
                        "can't evaluate field {name} in type {}",
                        v.type_name()
                    ));
                }
            };
        }
        Ok(v)
    }
}

/// `.Capabilities.APIVersions.Has "v1"`: Go's VersionSet is a list with a
/// method.
fn has_method(versions: Arc<[Value]>) -> Value {
    Value::Function(Arc::new(move |args: &[Value]| {
        let want = args.first().map(crate::funcs::strval).unwrap_or_default();
        Ok(Value::Bool(
            versions.iter().any(|x| crate::funcs::strval(x) == want),
        ))
    }))
}

/// Calls `f`; a panic in it is an error naming it, not a crash.
fn invoke(name: &str, f: &ValueFunc, args: &[Value]) -> R<Value> {
    match catch_unwind(AssertUnwindSafe(|| f(args))) {
        Ok(r) => Ok(r?),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            Err(TemplateError::FuncPanic {
                name: name.to_string(),
                message,
            }
            .into())
        }
    }
}

fn expr_name(e: &Expr) -> &'static str {
    match e {
        Expr::Dot(_) => "<.>",
        Expr::Field(..) => "<field>",
        Expr::Variable(..) => "<variable>",
        Expr::Identifier(..) => "<identifier>",
        Expr::String(..) => "<string>",
        Expr::Number(..) => "<number>",
        Expr::Bool(..) => "<bool>",
        Expr::Nil(_) => "<nil>",
        Expr::Pipe(..) => "<pipeline>",
        Expr::Chain(..) => "<chain>",
    }
}
