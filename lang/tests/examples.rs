//! The design's contract examples: the project's copies are unchanged, parse, check clean and
//! are already in canonical format.

use std::path::{Path, PathBuf};

use jspec_lang::check::{CheckOptions, check};
use jspec_lang::diagnostic::{RenderOptions, render_all};
use jspec_lang::load::Program;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn copies_match_the_shared_examples_when_they_are_beside_the_checkout() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/examples");
    if !shared.is_dir() {
        return; // a checkout without ../shared (a packaged crate): nothing to compare
    }
    let mut names: Vec<String> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jspec"))
        .collect();
    names.sort();
    let ours: Vec<String> = examples()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names, ours,
        "tests/examples must hold exactly the shared examples"
    );
    for name in names {
        let theirs = std::fs::read_to_string(shared.join(&name)).unwrap();
        let mine = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/examples")
                .join(&name),
        )
        .unwrap();
        assert_eq!(
            theirs, mine,
            "{name} differs from ../shared/examples/{name}"
        );
    }
}

#[test]
fn every_example_checks_without_errors_or_warnings() {
    let program = Program::load(&examples());
    let report = check(&program, &CheckOptions::default());
    assert_eq!(report.files, 6);
    assert_eq!(report.cases, 8);
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        render_all(
            &report.diagnostics,
            &program.sources,
            RenderOptions::plain()
        )
    );
}

#[test]
fn every_example_is_already_canonical() {
    for path in examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = jspec_lang::fmt::format_text(&text).expect("parses");
        assert_eq!(
            formatted,
            text,
            "{} is not in canonical format",
            path.display()
        );
    }
}
