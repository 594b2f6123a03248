//! `jspec lab`: servers by hand, and the clean-up after a jspec that was killed (SIGKILL):
//! `jspec lab status` shows the orphaned lab and `jspec lab down` stops its servers, by PID.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn jspec(state: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jspec"));
    command.env("JSPEC_STATE_DIR", state).env("NO_COLOR", "1");
    command
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

/// Starts `jspec lab up` and waits for its "press Ctrl-C" line; returns the child and its output.
fn lab_up(state: &Path, dir: &Path) -> (Child, String) {
    let mut child = jspec(state)
        .args(["lab", "up", "--servers", "a", "--dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jspec lab up starts");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut output = String::new();
    let started = Instant::now();
    while !output.contains("press Ctrl-C") {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0
            || started.elapsed() > Duration::from_secs(30)
        {
            let _ = child.kill();
            panic!("lab up did not come up: {output}");
        }
        output.push_str(&line);
    }
    (child, output)
}

#[test]
fn a_killed_jspec_leaves_servers_that_lab_down_stops() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (state, dir) = (temp.path().join("state"), temp.path().join("lab"));
    let (mut child, output) = lab_up(&state, &dir);
    assert!(output.contains("a.test"), "{output}");

    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lab.json")).expect("lab.json"))
            .expect("json");
    let server_pid = record["servers"][0]["pid"].as_u64().expect("server pid") as u32;
    assert!(alive(server_pid));

    // SIGKILL: jspec cannot clean up; the server is orphaned.
    child.kill().expect("kill jspec");
    child.wait().expect("reap jspec");
    assert!(
        alive(server_pid),
        "the server outlives a killed jspec (this is what lab down is for)"
    );

    let status = jspec(&state)
        .args(["lab", "status"])
        .output()
        .expect("status");
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("owner gone"), "{status}");

    let down = jspec(&state).args(["lab", "down"]).output().expect("down");
    let down = String::from_utf8_lossy(&down.stdout);
    assert!(down.contains(&format!("a ({server_pid})")), "{down}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(server_pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(server_pid), "lab down stopped the server");
    let after = jspec(&state)
        .args(["lab", "status"])
        .output()
        .expect("status");
    assert!(String::from_utf8_lossy(&after.stdout).contains("no labs recorded"));
}

#[test]
fn lab_down_leaves_running_labs_alone_unless_all() {
    let temp = tempfile::tempdir().expect("temp dir");
    let (state, dir) = (temp.path().join("state"), temp.path().join("lab"));
    let (mut child, _) = lab_up(&state, &dir);
    let down = jspec(&state).args(["lab", "down"]).output().expect("down");
    assert!(String::from_utf8_lossy(&down.stdout).contains("no lab servers to stop"));
    let all = jspec(&state)
        .args(["lab", "down", "--all"])
        .output()
        .expect("down --all");
    assert!(String::from_utf8_lossy(&all.stdout).contains("stopped a ("));
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until `path` contains `needle`, up to `limit`.
fn wait_for_text(path: &Path, needle: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_run_killed_midway_keeps_its_events_and_the_next_run_stops_its_servers() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let slow = "case C9700 \"Slow\" {\n  servers a\n  user alice on a\n\n  step \"Wait\" {\n    connect alice\n    wait 60s\n  }\n}\n";
    std::fs::write(temp.path().join("slow.jspec"), slow).expect("write");
    let mut child = jspec(&state)
        .args(["run", "slow.jspec", "--out", "killed"])
        .current_dir(temp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jspec run starts");
    let events = temp.path().join("killed/events.jsonl");
    assert!(
        wait_for_text(
            &events,
            "\"event\":\"step_started\"",
            Duration::from_secs(30)
        ),
        "the run never started its step"
    );
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(temp.path().join("killed/lab/lab.json")).expect("lab.json"),
    )
    .expect("json");
    let server_pid = record["servers"][0]["pid"].as_u64().expect("pid") as u32;

    child.kill().expect("SIGKILL jspec");
    child.wait().expect("reap");
    // Every event written before the kill is there, one JSON object per line.
    let written = std::fs::read_to_string(&events).expect("events");
    for line in written.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("a whole JSON line");
    }
    assert!(written.contains("\"event\":\"case_started\"") && !written.contains("run_finished"));
    assert!(
        alive(server_pid),
        "the orphaned server is still there before the next run"
    );

    // The next run stops what the killed one left, before starting its own lab.
    let quick = "case C9701 \"Quick\" {\n  servers a\n  user alice on a\n\n  step \"Connect\" {\n    connect alice\n  }\n}\n";
    std::fs::write(temp.path().join("quick.jspec"), quick).expect("write");
    let next = jspec(&state)
        .args(["run", "quick.jspec", "-q", "--out", "next"])
        .current_dir(temp.path())
        .output()
        .expect("next run");
    assert_eq!(
        next.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&next.stdout)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(server_pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(server_pid),
        "the next run stopped the orphaned server"
    );
    let status = jspec(&state)
        .args(["lab", "status"])
        .output()
        .expect("status");
    assert!(String::from_utf8_lossy(&status.stdout).contains("no labs recorded"));
}
