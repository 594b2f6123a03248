//! The packet plane: each managed server in its own network namespace on a lab bridge, cuts in
//! nftables, per-packet impairments through NFQUEUE (fed by iptables rules: the kernels this
//! runs on have no nft `queue`), bandwidth with tc htb.
//!
//! Clients stay in the root namespace, each bound to its own address on the bridge
//! ([`PacketNet::user_address`]), so that every link and flow has addresses to match on. Every
//! name carries the owner tag (jspec's pid): [`cleanup_orphans`] removes what a dead jspec left.

mod cmd;
mod engine;
mod faults;
mod flood;
mod net;
mod nft;
mod queue;
mod tc;
mod wire;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

pub use queue::run_in_netns;

use faults::Faults;
use net::RoleNet;

#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    #[error("the packet plane needs root (CAP_NET_ADMIN); run as root or use --plane proxy")]
    NotRoot,
    #[error("{program} not found: install {package} (scripts/deps.sh)")]
    Missing {
        program: String,
        package: &'static str,
    },
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("`{command}` did not finish within {seconds}s")]
    Timeout { command: String, seconds: u64 },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cut {link} with close: closing connections with a FIN needs the proxy plane (--plane proxy); the packet plane can hold or reject"
    )]
    CloseNeedsProxy { link: String },
    #[error("`{0}` is not a server of the packet lab")]
    UnknownRole(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the packet lab was not removed completely: {0}")]
    Cleanup(String),
}

/// The lab network of one run: a bridge, a namespace per server role, client addresses, and
/// the faults in force. Call [`PacketNet::destroy`]; dropping it also removes everything,
/// blocking, as a last resort (a panic in a test).
#[derive(Debug)]
pub struct PacketNet {
    tag: String,
    bridge: String,
    subnet: [u8; 3],
    roles: BTreeMap<String, RoleNet>,
    users: tokio::sync::Mutex<BTreeMap<String, Ipv4Addr>>,
    faults: tokio::sync::Mutex<Faults>,
    live: bool,
}

impl PacketNet {
    /// Creates the bridge and one namespace per role (address .2, .3, ... in role order).
    pub async fn create(roles: &[String]) -> Result<PacketNet, PacketError> {
        if !cmd::has_net_admin() {
            return Err(PacketError::NotRoot);
        }
        for program in ["ip", "nft", "tc", "iptables-restore"] {
            cmd::which(program)?;
        }
        for (index, role) in roles.iter().enumerate() {
            net::check_role(role)?;
            if roles[..index].contains(role) {
                return Err(PacketError::Invalid(format!("role `{role}` given twice")));
            }
        }
        let tag = net::new_tag();
        let bridge = net::bridge_name(&tag)?;
        // Names with this tag can only be left by a dead process that had our pid.
        let stale: Vec<String> = roles.iter().map(|r| net::netns_name(&tag, r)).collect();
        for error in net::remove(&bridge, &stale, &[]).await {
            tracing::warn!(%error, "cannot remove a stale packet lab");
        }
        let subnet = net::create_bridge(&bridge, &tag).await?;
        let mut lab = PacketNet {
            tag,
            bridge,
            subnet,
            roles: BTreeMap::new(),
            users: tokio::sync::Mutex::default(),
            faults: tokio::sync::Mutex::default(),
            live: true,
        };
        if let Err(error) = lab.add_roles(roles).await {
            if let Err(cleanup) = lab.destroy().await {
                tracing::warn!(%cleanup, "after a failed packet lab start");
            }
            return Err(error);
        }
        tracing::debug!(tag = lab.tag, bridge = lab.bridge, subnet = ?lab.subnet, "packet lab up");
        Ok(lab)
    }

    async fn add_roles(&mut self, roles: &[String]) -> Result<(), PacketError> {
        for (index, role) in roles.iter().enumerate() {
            let address = net::host_address(self.subnet, net::server_host(index)?);
            let role_net = net::plan_role(&self.tag, role, address)?;
            // Recorded before it is created, so that destroy() removes a half-made one too.
            self.roles.insert(role.clone(), role_net.clone());
            net::create_role(&role_net, &self.bridge).await?;
            let netns = role_net.netns.clone();
            cmd::run_in(
                &netns,
                "nft",
                &["-f", "-"],
                Some(&nft::create_table(&self.tag)),
            )
            .await?;
        }
        Ok(())
    }

