//! The run's fault control: network faults on the chosen plane, process faults on managed
//! servers (signals) and external ones (the environment's commands), and what is in force now,
//! so that everything can be healed before and after each case.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jspec_lang::ast::ProcessAction;

use super::model::{CutMode, Endpoint, Flow, Impairment, Link, Plane};
use super::proxy::ProxyPlane;
use crate::env::Commands;
use crate::lab::Lab;
use crate::sync::lock;

/// How long an external fault command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Failed(String),
}

/// Faults of one run.
#[derive(Debug)]
pub struct FaultControl {
    plane: Plane,
    lab: Option<Arc<Lab>>,
    proxy: Option<Arc<ProxyPlane>>,
    /// Process-fault commands of external servers, by role.
    commands: BTreeMap<String, Commands>,
    /// Process-fault commands of external databases, by database role and by node.
    database_commands: BTreeMap<String, Commands>,
    cuts: Mutex<BTreeMap<Link, CutMode>>,
    impaired: Mutex<BTreeMap<Flow, Impairment>>,
}

impl FaultControl {
    pub fn new(
        plane: Plane,
        lab: Option<Arc<Lab>>,
        proxy: Option<Arc<ProxyPlane>>,
        commands: BTreeMap<String, Commands>,
    ) -> FaultControl {
        FaultControl {
            plane,
            lab,
            proxy,
            commands,
            database_commands: BTreeMap::new(),
            cuts: Mutex::default(),
            impaired: Mutex::default(),
        }
    }

    /// The commands that kill, stop, ... external databases (`kill database sql1`), by
    /// database role and node name.
    pub fn with_database_commands(mut self, commands: BTreeMap<String, Commands>) -> Self {
        self.database_commands = commands;
        self
    }

    pub fn plane(&self) -> Plane {
        self.plane
    }

    /// A process fault on an external database or database node: the environment's command.
    pub async fn external_database_process(
        &self,
        target: &str,
        action: ProcessAction,
    ) -> Result<(), FaultError> {
        let Some(commands) = self.database_commands.get(target) else {
            return Err(FaultError::Unsupported(format!(
                "database {target} is neither run by the lab nor described with commands in \
                 the environment (docs/environment.md)"
            )));
        };
        let Some(command) = commands.get(action) else {
            return Err(FaultError::Unsupported(format!(
                "database {target} is external and its environment gives no command to {0} it \
                 (add `commands.{0} = \"...\"` under its [databases] entry or node, \
                 docs/environment.md)",
                action.as_str()
            )));
        };
        run_command(&format!("database {target}"), action.as_str(), command).await
    }

    /// How `user` reaches `upstream` of `role`: the address to connect to (its own proxy on the
    /// proxy plane) and the local address to connect from (its own on the packet plane).
    pub async fn client_route(
        &self,
        user: &str,
        role: &str,
        upstream: SocketAddr,
    ) -> Result<(SocketAddr, Option<std::net::IpAddr>), FaultError> {
        if let Some(net) = self.packet() {
            let bind = net
                .user_address(user)
                .await
                .map_err(|e| FaultError::Failed(format!("cannot give {user} an address: {e}")))?;
            return Ok((upstream, Some(bind.into())));
        }
        let routed = match (&self.lab, &self.proxy) {
            (Some(lab), _) if lab.server(role).is_some() || lab.cluster_of_node(role).is_some() => {
                lab.client_route(user, role, upstream).await
            }
            (_, Some(proxy)) => {
                let link = Link::new(Endpoint::User(user.into()), Endpoint::Server(role.into()));
                let listen = SocketAddr::from(([127, 0, 0, 1], 0));
                proxy.route(&link, listen, upstream).await
            }
            (_, None) => Ok(upstream),
        };
        routed
            .map(|addr| (addr, None))
            .map_err(|e| FaultError::Failed(format!("cannot start {user}'s proxy: {e}")))
    }

