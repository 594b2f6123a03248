//! End-to-end runs against real Prosody servers that `jspec run` starts itself (the built-in
//! local lab), Hurl style: for every `tests/run/NAME.jspec`, `jspec run NAME.jspec` must print
//! NAME.out (with times, seeds and paths normalised) and exit with NAME.exit. The run folder
//! must hold events.jsonl, junit.xml and testrail-results.json that agree with the console.
//!
//! Refresh the expected files after an intended change with
//! `JSPEC_BLESS=1 cargo test -p jspec --test run`, then review the diff (`JSPEC_GOLDEN=NAME` runs
//! only the files whose name contains NAME).

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/run")
}

/// The case files; `JSPEC_GOLDEN=TEXT` keeps those whose name contains TEXT (to run or bless a
/// few).
fn cases() -> Vec<String> {
    let only = std::env::var("JSPEC_GOLDEN").unwrap_or_default();
    let mut names: Vec<String> = std::fs::read_dir(run_dir())
        .expect("tests/run exists")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jspec") && n.contains(&only))
        .collect();
    names.sort();
    names
}

/// Replaces what changes from run to run: durations, the run folder, seeds.
fn normalise(text: &str, out_dir: &Path) -> String {
    let text = text.replace(&out_dir.display().to_string(), "RUN");
    let mut out = String::new();
    for line in text.lines() {
        let mut line = line.to_string();
        for (start, end) in durations(&line).into_iter().rev() {
            line.replace_range(start..end, "TIME");
        }
        out.push_str(&lost_connection(&cluster_row(&random_ids(&line))));
        out.push('\n');
    }
    out
}

/// A row of a replicated database's table (`| pg2 | replica | running | 3 | 32768 |`): its
/// timeline and lag in bytes depend on the cases before and on how much was written.
fn cluster_row(line: &str) -> String {
    let cells: Vec<&str> = line.trim_start().split('|').collect();
    let is_row = cells.len() == 7 && cells[1].trim().starts_with("pg");
    if !is_row {
        return line.to_string();
    }
    let indent = &line[..line.len() - line.trim_start().len()];
    let mut out: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
    for (index, word) in [(4, "TL"), (5, "LAG")] {
        let value = cells[index].trim();
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) && value != "0" {
            out[index] = format!(" {word:<w$} ", w = cells[index].len().saturating_sub(2));
        }
    }
    format!("{indent}{}", out.join("|"))
}

/// How a killed server's connection ends is a race: a reset when it died with our bytes
/// unread (stream management's acknowledgements make that common), else a close without TLS's
/// close_notify. Both are "the peer went away".
fn lost_connection(line: &str) -> String {
    line.replace("Connection reset by peer (os error 104)", "PEER GONE")
        .replace(
            "peer closed connection without sending TLS close_notify",
            "PEER GONE",
        )
}

/// Server-made ids (`<stanza-id id='-Wyc1Ksq-Xt5VDEN-2NzWeJS'/>`) and delay stamps
/// (`stamp='2026-12-06T04:04:30Z'`) differ on every run.
fn random_ids(line: &str) -> String {
    let line = replace_values(line, "id='", |value| value.len() >= 12, "ID");
    timestamps(&replace_values(&line, "stamp='", |_| true, "STAMP"))
}

