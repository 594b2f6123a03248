//! Turns pest's errors into diagnostics a tester can act on: what was found, what was expected
//! there in words, and the usage of the statement being written.

use pest::Parser as _;
use pest::error::{Error, ErrorVariant, InputLocation};

use super::{Grammar, Rule, usage};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::span::{SourceId, Span};

pub(super) fn diagnose(file: SourceId, text: &str, rule: Rule, error: Error<Rule>) -> Diagnostic {
    // Parse attempts are only recorded with error detail on; pay for it only on failure.
    let error = if error.parse_attempts().is_none() {
        pest::set_error_detail(true);
        let detailed = Grammar::parse(rule, text).err().unwrap_or(error);
        // Detail slows every parse down; other files of the run parse without it.
        pest::set_error_detail(false);
        detailed
    } else {
        error
    };
    let position = match (error.parse_attempts(), &error.location) {
        (Some(attempts), _) => attempts.max_position,
        (None, InputLocation::Pos(p)) => *p,
        (None, InputLocation::Span((start, _))) => *start,
    };
    let position = floor_boundary(text, position.min(text.len()));
    let line_start = text[..position].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let indent = line.len() - line.trim_start().len();
    let first_word: &str = {
        let rest = &line[indent..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        &rest[..end]
    };
    let word_span = Span::new(line_start + indent, line_start + indent + first_word.len());

    if let Some(diagnostic) = unknown_keyword(file, line, indent, first_word, word_span, position) {
        return diagnostic;
    }

    let found = describe_found(text, position);
    let mut expected = describe_expected(&error);
    let after_name = text[..position]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if after_name && expected == "a name" {
        // pest offers to continue the name just written; that is never what the user missed.
        expected.clear();
    }
    let at_end = position >= text.len();
    if at_end && unclosed_braces(text) > 0 {
        expected = "`}` after this".to_string();
    }
    let open_quotes = line[..position - line_start].matches('"').count()
        - line[..position - line_start].matches("\\\"").count();
    let label = if found == "end of line" && open_quotes % 2 == 1 {
        "the string is not closed: expected `\"` before the end of the line".to_string()
    } else if !expected.is_empty() {
        format!("expected {expected}")
    } else if found == "end of line" {
        "the line ends too early".to_string()
    } else {
        "not valid here".to_string()
    };
    let diagnostic = Diagnostic::error(Code::Syntax, file, format!("unexpected {found}"))
        .with_label(found_span(text, position), label);
    match help(first_word, &expected, line, at_end, text) {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    }
}

/// What to do: a statement in the wrong place, an unclosed block, or the usage of the line.
fn help(first_word: &str, expected: &str, line: &str, at_end: bool, text: &str) -> Option<String> {
    let statement = usage::is_statement(first_word);
    if statement && expected.contains("`step`") {
        return Some(format!(
            "statements belong inside a `setup`, `step \"...\"` or `teardown` block; usage: {}",
            usage::usage(first_word).unwrap_or_default()
        ));
    }
    if statement && expected.contains("`case`") {
        return Some("statements belong inside a case's `step \"...\" { }` block".to_string());
    }
    if at_end && unclosed_braces(text) > 0 {
        return Some(
            "a `{` is not closed: every block and case ends with `}` on its own line".to_string(),
        );
    }
    if let Some(usage) = usage::usage(first_word) {
        return Some(format!("usage: {usage}"));
    }
    if first_word.is_empty() && line.trim_start().starts_with('}') {
        return Some(
            "a block closes with `}` on its own line, after the last statement".to_string(),
        );
    }
    None
}

/// Braces opened and not closed, outside strings and comments (close enough for a hint).
fn unclosed_braces(text: &str) -> i64 {
    let mut depth = 0i64;
    for line in text.lines() {
        let mut in_string = false;
        for c in line.chars() {
            match c {
                '"' => in_string = !in_string,
                '#' if !in_string => break,
                '{' if !in_string => depth += 1,
                '}' if !in_string => depth -= 1,
                _ => {}
            }
        }
    }
    depth
}

/// A line that starts with a word no rule knows: say so, and suggest the closest keyword.
fn unknown_keyword(
    file: SourceId,
    line: &str,
    indent: usize,
    word: &str,
    word_span: Span,
    position: usize,
) -> Option<Diagnostic> {
    if word.is_empty() || usage::usage(word).is_some() {
        return None;
    }
    let after_word = line[indent + word.len()..].trim_start();
    if after_word.starts_with('(') {
        return None; // a procedure call: the error is inside it
    }
    let word_end = word_span.end as usize;
    if position > word_end + (line.len() - indent - word.len() - after_word.len()) {
        return None; // the error is further along the line
    }
    let keywords = usage::LINE_KEYWORDS.iter().map(|(k, _)| *k);
    let help = match did_you_mean(word, keywords) {
        Some(keyword) => format!("did you mean `{keyword}`? usage: {}", usage::usage(&keyword).unwrap_or_default()),
        None => "a line starts with a statement (connect, send, expect, ...), a case entry (priority, user, step, ...) or a file entry (suite, section, use, procedure, case); a procedure call needs parentheses: name(args)".to_string(),
    };
    Some(
        Diagnostic::error(
            Code::UnknownKeyword,
            file,
            format!("unknown keyword `{word}`"),
        )
        .with_label(word_span, "not a statement or declaration")
        .with_help(help),
    )
}

fn floor_boundary(text: &str, mut position: usize) -> usize {
    while !text.is_char_boundary(position) {
        position -= 1;
    }
    position
}

fn found_span(text: &str, position: usize) -> Span {
    if position >= text.len() {
        // Point at the last character written: miette cannot show a label past the end.
        let end = text.trim_end().len();
        let start = text[..end].char_indices().next_back().map_or(0, |(i, _)| i);
        return Span::new(start, end);
    }
    let rest = &text[position..];
    let len = match rest.chars().next() {
        None | Some('\n') | Some('\r') => 0,
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len()),
        Some(c) => c.len_utf8(),
    };
    Span::new(position, position + len)
}

