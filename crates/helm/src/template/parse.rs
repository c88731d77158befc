//! Recursive-descent parser over [`lex`](super::lex) tokens that builds the
//! tree gotmpl 0.6.1's parser builds, node for node and position for
//! position ([`Tree::to_gotmpl`]), including where gotmpl is more lenient
//! than Go (an unclosed `{{if}}` ends at the end of input, a stray
//! top-level `{{end}}` ends the template). Anything gotmpl would reject is a
//! [`Reject`]. Where gotmpl is more lenient than Go, the parse also notes
//! Go's error ([`Strict`]), which Helm reports.
//!
//! With [`Adapt`], it also adapts the tree to what Helm's Go runtime does
//! that Go's text/template does not (see [`Adapt`]).

use std::collections::VecDeque;
use std::sync::Arc;

use gotmpl::parse::SmolStr;

use super::ast::{Branch, Command, Define, Expr, List, Node, Pipe, PipeId, Pos, Span, Tree};
use super::lex::{Kind, Lexer, Reject, Token};

/// gotmpl's cap on nested lists and parenthesised pipelines.
const MAX_DEPTH: usize = 100;

/// Prefix of the hidden position argument `required`, `fail`, `include`
/// and `tpl` receive.
pub const POS_MARK: &str = "\u{1}pos:";

/// The functions that get their call's position as a hidden first
/// argument, for errors that name the file, line and column like Helm's.
const POSITIONED: &[&str] = &["required", "fail", "include", "tpl"];

type R<T> = Result<T, Reject>;

/// What the parse adapts for Helm, for the template file `file`:
///
/// - Errors from `required`, `fail`, `include` and `tpl` must name the file,
///   line and column like Helm; function errors carry no position, so those
///   calls get their position as a hidden first argument.
/// - `(.Files.Glob "x").AsConfig` is a zero-argument method on a map that is
///   also ranged over; it becomes a call to `__asConfig`/`__asSecrets`.
/// - In `tpl` (`template_as_include`), `{{template}}` must reach the chart's
///   definitions: it becomes `include`.
/// - Go refuses a template that names a function it does not have
///   (`defined`), even where it would never run; gotmpl does not look.
#[derive(Clone, Copy)]
pub struct Adapt<'a> {
    pub file: &'a str,
    pub template_as_include: bool,
    pub defined: fn(&str) -> bool,
}

pub struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    ahead: VecDeque<Token<'a>>,
    /// Offset of the last consumed token.
    last_pos: usize,
    depth: usize,
    adapt: Option<Adapt<'a>>,
    /// The nodes of the lists being parsed, innermost last, the commands of
    /// the pipelines and the arguments of the commands being parsed: each
    /// takes its own off the top into the tree's vector when it ends, so
    /// the elements of a list, a pipeline or a command are contiguous there.
    stack_nodes: Vec<Node>,
    stack_commands: Vec<Command>,
    stack_args: Vec<Expr>,
    nodes: Vec<Node>,
    pipes: Vec<Pipe>,
    commands: Vec<Command>,
    exprs: Vec<Expr>,
    names: Vec<SmolStr>,
    defines: Vec<Define>,
    /// The variables in scope, as Go's parser knows them: `$`, and those
    /// declared before in the enclosing `if`/`with`/`range` (pipeline and
    /// body, up to its `{{end}}`) or at the top of the template.
    vars: Vec<SmolStr>,
    /// How many `range` bodies enclose the parse (`{{break}}` needs one).
    ranges: usize,
    /// Offsets where lines start, for the hidden positions: built on the
    /// first, since a file may have hundreds of `include`s.
    line_starts: Option<Vec<usize>>,
    /// The first place Go rejects and gotmpl does not.
    strict: Option<Strict>,
}

/// An error Go's parser gives a template gotmpl's accepts: a stray
/// top-level `{{end}}` or `{{else}}` (gotmpl ends the template there), a
/// `{{define}}` inside another action, or an `{{if}}`, `{{range}}`,
/// `{{with}}`, `{{define}}` or `{{block}}` left open (gotmpl closes it at the
/// end of input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strict {
    /// `unexpected {{end}}`, `unexpected {{else}}`, `unexpected <define>
    /// in command` on this line.
    Unexpected(usize, &'static str),
    /// `unexpected EOF`, on the line where the input ends.
    Eof,
    /// What Go's parser checks beyond the syntax, with Go's message, on
    /// this line: a function it does not have (`function "f" not defined`,
    /// with [`Adapt`] only), a variable not in scope (`undefined variable
    /// "$x"`), `{{break}}` or `{{continue}}` outside a `{{range}}` body.
    Refused(usize, String),
}

