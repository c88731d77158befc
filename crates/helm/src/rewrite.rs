//! Adapts parsed templates to what Helm's Go runtime does that gotmpl does not:
//!
//! - Go calls methods: `.Files.Get "x"`, `.Capabilities.APIVersions.Has "v1"`.
//!   gotmpl only looks up fields, so a field chain given arguments (or a piped
//!   value) becomes `call <chain> args...`, and the objects hold functions.
//! - `(.Files.Glob "x").AsConfig` is a zero-argument method on a map that is
//!   also ranged over; it becomes a call to `__asConfig`/`__asSecrets`.
//! - Sprig's `set`, `unset`, `merge`, `mergeOverwrite` mutate a dict in place;
//!   gotmpl values are immutable, so when the dict is a variable (`$_ := set $d
//!   "k" v`) the result is assigned back to that variable.
//! - Errors from `required`, `fail`, `include` and `tpl` must name the file,
//!   line and column like Helm; gotmpl runtime errors carry no position, so
//!   those calls get their position as a hidden first argument.
//! - Go prints values with `fmt` (`1e+06`); every printed action ends in
//!   `__print`, which formats the value the Go way.

use std::sync::Arc;

use gotmpl::parse::{ActionNode, CommandNode, Expr, ListNode, Node, PipeNode, Pos, SmolStr};

/// Prefix of the hidden position argument.
pub const POS_MARK: &str = "\u{1}pos:";

pub struct Rewriter<'a> {
    file: &'a str,
    src: &'a str,
    /// In `tpl`, `{{template}}` must reach the chart's definitions: it becomes `include`.
    template_as_include: bool,
    /// Offsets where lines start, built on the first positioned call: a file
    /// with many `include`s would otherwise be scanned from the top for each.
    line_starts: std::cell::OnceCell<Vec<usize>>,
    strings: &'a Strings,
}

/// Field names as the `Arc<str>` arguments of `__field`, one allocation per
/// distinct name: charts read `.Values`, `.Release.Name` thousands of times.
#[derive(Default)]
pub struct Strings(
    std::cell::RefCell<
        std::collections::HashMap<SmolStr, Arc<str>, std::hash::BuildHasherDefault<Fnv>>,
    >,
);

/// FNV-1a: field names are short and not chosen to collide with each other
/// (a collision costs a comparison, not correctness); SipHash was a visible
/// share of parsing.
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

impl Strings {
    fn get(&self, s: &SmolStr) -> Arc<str> {
        let mut map = self.0.borrow_mut();
        if let Some(a) = map.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s.as_str());
        map.insert(s.clone(), a.clone());
        a
    }
}

const MUTATORS: &[&str] = &[
    "set",
    "unset",
    "merge",
    "mergeOverwrite",
    "mustMerge",
    "mustMergeOverwrite",
];
const POSITIONED: &[&str] = &["required", "fail", "include", "tpl"];

impl<'a> Rewriter<'a> {
    pub fn new(
        file: &'a str,
        src: &'a str,
        template_as_include: bool,
        strings: &'a Strings,
    ) -> Self {
        Rewriter {
            file,
            src,
            template_as_include,
            line_starts: std::cell::OnceCell::new(),
            strings,
        }
    }

