//! Rendering with miette: the same code path for the terminal (colours) and for tests (plain).

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};

use std::collections::HashMap;

use super::{Diagnostic, Severity};
use crate::span::{SourceId, SourceMap};

/// How to render diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub color: bool,
    /// Text width for wrapping messages.
    pub width: usize,
}

impl RenderOptions {
    /// No colours, fixed width: stable output for files and tests.
    pub fn plain() -> Self {
        RenderOptions {
            color: false,
            width: 100,
        }
    }
}

/// Renders one diagnostic (with its related ones) to a string.
pub fn render(diagnostic: &Diagnostic, sources: &SourceMap, options: RenderOptions) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false);
    let view = View::new(diagnostic, sources);
    let mut out = String::new();
    if handler.render_report(&mut out, &view).is_err() {
        // Rendering into a String only fails if miette itself fails; keep the essentials.
        out = format!("{}: {}\n", diagnostic.code, diagnostic.message);
    }
    out
}

/// At most this many diagnostics of one file are rendered; past it, more rarely helps and a
/// pathological file (thousands of errors on one huge line) would take minutes to print.
pub const MAX_RENDERED_PER_FILE: usize = 100;

/// Renders many diagnostics, one after another, at most [`MAX_RENDERED_PER_FILE`] per file.
pub fn render_all(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    options: RenderOptions,
) -> String {
    let mut out = String::new();
    let mut shown: HashMap<SourceId, usize> = HashMap::new();
    let mut hidden: Vec<(SourceId, usize)> = Vec::new();
    for diagnostic in diagnostics {
        let count = shown.entry(diagnostic.file).or_default();
        if *count < MAX_RENDERED_PER_FILE {
            *count += 1;
            out.push_str(&render(diagnostic, sources, options));
        } else if let Some((_, n)) = hidden.iter_mut().find(|(file, _)| *file == diagnostic.file) {
            *n += 1;
        } else {
            hidden.push((diagnostic.file, 1));
        }
    }
    for (file, n) in hidden {
        let plural = if n == 1 { "" } else { "s" };
        let name = sources.get(file).name();
        out.push_str(&format!(
            "... and {n} more diagnostic{plural} in {name} (only the first {MAX_RENDERED_PER_FILE} are shown)\n"
        ));
    }
    out
}

/// A diagnostic joined with its source, as miette wants it.
#[derive(Debug)]
struct View<'a> {
    diagnostic: &'a Diagnostic,
    sources: &'a SourceMap,
    related: Vec<View<'a>>,
}

impl<'a> View<'a> {
    fn new(diagnostic: &'a Diagnostic, sources: &'a SourceMap) -> Self {
        let related = diagnostic
            .related
            .iter()
            .map(|r| View::new(r, sources))
            .collect();
        View {
            diagnostic,
            sources,
            related,
        }
    }
}

impl std::fmt::Display for View<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.sources.get(self.diagnostic.file).named())
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.diagnostic.labels.is_empty() {
            return None;
        }
        let labels = self.diagnostic.labels.iter().enumerate().map(|(i, label)| {
            let text = (!label.text.is_empty()).then(|| label.text.clone());
            if i == 0 {
                LabeledSpan::new_primary_with_span(text, label.span)
            } else {
                LabeledSpan::new_with_span(text, label.span)
            }
        });
        Some(Box::new(labels))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}
