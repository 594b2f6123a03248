//! `jspec import scansion`: Prosody's protocol test scripts (scansion, `.scs`) as `.jspec`
//! cases, one case per script, faithful to what the script checks:
//!
//! - each `[Client]` is a session of a user of the one server role `a`; two clients of one
//!   account are two sessions of one user (`juliet`, `juliet/mobile`); the account
//!   `admin@localhost`, an administrator in Prosody's test configuration, is `as admin`;
//! - `X connects` opens a session without initial presence, as scansion's client does;
//! - `X receives:` is `expect X receives next`: scansion fails on any stanza other than the one
//!   it expects, so nothing may come first; its strict matching of namespaced elements is
//!   written out with `jspec:strict`;
//! - addresses at `localhost` become the lab server's; rooms become the case's rooms, whose
//!   names are unique to each run.
//!
//! What cannot be expressed is kept and said in a comment, never dropped.

mod emit;
mod parse;
mod rewrite;

/// A script that cannot be read, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScansionError {
    /// 1-based line and column.
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: String,
}

impl ScansionError {
    pub(crate) fn new(
        line: usize,
        column: usize,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> ScansionError {
        ScansionError {
            line,
            column,
            message: message.into(),
            help: help.into(),
        }
    }
}

/// One script as a `.jspec` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// The file's text, formatted as `jspec fmt` writes it.
    pub jspec: String,
    /// What the import could not carry over as it is (also written as comments in the file).
    pub notes: Vec<String>,
}

/// Converts the text of a scansion script; `source` names it in the file's first comment.
pub fn import(text: &str, source: &str) -> Result<Imported, ScansionError> {
    let script = parse::parse(text)?;
    emit::emit(&script, source)
}

#[cfg(test)]
mod tests;
