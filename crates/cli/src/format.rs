//! The `-o` values every cluster command accepts.

use clap::ValueEnum;

/// How a cluster command prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// The table with more columns and nothing shortened.
    Wide,
    /// A JSON document for scripts.
    Json,
    /// The same document as YAML.
    Yaml,
}
