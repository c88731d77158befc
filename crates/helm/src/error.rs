use std::fmt;

/// Why a chart could not be loaded or rendered. The text reads like Helm's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The chart (or a file in it) could not be read or is malformed.
    Chart(String),
    /// A values file or `--set` expression is malformed.
    Values(String),
    /// A template failed to parse: `parse error at (file:line): message`.
    Parse(String),
    /// A template failed while running.
    Exec(String),
    /// A rendered manifest is not valid YAML, or another output problem.
    Output(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Chart(m)
            | Error::Values(m)
            | Error::Parse(m)
            | Error::Exec(m)
            | Error::Output(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}