    /// Whether the plane carries `link` (a managed server's s2s, or any client's c2s, or the
    /// traffic of a database the lab runs on the packet plane).
    fn carries(&self, link: &Link) -> Result<(), FaultError> {
        let lab = self.lab.as_deref();
        let node_of = |e: &Endpoint| lab.and_then(|lab| lab.cluster_of_node(e.name()));
        let clustered = |e: &Endpoint| {
            node_of(e).is_some() || lab.is_some_and(|lab| lab.cluster(e.name()).is_some())
        };
        let managed =
            |e: &Endpoint| clustered(e) || lab.is_some_and(|lab| lab.server(e.name()).is_some());
        if matches!(link.from, Endpoint::Database(_)) || matches!(link.to, Endpoint::Database(_)) {
            return self.carries_database(link, &managed);
        }
        match (&link.from, &link.to) {
            (Endpoint::User(_), Endpoint::Server(_)) => Ok(()),
            (Endpoint::Server(_), Endpoint::Server(_))
                if self.plane == Plane::Proxy
                    && node_of(&link.from).is_some()
                    && node_of(&link.from).map(|c| &c.request.role)
                        == node_of(&link.to).map(|c| &c.request.role) =>
            {
                Err(FaultError::Unsupported(format!(
                    "the link {link} is a cluster's Erlang distribution, which the proxy plane \
                     does not carry (epmd hands out ports at run time): run with `--plane packet` \
                     (root), where every node has a network namespace of its own"
                )))
            }
            (Endpoint::Server(_), Endpoint::Server(_))
                if self.plane == Plane::Proxy && (clustered(&link.from) || clustered(&link.to)) =>
            {
                Err(FaultError::Unsupported(format!(
                    "the link {link} is server-to-server traffic of an ejabberd server, which the \
                     proxy plane does not carry (ejabberd finds its peers at their real \
                     addresses): run with `--plane packet` (root), where every node has a \
                     network namespace of its own"
                )))
            }
            (Endpoint::Server(_), Endpoint::Server(_))
                if managed(&link.from) && managed(&link.to) =>
            {
                Ok(())
            }
            (Endpoint::Server(_), Endpoint::Server(_)) => Err(FaultError::Unsupported(format!(
                "the link {link} joins external servers, whose server-to-server traffic jspec \
                 does not carry; cut it in the lab's own network"
            ))),
            _ => Err(FaultError::Unsupported(format!(
                "there is no connection {link}: clients open connections to servers, not the \
                 other way round"
            ))),
        }
    }

    /// A link to or from a database: its servers' SQL, its nodes' replication and their HA
    /// agents' traffic. Only the packet plane carries it, for databases the lab runs.
    fn carries_database(
        &self,
        link: &Link,
        managed: &dyn Fn(&Endpoint) -> bool,
    ) -> Result<(), FaultError> {
        let lab = self.lab.as_deref();
        let ours = |e: &Endpoint| match e {
            Endpoint::Database(name) => {
                lab.is_some_and(|lab| lab.cluster_of_database(name).is_some())
            }
            Endpoint::Server(_) => managed(e),
            Endpoint::User(_) => false,
        };
        if let Some(user) = [&link.from, &link.to]
            .into_iter()
            .find(|e| matches!(e, Endpoint::User(_)))
        {
            return Err(FaultError::Unsupported(format!(
                "there is no connection {link}: {user} is a client, and clients connect to \
                 servers, not to databases"
            )));
        }
        if let Some(external) = [&link.from, &link.to].into_iter().find(|e| !ours(e)) {
            return Err(FaultError::Unsupported(format!(
                "the link {link}: {external} is not run by the lab, and jspec does not carry \
                 the traffic of external machines; cut it in their own network"
            )));
        }
        match self.plane {
            Plane::Packet => Ok(()),
            Plane::Proxy => Err(FaultError::Unsupported(format!(
                "the link {link} is database traffic, which the proxy plane does not carry (the \
                 servers and the database nodes reach each other at their real addresses): run \
                 with `--plane packet` (root), where every server and database node has a \
                 network namespace of its own"
            ))),
        }
    }

    /// The endpoints `endpoint` stands for on this plane: on the packet plane a cluster of the
    /// lab is its nodes (each in a namespace of its own), since any of them may open or accept
    /// its connections, and a replicated database is its nodes and its own namespace (its
    /// store, etcd); otherwise the endpoint itself.
    fn spread(&self, endpoint: &Endpoint) -> Vec<Endpoint> {
        let lab = self.lab.as_ref().filter(|_| self.plane == Plane::Packet);
        match endpoint {
            Endpoint::Server(name) => {
                let cluster = lab
                    .and_then(|lab| lab.cluster(name))
                    .filter(|cluster| cluster.node(name).is_none());
                match cluster {
                    Some(cluster) => cluster
                        .nodes()
                        .iter()
                        .map(|node| Endpoint::Server(node.spec.node.clone()))
                        .collect(),
                    None => vec![endpoint.clone()],
                }
            }
            Endpoint::Database(name) => {
                let replicated = lab
                    .and_then(|lab| lab.cluster_of_database(name))
                    .filter(|cluster| cluster.request.database_role() == *name)
                    .and_then(|cluster| cluster.database().replicated());
                let mut all = vec![endpoint.clone()];
                if let Some(replicated) = replicated {
                    all.extend(
                        replicated
                            .nodes()
                            .iter()
                            .map(|node| Endpoint::Database(node.name.clone())),
                    );
                }
                all
            }
            Endpoint::User(_) => vec![endpoint.clone()],
        }
    }

