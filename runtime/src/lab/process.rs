//! A server process the lab started: spawned with its output in a log file, stopped with
//! SIGTERM, a grace period, then SIGKILL — always by its own PID, never by name.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// How long a process gets to exit after SIGTERM before it is killed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {program}: {source} (is it installed? see README)")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the log file {path}: {source}")]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot signal process {pid}: {source}")]
    Signal { pid: u32, source: nix::Error },
}

/// A running child process with its output going to `log`.
#[derive(Debug)]
pub struct ManagedProcess {
    name: String,
    child: Child,
    pid: u32,
    log: PathBuf,
}

/// Where a managed server stands, as the process plane changed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    Running,
    /// SIGSTOP: the process exists but does nothing; connections stay open.
    Paused,
    /// Killed or stopped.
    Down,
}

/// A managed server's process while it runs, its PID (0 while down, for records and
/// messages without waiting on the process lock) and its state. Prosody, ejabberd nodes and
/// PostgreSQL keep theirs in one of these.
#[derive(Debug)]
pub struct ProcessSlot {
    pub(crate) process: tokio::sync::Mutex<Option<ManagedProcess>>,
    pid: std::sync::atomic::AtomicU32,
    state: std::sync::Mutex<ServerState>,
}

impl Default for ProcessSlot {
    fn default() -> Self {
        ProcessSlot {
            process: tokio::sync::Mutex::new(None),
            pid: std::sync::atomic::AtomicU32::new(0),
            state: std::sync::Mutex::new(ServerState::Down),
        }
    }
}

impl ProcessSlot {
    pub(crate) fn state(&self) -> ServerState {
        *crate::sync::lock(&self.state)
    }

    pub(crate) fn set_state(&self, state: ServerState) {
        *crate::sync::lock(&self.state) = state;
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn set_pid(&self, pid: u32) {
        self.pid.store(pid, std::sync::atomic::Ordering::SeqCst);
    }

    /// No process any more: killed, stopped, or it exited.
    pub(crate) fn mark_down(&self) {
        self.set_pid(0);
        self.set_state(ServerState::Down);
    }
}

impl ManagedProcess {
    /// Starts `program args` with stdout and stderr appended to `log`. The child is killed if
    /// this value is dropped without `stop` (an error path or a panic).
    pub fn spawn(
        name: &str,
        program: &str,
        args: &[&str],
        log: &Path,
        envs: &[(&str, &str)],
    ) -> Result<Self, ProcessError> {
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|source| ProcessError::Log {
                    path: log.to_path_buf(),
                    source,
                })
        };
        let (stdout, stderr) = (open()?, open()?);
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        for (key, value) in envs {
            command.env(key, value);
        }
        let child = command.spawn().map_err(|source| ProcessError::Spawn {
            program: program.to_string(),
            source,
        })?;
        let pid = child.id().unwrap_or_default();
        tracing::debug!(name, pid, program, "started");
        Ok(ManagedProcess {
            name: name.to_string(),
            child,
            pid,
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Whether the process has exited, and how.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends a signal to this process (SIGSTOP and SIGCONT pause and resume it).
    pub fn signal(&self, signal: Signal) -> Result<(), ProcessError> {
        let pid = i32::try_from(self.pid).unwrap_or(i32::MAX);
        kill(Pid::from_raw(pid), signal).map_err(|source| ProcessError::Signal {
            pid: self.pid,
            source,
        })
    }

    /// SIGTERM, then SIGKILL after `grace`; waits for the exit. A paused process is resumed
    /// first so that it can handle SIGTERM.
    pub async fn stop(mut self, grace: Duration) {
        if self.exit_status().is_some() {
            return;
        }
        let _ = self.signal(Signal::SIGCONT);
        let _ = self.signal(Signal::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                name = self.name,
                pid = self.pid,
                "did not stop within the grace period; killing it"
            );
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }

    /// SIGKILL, like a crash; waits for the exit.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// The last lines of the log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}
