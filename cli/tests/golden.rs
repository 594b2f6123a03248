//! End-to-end golden tests of the binary, Hurl style: for every `tests/check/NAME.jspec` (or
//! folder `tests/check/NAME/`), `jspec check NAME` runs in `tests/check/` and its stdout, stderr
//! and exit code must equal NAME.out, NAME.err and NAME.exit. NAME.args, if present, adds
//! options (`--env FILE`).
//!
//! Refresh the expected files after an intended change with
//! `JSPEC_BLESS=1 cargo test -p jspec --test golden`, then review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn check_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/check")
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(check_dir())
        .expect("tests/check exists")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_case = entry.path().is_dir() || name.ends_with(".jspec");
            is_case.then_some(name)
        })
        .collect();
    names.sort();
    names
}

fn stem(name: &str) -> &str {
    name.trim_end_matches(".jspec")
}

#[test]
fn golden_check_outputs() {
    let bless = std::env::var_os("JSPEC_BLESS").is_some();
    let dir = check_dir();
    let mut failures = Vec::new();
    let names = cases();
    assert!(
        names.len() >= 40,
        "expected at least 40 golden cases, found {}",
        names.len()
    );
    for name in &names {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jspec"));
        command.args(["check", name]);
        // NAME.args beside NAME.jspec: more options for `jspec check`, split at whitespace.
        if let Ok(args) = std::fs::read_to_string(dir.join(format!("{}.args", stem(name)))) {
            command.args(args.split_whitespace());
        }
        let output = command
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .expect("jspec runs");
        let actual = [
            ("out", String::from_utf8_lossy(&output.stdout).into_owned()),
            ("err", String::from_utf8_lossy(&output.stderr).into_owned()),
            ("exit", format!("{}\n", output.status.code().unwrap_or(-1))),
        ];
        for (extension, text) in actual {
            let path = dir.join(format!("{}.{extension}", stem(name)));
            if bless {
                std::fs::write(&path, &text).expect("write golden file");
                continue;
            }
            let expected = std::fs::read_to_string(&path).unwrap_or_default();
            if expected != text {
                failures.push(format!(
                    "--- {}.{extension}: expected\n{expected}\n--- actual\n{text}",
                    stem(name)
                ));
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
fn every_bad_input_fails_with_a_code() {
    // A golden file of bad input that exits 0 would prove nothing: only names starting with
    // `ok-` (clean) or `warn-` (warnings only) may pass.
    for name in cases() {
        let stem = stem(&name);
        let read = |ext: &str| {
            std::fs::read_to_string(check_dir().join(format!("{stem}.{ext}"))).unwrap_or_default()
        };
        let (exit, err) = (read("exit"), read("err"));
        if stem.starts_with("ok-") || stem.starts_with("warn-") {
            assert_eq!(exit.trim(), "0", "{stem} should pass");
        } else {
            assert_eq!(exit.trim(), "2", "{stem} should fail with exit 2");
        }
        if !stem.starts_with("ok-") {
            assert!(
                err.contains("jspec::"),
                "{stem}: no diagnostic code in its .err"
            );
        }
    }
}
