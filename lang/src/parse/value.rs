//! Builders for values: names, lists, strings (escapes, interpolation, dedent) and quantities.

use pest::iterators::Pair;

use super::Rule;
use super::builder::{Builder, Built, Children, span};
use crate::ast::{Count, Duration, Interp, Name, Percent, Rate, Str, StrPart};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

impl<'s> Builder<'s> {
    /// `ident = @{ ... }`
    pub(crate) fn ident(&mut self, pair: Pair<'s, Rule>) -> Name {
        Name {
            text: pair.as_str().to_string(),
            span: span(&pair),
        }
    }

    /// `name_list = { ident ~ ("," ~ ident)* }`
    pub(crate) fn name_list(&mut self, pair: Pair<'s, Rule>) -> Vec<Name> {
        pair.into_inner().map(|p| self.ident(p)).collect()
    }

    /// `string_list = { string ~ ("," ~ string)* }`
    pub(crate) fn string_list(&mut self, pair: Pair<'s, Rule>) -> Built<Vec<Str>> {
        pair.into_inner().map(|p| self.string(p)).collect()
    }

    /// `string = ${ triple_string | quoted_string }`
    pub(crate) fn string(&mut self, pair: Pair<'s, Rule>) -> Built<Str> {
        let string_span = span(&pair);
        let inner = Children::of(pair).any("a string")?;
        match inner.as_rule() {
            Rule::quoted_string => self.quoted_string(inner, string_span),
            Rule::triple_string => self.triple_string(inner, string_span),
            _ => Err(self.bug(&inner, "a string")),
        }
    }

    /// `quoted_string = ${ "\"" ~ (interp | escape | text)* ~ "\"" }`
    fn quoted_string(&mut self, pair: Pair<'s, Rule>, string_span: Span) -> Built<Str> {
        let mut parts = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::text => push_text(&mut parts, part.as_str()),
                Rule::escape => {
                    let decoded = self.escape(&part);
                    push_text(&mut parts, decoded);
                }
                Rule::interp => parts.push(StrPart::Interp(self.interp(part)?)),
                _ => return Err(self.bug(&part, "a string")),
            }
        }
        Ok(Str {
            parts,
            triple: false,
            span: string_span,
        })
    }

    /// `escape = @{ "\\" ~ ANY }`
    fn escape(&mut self, pair: &Pair<'s, Rule>) -> &'static str {
        match pair.as_str() {
            "\\\"" => "\"",
            "\\\\" => "\\",
            "\\n" => "\n",
            "\\t" => "\t",
            "\\$" => "$",
            other => {
                self.push(
                    Diagnostic::error(
                        Code::BadEscape,
                        self.file,
                        format!("unknown escape `{other}`"),
                    )
                    .with_label(span(pair), "not an escape jspec knows")
                    .with_help(r#"known escapes are \" \\ \n \t \$; write a backslash as \\"#),
                );
                ""
            }
        }
    }

    /// `interp = ${ "${" ~ ident ~ ("." ~ ident)? ~ "}" }`
    fn interp(&mut self, pair: Pair<'s, Rule>) -> Built<Interp> {
        let interp_span = span(&pair);
        let mut children = Children::of(pair);
        let name = self.ident(children.required(Rule::session, "an interpolation")?);
        let field = children.optional(Rule::ident).map(|f| self.ident(f));
        Ok(Interp {
            name,
            field,
            span: interp_span,
        })
    }

    /// `triple_string = ${ "\"\"\"" ~ (interp | triple_text)* ~ "\"\"\"" }`, dedented: the line
    /// break after the opening quotes and the whitespace line before the closing ones are dropped,
    /// and so is the indentation common to all non-blank lines.
    fn triple_string(&mut self, pair: Pair<'s, Rule>, string_span: Span) -> Built<Str> {
        let content = Span {
            start: string_span.start + 3,
            end: string_span.end - 3,
        };
        let removed = dedent_ranges(self.src, content);
        let mut parts = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::triple_text => {
                    let part_span = span(&part);
                    let mut text = String::new();
                    let mut at = part_span.start;
                    for cut in removed
                        .iter()
                        .filter(|r| r.end > part_span.start && r.start < part_span.end)
                    {
                        if cut.start > at {
                            text.push_str(&self.src[at as usize..cut.start as usize]);
                        }
                        at = at.max(cut.end);
                    }
                    if at < part_span.end {
                        text.push_str(&self.src[at as usize..part_span.end as usize]);
                    }
                    push_text(&mut parts, &text);
                }
                Rule::interp => parts.push(StrPart::Interp(self.interp(part)?)),
                _ => return Err(self.bug(&part, "a triple-quoted string")),
            }
        }
        Ok(Str {
            parts,
            triple: true,
            span: string_span,
        })
    }

    /// `duration = @{ number ~ ("ms" | "s" | "m" | "h") }`
    pub(crate) fn duration(&mut self, pair: Pair<'s, Rule>) -> Duration {
        Duration {
            millis: duration_of(pair.as_str()),
            span: span(&pair),
        }
    }

    /// `percent = @{ number ~ "%" }`
    pub(crate) fn percent(&mut self, pair: Pair<'s, Rule>) -> Percent {
        Percent {
            value: parse_number(pair.as_str().trim_end_matches('%')),
            span: span(&pair),
        }
    }

    /// `rate = @{ number ~ ("gbit" | "mbit" | "kbit" | "bit") }`
    pub(crate) fn rate(&mut self, pair: Pair<'s, Rule>) -> Rate {
        let text = pair.as_str();
        let (number, factor) = if let Some(n) = text.strip_suffix("gbit") {
            (n, 1e9)
        } else if let Some(n) = text.strip_suffix("mbit") {
            (n, 1e6)
        } else if let Some(n) = text.strip_suffix("kbit") {
            (n, 1e3)
        } else {
            (text.trim_end_matches("bit"), 1.0)
        };
        Rate {
            bits_per_second: parse_number(number) * factor,
            span: span(&pair),
        }
    }

    /// `integer = @{ ASCII_DIGIT+ }`
    pub(crate) fn integer(&mut self, pair: Pair<'s, Rule>) -> Count {
        let count_span = span(&pair);
        let value = pair.as_str().parse().unwrap_or_else(|_| {
            self.push(
                Diagnostic::error(Code::NumberTooLarge, self.file, "number is too large")
                    .with_label(count_span, "does not fit in 64 bits")
                    .with_help("use a number below 18446744073709551616"),
            );
            u64::MAX
        });
        Count {
            value,
            span: count_span,
        }
    }
}

