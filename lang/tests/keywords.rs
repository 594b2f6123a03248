//! The keyword list (`jspec_lang::keywords`) matches the grammar: every quoted word of
//! `grammar.pest` is a keyword or a unit suffix, and every keyword is a quoted word there.

use std::collections::BTreeSet;

use jspec_lang::keywords::{self, DECLARATIONS, STATEMENTS, UNIT_SUFFIXES};

const GRAMMAR: &str = include_str!("../src/grammar.pest");

/// The double-quoted literals of a pest grammar that are lower-case words (`"direct-tls"`, not
/// `"->"` or `"\u{FEFF}"`). `//` comment lines are skipped: they quote examples, not syntax.
fn grammar_words(grammar: &str) -> BTreeSet<&str> {
    let mut words = BTreeSet::new();
    for line in grammar
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
    {
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            // An escaped quote (`"\""`) is a literal of its own; skip past its backslash.
            let end = if after.starts_with('\\') {
                after[2..].find('"').map(|e| e + 2)
            } else {
                after.find('"')
            };
            let Some(end) = end else { break };
            let literal = &after[..end];
            let is_word = literal.starts_with(|c: char| c.is_ascii_lowercase())
                && literal.chars().all(|c| c.is_ascii_lowercase() || c == '-');
            if is_word {
                words.insert(literal);
            }
            rest = &after[end + 1..];
        }
    }
    words
}

#[test]
fn the_scanner_finds_words_and_skips_punctuation() {
    let words = grammar_words("a = { \"x-y\" ~ \"\\\"\" ~ \"->\" ~ \"${\" ~ \"to\" }\n// \"no\"");
    assert_eq!(words, BTreeSet::from(["x-y", "to"]));
}

#[test]
fn every_grammar_word_is_a_keyword_or_a_unit() {
    let missing: Vec<_> = grammar_words(GRAMMAR)
        .into_iter()
        .filter(|w| !keywords::is_keyword(w) && !UNIT_SUFFIXES.contains(w))
        .collect();
    assert!(
        missing.is_empty(),
        "grammar.pest words missing from lang/src/keywords.rs: {missing:?}"
    );
}

#[test]
fn every_keyword_and_unit_is_in_the_grammar() {
    let words = grammar_words(GRAMMAR);
    let stale: Vec<_> = keywords::all()
        .chain(UNIT_SUFFIXES.iter().copied())
        .filter(|w| !words.contains(w))
        .collect();
    assert!(
        stale.is_empty(),
        "lang/src/keywords.rs words not in grammar.pest: {stale:?}"
    );
}

#[test]
fn no_word_is_in_two_groups() {
    let mut seen = BTreeSet::new();
    let twice: Vec<_> = keywords::all().filter(|w| !seen.insert(*w)).collect();
    assert!(twice.is_empty(), "keywords in two groups: {twice:?}");
}

#[test]
fn every_line_keyword_is_a_declaration_or_statement() {
    let openers: BTreeSet<_> = DECLARATIONS.words.iter().chain(STATEMENTS.words).collect();
    for (keyword, _) in jspec_lang::parse::usage::LINE_KEYWORDS {
        assert!(openers.contains(keyword), "{keyword} starts a line");
    }
}