/// Parses `src` into its tree (main list and `define`/`block` templates, as
/// gotmpl does), and the error Go would give it where gotmpl gives none.
pub fn parse(src: &str, adapt: Option<Adapt<'_>>) -> (R<Tree>, Option<Strict>) {
    let mut p = Parser {
        src,
        lexer: Lexer::new(src),
        ahead: VecDeque::with_capacity(8),
        last_pos: 0,
        depth: 0,
        adapt,
        stack_nodes: Vec::new(),
        stack_commands: Vec::new(),
        stack_args: Vec::new(),
        nodes: Vec::new(),
        pipes: Vec::new(),
        commands: Vec::new(),
        exprs: Vec::new(),
        names: Vec::new(),
        defines: Vec::new(),
        vars: vec![SmolStr::new_static("$")],
        ranges: 0,
        line_starts: None,
        strict: None,
    };
    let tree = p.list().and_then(|main| {
        // gotmpl lexes the whole input before parsing: a lexical error after
        // where parsing stopped still fails the template.
        while p.peek()? != Kind::Eof {
            p.ahead.pop_front();
        }
        Ok(main)
    });
    let tree = tree.map(|main| Tree {
        src: Arc::from(src),
        nodes: std::mem::take(&mut p.nodes),
        pipes: std::mem::take(&mut p.pipes),
        commands: std::mem::take(&mut p.commands),
        exprs: std::mem::take(&mut p.exprs),
        names: std::mem::take(&mut p.names),
        main,
        defines: std::mem::take(&mut p.defines),
    });
    (tree, p.strict)
}

fn pos_of(t: &Token<'_>) -> Pos {
    at(t.pos, t.line)
}

fn at(offset: usize, line: usize) -> Pos {
    Pos {
        offset: offset as u32,
        line: line as u32,
    }
}

fn len32(v: usize) -> u32 {
    v as u32
}

/// Moves the elements of `stack` from `base` on to the end of `tree` (one of
/// the tree's vectors), where they are contiguous; their span there.
fn spill<T>(stack: &mut Vec<T>, base: usize, tree: &mut Vec<T>) -> Span {
    let start = len32(tree.len());
    tree.extend(stack.drain(base..));
    Span {
        start,
        end: len32(tree.len()),
    }
}

