//! One node of a replicated database: its Patroni agent and the PostgreSQL that agent runs, as a
//! machine would hold them. A fault on the node hits both (a crash, a shutdown, a freeze); the
//! database process alone can be killed too, and Patroni then restarts it in place (measured).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::rest::Rest;
use super::{PATRONI_REST_PORT, PatroniError, Place};
use crate::lab::postgres::processes::{self, descendants_of, kill_found_and_wait};
use crate::lab::postgres::{DEFAULT_PORT, as_postgres};
use crate::lab::process::{ManagedProcess, ProcessError, ProcessSlot};
use crate::lab::prosody::in_namespace;
use crate::lab::server::ServerProcess;

/// A first node bootstraps (initdb) in about 3 s, a replica clones in about 2 s; a node coming
/// back after a failover may first rewind.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Patroni stops its PostgreSQL (fast shutdown) and exits within seconds on SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// A database node: Patroni plus PostgreSQL.
#[derive(Debug)]
pub struct PatroniAgent {
    /// The node's name in the spec and in Patroni (`pg1`).
    pub name: String,
    pub address: Ipv4Addr,
    pub dir: PathBuf,
    /// Its network namespace on the packet plane (the machine's network).
    netns: Option<String>,
    config: PathBuf,
    rest: Rest,
    slot: ProcessSlot,
}

impl PatroniAgent {
    pub(crate) fn new(place: &Place, dir: PathBuf, rest: Rest) -> PatroniAgent {
        PatroniAgent {
            name: place.name.clone(),
            address: place.address,
            netns: place.netns.clone(),
            config: dir.join("patroni.yml"),
            dir,
            rest,
            slot: ProcessSlot::default(),
        }
    }

    /// Its REST API.
    pub fn api(&self) -> SocketAddr {
        SocketAddr::from((self.address, PATRONI_REST_PORT))
    }

    /// Its PostgreSQL.
    pub fn postgres_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, DEFAULT_PORT))
    }

    pub(crate) fn config_path(&self) -> &std::path::Path {
        &self.config
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("patroni.log")
    }

    /// The postmaster of the node, if one runs. Patroni starts it through a launcher that
    /// exits, so it is not Patroni's child (it survives a crash of Patroni alone, as in
    /// production); its PID file says which process it is.
    pub fn postmaster(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join("data").join("postmaster.pid")).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        (processes::alive(pid) && processes::program_name(pid).as_deref() == Some("postgres"))
            .then_some(pid)
    }

    /// The node's PostgreSQL: the postmaster and its backends, with their program names.
    fn postgres_processes(&self) -> Vec<(u32, String)> {
        let Some(postmaster) = self.postmaster() else {
            return Vec::new();
        };
        let mut found = vec![(postmaster, "postgres".to_string())];
        found.extend(descendants_of(postmaster));
        found
    }

    /// Every process of the node: Patroni, its children, its PostgreSQL.
    fn node_processes(&self, patroni: u32) -> Vec<(u32, String)> {
        let mut found = descendants_of(patroni);
        found.extend(self.postgres_processes());
        found
    }

    /// The PIDs of the node's processes (Patroni and its PostgreSQL), for records and checks.
    pub fn pids(&self) -> Vec<u32> {
        let patroni = self.pid();
        if patroni == 0 {
            return self
                .postgres_processes()
                .into_iter()
                .map(|(pid, _)| pid)
                .collect();
        }
        let mut pids = vec![patroni];
        pids.extend(self.node_processes(patroni).into_iter().map(|(pid, _)| pid));
        pids
    }

    /// SIGKILL to the node's PostgreSQL only (postmaster and backends), leaving its Patroni
    /// running, which restarts it. `false` when no PostgreSQL runs there.
    pub async fn kill_postgres(&self) -> bool {
        let found = self.postgres_processes();
        kill_found_and_wait(&found, processes::GONE_TIMEOUT).await;
        !found.is_empty()
    }
}

impl ServerProcess for PatroniAgent {
    type Error = PatroniError;

    fn slot(&self) -> &ProcessSlot {
        &self.slot
    }

    fn not_running(&self) -> PatroniError {
        PatroniError::NotRunning {
            what: format!("database node {}", self.name),
        }
    }

    /// Patroni as user `postgres` (PostgreSQL refuses root), ready once its PostgreSQL runs.
    async fn launch(&self) -> Result<ManagedProcess, PatroniError> {
        let config = self.config.display().to_string();
        let (program, args) = as_postgres("patroni", &[config.as_str()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (program, args) = in_namespace(self.netns.as_deref(), &program, &args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut process =
            ManagedProcess::spawn(&self.name, &program, &args, &self.log_path(), &[])?;
        let started = Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                return Err(PatroniError::Exited {
                    what: format!("patroni of {}", self.name),
                    status: status.to_string(),
                    log: self.log_path().display().to_string(),
                    tail: process.log_tail(20),
                });
            }
            if self.rest.healthy(self.api()).await {
                return Ok(process);
            }
            if started.elapsed() > READY_TIMEOUT {
                let tail = process.log_tail(20);
                self.crash(process).await;
                return Err(PatroniError::NotReady {
                    what: format!("database node {}", self.name),
                    seconds: READY_TIMEOUT.as_secs(),
                    log: self.log_path().display().to_string(),
                    tail,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The machine dies: Patroni and its PostgreSQL at once.
    async fn crash(&self, process: ManagedProcess) {
        let found = self.node_processes(process.pid());
        process.kill().await;
        kill_found_and_wait(&found, processes::GONE_TIMEOUT).await;
    }

    /// A clean shutdown: SIGTERM makes Patroni stop its PostgreSQL and give up the leader key;
    /// SIGKILL to everything left after the grace period.
    async fn shut_down(&self, mut process: ManagedProcess) {
        let found = self.node_processes(process.pid());
        processes::signal_all(
            &found.iter().map(|(pid, _)| *pid).collect::<Vec<_>>(),
            Signal::SIGCONT,
        );
        let _ = process.signal(Signal::SIGCONT);
        let _ = process.signal(Signal::SIGTERM);
        let deadline = Instant::now() + STOP_GRACE;
        while process.exit_status().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if process.exit_status().is_none() {
            tracing::warn!(node = self.name, "patroni did not stop; killing the node");
        }
        self.crash(process).await;
        kill_found_and_wait(&found, processes::GONE_TIMEOUT).await;
    }

    /// The whole node freezes (Patroni first, so that it does not react to its own database
    /// stopping) and thaws in the other order.
    fn signal_pause(&self, process: &ManagedProcess, pause: bool) -> Result<(), ProcessError> {
        let below: Vec<u32> = self
            .node_processes(process.pid())
            .into_iter()
            .map(|(pid, _)| pid)
            .collect();
        if pause {
            process.signal(Signal::SIGSTOP)?;
            processes::signal_all(&below, Signal::SIGSTOP);
        } else {
            processes::signal_all(&below, Signal::SIGCONT);
            process.signal(Signal::SIGCONT)?;
        }
        Ok(())
    }
}
