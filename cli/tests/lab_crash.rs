//! Crash safety of the lab's security side: a jspec killed (SIGKILL) while a case runs with
//! reconfigured servers (restarted with new PIDs) and the lab KDC leaves nothing that
//! `jspec lab down` does not stop.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn jspec(state: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jspec"));
    command.env("JSPEC_STATE_DIR", state).env("NO_COLOR", "1");
    command
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

/// Restarts `a` for Kerberos (a new PID), starts the KDC, then waits.
const KERBEROS_AND_WAIT: &str = r#"case C9801 "Signed on, then waits" {
  requires gssapi
  servers a
  user alice on a

  step "Log in and wait" {
    connect alice auth gssapi
    wait 60s
  }
}
"#;

/// The PIDs the lab record lists: servers and the KDC.
fn recorded_pids(run: &Path) -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(run.join("lab/lab.json")).unwrap_or_default();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    record["servers"]
        .as_array()
        .map(|servers| {
            servers
                .iter()
                .filter_map(|s| Some((s["role"].as_str()?.to_string(), s["pid"].as_u64()? as u32)))
                .collect()
        })
        .unwrap_or_default()
}

/// The packet lab's owner tag: the PID of the jspec that made it.
fn run_tag(run: &Path) -> Option<String> {
    let text = std::fs::read_to_string(run.join("lab/lab.json")).ok()?;
    let record: serde_json::Value = serde_json::from_str(&text).ok()?;
    record["owner_pid"].as_u64().map(|pid| pid.to_string())
}

/// Runs `jspec lab down` when dropped, so a failing assertion leaves no lab behind either.
struct LabDown(std::path::PathBuf);

impl Drop for LabDown {
    fn drop(&mut self) {
        let _ = jspec(&self.0).args(["lab", "down"]).output();
    }
}

