//! Binding a program to an environment: every role a case names must exist (with the nodes
//! the case names, and accounts for its users), and a case whose `requires` the servers do not
//! meet is Blocked.

use std::collections::BTreeSet;
use std::fmt;

use jspec_lang::ast::{Case, CaseEntryKind, Name, Role};
use jspec_lang::diagnostic::{Code, Diagnostic};
use jspec_lang::span::SourceId;

use super::Environment;
use super::database::DatabaseEnv;
use super::error::{EnvError, MissingRoles, RoleKind, quoted};
use super::local::{MANAGED_EJABBERD_CAPABILITIES, MANAGED_PROSODY_CAPABILITIES};
use super::model::{Register, ServerEnv, Software};

/// A role of a case and the server it stands for.
#[derive(Clone, Copy, Debug)]
pub struct RoleBinding<'e> {
    pub role: &'e str,
    pub server: &'e ServerEnv,
}

impl Environment {
    /// The servers of a case's `servers` line, in order. Every missing role is named in one
    /// error, with the environment file and the roles it has.
    pub fn resolve_roles(&self, roles: &[&str]) -> Result<Vec<RoleBinding<'_>>, EnvError> {
        let missing: Vec<String> = roles
            .iter()
            .filter(|role| !self.servers.contains_key(**role))
            .map(|role| role.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(self.missing(RoleKind::Server, missing));
        }
        Ok(roles
            .iter()
            .filter_map(|role| self.servers.get_key_value(*role))
            .map(|(role, server)| RoleBinding { role, server })
            .collect())
    }

    /// The databases of a case's `databases` line, in order.
    pub fn resolve_databases(&self, roles: &[&str]) -> Result<Vec<(&str, &DatabaseEnv)>, EnvError> {
        let missing: Vec<String> = roles
            .iter()
            .filter(|role| !self.databases.contains_key(**role))
            .map(|role| role.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(self.missing(RoleKind::Database, missing));
        }
        Ok(roles
            .iter()
            .filter_map(|role| self.databases.get_key_value(*role))
            .map(|(role, database)| (role.as_str(), database))
            .collect())
    }

    fn missing(&self, kind: RoleKind, missing: Vec<String>) -> EnvError {
        let available = match kind {
            RoleKind::Server => self.servers.keys().cloned().collect(),
            RoleKind::Database => self.databases.keys().cloned().collect(),
        };
        EnvError::MissingRoles(MissingRoles {
            file: self.describe(),
            kind,
            missing,
            available,
        })
    }

    /// What a server role offers: a managed server what its software offers in the lab; an
    /// external one what the environment file declares. Empty for an unknown role.
    pub fn capabilities(&self, role: &str) -> BTreeSet<String> {
        let fixed = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        match self.servers.get(role) {
            None => BTreeSet::new(),
            Some(ServerEnv::Managed(server)) => match server.software {
                // A standalone ejabberd (one node) is no cluster.
                Software::Ejabberd if server.nodes.len() < 2 => {
                    let mut offered: BTreeSet<String> = fixed(MANAGED_EJABBERD_CAPABILITIES);
                    offered.remove("cluster");
                    offered
                }
                Software::Ejabberd => fixed(MANAGED_EJABBERD_CAPABILITIES),
                _ => fixed(MANAGED_PROSODY_CAPABILITIES),
            },
            Some(ServerEnv::External(server)) => server.capabilities.clone(),
        }
    }

    /// The required capabilities the role lacks, in the order given, without repeats.
    pub fn missing_capabilities(&self, role: &str, required: &[&str]) -> Vec<String> {
        let offered = self.capabilities(role);
        let mut missing: Vec<String> = Vec::new();
        for &capability in required {
            if !offered.contains(capability) && !missing.iter().any(|m| m == capability) {
                missing.push(capability.to_string());
            }
        }
        missing
    }

    /// Whether a case using `roles` and requiring `required` is Blocked: every server of the
    /// case must offer every required capability.
    pub fn blocked(&self, roles: &[&str], required: &[&str]) -> Option<Blocked> {
        let missing: Vec<(String, Vec<String>)> = roles
            .iter()
            .map(|&role| (role.to_string(), self.missing_capabilities(role, required)))
            .filter(|(_, missing)| !missing.is_empty())
            .collect();
        (!missing.is_empty()).then(|| Blocked {
            environment: self.describe(),
            missing,
        })
    }

    /// Diagnostics for a case whose roles or nodes the environment lacks, pointing at the
    /// case's `servers` and `databases` lines (for `jspec check --env` and before a run).
    pub fn check_case(&self, file: SourceId, case: &Case) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for entry in &case.entries {
            match &entry.kind {
                CaseEntryKind::Servers(roles) => {
                    for role in roles {
                        let nodes = self.server(&role.name.text).map(ServerEnv::node_names);
                        self.check_role(file, RoleKind::Server, role, nodes, &mut out);
                    }
                }
                CaseEntryKind::Databases(roles) => {
                    for role in roles {
                        let nodes = self
                            .database(&role.name.text)
                            .map(|d| d.node_names.iter().map(String::as_str).collect());
                        self.check_role(file, RoleKind::Database, role, nodes, &mut out);
                    }
                }
                CaseEntryKind::User { name, server, .. } => {
                    if let Some(diagnostic) = self.check_account(file, name, &server.text) {
                        out.push(diagnostic);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// A user on an external server needs a listed account or in-band registration.
    fn check_account(&self, file: SourceId, user: &Name, role: &str) -> Option<Diagnostic> {
        let Some(ServerEnv::External(server)) = self.server(role) else {
            return None;
        };
        let accounts = &server.accounts;
        if accounts.register == Register::InBand || accounts.users.contains_key(&user.text) {
            return None;
        }
        let name = &user.text;
        Some(
            Diagnostic::error(
                Code::EnvMissingRole,
                file,
                format!(
                    "user `{name}` has no account on `{role}` in {}",
                    self.describe()
                ),
            )
            .with_label(user.span, "no account for this user")
            .with_help(format!(
                "add `[servers.{role}.users.{name}]` with `jid_env` and `password_env`, or set \
                 `register = \"in-band\"` on `servers.{role}`"
            )),
        )
    }

    fn check_role(
        &self,
        file: SourceId,
        kind: RoleKind,
        role: &Role,
        nodes: Option<Vec<&str>>,
        out: &mut Vec<Diagnostic>,
    ) {
        let name = &role.name.text;
        let Some(nodes) = nodes else {
            let error = self.missing(kind, vec![name.clone()]);
            let help = match &error {
                EnvError::MissingRoles(missing) => format!(
                    "{}; add `[{}.{name}]` or choose another environment with --env",
                    match missing.available.as_slice() {
                        [] => "it defines none".to_string(),
                        roles => format!("it defines {}", quoted(roles)),
                    },
                    if kind == RoleKind::Server {
                        "servers"
                    } else {
                        "databases"
                    },
                ),
                _ => String::new(),
            };
            let message = format!(
                "{} role `{name}` is not defined in {}",
                if kind == RoleKind::Server {
                    "server"
                } else {
                    "database"
                },
                self.describe()
            );
            out.push(
                Diagnostic::error(Code::EnvMissingRole, file, message)
                    .with_label(role.name.span, "not in the environment")
                    .with_help(help),
            );
            return;
        };
        for node in &role.nodes {
            if nodes.contains(&node.text.as_str()) {
                continue;
            }
            let help = if nodes.is_empty() {
                format!("`{name}` is a single server there, not a cluster")
            } else {
                format!("the nodes of `{name}` there: {}", quoted(&nodes))
            };
            out.push(
                Diagnostic::error(
                    Code::EnvMissingRole,
                    file,
                    format!(
                        "`{name}` has no node `{}` in {}",
                        node.text,
                        self.describe()
                    ),
                )
                .with_label(node.span, "not a node in the environment")
                .with_help(help),
            );
        }
    }
}

/// Why a case cannot run here: the capabilities each server lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub environment: String,
    /// Server role and the required capabilities it lacks.
    pub missing: Vec<(String, Vec<String>)>,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .missing
            .iter()
            .map(|(role, missing)| format!("server `{role}` lacks {}", quoted(missing)))
            .collect();
        write!(f, "{} in {}", parts.join("; "), self.environment)
    }
}
