//! The mutation test of jspec itself: the project's own passing end-to-end cases are run
//! against deliberately wrong deliveries (`jspec run --mutate OPERATOR`: every session gets its
//! first live message dropped, duplicated, 30 s late, altered, out of order, or marked
//! delayed), and every case that checks what the operator breaks must FAIL. A case that still
//! passes is a false pass waiting to happen. The score (killed / total) is recorded in
//! docs/mutation.md and must stay at 100 %.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Cases that expect messages by body: every operator that loses, delays, changes or marks
/// the first message must fail them.
const RECEIVING: &[(&str, &str)] = &[
    ("tests/run/ok-chat.jspec", "C9501"),
    ("tests/run/ok-room.jspec", "C9502"),
    ("tests/run/ok-repeat-in-order.jspec", "C9504"),
    ("tests/run/ok-archive.jspec", "C9505"),
    ("tests/run/ok-procedures.jspec", "C9506"),
    ("tests/run/ok-parallel.jspec", "C9508"),
    ("tests/run/ok-raw-xml-capture.jspec", "C9507"),
    ("tests/run/ok-s2s.jspec", "C9503"),
    ("tests/run/ok-direct-tls-plain.jspec", "C9509"),
    ("tests/run/ok-xml-patterns.jspec", "C9712"),
    ("tests/run/ok-delivery-check.jspec", "C9753"),
    ("tests/examples/smoke.jspec", "C1001"),
];

/// Cases that check the order of messages.
const ORDERED: &[&str] = &["C9504", "C9505", "C9508", "C9753"];

/// Cases that check that a message arrives once (a delivery check, or `nothing` after it).
const EXACTLY_ONCE: &[&str] = &["C9502", "C9504", "C1001", "C9753"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs every receiving case once, with `mutation` (or none), and returns each case's status.
fn run(mutation: Option<&str>) -> BTreeMap<String, String> {
    let temp = tempfile::tempdir().expect("temp dir");
    let out = temp.path().join("run");
    let mut command = Command::new(env!("CARGO_BIN_EXE_jspec"));
    command
        .current_dir(root())
        .args(["run", "--seed", "1", "--timeout", "5s", "-q", "--out"])
        .arg(&out)
        .args(RECEIVING.iter().map(|(file, _)| *file))
        .env("NO_COLOR", "1")
        .env("JSPEC_STATE_DIR", temp.path().join("state"));
    if let Some(mutation) = mutation {
        command.args(["--mutate", mutation]);
    }
    let output = command.output().expect("jspec runs");
    let events = std::fs::read_to_string(out.join("events.jsonl")).unwrap_or_default();
    let statuses: BTreeMap<String, String> = events
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["event"] == "case_finished")
        .map(|event| {
            let result = &event["result"];
            let id = result["case"]["id"].as_u64().unwrap_or(0);
            (
                format!("C{id}"),
                result["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses.len(),
        RECEIVING.len(),
        "every case ran (mutation {mutation:?}):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    statuses
}

#[test]
fn every_mutation_is_killed_by_the_cases_that_check_it() {
    let baseline = run(None);
    for (case, status) in &baseline {
        assert_eq!(
            status, "passed",
            "{case} must pass against a correct server first"
        );
    }
    let operators: [(&str, Vec<&str>); 6] = [
        ("drop", RECEIVING.iter().map(|(_, id)| *id).collect()),
        ("delay", RECEIVING.iter().map(|(_, id)| *id).collect()),
        ("alter", RECEIVING.iter().map(|(_, id)| *id).collect()),
        ("stamp", RECEIVING.iter().map(|(_, id)| *id).collect()),
        ("reorder", ORDERED.to_vec()),
        ("duplicate", EXACTLY_ONCE.to_vec()),
    ];
    // Each run waits out deadlines more than it computes: the operators run side by side, each
    // with its own lab.
    let results: Vec<BTreeMap<String, String>> = std::thread::scope(|scope| {
        let runs: Vec<_> = operators
            .iter()
            .map(|(operator, _)| scope.spawn(move || run(Some(operator))))
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("a mutation run"))
            .collect()
    });
    let (mut killed, mut total) = (0, 0);
    let mut survivors = Vec::new();
    for ((operator, targets), statuses) in operators.iter().zip(results) {
        let mut row = Vec::new();
        for target in targets {
            total += 1;
            let status = statuses.get(*target).map_or("missing", String::as_str);
            if status == "failed" {
                killed += 1;
            } else {
                survivors.push(format!("{operator} survived in {target} ({status})"));
            }
            row.push(format!("{target}:{status}"));
        }
        eprintln!("{operator:>9}: {}", row.join(" "));
    }
    eprintln!(
        "mutation score: {killed}/{total} killed ({:.0} %)",
        100.0 * killed as f64 / total as f64
    );
    assert!(
        survivors.is_empty(),
        "false passes:\n{}",
        survivors.join("\n")
    );
}
