//! How long `jspec lsp` takes from a change of a 1,000-line document to its diagnostics
//! (the goal: within 50 ms). Ignored by default, and it asserts no timing: run it with
//! `cargo test -p jspec --test lsp_bench -- --ignored --nocapture` and record the numbers in
//! docs/benchmarks-lsp.md.

#[path = "support/lsp_client.rs"]
mod client;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;

/// A suite of `cases` cases of 25 lines each, every one with an unknown user to report.
fn suite(cases: usize) -> String {
    let mut text = String::from("suite \"Bench\"\n\n");
    for n in 1..=cases {
        let _ = write!(
            text,
            "case C{n} \"Case {n}\" {{\n  priority high\n  servers a, b\n  user alice on a\n  user bob on b\n  room ops on a\n\n  step \"Join\" {{\n    connect alice\n    connect bob\n    join alice to ops as \"Alice\"\n    join bob to ops as \"Bob\"\n  }}\n\n  step \"Talk\" {{\n    send \"hi {n}\" from alice to ops\n    expect bob receives \"hi {n}\" from ops within 10s\n    send \"hello\" from bob to alcie\n  }}\n\n  step \"Leave\" {{\n    leave alice from ops\n    disconnect bob\n  }}\n}}\n\n"
        );
    }
    text
}

#[test]
#[ignore = "a benchmark: prints timings, asserts none"]
fn diagnostics_after_a_change_of_a_1000_line_file() {
    let mut text = suite(40);
    let lines = text.lines().count();
    let mut client = client::Client::start();
    let uri = "untitled:bench";
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "jspec", "version": 1, "text": text}}),
    );
    let first = client.notification("textDocument/publishDiagnostics");
    let reported = first["diagnostics"].as_array().map_or(0, Vec::len);
    let mut timings = Vec::new();
    for version in 2..32 {
        // A keystroke: one more character in the last case's title.
        text = text.replacen("\"Case 40", "\"Case 40x", 1);
        let start = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        client.notification("textDocument/publishDiagnostics");
        timings.push(start.elapsed());
    }
    timings.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{lines} lines, {reported} diagnostics, {} changes: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        timings.len(),
        ms(timings[0]),
        ms(timings[timings.len() / 2]),
        ms(timings[timings.len() - 1]),
    );
    assert!(client.stop().success());
}
