//! The console: live progress, failures, the summary; verbosity and colour.

use std::path::Path;

use jspec_runtime::event::Reporter;
use jspec_runtime::report::{ConsoleReporter, Verbosity};

use crate::fixture::{NASTY_TITLE, Shared, events, run};

#[test]
fn console_shows_progress_failures_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), Verbosity::Normal);
    for line in [
        "jspec 0.1.0: 4 cases, seed 42, run folder ",
        "▶ C101 Alice writes to Bob\n  ✓ setup (300ms)\n  ✓ Alice connects (1.2s)\n  ✓ Alice writes to Bob (400ms)\n✓ C101 passed (1.9s)\n",
        &format!("▶ C102 {NASTY_TITLE}\n"),
        "  ✗ Bob receives (5.0s)\n    bob received nothing like it from ops within 5s\n    --> cases/messaging.jspec:27:5\n       |\n    27 |     bob receives from ops within 5s\n    expected:\n        <message type=\"chat\">\n          <body>hi &amp; bye</body>\n        </message>\n    closest received:\n        <message type=\"error\"/>\n",
        "  - Bob replies (skipped)\n  ✓ teardown (50ms)\n✗ C102 failed (6.1s)\n",
        "! C103 blocked: requires s2s: the environment has one server\n",
        "▶ Server answers ping\n  ✓ Ping (250ms)\n✓ Server answers ping passed (250ms)\n",
        "\n4 cases: 2 passed, 1 failed, 1 blocked (2m 5s)\n",
        &format!(
            "failed:\n  ✗ C102 {NASTY_TITLE}: bob received nothing like it from ops within 5s (cases/messaging.jspec:27:5)\n"
        ),
        "blocked:\n  ! C103 Servers federate: requires s2s: the environment has one server\n",
        &format!("run folder: {}\n", dir.path().display()),
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
    assert!(!out.contains("L14 send"), "actions only when verbose");
    assert!(!out.contains('\x1b'), "no colour when off");
}

#[test]
fn console_verbose_and_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let verbose = run(dir.path(), Verbosity::Verbose);
    assert!(
        verbose.contains(
            "  ▸ Alice connects\n    L15 send \"hi\" from alice to ops\n  ✓ Alice connects (1.2s)\n"
        ),
        "{verbose}"
    );
    assert!(verbose.contains("  a: a.test at 127.0.0.2 (prosody 13)"));

    let quiet = run(dir.path(), Verbosity::Quiet);
    assert!(!quiet.contains("▶") && !quiet.contains("C101"), "{quiet}");
    assert!(quiet.contains(&format!(
        "✗ C102 {NASTY_TITLE} failed (6.1s)\n  ✗ Bob receives"
    )));
    assert!(quiet.contains("4 cases: 2 passed, 1 failed, 1 blocked (2m 5s)"));
    assert!(quiet.contains("blocked:\n  ! C103 Servers federate"));
}

#[test]
fn console_colours_only_when_asked() {
    let out = Shared::default();
    let mut console = ConsoleReporter::new(Box::new(out.clone()), true, Verbosity::Normal);
    for event in events(Path::new("runs/x")) {
        console.on_event(&event).unwrap();
    }
    let text = out.text();
    assert!(text.contains("\x1b[32m✓\x1b[0m Alice connects"), "{text}");
    assert!(text.contains("\x1b[31m1 failed\x1b[0m"));
}
