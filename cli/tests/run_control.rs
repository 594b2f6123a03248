//! Stopping a run from outside, and the run folder: SIGTERM, SIGHUP and Ctrl-C stop a run the
//! way a user expects (teardown, faults healed, lab stopped, reports written, exit 128 + N), a
//! second signal forces the stop, an interrupted run reports the cases it never started as not
//! run, and a run folder is never shared or overwritten.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn jspec(state: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jspec"));
    command.env("JSPEC_STATE_DIR", state).env("NO_COLOR", "1");
    command
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

/// Runs `jspec lab down` when dropped, so a failing assertion leaves no lab behind.
struct LabDown(PathBuf);

impl Drop for LabDown {
    fn drop(&mut self) {
        let _ = jspec(&self.0).args(["lab", "down"]).output();
    }
}

/// A temporary folder with a spec, a state folder and a run folder path.
struct Setup {
    _temp: tempfile::TempDir,
    spec: PathBuf,
    run: PathBuf,
    state: PathBuf,
}

fn setup(spec: &str) -> Setup {
    let temp = tempfile::tempdir().expect("temp dir");
    let path = temp.path().join("case.jspec");
    std::fs::write(&path, spec).expect("spec written");
    Setup {
        spec: path,
        run: temp.path().join("run"),
        state: temp.path().join("state"),
        _temp: temp,
    }
}

fn start(setup: &Setup, extra: &[&str]) -> Child {
    jspec(&setup.state)
        .args(["run", "--seed", "1"])
        .args(extra)
        .arg("--out")
        .arg(&setup.run)
        .arg(&setup.spec)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jspec starts")
}

