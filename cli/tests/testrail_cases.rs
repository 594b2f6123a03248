//! Golden tests of `jspec testrail cases` and `jspec testrail import`. For each `tests/testrail/NAME.jspec`
//! and each format, `jspec testrail cases NAME.jspec --format F -o -` runs in `tests/testrail/`;
//! its stdout, stderr and exit code must equal NAME.F, NAME.F.err and NAME.F.exit.
//!
//! Refresh after an intended change with
//! `JSPEC_BLESS=1 cargo test -p jspec --test testrail_cases`, then review the diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use jspec_lang::ast::{CaseEntryKind, ItemKind};
use jspec_lang::load::Program;

const FORMATS: &[&str] = &["xml", "csv", "json"];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/testrail")
}

fn jspec(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jspec"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("jspec runs")
}

#[test]
fn golden_testrail_cases() {
    let bless = std::env::var_os("JSPEC_BLESS").is_some();
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("tests/testrail exists")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".jspec").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 2);
    let mut failures = Vec::new();
    for name in &names {
        for format in FORMATS {
            let file = format!("{name}.jspec");
            let output = jspec(
                &["testrail", "cases", &file, "--format", format, "-o", "-"],
                &dir(),
            );
            let actual = [
                (
                    format.to_string(),
                    String::from_utf8_lossy(&output.stdout).into_owned(),
                ),
                (
                    format!("{format}.err"),
                    String::from_utf8_lossy(&output.stderr).into_owned(),
                ),
                (
                    format!("{format}.exit"),
                    format!("{}\n", output.status.code().unwrap_or(-1)),
                ),
            ];
            for (extension, text) in actual {
                let path = dir().join(format!("{name}.{extension}"));
                if bless {
                    // An empty output has no file: a missing file reads as empty.
                    if text.is_empty() {
                        let _ = std::fs::remove_file(&path);
                    } else {
                        std::fs::write(&path, &text).expect("write golden file");
                    }
                    continue;
                }
                let expected = std::fs::read_to_string(&path).unwrap_or_default();
                if expected != text {
                    failures.push(format!(
                        "--- {name}.{extension}: expected\n{expected}\n--- actual\n{text}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches (JSPEC_BLESS=1 to refresh, then review the diff):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn output_files_are_written_whole() {
    let out = tempfile::tempdir().expect("temp dir");
    let target = out.path().join("nested/cases.xml");
    let output = jspec(
        &[
            "testrail",
            "cases",
            "pki-expired.jspec",
            "-o",
            target.to_str().expect("utf-8"),
        ],
        &dir(),
    );
    assert_eq!(output.status.code(), Some(0));
    let written = std::fs::read_to_string(&target).expect("written");
    assert_eq!(
        written,
        std::fs::read_to_string(dir().join("pki-expired.xml")).expect("golden")
    );
    let leftovers = std::fs::read_dir(target.parent().expect("parent"))
        .expect("dir")
        .count();
    assert_eq!(leftovers, 1, "no temporary file is left behind");
}

#[test]
fn import_refuses_a_file_that_is_not_a_suite() {
    let work = tempfile::tempdir().expect("temp dir");
    let bad = work.path().join("bad.xml");
    std::fs::write(&bad, "<suite><name>x</suite>").expect("write");
    let out = work.path().join("out");
    let output = jspec(
        &[
            "testrail",
            "import",
            bad.to_str().expect("utf-8"),
            "-o",
            out.to_str().expect("utf-8"),
        ],
        work.path(),
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.xml") && stderr.contains("not well-formed"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written");
}

/// Cases of the examples and specs, exported and imported again: the skeletons check cleanly,
/// are formatted, and keep ids, titles, sections, step titles and expected results.
#[test]
fn import_round_trips_the_examples_and_specs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for source in ["tests/examples", "specs"] {
        let work = tempfile::tempdir().expect("temp dir");
        let xml = work.path().join("suite.xml");
        let imported = work.path().join("imported");
        let (xml_arg, imported_arg) = (
            xml.to_str().expect("utf-8"),
            imported.to_str().expect("utf-8"),
        );
        let cases = jspec(&["testrail", "cases", source, "-o", xml_arg], &root);
        assert_eq!(
            cases.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&cases.stderr)
        );
        let import = jspec(&["testrail", "import", xml_arg, "-o", imported_arg], &root);
        assert_eq!(
            import.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&import.stderr)
        );
        let check = jspec(&["check", "--deny-warnings", imported_arg], &root);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let fmt = jspec(&["fmt", "--check", imported_arg], &root);
        assert_eq!(
            fmt.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&fmt.stdout)
        );

        assert_eq!(outline(&root.join(source)), outline(&imported), "{source}");
        let suite = std::fs::read_to_string(&xml).expect("xml");
        let expected = jspec_testrail::suite_xml::read(&suite)
            .expect("reads")
            .cases();
        let skeleton_text = all_text(&imported);
        for case in &expected {
            for step in &case.steps {
                for line in step.expected.lines() {
                    assert!(
                        skeleton_text.contains(line.trim()),
                        "expected text lost: {line}"
                    );
                }
            }
        }
    }
}

/// (section, id, title, step titles) of every case under a folder, sorted.
fn outline(dir: &Path) -> Vec<(String, Option<u64>, String, Vec<String>)> {
    let mut files = Vec::new();
    collect(dir, &mut files);
    let program = Program::load(&files);
    let mut out = Vec::new();
    for &file in &program.roots {
        let mut section = String::new();
        for item in &program.module(file).ast.as_ref().expect("parses").items {
            match &item.kind {
                ItemKind::Section(s) => section = s.display(),
                ItemKind::Case(case) => {
                    let steps = case
                        .entries
                        .iter()
                        .filter_map(|e| match &e.kind {
                            CaseEntryKind::Step { title, .. } => Some(title.display()),
                            _ => None,
                        })
                        .collect();
                    let id = case.id.as_ref().map(|id| id.number);
                    out.push((section.clone(), id, case.title.display(), steps));
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "jspec") {
            out.push(path);
        }
    }
}

fn all_text(dir: &Path) -> String {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("read"))
        .collect()
}
