//! The database under a lab cluster: one PostgreSQL (`databases pg`), or a replicated one with
//! automatic failover (`databases pg with nodes pg1, pg2`: Patroni, etcd, HAProxy). The
//! cluster's servers connect to the same address either way; faults and expectations name the
//! database or its nodes.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jspec_lang::ast::ProcessAction;

use super::LabError;
use super::patroni::{HaTiming, Member, PatroniError, Place, ReplicatedDatabase, ReplicatedSpec};
use super::postgres::{DEFAULT_PORT, Postgres, PostgresError, PostgresSpec, SqlClient};
use super::registry::ServerRecord;
use super::server::ServerProcess;

/// How long the first node may take to be the primary again after a case moved it.
const RESET_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a replica may take to follow again before the lab reinitialises it.
const REPLICA_PATIENCE: Duration = Duration::from_secs(20);

/// Where a cluster's database runs.
#[derive(Clone, Debug)]
pub(crate) struct DatabasePlace {
    /// The database's address: PostgreSQL's, or etcd's and the shared HAProxy's.
    pub(crate) address: Ipv4Addr,
    /// Its namespace on the packet plane.
    pub(crate) netns: Option<String>,
    /// A replicated database's nodes (none: one PostgreSQL).
    pub(crate) nodes: Vec<Place>,
    /// The servers that use it (on the packet plane each gets its own HAProxy).
    pub(crate) clients: Vec<Place>,
}

/// A cluster's database.
#[derive(Debug)]
pub enum ClusterDatabase {
    Single(Box<Postgres>),
    Replicated(Box<ReplicatedDatabase>),
}

impl ClusterDatabase {
    /// Starts the database `role` at `place`.
    pub(crate) async fn start(
        role: &str,
        place: DatabasePlace,
        dir: &Path,
    ) -> Result<ClusterDatabase, LabError> {
        let DatabasePlace {
            address,
            netns,
            nodes,
            clients,
        } = place;
        if nodes.is_empty() {
            let spec = PostgresSpec {
                role: role.to_string(),
                address,
                port: DEFAULT_PORT,
                netns,
            };
            return Postgres::start(spec, dir)
                .await
                .map(|p| ClusterDatabase::Single(Box::new(p)))
                .map_err(|e| single_error(role, e));
        }
        let store = Place {
            name: role.to_string(),
            address,
            netns,
        };
        // In namespaces each server has its HAProxy beside it, so that a partition between a
        // server and a database node cuts their traffic; on loopback one serves them all.
        let access = match store.netns {
            Some(_) => clients,
            None => vec![store.clone()],
        };
        let spec = ReplicatedSpec {
            role: role.to_string(),
            nodes,
            store,
            access,
            timing: HaTiming::default(),
        };
        ReplicatedDatabase::start(spec, dir)
            .await
            .map(|r| ClusterDatabase::Replicated(Box::new(r)))
            .map_err(|e| replicated_error(role, e))
    }

    /// Where the cluster's servers connect (HAProxy for a replicated one).
    pub fn addr(&self) -> SocketAddr {
        match self {
            ClusterDatabase::Single(postgres) => postgres.spec.addr(),
            ClusterDatabase::Replicated(replicated) => replicated.addr(),
        }
    }

    /// Where the server node `node` connects (its own HAProxy on the packet plane).
    pub fn addr_for(&self, node: &str) -> SocketAddr {
        match self {
            ClusterDatabase::Single(postgres) => postgres.spec.addr(),
            ClusterDatabase::Replicated(replicated) => replicated.addr_for(node),
        }
    }

    pub fn client(&self) -> SqlClient {
        match self {
            ClusterDatabase::Single(postgres) => postgres.client(),
            ClusterDatabase::Replicated(replicated) => replicated.client(),
        }
    }

    pub fn replicated(&self) -> Option<&ReplicatedDatabase> {
        match self {
            ClusterDatabase::Single(_) => None,
            ClusterDatabase::Replicated(replicated) => Some(replicated),
        }
    }

    /// Whether `name` is this database (`role`) or one of its nodes.
    pub(crate) fn answers_to(&self, role: &str, name: &str) -> bool {
        name == role
            || self
                .replicated()
                .is_some_and(|r| r.nodes().iter().any(|n| n.name == name))
    }

    /// A process fault on the database (`role`) or one of its nodes. The whole database of a
    /// replicated one is every node; `only_process`: the node's PostgreSQL, not its Patroni.
    pub(crate) async fn act(
        &self,
        role: &str,
        target: &str,
        action: ProcessAction,
        only_process: bool,
    ) -> Result<(), LabError> {
        match self {
            ClusterDatabase::Single(postgres) => postgres
                .act(action)
                .await
                .map_err(|e| single_error(role, e)),
            ClusterDatabase::Replicated(replicated) => {
                let nodes: Vec<_> = match target == role {
                    true => replicated.nodes().iter().collect(),
                    false => vec![
                        replicated
                            .node(target)
                            .map_err(|e| replicated_error(role, e))?,
                    ],
                };
                for node in nodes {
                    if only_process {
                        if action != ProcessAction::Kill {
                            return Err(LabError::Unsupported(format!(
                                "`{} database {target} process`: only `kill` acts on a node's \
                                 PostgreSQL alone (its Patroni restarts it); the other actions \
                                 act on the whole node",
                                action.as_str()
                            )));
                        }
                        node.kill_postgres().await;
                    } else {
                        node.act(action)
                            .await
                            .map_err(|e| replicated_error(role, e))?;
                    }
                }
                Ok(())
            }
        }
    }

