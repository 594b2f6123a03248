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
/// requires one of the last five). Not `fmuc`, `ocsp` (no server here consumes OCSP) or
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
    "smacks",
    "vcard",
];

/// What a managed ejabberd cluster will offer once the lab starts one (certificate login, no
/// GSSAPI).
pub const MANAGED_EJABBERD_CAPABILITIES: &[&str] = &[
    "carbons",
    "cluster",
    "dialback",
    "direct-tls",
    "disco",
    "external",
    "mam",
    "muc",
    "smacks",
    "vcard",
];

impl Environment {
    /// The built-in local lab for the given server roles: one managed Prosody per role (domain
    /// `<role>.test`, its own loopback address), expectations wait 10 s, faults on the proxy
    /// plane. `jspec run` uses it when no `--env` is given.
    pub fn local(roles: &[&str]) -> Environment {
        let servers = roles
            .iter()
            .map(|&role| {
                let server = ServerEnv::Managed(ManagedServer {
                    software: Software::Prosody,
                    domain: format!("{role}.test"),
                    nodes: Vec::new(),
                    database: None,
                });
                (role.to_string(), server)
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
                Software::Prosody => spec.servers.push(binding.role.to_string()),
                other => {
                    return Err(EnvError::Unsupported(Unsupported {
                        file: self.describe(),
                        role: binding.role.to_string(),
                        what: format!("a managed {other} cluster"),
                        hint: "managed ejabberd arrives with the cluster issue; until then \
                               describe a running cluster with `software = \
                               \"ejabberd-external\"` and its nodes"
                            .into(),
                    }));
                }
            }
        }
        Ok(spec)
    }
}
