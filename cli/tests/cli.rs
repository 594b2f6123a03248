//! The command line as a user meets it: paths, exit codes, colours and `fmt` on real files.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CLEAN: &str = r#"case C1 "Clean" {
  servers a
  user alice on a

  step "Connect" {
    connect alice
  }
}
"#;

fn jspec(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jspec"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("jspec runs")
}

/// Like [`jspec`], but a run that has not ended within 20 s is killed and fails the test (a
/// hang must not hang the test run).
fn jspec_within_20s(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jspec"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jspec starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait for jspec").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`jspec {}` did not end within 20 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("jspec's output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_reports_a_missing_path_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = jspec(dir.path(), &["check", "nowhere.jspec"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nowhere.jspec: no such file or folder"));
}

#[test]
fn check_searches_folders_recursively_for_jspec_files_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suite/deep")).unwrap();
    std::fs::write(dir.path().join("suite/a.jspec"), CLEAN).unwrap();
    std::fs::write(
        dir.path().join("suite/deep/b.jspec"),
        CLEAN.replace("C1", "C2"),
    )
    .unwrap();
    std::fs::write(dir.path().join("suite/notes.txt"), "not a spec").unwrap();
    let out = jspec(dir.path(), &["check", "suite"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "checked 2 files, 2 cases: 0 errors, 0 warnings\n"
    );
}

#[test]
fn check_exits_2_on_errors_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.jspec"),
        CLEAN.replace("connect alice", "connect bob"),
    )
    .unwrap();
    let out = jspec(dir.path(), &["check", "bad.jspec"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("1 error, 0 warnings"));
    assert!(text(&out.stderr).contains("jspec::unknown_actor"));
    assert!(text(&out.stderr).contains("bad.jspec:6:13"));
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("w.jspec"),
        CLEAN.replace("case C1 ", "case "),
    )
    .unwrap();
    assert_eq!(
        jspec(dir.path(), &["check", "w.jspec"]).status.code(),
        Some(0)
    );
    let denied = jspec(dir.path(), &["check", "--deny-warnings", "w.jspec"]);
    assert_eq!(denied.status.code(), Some(2));
    assert!(text(&denied.stderr).contains("jspec::missing_case_id"));
}

#[test]
fn colours_only_when_asked_or_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.jspec"),
        CLEAN.replace("connect alice", "connect bob"),
    )
    .unwrap();
    // Not a terminal: plain.
    assert!(!text(&jspec(dir.path(), &["check", "bad.jspec"]).stderr).contains('\u{1b}'));
    let forced = jspec(dir.path(), &["--color", "always", "check", "bad.jspec"]);
    assert!(text(&forced.stderr).contains('\u{1b}'));
}

#[test]
fn fmt_check_lists_unformatted_files_then_fmt_fixes_them() {
    let dir = tempfile::tempdir().unwrap();
    let messy = CLEAN
        .replace("  servers a", "    servers   a")
        .replace("connect alice", "connect alice   ");
    std::fs::write(dir.path().join("m.jspec"), &messy).unwrap();

    let check = jspec(dir.path(), &["fmt", "--check", "m.jspec"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(text(&check.stdout).contains("would reformat m.jspec"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("m.jspec")).unwrap(),
        messy,
        "--check changed the file"
    );

    let fmt = jspec(dir.path(), &["fmt", "m.jspec"]);
    assert_eq!(fmt.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("m.jspec")).unwrap(),
        CLEAN
    );
    assert_eq!(
        jspec(dir.path(), &["fmt", "--check", "m.jspec"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn fmt_refuses_a_file_with_a_syntax_error_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let broken = CLEAN.replace("connect alice", "connect");
    std::fs::write(dir.path().join("b.jspec"), &broken).unwrap();
    let out = jspec(dir.path(), &["fmt", "b.jspec"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("jspec::syntax"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b.jspec")).unwrap(),
        broken
    );
}

/// A FIFO named *.jspec, in a folder or given itself: opening it would block until a writer
/// comes, so jspec must report it (exit 2) without opening it.
#[test]
fn check_and_fmt_report_a_fifo_named_jspec_instead_of_blocking_on_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("suite")).unwrap();
    std::fs::write(dir.path().join("suite/a.jspec"), CLEAN).unwrap();
    nix::unistd::mkfifo(
        &dir.path().join("suite/x.jspec"),
        nix::sys::stat::Mode::S_IRWXU,
    )
    .unwrap();
    for paths in [&["suite"][..], &["suite/a.jspec", "suite/x.jspec"]] {
        let check = jspec_within_20s(dir.path(), &[&["check"], paths].concat());
        assert_eq!(check.status.code(), Some(2), "{}", text(&check.stderr));
        let stderr = text(&check.stderr);
        assert!(stderr.contains("jspec::unreadable_file"), "{stderr}");
        assert!(
            stderr.contains("cannot read suite/x.jspec: not a regular file (a FIFO)"),
            "{stderr}"
        );
        assert!(
            stderr.contains("help: jspec reads only regular files"),
            "{stderr}"
        );
        assert_eq!(
            text(&check.stdout),
            "checked 1 file, 1 case: 1 error, 0 warnings\n"
        );

        let fmt = jspec_within_20s(dir.path(), &[&["fmt", "--check"], paths].concat());
        assert_eq!(fmt.status.code(), Some(2), "{}", text(&fmt.stderr));
        assert!(
            text(&fmt.stderr)
                .contains("error: cannot read suite/x.jspec: not a regular file (a FIFO)"),
            "{}",
            text(&fmt.stderr)
        );
    }
}

/// `--env` naming a FIFO (or a device) is reported, not opened.
#[test]
fn run_reports_an_environment_file_that_is_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.jspec"), CLEAN).unwrap();
    nix::unistd::mkfifo(&dir.path().join("env.toml"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let run = jspec_within_20s(
        dir.path(),
        &["run", "a.jspec", "--env", "env.toml", "--out", "run"],
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read the environment file env.toml: not a regular file (a FIFO)"),
        "{stderr}"
    );
}

/// `--skip-tag` takes a case out even when `--case` names it; with nothing left, nothing starts.
#[test]
fn run_with_every_case_skipped_by_tag_starts_nothing_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let tagged = CLEAN.replace("  servers a\n", "  tags slow\n  servers a\n");
    std::fs::write(dir.path().join("a.jspec"), tagged).unwrap();
    let run = jspec_within_20s(
        dir.path(),
        &["run", "a.jspec", "--case", "C1", "--skip-tag", "slow"],
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: no case to run"), "{stderr}");
    assert!(stderr.contains("--skip-tag"), "{stderr}");
    assert!(!dir.path().join("runs").exists(), "no run folder: {stderr}");
}

#[test]
fn check_reports_a_use_of_a_device_on_the_use_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("z.jspec"),
        format!("use \"/dev/zero\"\n\n{CLEAN}"),
    )
    .unwrap();
    let out = jspec_within_20s(dir.path(), &["check", "z.jspec"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot read /dev/zero: not a regular file (a character device)"),
        "{stderr}"
    );
    assert!(stderr.contains("z.jspec:1:5"), "{stderr}");
}
