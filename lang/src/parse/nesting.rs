//! A guard before parsing: blocks nested deeper than any real scenario would overflow the stack
//! of the recursive builders, checker and formatter, so they are refused with a diagnostic.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::{SourceId, Span};

/// Deepest block nesting accepted (a case is 1, a step 2, a repeat in it 3, ...).
pub const MAX_NESTING: usize = 64;

/// The first `{` that opens a block deeper than [`MAX_NESTING`], outside strings and comments.
pub(super) fn check(file: SourceId, text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += 1;
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::error(Code::TooDeep, file, format!("blocks are nested more than {MAX_NESTING} deep"))
                            .with_label(Span::new(i, i + 1), "this block is too deep")
                            .with_help("flatten the scenario: move inner blocks into procedures, or use repeat instead of nesting"),
                    );
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}
