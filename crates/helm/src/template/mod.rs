//! Our own lexer, parser and executor for Go templates. The parser builds
//! the tree gotmpl 0.6.1's parser (`gotmpl::parse`) builds, node for node,
//! in a compact form of its own ([`ast`]); the executor ([`exec`]) runs it.
//!
//! Why not gotmpl's parser: its lexer walks text one character at a time,
//! testing for `{{` at every byte, and tokenises the whole input up front;
//! on charts with large CRD templates that was about a fifth of `skiff helm
//! template`. Here text runs are found with a SIMD substring search, lines
//! are counted per slice, and tokens are produced on demand.
//!
//! Errors are not ours to word: when this parser rejects a template, gotmpl
//! parses it again for its error. The exception is what Go refuses and
//! gotmpl accepts (a stray `{{end}}`, an unclosed `{{if}}`, ...): that error
//! is Go's. `tests/template_parser.rs` checks both parsers agree on every
//! chart template of the corpus, on hand-written cases and on random
//! mutations.

pub(crate) mod ast;
mod builtins;
pub(crate) mod exec;
mod lex;
mod parse;

use gotmpl::parse::{DefineNode, ListNode};
use parse::Strict;
pub(crate) use parse::{Adapt, POS_MARK};

/// A tree in gotmpl's own types: its main list and the templates it defines.
pub type GoTree = (ListNode, Vec<DefineNode>);

/// Parses `src` as `gotmpl::parse::Parser` does, errors included (`name`
/// prefixes them), adapted for Helm when `adapt` says so. Where gotmpl
/// accepts a template Go rejects, the error is Go's (as Helm reports it).
pub(crate) fn parse(
    name: Option<&str>,
    src: &str,
    adapt: Option<Adapt<'_>>,
) -> Result<ast::Tree, gotmpl::TemplateError> {
    let (line, message) = match parse::parse(src, adapt) {
        (Ok(tree), None) => return Ok(tree),
        // Go stops reading there: what follows cannot fail it.
        (_, Some(Strict::Unexpected(line, what))) => (line, format!("unexpected {what}")),
        (_, Some(Strict::Refused(line, message))) => (line, message),
        (Ok(_), Some(Strict::Eof)) => (
            1 + memchr::memchr_iter(b'\n', src.as_bytes()).count(),
            "unexpected EOF".to_string(),
        ),
        // The error is gotmpl's to word. (Should gotmpl accept what ours
        // refuses, which the parser tests rule out, it is still an error.)
        (Err(_), _) => {
            parse_with_gotmpl(name, src)?;
            (0, "template refused by skiff's parser".to_string())
        }
    };
    Err(gotmpl::TemplateError::Parse {
        name: name.map(str::to_string),
        line,
        col: 0,
        message,
    })
}

/// Our parser alone, as lenient as gotmpl's, its tree in gotmpl's types;
/// `None` when it does not accept `src`.
pub fn parse_ours(src: &str) -> Option<GoTree> {
    parse::parse(src, None).0.ok().map(|t| t.to_gotmpl())
}

/// Our parser alone, its own tree: whether it accepts `src` (for timing).
pub fn parse_ours_only(src: &str) -> bool {
    parse::parse(src, None).0.is_ok()
}

/// gotmpl's own parser, the reference.
pub fn parse_with_gotmpl(name: Option<&str>, src: &str) -> Result<GoTree, gotmpl::TemplateError> {
    gotmpl::parse::Parser::with_name(name, src, "{{", "}}")?.parse()
}