fn describe_found(text: &str, position: usize) -> String {
    let rest = &text[position..];
    match rest.chars().next() {
        None => "end of file".to_string(),
        Some('\n') | Some('\r') => "end of line".to_string(),
        Some(' ') | Some('\t') => "space".to_string(),
        Some('"') => "string".to_string(),
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            format!("`{}`", &rest[..end])
        }
        Some(c) => format!("`{c}`"),
    }
}

/// "`to`, `as` or a name", from the tokens and rules pest tried at the failing position.
fn describe_expected(error: &Error<Rule>) -> String {
    let mut items: Vec<String> = Vec::new();
    let mut push = |item: String| {
        if !items.contains(&item) {
            items.push(item);
        }
    };
    if let Some(attempts) = error.parse_attempts() {
        for token in attempts.expected_tokens() {
            // pest does not export its token type; its Display is the token itself, or
            // `a..z` for character ranges and BUILTIN_RULE for built-ins, which say nothing here.
            let token = token.to_string();
            let is_range = token.chars().count() == 4 && token.contains("..");
            if token != "BUILTIN_RULE" && !is_range && is_meaningful_token(&token) {
                push(describe_token(&token));
            }
        }
        for stack in attempts.call_stacks() {
            if let Some(rule) = stack.deepest.get_rule().or(stack.parent.as_ref())
                && let Some(description) = describe_rule(*rule)
            {
                push(description.to_string());
            }
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for rule in positives {
            if let Some(description) = describe_rule(*rule) {
                push(description.to_string());
            }
        }
    }
    items.retain(|item| !item.is_empty());
    match items.len() {
        0 => String::new(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} or {last}", items.join(", "))
        }
    }
}

/// Tokens a user can act on; single characters that are pieces of names, numbers and escapes
/// (`_`, `-`, `.`, `C`, `\`, a byte order mark) and spaces only add noise.
fn is_meaningful_token(token: &str) -> bool {
    let mut chars = token.chars();
    match (chars.next(), chars.next()) {
        (None, _) => false,
        (Some(c), None) => matches!(
            c,
            '{' | '}' | '(' | ')' | ',' | '|' | ':' | ';' | '"' | '\n'
        ),
        _ => !token.trim().is_empty() && token != "${",
    }
}

fn describe_token(token: &str) -> String {
    match token {
        "\n" | "\r\n" => "end of line".to_string(),
        "\"" => "`\"`".to_string(),
        "\"\"\"" => "`\"\"\"`".to_string(),
        other => format!("`{other}`"),
    }
}

/// Words for the rules a user can be expected to write; `None` for rules that only matter as
/// parts of others (their tokens are listed instead).
fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident | Rule::name_list => "a name",
        Rule::case_id => "a case id such as C123",
        Rule::integer => "a whole number",
        Rule::duration => "a duration such as 500ms, 5s or 2m",
        Rule::percent => "a percentage such as 10%",
        Rule::rate => "a rate such as 64kbit or 2mbit",
        Rule::string | Rule::quoted_string | Rule::triple_string | Rule::string_list => "a string",
        Rule::EOI => "end of file",
        _ => return None,
    })
}
