//! Hover: a line keyword's usage line, or a called procedure's signature and doc comment.

use jspec_lang::parse::usage::usage;
use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::documents::Analysis;
use super::position::{LineIndex, line_prefix, word_at};

pub(crate) fn hover(analysis: &Analysis, offset: usize) -> Option<Hover> {
    let text = analysis.text();
    let (start, word) = word_at(text, offset)?;
    let first_on_line = line_prefix(text, start).1.trim().is_empty();
    let value = if let Some(procedure) = analysis.procedure(word).filter(|_| first_on_line) {
        let mut value = format!("```jspec\n{}\n```", procedure.signature());
        if !procedure.doc.is_empty() {
            value = format!("{value}\n\n{}", procedure.doc.join("\n"));
        }
        value
    } else {
        let usage = usage(word).filter(|_| first_on_line)?;
        format!("```jspec\n{usage}\n```")
    };
    let index = LineIndex::new(text);
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(lsp_types::Range::new(
            index.position(start),
            index.position(start + word.len()),
        )),
    })
}
