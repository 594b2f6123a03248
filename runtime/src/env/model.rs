//! What an environment says, once loaded and checked: run defaults, and for each role a server
//! or database that jspec either starts itself (managed) or reaches as it is (external).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::node::{Commands, NodeEnv};
use super::secret::Secret;
use super::value::{Address, deserialize_duration};

/// The deadline of an `expect` without `within`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Run-wide settings (`[defaults]`); `--timeout` and `--plane` override them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Deadline of expectations written without `within`.
    #[serde(deserialize_with = "deserialize_duration")]
    pub timeout: Duration,
    /// Where faults are injected.
    pub plane: Plane,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            timeout: DEFAULT_TIMEOUT,
            plane: Plane::Proxy,
        }
    }
}

pub use crate::fault::model::Plane;

/// The `software` of a server: the first two are started by jspec, the others are reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Software {
    Prosody,
    Ejabberd,
    Openfire,
    Mlink,
    ProsodyExternal,
    EjabberdExternal,
    Other,
}

impl Software {
    pub fn as_str(self) -> &'static str {
        match self {
            Software::Prosody => "prosody",
            Software::Ejabberd => "ejabberd",
            Software::Openfire => "openfire",
            Software::Mlink => "mlink",
            Software::ProsodyExternal => "prosody-external",
            Software::EjabberdExternal => "ejabberd-external",
            Software::Other => "other",
        }
    }

    /// jspec starts and stops the server itself.
    pub fn is_managed(self) -> bool {
        matches!(self, Software::Prosody | Software::Ejabberd)
    }
}

impl fmt::Display for Software {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a server role stands for.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEnv {
    Managed(ManagedServer),
    External(Box<ExternalServer>),
}

impl ServerEnv {
    pub fn software(&self) -> Software {
        match self {
            ServerEnv::Managed(server) => server.software,
            ServerEnv::External(server) => server.software,
        }
    }

    pub fn is_managed(&self) -> bool {
        matches!(self, ServerEnv::Managed(_))
    }

    /// The XMPP domain users log in to.
    pub fn domain(&self) -> &str {
        match self {
            ServerEnv::Managed(server) => &server.domain,
            ServerEnv::External(server) => &server.domain,
        }
    }

    /// The domain of the server's multi-user chat service.
    pub fn muc_domain(&self) -> String {
        match self {
            ServerEnv::Managed(server) => format!("conference.{}", server.domain),
            ServerEnv::External(server) => server.muc_domain.clone(),
        }
    }

    /// The names of the role's nodes (empty for a single server).
    pub fn node_names(&self) -> Vec<&str> {
        match self {
            ServerEnv::Managed(server) => server.nodes.iter().map(String::as_str).collect(),
            ServerEnv::External(server) => server.nodes.keys().map(String::as_str).collect(),
        }
    }
}

/// A server jspec starts in its local lab. The lab gives it domain `<role>.test`, a loopback
/// address of its own and a certificate from the lab CA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedServer {
    pub software: Software,
    pub domain: String,
    /// Node names of a managed cluster (ejabberd); empty for Prosody.
    pub nodes: Vec<String>,
    /// The database role a managed cluster stores its data in.
    pub database: Option<String>,
    /// That database's nodes, in order (the first is its initial primary): a replicated
    /// database (Patroni). Empty: one PostgreSQL.
    pub database_nodes: Vec<String>,
    /// What a managed Prosody loads beyond the lab's modules (`modules = [...]`) and the
    /// options it sets (`[servers.ROLE.options]`).
    pub extensions: Box<crate::lab::ProsodyExtensions>,
}

/// A server that exists already: jspec connects to it and runs the configured commands for
/// process faults.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalServer {
    pub software: Software,
    pub domain: String,
    /// Default `conference.<domain>`.
    pub muc_domain: String,
    /// Where clients connect (STARTTLS). `None` only for a cluster, whose nodes have addresses.
    pub address: Option<Address>,
    /// Where clients connect with Direct TLS, if it differs from the c2s host on port 5223.
    pub direct_tls_address: Option<Address>,
    pub tls: Tls,
    pub accounts: Accounts,
    /// As declared (plus `cluster` for a role with two or more nodes).
    pub capabilities: BTreeSet<String>,
    /// Commands for faults on the whole role.
    pub commands: Commands,
    pub nodes: BTreeMap<String, NodeEnv>,
}

impl ExternalServer {
    /// Where a client connects: the node's address, or the role's (or its first node's).
    pub fn c2s_address(&self, node: Option<&str>) -> Option<&Address> {
        match node {
            Some(node) => self.nodes.get(node).map(|n| &n.address),
            None => self
                .address
                .as_ref()
                .or_else(|| self.nodes.values().next().map(|n| &n.address)),
        }
    }

    /// Where a client connects with Direct TLS: as configured, else the c2s host on 5223.
    pub fn direct_tls_address(&self, node: Option<&str>) -> Option<Address> {
        let configured = match node {
            Some(node) => self
                .nodes
                .get(node)
                .and_then(|n| n.direct_tls_address.as_ref()),
            None => self.direct_tls_address.as_ref(),
        };
        configured
            .cloned()
            .or_else(|| self.c2s_address(node).map(|a| a.with_port(5223)))
    }
}

/// How jspec checks the server's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    /// CA certificates (PEM) to trust, as an absolute path; `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
    /// `false` accepts any certificate (for a lab with throw-away certificates).
    pub verify: bool,
}

impl Default for Tls {
    fn default() -> Self {
        Tls {
            ca_file: None,
            verify: true,
        }
    }
}

/// How a case's users get accounts on an external server.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Accounts {
    /// For users not listed in `users`.
    pub register: Register,
    /// Accounts that exist already, by the name a case uses (`user alice on ...`).
    pub users: BTreeMap<String, Account>,
}

/// Whether jspec may create accounts itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Register {
    /// In-band registration (XEP-0077) of a fresh account per case.
    InBand,
    /// Only the accounts listed under `users`.
    #[default]
    None,
}

/// A pre-provisioned account. The password comes from an environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub jid: String,
    pub password: Secret,
}
