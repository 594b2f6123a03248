//! A private PostgreSQL 15 for the lab (the SQL store of ejabberd clusters): its data folder
//! in the lab, the postmaster run in the foreground as user `postgres` and stopped by PID.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

mod client;
mod data_dir;
pub(crate) mod processes;

use super::process::{ManagedProcess, ProcessError, ProcessSlot};
use super::server::ServerProcess;
use crate::lab::prosody::in_namespace;
pub use client::SqlClient;
pub(crate) use client::run_bounded;
pub(crate) use data_dir::{as_postgres, postgres_ids};

/// Debian's PostgreSQL 15 programs (not the version-picking wrappers in /usr/bin).
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
/// The port PostgreSQL listens on by default; each lab server has its own address.
pub const DEFAULT_PORT: u16 = 5432;

/// A fresh cluster accepts connections in about 0.1 s here.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Fast shutdown (SIGINT) ends in well under a second; then SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("database {role}: cannot start {program}: {source} (is postgresql-15 installed?)")]
    Spawn {
        role: String,
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database {role}: cannot write {path}: {source}")]
    Write {
        role: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database {role}: there is no system user `postgres` (install postgresql-15)")]
    NoPostgresUser { role: String },
    #[error(
        "database {role}: user postgres cannot enter {path} (PostgreSQL refuses root and runs as postgres; `chmod o+x {path}` or put the lab elsewhere)"
    )]
    Unreachable { role: String, path: PathBuf },
    #[error("database {role}: {reason}")]
    Invalid { role: String, reason: String },
    #[error("database {role}: {what} failed ({status}): {output}")]
    Command {
        role: String,
        what: String,
        status: String,
        output: String,
    },
    #[error(
        "database {role}: postgres exited during start-up ({status}); last lines of {log}:\n{tail}"
    )]
    Exited {
        role: String,
        status: String,
        log: String,
        tail: String,
    },
    #[error(
        "database {role}: postgres did not accept connections on {addr} within {seconds}s; last lines of {log}:\n{tail}"
    )]
    NotReady {
        role: String,
        addr: SocketAddr,
        seconds: u64,
        log: String,
        tail: String,
    },
    #[error("database {role} is not running (killed or stopped; `start` it first)")]
    NotRunning { role: String },
}

/// Where a lab PostgreSQL listens.
#[derive(Clone, Debug)]
pub struct PostgresSpec {
    /// Its name in the lab (`db`), used in errors and logs.
    pub role: String,
    pub address: Ipv4Addr,
    pub port: u16,
    /// The network namespace to run in (the packet plane), entered with `ip netns exec`.
    pub netns: Option<String>,
}

impl PostgresSpec {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, self.port))
    }
}

/// A lab PostgreSQL: its data folder, and its postmaster while it runs. The process plane
/// kills, stops, starts and pauses it; its databases survive in the data folder.
#[derive(Debug)]
pub struct Postgres {
    pub spec: PostgresSpec,
    pub dir: PathBuf,
    /// Its process while it runs, its PID and what the process plane made of it.
    slot: ProcessSlot,
}

