//! The backends of a postmaster: found through /proc, so that a kill or a pause reaches the
//! whole server and not only the process we started.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Backends notice a dead postmaster at once; a SIGKILL takes effect in milliseconds.
pub(crate) const GONE_TIMEOUT: Duration = Duration::from_secs(5);

/// The PIDs whose parent is `parent`.
pub(crate) fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent_of(pid) == Some(parent))
        .collect()
}

/// Every process below `root` (children, their children, ...) with its program name, taken
/// before a kill: once the parent dies, its children are re-parented and lost from view.
pub(crate) fn descendants_of(root: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for child in children_of(parent) {
            if let Some(name) = program_name(child) {
                found.push((child, name));
            }
            parents.push(child);
        }
    }
    found
}

/// SIGKILL to each process that still runs the program it ran when it was found, then waits
/// (bounded) until they are gone.
pub(crate) async fn kill_found_and_wait(found: &[(u32, String)], timeout: Duration) {
    let living: Vec<u32> = found
        .iter()
        .filter(|(pid, name)| alive(*pid) && program_name(*pid).as_deref() == Some(name.as_str()))
        .map(|(pid, _)| *pid)
        .collect();
    signal_all(&living, Signal::SIGKILL);
    let deadline = Instant::now() + timeout;
    while living.iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The parent PID from /proc/PID/stat (after the command name, which may hold spaces).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_parent(&stat)
}

fn parse_parent(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Running or stopped, not a zombie.
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|end| stat[end + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

pub(crate) fn signal_all(pids: &[u32], signal: Signal) {
    for &pid in pids {
        if let Ok(raw) = i32::try_from(pid) {
            let _ = kill(Pid::from_raw(raw), signal);
        }
    }
}

/// The program name the kernel keeps for `pid` (PostgreSQL rewrites its command line, not this).
pub(crate) fn program_name(pid: u32) -> Option<String> {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(comm.trim_end().to_string())
}

/// SIGKILL to those still alive and still running `program` (a PID freed meanwhile may belong
/// to someone else by now), then waits (bounded) until they are gone.
pub(crate) async fn kill_and_wait(pids: &[u32], program: &str, timeout: Duration) {
    let living: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|&pid| alive(pid) && program_name(pid).as_deref() == Some(program))
        .collect();
    signal_all(&living, Signal::SIGKILL);
    let deadline = Instant::now() + timeout;
    while living.iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_follows_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (postgres: a (b) c) S 4200 4242 4242 0 -1";
        assert_eq!(parse_parent(stat), Some(4200));
    }

    #[test]
    fn this_process_is_alive_and_its_parent_knows_it() {
        let me = std::process::id();
        assert!(alive(me));
        let parent = parent_of(me).expect("a parent");
        assert!(children_of(parent).contains(&me));
    }
}
