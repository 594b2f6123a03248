//! Raw XML in strings: well-formedness, and the `{$name}` captures a pattern defines.

use crate::ast::{Str, StrPart};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{SourceId, Span};

/// The namespace of a pattern's `jspec:` attributes (`jspec:absent`), declared for every
/// pattern so that writers need not.
pub const PATTERN_NS: &str = "urn:jspec:pattern";

/// Checks that a raw stanza or XML pattern is one well-formed element. Interpolations are
/// replaced by placeholders of the same length, so error positions map back to the source.
/// In a pattern the `jspec:` prefix is declared.
pub(crate) fn check(file: SourceId, src: &str, string: &Str, pattern: bool) -> Option<Diagnostic> {
    let content = string.content_span();
    let (text, exact) = if string.triple {
        // Triple-quoted strings have no escapes: the source slice is the text, offset for offset.
        let mut text = src.get(content.range()).unwrap_or("").to_string();
        for interp in string.interpolations() {
            let start = (interp.span.start - content.start) as usize;
            let end = (interp.span.end - content.start) as usize;
            if end <= text.len() {
                text.replace_range(start..end, &"x".repeat(end - start));
            }
        }
        (text, true)
    } else {
        let text: String = string
            .parts
            .iter()
            .map(|part| match part {
                StrPart::Text(text) => text.clone(),
                StrPart::Interp(interp) => "x".repeat(interp.span.len()),
            })
            .collect();
        (text, false)
    };
    if !text.trim_start().starts_with('<') {
        return Some(
            Diagnostic::error(Code::XmlNotWellFormed, file, "raw stanza is not XML")
                .with_label(string.span, "does not start with `<`")
                .with_help(r#"write the stanza in a triple-quoted string: """<message to="${bob.jid}"><body>hi</body></message>""""#),
        );
    }
    let (parsed, declared) = match pattern {
        true => declare_pattern_prefix(&text),
        false => (text.clone(), None),
    };
    let error = roxmltree::Document::parse(&parsed).err()?;
    let position = error.pos();
    let span = if exact {
        let mut offset = offset_of(&parsed, position.row as usize, position.col as usize);
        if let Some((at, len)) = declared
            && offset >= at
        {
            offset = offset.saturating_sub(len).max(at);
        }
        let at = content.start as usize + offset;
        // One character, whatever its width in bytes.
        let width = src
            .get(at..)
            .and_then(|rest| rest.chars().next())
            .map_or(0, char::len_utf8);
        Span::new(at, (at + width).min(content.end as usize).max(at))
    } else {
        string.span
    };
    Some(
        Diagnostic::error(Code::XmlNotWellFormed, file, "XML is not well-formed")
            .with_label(span, error.to_string())
            .with_help("a stanza is one XML element: close every tag, quote attribute values, escape & and < as &amp; and &lt;"),
    )
}

/// The text with `xmlns:jspec="..."` added to the first start tag, and where it was added (byte
/// offset and length), so that error positions can be mapped back.
fn declare_pattern_prefix(text: &str) -> (String, Option<(usize, usize)>) {
    let Some(open) = text.find('<') else {
        return (text.to_string(), None);
    };
    let name_len = text[open + 1..]
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(text.len() - open - 1);
    let at = open + 1 + name_len;
    let declaration = format!(" xmlns:jspec=\"{PATTERN_NS}\"");
    let mut out = text.to_string();
    out.insert_str(at, &declaration);
    (out, Some((at, declaration.len())))
}

/// The names captured by `{$name}` in a pattern.
pub(crate) fn captures(string: &Str) -> Vec<String> {
    let mut names = Vec::new();
    for part in &string.parts {
        if let StrPart::Text(text) = part {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("{$") {
                let after = &rest[start + 2..];
                match after.find('}') {
                    Some(end) => {
                        names.push(after[..end].to_string());
                        rest = &after[end + 1..];
                    }
                    None => break,
                }
            }
        }
    }
    names
}

/// Byte offset of a 1-based row and column (in characters).
fn offset_of(text: &str, row: usize, col: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(row.saturating_sub(1))
        .map(str::len)
        .sum();
    let line = &text[line_start.min(text.len())..];
    let in_line: usize = line
        .chars()
        .take(col.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (line_start + in_line).min(text.len())
}
