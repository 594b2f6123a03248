//! The process plane on the lab's servers: kill, stop, start, restart, pause and resume a
//! server, a cluster node or a database; move a server's clock; and bring everything back after
//! a case. The proxies in front of a server follow its state, and the lab's record its PIDs.

use std::net::SocketAddr;

use jspec_lang::ast::ProcessAction;

use super::process::ServerState;
use super::server::ServerProcess;
use super::{Lab, LabError, NodeView, clock, ejabberd, prosody, registry};
use crate::sync::lock;

impl Lab {
    /// Kills, stops, starts, restarts, pauses or resumes a managed server. The proxies in front
    /// of it follow, so clients are refused while it is down as they would be without them.
    pub async fn process(&self, role: &str, action: ProcessAction) -> Result<(), LabError> {
        if let Some(cluster) = self.cluster_of_node(role) {
            cluster.process(role, action).await?;
            self.follow_node(role).await;
            return Ok(());
        }
        let server = self
            .servers
            .get(role)
            .ok_or_else(|| LabError::UnknownServer(role.to_string()))?;
        server
            .act(action)
            .await
            .map_err(|source| LabError::Server {
                role: role.to_string(),
                source: Box::new(source),
            })?;
        let up = server.state() != ServerState::Down;
        if let Some(proxy) = &self.proxy {
            for port in prosody::PORTS {
                proxy
                    .set_upstream_up(SocketAddr::from((server.spec.address, port)), up)
                    .await;
            }
        }
        if let Err(error) = registry::record(&self.registry, &self.record()) {
            tracing::warn!(%error, "cannot record the lab's new PIDs");
        }
        Ok(())
    }

    /// Moves a managed server's wall clock (`None`: real time), waiting until it is in force.
    pub async fn set_clock(&self, role: &str, offset_millis: Option<f64>) -> Result<(), LabError> {
        self.move_clock(role, clock::ClockMove::offset(offset_millis))
            .await
    }

    /// Moves a managed server's wall clock (or every node's, for a cluster), waiting until the
    /// move is in force; every move but a restore is undone after the case.
    pub async fn move_clock(&self, role: &str, movement: clock::ClockMove) -> Result<(), LabError> {
        // A whole cluster: every node (a standalone ejabberd's node is named like its role).
        if let Some(cluster) = self.clusters.get(role)
            && cluster.node(role).is_none()
        {
            let nodes: Vec<String> = cluster
                .nodes()
                .iter()
                .map(|n| n.spec.node.clone())
                .collect();
            for node in nodes {
                Box::pin(self.move_clock(&node, movement)).await?;
            }
            return Ok(());
        }
        let set = match (self.servers.get(role), self.cluster_of_node(role)) {
            (Some(server), _) => {
                server
                    .move_clock(movement)
                    .map_err(|source| LabError::Server {
                        role: role.to_string(),
                        source: Box::new(source),
                    })?
            }
            // A node restarts with its new clock: in force once it runs.
            (None, Some(cluster)) => {
                let set = cluster.set_clock(role, movement).await?;
                self.follow_node(role).await;
                self.note_skew(role, movement);
                return if set {
                    Ok(())
                } else {
                    Err(LabError::NoFaketime)
                };
            }
            (None, None) => return Err(LabError::UnknownServer(role.to_string())),
        };
        if !set {
            return Err(LabError::NoFaketime);
        }
        self.note_skew(role, movement);
        // libfaketime re-reads the file on the first time call a whole second after its last
        // read, by its own second count: two periods make sure the server has it.
        tokio::time::sleep(2 * clock::REREAD + std::time::Duration::from_millis(100)).await;
        Ok(())
    }

    /// How each node of cluster `role` sees the cluster; `None` when the lab runs no cluster
    /// of that name.
    pub async fn cluster_views(&self, role: &str) -> Result<Option<Vec<NodeView>>, LabError> {
        match self.clusters.get(role) {
            Some(cluster) => cluster.views().await.map(Some),
            None => Ok(None),
        }
    }

