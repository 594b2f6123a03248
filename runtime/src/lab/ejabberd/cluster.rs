//! An ejabberd cluster of the lab: its private epmd (one per network namespace it spans),
//! its nodes started together, joined to the first, and stopped before epmd.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{EjabberdError, EjabberdNode, EjabberdSpec, Epmd};

/// How long the nodes may take to see each other after the joins (about 1 s here).
const FORM_TIMEOUT: Duration = Duration::from_secs(30);

/// A running cluster: nodes in the order of their specs (the first is the one the others
/// joined).
#[derive(Debug)]
pub struct EjabberdCluster {
    pub role: String,
    pub dir: PathBuf,
    nodes: Vec<EjabberdNode>,
    epmds: Vec<Epmd>,
    ready_in: Duration,
}

impl EjabberdCluster {
    /// Starts the cluster's epmd, then every node at once (fresh nodes share nothing until
    /// they join), joins the others to the first one by one, and waits until every node sees
    /// all of them. All nodes serve the same domain with the same certificate. Each node
    /// lives in `dir/<node>`. On error, whatever was started is stopped.
    pub async fn start(
        specs: Vec<EjabberdSpec>,
        dir: &Path,
        cert_pem: &str,
        key_pem: &str,
    ) -> Result<EjabberdCluster, EjabberdError> {
        let started = Instant::now();
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let role = check_specs(&specs)?;
        let epmds = start_epmds(&role, &specs, &dir).await?;
        let starts = specs.into_iter().map(|spec| {
            let node_dir = dir.join(&spec.node);
            async move { EjabberdNode::start(spec, &node_dir, cert_pem, key_pem).await }
        });
        let mut nodes = Vec::new();
        let mut failure = None;
        for result in futures_util::future::join_all(starts).await {
            match result {
                Ok(node) => nodes.push(node),
                Err(error) => failure = failure.or(Some(error)),
            }
        }
        let mut cluster = EjabberdCluster {
            role,
            dir,
            nodes,
            epmds,
            ready_in: Duration::ZERO,
        };
        if let Some(error) = failure {
            cluster.kill().await;
            return Err(error);
        }
        if let Err(error) = cluster.form().await {
            cluster.kill().await;
            return Err(error);
        }
        cluster.ready_in = started.elapsed();
        tracing::debug!(
            role = cluster.role,
            elapsed_ms = cluster.ready_in.as_millis() as u64,
            "ejabberd cluster ready"
        );
        Ok(cluster)
    }

    /// Joins are one at a time: each rewrites the first node's Mnesia schema.
    async fn form(&self) -> Result<(), EjabberdError> {
        let Some((first, others)) = self.nodes.split_first() else {
            return Ok(());
        };
        for node in others {
            node.join_cluster(first).await?;
        }
        self.wait_formed(FORM_TIMEOUT).await.map(drop)
    }

    /// Waits until every node sees exactly all nodes of the cluster (asked at once); returns
    /// how long it took.
    pub async fn wait_formed(&self, timeout: Duration) -> Result<Duration, EjabberdError> {
        let started = Instant::now();
        let all = self.erlang_nodes();
        let views = self
            .nodes
            .iter()
            .map(|node| node.wait_for_view(&all, timeout));
        for view in futures_util::future::join_all(views).await {
            view?;
        }
        Ok(started.elapsed())
    }

    /// From nothing to every node seeing every other.
    pub fn ready_in(&self) -> Duration {
        self.ready_in
    }

    pub fn nodes(&self) -> &[EjabberdNode] {
        &self.nodes
    }

    /// The node with the short name `name` (`c1`).
    pub fn node(&self, name: &str) -> Option<&EjabberdNode> {
        self.nodes.iter().find(|node| node.spec.node == name)
    }

    /// Every node's Erlang name, sorted.
    pub fn erlang_nodes(&self) -> Vec<String> {
        let mut names: Vec<String> = self.nodes.iter().map(EjabberdNode::erlang_node).collect();
        names.sort();
        names
    }

    /// The cluster's private epmd port.
    pub fn epmd_port(&self) -> u16 {
        self.epmds.first().map_or(0, |epmd| epmd.port)
    }

    pub fn epmd_pids(&self) -> Vec<u32> {
        self.epmds.iter().map(Epmd::pid).collect()
    }

    /// Stops every node (at once), then epmd: no admin call may come after epmd is gone.
    pub async fn stop(mut self) {
        let nodes = std::mem::take(&mut self.nodes);
        futures_util::future::join_all(nodes.into_iter().map(EjabberdNode::stop)).await;
        self.stop_epmds().await;
    }

    /// Kills every node, then stops epmd.
    pub async fn kill(mut self) {
        let nodes = std::mem::take(&mut self.nodes);
        futures_util::future::join_all(nodes.into_iter().map(EjabberdNode::kill)).await;
        self.stop_epmds().await;
    }

    async fn stop_epmds(&mut self) {
        for epmd in std::mem::take(&mut self.epmds) {
            epmd.stop().await;
        }
    }
}

/// A cluster's nodes share role, domain, epmd port and cookie, and differ in short name and
/// address. Returns the role.
fn check_specs(specs: &[EjabberdSpec]) -> Result<String, EjabberdError> {
    let Some(first) = specs.first() else {
        return Err(EjabberdError::Cluster {
            role: "?".into(),
            reason: "a cluster needs at least one node".into(),
        });
    };
    let invalid = |reason: String| EjabberdError::Cluster {
        role: first.role.clone(),
        reason,
    };
    for spec in specs {
        if spec.role != first.role
            || spec.domain != first.domain
            || spec.epmd_port != first.epmd_port
            || spec.cookie != first.cookie
        {
            return Err(invalid(format!(
                "node {} differs from {} in role, domain, epmd port or cookie",
                spec.node, first.node
            )));
        }
    }
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i]
            .iter()
            .any(|other| other.node == spec.node || other.address == spec.address)
        {
            return Err(invalid(format!(
                "two nodes share the short name {} or the address {} (epmd keys on short names)",
                spec.node, spec.address
            )));
        }
    }
    Ok(first.role.clone())
}

/// One epmd per network namespace the cluster spans, on the addresses of its nodes there.
async fn start_epmds(
    role: &str,
    specs: &[EjabberdSpec],
    dir: &Path,
) -> Result<Vec<Epmd>, EjabberdError> {
    let mut by_netns: BTreeMap<Option<String>, Vec<Ipv4Addr>> = BTreeMap::new();
    for spec in specs {
        by_netns
            .entry(spec.netns.clone())
            .or_default()
            .push(spec.address);
    }
    let port = specs.first().map_or(0, |spec| spec.epmd_port);
    let mut epmds: Vec<Epmd> = Vec::new();
    for (netns, addresses) in by_netns {
        let name = match &netns {
            Some(netns) => format!("epmd-{role}-{netns}"),
            None => format!("epmd-{role}"),
        };
        match Epmd::start(&name, &addresses, port, netns.as_deref(), dir).await {
            Ok(epmd) => epmds.push(epmd),
            Err(error) => {
                for epmd in epmds {
                    epmd.stop().await;
                }
                return Err(error);
            }
        }
    }
    Ok(epmds)
}
