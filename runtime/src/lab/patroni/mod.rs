//! A replicated lab database, built the way production PostgreSQL deployments are: PostgreSQL
//! 15 nodes with streaming replication, a Patroni agent on each that elects the primary through
//! one etcd member and fails over automatically, and HAProxy in front routing the database
//! address to the current primary by Patroni's REST health check. All from Debian packages,
//! started and stopped by PID like every other lab server.
//!
//! Layout: etcd on `<address>:2379`; node `pgN` on its own address with PostgreSQL on 5432 and
//! Patroni's REST API on 8008; HAProxy on 5432 of each access point (where clients, e.g.
//! ejabberd, connect): on loopback one at the database's address, on the packet plane one in
//! each server's namespace, as application hosts run it, so that a partition between a server
//! and a database node cuts exactly their traffic. The first node is bootstrapped and becomes
//! the primary; the others clone it.

mod agent;
mod config;
mod helper;
mod observe;
pub mod rest;

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use agent::PatroniAgent;
pub use helper::Helper;
pub use rest::Member;

use super::postgres::{DEFAULT_PORT, PostgresError, SqlClient, postgres_ids};
use super::process::ProcessError;
use super::server::ServerProcess;
use rest::Rest;

/// Patroni's REST API port on every node.
pub const PATRONI_REST_PORT: u16 = 8008;
/// etcd's client port (its peer port is the next one).
pub const ETCD_PORT: u16 = 2379;

/// How long the first primary and the replicas may take to be ready.
const FORM_TIMEOUT: Duration = Duration::from_secs(90);
/// Pause before asking again for a switchover Patroni refused.
const SWITCHOVER_RETRY: Duration = Duration::from_secs(1);

/// Patroni's timing. The failover time is about `ttl` (measured: 9.7–10 s with 10 s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HaTiming {
    pub ttl_seconds: u32,
    pub loop_wait_seconds: u32,
    pub retry_timeout_seconds: u32,
}

