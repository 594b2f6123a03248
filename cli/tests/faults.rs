//! Crash safety of faults: a jspec killed (SIGKILL) in the middle of a partition leaves nothing
//! that the next run does not clean up; that run starts healed and the partition example passes.
//! Also: the same seed gives the same chaos trace.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn jspec(state: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jspec"));
    command.env("JSPEC_STATE_DIR", state).env("NO_COLOR", "1");
    command
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/examples")
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

const STUCK_IN_A_PARTITION: &str = r#"case C9701 "Stays cut" {
  servers a, b
  user alice on a
  user bob on b

  step "Cut and wait" {
    connect alice
    connect bob
    partition a | b
    wait 60s
  }
}
"#;

fn killed_during_a_partition_then_the_next_run_is_healed(plane: &str) {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let spec = temp.path().join("stuck.jspec");
    std::fs::write(&spec, STUCK_IN_A_PARTITION).expect("spec");
    let killed_dir = temp.path().join("killed");
    let mut child = jspec(&state)
        .args(["run", "--plane", plane, "--out"])
        .arg(&killed_dir)
        .arg(&spec)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jspec starts");
    let trace = killed_dir.join("faults.jsonl");
    let started = Instant::now();
    while !std::fs::read_to_string(&trace)
        .unwrap_or_default()
        .contains("\"partition\"")
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no partition within 60s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL jspec");
    child.wait().expect("reap");
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(killed_dir.join("lab/lab.json")).expect("lab.json"),
    )
    .expect("json");
    let orphans: Vec<u32> = record["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .map(|s| s["pid"].as_u64().expect("pid") as u32)
        .collect();
    assert!(
        orphans.iter().all(|&pid| alive(pid)),
        "the servers outlive a killed jspec"
    );

    let next_dir = temp.path().join("next");
    let next = jspec(&state)
        .args(["run", "--plane", plane, "--seed", "1", "--out"])
        .arg(&next_dir)
        .arg(examples().join("s2s-partition.jspec"))
        .output()
        .expect("the next run");
    let stdout = String::from_utf8_lossy(&next.stdout);
    assert_eq!(
        next.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&next.stderr)
    );
    assert!(stdout.contains("2 passed"), "{stdout}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while orphans.iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        orphans.iter().all(|&pid| !alive(pid)),
        "the next run stopped the killed run's servers"
    );
}

#[test]
fn proxy_plane_a_killed_run_leaves_the_next_run_healed() {
    killed_during_a_partition_then_the_next_run_is_healed("proxy");
}

const CHAOS: &str = r#"case C9702 "Seeded chaos" {
  servers a, b
  user alice on a

  step "Chaos" {
    connect alice
    chaos for 3s {
      every 200ms..500ms pause one of a, b for 100ms
      every 300ms..700ms partition a | b
    }
  }
}
"#;

/// The trace of a run without times (which vary): action, target and the schedule's origin.
fn chaos_trace(dir: &Path, seed: &str, spec: &Path, state: &Path) -> Vec<String> {
    let output = jspec(state)
        .args(["run", "--seed", seed, "--out"])
        .arg(dir)
        .arg(spec)
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    std::fs::read_to_string(dir.join("faults.jsonl"))
        .expect("faults.jsonl")
        .lines()
        .skip(1)
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).expect("json");
            format!(
                "{} {} ({})",
                event["action"], event["target"], event["origin"]
            )
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_chaos_trace() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let spec = temp.path().join("chaos.jspec");
    std::fs::write(&spec, CHAOS).expect("spec");
    let first = chaos_trace(&temp.path().join("one"), "42", &spec, &state);
    let second = chaos_trace(&temp.path().join("two"), "42", &spec, &state);
    let other = chaos_trace(&temp.path().join("three"), "43", &spec, &state);
    assert!(first.len() > 4, "chaos acted: {first:#?}");
    assert_eq!(first, second, "same seed, same trace");
    assert_ne!(first, other, "another seed, another trace");
    assert!(
        first.iter().any(|l| l.contains("resume")) && first.iter().any(|l| l.contains("heal")),
        "chaos heals what it did: {first:#?}"
    );
}

/// The packet plane needs root (network namespaces, nftables); elsewhere it is skipped.
fn packet_plane_available() -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    eprintln!("skipping: the packet plane needs root");
    false
}

#[test]
fn packet_plane_a_killed_run_leaves_the_next_run_healed() {
    if packet_plane_available() {
        killed_during_a_partition_then_the_next_run_is_healed("packet");
        let left = Command::new("ip")
            .args(["netns", "list"])
            .output()
            .expect("ip netns list");
        let own = format!("jspec-{}-", std::process::id());
        assert!(
            !String::from_utf8_lossy(&left.stdout)
                .lines()
                .any(|l| l.starts_with("jspec-") && !l.starts_with(&own)),
            "no namespace of a finished jspec is left: {}",
            String::from_utf8_lossy(&left.stdout)
        );
    }
}

#[test]
fn packet_plane_runs_the_partition_example() {
    if !packet_plane_available() {
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let output = jspec(&temp.path().join("state"))
        .args(["run", "--plane", "packet", "--seed", "1", "--out"])
        .arg(temp.path().join("run"))
        .arg(examples().join("s2s-partition.jspec"))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("2 passed"), "{stdout}");
}
