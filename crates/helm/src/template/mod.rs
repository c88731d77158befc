//! Our own lexer and parser for Go templates, producing exactly the AST of
//! `gotmpl` 0.6.1's parser (`gotmpl::parse`), and the executor that runs it
//! ([`exec`]).
//!
//! Why not gotmpl's: its lexer walks text one character at a time, testing
//! for `{{` at every byte, and tokenises the whole input up front; on charts
//! with large CRD templates that was about a fifth of `skiff helm template`.
//! Here text runs are found with a SIMD substring search, lines are counted
//! per slice, and tokens are produced on demand.
//!
//! Errors are not ours to word: when this parser rejects a template, gotmpl
//! parses it again, so the error (or, should gotmpl accept it after all, the
//! tree) is gotmpl's. The exception is what Go refuses and gotmpl accepts
//! (a stray `{{end}}`, an unclosed `{{if}}`, ...): that error is Go's. `tests/template_parser.rs` checks both parsers agree on
//! every chart template of the corpus, on hand-written cases and on random
//! mutations.

mod builtins;
pub(crate) mod exec;
mod lex;
mod parse;

use gotmpl::parse::{DefineNode, ListNode};
use parse::Strict;

/// A parsed template: its main list and the templates it defines.
pub type Tree = (ListNode, Vec<DefineNode>);

/// Parses `src` the way `gotmpl::parse::Parser` does, errors included
/// (`name` prefixes them).
/// Where gotmpl accepts a template Go rejects, the error is Go's (as Helm
/// reports it).
pub fn parse(name: Option<&str>, src: &str) -> Result<Tree, gotmpl::TemplateError> {
    let (line, message) = match parse::parse(src) {
        (Ok(tree), None) => return Ok(tree),
        // Go stops reading there: what follows cannot fail it.
        (_, Some(Strict::Unexpected(line, what))) => (line, format!("unexpected {what}")),
        (Ok(_), Some(Strict::Eof)) => (
            1 + memchr::memchr_iter(b'\n', src.as_bytes()).count(),
            "unexpected EOF".to_string(),
        ),
        (Err(_), _) => return parse_with_gotmpl(name, src),
    };
    Err(gotmpl::TemplateError::Parse {
        name: name.map(str::to_string),
        line,
        col: 0,
        message,
    })
}

/// Our parser alone, as lenient as gotmpl's; `None` when it does not accept
/// `src`.
pub fn parse_ours(src: &str) -> Option<Tree> {
    parse::parse(src).0.ok()
}

/// gotmpl's own parser, the reference.
pub fn parse_with_gotmpl(name: Option<&str>, src: &str) -> Result<Tree, gotmpl::TemplateError> {
    gotmpl::parse::Parser::with_name(name, src, "{{", "}}")?.parse()
}
