//! A record of running labs on this machine, so that servers left behind by a jspec that was
//! killed (SIGKILL, a crash) are found and stopped by the next run or `jspec lab down` — by PID,
//! and only when the process is still the server the lab started (its command line names the
//! lab's own configuration file).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One lab as recorded on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabRecord {
    /// The jspec process that owns the lab.
    pub owner_pid: u32,
    pub dir: PathBuf,
    pub servers: Vec<ServerRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRecord {
    pub role: String,
    pub domain: String,
    pub address: String,
    pub pid: u32,
    /// A path that appears on the server's command line (its configuration file).
    pub config: PathBuf,
}

/// What `cleanup` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleanup {
    /// Servers stopped, as `role (pid)`.
    pub stopped: Vec<String>,
    /// Records removed.
    pub records: usize,
}

/// Where lab records live: `$JSPEC_STATE_DIR/labs`, or a per-user folder under the temp dir.
pub fn registry_dir() -> PathBuf {
    match std::env::var_os("JSPEC_STATE_DIR") {
        Some(dir) => PathBuf::from(dir).join("labs"),
        None => std::env::temp_dir()
            .join(format!("jspec-{}", nix::unistd::Uid::current()))
            .join("labs"),
    }
}

fn record_path(registry: &Path, owner_pid: u32, dir: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    dir.hash(&mut hasher);
    registry.join(format!("{owner_pid}-{:016x}.json", hasher.finish()))
}

/// Records a lab (in the registry and as `lab.json` in its folder).
pub fn record(registry: &Path, lab: &LabRecord) -> std::io::Result<()> {
    std::fs::create_dir_all(registry)?;
    let text = serde_json::to_string_pretty(lab).map_err(std::io::Error::other)?;
    std::fs::write(lab.dir.join("lab.json"), &text)?;
    std::fs::write(record_path(registry, lab.owner_pid, &lab.dir), text)
}

/// Forgets a lab that was stopped.
pub fn forget(registry: &Path, lab: &LabRecord) {
    let _ = std::fs::remove_file(record_path(registry, lab.owner_pid, &lab.dir));
}

/// Every recorded lab, with whether its owner still runs.
pub fn list(registry: &Path) -> Vec<(LabRecord, bool)> {
    let Ok(entries) = std::fs::read_dir(registry) else {
        return Vec::new();
    };
    let mut labs: Vec<(LabRecord, bool)> = entries
        .filter_map(|entry| {
            let text = std::fs::read_to_string(entry.ok()?.path()).ok()?;
            let record: LabRecord = serde_json::from_str(&text).ok()?;
            let alive = process_alive(record.owner_pid);
            Some((record, alive))
        })
        .collect();
    labs.sort_by_key(|(record, _)| record.owner_pid);
    labs
}

/// Stops the servers of labs whose owner is gone (or of every lab, with `all`), SIGTERM then
/// SIGKILL, and removes their records.
pub async fn cleanup(registry: &Path, all: bool) -> Cleanup {
    let mut done = Cleanup::default();
    for (record, owner_alive) in list(registry) {
        if owner_alive && !all {
            continue;
        }
        for server in &record.servers {
            if is_our_server(server) {
                stop_pid(server.pid).await;
                done.stopped
                    .push(format!("{} ({})", server.role, server.pid));
            }
        }
        forget(registry, &record);
        done.records += 1;
    }
    done
}

/// Whether `pid` still runs the server we started: its command line names our config file.
fn is_our_server(server: &ServerRecord) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{}/cmdline", server.pid)) else {
        return false;
    };
    let config = server.config.display().to_string();
    String::from_utf8_lossy(&cmdline)
        .split('\0')
        .any(|arg| arg == config)
}

pub(crate) fn process_alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // A zombie has exited; only its parent's wait is missing.
    !stat.is_empty() && !stat.contains(") Z ")
}

async fn stop_pid(pid: u32) {
    use nix::sys::signal::{Signal, kill};
    let target = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
    let _ = kill(target, Signal::SIGCONT);
    let _ = kill(target, Signal::SIGTERM);
    for _ in 0..50 {
        if !process_alive(pid) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = kill(target, Signal::SIGKILL);
}
