//! A clustered server role of the local lab (`servers c with nodes c1, c2`): an ejabberd
//! cluster on its own PostgreSQL, each node on its own loopback address, every node's clock
//! under libfaketime. The lab starts it, registers accounts on it, runs process faults and
//! clock skews on its nodes, reads each node's view of the membership, and puts it back whole
//! after a case.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jspec_lang::ast::ProcessAction;

use super::clock::Clock;
use super::cluster_db::{ClusterDatabase, DatabasePlace};
use super::ejabberd::{DbConn, EjabberdCluster, EjabberdError, EjabberdNode, EjabberdSpec};
use super::patroni::Place;
use super::postgres::PostgresError;
use super::process::ServerState;
use super::registry::ServerRecord;
use super::server::ServerProcess;
use super::{LabError, NodeView};

/// A netsplit shows after about this (Erlang's default of 60 s would hide a 30 s cut).
const NET_TICKTIME: u32 = 10;
/// How long a restored cluster may take to be whole again before its strays are restarted.
const REMERGE_WAIT: Duration = Duration::from_secs(10);
const DB_NAME: &str = "ejabberd";
const DB_USER: &str = "ejabberd";

/// What the lab needs to start a cluster role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterRequest {
    /// The role (`c`): domain `c.test`.
    pub role: String,
    /// Node names in order (`c1`, `c2`); the first is the one the others join.
    pub nodes: Vec<String>,
    /// The database role holding the cluster's data (`pg`); `None`: `<role>-db`.
    pub database: Option<String>,
    /// The database's nodes (`databases pg with nodes pg1, pg2`): replicated; none: one server.
    pub database_nodes: Vec<String>,
    /// Bare JIDs of the cluster's administrators (`user boss on c as admin`).
    pub admins: Vec<String>,
}

impl ClusterRequest {
    pub fn domain(&self) -> String {
        format!("{}.test", self.role)
    }

    pub fn muc_domain(&self) -> String {
        format!("conference.{}", self.domain())
    }

    pub fn database_role(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| format!("{}-db", self.role))
    }
}

/// Where a cluster's parts listen, chosen by the lab.
#[derive(Clone, Debug)]
pub(crate) struct ClusterPlace {
    /// One address per node, in the order of the request.
    pub(crate) nodes: Vec<Ipv4Addr>,
    /// The packet plane's namespace of each node (`None` on loopback).
    pub(crate) node_netns: Vec<Option<String>>,
    pub(crate) database: Ipv4Addr,
    pub(crate) database_netns: Option<String>,
    /// The addresses of the database's nodes, when it is replicated.
    pub(crate) database_nodes: Vec<Ipv4Addr>,
    /// The packet plane's namespace of each database node.
    pub(crate) database_node_netns: Vec<Option<String>>,
    pub(crate) epmd_port: u16,
    /// The lab's domains and addresses, for the nodes' resolver (s2s).
    pub(crate) hosts: Vec<(Ipv4Addr, Vec<String>)>,
    /// The lab DNS, which the nodes ask for other servers (SRV and A).
    pub(crate) dns: Option<std::net::SocketAddr>,
    pub(crate) ca_file: PathBuf,
}

/// A running cluster role.
#[derive(Debug)]
pub struct LabCluster {
    pub request: ClusterRequest,
    pub dir: PathBuf,
    cluster: EjabberdCluster,
    database: ClusterDatabase,
    /// Per node, its clock (when libfaketime is installed).
    clocks: Vec<(String, Clock)>,
}