impl<'a> Parser<'a> {
    fn token(&mut self, k: usize) -> R<&Token<'a>> {
        while self.ahead.len() <= k {
            self.lexer.fill(&mut self.ahead)?;
        }
        Ok(&self.ahead[k])
    }

    fn peek(&mut self) -> R<Kind> {
        self.token(0).map(|t| t.kind)
    }

    fn peek_at(&mut self, k: usize) -> R<Kind> {
        self.token(k).map(|t| t.kind)
    }

    fn cur_pos(&mut self) -> R<Pos> {
        self.token(0).map(pos_of)
    }

    fn next(&mut self) -> R<Token<'a>> {
        self.token(0)?;
        let t = self.ahead.pop_front().ok_or(Reject)?;
        self.last_pos = t.pos;
        Ok(t)
    }

    fn expect(&mut self, kind: Kind) -> R<Token<'a>> {
        let t = self.next()?;
        if t.kind == kind { Ok(t) } else { Err(Reject) }
    }

    fn close(&mut self) -> R<()> {
        match self.next()?.kind {
            Kind::RightDelim | Kind::RightTrimDelim => Ok(()),
            _ => Err(Reject),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Reject);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Notes Go's error at `line`, unless an earlier one was noted.
    fn refuse(&mut self, line: usize, message: String) {
        if self.strict.is_none() {
            self.strict = Some(Strict::Refused(line, message));
        }
    }

    /// A definition's body: parsed with only `$` in scope and outside any
    /// `range`, as Go parses it (a template of its own).
    fn definition_body(&mut self) -> R<List> {
        let vars = std::mem::replace(&mut self.vars, vec![SmolStr::new_static("$")]);
        let ranges = std::mem::replace(&mut self.ranges, 0);
        let body = self.list();
        self.vars = vars;
        self.ranges = ranges;
        body
    }

    /// The range of `src` a text token's value is.
    fn text_span(&self, t: &Token<'a>) -> R<Span> {
        let start = (t.val.as_ptr() as usize).wrapping_sub(self.src.as_ptr() as usize);
        let end = start + t.val.len();
        if end > self.src.len() || !self.src.is_char_boundary(start) {
            return Err(Reject);
        }
        Ok(Span {
            start: len32(start),
            end: len32(end),
        })
    }

    /// Nodes up to `{{end}}` (consumed), `{{else` (left after its `{{`) or
    /// the end of input.
    fn list(&mut self) -> R<List> {
        self.enter()?;
        let pos = self.cur_pos()?;
        let base = self.stack_nodes.len();
        // The main list is the outermost; any other must end in `{{end}}`.
        let top = self.depth == 1;
        loop {
            match self.peek()? {
                Kind::Eof => {
                    if !top && self.strict.is_none() {
                        self.strict = Some(Strict::Eof);
                    }
                    break;
                }
                Kind::Text => {
                    let t = self.next()?;
                    let span = self.text_span(&t)?;
                    self.stack_nodes.push(Node::Text(pos_of(&t), span));
                }
                Kind::LeftDelim | Kind::LeftTrimDelim => {
                    self.next()?;
                    match self.peek()? {
                        Kind::End => {
                            let t = self.next()?;
                            self.close()?;
                            if top && self.strict.is_none() {
                                self.strict = Some(Strict::Unexpected(t.line, "{{end}}"));
                            }
                            break;
                        }
                        Kind::Else => {
                            if top && self.strict.is_none() {
                                let line = self.token(0)?.line;
                                self.strict = Some(Strict::Unexpected(line, "{{else}}"));
                            }
                            break;
                        }
                        Kind::If => {
                            let n = Node::If(self.branch(false)?);
                            self.stack_nodes.push(n);
                        }
                        Kind::Range => {
                            let n = Node::Range(self.branch(true)?);
                            self.stack_nodes.push(n);
                        }
                        Kind::With => {
                            let n = Node::With(self.branch(false)?);
                            self.stack_nodes.push(n);
                        }
                        Kind::Define => {
                            // Go reads `define` only at the top level.
                            if !top && self.strict.is_none() {
                                let line = self.token(0)?.line;
                                self.strict = Some(Strict::Unexpected(line, "<define> in command"));
                            }
                            let d = self.define()?;
                            self.defines.push(d);
                        }
                        Kind::Template => {
                            let (pos, name, pipe) = self.invocation()?;
                            let n = self.template_node(pos, name, pipe);
                            self.stack_nodes.push(n);
                        }
                        Kind::Block => {
                            let (pos, name, pipe) = self.invocation()?;
                            let body = self.definition_body()?;
                            let n = self.template_node(pos, name.clone(), pipe);
                            self.stack_nodes.push(n);
                            self.defines.push(Define { pos, name, body });
                        }
                        Kind::Break | Kind::Continue => {
                            let t = self.next()?;
                            let end = self.next()?;
                            if !matches!(end.kind, Kind::RightDelim | Kind::RightTrimDelim) {
                                return Err(Reject);
                            }
                            if self.ranges == 0 {
                                let what = if t.kind == Kind::Break {
                                    "break"
                                } else {
                                    "continue"
                                };
                                self.refuse(
                                    end.line,
                                    format!("{{{{{what}}}}} outside {{{{range}}}}"),
                                );
                            }
                            self.stack_nodes.push(if t.kind == Kind::Break {
                                Node::Break(pos_of(&t))
                            } else {
                                Node::Continue(pos_of(&t))
                            });
                        }
                        _ => {
                            let pipe = self.pipeline(true, false)?;
                            self.close()?;
                            let pos = self.pipes[pipe as usize].pos;
                            self.stack_nodes.push(Node::Action(pos, pipe));
                        }
                    }
                }
                _ => return Err(Reject),
            }
        }
        self.leave();
        let nodes = spill(&mut self.stack_nodes, base, &mut self.nodes);
        Ok(List { pos, nodes })
    }

    /// `{{template "name" pipe}}`; in `tpl`, `{{include POS "name" pipe}}`
    /// (or `nil` without a pipeline).
    fn template_node(&mut self, pos: Pos, name: SmolStr, pipe: Option<PipeId>) -> Node {
        let Some(adapt) = self.adapt.filter(|a| a.template_as_include) else {
            return Node::Template(pos, name, pipe);
        };
        let mark = self.position(adapt.file, pos);
        let start = len32(self.exprs.len());
        self.exprs.extend([
            Expr::Identifier(pos, SmolStr::new_static("include")),
            Expr::String(pos, mark),
            Expr::String(pos, Arc::from(name.as_str())),
            match pipe {
                Some(p) => Expr::Pipe(pos, p),
                None => Expr::Nil(pos),
            },
        ]);
        let args = Span {
            start,
            end: len32(self.exprs.len()),
        };
        let pipe = self.single_command_pipe(pos, args);
        Node::Action(pos, pipe)
    }

    /// A pipeline of one command with the arguments `args` (in `exprs`).
    fn single_command_pipe(&mut self, pos: Pos, args: Span) -> PipeId {
        let c = len32(self.commands.len());
        self.commands.push(Command { pos, args });
        self.pipes.push(Pipe {
            pos,
            decl: Span::default(),
            is_assign: false,
            commands: Span {
                start: c,
                end: c + 1,
            },
        });
        len32(self.pipes.len() - 1)
    }

    /// The hidden argument naming `file:line:col` of `pos` (column in bytes
    /// from 0, line from the text).
    fn position(&mut self, file: &str, pos: Pos) -> Arc<str> {
        let src = self.src;
        let starts = self.line_starts.get_or_insert_with(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| i + 1))
                .collect()
        });
        let off = (pos.offset as usize).min(src.len());
        // The line holding `off` is the last one starting at or before it.
        let line = starts.partition_point(|&s| s <= off);
        let col = off - starts[line - 1];
        Arc::from(format!("{POS_MARK}{file}:{line}:{col}").as_str())
    }

    /// `if`, `range` or `with` from its keyword through its `{{end}}`.
    fn branch(&mut self, multi_decl: bool) -> R<Branch> {
        // What the branch declares is in scope up to its `{{end}}`.
        let scope = self.vars.len();
        let b = self.branch_in_scope(multi_decl);
        self.vars.truncate(scope);
        b
    }

    fn branch_in_scope(&mut self, multi_decl: bool) -> R<Branch> {
        let pos = self.cur_pos()?;
        let is_range = self.next()?.kind == Kind::Range;
        let pipe = self.pipeline(true, multi_decl)?;
        self.close()?;
        self.ranges += usize::from(is_range);
        let body = self.list();
        self.ranges -= usize::from(is_range);
        let body = body?;
        let mut else_body = None;
        if self.peek()? == Kind::Else {
            self.next()?;
            match self.peek()? {
                // `else if`/`else with`: the inner branch takes the `{{end}}`.
                Kind::If | Kind::With => {
                    let inner = if self.peek()? == Kind::If {
                        Node::If(self.branch(false)?)
                    } else {
                        Node::With(self.branch(false)?)
                    };
                    match self.peek()? {
                        Kind::RightDelim | Kind::RightTrimDelim => {
                            self.next()?;
                        }
                        Kind::Eof | Kind::LeftDelim | Kind::LeftTrimDelim | Kind::Text => {}
                        _ => return Err(Reject),
                    }
                    let start = len32(self.nodes.len());
                    self.nodes.push(inner);
                    else_body = Some(List {
                        pos: self.cur_pos()?,
                        nodes: Span {
                            start,
                            end: start + 1,
                        },
                    });
                }
                _ => {
                    self.close()?;
                    else_body = Some(self.list()?);
                }
            }
        }
        Ok(Branch {
            pos,
            pipe,
            body,
            else_body,
        })
    }

    fn define(&mut self) -> R<Define> {
        let pos = self.cur_pos()?;
        self.next()?;
        let name = self.expect(Kind::String)?;
        self.close()?;
        let body = self.definition_body()?;
        Ok(Define {
            pos,
            name: SmolStr::from(name.val.as_ref()),
            body,
        })
    }

    /// `template "name" [pipeline]` or the same head of a `block`, with its
    /// closing delimiter.
    fn invocation(&mut self) -> R<(Pos, SmolStr, Option<PipeId>)> {
        let pos = self.cur_pos()?;
        self.next()?;
        let name = self.expect(Kind::String)?;
        let pipe = match self.peek()? {
            Kind::RightDelim | Kind::RightTrimDelim => None,
            _ => Some(self.pipeline(false, false)?),
        };
        self.close()?;
        Ok((pos, SmolStr::from(name.val.as_ref()), pipe))
    }

    fn pipeline(&mut self, allow_decl: bool, multi_decl: bool) -> R<PipeId> {
        let pos = self.cur_pos()?;
        let decl_start = len32(self.names.len());
        let mut is_assign = false;
        if allow_decl && self.peek()? == Kind::Variable {
            // Look ahead over `$a, $b` for `:=` or `=`; without one the
            // variables are the start of a command.
            let mut k = 0;
            while self.peek_at(k)? == Kind::Variable {
                k += 1;
                if self.peek_at(k)? == Kind::Comma {
                    k += 1;
                }
            }
            let op = self.peek_at(k)?;
            if matches!(op, Kind::Declare | Kind::Assign) {
                is_assign = op == Kind::Assign;
                for _ in 0..=k {
                    let t = self.next()?;
                    if t.kind == Kind::Variable {
                        let name = SmolStr::from(t.val.as_ref());
                        self.vars.push(name.clone());
                        self.names.push(name);
                    }
                }
            }
        }
        let decl = Span {
            start: decl_start,
            end: len32(self.names.len()),
        };
        let count = decl.end - decl.start;
        if (!multi_decl && count > 1) || count > 2 {
            return Err(Reject);
        }
        let base = self.stack_commands.len();
        let c = self.command()?;
        self.stack_commands.push(c);
        while self.peek()? == Kind::Pipe {
            self.next()?;
            let c = self.command()?;
            self.stack_commands.push(c);
        }
        let commands = spill(&mut self.stack_commands, base, &mut self.commands);
        self.pipes.push(Pipe {
            pos,
            decl,
            is_assign,
            commands,
        });
        Ok(len32(self.pipes.len() - 1))
    }

    fn command(&mut self) -> R<Command> {
        let pos = self.cur_pos()?;
        let base = self.stack_args.len();
        loop {
            let arg = match self.peek()? {
                Kind::LeftParen => {
                    let t = self.next()?;
                    let at = pos_of(&t);
                    self.enter()?;
                    let pipe = self.pipeline(false, false)?;
                    self.leave();
                    self.expect(Kind::RightParen)?;
                    let start = len32(self.names.len());
                    let fields = self.chain(self.last_pos + 1, start)?;
                    let inner = Expr::Pipe(at, pipe);
                    if fields.is_empty() {
                        inner
                    } else {
                        self.exprs.push(inner);
                        Expr::Chain(at, len32(self.exprs.len() - 1), fields)
                    }
                }
                Kind::Dot => {
                    let t = self.next()?;
                    let start = len32(self.names.len());
                    let fields = self.chain(t.pos + 1, start)?;
                    if fields.is_empty() {
                        Expr::Dot(pos_of(&t))
                    } else {
                        Expr::Field(pos_of(&t), fields)
                    }
                }
                Kind::Field => {
                    let t = self.next()?;
                    let start = len32(self.names.len());
                    split_fields(&t.val, &mut self.names);
                    let fields = self.chain(t.pos + t.val.len(), start)?;
                    Expr::Field(pos_of(&t), fields)
                }
                Kind::Variable => {
                    let t = self.next()?;
                    if !self.vars.iter().any(|v| *v == *t.val) {
                        self.refuse(t.line, format!("undefined variable {:?}", t.val));
                    }
                    let start = len32(self.names.len());
                    let fields = self.chain(t.pos + t.val.len(), start)?;
                    Expr::Variable(pos_of(&t), SmolStr::from(t.val.as_ref()), fields)
                }
                Kind::Identifier => {
                    let t = self.next()?;
                    if let Some(adapt) = self.adapt
                        && self.strict.is_none()
                        && !(adapt.defined)(&t.val)
                    {
                        self.strict = Some(Strict::Refused(
                            t.line,
                            format!("function {:?} not defined", t.val),
                        ));
                    }
                    let start = len32(self.names.len());
                    let fields = self.chain(t.pos + t.val.len(), start)?;
                    let ident = Expr::Identifier(pos_of(&t), SmolStr::from(t.val.as_ref()));
                    if fields.is_empty() {
                        ident
                    } else {
                        self.exprs.push(ident);
                        Expr::Chain(pos_of(&t), len32(self.exprs.len() - 1), fields)
                    }
                }
                Kind::String => {
                    let t = self.next()?;
                    Expr::String(pos_of(&t), Arc::from(t.val.as_ref()))
                }
                Kind::Number | Kind::Char => {
                    let t = self.next()?;
                    Expr::Number(pos_of(&t), t.num)
                }
                Kind::Bool => {
                    let t = self.next()?;
                    Expr::Bool(pos_of(&t), t.val == "true")
                }
                Kind::Nil => {
                    let t = self.next()?;
                    Expr::Nil(pos_of(&t))
                }
                _ => break,
            };
            let head = self.stack_args.len() == base;
            match self.adapt {
                Some(adapt) => self.push_adapted(adapt, arg, head),
                None => self.stack_args.push(arg),
            }
        }
        if self.stack_args.len() == base {
            return Err(Reject);
        }
        let args = spill(&mut self.stack_args, base, &mut self.exprs);
        Ok(Command { pos, args })
    }

    /// Pushes a command's argument as [`Adapt`] has it: a positioned
    /// function's head gets its position after it, and a field chain ending
    /// in `AsConfig`/`AsSecrets` reads its receiver and calls the helper
    /// (not when the chain is a function call's result heading the command).
    fn push_adapted(&mut self, adapt: Adapt<'_>, arg: Expr, head: bool) {
        if head && let Expr::Identifier(pos, name) = &arg {
            let pos = *pos;
            let positioned = POSITIONED.contains(&name.as_str());
            self.stack_args.push(arg);
            if positioned {
                let mark = self.position(adapt.file, pos);
                self.stack_args.push(Expr::String(pos, mark));
            }
            return;
        }
        let head_call = head
            && matches!(&arg, Expr::Chain(_, inner, _)
                if matches!(self.exprs[*inner as usize], Expr::Identifier(..)));
        let method = match &arg {
            Expr::Field(_, f) | Expr::Variable(_, _, f) | Expr::Chain(_, _, f) if !f.is_empty() => {
                match self.names[f.end as usize - 1].as_str() {
                    "AsConfig" => Some("__asConfig"),
                    "AsSecrets" => Some("__asSecrets"),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some(func) = method.filter(|_| !head_call) else {
            self.stack_args.push(arg);
            return;
        };
        let shorter = |f: Span| Span {
            start: f.start,
            end: f.end - 1,
        };
        let (pos, receiver) = match arg {
            Expr::Field(p, f) if f.end - f.start == 1 => (p, Expr::Dot(p)),
            Expr::Field(p, f) => (p, Expr::Field(p, shorter(f))),
            Expr::Variable(p, n, f) => (p, Expr::Variable(p, n, shorter(f))),
            Expr::Chain(p, inner, f) if f.end - f.start == 1 => (
                p,
                std::mem::replace(&mut self.exprs[inner as usize], Expr::Nil(p)),
            ),
            Expr::Chain(p, inner, f) => (p, Expr::Chain(p, inner, shorter(f))),
            other => {
                self.stack_args.push(other);
                return;
            }
        };
        let start = len32(self.exprs.len());
        self.exprs
            .extend([Expr::Identifier(pos, SmolStr::new_static(func)), receiver]);
        let pipe = self.single_command_pipe(
            pos,
            Span {
                start,
                end: start + 2,
            },
        );
        self.stack_args.push(Expr::Pipe(pos, pipe));
    }

    /// Appends (to `names`, from `start`) the `.field` tokens that directly
    /// follow (no space) a term ending at `end`.
    fn chain(&mut self, mut end: usize, start: u32) -> R<Span> {
        loop {
            let t = self.token(0)?;
            if t.kind != Kind::Field || t.pos != end {
                return Ok(Span {
                    start,
                    end: len32(self.names.len()),
                });
            }
            let t = self.next()?;
            end = t.pos + t.val.len();
            split_fields(&t.val, &mut self.names);
        }
    }
}

fn split_fields(field: &str, out: &mut Vec<SmolStr>) {
    // Byte by byte: the names are short, and `.` is ASCII.
    let mut start = 0;
    for (i, b) in field
        .bytes()
        .enumerate()
        .chain(std::iter::once((field.len(), b'.')))
    {
        if b == b'.' {
            if i > start {
                out.push(SmolStr::new(&field[start..i]));
            }
            start = i + 1;
        }
    }
}
