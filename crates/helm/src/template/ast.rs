//! The parsed form of a template file: gotmpl's AST in shape (node for node,
//! position for position, see [`Tree::to_gotmpl`]), but each kind of node in
//! one vector per file, linked by index, and texts as ranges of the source
//! the tree keeps. A chart's templates are a million and a half bytes and
//! tens of thousands of nodes: a node per allocation, and a copy of every
//! text, made parsing and freeing the trees a third of a render.

use std::sync::Arc;

use gotmpl::parse::{
    ActionNode, BranchNode, CommandNode, DefineNode, ListNode, Node as GoNode, Number, PipeNode,
    Pos as GoPos, SmolStr, TemplateNode, TextNode,
};

/// Byte offset and line, as gotmpl's `Pos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub offset: u32,
    pub line: u32,
}

impl Pos {
    fn go(self) -> GoPos {
        GoPos::new(self.offset as usize, self.line as usize)
    }
}

/// Elements `start..end` of one of the tree's vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

#[derive(Debug)]
pub struct Tree {
    /// The text the tree was parsed from; `Text` nodes are ranges of it.
    pub src: Arc<str>,
    pub nodes: Vec<Node>,
    pub pipes: Vec<Pipe>,
    pub commands: Vec<Command>,
    pub exprs: Vec<Expr>,
    /// Field names and declared variables.
    pub names: Vec<SmolStr>,
    pub main: List,
    pub defines: Vec<Define>,
}

#[derive(Debug, Clone, Copy)]
pub struct List {
    pub pos: Pos,
    /// In `nodes`.
    pub nodes: Span,
}

#[derive(Debug)]
pub struct Define {
    pub pos: Pos,
    pub name: SmolStr,
    pub body: List,
}

/// An index in `pipes`.
pub type PipeId = u32;
/// An index in `exprs`.
pub type ExprId = u32;

#[derive(Debug)]
pub enum Node {
    /// A range of `src`.
    Text(Pos, Span),
    Action(Pos, PipeId),
    If(Branch),
    Range(Branch),
    With(Branch),
    Template(Pos, SmolStr, Option<PipeId>),
    Break(Pos),
    Continue(Pos),
}

#[derive(Debug)]
pub struct Branch {
    pub pos: Pos,
    pub pipe: PipeId,
    pub body: List,
    pub else_body: Option<List>,
}

#[derive(Debug)]
pub struct Pipe {
    pub pos: Pos,
    /// In `names`.
    pub decl: Span,
    pub is_assign: bool,
    /// In `commands`.
    pub commands: Span,
}

#[derive(Debug)]
pub struct Command {
    pub pos: Pos,
    /// In `exprs`.
    pub args: Span,
}

/// Fields are spans of `names`.
#[derive(Debug)]
pub enum Expr {
    Dot(Pos),
    Field(Pos, Span),
    Variable(Pos, SmolStr, Span),
    Identifier(Pos, SmolStr),
    String(Pos, Arc<str>),
    Number(Pos, Number),
    Bool(Pos, bool),
    Nil(Pos),
    Pipe(Pos, PipeId),
    Chain(Pos, ExprId, Span),
}

impl Tree {
    pub fn nodes(&self, list: &List) -> &[Node] {
        &self.nodes[list.nodes.range()]
    }

    pub fn text(&self, span: Span) -> &str {
        &self.src[span.range()]
    }

    pub fn names(&self, span: Span) -> &[SmolStr] {
        &self.names[span.range()]
    }

    pub fn commands(&self, pipe: &Pipe) -> &[Command] {
        &self.commands[pipe.commands.range()]
    }

    pub fn args(&self, cmd: &Command) -> &[Expr] {
        &self.exprs[cmd.args.range()]
    }

    /// Whether `list` holds nothing but white space (Go's `IsEmptyTree`):
    /// such a definition does not replace an earlier one.
    pub fn is_empty(&self, list: &List) -> bool {
        self.nodes(list).iter().all(|n| match n {
            Node::Text(_, t) => self.text(*t).chars().all(char::is_whitespace),
            _ => false,
        })
    }

    /// The same tree as gotmpl's parser builds it: what the parser tests
    /// compare.
    pub fn to_gotmpl(&self) -> (ListNode, Vec<DefineNode>) {
        let defines = self
            .defines
            .iter()
            .map(|d| DefineNode {
                pos: d.pos.go(),
                name: d.name.clone(),
                body: self.go_list(&d.body),
            })
            .collect();
        (self.go_list(&self.main), defines)
    }

    fn go_list(&self, list: &List) -> ListNode {
        ListNode {
            pos: list.pos.go(),
            nodes: self.nodes(list).iter().map(|n| self.go_node(n)).collect(),
        }
    }

    fn go_node(&self, n: &Node) -> GoNode {
        let branch = |b: &Branch| BranchNode {
            pos: b.pos.go(),
            pipe: self.go_pipe(b.pipe),
            body: self.go_list(&b.body),
            else_body: b.else_body.as_ref().map(|e| self.go_list(e)),
        };
        match n {
            Node::Text(p, t) => GoNode::Text(TextNode {
                pos: p.go(),
                text: Arc::from(self.text(*t)),
            }),
            Node::Action(p, pipe) => GoNode::Action(ActionNode {
                pos: p.go(),
                pipe: self.go_pipe(*pipe),
            }),
            Node::If(b) => GoNode::If(branch(b)),
            Node::Range(b) => GoNode::Range(branch(b)),
            Node::With(b) => GoNode::With(branch(b)),
            Node::Template(p, name, pipe) => GoNode::Template(TemplateNode {
                pos: p.go(),
                name: name.clone(),
                pipe: pipe.map(|id| self.go_pipe(id)),
            }),
            Node::Break(p) => GoNode::Break(p.go()),
            Node::Continue(p) => GoNode::Continue(p.go()),
        }
    }

    fn go_pipe(&self, id: PipeId) -> PipeNode {
        let pipe = &self.pipes[id as usize];
        PipeNode {
            pos: pipe.pos.go(),
            decl: self.names(pipe.decl).to_vec(),
            commands: self
                .commands(pipe)
                .iter()
                .map(|c| CommandNode {
                    pos: c.pos.go(),
                    args: self.args(c).iter().map(|e| self.go_expr(e)).collect(),
                })
                .collect(),
            is_assign: pipe.is_assign,
        }
    }

    fn go_expr(&self, e: &Expr) -> gotmpl::parse::Expr {
        use gotmpl::parse::Expr as G;
        match e {
            Expr::Dot(p) => G::Dot(p.go()),
            Expr::Field(p, f) => G::Field(p.go(), self.names(*f).to_vec()),
            Expr::Variable(p, n, f) => G::Variable(p.go(), n.clone(), self.names(*f).to_vec()),
            Expr::Identifier(p, n) => G::Identifier(p.go(), n.clone()),
            Expr::String(p, s) => G::String(p.go(), s.clone()),
            Expr::Number(p, n) => G::Number(p.go(), *n),
            Expr::Bool(p, b) => G::Bool(p.go(), *b),
            Expr::Nil(p) => G::Nil(p.go()),
            Expr::Pipe(p, id) => G::Pipe(p.go(), self.go_pipe(*id)),
            Expr::Chain(p, inner, f) => G::Chain(
                p.go(),
                Box::new(self.go_expr(&self.exprs[*inner as usize])),
                self.names(*f).to_vec(),
            ),
        }
    }
}
