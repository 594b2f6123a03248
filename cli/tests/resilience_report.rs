//! `jspec report`: two real runs of a partition case (which recovers) and a failing case are
//! read back into the resilience report: the recovery time measured from the heal, the trend
//! across both runs, the failure reported as unexplained until a findings file documents it, a
//! PDF printed by headless Chromium, and clear errors for folders that are not runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SPEC: &str = r#"section "Network > Server to server"

case C9911 "A cut server-to-server link delays messages until it heals" {
  servers a, b
  user alice on a
  user bob on b

  step "Cut a from b" {
    connect alice
    connect bob
    partition a | b
    send "during" from alice to bob
    expect bob receives nothing from alice within 2s
  }

  step "Heal; it arrives" {
    heal a | b
    expect bob receives "during" from alice within 30s
  }
}

case C9912 "A message that never comes" {
  servers a
  user alice on a
  user bob on a

  step "Bob waits for a message nobody sends" {
    connect bob
    expect bob receives "never" from alice within 1s
  }
}
"#;

fn jspec(args: &[&str], paths: &[&Path], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jspec"))
        .args(args)
        .args(paths)
        .current_dir(dir)
        .env("JSPEC_STATE_DIR", dir.join("state"))
        .env("NO_COLOR", "1")
        .output()
        .expect("jspec runs")
}

fn run_twice(dir: &Path) -> Vec<PathBuf> {
    let spec = dir.join("cases.jspec");
    std::fs::write(&spec, SPEC).expect("spec");
    (1..=2)
        .map(|n| {
            let out = dir.join("runs").join(format!("run{n}"));
            let output = jspec(&["run", "--seed", "1", "--out"], &[&out, &spec], dir);
            assert_eq!(
                output.status.code(),
                Some(1),
                "C9912 fails on purpose: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            out
        })
        .collect()
}

#[test]
fn the_report_measures_recovery_trends_and_unexplained_failures_from_real_runs() {
    if !Path::new("/usr/bin/prosody").exists() {
        eprintln!("skipping: the local lab needs Prosody (scripts/deps.sh)");
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    run_twice(dir);

    // The default: every run under runs/, to resilience-report.html.
    let output = jspec(&["report"], &[], dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("report: resilience-report.html (2 runs, 2 cases, 1 unexplained failure)"),
        "{stderr}"
    );
    let html = std::fs::read_to_string(dir.join("resilience-report.html")).expect("html");
    assert!(
        html.contains("unexplained"),
        "the failing case is not explained"
    );

    let output = jspec(&["report", "runs", "-o", "-", "--format", "md"], &[], dir);
    assert!(output.status.success());
    let md = String::from_utf8_lossy(&output.stdout);
    let row = md
        .lines()
        .find(|l| l.starts_with("| C9911") && l.contains("recovered"))
        .unwrap_or_else(|| panic!("no recovery row for C9911:\n{md}"));
    assert!(row.contains(r"after heal a \| b"), "{row}");
    assert!(
        row.contains(r#"expect bob receives "during" from alice within 30s"#),
        "{row}"
    );
    assert!(
        md.contains("| C9912 A message that never comes | ✗ | ✗ | 0 of 2 |"),
        "{md}"
    );
    assert!(md.contains("### Unexplained failures"), "{md}");

    // Documented as a finding, it is no longer unexplained.
    std::fs::write(
        dir.join("findings.md"),
        "## Prosody\n\n### C9912 — the message never comes\n",
    )
    .expect("findings");
    let output = jspec(
        &[
            "report",
            "runs",
            "--findings",
            "findings.md",
            "-o",
            "weekly.md",
        ],
        &[],
        dir,
    );
    assert!(output.status.success());
    let md = std::fs::read_to_string(dir.join("weekly.md")).expect("md");
    assert!(
        md.contains("**C9912 A message that never comes**: the message never comes"),
        "{md}"
    );
    assert!(!md.contains("### Unexplained failures"), "{md}");

    if Path::new("/usr/bin/chromium").exists() {
        let output = jspec(&["report", "runs", "--pdf", "-o", "report.pdf"], &[], dir);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let pdf = std::fs::read(dir.join("report.pdf")).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    } else {
        eprintln!("PDF not checked: chromium is not installed (scripts/deps.sh installs it)");
    }
}

#[test]
fn folders_that_are_not_runs_are_errors_that_name_them() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let output = jspec(&["report", "nowhere"], &[], dir);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nowhere") && stderr.contains("hint:"),
        "{stderr}"
    );

    std::fs::create_dir(dir.join("run")).expect("dir");
    std::fs::write(dir.join("run/events.jsonl"), "<html>not events</html>\n").expect("write");
    let output = jspec(&["report", "run"], &[], dir);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("events.jsonl: line 1"), "{stderr}");
}
