//! Recursive-descent parser over [`lex`](super::lex) tokens that builds the
//! AST `gotmpl` 0.6.1's parser builds, node for node and position for
//! position, including where gotmpl is more lenient than Go (an unclosed
//! `{{if}}` ends at the end of input, a stray top-level `{{end}}` ends the
//! template). Anything gotmpl would reject is a [`Reject`]. Where gotmpl is
//! more lenient than Go, the parse also notes Go's error ([`Strict`]), which
//! Helm reports.

use std::collections::VecDeque;
use std::sync::Arc;

use gotmpl::parse::{
    ActionNode, BranchNode, CommandNode, DefineNode, Expr, ListNode, Node, PipeNode, Pos, SmolStr,
    TemplateNode, TextNode,
};

use super::lex::{Kind, Lexer, Reject, Token};

/// gotmpl's cap on nested lists and parenthesised pipelines.
const MAX_DEPTH: usize = 100;

type R<T> = Result<T, Reject>;

pub struct Parser<'a> {
    lexer: Lexer<'a>,
    ahead: VecDeque<Token<'a>>,
    /// Offset of the last consumed token.
    last_pos: usize,
    depth: usize,
    /// The nodes of the lists being parsed, innermost last, and the
    /// arguments of the commands being parsed: each list or command takes its
    /// own off the top, into a vector of the exact size. Pushing into a
    /// vector per list reallocated it as it grew and left it up to half
    /// empty, and templates are most of a chart's memory.
    nodes: Vec<Node>,
    args: Vec<Expr>,
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
}

/// Parses `src` into its main list and its `define`/`block` templates (as
/// gotmpl does), and the error Go would give it where gotmpl gives none.
pub fn parse(src: &str) -> (R<(ListNode, Vec<DefineNode>)>, Option<Strict>) {
    let mut p = Parser {
        lexer: Lexer::new(src),
        ahead: VecDeque::with_capacity(8),
        last_pos: 0,
        depth: 0,
        nodes: Vec::new(),
        args: Vec::new(),
        strict: None,
    };
    let mut defines = Vec::new();
    let tree = p.list(&mut defines).and_then(|list| {
        // gotmpl lexes the whole input before parsing: a lexical error after
        // where parsing stopped still fails the template.
        while p.peek()? != Kind::Eof {
            p.ahead.pop_front();
        }
        Ok((list, defines))
    });
    (tree, p.strict)
}

