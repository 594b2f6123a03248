//! `jspec import scansion` end to end: scansion scripts written for these tests (Prosody's own
//! are not copied here; docs/scansion.md runs the importer on them) become .jspec files equal
//! to the expected ones under tests/import, which check, and which run against the lab's
//! Prosody configured as Prosody's tests expect (envs/scansion.toml): the one the server
//! satisfies passes, the one expecting another server fails.
//!
//! Refresh the expected files with `JSPEC_BLESS=1 cargo test -p jspec --test import`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn jspec(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jspec"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("jspec runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scripts() -> Vec<PathBuf> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root().join("tests/import"))
        .expect("tests/import")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "scs"))
        .collect();
    scripts.sort();
    scripts
}

/// Imports the fixtures into a fresh folder and returns it.
fn imported() -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temp dir");
    let mut args = vec!["import".to_string(), "scansion".to_string()];
    args.extend(scripts().iter().map(|p| p.display().to_string()));
    args.extend(["-o".to_string(), out.path().display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = jspec(&args, &root());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains(&format!(
            "imported {n} of {n} script(s)",
            n = scripts().len()
        )),
        "{}",
        text(&output.stdout)
    );
    out
}

#[test]
fn scripts_become_the_expected_cases_which_check() {
    let out = imported();
    let bless = std::env::var_os("JSPEC_BLESS").is_some();
    for script in scripts() {
        let stem = script
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let got =
            std::fs::read_to_string(out.path().join(format!("{stem}.jspec"))).expect("written");
        let golden = root().join(format!("tests/import/{stem}.jspec"));
        if bless {
            std::fs::write(&golden, &got).expect("bless");
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        assert_eq!(
            got, want,
            "{stem}: the import differs from tests/import/{stem}.jspec"
        );
    }
    let check = jspec(&["check", &out.path().display().to_string()], &root());
    assert!(check.status.success(), "{}", text(&check.stderr));
}

#[test]
fn imported_cases_pass_on_a_server_that_behaves_and_fail_on_one_that_does_not() {
    let out = imported();
    let runs = tempfile::tempdir().expect("temp dir");
    let run = |stem: &str| {
        let case = out
            .path()
            .join(format!("{stem}.jspec"))
            .display()
            .to_string();
        let folder = runs.path().join(stem).display().to_string();
        jspec(
            &[
                "run",
                &case,
                "--env",
                "envs/scansion.toml",
                "--out",
                &folder,
                "--timeout",
                "5s",
            ],
            &root(),
        )
    };
    let routing = run("routing");
    assert_eq!(
        routing.status.code(),
        Some(0),
        "{}{}",
        text(&routing.stdout),
        text(&routing.stderr)
    );
    let wrong = run("wrong_server");
    let stdout = text(&wrong.stdout);
    assert_eq!(wrong.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("romeo's request was answered, but not as expected"),
        "{stdout}"
    );
    assert!(
        stdout.contains("<name>Openfire</name>") && stdout.contains("<name>Prosody</name>"),
        "{stdout}"
    );
}

#[test]
fn broken_scripts_and_existing_files_are_errors_that_say_where() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.scs");
    std::fs::write(
        &broken,
        "[Client] Romeo\n\tjid: romeo@localhost\n-----\nJuliet connects\n",
    )
    .expect("write");
    let good = root().join("tests/import/routing.scs");
    let out = dir.path().join("out");
    let args = |force: bool| {
        let mut args = vec![
            "import".to_string(),
            "scansion".to_string(),
            broken.display().to_string(),
            good.display().to_string(),
            "-o".to_string(),
            out.display().to_string(),
        ];
        if force {
            args.push("--force".into());
        }
        args
    };
    let first = jspec(
        &args(false).iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    let stderr = text(&first.stderr);
    assert_eq!(first.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("broken.scs:4:1: not an action of a declared client: `Juliet connects`"),
        "{stderr}"
    );
    assert!(stderr.contains("the clients are Romeo"), "{stderr}");
    assert!(
        out.join("routing.jspec").exists(),
        "the good script is still written"
    );
    let again = jspec(
        &args(false).iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    assert!(
        text(&again.stderr).contains("routing.jspec exists"),
        "{}",
        text(&again.stderr)
    );
    let forced = jspec(
        &args(true).iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    );
    assert!(
        !text(&forced.stderr).contains("exists"),
        "{}",
        text(&forced.stderr)
    );
    let missing = jspec(&["import", "scansion", "nope.scs", "-o", "x"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("cannot read nope.scs"),
        "{}",
        text(&missing.stderr)
    );
}
