//! Values: names, strings with interpolation, durations, percentages, rates and counts.

use crate::span::Span;

/// An identifier: a user, room, server, node, tag, capability, procedure or parameter name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// The user and the resource of a session name: `juliet/phone` is juliet's session with
/// resource `phone`; plain `juliet` is her default session.
pub fn session_parts(name: &str) -> (&str, Option<&str>) {
    match name.split_once('/') {
        Some((user, resource)) => (user, Some(resource)),
        None => (name, None),
    }
}

/// A string literal, `"..."` or `"""..."""`, with its value split into text and interpolations.
#[derive(Clone, Debug, PartialEq)]
pub struct Str {
    pub parts: Vec<StrPart>,
    pub triple: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Text(String),
    Interp(Interp),
}

/// `${name}` or `${name.field}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Interp {
    pub name: Name,
    pub field: Option<Name>,
    pub span: Span,
}

impl Interp {
    /// The interpolation as written: `${name}` or `${name.field}`.
    pub fn written(&self) -> String {
        match &self.field {
            Some(field) => format!("${{{}.{}}}", self.name.text, field.text),
            None => format!("${{{}}}", self.name.text),
        }
    }
}

impl Str {
    /// The span of the text between the quotes.
    pub fn content_span(&self) -> Span {
        let quote = if self.triple { 3 } else { 1 };
        Span {
            start: self.span.start + quote,
            end: self.span.end.saturating_sub(quote),
        }
    }

    /// The value when it has no interpolation.
    pub fn literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StrPart::Text(text) => out.push_str(text),
                StrPart::Interp(_) => return None,
            }
        }
        Some(out)
    }

    /// The value with each interpolation written back as `${name.field}`.
    pub fn display(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StrPart::Text(text) => out.push_str(text),
                StrPart::Interp(interp) => out.push_str(&interp.written()),
            }
        }
        out
    }

    /// Whether the string is an XML stanza pattern: a triple-quoted string that starts with `<`.
    pub fn is_xml(&self) -> bool {
        self.triple
            && match self.parts.first() {
                Some(StrPart::Text(text)) => text.trim_start().starts_with('<'),
                _ => false,
            }
    }

    pub fn interpolations(&self) -> impl Iterator<Item = &Interp> {
        self.parts.iter().filter_map(|part| match part {
            StrPart::Interp(interp) => Some(interp),
            StrPart::Text(_) => None,
        })
    }
}

/// `250ms`, `5s`, `2m`, `1h`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Duration {
    pub millis: f64,
    pub span: Span,
}

impl Duration {
    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_secs_f64((self.millis / 1000.0).max(0.0))
    }
}

/// `10%`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percent {
    pub value: f64,
    pub span: Span,
}

/// `64kbit`, `2mbit`: bits per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub bits_per_second: f64,
    pub span: Span,
}

/// A whole number: a repeat count, a message count, a seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub value: u64,
    pub span: Span,
}
