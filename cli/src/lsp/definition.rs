//! Go to definition: a procedure call to the procedure, a `use "file"` to the file.

use lsp_types::{Location, Range};

use super::documents::Analysis;
use super::position::{LineIndex, word_at};

pub(crate) fn definition(analysis: &Analysis, offset: usize) -> Option<Location> {
    let module = analysis.program.module(analysis.root);
    let in_use = module
        .uses
        .iter()
        .find(|(span, _)| span.range().contains(&offset) || span.end as usize == offset);
    if let Some((_, target)) = in_use {
        let uri = analysis.uri_of((*target)?)?;
        return Some(Location::new(uri, Range::default()));
    }
    let (_, word) = word_at(analysis.text(), offset)?;
    let procedure = analysis.procedure(word)?;
    let uri = analysis.uri_of(procedure.file)?;
    let text = analysis.program.sources.get(procedure.file).text();
    let range = LineIndex::new(text).range(procedure.procedure.name.span);
    Some(Location::new(uri, range))
}