/// `2026-12-06T03:50:45Z` (in failure messages) becomes `STAMP`.
fn timestamps(line: &str) -> String {
    let bytes = line.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= shape.len()
            && shape.iter().zip(&bytes[i..]).all(|(s, b)| match s {
                b'd' => b.is_ascii_digit(),
                other => other == b,
            });
        if fits {
            out.push_str("STAMP");
            i += shape.len();
        } else {
            let c = line[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Replaces the quoted values after `prefix` that `random` says vary with `with`.
fn replace_values(line: &str, prefix: &str, random: impl Fn(&str) -> bool, with: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(prefix) {
        let (before, after) = rest.split_at(at + prefix.len());
        out.push_str(before);
        let end = after.find('\'').unwrap_or(after.len());
        out.push_str(if random(&after[..end]) {
            with
        } else {
            &after[..end]
        });
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Byte ranges of durations such as `1.2s`, `87ms`, `2m 5s` in a line.
fn durations(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
        if boundary && bytes[i].is_ascii_digit() {
            let mut j = i;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
                j += 1;
            }
            let unit = ["ms", "s", "m"].iter().find(|u| line[j..].starts_with(*u));
            if let Some(unit) = unit {
                let end = j + unit.len();
                let after = bytes.get(end).copied();
                if after.is_none_or(|c| !c.is_ascii_alphanumeric()) {
                    found.push((i, end));
                    i = end;
                    continue;
                }
            }
            i = j;
            continue;
        }
        i += 1;
    }
    // `2m 5s` becomes one TIME.
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in found {
        match merged.last_mut() {
            Some(last) if line[last.1..start] == *" " => last.1 = end,
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[test]
fn runs_against_the_local_lab() {
    // packet-*: per-packet faults, which only the packet plane reproduces (below).
    let names: Vec<String> = cases()
        .into_iter()
        .filter(|n| !n.starts_with("packet-"))
        .collect();
    assert!(
        names.len() >= 15 || std::env::var_os("JSPEC_GOLDEN").is_some(),
        "expected at least 15 end-to-end cases, found {}",
        names.len()
    );
    check_goldens(&names, &[]);
}

/// The fault cases give the same results on the packet plane (root only), and the packet-*
/// cases (drop, duplicate, reorder, tamper with real Prosody) run there. `close` is a
/// proxy-plane fault: the packet plane reports it blocked.
#[test]
fn fault_cases_hold_on_the_packet_plane() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipping: the packet plane needs root");
        return;
    }
    let names: Vec<String> = cases()
        .into_iter()
        .filter(|n| {
            (n.starts_with("fault-") && n != "fault-partition-close.jspec")
                || n.starts_with("packet-")
        })
        .collect();
    assert!(
        names.len() >= 6 || std::env::var_os("JSPEC_GOLDEN").is_some(),
        "{names:?}"
    );
    check_goldens(&names, &["--plane", "packet"]);
}

/// Runs each named case file and compares its output with the golden files.
fn check_goldens(names: &[String], extra: &[&str]) {
    let mut failures = Vec::new();
    for name in names {
        let stem = name.trim_end_matches(".jspec");
        // A golden file is written by the plane it belongs to.
        let bless = std::env::var_os("JSPEC_BLESS").is_some()
            && (extra.is_empty() || stem.starts_with("packet-"));
        let out_dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(env!("CARGO_BIN_EXE_jspec"));
        command
            .args(["run", name, "--seed", "1", "--timeout", "5s"])
            .args(extra)
            .arg("--out")
            .arg(out_dir.path());
        // NAME.args beside NAME.jspec: more options for `jspec run`, split at whitespace.
        let args_file = run_dir().join(format!("{stem}.args"));
        if let Ok(args) = std::fs::read_to_string(&args_file) {
            command.args(args.split_whitespace());
        }
        // NAME.toml beside NAME.jspec: run against that environment instead of the local lab.
        let env_file = format!("{stem}.toml");
        if run_dir().join(&env_file).exists() {
            command.args(["--env", &env_file]);
        }
        let output = command
            .current_dir(run_dir())
            .env("NO_COLOR", "1")
            .env("JSPEC_STATE_DIR", out_dir.path().join("state"))
            .env("JSPEC_TEST_PASSWORD", "not-a-secret")
            .output()
            .expect("jspec runs");
        let stdout = normalise(&String::from_utf8_lossy(&output.stdout), out_dir.path());
        let stderr = normalise(&String::from_utf8_lossy(&output.stderr), out_dir.path());
        let actual = [
            ("out", format!("{stdout}{stderr}")),
            ("exit", format!("{}\n", output.status.code().unwrap_or(-1))),
        ];
        for (extension, text) in actual {
            let path = run_dir().join(format!("{stem}.{extension}"));
            if bless {
                std::fs::write(&path, &text).expect("write golden file");
            } else if std::fs::read_to_string(&path).unwrap_or_default() != text {
                let expected = std::fs::read_to_string(&path).unwrap_or_default();
                failures.push(format!(
                    "--- {stem}.{extension}: expected\n{expected}\n--- actual\n{text}"
                ));
            }
        }
        // A run that ran cases leaves its record: every event, and a junit.xml.
        if output.status.code() != Some(2) {
            let events =
                std::fs::read_to_string(out_dir.path().join("events.jsonl")).unwrap_or_default();
            if !events
                .lines()
                .last()
                .is_some_and(|l| l.contains("\"event\":\"run_finished\""))
            {
                failures.push(format!(
                    "{stem}: events.jsonl does not end with run_finished"
                ));
            }
            if !out_dir.path().join("junit.xml").exists() {
                failures.push(format!("{stem}: no junit.xml"));
            }
            let results = std::fs::read_to_string(out_dir.path().join("testrail-results.json"))
                .unwrap_or_default();
            let parsed: Option<serde_json::Value> = serde_json::from_str(&results).ok();
            if !parsed.is_some_and(|body| body["results"].is_array()) {
                failures.push(format!("{stem}: no testrail-results.json with results"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches (JSPEC_BLESS=1 to refresh):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn durations_are_normalised() {
    assert_eq!(
        normalise(
            "✓ step (1.2s) in 87ms, 2m 5s; C1001 a.test 5222",
            Path::new("/x")
        ),
        "✓ step (TIME) in TIME, TIME; C1001 a.test 5222\n"
    );
}
