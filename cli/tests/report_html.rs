//! report.html in a real browser: a run with a partition case and a failing case is rendered by
//! headless Chromium, which must report no console errors, and whose DOM must show the
//! partition on the case's timeline. The screenshot is kept in docs/ (refreshed with
//! JSPEC_BLESS=1).

use std::path::{Path, PathBuf};
use std::process::Command;

const SPEC: &str = r#"section "Network > Server to server"

case C9901 "A cut server-to-server link delays messages until it heals" {
  servers a, b
  user alice on a
  user bob on b

  step "Cut a from b; the message waits" {
    connect alice
    connect bob
    send "before" from alice to bob
    expect bob receives "before" from alice within 10s
    partition a | b
    send "during" from alice to bob
    expect bob receives nothing from alice within 2s
  }

  step "Heal; it arrives" {
    heal a | b
    expect bob receives "during" from alice within 30s
  }
}

case C9902 "A wrong body fails and the report shows what arrived" {
  servers a
  user alice on a
  user bob on a

  step "Alice says hallo, the case expects hello" {
    connect alice
    connect bob
    send "hallo" from alice to bob
    expect bob receives "hello" from alice within 1s
  }
}
"#;

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

fn browser(chromium: &Path, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
fn chromium_renders_the_report_with_its_timeline_and_no_console_errors() {
    let Some(chromium) = chromium() else {
        eprintln!("skipping: chromium is not installed (scripts/deps.sh installs it)");
        return;
    };
    if !Path::new("/usr/bin/prosody").exists() {
        eprintln!("skipping: the local lab needs Prosody (scripts/deps.sh)");
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let spec = temp.path().join("report.jspec");
    std::fs::write(&spec, SPEC).expect("spec");
    let run = temp.path().join("run");
    let status = Command::new(env!("CARGO_BIN_EXE_jspec"))
        .args(["run", "--seed", "1", "--out"])
        .arg(&run)
        .arg(&spec)
        .env("JSPEC_STATE_DIR", temp.path().join("state"))
        .env("NO_COLOR", "1")
        .status()
        .expect("jspec runs");
    assert_eq!(status.code(), Some(1), "one case fails on purpose");
    let report = run.join("report.html");
    let url = format!("file://{}", report.display());

    let dom = browser(&chromium, &temp.path().join("profile"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&dom.stderr);
    let console_errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors: {console_errors:#?}"
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<svg class=\"timeline\""), "a timeline: {dom}");
    assert!(
        dom.contains("class=\"fault\"><title>partition a | b ("),
        "the partition is drawn on the timeline while it was in force"
    );
    assert!(dom.contains("class=\"received\""), "stanzas received");
    assert!(
        dom.contains("bob did not receive \"hello\" from alice"),
        "the failure"
    );

    let shot = temp.path().join("report.png");
    let taken = browser(&chromium, &temp.path().join("profile"))
        .arg("--window-size=1100,1500")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        taken.status.success(),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    if std::env::var_os("JSPEC_BLESS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-screenshot.png");
        std::fs::write(docs, png).expect("docs/report-screenshot.png");
    }
}