impl Postgres {
    /// Initialises a cluster in `dir/data` (unless there is one), starts the postmaster and
    /// waits until it accepts connections.
    pub async fn start(spec: PostgresSpec, dir: &Path) -> Result<Postgres, PostgresError> {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        std::fs::create_dir_all(&dir).map_err(|source| PostgresError::Write {
            role: spec.role.clone(),
            path: dir.clone(),
            source,
        })?;
        data_dir::prepare(&spec.role, &dir.join("data")).await?;
        let postgres = Postgres {
            spec,
            dir,
            slot: ProcessSlot::default(),
        };
        postgres.start_process().await?;
        Ok(postgres)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    async fn wait_ready(&self, process: &mut ManagedProcess) -> Result<(), PostgresError> {
        let started = Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                return Err(PostgresError::Exited {
                    role: self.spec.role.clone(),
                    status: status.to_string(),
                    log: self.log_path().display().to_string(),
                    tail: process.log_tail(15),
                });
            }
            if self.client().accepts_connections().await {
                tracing::debug!(
                    role = self.spec.role,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "postgres ready"
                );
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(PostgresError::NotReady {
                    role: self.spec.role.clone(),
                    addr: self.spec.addr(),
                    seconds: READY_TIMEOUT.as_secs(),
                    log: self.log_path().display().to_string(),
                    tail: process.log_tail(15),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fast shutdown at the end of the lab.
    pub async fn stop(self) {
        self.stop_process().await;
    }

    /// SIGKILL at the end of the lab (a forced stop).
    pub async fn kill(self) {
        self.kill_process().await;
    }
}

impl ServerProcess for Postgres {
    type Error = PostgresError;

    fn slot(&self) -> &ProcessSlot {
        &self.slot
    }

    fn not_running(&self) -> PostgresError {
        PostgresError::NotRunning {
            role: self.spec.role.clone(),
        }
    }

    /// The postmaster on the lab's data folder, as user `postgres`, in its namespace on the
    /// packet plane.
    async fn launch(&self) -> Result<ManagedProcess, PostgresError> {
        let data = self.data_dir().display().to_string();
        let listen = format!("listen_addresses={}", self.spec.address);
        let port = self.spec.port.to_string();
        let postgres = format!("{PG_BIN}/postgres");
        // TCP only (no Unix socket whose path could be too long or clash); no fsync, as in
        // initdb. Room for the SQL pools of several ejabberd nodes.
        let server_args = [
            "-D",
            data.as_str(),
            "-c",
            listen.as_str(),
            "-p",
            port.as_str(),
            "-c",
            "unix_socket_directories=",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ];
        let (setpriv, setpriv_args) = as_postgres(&postgres, &server_args);
        let setpriv_args: Vec<&str> = setpriv_args.iter().map(String::as_str).collect();
        let (program, args) = in_namespace(self.spec.netns.as_deref(), &setpriv, &setpriv_args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut process =
            ManagedProcess::spawn(&self.spec.role, &program, &args, &self.log_path(), &[])?;
        if let Err(error) = self.wait_ready(&mut process).await {
            process.kill().await;
            return Err(error);
        }
        Ok(process)
    }

    /// SIGKILL, like a crash of the database server: the postmaster and its backends die at
    /// once (connections reset), and it returns once they are gone so that a start can
    /// follow (a new postmaster refuses while old backends hold the shared memory).
    async fn crash(&self, process: ManagedProcess) {
        let backends = processes::children_of(process.pid());
        process.kill().await;
        processes::kill_and_wait(&backends, "postgres", processes::GONE_TIMEOUT).await;
    }

    /// Fast shutdown (SIGINT: sessions are cut, the data is flushed; SIGTERM would wait for
    /// every client to leave), SIGKILL after a grace period.
    async fn shut_down(&self, mut process: ManagedProcess) {
        let pid = process.pid();
        // Paused backends could not finish their part of the shutdown.
        processes::signal_all(&processes::children_of(pid), Signal::SIGCONT);
        let _ = process.signal(Signal::SIGCONT);
        let _ = process.signal(Signal::SIGINT);
        let deadline = Instant::now() + STOP_GRACE;
        while process.exit_status().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        // A postmaster that shut down has waited for its backends: nothing to kill.
        if process.exit_status().is_none() {
            tracing::warn!(
                role = self.spec.role,
                pid,
                "postgres did not shut down within the grace period; killing it"
            );
            self.crash(process).await;
        }
    }

    /// The postmaster and its backends, so that open connections hang too (a paused
    /// postmaster alone keeps serving them).
    fn signal_pause(&self, process: &ManagedProcess, pause: bool) -> Result<(), ProcessError> {
        if pause {
            // The postmaster first, so that it forks no backend we would miss.
            process.signal(Signal::SIGSTOP)?;
            processes::signal_all(&processes::children_of(process.pid()), Signal::SIGSTOP);
        } else {
            processes::signal_all(&processes::children_of(process.pid()), Signal::SIGCONT);
            process.signal(Signal::SIGCONT)?;
        }
        Ok(())
    }
}
