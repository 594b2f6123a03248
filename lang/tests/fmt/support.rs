//! Helpers of the formatter tests: the promises every input must keep, a span-free view of the
//! tree, the comments of a file in order, and whitespace noise that must not matter.

use jspec_lang::ast::File;
use jspec_lang::fmt::format_text;
use jspec_lang::parse::parse_file;
use jspec_lang::span::SourceId;

/// Checks the formatter's promises on one input: idempotence, meaning, comments, layout.
pub(crate) fn properties(name: &str, input: &str) {
    let formatted = format_text(input).unwrap_or_else(|| panic!("{name} does not parse"));
    let again = format_text(&formatted)
        .unwrap_or_else(|| panic!("{name}: the formatted text does not parse:\n{formatted}"));
    assert_eq!(again, formatted, "{name}: formatting is not idempotent");
    assert_eq!(
        shape(&formatted),
        shape(input),
        "{name}: meaning changed, formatted:\n{formatted}"
    );
    let expected = comments(input);
    assert_eq!(comments(&formatted), expected, "{name}: comments differ");
    let mut at = 0;
    for comment in &expected {
        match formatted[at..].find(comment.as_str()) {
            Some(i) => at += i + comment.len(),
            None => panic!("{name}: comment {comment:?} missing or out of order in:\n{formatted}"),
        }
    }
    layout(name, &formatted);
}

/// Canonical layout: LF only, one final newline, no runs of blank lines, no blank first line,
/// indentation in steps of two spaces and no trailing whitespace outside multi-line strings.
fn layout(name: &str, text: &str) {
    assert!(!text.contains('\r'), "{name}: carriage return in output");
    if text.is_empty() {
        return;
    }
    assert!(
        text.ends_with('\n') && !text.ends_with("\n\n"),
        "{name}: must end with one newline"
    );
    assert!(
        !text.contains("\n\n\n"),
        "{name}: several blank lines in a row"
    );
    assert!(!text.starts_with('\n'), "{name}: blank first line");
    let mut inside = false;
    for line in text.lines() {
        let starts_inside = inside;
        inside ^= line.matches("\"\"\"").count() % 2 == 1;
        if starts_inside {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        assert_eq!(indent % 2, 0, "{name}: odd indentation in {line:?}");
        assert!(
            !line.trim_start().starts_with('\t'),
            "{name}: tab indentation in {line:?}"
        );
        if !inside {
            assert_eq!(
                line.trim_end(),
                line,
                "{name}: trailing whitespace in {line:?}"
            );
        }
    }
}

fn tree(text: &str) -> File {
    let parsed = parse_file(SourceId(0), text);
    parsed
        .tree
        .unwrap_or_else(|| panic!("does not parse: {:?}\n{text}", parsed.diagnostics))
}

/// The tree as text with what formatting may change erased: spans, whether a block was written
/// on one line, the blank line after a block's closing comments, and CRLF inside triple-quoted
/// strings (the parser keeps the `\r`s of a CRLF file in their values; the formatter writes LF).
pub(crate) fn shape(text: &str) -> String {
    let debug = erase_spans(&format!("{:?}", tree(text)));
    debug
        .replace("inline: true", "inline: _")
        .replace("inline: false", "inline: _")
        .replace("], blank_before: true }", "], blank_before: false }")
        .replace("\\r\\n", "\\n")
        .replace("\\r\"", "\"")
        .replace(", Text(\"\")", "")
}

/// Replaces every `Span { start: N, end: M }` with `Span`.
fn erase_spans(debug: &str) -> String {
    const SPAN: &str = "Span { start: ";
    let mut out = String::new();
    let mut rest = debug;
    while let Some(i) = rest.find(SPAN) {
        out.push_str(&rest[..i]);
        out.push_str("Span");
        let after = &rest[i..];
        let close = after.find('}').expect("a span ends with a brace");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The texts of all comments of a file, in source order.
pub(crate) fn comments(text: &str) -> Vec<String> {
    const OPEN: &str = "Comment { text: \"";
    const START: &str = "start: ";
    let debug = format!("{:?}", tree(text));
    let mut found = Vec::new();
    let mut rest = debug.as_str();
    while let Some(i) = rest.find(OPEN) {
        rest = &rest[i + OPEN.len()..];
        let mut value = String::new();
        let mut end = rest.len();
        let mut chars = rest.char_indices();
        while let Some((j, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 't')) => value.push('\t'),
                    Some((_, other)) => value.push(other),
                    None => {}
                },
                '"' => {
                    end = j;
                    break;
                }
                c => value.push(c),
            }
        }
        rest = &rest[end..];
        let at = rest.find(START).expect("a comment has a span") + START.len();
        let digits: String = rest[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        found.push((digits.parse::<usize>().expect("a span offset"), value));
    }
    found.sort();
    found.into_iter().map(|(_, value)| value).collect()
}

/// Rewrites canonical text with the same meaning and comments but other whitespace: random
/// indentation and spacing (tabs too), trailing blanks, repeated blank lines, blank lines after
/// `{` and before `}`, CRLF. Lines inside multi-line strings are left alone.
pub(crate) fn add_noise(rng: &mut fastrand::Rng, text: &str) -> String {
    let newline = if rng.bool() { "\r\n" } else { "\n" };
    let mut out = String::new();
    blank_lines(rng, &mut out, newline, 0..3);
    let mut inside = false;
    for line in text.lines() {
        let starts_inside = inside;
        let triples = line.matches("\"\"\"").count();
        inside ^= triples % 2 == 1;
        let body = line.trim_start_matches(' ');
        if starts_inside {
            out.push_str(line);
        } else if body.is_empty() {
            blank_lines(rng, &mut out, newline, 1..4);
            continue;
        } else {
            if body.starts_with('}') {
                blank_lines(rng, &mut out, newline, 0..2);
            }
            out.push_str(&spaces(rng, 0..6));
            out.push_str(&if triples == 0 {
                widen(rng, body)
            } else {
                body.to_string()
            });
        }
        if !inside {
            out.push_str(&spaces(rng, 0..3));
        }
        out.push_str(newline);
        if !inside && body.ends_with('{') && !body.contains('#') {
            blank_lines(rng, &mut out, newline, 0..2);
        }
    }
    blank_lines(rng, &mut out, newline, 0..3);
    out
}

fn blank_lines(
    rng: &mut fastrand::Rng,
    out: &mut String,
    newline: &str,
    count: std::ops::Range<usize>,
) {
    for _ in 0..rng.usize(count) {
        out.push_str(&spaces(rng, 0..3));
        out.push_str(newline);
    }
}

fn spaces(rng: &mut fastrand::Rng, count: std::ops::Range<usize>) -> String {
    (0..rng.usize(count))
        .map(|_| if rng.bool() { ' ' } else { '\t' })
        .collect()
}

/// Replaces each space between tokens (not in strings or comments) with 1 to 3 blanks.
fn widen(rng: &mut fastrand::Rng, line: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if !in_string && c == '#' {
            out.push_str(&line[i..]);
            break;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            out.push(c);
        } else if c == ' ' {
            out.push_str(&spaces(rng, 1..4));
        } else {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}
