//! The editor grammars under `editors/` carry the keyword lists of `jspec_lang::keywords`.
//!
//! Each file has a `BEGIN GENERATED KEYWORDS` ... `END GENERATED KEYWORDS` block written from
//! the list; a stale block fails here. The tree-sitter grammar is written by hand, so it is
//! checked to spell every keyword instead (its highlight query has a generated block, and
//! `tree-sitter test` rejects a query naming a keyword the grammar lacks). Refresh with
//! `JSPEC_BLESS=1 cargo test -p jspec-lang --test editors`, then regenerate the TextMate JSON
//! (`npm run build-grammar` in editors/vscode) and review the diff. The tree-sitter tests' inputs
//! are checked here too: each is a file the pest grammar accepts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jspec_lang::keywords::{GROUPS, Group};
use jspec_lang::parse::parse_file;
use jspec_lang::span::SourceId;

const BEGIN: &str = "BEGIN GENERATED KEYWORDS";
const END: &str = "END GENERATED KEYWORDS";
/// Vim lines are wrapped before this width, as the rest of the project's text.
const WIDTH: usize = 100;

fn editors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../editors")
}

/// `syntax keyword jspecStatement connect ...`, continued with `\` lines.
fn vim_block() -> String {
    let mut out = String::new();
    for group in GROUPS {
        let mut role = group.role.to_string();
        role[..1].make_ascii_uppercase();
        let mut line = format!("syntax keyword jspec{role}");
        for word in group.words {
            if line.len() + 1 + word.len() >= WIDTH {
                writeln!(out, "{line}").unwrap();
                line = "      \\".to_string();
            }
            write!(line, " {word}").unwrap();
        }
        writeln!(out, "{line}").unwrap();
    }
    out
}

/// The TextMate scope of a group: standard scopes, so any colour theme colours them.
fn textmate_scope(group: &Group) -> String {
    let base = match group.role {
        "declaration" => "storage.type.declaration",
        "statement" => "keyword.control.statement",
        "clause" => "keyword.other.clause",
        "constant" => "constant.language",
        role => panic!("no TextMate scope for the keyword role {role}"),
    };
    format!("{base}.jspec")
}

/// One repository rule per group. A keyword is a whole word, and `-` belongs to words
/// (`direct-tls`), so the lookarounds exclude it as well.
fn textmate_block() -> String {
    let mut out = String::new();
    for group in GROUPS {
        let words = group.words.join("|");
        writeln!(out, "  {}:", group.role).unwrap();
        writeln!(out, "    name: {}", textmate_scope(&group)).unwrap();
        writeln!(out, "    match: '(?<![\\w-])(?:{words})(?![\\w-])'").unwrap();
    }
    out
}

/// The tree-sitter capture of a group: names Neovim and Helix share.
fn tree_sitter_capture(group: &Group) -> &'static str {
    match group.role {
        "declaration" => "@keyword.type",
        "statement" => "@keyword.control",
        "clause" => "@keyword.operator",
        "constant" => "@constant.builtin",
        role => panic!("no tree-sitter capture for the keyword role {role}"),
    }
}

/// One `[ "word" ... ] @capture` pattern per group, wrapped before `WIDTH`.
fn tree_sitter_block() -> String {
    let mut out = String::new();
    for group in GROUPS {
        writeln!(out, "[").unwrap();
        let mut line = " ".to_string();
        for word in group.words {
            if line.len() + word.len() + 3 >= WIDTH {
                writeln!(out, "{line}").unwrap();
                line = " ".to_string();
            }
            write!(line, " \"{word}\"").unwrap();
        }
        writeln!(out, "{line}").unwrap();
        writeln!(out, "] {}", tree_sitter_capture(&group)).unwrap();
    }
    out
}

/// `text` with the lines between the marker lines replaced by `block`.
fn with_block(text: &str, block: &str) -> String {
    let begin = text.find(BEGIN).expect("BEGIN marker");
    let begin = begin + text[begin..].find('\n').expect("line after BEGIN") + 1;
    let end = begin + text[begin..].find(END).expect("END marker");
    let end = text[..end].rfind('\n').map_or(begin, |i| i + 1).max(begin);
    format!("{}{block}{}", &text[..begin], &text[end..])
}

fn check(relative: &str, block: &str) {
    let path = editors().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
    let expected = with_block(&text, block);
    if text == expected {
        return;
    }
    if std::env::var_os("JSPEC_BLESS").is_some() {
        std::fs::write(&path, expected).unwrap();
        return;
    }
    panic!(
        "editors/{relative}: keyword lists are stale \
         (JSPEC_BLESS=1 cargo test -p jspec-lang --test editors, then review the diff)"
    );
}

#[test]
fn vim_syntax_has_the_keywords() {
    check("vim/syntax/jspec.vim", &vim_block());
}

#[test]
fn textmate_grammar_has_the_keywords() {
    check("vscode/syntaxes/jspec.tmLanguage.yaml", &textmate_block());
}

#[test]
fn tree_sitter_highlights_have_the_keywords() {
    check(
        "tree-sitter-jspec/queries/highlights.scm",
        &tree_sitter_block(),
    );
}

#[test]
fn tree_sitter_grammar_spells_every_keyword() {
    let path = editors().join("tree-sitter-jspec/grammar.js");
    let grammar = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let missing: Vec<&str> = GROUPS
        .iter()
        .flat_map(|group| group.words.iter().copied())
        .filter(|word| !grammar.contains(&format!("'{word}'")))
        .collect();
    assert!(
        missing.is_empty(),
        "editors/tree-sitter-jspec/grammar.js lacks the keywords {missing:?} \
         (add them where grammar.pest has them, then `tree-sitter generate`)"
    );
}

/// The inputs of a tree-sitter corpus file: after a `===` title block, up to the `---` line.
fn corpus_inputs(text: &str) -> Vec<(String, String)> {
    let mut inputs = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("===") {
            continue;
        }
        let title = lines.next().unwrap_or_default().to_string();
        lines.next(); // the closing `===` line
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("---"))
            .collect();
        inputs.push((title, body.join("\n") + "\n"));
    }
    inputs
}

/// The tree-sitter tests exercise the language itself: every corpus snippet and highlight file
/// is a file the pest grammar accepts, so they cannot drift into a dialect of their own.
#[test]
fn tree_sitter_tests_are_valid_jspec() {
    let dir = editors().join("tree-sitter-jspec/test");
    let mut inputs = Vec::new();
    for sub in ["corpus", "highlight"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("test/{sub}: {e}"))
            .map(|entry| entry.expect("entry").path())
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable test file");
            let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            if sub == "corpus" {
                for (title, body) in corpus_inputs(&text) {
                    inputs.push((format!("{name}: {title}"), body));
                }
            } else {
                inputs.push((name, text));
            }
        }
    }
    assert!(
        inputs.len() >= 10,
        "only {} tree-sitter test inputs found",
        inputs.len()
    );
    for (name, text) in inputs {
        let parsed = parse_file(SourceId(0), &text);
        assert!(
            parsed.tree.is_some() && parsed.diagnostics.is_empty(),
            "editors/tree-sitter-jspec/test/{name} is not valid jspec: {:?}",
            parsed.diagnostics
        );
    }
}

#[test]
fn the_block_replaces_only_lines_between_the_markers() {
    let text = "a\n# BEGIN GENERATED KEYWORDS\nold\n# END GENERATED KEYWORDS\nb\n";
    assert_eq!(
        with_block(text, "new\n"),
        "a\n# BEGIN GENERATED KEYWORDS\nnew\n# END GENERATED KEYWORDS\nb\n"
    );
}
