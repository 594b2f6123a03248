//! The checker's diagnostics as LSP diagnostics: code, severity, the primary label's range, the
//! other labels and related diagnostics as related information, and a did-you-mean suggestion in
//! `data` for the quick fix (actions.rs).

use jspec_lang::diagnostic::{Diagnostic, Severity};
use jspec_lang::span::SourceId;
use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range,
};

use super::documents::Analysis;
use super::position::LineIndex;

/// What a diagnostic's `data` carries: the replacement text for its range.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Suggestion {
    pub(crate) replacement: String,
}

/// The diagnostics of the analysed document itself (those of used files are theirs).
pub(crate) fn for_document(analysis: &Analysis) -> Vec<lsp_types::Diagnostic> {
    let index = LineIndex::new(analysis.text());
    analysis
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.file == analysis.root)
        .map(|diagnostic| convert(analysis, &index, diagnostic))
        .collect()
}

fn convert(
    analysis: &Analysis,
    index: &LineIndex<'_>,
    diagnostic: &Diagnostic,
) -> lsp_types::Diagnostic {
    let range = diagnostic
        .primary_span()
        .map_or_else(Range::default, |span| index.range(span));
    let mut related = Vec::new();
    for label in diagnostic.labels.iter().skip(1) {
        related.extend(
            location(analysis, diagnostic.file, label.span).map(|location| {
                DiagnosticRelatedInformation {
                    location,
                    message: label.text.clone(),
                }
            }),
        );
    }
    for other in &diagnostic.related {
        let Some(label) = other.labels.first() else {
            continue;
        };
        related.extend(location(analysis, other.file, label.span).map(|location| {
            DiagnosticRelatedInformation {
                location,
                message: format!("{}: {}", other.message, label.text),
            }
        }));
    }
    let mut message = diagnostic.message.clone();
    if let Some(label) = diagnostic.labels.first().filter(|l| !l.text.is_empty()) {
        message = format!("{message}: {}", label.text);
    }
    if let Some(help) = &diagnostic.help {
        message = format!("{message}\nhelp: {help}");
    }
    lsp_types::Diagnostic {
        range,
        severity: Some(match diagnostic.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        source: Some("jspec".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        data: diagnostic.suggestion.as_ref().and_then(|replacement| {
            serde_json::to_value(Suggestion {
                replacement: replacement.clone(),
            })
            .ok()
        }),
        ..lsp_types::Diagnostic::default()
    }
}

/// A span of any loaded file as a location; `None` for the standard library (no URI to open).
fn location(analysis: &Analysis, file: SourceId, span: jspec_lang::span::Span) -> Option<Location> {
    let uri = analysis.uri_of(file)?;
    let text = analysis.program.sources.get(file).text();
    Some(Location::new(uri, LineIndex::new(text).range(span)))
}