    /// The owner tag in every name of this lab (the pid, `<pid>x<n>` for later labs of it).
    pub fn tag(&self) -> &str {
        &self.tag
    }

    pub fn bridge(&self) -> &str {
        &self.bridge
    }

    /// The address of a server role.
    pub fn address(&self, role: &str) -> Option<Ipv4Addr> {
        self.roles.get(role).map(|r| r.address)
    }

    /// The network namespace a server role runs in (`ip netns exec` it).
    pub fn netns(&self, role: &str) -> Option<&str> {
        self.roles.get(role).map(|r| r.netns.as_str())
    }

    /// The address the client `user` binds to (allocated on the bridge at its first use).
    pub async fn user_address(&self, user: &str) -> Result<Ipv4Addr, PacketError> {
        let mut users = self.users.lock().await;
        if let Some(&address) = users.get(user) {
            return Ok(address);
        }
        let address = net::host_address(self.subnet, net::user_host(users.len())?);
        net::add_user_address(&self.bridge, address).await?;
        users.insert(user.to_string(), address);
        Ok(address)
    }

    /// Heals every cut, ends every impairment, removes the namespaces and the bridge. Servers
    /// running inside the namespaces must be stopped first (a process keeps its namespace).
    pub async fn destroy(mut self) -> Result<(), PacketError> {
        let mut problems = Vec::new();
        if let Err(error) = self.heal_all().await {
            problems.push(error.to_string());
        }
        if let Err(error) = self.restore_all().await {
            problems.push(error.to_string());
        }
        let (namespaces, veths) = self.names();
        problems.extend(
            net::remove(&self.bridge, &namespaces, &veths)
                .await
                .into_iter()
                .map(|e| e.to_string()),
        );
        self.live = false;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PacketError::Cleanup(problems.join("; ")))
        }
    }

    /// The namespaces and host-side veths of the lab.
    fn names(&self) -> (Vec<String>, Vec<String>) {
        let namespaces = self.roles.values().map(|r| r.netns.clone()).collect();
        let veths = self.roles.values().map(|r| r.host_veth.clone()).collect();
        (namespaces, veths)
    }

    fn role(&self, role: &str) -> Result<&RoleNet, PacketError> {
        self.roles
            .get(role)
            .ok_or_else(|| PacketError::UnknownRole(role.to_string()))
    }
}

impl Drop for PacketNet {
    fn drop(&mut self) {
        if !self.live {
            return;
        }
        // Engine threads live in the namespaces: stop them (releasing held packets) first.
        self.faults.get_mut().stop_engines();
        let (namespaces, veths) = self.names();
        net::remove_blocking(&self.bridge, &namespaces, &veths);
    }
}

/// Removes namespaces `jspec-<pid>-*`, bridges `jsbr<pid>*` and veths `jsv<pid>x*` whose pid
/// is not a running process; returns what it removed. Nothing else is touched.
pub async fn cleanup_orphans() -> Vec<String> {
    let (namespaces, interfaces) = net::orphans();
    let mut removed = Vec::new();
    for netns in namespaces {
        match cmd::run("ip", &["netns", "del", &netns], None).await {
            Ok(_) => removed.push(netns),
            Err(error) => tracing::warn!(%error, "cannot remove an orphaned namespace"),
        }
    }
    for interface in interfaces {
        // A veth may have gone with its namespace a moment ago.
        if !net::interface_exists(&interface) {
            continue;
        }
        match cmd::run("ip", &["link", "del", &interface], None).await {
            Ok(_) => removed.push(interface),
            Err(error) => tracing::warn!(%error, "cannot remove an orphaned interface"),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::PacketError;

    #[test]
    fn errors_say_what_to_do() {
        assert_eq!(
            PacketError::NotRoot.to_string(),
            "the packet plane needs root (CAP_NET_ADMIN); run as root or use --plane proxy"
        );
        let missing = PacketError::Missing {
            program: "nft".into(),
            package: "nftables",
        };
        assert_eq!(
            missing.to_string(),
            "nft not found: install nftables (scripts/deps.sh)"
        );
        let failed = PacketError::Command {
            command: "ip link add x type bridge".into(),
            status: "exit status: 2".into(),
            stderr: "RTNETLINK answers: File exists".into(),
        };
        assert!(failed.to_string().contains("ip link add x type bridge"));
        assert!(failed.to_string().contains("File exists"));
    }
}
