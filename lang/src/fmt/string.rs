//! Strings and the other literal tokens. A string is printed as written (escapes, spelling and
//! interpolations kept); a triple-quoted string over several lines is re-indented one level
//! deeper than its line, which the parser's dedent turns back into the same value.

use super::printer::Printer;
use crate::ast::{Count, Duration, Percent, Rate, Str, StrPart};

const TRIPLE: &str = "\"\"\"";

/// Prints a string literal.
pub(crate) fn string(p: &mut Printer<'_>, s: &Str) {
    let written = p.slice(s.span);
    if !is_literal(written, s.triple) {
        p.text(&quoted(s));
    } else if s.triple && written.contains('\n') {
        triple_lines(p, written);
    } else {
        p.text(written);
    }
}

/// Whether the string prints on one line.
pub(crate) fn is_one_line(p: &Printer<'_>, s: &Str) -> bool {
    let written = p.slice(s.span);
    !(s.triple && is_literal(written, true) && written.contains('\n'))
}

/// Whether the source slice is the literal itself (the span may not match a hand-built tree).
fn is_literal(written: &str, triple: bool) -> bool {
    let quote = if triple { TRIPLE } else { "\"" };
    written.len() >= 2 * quote.len() && written.starts_with(quote) && written.ends_with(quote)
}

/// A multi-line triple-quoted string. The parser drops a blank first line and a blank last
/// line, keeps a first line written after the opening quotes as is, and removes from the other
/// lines the indentation they share; this prints what it keeps so that the same value comes
/// back: first line on the opening quotes, the others at the content width, the closing quotes
/// on their own line.
fn triple_lines(p: &mut Printer<'_>, written: &str) {
    let content = &written[TRIPLE.len()..written.len() - TRIPLE.len()];
    let mut lines: Vec<&str> = content.split('\n').collect();
    let last = lines.len() - 1;
    // `\r\n` becomes `\n`: drop the carriage return of every line that a newline ends.
    for line in &mut lines[..last] {
        *line = line.strip_suffix('\r').unwrap_or(line);
    }
    let end = if is_blank(lines[last]) {
        last
    } else {
        last + 1
    };
    let body = lines.get(1..end).unwrap_or_default();
    let indent = body
        .iter()
        .filter(|l| !is_blank(l))
        .map(|l| leading(l))
        .min();

    p.text(TRIPLE);
    if !is_blank(lines[0]) {
        p.text(lines[0]);
    }
    p.end_line();
    // Lines of only spaces do not count for the indentation the parser removes: when every line
    // is such, it removes nothing, so nothing may be added either.
    let width = if indent.is_some() {
        p.content_width()
    } else {
        0
    };
    let indent = indent.unwrap_or(0);
    for line in body {
        let cut = indent.min(leading(line));
        p.content_line(width, &line[cut..]);
    }
    p.text(TRIPLE);
}

/// Whether a line holds only whitespace, as the parser's dedent judges it.
fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Bytes of leading spaces and tabs.
fn leading(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// A string's value as a `"..."` literal, for trees whose spans do not point into the source.
fn quoted(s: &Str) -> String {
    let mut out = String::from("\"");
    for part in &s.parts {
        match part {
            StrPart::Text(text) => escape(&mut out, text),
            StrPart::Interp(interp) => out.push_str(&interp.written()),
        }
    }
    out.push('"');
    out
}

/// Text as a one-line `"..."` literal whose value is the text: `\" \\ \n \t \$` escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    escape(&mut out, text);
    out.push('"');
    out
}

/// Text as it stands inside a `"..."` literal.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
}

/// A comma-separated list of strings: `"a", "b"`.
pub(crate) fn strings(p: &mut Printer<'_>, list: &[Str]) {
    p.separated(list, ", ", string);
}

pub(crate) fn duration(p: &mut Printer<'_>, d: &Duration) {
    p.token(d.span, || format!("{}ms", d.millis));
}

pub(crate) fn percent(p: &mut Printer<'_>, percent: &Percent) {
    p.token(percent.span, || format!("{}%", percent.value));
}

pub(crate) fn rate(p: &mut Printer<'_>, rate: &Rate) {
    p.token(rate.span, || format!("{}bit", rate.bits_per_second));
}

pub(crate) fn count(p: &mut Printer<'_>, count: &Count) {
    p.token(count.span, || count.value.to_string());
}