    fn note_skew(&self, role: &str, movement: clock::ClockMove) {
        match movement {
            clock::ClockMove::Restore => lock(&self.skewed).remove(role),
            _ => lock(&self.skewed).insert(role.to_string()),
        };
    }

    /// Puts every skewed clock back to real time; returns what it did, e.g. `clock of a`.
    pub async fn restore_clocks(&self) -> Result<Vec<String>, LabError> {
        let skewed: Vec<String> = lock(&self.skewed).iter().cloned().collect();
        for role in &skewed {
            self.set_clock(role, None).await?;
        }
        Ok(skewed.iter().map(|r| format!("clock of {r}")).collect())
    }

    /// Tells the client proxies in front of a node whether it is up, and records its PID.
    async fn follow_node(&self, node: &str) {
        let Some(target) = self.cluster_of_node(node).and_then(|c| c.node(node)) else {
            return;
        };
        let up = target.state() != ServerState::Down;
        if let Some(proxy) = &self.proxy {
            for port in [ejabberd::C2S_PORT, ejabberd::C2S_DIRECT_TLS_PORT] {
                proxy
                    .set_upstream_up(SocketAddr::from((target.spec.address, port)), up)
                    .await;
            }
        }
        if let Err(error) = registry::record(&self.registry, &self.record()) {
            tracing::warn!(%error, "cannot record the lab's new PIDs");
        }
    }

    /// A process fault on a database role or one of its nodes (`kill database pg`, `kill
    /// database pg1`, `kill database pg1 process`).
    pub async fn database_process(
        &self,
        target: &str,
        action: ProcessAction,
        only_process: bool,
    ) -> Result<(), LabError> {
        let cluster = self
            .cluster_of_database(target)
            .ok_or_else(|| LabError::UnknownServer(format!("database {target}")))?;
        cluster
            .database_process(target, action, only_process)
            .await?;
        if let Err(error) = registry::record(&self.registry, &self.record()) {
            tracing::warn!(%error, "cannot record the lab's new PIDs");
        }
        Ok(())
    }

    /// The cluster whose database is `name` or has a node `name`.
    pub fn cluster_of_database(&self, name: &str) -> Option<&super::cluster::LabCluster> {
        self.clusters
            .values()
            .find(|c| c.database().answers_to(&c.request.database_role(), name))
    }

    /// A planned switchover of the replicated database `role` to its node `node`.
    pub async fn switch_database(
        &self,
        role: &str,
        node: &str,
        timeout: std::time::Duration,
    ) -> Result<(), LabError> {
        let cluster = self
            .cluster_of_database(role)
            .ok_or_else(|| LabError::UnknownServer(format!("database {role}")))?;
        cluster.database().switch_to(role, node, timeout).await?;
        if let Err(error) = registry::record(&self.registry, &self.record()) {
            tracing::warn!(%error, "cannot record the lab's new PIDs");
        }
        Ok(())
    }

    /// Brings every server back to running (started if down, resumed if paused) and every
    /// cluster whole; returns what it did, e.g. `started a`.
    pub async fn restore_servers(&self) -> Result<Vec<String>, LabError> {
        let mut done = Vec::new();
        for cluster in self.clusters.values() {
            let restored = cluster.restore().await?;
            if !restored.is_empty() {
                for node in cluster.nodes() {
                    self.follow_node(&node.spec.node).await;
                }
            }
            done.extend(restored);
        }
        for (role, server) in &self.servers {
            let (action, what) = match server.state() {
                ServerState::Running => continue,
                ServerState::Paused => (ProcessAction::Resume, "resumed"),
                ServerState::Down => (ProcessAction::Start, "started"),
            };
            // Through `process`, so that the proxies in front of it follow.
            self.process(role, action).await?;
            done.push(format!("{what} {role}"));
        }
        Ok(done)
    }
}