    /// The links `link` stands for (see [`Self::spread`]).
    fn links(&self, link: &Link) -> Vec<Link> {
        let mut links = Vec::new();
        for from in self.spread(&link.from) {
            // A machine has no connection to itself (`isolate pg1` is pg1 against its database).
            for to in self.spread(&link.to).into_iter().filter(|to| *to != from) {
                links.push(Link::new(from.clone(), to));
            }
        }
        links
    }

    /// The flows `flow` stands for (see [`Self::spread`]).
    fn flows(&self, flow: &Flow) -> Vec<Flow> {
        self.links(&Link::new(flow.from.clone(), flow.to.clone()))
            .into_iter()
            .map(|link| Flow {
                from: link.from,
                to: link.to,
            })
            .collect()
    }

    pub async fn cut(&self, link: &Link, mode: CutMode) -> Result<(), FaultError> {
        let links = self.links(link);
        for link in &links {
            self.carries(link)?;
        }
        for link in links {
            match (self.plane, &self.proxy, self.packet()) {
                (Plane::Proxy, Some(proxy), _) => proxy.cut(&link, mode).await,
                (Plane::Packet, _, Some(net)) => {
                    net.cut(&link, mode).await.map_err(packet_error)?
                }
                _ => return Err(self.no_plane()),
            }
            lock(&self.cuts).insert(link, mode);
        }
        Ok(())
    }

    pub async fn uncut(&self, link: &Link) -> Result<(), FaultError> {
        for link in self.links(link) {
            if let Some(proxy) = &self.proxy {
                proxy.uncut(&link).await;
            }
            if let Some(net) = self.packet() {
                net.uncut(&link).await.map_err(packet_error)?;
            }
            lock(&self.cuts).remove(&link);
        }
        Ok(())
    }

    /// Adds `impairment` to what `flow` already suffers.
    pub async fn impair(
        &self,
        flow: &Flow,
        impairment: &Impairment,
        seed: u64,
    ) -> Result<Impairment, FaultError> {
        let mut combined = None;
        for flow in self.flows(flow) {
            combined = Some(self.impair_one(&flow, impairment, seed).await?);
        }
        Ok(combined.unwrap_or_default())
    }

    async fn impair_one(
        &self,
        flow: &Flow,
        impairment: &Impairment,
        seed: u64,
    ) -> Result<Impairment, FaultError> {
        let link = if flow.from.is_server() && !flow.to.is_server() {
            Link::new(flow.to.clone(), flow.from.clone())
        } else {
            Link::new(flow.from.clone(), flow.to.clone())
        };
        self.carries(&link)?;
        let mut combined = lock(&self.impaired).get(flow).cloned().unwrap_or_default();
        combined.merge(impairment);
        match (self.plane, &self.proxy, self.packet()) {
            (Plane::Proxy, Some(proxy), _) => proxy.impair(flow, &combined, seed),
            (Plane::Packet, _, Some(net)) => {
                // The engine merges a second impairment of a flow itself.
                net.impair(flow, impairment, seed)
                    .await
                    .map_err(packet_error)?
            }
            _ => return Err(self.no_plane()),
        }
        lock(&self.impaired).insert(flow.clone(), combined.clone());
        Ok(combined)
    }

    pub async fn restore(&self, flow: &Flow) -> Result<(), FaultError> {
        for flow in self.flows(flow) {
            if let Some(proxy) = &self.proxy {
                proxy.restore(&flow);
            }
            if let Some(net) = self.packet() {
                net.restore(&flow).await.map_err(packet_error)?;
            }
            lock(&self.impaired).remove(&flow);
        }
        Ok(())
    }

    /// Bulk traffic over `flow` (each flow it stands for) for `duration`; the packet plane only,
    /// as the proxy plane carries XMPP alone.
    pub async fn flood(
        &self,
        flow: &Flow,
        bits_per_second: f64,
        duration: Duration,
    ) -> Result<(), FaultError> {
        for flow in self.flows(flow) {
            self.carries(&Link::new(flow.from.clone(), flow.to.clone()))
                .or_else(|_| self.carries(&Link::new(flow.to.clone(), flow.from.clone())))?;
            match self.packet() {
                Some(net) if self.plane == Plane::Packet => net
                    .flood(&flow, bits_per_second, duration)
                    .await
                    .map_err(packet_error)?,
                _ => {
                    return Err(FaultError::Unsupported(format!(
                        "`flood` sends bulk traffic that is not XMPP, which the {} plane does not \
                         carry: run with `--plane packet` (root)",
                        self.plane
                    )));
                }
            }
        }
        Ok(())
    }