/// Starts `jspec run` on `spec_text` (state in `state`, `extra` options), waits until `started`
/// says the case is under way (at most `limit`), then SIGKILLs jspec. Returns the run folder.
fn kill_jspec_during(
    temp: &Path,
    state: &Path,
    (spec_text, extra): (&str, &[&str]),
    started: impl Fn(&Path) -> bool,
    limit: Duration,
) -> std::path::PathBuf {
    let spec = temp.join("wait.jspec");
    std::fs::write(&spec, spec_text).expect("spec");
    let run = temp.join("run");
    let mut child = jspec(state)
        .args(["run", "--out"])
        .arg(&run)
        .args(extra)
        .arg(&spec)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jspec starts");
    let since = Instant::now();
    while !started(&run) {
        assert!(
            since.elapsed() < limit,
            "the case did not start within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().expect("SIGKILL jspec");
    child.wait().expect("reap");
    run
}

/// Whether the run's first step has started.
fn step_started(run: &Path) -> bool {
    std::fs::read_to_string(run.join("events.jsonl"))
        .unwrap_or_default()
        .contains("step_started")
}

/// `jspec lab down` exits 0 and every one of `pids` is gone within `within`.
fn lab_down_stops(state: &Path, pids: &[(String, u32)], within: Duration) {
    let down = jspec(state)
        .args(["lab", "down"])
        .output()
        .expect("lab down");
    assert_eq!(down.status.code(), Some(0));
    let deadline = Instant::now() + within;
    while pids.iter().any(|&(_, pid)| alive(pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<&(String, u32)> = pids.iter().filter(|&&(_, pid)| alive(pid)).collect();
    assert!(
        left.is_empty(),
        "still running after lab down: {left:?}: {}",
        String::from_utf8_lossy(&down.stdout)
    );
}

#[test]
fn lab_down_stops_restarted_servers_and_the_kdc_of_a_killed_run() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let _cleanup = LabDown(state.clone());
    // The step has started: the server was restarted for Kerberos and the KDC runs.
    let run = kill_jspec_during(
        temp.path(),
        &state,
        (KERBEROS_AND_WAIT, &[]),
        |run| recorded_pids(run).iter().any(|(role, _)| role == "kdc") && step_started(run),
        Duration::from_secs(60),
    );
    let pids = recorded_pids(&run);
    assert!(
        pids.len() >= 2,
        "a server and the KDC are recorded: {pids:?}"
    );
    assert!(
        pids.iter().all(|&(_, pid)| alive(pid)),
        "the lab outlives a killed jspec (the record has the restarted server's PID): {pids:?}"
    );

    lab_down_stops(&state, &pids, Duration::from_secs(15));
}

const CLUSTER_AND_WAIT: &str = r#"case C9802 "A cluster case that waits" {
  servers c with nodes c1, c2
  user alice on c

  step "Log in on c2 and wait" {
    connect alice to c2
    wait 60s
  }
}
"#;

/// A jspec killed during a cluster case leaves its ejabberd nodes, their epmd and the
/// PostgreSQL behind; `jspec lab down` stops every one of them (by PID).
#[test]
fn lab_down_stops_the_nodes_epmd_and_database_of_a_killed_cluster_run() {
    if !std::path::Path::new("/usr/sbin/ejabberdctl").exists()
        || !nix::unistd::Uid::effective().is_root()
    {
        eprintln!("skipping: a managed cluster needs ejabberd, PostgreSQL and root");
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let _cleanup = LabDown(state.clone());
    let run = kill_jspec_during(
        temp.path(),
        &state,
        (CLUSTER_AND_WAIT, &[]),
        step_started,
        Duration::from_secs(120),
    );
    let pids = recorded_pids(&run);
    let roles: Vec<&str> = pids.iter().map(|(role, _)| role.as_str()).collect();
    for wanted in ["c1", "c2", "epmd-c", "c-db"] {
        assert!(roles.contains(&wanted), "{wanted} is recorded: {pids:?}");
    }
    assert!(pids.iter().all(|&(_, pid)| alive(pid)), "{pids:?}");

    lab_down_stops(&state, &pids, Duration::from_secs(15));
}

const REPLICATED_AND_WAIT: &str = r#"case C9803 "A case on a replicated database that waits" {
  servers c with nodes c1, c2
  databases pg with nodes pg1, pg2
  user alice on c

  step "Log in and wait" {
    connect alice to c1
    wait 60s
  }
}
"#;

/// The processes whose parent is `pid` (a postmaster's backends and WAL senders).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|child| {
                    let stat =
                        std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
                    stat.rfind(')')
                        .and_then(|end| stat[end + 1..].split_whitespace().nth(1))
                        .and_then(|p| p.parse::<u32>().ok())
                        == Some(pid)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A jspec killed during a case on a replicated database leaves Patroni agents, their
/// PostgreSQL (not Patroni's children), HAProxy and etcd behind; `jspec lab down` stops all.
#[test]
fn lab_down_stops_patroni_postgres_haproxy_and_etcd_of_a_killed_run() {
    replicated_run_killed(&[], &["haproxy of pg"]);
}

/// The same on the packet plane, where each server node has its own HAProxy and every part
/// runs in a network namespace, which `jspec lab down` removes as well.
#[test]
fn lab_down_stops_a_killed_replicated_run_on_the_packet_plane() {
    replicated_run_killed(
        &["--plane", "packet"],
        &["haproxy of pg on c1", "haproxy of pg on c2"],
    );
}

fn replicated_run_killed(extra: &[&str], haproxies: &[&str]) {
    if !std::path::Path::new("/usr/bin/patroni").exists()
        || !std::path::Path::new("/usr/sbin/ejabberdctl").exists()
        || !nix::unistd::Uid::effective().is_root()
    {
        eprintln!(
            "skipping: a replicated database needs Patroni, etcd, HAProxy, ejabberd and root"
        );
        return;
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let _cleanup = LabDown(state.clone());
    let run = kill_jspec_during(
        temp.path(),
        &state,
        (REPLICATED_AND_WAIT, extra),
        step_started,
        Duration::from_secs(180),
    );
    let mut pids = recorded_pids(&run);
    let roles: Vec<&str> = pids.iter().map(|(role, _)| role.as_str()).collect();
    let nodes = ["pg1", "pg1-postgres", "pg2", "pg2-postgres", "etcd of pg"];
    for wanted in nodes.iter().chain(haproxies) {
        assert!(roles.contains(wanted), "{wanted} is recorded: {pids:?}");
    }
    assert!(pids.iter().all(|&(_, pid)| alive(pid)), "{pids:?}");
    // The backends and WAL senders of each postmaster must go too.
    let postmasters: Vec<u32> = pids
        .iter()
        .filter(|(role, _)| role.ends_with("-postgres"))
        .map(|&(_, pid)| pid)
        .collect();
    for postmaster in postmasters {
        pids.extend(
            children(postmaster)
                .into_iter()
                .map(|pid| ("backend".to_string(), pid)),
        );
    }

    lab_down_stops(&state, &pids, Duration::from_secs(30));
    let tag = run_tag(&run);
    let namespaces = std::fs::read_dir("/var/run/netns")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| {
                    tag.as_deref()
                        .is_some_and(|t| n.starts_with(&format!("jspec-{t}-")))
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    assert!(namespaces.is_empty(), "namespaces left: {namespaces:?}");
}
