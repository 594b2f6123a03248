//! Every statement shape reads as English: each statement of the examples, the specs, the
//! standard library and the docs' ```jspec / ```jspec-statements blocks renders to non-empty
//! text, and together they cover every statement kind.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use jspec_lang::ast::{Block, CaseEntryKind, ChaosAction, ItemKind, Stmt, StmtKind};
use jspec_lang::load::Program;
use jspec_lang::parse::{parse_file, parse_statements};
use jspec_lang::prose::{Procedures, Prose};
use jspec_lang::span::SourceId;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn jspec_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("readable folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            jspec_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "jspec") {
            out.push(path);
        }
    }
}

/// The fenced ```jspec and ```jspec-statements blocks of a document, as statements.
fn doc_statements(doc: &str) -> Vec<Stmt> {
    let text = std::fs::read_to_string(root().join(doc)).expect("doc");
    let mut out = Vec::new();
    let mut open: Option<(bool, String)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        match &mut open {
            None => match trimmed.strip_prefix("```").map(str::trim_end) {
                Some("jspec") => open = Some((true, String::new())),
                Some("jspec-statements") => open = Some((false, String::new())),
                _ => {}
            },
            Some((is_file, body)) => {
                if trimmed.starts_with("```") {
                    if *is_file {
                        let tree = parse_file(SourceId(0), body).tree.expect("doc file parses");
                        out.extend(file_statements(&tree));
                    } else {
                        out.extend(parse_statements(SourceId(0), body).tree.expect("parses"));
                    }
                    open = None;
                } else {
                    body.push_str(trimmed);
                    body.push('\n');
                }
            }
        }
    }
    out
}

fn file_statements(file: &jspec_lang::ast::File) -> Vec<Stmt> {
    let mut out = Vec::new();
    for item in &file.items {
        match &item.kind {
            ItemKind::Procedure(p) => out.extend(p.body.stmts.iter().cloned()),
            ItemKind::Case(case) => {
                for entry in &case.entries {
                    if let Some(body) = entry.kind.body() {
                        out.extend(body.stmts.iter().cloned());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The kind's name (`Connect`) of a statement and of everything nested in it.
fn kinds(kind: &StmtKind, seen: &mut BTreeSet<String>) {
    let name = format!("{kind:?}");
    let name = name.split([' ', '(', '{']).next().unwrap_or("").to_string();
    seen.insert(name);
    let nested = |block: &Block, seen: &mut BTreeSet<String>| {
        block.stmts.iter().for_each(|s| kinds(&s.kind, seen))
    };
    match kind {
        StmtKind::Parallel(body) | StmtKind::Repeat { body, .. } => nested(body, seen),
        StmtKind::Chaos(chaos) => {
            for rule in &chaos.rules {
                if let ChaosAction::Fault(fault) = &rule.action {
                    kinds(fault, seen);
                }
            }
        }
        _ => {}
    }
}

const ALL_KINDS: &[&str] = &[
    "Connect",
    "Disconnect",
    "Join",
    "Leave",
    "Send",
    "SendRaw",
    "Wait",
    "ExpectReceives",
    "ExpectConnectFails",
    "ExpectArchive",
    "ExpectLink",
    "SetCertificate",
    "RevokeCertificate",
    "SetTicket",
    "Partition",
    "Isolate",
    "Heal",
    "Impair",
    "Restore",
    "Process",
    "Chaos",
    "Parallel",
    "Repeat",
    "CheckDelivery",
    "Call",
];

#[test]
fn every_statement_reads_as_english() {
    let mut files = Vec::new();
    for dir in ["tests/examples", "specs", "stdlib"] {
        jspec_files(&root().join(dir), &mut files);
    }
    let program = Program::load(&files);
    let mut seen = BTreeSet::new();
    let mut checked = 0;
    for &file in &program.roots {
        let procedures = program.visible_procedures(file);
        let prose = Prose::new(Vec::new(), &procedures);
        let tree = program.module(file).ast.as_ref().expect("parses");
        for stmt in file_statements(tree) {
            kinds(&stmt.kind, &mut seen);
            for line in prose.statement(&stmt.kind) {
                assert!(
                    !line.text.trim().is_empty(),
                    "empty prose for {:?}",
                    stmt.kind
                );
                checked += 1;
            }
        }
    }
    let none: Procedures<'_> = HashMap::new();
    let prose = Prose::new(vec!["ops".to_string()], &none);
    for stmt in ["docs/language.md", "docs/stdlib.md"]
        .iter()
        .flat_map(|doc| doc_statements(doc))
    {
        kinds(&stmt.kind, &mut seen);
        for line in prose.statement(&stmt.kind) {
            assert!(
                !line.text.trim().is_empty(),
                "empty prose for {:?}",
                stmt.kind
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} statements");
    let missing: Vec<_> = ALL_KINDS.iter().filter(|k| !seen.contains(**k)).collect();
    assert!(
        missing.is_empty(),
        "statement kinds never rendered: {missing:?}"
    );
}

#[test]
fn steps_of_the_examples_have_content_and_expectations() {
    let mut files = Vec::new();
    jspec_files(&root().join("tests/examples"), &mut files);
    let program = Program::load(&files);
    for &file in &program.roots {
        let procedures = program.visible_procedures(file);
        for item in &program.module(file).ast.as_ref().expect("parses").items {
            let ItemKind::Case(case) = &item.kind else {
                continue;
            };
            let prose = Prose::for_case(case, &procedures);
            for entry in &case.entries {
                if let CaseEntryKind::Step { body, .. } = &entry.kind {
                    assert!(!prose.block(body).is_empty());
                }
            }
        }
    }
}

/// Procedures calling the next ten times over eight levels are 10^8 statements expanded; the
/// prose stops expanding after a thousand calls (later ones read as written) instead of taking
/// hours and all memory. On a thread, so that a regression fails after 60 s instead of hanging.
#[test]
fn calls_many_times_over_stop_expanding_after_a_thousand() {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for k in 1..8 {
            let calls = format!("  p{}(who)\n", k + 1).repeat(10);
            text += &format!("procedure p{k}(who) {{\n{calls}}}\n\n");
        }
        text += "procedure p8(who) {\n  connect who\n}\n\n";
        text += "case C1 \"Wide\" {\n  servers a\n  user alice on a\n\n  step \"Go\" {\n    p1(alice)\n  }\n}\n";
        let program = Program::from_text("wide.jspec", &text);
        let file = program.roots[0];
        let procedures = program.visible_procedures(file);
        let ast = program.module(file).ast.as_ref().expect("parses");
        let Some(ItemKind::Case(case)) = ast.items.last().map(|item| &item.kind) else {
            panic!("a case last");
        };
        let Some(CaseEntryKind::Step { body, .. }) = case.entries.last().map(|e| &e.kind) else {
            panic!("a step last");
        };
        let lines: Vec<String> = Prose::for_case(case, &procedures)
            .block(body)
            .into_iter()
            .map(|line| line.text)
            .collect();
        let _ = sender.send(lines);
    });
    let lines = receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("prose written within 60 s");
    assert!(lines.len() <= 10 * 1_000, "{} lines", lines.len());
    assert_eq!(lines[0], "Alice connects");
    assert!(
        lines.iter().any(|line| line == "Call p2(alice)"),
        "{lines:?}"
    );
}