impl Default for HaTiming {
    /// Patroni requires `loop_wait + 2 * retry_timeout <= ttl`.
    fn default() -> Self {
        HaTiming {
            ttl_seconds: 10,
            loop_wait_seconds: 2,
            retry_timeout_seconds: 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PatroniError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// Writing the lab's files, or the system user the nodes run as.
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    #[error("{what} exited during start-up ({status}); last lines of {log}:\n{tail}")]
    Exited {
        what: String,
        status: String,
        log: String,
        tail: String,
    },
    #[error("{what} was not ready within {seconds}s; last lines of {log}:\n{tail}")]
    NotReady {
        what: String,
        seconds: u64,
        log: String,
        tail: String,
    },
    #[error("{what} is not running (killed or stopped; `start` it first)")]
    NotRunning { what: String },
    #[error("Patroni on {node}: {reason}")]
    Rest { node: String, reason: String },
    #[error("database {role}: {what} within {seconds}s; the cluster:\n{table}")]
    NotFormed {
        role: String,
        what: String,
        seconds: u64,
        table: String,
    },
    #[error("the switchover to {candidate} was refused: {reason}")]
    Switchover { candidate: String, reason: String },
    #[error("database {role} has no node {node}")]
    UnknownNode { role: String, node: String },
}

/// What to start.
#[derive(Clone, Debug)]
pub struct ReplicatedSpec {
    /// The database role (`pg`).
    pub role: String,
    /// The nodes in order (the first is the initial primary).
    pub nodes: Vec<Place>,
    /// etcd's place (named after the database role).
    pub store: Place,
    /// Where clients reach the database: one HAProxy each, listening on 5432 of its address.
    pub access: Vec<Place>,
    pub timing: HaTiming,
}

impl ReplicatedSpec {
    /// A database on loopback addresses: nodes, and etcd and one HAProxy at `address`.
    pub fn on_loopback(
        role: &str,
        nodes: &[(&str, Ipv4Addr)],
        address: Ipv4Addr,
        timing: HaTiming,
    ) -> ReplicatedSpec {
        let place = |name: &str, address| Place {
            name: name.to_string(),
            address,
            netns: None,
        };
        ReplicatedSpec {
            role: role.to_string(),
            nodes: nodes.iter().map(|(n, a)| place(n, *a)).collect(),
            store: place(role, address),
            access: vec![place(role, address)],
            timing,
        }
    }
}

/// Where one part of the database runs: a name, an address, and on the packet plane the
/// network namespace that holds that address.
#[derive(Clone, Debug)]
pub struct Place {
    pub name: String,
    pub address: Ipv4Addr,
    pub netns: Option<String>,
}

/// A running replicated database.
#[derive(Debug)]
pub struct ReplicatedDatabase {
    pub spec: ReplicatedSpec,
    pub dir: PathBuf,
    pub etcd: Helper,
    /// One per access point, in the order of the spec.
    pub haproxies: Vec<Helper>,
    nodes: Vec<PatroniAgent>,
    rest: Rest,
}

impl ReplicatedDatabase {
    /// Starts etcd, HAProxy, the first node (until it is a writable primary behind HAProxy),
    /// then the others (until each streams from it). On failure nothing is left running.
    pub async fn start(
        spec: ReplicatedSpec,
        dir: &Path,
    ) -> Result<ReplicatedDatabase, PatroniError> {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let role = spec.role.clone();
        let write = |path: &Path, source| PostgresError::Write {
            role: role.clone(),
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(|e| write(&dir, e))?;
        let rest = Rest::new()?;
        let etcd_addr = SocketAddr::from((spec.store.address, ETCD_PORT));
        // A scope of its own: two labs never share a leader key, even on one etcd.
        let scope = format!("jspec-{}-{}", std::process::id(), spec.role);
        let password = format!("lab-{:x}", rand_u64());
        let (uid, gid) = postgres_ids(&spec.role)?;
        let mut nodes = Vec::new();
        for place in &spec.nodes {
            let node_dir = dir.join(&place.name);
            std::fs::create_dir_all(&node_dir).map_err(|e| write(&node_dir, e))?;
            let node = PatroniAgent::new(place, node_dir.clone(), rest.clone());
            let text = config::patroni(&config::NodeConfig {
                scope: &scope,
                name: &place.name,
                address: place.address,
                etcd: etcd_addr,
                dir: &node_dir,
                password: &password,
                timing: spec.timing,
            });
            std::fs::write(node.config_path(), text).map_err(|e| write(node.config_path(), e))?;
            // PostgreSQL runs as `postgres` and wants its folders private.
            for path in [node_dir.as_path(), node.config_path()] {
                nix::unistd::chown(
                    path,
                    Some(nix::unistd::Uid::from_raw(uid)),
                    Some(nix::unistd::Gid::from_raw(gid)),
                )
                .map_err(|errno| write(path, std::io::Error::from(errno)))?;
            }
            std::fs::set_permissions(&node_dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| write(&node_dir, e))?;
            nodes.push(node);
        }
        let mut haproxies = Vec::new();
        for access in &spec.access {
            let file = match spec.access.len() {
                1 => "haproxy.cfg".to_string(),
                _ => format!("haproxy-{}.cfg", access.name),
            };
            let path = dir.join(file);
            let listen = SocketAddr::from((access.address, DEFAULT_PORT));
            std::fs::write(&path, config::haproxy(listen, &spec.nodes))
                .map_err(|e| write(&path, e))?;
            haproxies.push(Helper::haproxy(&spec.role, access, path, dir.clone()));
        }
        let database = ReplicatedDatabase {
            etcd: Helper::etcd(&spec.role, &spec.store, dir.clone()),
            haproxies,
            spec,
            dir,
            nodes,
            rest,
        };
        match database.form().await {
            Ok(()) => Ok(database),
            Err(error) => {
                database.shut_down(true).await;
                Err(error)
            }
        }
    }

    async fn form(&self) -> Result<(), PatroniError> {
        for helper in self.helpers() {
            helper.start_process().await?;
        }
        let Some((first, others)) = self.nodes.split_first() else {
            return Ok(());
        };
        // One at a time: started together, either node may win the bootstrap race.
        first.start_process().await?;
        self.wait_for_primary(&first.name, FORM_TIMEOUT).await?;
        for node in others {
            node.start_process().await?;
        }
        let replicas: Vec<&str> = others.iter().map(|n| n.name.as_str()).collect();
        self.wait_for_replicas(&replicas, FORM_TIMEOUT).await
    }

    /// etcd, then every HAProxy: what the nodes need around them.
    pub fn helpers(&self) -> impl Iterator<Item = &Helper> {
        std::iter::once(&self.etcd).chain(&self.haproxies)
    }

    /// Where the client `name` (a server node) connects: its own HAProxy, or the first one.
    pub fn addr_for(&self, name: &str) -> SocketAddr {
        let access = &self.spec.access;
        let place = access.iter().find(|p| p.name == name).or(access.first());
        let address = place.map_or(self.spec.store.address, |p| p.address);
        SocketAddr::from((address, DEFAULT_PORT))
    }

    /// Where clients connect: the first HAProxy, which routes to the primary.
    pub fn addr(&self) -> SocketAddr {
        self.addr_for(&self.spec.role)
    }

    /// A SQL client through the HAProxy on `address` (to the primary).
    fn client_at(&self, address: Ipv4Addr) -> SqlClient {
        SqlClient {
            role: self.spec.role.clone(),
            address,
            port: DEFAULT_PORT,
            netns: None,
        }
    }

    /// A SQL client through the first HAProxy (to the primary).
    pub fn client(&self) -> SqlClient {
        let first = self.spec.access.first();
        self.client_at(first.map_or(self.spec.store.address, |p| p.address))
    }

    pub fn nodes(&self) -> &[PatroniAgent] {
        &self.nodes
    }

    pub fn node(&self, name: &str) -> Result<&PatroniAgent, PatroniError> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| PatroniError::UnknownNode {
                role: self.spec.role.clone(),
                node: name.to_string(),
            })
    }

    /// Every process of the database, for `jspec lab down`: what it is, its PID, and a path on
    /// its command line (so that a PID reused by another program is never signalled).
    pub fn processes(&self) -> Vec<(String, u32, PathBuf)> {
        let mut found: Vec<(String, u32, PathBuf)> = Vec::new();
        for node in &self.nodes {
            found.push((
                node.name.clone(),
                node.pid(),
                node.config_path().to_path_buf(),
            ));
            if let Some(postmaster) = node.postmaster() {
                found.push((
                    format!("{}-postgres", node.name),
                    postmaster,
                    node.dir.join("data"),
                ));
            }
        }
        for helper in self.helpers() {
            found.push((helper.name.clone(), helper.pid(), helper.marker.clone()));
        }
        found.retain(|(_, pid, _)| *pid != 0);
        found
    }

    /// Stops the nodes (replicas first, so that the primary does not fail over to a node that
    /// is going away), then HAProxy and etcd. `kill`: SIGKILL everything at once.
    pub async fn shut_down(&self, kill: bool) {
        for node in self.nodes.iter().rev() {
            match kill {
                true => node.kill_process().await,
                false => node.stop_process().await,
            }
        }
        for helper in self.helpers().collect::<Vec<_>>().into_iter().rev() {
            match kill {
                true => helper.kill_process().await,
                false => helper.stop_process().await,
            }
        }
    }
}

/// A random number for passwords (the lab's own, from the OS).
fn rand_u64() -> u64 {
    let mut bytes = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    u64::from_le_bytes(bytes)
}
