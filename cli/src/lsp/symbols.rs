//! Document symbols: each case (C-id and title) with its steps as children, and the procedures.

use jspec_lang::ast::{CaseEntryKind, ItemKind, Str};
use lsp_types::{DocumentSymbol, SymbolKind};

use super::documents::Analysis;
use super::position::LineIndex;

pub(crate) fn symbols(analysis: &Analysis) -> Vec<DocumentSymbol> {
    let Some(ast) = &analysis.program.module(analysis.root).ast else {
        return Vec::new();
    };
    let index = LineIndex::new(analysis.text());
    let mut out = Vec::new();
    for item in &ast.items {
        match &item.kind {
            ItemKind::Case(case) => {
                let title = title(case.title.clone());
                let name = match &case.id {
                    Some(id) => format!("C{} {title}", id.number),
                    None => title,
                };
                let steps = case.entries.iter().filter_map(|entry| match &entry.kind {
                    CaseEntryKind::Step { title: step, .. } => Some(symbol(
                        &index,
                        self::title(step.clone()),
                        SymbolKind::EVENT,
                        entry.span,
                        step.span,
                        None,
                    )),
                    _ => None,
                });
                let steps = steps.collect();
                out.push(symbol(
                    &index,
                    name,
                    SymbolKind::CLASS,
                    item.span,
                    case.header,
                    Some(steps),
                ));
            }
            ItemKind::Procedure(procedure) => out.push(symbol(
                &index,
                procedure.name.text.clone(),
                SymbolKind::FUNCTION,
                item.span,
                procedure.name.span,
                None,
            )),
            ItemKind::Suite(_) | ItemKind::Section(_) | ItemKind::Use(_) => {}
        }
    }
    out
}

fn title(text: Str) -> String {
    let title = text.display();
    if title.trim().is_empty() {
        "(untitled)".to_string()
    } else {
        title
    }
}

fn symbol(
    index: &LineIndex<'_>,
    name: String,
    kind: SymbolKind,
    span: jspec_lang::span::Span,
    selection: jspec_lang::span::Span,
    children: Option<Vec<DocumentSymbol>>,
) -> DocumentSymbol {
    // `deprecated` is a field of the type that the protocol replaced by `tags`.
    #[allow(deprecated)]
    DocumentSymbol {
        name,
        detail: None,
        kind,
        tags: None,
        deprecated: None,
        range: index.range(span),
        selection_range: index.range(selection),
        children,
    }
}
