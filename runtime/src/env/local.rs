//! The built-in local lab as an environment, and the bridge from an environment to the lab:
//! which managed servers to start.

use std::collections::BTreeMap;

use super::Environment;
use super::error::{EnvError, Unsupported};
use super::model::{Defaults, ManagedServer, ServerEnv, Software};
use crate::lab::LabSpec;

/// What a managed Prosody of the local lab really offers (its modules, Direct TLS ports,
/// dialback, CRL checking through LuaSec, certificate login through mod_auth_ccert, Kerberos
/// through mod_auth_cyrus and the lab KDC; the lab configures a server for a case that
/// requires one of the last five), and a publish-subscribe component at `pubsub.<domain>`. Not `fmuc`, `ocsp` (no server here consumes OCSP) or
/// `cluster`.
pub const MANAGED_PROSODY_CAPABILITIES: &[&str] = &[
    "carbons",
    "crl",
    "dialback",
    "direct-tls",
    "disco",
    "external",
    "gssapi",
    "mam",
    "muc",
    "pubsub",
    "smacks",
    "vcard",
];

/// What a managed ejabberd cluster offers (ejabberd 23.01: certificate login, no GSSAPI, no
/// CRL or OCSP checking configured by the lab; publish-subscribe at `pubsub.<domain>` with
/// mod_pubsub, statistics over XMPP, XEP-0039, with mod_stats).
pub const MANAGED_EJABBERD_CAPABILITIES: &[&str] = &[
    "carbons",
    "cluster",
    "dialback",
    "direct-tls",
    "disco",
    "external",
    "mam",
    "muc",
    "pubsub",
    "smacks",
    "stats",
    "vcard",
];

/// A server role of the cases, for the built-in local lab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalRole {
    pub role: String,
    /// Its nodes, for a cluster (`servers c with nodes c1, c2`).
    pub nodes: Vec<String>,
    /// The database role the case names for it (`databases pg`).
    pub database: Option<String>,
    /// The nodes of that database (`databases pg with nodes pg1, pg2`): replicated.
    pub database_nodes: Vec<String>,
}

impl Environment {
    /// The built-in local lab for the given server roles: one managed Prosody per role (domain
    /// `<role>.test`, its own loopback address), expectations wait 10 s, faults on the proxy
    /// plane. `jspec run` uses it when no `--env` is given.
    pub fn local(roles: &[&str]) -> Environment {
        let roles: Vec<LocalRole> = roles
            .iter()
            .map(|&role| LocalRole {
                role: role.to_string(),
                nodes: Vec::new(),
                database: None,
                database_nodes: Vec::new(),
            })
            .collect();
        Environment::local_with(&roles)
    }

    /// The built-in local lab for server roles that may be clusters: a role with nodes gets a
    /// managed ejabberd cluster on its own PostgreSQL, the others a managed Prosody.
    pub fn local_with(roles: &[LocalRole]) -> Environment {
        let servers = roles
            .iter()
            .map(|local| {
                let software = match local.nodes.is_empty() {
                    true => Software::Prosody,
                    false => Software::Ejabberd,
                };
                let server = ServerEnv::Managed(ManagedServer {
                    software,
                    domain: format!("{}.test", local.role),
                    nodes: local.nodes.clone(),
                    database: local.database.clone(),
                    database_nodes: local.database_nodes.clone(),
                    extensions: Default::default(),
                });
                (local.role.clone(), server)
            })
            .collect();
        Environment {
            name: "local".into(),
            file: None,
            defaults: Defaults::default(),
            servers,
            databases: BTreeMap::new(),
        }
    }

    /// What the local lab must start for these server roles: their managed servers (external
    /// roles need nothing started). Fails for missing roles and for managed software the lab
    /// cannot start yet.
    pub fn lab_spec(&self, roles: &[&str]) -> Result<LabSpec, EnvError> {
        let mut spec = LabSpec::default();
        for binding in self.resolve_roles(roles)? {
            let ServerEnv::Managed(server) = binding.server else {
                continue;
            };
            match server.software {
                Software::Prosody => {
                    spec.servers.push(binding.role.to_string());
                    spec.extensions
                        .insert(binding.role.to_string(), (*server.extensions).clone());
                }
                // A standalone ejabberd is a cluster of one node named like its role.
                Software::Ejabberd => {
                    let nodes = match server.nodes.is_empty() {
                        true => vec![binding.role.to_string()],
                        false => server.nodes.clone(),
                    };
                    spec.clusters.push(crate::lab::cluster::ClusterRequest {
                        role: binding.role.to_string(),
                        nodes,
                        database: server.database.clone(),
                        database_nodes: server.database_nodes.clone(),
                        admins: Vec::new(),
                    });
                }
                other => {
                    return Err(EnvError::Unsupported(Unsupported {
                        file: self.describe(),
                        role: binding.role.to_string(),
                        what: format!("a managed {other} server"),
                        hint: "the lab runs Prosody and ejabberd itself; describe other \
                               servers as external ones"
                            .into(),
                    }));
                }
            }
        }
        Ok(spec)
    }
}