fn events(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Waits until events.jsonl holds an event of this kind.
fn wait_for_event(run: &Path, kind: &str, child: &mut Child) {
    let started = Instant::now();
    while !events(run).iter().any(|e| e["event"] == kind) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("jspec ended ({status}) before `{kind}`");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no `{kind}` event within 60s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the process to end (at most `limit`, then kills it and fails).
fn wait_exit(child: &mut Child, limit: Duration) -> (i32, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return (status.code().unwrap_or(-1), started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("jspec did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The server PIDs the lab record listed.
fn recorded_pids(run: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(run.join("lab/lab.json")).unwrap_or_default();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    record["servers"]
        .as_array()
        .map(|servers| {
            servers
                .iter()
                .filter_map(|s| Some(s["pid"].as_u64()? as u32))
                .collect()
        })
        .unwrap_or_default()
}

fn signal(child: &Child, signal: Signal) {
    kill(Pid::from_raw(child.id() as i32), signal).expect("signal sent");
}

const LAG_AND_WAIT: &str = r#"case C9901 "Lags a link, then waits" {
  servers a
  user alice on a

  step "A fault in force while the case waits" {
    connect alice
    impair link alice -> a lag 50ms
    wait 60s
  }

  teardown {
    disconnect alice
  }
}
"#;

/// After SIGTERM (or SIGHUP): exit 128 + N, the lab's servers stopped and forgotten, the last
/// event `run_finished` with the reason, junit.xml written, the case reported as interrupted.
fn stops_cleanly_on(sig: Signal, extra: &[&str]) {
    let setup = setup(LAG_AND_WAIT);
    let _cleanup = LabDown(setup.state.clone());
    let mut child = start(&setup, extra);
    wait_for_event(&setup.run, "step_started", &mut child);
    std::thread::sleep(Duration::from_millis(300));
    let pids = recorded_pids(&setup.run);
    assert!(!pids.is_empty(), "the lab record lists the servers");
    signal(&child, sig);
    let (code, took) = wait_exit(&mut child, Duration::from_secs(60));
    eprintln!("{sig}: stopped in {took:?}");
    assert_eq!(code, 128 + sig as i32, "exit status after {sig}");
    for pid in pids {
        assert!(!alive(pid), "server {pid} still runs after {sig}");
    }
    let events = events(&setup.run);
    let last = events.last().expect("events written");
    assert_eq!(last["event"], "run_finished", "{last}");
    assert!(
        last["error"]
            .as_str()
            .is_some_and(|e| e.contains("interrupted"))
    );
    let finished: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "case_finished")
        .collect();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0]["result"]["status"], "retest");
    let junit = std::fs::read_to_string(setup.run.join("junit.xml")).expect("junit.xml");
    assert!(junit.contains("C9901"), "{junit}");
    let registry = std::fs::read_dir(setup.state.join("labs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(registry, 0, "the lab is forgotten in the registry");
}

#[test]
fn sigterm_stops_the_run_like_ctrl_c() {
    stops_cleanly_on(Signal::SIGTERM, &[]);
}

#[test]
fn sighup_stops_the_run_like_ctrl_c() {
    stops_cleanly_on(Signal::SIGHUP, &[]);
}

/// On the packet plane a stop also removes the lab's namespaces (with their nft tables), its
/// bridge and its veths.
#[test]
fn sigterm_on_the_packet_plane_removes_the_lab_network() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipping: the packet plane needs root");
        return;
    }
    let (namespaces, links) = (ip(&["netns", "list"]), ip(&["-o", "link", "show"]));
    stops_cleanly_on(Signal::SIGTERM, &["--plane", "packet"]);
    assert_eq!(
        ip(&["netns", "list"]),
        namespaces,
        "network namespaces left behind"
    );
    assert_eq!(
        ip(&["-o", "link", "show"]).lines().count(),
        links.lines().count(),
        "links left behind"
    );
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SLOW_TEARDOWN: &str = r#"case C9902 "A teardown that takes its time" {
  step "Waits" {
    wait 60s
  }

  teardown {
    wait 60s
  }
}
"#;

/// The first Ctrl-C lets teardown run (up to its 10 s grace); the second stops at once.
#[test]
fn a_second_signal_forces_the_stop() {
    let setup = setup(SLOW_TEARDOWN);
    let _cleanup = LabDown(setup.state.clone());
    let mut child = start(&setup, &[]);
    wait_for_event(&setup.run, "step_started", &mut child);
    signal(&child, Signal::SIGINT);
    // The teardown block has begun: the first signal let it run.
    let started = Instant::now();
    while !events(&setup.run)
        .iter()
        .any(|e| e["event"] == "step_started" && e["kind"] == "teardown")
    {
        assert!(started.elapsed() < Duration::from_secs(30), "no teardown");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, Signal::SIGINT);
    let (code, took) = wait_exit(&mut child, Duration::from_secs(30));
    eprintln!("forced stop after {took:?}");
    assert_eq!(code, 130);
    let teardown = events(&setup.run)
        .into_iter()
        .find(|e| e["event"] == "step_finished" && e["result"]["kind"] == "teardown")
        .expect("the teardown is reported");
    assert_eq!(teardown["result"]["status"], "retest", "{teardown}");
    assert!(
        took < Duration::from_secs(8),
        "a forced stop must not wait for the 10 s teardown grace (took {took:?})"
    );
}

/// Ctrl-C in a long run: the running case is interrupted and the cases never started are
/// reported as not run, without starting them.
#[test]
fn an_interrupted_run_reports_the_cases_never_started_as_not_run() {
    let cases: String = (1..=300)
        .map(|n| {
            format!(
                "case C{} \"Waits {n}\" {{\n  step \"Wait\" {{\n    wait 1s\n  }}\n}}\n\n",
                20000 + n
            )
        })
        .collect();
    let setup = setup(&cases);
    let _cleanup = LabDown(setup.state.clone());
    let mut child = start(&setup, &[]);
    wait_for_event(&setup.run, "step_started", &mut child);
    signal(&child, Signal::SIGINT);
    let (code, took) = wait_exit(&mut child, Duration::from_secs(60));
    eprintln!("300 cases: stopped {took:?} after Ctrl-C");
    assert_eq!(code, 130);
    let events = events(&setup.run);
    let started = events
        .iter()
        .filter(|e| e["event"] == "case_started")
        .count();
    let summary = &events.last().expect("events")["summary"];
    assert!(started <= 2, "{started} cases were started after Ctrl-C");
    assert_eq!(summary["not_run"].as_u64(), Some(300 - started as u64));
    let finished = events
        .iter()
        .filter(|e| e["event"] == "case_finished")
        .count();
    assert_eq!(finished, 300, "every case has a result");
}

const QUICK: &str = r#"case C9903 "Quick" {
  step "Wait" {
    wait 10ms
  }
}
"#;

/// An earlier run's folder is refused, with a message that says why.
#[test]
fn a_used_run_folder_is_refused() {
    let setup = setup(QUICK);
    let mut first = start(&setup, &[]);
    let (code, _) = wait_exit(&mut first, Duration::from_secs(60));
    assert_eq!(code, 0);
    let output = jspec(&setup.state)
        .args(["run", "--out"])
        .arg(&setup.run)
        .arg(&setup.spec)
        .output()
        .expect("jspec runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert!(stderr.contains("choose another --out"), "{stderr}");
}

/// Two runs at once with the same --out: the second is refused while the first runs, and the
/// first run's files stay intact.
#[test]
fn two_runs_never_share_a_run_folder() {
    let setup = setup(SLOW_TEARDOWN);
    let mut first = start(&setup, &[]);
    wait_for_event(&setup.run, "step_started", &mut first);
    let output = jspec(&setup.state)
        .args(["run", "--out"])
        .arg(&setup.run)
        .arg(&setup.spec)
        .output()
        .expect("jspec runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("in use by another jspec run"), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", first.id())), "{stderr}");
    signal(&first, Signal::SIGINT);
    signal(&first, Signal::SIGINT);
    let (code, _) = wait_exit(&mut first, Duration::from_secs(30));
    assert_eq!(code, 130);
    let text = std::fs::read_to_string(setup.run.join("events.jsonl")).expect("events");
    assert!(
        !text.contains('\0'),
        "events.jsonl was written into by two runs"
    );
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every line is one event");
    }
}
