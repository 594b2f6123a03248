//! Managed ejabberd 23.01 nodes: each node's configuration, certificate, Mnesia spool and logs
//! in one folder of the lab, its beam run in the foreground through a private ejabberdctl and
//! stopped by PID; nodes of a cluster share a private epmd, a cookie and a SQL database.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

mod cluster;
mod config;
mod ctl;
pub mod epmd;
mod error;
mod node;

pub use cluster::EjabberdCluster;
pub use config::SQL_SCHEMA_FILE;
pub use ctl::EJABBERDCTL;
pub use epmd::Epmd;
pub use error::EjabberdError;
pub use node::EjabberdNode;

/// Ports ejabberd listens on, on the node's own address.
pub const C2S_PORT: u16 = 5222;
pub const C2S_DIRECT_TLS_PORT: u16 = 5223;
pub const S2S_PORT: u16 = 5269;

/// libfaketime, preloaded into a beam whose clock a case moves.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// How a node reaches the cluster's SQL database.
#[derive(Clone, Debug)]
pub struct DbConn {
    pub host: String,
    pub port: u16,
    pub name: String,
    pub user: String,
    pub password: String,
}

/// One node of an ejabberd cluster.
#[derive(Clone, Debug)]
pub struct EjabberdSpec {
    /// The cluster's role in the spec (`c`), used in names and logs.
    pub role: String,
    /// The node's short name (`c1`); short names must differ within one epmd.
    pub node: String,
    /// The XMPP domain served by every node of the cluster (`c.test`).
    pub domain: String,
    pub muc_domain: String,
    /// The node's own loopback address: listeners and Erlang distribution bind only there.
    pub address: Ipv4Addr,
    /// The cluster's private epmd.
    pub epmd_port: u16,
    /// The cluster's Erlang cookie (letters, digits, `_` and `-`).
    pub cookie: String,
    pub database: DbConn,
    /// PEM of the lab CA the node trusts (s2s and client certificates).
    pub ca_file: PathBuf,
    /// Seconds until a silent peer node counts as down (a netsplit shows after about this).
    pub net_ticktime: u32,
    /// The lab's domains and their addresses, for ejabberd's resolver (s2s).
    pub hosts: Vec<(Ipv4Addr, Vec<String>)>,
    /// The lab DNS: ejabberd resolves s2s peers with DNS queries (SRV, then A), which skip
    /// the hosts lines, so the lab's domains must be answered there.
    pub nameserver: Option<SocketAddr>,
    /// The network namespace to run in (the packet plane), entered with `ip netns exec`.
    pub netns: Option<String>,
    /// A libfaketime timestamp file (FAKETIME_TIMESTAMP_FILE) whose offset the beam's clock
    /// follows; `None` runs on the real clock.
    pub faketime: Option<PathBuf>,
    /// Bare JIDs of the administrators (the `admin` ACL; MUC administrators too).
    pub admins: Vec<String>,
}

impl EjabberdSpec {
    /// The Erlang node name, `c1@127.x.y.z`.
    pub fn erlang_node(&self) -> String {
        format!("{}@{}", self.node, self.address)
    }

    pub fn pubsub_domain(&self) -> String {
        format!("pubsub.{}", self.domain)
    }

    /// The names the node's certificate must carry: the domain and its services.
    pub fn certificate_names(&self) -> Vec<String> {
        vec![
            self.domain.clone(),
            self.muc_domain.clone(),
            self.pubsub_domain(),
        ]
    }

    pub fn c2s_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, C2S_PORT))
    }

    pub fn c2s_direct_tls_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, C2S_DIRECT_TLS_PORT))
    }

    pub fn s2s_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, S2S_PORT))
    }

    /// Where the node's epmd answers.
    pub fn epmd_addr(&self) -> SocketAddr {
        SocketAddr::from((self.address, self.epmd_port))
    }

    /// `c1@127.x.y.z (cluster c)`, for messages.
    pub(crate) fn label(&self) -> String {
        format!("{} (cluster {})", self.erlang_node(), self.role)
    }

    /// What goes unquoted into shell, Erlang and YAML text must be plain.
    pub(crate) fn check(&self, dir: &Path) -> Result<(), EjabberdError> {
        let invalid = |reason: String| EjabberdError::Invalid {
            node: self.label(),
            reason,
        };
        let short_name = self
            .node
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
            && self
                .node
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !short_name {
            return Err(invalid(format!(
                "node name `{}` must start with a-z and hold only a-z, 0-9, _ and -",
                self.node
            )));
        }
        let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if self.cookie.is_empty() || !self.cookie.chars().all(plain) {
            return Err(invalid(
                "the cookie must be letters, digits, _ and - only".into(),
            ));
        }
        let names = std::iter::once(&self.domain)
            .chain(std::iter::once(&self.muc_domain))
            .chain(self.hosts.iter().flat_map(|(_, names)| names));
        for name in names {
            let host_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !host_name {
                return Err(invalid(format!("`{name}` is not a plain host name")));
            }
        }
        if self.net_ticktime == 0 {
            return Err(invalid("net_ticktime must be at least 1 s".into()));
        }
        let text = dir.display().to_string();
        let shell_safe = dir.is_absolute()
            && !text
                .chars()
                .any(|c| c.is_whitespace() || "'\"$`\\;&|<>(){}*?!#".contains(c));
        if !shell_safe {
            return Err(invalid(format!(
                "its folder {text} must be an absolute path without spaces or shell characters (ejabberdctl sources paths unquoted)"
            )));
        }
        Ok(())
    }
}
