//! The two helpers of a replicated database, managed like its servers: etcd (Patroni's store
//! of the leader key) and HAProxy (the database address clients use). Each is one process in
//! the foreground, ready once its port accepts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{PatroniError, Place};
use crate::lab::process::{ManagedProcess, ProcessSlot};
use crate::lab::prosody::in_namespace;
use crate::lab::server::ServerProcess;

/// etcd and HAProxy listen within a second here.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// etcd or HAProxy of one replicated database.
#[derive(Debug)]
pub struct Helper {
    /// `etcd of pg`, `haproxy of pg`.
    pub name: String,
    program: String,
    args: Vec<String>,
    log: PathBuf,
    /// Where it accepts once ready.
    pub listen: SocketAddr,
    /// A path on its command line, by which `jspec lab down` knows the process is this one.
    pub marker: PathBuf,
    /// Its network namespace on the packet plane.
    netns: Option<String>,
    slot: ProcessSlot,
}

impl Helper {
    /// etcd, one member, on its client port at `place` (peers on the port after it), data in
    /// `dir`.
    pub(crate) fn etcd(database: &str, place: &Place, dir: PathBuf) -> Helper {
        let client = SocketAddr::from((place.address, super::ETCD_PORT));
        let peer = SocketAddr::from((place.address, super::ETCD_PORT + 1));
        let data = dir.join("etcd");
        let args = [
            "--name",
            "e1",
            "--data-dir",
            &data.display().to_string(),
            "--listen-client-urls",
            &format!("http://{client}"),
            "--advertise-client-urls",
            &format!("http://{client}"),
            "--listen-peer-urls",
            &format!("http://{peer}"),
            "--initial-advertise-peer-urls",
            &format!("http://{peer}"),
            "--initial-cluster",
            &format!("e1=http://{peer}"),
            "--initial-cluster-state",
            "new",
            "--log-level",
            "warn",
        ]
        .map(String::from)
        .to_vec();
        Helper {
            name: format!("etcd of {database}"),
            program: "etcd".into(),
            args,
            log: dir.join("etcd.log"),
            listen: client,
            marker: data,
            netns: place.netns.clone(),
            slot: ProcessSlot::default(),
        }
    }

    /// HAProxy in the foreground (`-db`) with the configuration at `config`, listening on 5432
    /// of `access`; named after the server it serves when it is not the database's own.
    pub(crate) fn haproxy(database: &str, access: &Place, config: PathBuf, dir: PathBuf) -> Helper {
        let (name, log) = match access.name == database {
            true => (format!("haproxy of {database}"), dir.join("haproxy.log")),
            false => (
                format!("haproxy of {database} on {}", access.name),
                dir.join(format!("haproxy-{}.log", access.name)),
            ),
        };
        Helper {
            name,
            program: "haproxy".into(),
            args: vec!["-db".into(), "-f".into(), config.display().to_string()],
            log,
            listen: SocketAddr::from((access.address, crate::lab::postgres::DEFAULT_PORT)),
            marker: config,
            netns: access.netns.clone(),
            slot: ProcessSlot::default(),
        }
    }

    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }
}

impl ServerProcess for Helper {
    type Error = PatroniError;

    fn slot(&self) -> &ProcessSlot {
        &self.slot
    }

    fn not_running(&self) -> PatroniError {
        PatroniError::NotRunning {
            what: self.name.clone(),
        }
    }

    async fn launch(&self) -> Result<ManagedProcess, PatroniError> {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let (program, args) = in_namespace(self.netns.as_deref(), &self.program, &args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut process = ManagedProcess::spawn(&self.name, &program, &args, &self.log, &[])?;
        let started = Instant::now();
        loop {
            if let Some(status) = process.exit_status() {
                return Err(PatroniError::Exited {
                    what: self.name.clone(),
                    status: status.to_string(),
                    log: self.log.display().to_string(),
                    tail: process.log_tail(15),
                });
            }
            let probe = tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(self.listen),
            )
            .await;
            if matches!(probe, Ok(Ok(_))) {
                return Ok(process);
            }
            if started.elapsed() > READY_TIMEOUT {
                let tail = process.log_tail(15);
                process.kill().await;
                return Err(PatroniError::NotReady {
                    what: self.name.clone(),
                    seconds: READY_TIMEOUT.as_secs(),
                    log: self.log.display().to_string(),
                    tail,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