    /// Every cut healed and every impairment lifted; returns what was in force.
    pub async fn heal_network(&self) -> Vec<String> {
        let mut healed: Vec<String> = lock(&self.cuts)
            .iter()
            .map(|(link, mode)| format!("cut {link} ({})", mode.as_str()))
            .collect();
        healed.extend(
            lock(&self.impaired)
                .iter()
                .map(|(flow, imp)| format!("impaired {flow} ({imp})")),
        );
        let cut: Vec<Link> = lock(&self.cuts).keys().cloned().collect();
        if let Some(net) = self.packet() {
            for result in [net.heal_all().await, net.restore_all().await] {
                if let Err(error) = result {
                    healed.push(format!("(could not heal the packet lab: {error})"));
                }
            }
        }
        if let Some(proxy) = &self.proxy {
            proxy.heal_all();
            for link in &cut {
                proxy.uncut(link).await;
            }
        }
        lock(&self.cuts).clear();
        lock(&self.impaired).clear();
        healed
    }

    /// The network healed and every managed server running; returns what it changed.
    pub async fn heal_all(&self) -> Result<Vec<String>, FaultError> {
        let mut healed = self.heal_network().await;
        if let Some(lab) = &self.lab {
            let servers = lab
                .restore_servers()
                .await
                .map_err(|e| FaultError::Failed(e.to_string()))?;
            healed.extend(servers);
            let clocks = lab
                .restore_clocks()
                .await
                .map_err(|e| FaultError::Failed(e.to_string()))?;
            healed.extend(clocks);
        }
        Ok(healed)
    }

    /// A process fault on `role`: signals for a managed server, the environment's command for an
    /// external one.
    pub async fn process(&self, role: &str, action: ProcessAction) -> Result<(), FaultError> {
        if let Some(lab) = self
            .lab
            .as_ref()
            .filter(|lab| lab.server(role).is_some() || lab.cluster_of_node(role).is_some())
        {
            return lab
                .process(role, action)
                .await
                .map_err(|e| FaultError::Failed(e.to_string()));
        }
        let Some(command) = self.commands.get(role).and_then(|c| c.get(action)) else {
            return Err(FaultError::Unsupported(format!(
                "server {role} is external and its environment gives no command to {0} it \
                 (add `commands.{0} = \"...\"` under [servers.{role}], docs/environment.md)",
                action.as_str()
            )));
        };
        run_command(role, action.as_str(), command).await
    }

    fn packet(&self) -> Option<&crate::fault::packet::PacketNet> {
        self.lab.as_ref().and_then(|lab| lab.packet())
    }

    fn no_plane(&self) -> FaultError {
        FaultError::Unsupported(format!(
            "network faults on the {} plane are not available in this run",
            self.plane
        ))
    }
}

fn packet_error(error: crate::fault::packet::PacketError) -> FaultError {
    match error {
        crate::fault::packet::PacketError::CloseNeedsProxy { .. } => {
            FaultError::Unsupported(error.to_string())
        }
        other => FaultError::Failed(other.to_string()),
    }
}

/// Runs an environment's fault command with `sh -c`, bounded by a timeout.
async fn run_command(role: &str, action: &str, command: &str) -> Result<(), FaultError> {
    let mut child = tokio::process::Command::new("sh");
    child.arg("-c").arg(command).kill_on_drop(true);
    let output = tokio::time::timeout(COMMAND_TIMEOUT, child.output())
        .await
        .map_err(|_| {
            FaultError::Failed(format!(
                "the command to {action} {role} did not finish within {}s: {command}",
                COMMAND_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| {
            FaultError::Failed(format!("cannot run the command to {action} {role}: {e}"))
        })?;
    if output.status.success() {
        Ok(())
    } else {
        // One line: it also goes into the summary and TestRail's comment.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let said: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        Err(FaultError::Failed(format!(
            "the command to {action} {role} failed ({}): `{command}` said: {}",
            output.status,
            if said.is_empty() {
                "nothing".to_string()
            } else {
                said.join("; ")
            }
        )))
    }
}
