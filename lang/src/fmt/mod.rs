//! The canonical formatter behind `jspec fmt`: two spaces per block level, one statement per
//! line, single spaces between tokens, every comment and (collapsed) blank line kept. Literal
//! tokens (strings, durations, numbers) are printed from the source, so their spelling and
//! escapes survive; multi-line triple-quoted strings are re-indented without changing their
//! value.

mod case;
mod expect;
mod fault;
mod item;
mod printer;
mod session;
mod stmt;
mod string;

use crate::ast;
use crate::span::SourceId;

pub use string::quote;

/// Formats a parsed file canonically. `src` is the file's text (literal tokens such as strings,
/// durations, numbers are printed from their source spans, so escapes and spelling are
/// preserved).
pub fn format_file(file: &ast::File, src: &str) -> String {
    let mut printer = printer::Printer::new(src);
    item::file(&mut printer, file);
    printer.finish()
}

/// Parses and formats; None if the text has a syntax error.
pub fn format_text(text: &str) -> Option<String> {
    // The source id only labels diagnostics, which formatting does not report.
    let parsed = crate::parse::parse_file(SourceId(0), text);
    parsed.tree.map(|tree| format_file(&tree, text))
}
