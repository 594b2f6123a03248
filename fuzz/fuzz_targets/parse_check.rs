//! Any text must load, check and render without panicking, and every diagnostic must point at
//! text that exists (labels inside their file, on character boundaries).

#![no_main]

use jspec_lang::check::{CheckOptions, check};
use jspec_lang::diagnostic::{Diagnostic, RenderOptions, render_all};
use jspec_lang::load::Program;
use jspec_lang::span::SourceMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let program = Program::from_text("fuzz.jspec", text);
    let report = check(&program, &CheckOptions::default());
    for diagnostic in &report.diagnostics {
        assert_spans_valid(diagnostic, &program.sources);
    }
    let rendered = render_all(
        &report.diagnostics,
        &program.sources,
        RenderOptions::plain(),
    );
    assert!(
        report.diagnostics.is_empty() || !rendered.is_empty(),
        "diagnostics rendered to nothing"
    );
});

fn assert_spans_valid(diagnostic: &Diagnostic, sources: &SourceMap) {
    let text = sources.get(diagnostic.file).text();
    for label in &diagnostic.labels {
        let (start, end) = (label.span.start as usize, label.span.end as usize);
        assert!(
            start <= end
                && end <= text.len()
                && text.is_char_boundary(start)
                && text.is_char_boundary(end),
            "label {start}..{end} of {:?} ({}) is not a span of its {}-byte file",
            diagnostic.code,
            diagnostic.message,
            text.len(),
        );
    }
    for related in &diagnostic.related {
        assert_spans_valid(related, sources);
    }
}