/// Milliseconds of text the `duration` rule matched.
pub(super) fn duration_of(text: &str) -> f64 {
    let (number, factor) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (text.trim_end_matches('h'), 3_600_000.0)
    };
    parse_number(number) * factor
}

/// Digits with an optional fraction, as the grammar guarantees; huge values become infinity and
/// are caught by the range checks.
fn parse_number(text: &str) -> f64 {
    text.parse().unwrap_or(f64::INFINITY)
}

fn push_text(parts: &mut Vec<StrPart>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(StrPart::Text(last)) = parts.last_mut() {
        last.push_str(text);
    } else {
        parts.push(StrPart::Text(text.to_string()));
    }
}

/// The byte ranges a triple-quoted string's dedent removes, in order.
fn dedent_ranges(src: &str, content: Span) -> Vec<Span> {
    let text = &src[content.range()];
    let base = content.start as usize;
    // Lines as (start, end) offsets in `text`, without the '\n'.
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        if byte == b'\n' {
            lines.push((start, i));
            start = i + 1;
        }
    }
    lines.push((start, text.len()));
    if lines.len() == 1 {
        return Vec::new();
    }
    let is_blank = |(s, e): (usize, usize)| text[s..e].trim().is_empty();
    let mut removed = Vec::new();
    let mut first = 0;
    let mut last = lines.len();
    if is_blank(lines[0]) {
        // The first line break (and any spaces before it) goes.
        removed.push(Span::new(base, base + lines[0].1 + 1));
        first = 1;
    }
    if last > first && is_blank(lines[last - 1]) {
        // The line holding the closing quotes goes, with the line break before it.
        let (s, e) = lines[last - 1];
        removed.push(Span::new(base + s - 1, base + e));
        last -= 1;
    }
    // A first line written on the opening quotes' line does not set the indentation.
    let measured = 1;
    let indent = lines[measured.min(last)..last]
        .iter()
        .filter(|&&line| !is_blank(line))
        .map(|&(s, e)| text[s..e].len() - text[s..e].trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    for &(s, e) in &lines[measured.min(last)..last] {
        let width = (e - s).min(indent);
        let leading = text[s..e].len() - text[s..e].trim_start_matches([' ', '\t']).len();
        let cut = width.min(leading);
        if cut > 0 {
            removed.push(Span::new(base + s, base + s + cut));
        }
    }
    // CRLF files: the value uses `\n` alone, whatever the file's line ends.
    for &(s, e) in &lines[..lines.len() - 1] {
        if e > s && text.as_bytes()[e - 1] == b'\r' {
            removed.push(Span::new(base + e - 1, base + e));
        }
    }
    removed.sort();
    removed
}
