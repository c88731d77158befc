//! Adapts parsed templates to what Helm's Go runtime does that the
//! executor ([`crate::template::exec`]) does not do by itself:
//!
//! - `(.Files.Glob "x").AsConfig` is a zero-argument method on a map that is
//!   also ranged over; it becomes a call to `__asConfig`/`__asSecrets`.
//! - Sprig's `set`, `unset`, `merge`, `mergeOverwrite` mutate a dict in place;
//!   gotmpl values are immutable, so when the dict is a variable (`$_ := set $d
//!   "k" v`) the result is assigned back to that variable.
//! - Errors from `required`, `fail`, `include` and `tpl` must name the file,
//!   line and column like Helm; function errors carry no position, so those
//!   calls get their position as a hidden first argument.
//!
//! Field reads, method calls and Go's printing are the executor's.

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
    pub fn new(file: &'a str, src: &'a str, template_as_include: bool) -> Self {
        Rewriter {
            file,
            src,
            template_as_include,
            line_starts: std::cell::OnceCell::new(),
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
                if let Some(target) = mutated_variable(&a.pipe) {
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
        for cmd in p.commands.iter_mut() {
            self.command(cmd);
        }
    }

    fn command(&self, cmd: &mut CommandNode) {
        for (i, a) in cmd.args.iter_mut().enumerate() {
            // `fn.Field` as a command's head is a call whose result is read.
            let head_call = i == 0
                && matches!(a, Expr::Chain(_, inner, _) if matches!(**inner, Expr::Identifier(..)));
            if !head_call {
                self.expr(a);
            }
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
            _ => return,
        };
        let pos = e.pos();
        let receiver = match std::mem::replace(e, Expr::Nil(pos)) {
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