    /// A planned switchover to `node`.
    pub(crate) async fn switch_to(
        &self,
        role: &str,
        node: &str,
        timeout: Duration,
    ) -> Result<(), LabError> {
        let replicated = self.replicated().ok_or_else(|| {
            LabError::Unsupported(format!(
                "database {role} is not replicated: it has no nodes"
            ))
        })?;
        replicated
            .switch_to(node, timeout)
            .await
            .map_err(|e| replicated_error(role, e))
    }

    /// Every node running again, and a replicated database back to its first node as the
    /// primary with every other node following, as a case found it. What it did, e.g.
    /// `started database pg1`.
    pub(crate) async fn restore(&self, role: &str) -> Result<Vec<String>, LabError> {
        let mut done = Vec::new();
        match self {
            ClusterDatabase::Single(postgres) => {
                if let Some(what) = postgres
                    .bring_back()
                    .await
                    .map_err(|e| single_error(role, e))?
                {
                    done.push(format!("{what} database {role}"));
                }
            }
            ClusterDatabase::Replicated(replicated) => {
                for helper in replicated.helpers() {
                    if let Some(what) = helper
                        .bring_back()
                        .await
                        .map_err(|e| replicated_error(role, e))?
                    {
                        done.push(format!("{what} {}", helper.name));
                    }
                }
                for node in replicated.nodes() {
                    if let Some(what) = node
                        .bring_back()
                        .await
                        .map_err(|e| replicated_error(role, e))?
                    {
                        done.push(format!("{what} database {}", node.name));
                    }
                }
                let Some((first, others)) = replicated.nodes().split_first() else {
                    return Ok(done);
                };
                // Every node but the primary must follow it (a diverged one is reinitialised)
                // before the primary can be handed back to the first node.
                let leader = replicated.primary().await;
                let followers: Vec<&str> = replicated
                    .nodes()
                    .iter()
                    .map(|n| n.name.as_str())
                    .filter(|n| Some(*n) != leader.as_deref())
                    .collect();
                let reinitialised = replicated
                    .heal_replicas(&followers, REPLICA_PATIENCE, RESET_TIMEOUT)
                    .await
                    .map_err(|e| replicated_error(role, e))?;
                done.extend(
                    reinitialised
                        .into_iter()
                        .map(|node| format!("reinitialised database {node} from the primary")),
                );
                if leader.as_deref() != Some(first.name.as_str()) {
                    replicated
                        .switch_to(&first.name, RESET_TIMEOUT)
                        .await
                        .map_err(|e| replicated_error(role, e))?;
                    done.push(format!("switched database {role} back to {}", first.name));
                    let names: Vec<&str> = others.iter().map(|n| n.name.as_str()).collect();
                    replicated
                        .wait_for_replicas(&names, RESET_TIMEOUT)
                        .await
                        .map_err(|e| replicated_error(role, e))?;
                }
            }
        }
        Ok(done)
    }

    /// The members of a replicated database as Patroni sees them (empty for a single one).
    pub async fn members(&self) -> Vec<Member> {
        match self.replicated() {
            Some(replicated) => replicated.members().await,
            None => Vec::new(),
        }
    }

    /// What `jspec lab down` needs to stop it after a crash.
    pub(crate) fn records(&self, role: &str) -> Vec<ServerRecord> {
        let record = |name: String, address: String, pid: u32, config: PathBuf| ServerRecord {
            role: name,
            domain: String::new(),
            address,
            pid,
            config,
        };
        match self {
            ClusterDatabase::Single(postgres) if postgres.pid() != 0 => vec![record(
                role.to_string(),
                postgres.spec.addr().to_string(),
                postgres.pid(),
                postgres.data_dir(),
            )],
            ClusterDatabase::Single(_) => Vec::new(),
            ClusterDatabase::Replicated(replicated) => replicated
                .processes()
                .into_iter()
                .map(|(name, pid, config)| record(name, replicated.addr().to_string(), pid, config))
                .collect(),
        }
    }

    pub(crate) async fn shut_down(&self, kill: bool) {
        match (self, kill) {
            (ClusterDatabase::Single(postgres), true) => postgres.kill_process().await,
            (ClusterDatabase::Single(postgres), false) => postgres.stop_process().await,
            (ClusterDatabase::Replicated(replicated), kill) => replicated.shut_down(kill).await,
        }
    }
}

fn single_error(role: &str, error: PostgresError) -> LabError {
    LabError::Database {
        role: role.to_string(),
        source: Box::new(error),
    }
}

fn replicated_error(role: &str, error: PatroniError) -> LabError {
    LabError::Replicated {
        role: role.to_string(),
        source: Box::new(error),
    }
}
