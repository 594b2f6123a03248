//! Completion from the text before the cursor. While typing the file rarely parses, so the
//! context and the case's names come from the lines themselves, not from the syntax tree.

use jspec_lang::ast::CertificateState;
use jspec_lang::check::{CAPABILITIES, FAILURE_REASONS};
use jspec_lang::keywords::{CLAUSES, DECLARATIONS, STATEMENTS};
use jspec_lang::parse::usage::usage;
use lsp_types::{CompletionItem, CompletionItemKind};

use super::documents::Analysis;
use super::position::{is_word_char, line_prefix};

/// `set ticket of USER to ...`.
const TICKET_STATES: &[&str] = &["valid", "expired", "none"];

pub(crate) fn complete(analysis: &Analysis, offset: usize) -> Vec<CompletionItem> {
    let text = analysis.text();
    let (line_start, prefix) = line_prefix(text, offset);
    if let Some(quoted) = prefix.rsplit_once("fails with \"").map(|(_, rest)| rest)
        && !quoted.contains('"')
    {
        return items(
            FAILURE_REASONS,
            CompletionItemKind::ENUM_MEMBER,
            "failure reason",
        );
    }
    let words: Vec<&str> = prefix.split_whitespace().collect();
    let typing_word = prefix.ends_with(|c: char| is_word_char(c));
    // The words before the one being typed.
    let done = if typing_word {
        &words[..words.len().saturating_sub(1)]
    } else {
        &words[..]
    };
    match done {
        [] => return first_words(analysis),
        ["requires", ..] => {
            return items(CAPABILITIES, CompletionItemKind::ENUM_MEMBER, "capability");
        }
        ["set", "certificate", "of", _, "to"] => {
            let states = CertificateState::ALL.map(CertificateState::as_str);
            return items(&states, CompletionItemKind::ENUM_MEMBER, "certificate");
        }
        ["set", "ticket", "of", _, "to"] => {
            return items(TICKET_STATES, CompletionItemKind::ENUM_MEMBER, "ticket");
        }
        _ => {}
    }
    let mut out = names_in_scope(text, line_start);
    out.extend(items(CLAUSES.words, CompletionItemKind::KEYWORD, "keyword"));
    out
}

/// Keywords that start a line, and the procedures a call may name.
fn first_words(analysis: &Analysis) -> Vec<CompletionItem> {
    let mut out: Vec<CompletionItem> = DECLARATIONS
        .words
        .iter()
        .chain(STATEMENTS.words)
        .map(|word| CompletionItem {
            label: (*word).to_string(),
            kind: Some(CompletionItemKind::KEYWORD),
            detail: usage(word).map(str::to_string),
            ..CompletionItem::default()
        })
        .collect();
    let mut names: Vec<(String, String)> = analysis
        .program
        .visible_procedures(analysis.root)
        .iter()
        .map(|(name, (_, procedure))| {
            let params: Vec<&str> = procedure.params.iter().map(|p| p.text.as_str()).collect();
            (name.to_string(), format!("{name}({})", params.join(", ")))
        })
        .collect();
    // Procedures of this file while it does not parse.
    for line in analysis.text().lines() {
        if let Some(rest) = line.trim_start().strip_prefix("procedure ") {
            let name: String = rest.chars().take_while(|&c| is_word_char(c)).collect();
            if !name.is_empty() && !names.iter().any(|(n, _)| *n == name) {
                names.push((name, rest.trim_end_matches(['{', ' ']).to_string()));
            }
        }
    }
    names.sort();
    out.extend(names.into_iter().map(|(name, signature)| CompletionItem {
        label: name,
        kind: Some(CompletionItemKind::FUNCTION),
        detail: Some(signature),
        ..CompletionItem::default()
    }));
    out
}

/// The users, rooms, servers and nodes of the case around a line (or a procedure's
/// parameters), from its declaration lines.
fn names_in_scope(text: &str, line_start: usize) -> Vec<CompletionItem> {
    // The last `case` or `procedure` line before the cursor's line.
    let mut opener = None;
    let mut start = 0;
    for line in text[..line_start].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("case ") || trimmed.starts_with("procedure ") {
            opener = Some(start);
        }
        start += line.len();
    }
    let Some(opener) = opener else {
        return Vec::new();
    };
    let mut lines = text[opener..].lines().map(str::trim_start);
    if let Some(header) = lines
        .next()
        .and_then(|line| line.strip_prefix("procedure "))
    {
        let params = header
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map_or("", |(params, _)| params);
        let params: Vec<&str> = params
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        return items(&params, CompletionItemKind::VARIABLE, "parameter");
    }
    let mut out = Vec::new();
    for line in lines.take_while(|l| !l.starts_with("case ") && !l.starts_with("procedure ")) {
        let words: Vec<&str> = line
            .split(|c: char| !is_word_char(c))
            .filter(|w| !w.is_empty())
            .collect();
        match words.as_slice() {
            [kind @ ("user" | "room"), name, rest @ ..] => {
                let detail = match rest {
                    ["on", server, ..] => format!("{kind} on {server}"),
                    _ => (*kind).to_string(),
                };
                out.push(item(name, CompletionItemKind::VARIABLE, &detail));
            }
            [kind @ ("servers" | "databases"), names @ ..] => {
                let names = names.iter().filter(|w| !matches!(**w, "with" | "nodes"));
                out.extend(names.map(|name| item(name, CompletionItemKind::MODULE, kind)));
            }
            _ => {}
        }
    }
    out
}

fn items(words: &[&str], kind: CompletionItemKind, detail: &str) -> Vec<CompletionItem> {
    words.iter().map(|word| item(word, kind, detail)).collect()
}

fn item(label: &str, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail.to_string()),
        ..CompletionItem::default()
    }
}
