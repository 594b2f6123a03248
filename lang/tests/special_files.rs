//! Paths that do not name an ordinary `.jspec` file: only regular files of at most 16 MiB are
//! read, so a FIFO (opening one blocks until a writer comes) or a device such as /dev/zero (it
//! never ends) is an error that names the file, not a hang or exhausted memory.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use jspec_lang::check::{CheckOptions, check};
use jspec_lang::diagnostic::{Code, Diagnostic, RenderOptions, render_all};
use jspec_lang::load::Program;

const CASE: &str = r#"case C1 "Clean" {
  servers a
  user alice on a

  step "Connect" {
    connect alice
  }
}
"#;

/// Loads and checks on another thread; a load that has not finished in 20 s fails the test
/// (the thread is left behind, blocked).
fn load_within_20s(paths: &[PathBuf]) -> (Vec<Diagnostic>, String) {
    let paths = paths.to_vec();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let program = Program::load(&paths);
        let report = check(&program, &CheckOptions::default());
        let rendered = render_all(
            &report.diagnostics,
            &program.sources,
            RenderOptions::plain(),
        );
        let _ = sender.send((report.diagnostics, rendered));
    });
    receiver
        .recv_timeout(Duration::from_secs(20))
        .expect("loading finished within 20 s")
}

fn mkfifo(path: &Path) {
    nix::unistd::mkfifo(path, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
}

/// The one `unreadable_file` error, checked for the file's name, the reason and a hint.
fn unreadable<'d>(diagnostics: &'d [Diagnostic], rendered: &str, reason: &str) -> &'d Diagnostic {
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{rendered}");
    let error = errors[0];
    assert_eq!(error.code, Code::UnreadableFile, "{rendered}");
    assert!(error.message.contains(reason), "{rendered}");
    assert!(error.help.is_some(), "{rendered}");
    error
}

#[test]
fn a_use_of_dev_zero_is_an_error_on_the_use_line() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.jspec");
    std::fs::write(&main, format!("use \"/dev/zero\"\n\n{CASE}")).unwrap();
    let (diagnostics, rendered) = load_within_20s(&[main]);
    let error = unreadable(
        &diagnostics,
        &rendered,
        "cannot read /dev/zero: not a regular file (a character device)",
    );
    // On the path of the `use` line.
    assert_eq!(error.primary_span().map(|s| s.start), Some(4), "{rendered}");
}

#[test]
fn a_use_of_a_fifo_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("pipe.jspec"));
    let main = dir.path().join("main.jspec");
    std::fs::write(&main, format!("use \"pipe.jspec\"\n\n{CASE}")).unwrap();
    let (diagnostics, rendered) = load_within_20s(&[main]);
    unreadable(&diagnostics, &rendered, "not a regular file (a FIFO)");
    assert!(
        rendered.contains("pipe.jspec: not a regular file"),
        "{rendered}"
    );
    assert!(rendered.contains("named by this `use`"), "{rendered}");
}

#[test]
fn a_fifo_or_device_given_as_a_file_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("x.jspec");
    mkfifo(&fifo);
    let (diagnostics, rendered) = load_within_20s(&[fifo]);
    unreadable(
        &diagnostics,
        &rendered,
        "x.jspec: not a regular file (a FIFO)",
    );
    let (diagnostics, rendered) = load_within_20s(&[PathBuf::from("/dev/zero")]);
    unreadable(&diagnostics, &rendered, "/dev/zero: not a regular file");
}

#[test]
fn a_file_over_16_mib_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.jspec");
    // Sparse: no 16 MiB written to the disk.
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(16 * 1024 * 1024 + 1).unwrap();
    let main = dir.path().join("main.jspec");
    std::fs::write(&main, format!("use \"big.jspec\"\n\n{CASE}")).unwrap();
    let (diagnostics, rendered) = load_within_20s(&[main, big]);
    let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 2, "{rendered}");
    for error in errors {
        assert_eq!(error.code, Code::UnreadableFile, "{rendered}");
        assert!(
            error
                .message
                .ends_with("big.jspec: larger than 16 MiB, the limit for a .jspec file"),
            "{rendered}"
        );
    }
}

#[test]
fn a_use_of_a_folder_names_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("lib")).unwrap();
    let main = dir.path().join("main.jspec");
    std::fs::write(&main, format!("use \"lib\"\n\n{CASE}")).unwrap();
    let (diagnostics, rendered) = load_within_20s(&[main]);
    unreadable(
        &diagnostics,
        &rendered,
        "lib: not a regular file (a folder)",
    );
}