fn pos_of(t: &Token<'_>) -> Pos {
    Pos::new(t.pos, t.line)
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

    /// Nodes up to `{{end}}` (consumed), `{{else` (left after its `{{`) or
    /// the end of input.
    fn list(&mut self, defines: &mut Vec<DefineNode>) -> R<ListNode> {
        self.enter()?;
        let pos = self.cur_pos()?;
        let base = self.nodes.len();
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
                    self.nodes.push(Node::Text(TextNode {
                        pos: pos_of(&t),
                        text: Arc::from(t.val.as_ref()),
                    }));
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
                            let n = Node::If(self.branch(defines, false)?);
                            self.nodes.push(n);
                        }
                        Kind::Range => {
                            let n = Node::Range(self.branch(defines, true)?);
                            self.nodes.push(n);
                        }
                        Kind::With => {
                            let n = Node::With(self.branch(defines, false)?);
                            self.nodes.push(n);
                        }
                        Kind::Define => {
                            // Go reads `define` only at the top level.
                            if !top && self.strict.is_none() {
                                let line = self.token(0)?.line;
                                self.strict = Some(Strict::Unexpected(line, "<define> in command"));
                            }
                            let d = self.define(defines)?;
                            defines.push(d);
                        }
                        Kind::Template => {
                            let (pos, name, pipe) = self.invocation()?;
                            self.nodes
                                .push(Node::Template(TemplateNode { pos, name, pipe }));
                        }
                        Kind::Block => {
                            let (pos, name, pipe) = self.invocation()?;
                            let body = self.list(defines)?;
                            self.nodes.push(Node::Template(TemplateNode {
                                pos,
                                name: name.clone(),
                                pipe,
                            }));
                            defines.push(DefineNode { pos, name, body });
                        }
                        Kind::Break | Kind::Continue => {
                            let t = self.next()?;
                            self.close()?;
                            self.nodes.push(if t.kind == Kind::Break {
                                Node::Break(pos_of(&t))
                            } else {
                                Node::Continue(pos_of(&t))
                            });
                        }
                        _ => {
                            let pipe = self.pipeline(true, false)?;
                            self.close()?;
                            self.nodes.push(Node::Action(ActionNode {
                                pos: pipe.pos,
                                pipe,
                            }));
                        }
                    }
                }
                _ => return Err(Reject),
            }
        }
        self.leave();
        let nodes = self.nodes.drain(base..).collect();
        Ok(ListNode { pos, nodes })
    }

    /// `if`, `range` or `with` from its keyword through its `{{end}}`.
    fn branch(&mut self, defines: &mut Vec<DefineNode>, multi_decl: bool) -> R<BranchNode> {
        let pos = self.cur_pos()?;
        self.next()?;
        let pipe = self.pipeline(true, multi_decl)?;
        self.close()?;
        let body = self.list(defines)?;
        let mut else_body = None;
        if self.peek()? == Kind::Else {
            self.next()?;
            match self.peek()? {
                // `else if`/`else with`: the inner branch takes the `{{end}}`.
                Kind::If | Kind::With => {
                    let inner = if self.peek()? == Kind::If {
                        Node::If(self.branch(defines, false)?)
                    } else {
                        Node::With(self.branch(defines, false)?)
                    };
                    match self.peek()? {
                        Kind::RightDelim | Kind::RightTrimDelim => {
                            self.next()?;
                        }
                        Kind::Eof | Kind::LeftDelim | Kind::LeftTrimDelim | Kind::Text => {}
                        _ => return Err(Reject),
                    }
                    else_body = Some(ListNode {
                        pos: self.cur_pos()?,
                        nodes: vec![inner],
                    });
                }
                _ => {
                    self.close()?;
                    else_body = Some(self.list(defines)?);
                }
            }
        }
        Ok(BranchNode {
            pos,
            pipe,
            body,
            else_body,
        })
    }

    fn define(&mut self, defines: &mut Vec<DefineNode>) -> R<DefineNode> {
        let pos = self.cur_pos()?;
        self.next()?;
        let name = self.expect(Kind::String)?;
        self.close()?;
        let body = self.list(defines)?;
        Ok(DefineNode {
            pos,
            name: SmolStr::from(name.val.as_ref()),
            body,
        })
    }

    /// `template "name" [pipeline]` or the same head of a `block`, with its
    /// closing delimiter.
    fn invocation(&mut self) -> R<(Pos, SmolStr, Option<PipeNode>)> {
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

    fn pipeline(&mut self, allow_decl: bool, multi_decl: bool) -> R<PipeNode> {
        let pos = self.cur_pos()?;
        let mut decl = Vec::new();
        let mut is_assign = false;
        if allow_decl && self.peek()? == Kind::Variable {
            // Look ahead over `$a, $b` for `:=` or `=`; without one the
            // variables are the start of a command.
            let mut k = 0;
            let mut count = 0;
            while self.peek_at(k)? == Kind::Variable {
                count += 1;
                k += 1;
                if self.peek_at(k)? == Kind::Comma {
                    k += 1;
                }
            }
            let op = self.peek_at(k)?;
            if matches!(op, Kind::Declare | Kind::Assign) {
                is_assign = op == Kind::Assign;
                decl.reserve(count);
                for _ in 0..=k {
                    let t = self.next()?;
                    if t.kind == Kind::Variable {
                        decl.push(SmolStr::from(t.val.as_ref()));
                    }
                }
            }
        }
        if (!multi_decl && decl.len() > 1) || decl.len() > 2 {
            return Err(Reject);
        }
        // Room for the `__print` command the Rewriter appends to actions.
        let mut commands = Vec::with_capacity(2);
        commands.push(self.command()?);
        while self.peek()? == Kind::Pipe {
            self.next()?;
            commands.push(self.command()?);
        }
        Ok(PipeNode {
            pos,
            decl,
            commands,
            is_assign,
        })
    }

    fn command(&mut self) -> R<CommandNode> {
        let pos = self.cur_pos()?;
        let base = self.args.len();
        loop {
            let arg = match self.peek()? {
                Kind::LeftParen => {
                    let t = self.next()?;
                    let at = pos_of(&t);
                    self.enter()?;
                    let pipe = self.pipeline(false, false)?;
                    self.leave();
                    self.expect(Kind::RightParen)?;
                    let fields = self.chain(self.last_pos + 1, Vec::new())?;
                    let inner = Expr::Pipe(at, pipe);
                    if fields.is_empty() {
                        inner
                    } else {
                        Expr::Chain(at, Box::new(inner), fields)
                    }
                }
                Kind::Dot => {
                    let t = self.next()?;
                    let fields = self.chain(t.pos + 1, Vec::new())?;
                    if fields.is_empty() {
                        Expr::Dot(pos_of(&t))
                    } else {
                        Expr::Field(pos_of(&t), fields)
                    }
                }
                Kind::Field => {
                    let t = self.next()?;
                    let mut fields = Vec::new();
                    split_fields(&t.val, &mut fields);
                    let fields = self.chain(t.pos + t.val.len(), fields)?;
                    Expr::Field(pos_of(&t), fields)
                }
                Kind::Variable => {
                    let t = self.next()?;
                    let fields = self.chain(t.pos + t.val.len(), Vec::new())?;
                    Expr::Variable(pos_of(&t), SmolStr::from(t.val.as_ref()), fields)
                }
                Kind::Identifier => {
                    let t = self.next()?;
                    let fields = self.chain(t.pos + t.val.len(), Vec::new())?;
                    let ident = Expr::Identifier(pos_of(&t), SmolStr::from(t.val.as_ref()));
                    if fields.is_empty() {
                        ident
                    } else {
                        Expr::Chain(pos_of(&t), Box::new(ident), fields)
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
            self.args.push(arg);
        }
        if self.args.len() == base {
            return Err(Reject);
        }
        let args = self.args.drain(base..).collect();
        Ok(CommandNode { pos, args })
    }

    /// Appends the `.field` tokens that directly follow (no space) a term
    /// ending at `end`.
    fn chain(&mut self, mut end: usize, mut fields: Vec<SmolStr>) -> R<Vec<SmolStr>> {
        loop {
            let t = self.token(0)?;
            if t.kind != Kind::Field || t.pos != end {
                return Ok(fields);
            }
            let t = self.next()?;
            end = t.pos + t.val.len();
            split_fields(&t.val, &mut fields);
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
