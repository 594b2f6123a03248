//! Formatting: `jspec fmt` on the buffer, as one edit of the whole text; nothing on a syntax
//! error (the diagnostics say what is wrong).

use lsp_types::TextEdit;

use super::position::LineIndex;

/// `None` when the text does not parse; an empty list when it is formatted already.
pub(crate) fn format(text: &str) -> Option<Vec<TextEdit>> {
    let formatted = jspec_lang::fmt::format_text(text)?;
    if formatted == text {
        return Some(Vec::new());
    }
    Some(vec![TextEdit::new(
        LineIndex::new(text).full_range(),
        formatted,
    )])
}
