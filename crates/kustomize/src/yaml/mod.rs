//! YAML in and out: reading with go-yaml v3's typing of plain scalars (what
//! kustomize reads with), printing with go-yaml v2's emitter rules (what
//! kustomize prints with).

pub mod emit;
pub mod parse;
pub(crate) mod resolve;

pub use emit::to_string;
pub use parse::{Document, parse_documents, parse_documents_yaml11};