    fn position(&self, pos: Pos) -> String {
        let off = pos.offset.min(self.src.len());
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.src.as_bytes()).map(|i| i + 1))
                .collect()
        });
        // The line holding `off` is the last one starting at or before it.
        let line = starts.partition_point(|&s| s <= off);
        let col = off - starts[line - 1];
        format!("{POS_MARK}{}:{}:{}", self.file, line, col)
    }

    /// Rewrites the nodes in place: only a mutating declaration adds a node,
    /// so the list is not rebuilt.
    pub fn list(&self, list: &mut ListNode) {
        let mut i = 0;
        while i < list.nodes.len() {
            if let Some(extra) = self.node(&mut list.nodes[i]) {
                i += 1;
                list.nodes.insert(i, extra);
            }
            i += 1;
        }
    }

    /// Rewrites `node`; returns the node to insert after it, if any.
    fn node(&self, node: &mut Node) -> Option<Node> {
        match node {
            Node::Action(a) => {
                self.pipe(&mut a.pipe);
                if a.pipe.decl.is_empty() {
                    let pos = a.pipe.pos;
                    a.pipe.commands.push(CommandNode {
                        pos,
                        args: vec![Expr::Identifier(pos, SmolStr::new_static("__print"))],
                    });
                } else if let Some(target) = mutated_variable(&a.pipe) {
                    // `$_ := set $d ...` -> `$d = set $d ...` then `$_ := $d`.
                    let decl = std::mem::replace(&mut a.pipe.decl, vec![target.clone()]);
                    let was_assign = a.pipe.is_assign;
                    let pos = a.pipe.pos;
                    a.pipe.is_assign = true;
                    return Some(Node::Action(ActionNode {
                        pos,
                        pipe: PipeNode {
                            pos,
                            decl,
                            commands: vec![CommandNode {
                                pos,
                                args: vec![Expr::Variable(pos, target, vec![])],
                            }],
                            is_assign: was_assign,
                        },
                    }));
                }
            }
            Node::If(b) | Node::With(b) | Node::Range(b) => self.branch(b),
            Node::List(l) => self.list(l),
            Node::Template(t) => {
                if let Some(p) = t.pipe.as_mut() {
                    self.pipe(p);
                }
                if self.template_as_include {
                    let pos = t.pos;
                    let mut args = vec![
                        Expr::Identifier(pos, SmolStr::new_static("include")),
                        Expr::String(pos, Arc::from(self.position(pos).as_str())),
                        Expr::String(pos, Arc::from(t.name.as_str())),
                    ];
                    match t.pipe.take() {
                        Some(p) => args.push(Expr::Pipe(pos, p)),
                        None => args.push(Expr::Nil(pos)),
                    }
                    *node = Node::Action(ActionNode {
                        pos,
                        pipe: PipeNode {
                            pos,
                            decl: vec![],
                            commands: vec![CommandNode { pos, args }],
                            is_assign: false,
                        },
                    });
                }
            }
            Node::Define(d) => self.list(&mut d.body),
            _ => {}
        }
        None
    }

    fn branch(&self, b: &mut gotmpl::parse::BranchNode) {
        self.pipe(&mut b.pipe);
        self.list(&mut b.body);
        if let Some(e) = b.else_body.as_mut() {
            self.list(e);
        }
    }

    fn pipe(&self, p: &mut PipeNode) {
        for (i, cmd) in p.commands.iter_mut().enumerate() {
            self.command(cmd, i > 0);
        }
    }

    fn command(&self, cmd: &mut CommandNode, piped: bool) {
        let is_method = match cmd.args.first() {
            Some(Expr::Field(..)) | Some(Expr::Variable(..)) => true,
            Some(Expr::Chain(_, inner, _)) => !matches!(**inner, Expr::Identifier(..)),
            _ => false,
        };
        let first_pos = cmd.args.first().map(Expr::pos);
        for (i, a) in cmd.args.iter_mut().enumerate() {
            // `fn.Field` as a command's head is a call whose result is read.
            let head_call = i == 0
                && matches!(a, Expr::Chain(_, inner, _) if matches!(**inner, Expr::Identifier(..)));
            if !head_call {
                self.expr(a);
            }
        }
        if let (true, Some(pos)) = (is_method && (cmd.args.len() > 1 || piped), first_pos) {
            cmd.args
                .insert(0, Expr::Identifier(pos, SmolStr::new_static("call")));
            return;
        }
        if let Some(Expr::Identifier(pos, name)) = cmd.args.first()
            && POSITIONED.contains(&name.as_str())
        {
            let pos = *pos;
            cmd.args
                .insert(1, Expr::String(pos, Arc::from(self.position(pos).as_str())));
        }
    }

    fn expr(&self, e: &mut Expr) {
        match e {
            Expr::Pipe(_, p) => self.pipe(p),
            Expr::Chain(_, inner, _) => self.expr(inner),
            _ => {}
        }
        let method = match e {
            Expr::Field(_, f) | Expr::Variable(_, _, f) | Expr::Chain(_, _, f) => {
                f.last().map(SmolStr::as_str)
            }
            _ => None,
        };
        let func = match method {
            Some("AsConfig") => "__asConfig",
            Some("AsSecrets") => "__asSecrets",
            _ => {
                self.field_access(e);
                return;
            }
        };
        let pos = e.pos();
        let mut receiver = match std::mem::replace(e, Expr::Nil(pos)) {
            Expr::Field(p, mut f) => {
                f.pop();
                if f.is_empty() {
                    Expr::Dot(p)
                } else {
                    Expr::Field(p, f)
                }
            }
            Expr::Variable(p, n, mut f) => {
                f.pop();
                Expr::Variable(p, n, f)
            }
            Expr::Chain(p, inner, mut f) => {
                f.pop();
                if f.is_empty() {
                    *inner
                } else {
                    Expr::Chain(p, inner, f)
                }
            }
            other => other,
        };
        self.field_access(&mut receiver);
        *e = Expr::Pipe(
            pos,
            PipeNode {
                pos,
                decl: vec![],
                commands: vec![CommandNode {
                    pos,
                    args: vec![Expr::Identifier(pos, SmolStr::new_static(func)), receiver],
                }],
                is_assign: false,
            },
        );
    }

    /// `.a.b` -> `(__field . "a" "b")`, so field reads see in-place dict mutations.
    fn field_access(&self, e: &mut Expr) {
        let pos = e.pos();
        let (base, fields) = match std::mem::replace(e, Expr::Nil(pos)) {
            Expr::Field(p, f) if !f.is_empty() => (Expr::Dot(p), f),
            Expr::Variable(p, n, f) if !f.is_empty() => (Expr::Variable(p, n, vec![]), f),
            Expr::Chain(_, inner, f)
                if !f.is_empty() && !matches!(*inner, Expr::Identifier(..)) =>
            {
                (*inner, f)
            }
            other => {
                *e = other;
                return;
            }
        };
        let mut args = Vec::with_capacity(2 + fields.len());
        args.push(Expr::Identifier(pos, SmolStr::new_static("__field")));
        args.push(base);
        args.extend(
            fields
                .iter()
                .map(|f| Expr::String(pos, self.strings.get(f))),
        );
        *e = Expr::Pipe(
            pos,
            PipeNode {
                pos,
                decl: vec![],
                commands: vec![CommandNode { pos, args }],
                is_assign: false,
            },
        );
    }
}

/// The variable a `set`/`merge`-style pipeline mutates, when it is a plain variable.
fn mutated_variable(p: &PipeNode) -> Option<SmolStr> {
    if p.commands.len() != 1 || p.decl.len() != 1 {
        return None;
    }
    let args = &p.commands[0].args;
    let Some(Expr::Identifier(_, name)) = args.first() else {
        return None;
    };
    if !MUTATORS.contains(&name.as_str()) {
        return None;
    }
    match args.get(1) {
        Some(Expr::Variable(_, v, fields))
            if fields.is_empty() && v.as_str() != "$" && *v != p.decl[0] =>
        {
            Some(v.clone())
        }
        _ => None,
    }
}
