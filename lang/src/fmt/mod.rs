//! Canonical formatting (being written on branch h-fmt; this interim version keeps text as is).

/// Parses and formats; `None` if the text has a syntax error.
pub fn format_text(text: &str) -> Option<String> {
    let parsed = crate::parse::parse_file(crate::span::SourceId(0), text);
    parsed.tree.map(|_| text.to_string())
}