impl LabCluster {
    /// Starts the database, creates the cluster's database in it, then the nodes, joined.
    pub(crate) async fn start(
        request: &ClusterRequest,
        place: ClusterPlace,
        dir: &Path,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<LabCluster, LabError> {
        let database_role = request.database_role();
        let places = |names: &[String], addresses: &[Ipv4Addr], netns: &[Option<String>]| {
            names
                .iter()
                .zip(addresses)
                .zip(netns)
                .map(|((name, &address), netns)| Place {
                    name: name.clone(),
                    address,
                    netns: netns.clone(),
                })
                .collect::<Vec<_>>()
        };
        let database_place = DatabasePlace {
            address: place.database,
            netns: place.database_netns.clone(),
            nodes: places(
                &request.database_nodes,
                &place.database_nodes,
                &place.database_node_netns,
            ),
            clients: places(&request.nodes, &place.nodes, &place.node_netns),
        };
        let database =
            ClusterDatabase::start(&database_role, database_place, &dir.join(&database_role))
                .await?;
        let password = format!("lab-{}", random_hex());
        let schema = Path::new(super::ejabberd::SQL_SCHEMA_FILE);
        if let Err(error) = database
            .client()
            .create_database(DB_NAME, DB_USER, &password, Some(schema))
            .await
        {
            database.shut_down(true).await;
            return Err(database_error(&database_role, error));
        }
        let cookie = format!("jspec-{}", random_hex());
        let mut clocks = Vec::new();
        let mut specs = Vec::new();
        for ((node, &address), netns) in request
            .nodes
            .iter()
            .zip(&place.nodes)
            .zip(&place.node_netns)
        {
            let node_dir = dir.join(&request.role).join(node);
            std::fs::create_dir_all(&node_dir).map_err(|source| LabError::Folder {
                path: node_dir.clone(),
                source,
            })?;
            let clock = Clock::create(&node_dir).map_err(|source| LabError::Folder {
                path: node_dir.clone(),
                source,
            })?;
            let faketime = clock.as_ref().map(Clock::file).map(Path::to_path_buf);
            if let Some(clock) = clock {
                clocks.push((node.clone(), clock));
            }
            specs.push(EjabberdSpec {
                role: request.role.clone(),
                node: node.clone(),
                domain: request.domain(),
                muc_domain: request.muc_domain(),
                address,
                epmd_port: place.epmd_port,
                cookie: cookie.clone(),
                database: DbConn {
                    host: database.addr_for(node).ip().to_string(),
                    port: database.addr_for(node).port(),
                    name: DB_NAME.into(),
                    user: DB_USER.into(),
                    password: password.clone(),
                },
                ca_file: place.ca_file.clone(),
                net_ticktime: NET_TICKTIME,
                hosts: place.hosts.clone(),
                nameserver: place.dns,
                netns: netns.clone(),
                faketime,
                admins: request.admins.clone(),
            });
        }
        let cluster_dir = dir.join(&request.role);
        match EjabberdCluster::start(specs, &cluster_dir, cert_pem, key_pem).await {
            Ok(cluster) => Ok(LabCluster {
                request: request.clone(),
                dir: cluster_dir,
                cluster,
                database,
                clocks,
            }),
            Err(error) => {
                database.shut_down(true).await;
                Err(cluster_error(&request.role, error))
            }
        }
    }

    pub fn nodes(&self) -> &[EjabberdNode] {
        self.cluster.nodes()
    }

    pub fn node(&self, name: &str) -> Option<&EjabberdNode> {
        self.cluster.node(name)
    }

    pub fn database(&self) -> &ClusterDatabase {
        &self.database
    }

    /// Creates an account through the first running node (the cluster shares its accounts).
    pub(crate) async fn register(&self, user: &str, password: &str) -> Result<(), LabError> {
        let node = self
            .nodes()
            .iter()
            .find(|n| n.state() == ServerState::Running)
            .ok_or_else(|| {
                LabError::UnknownServer(format!("{} (no node runs)", self.request.role))
            })?;
        node.register(user, password)
            .await
            .map_err(|e| cluster_error(&self.request.role, e))
    }

    /// How each node sees the cluster: the short names of the nodes it is connected to
    /// (itself included), or `None` when it does not run.
    pub(crate) async fn views(&self) -> Result<Vec<NodeView>, LabError> {
        let mut views = Vec::new();
        for node in self.nodes() {
            let sees = match node.state() {
                ServerState::Down | ServerState::Paused => None,
                ServerState::Running => Some(
                    node.cluster_view()
                        .await
                        .map_err(|e| cluster_error(&self.request.role, e))?
                        .iter()
                        .map(|erlang| short_name(erlang))
                        .collect::<BTreeSet<String>>(),
                ),
            };
            views.push(NodeView {
                node: node.spec.node.clone(),
                sees,
            });
        }
        Ok(views)
    }

    /// A process fault on one node.
    pub(crate) async fn process(&self, node: &str, action: ProcessAction) -> Result<(), LabError> {
        let target = self
            .node(node)
            .ok_or_else(|| LabError::UnknownServer(node.to_string()))?;
        target
            .act(action)
            .await
            .map_err(|e| cluster_error(&self.request.role, e))
    }

    /// A process fault on the cluster's database or one of its nodes (`target`).
    pub(crate) async fn database_process(
        &self,
        target: &str,
        action: ProcessAction,
        only_process: bool,
    ) -> Result<(), LabError> {
        self.database
            .act(&self.request.database_role(), target, action, only_process)
            .await
    }

    /// Moves a node's clock. ejabberd reads its clock offset at boot (its runtime keeps its own
    /// time), so the node is restarted with the new offset; it rejoins the cluster by itself.
    pub(crate) async fn set_clock(
        &self,
        node: &str,
        movement: super::clock::ClockMove,
    ) -> Result<bool, LabError> {
        let Some((_, clock)) = self.clocks.iter().find(|(name, _)| name == node) else {
            return Ok(false);
        };
        clock.apply(movement).map_err(|source| LabError::Folder {
            path: clock.file().to_path_buf(),
            source,
        })?;
        self.process(node, ProcessAction::Restart).await?;
        Ok(true)
    }

    /// Brings the database and every node back to running, and the cluster whole: a node that
    /// does not rejoin by itself (after a netsplit nodes stay apart) is restarted. Returns what
    /// it did, e.g. `started c1`.
    pub(crate) async fn restore(&self) -> Result<Vec<String>, LabError> {
        let mut done = self.database.restore(&self.request.database_role()).await?;
        for node in self.nodes() {
            if let Some(what) = node
                .bring_back()
                .await
                .map_err(|e| cluster_error(&self.request.role, e))?
            {
                done.push(format!("{what} {}", node.spec.node));
            }
        }
        if self.cluster.wait_formed(REMERGE_WAIT).await.is_err() {
            // Nodes that came apart stay apart: restart those the first node does not see.
            let first = self.nodes().first().map(|n| n.erlang_node());
            let seen = match self.nodes().first() {
                Some(node) => node.cluster_view().await.unwrap_or_default(),
                None => Vec::new(),
            };
            for node in self.nodes() {
                if Some(node.erlang_node()) != first && !seen.contains(&node.erlang_node()) {
                    self.process(&node.spec.node, ProcessAction::Restart)
                        .await?;
                    done.push(format!("restarted {} to rejoin", node.spec.node));
                }
            }
            self.cluster
                .wait_formed(REMERGE_WAIT)
                .await
                .map_err(|e| cluster_error(&self.request.role, e))?;
        }
        Ok(done)
    }

    /// What `jspec lab down` needs to stop it after a crash: nodes, epmd, the database.
    pub(crate) fn records(&self) -> Vec<ServerRecord> {
        let mut records: Vec<ServerRecord> = self
            .nodes()
            .iter()
            .filter(|node| node.pid() != 0)
            .map(|node| ServerRecord {
                role: node.spec.node.clone(),
                domain: node.spec.domain.clone(),
                address: node.spec.address.to_string(),
                pid: node.pid(),
                // The beam's command line names no file of ours, but `-name c1@127.x.y.z`,
                // unique to this lab.
                config: PathBuf::from(node.erlang_node()),
            })
            .collect();
        records.extend(
            self.cluster
                .epmd_pids()
                .into_iter()
                .map(|pid| ServerRecord {
                    role: format!("epmd-{}", self.request.role),
                    domain: self.request.domain(),
                    address: String::new(),
                    pid,
                    config: PathBuf::from(self.cluster.epmd_port().to_string()),
                }),
        );
        records.extend(self.database.records(&self.request.database_role()));
        records
    }

    /// Stops the nodes (killed when `kill`), then epmd, then the database.
    pub(crate) async fn shut_down(self, kill: bool) {
        match kill {
            true => self.cluster.kill().await,
            false => self.cluster.stop().await,
        }
        self.database.shut_down(kill).await;
    }
}

/// 16 random hex digits (a database password, an Erlang cookie: private to one lab).
fn random_hex() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    // The system's randomness is always there on Linux; a fixed fallback stays private to
    // the lab's own loopback addresses.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        bytes = std::process::id()
            .to_le_bytes()
            .repeat(2)
            .try_into()
            .unwrap_or([7; 8]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `c1` of `c1@127.1.2.3`.
fn short_name(erlang: &str) -> String {
    erlang.split('@').next().unwrap_or(erlang).to_string()
}

fn cluster_error(role: &str, error: EjabberdError) -> LabError {
    LabError::Cluster {
        role: role.to_string(),
        source: Box::new(error),
    }
}

fn database_error(role: &str, error: PostgresError) -> LabError {
    LabError::Database {
        role: role.to_string(),
        source: Box::new(error),
    }
}
