//! Environments: what the roles of a spec stand for. A spec names roles (`servers a, b`); an
//! environment file (TOML, docs/environment.md) binds each role to a managed server that jspec
//! starts in its local lab, or to an external one (address, domain, TLS trust, accounts whose
//! secrets come from environment variables, capabilities, and commands for process faults).
//! With no `--env`, [`Environment::local`] is the built-in local lab.
//!
//! Loading runs four passes (TOML syntax, secrets written in the file, the serde schema, the
//! rules across keys) and reports every problem as a diagnostic that points into the file and
//! renders like a .jspec error.

mod accounts;
mod build;
mod database;
mod error;
mod extensions;
mod hints;
mod load;
mod local;
mod model;
mod node;
mod raw;
mod roles;
mod secret;
mod server;
mod spans;
mod support;
mod value;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jspec_lang::span::Origin;

pub use database::{DatabaseEnv, DatabaseSoftware};
pub use error::{EnvError, InvalidFile, MissingRoles, RoleKind, Unsupported};
pub use load::Variables;
pub use local::{LocalRole, MANAGED_EJABBERD_CAPABILITIES, MANAGED_PROSODY_CAPABILITIES};
pub use model::{
    Account, Accounts, DEFAULT_TIMEOUT, Defaults, ExternalServer, ManagedServer, Plane, Register,
    ServerEnv, Software, Tls,
};
pub use node::{Commands, NodeEnv};
pub use roles::{Blocked, RoleBinding};
pub use secret::Secret;
pub use value::{Address, format_duration, parse_duration};

/// A checked environment: defaults and roles.
#[derive(Clone, Debug, PartialEq)]
pub struct Environment {
    /// `name` from the file, else the file's stem; `local` for the built-in lab.
    pub name: String,
    /// The file it was loaded from (for [`Environment::from_toml`], the name given); `None` for
    /// the built-in local lab.
    pub file: Option<PathBuf>,
    pub defaults: Defaults,
    pub servers: BTreeMap<String, ServerEnv>,
    pub databases: BTreeMap<String, DatabaseEnv>,
}

impl Environment {
    /// Loads an environment file; `*_env` keys are read from the process environment.
    pub fn load(path: &Path) -> Result<Environment, EnvError> {
        Environment::load_with(path, &|name| std::env::var(name).ok())
    }

    /// Loads an environment file, reading `*_env` variables through `vars`.
    pub fn load_with(path: &Path, vars: Variables<'_>) -> Result<Environment, EnvError> {
        // Only a regular file of sane size: `--env` naming a FIFO or /dev/zero must not hang.
        let text =
            jspec_lang::spec_file::read_spec_file(path).map_err(|source| EnvError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let base = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
        let name = path.display().to_string();
        let mut env = load::parse(&name, Origin::Disk(path.to_path_buf()), text, &base, vars)?;
        env.file = Some(path.to_path_buf());
        Ok(env)
    }

    /// Parses environment text shown as `name` in errors; relative paths start at `base`.
    pub fn from_toml(
        name: &str,
        text: &str,
        base: &Path,
        vars: Variables<'_>,
    ) -> Result<Environment, EnvError> {
        let mut env = load::parse(name, Origin::Memory, text.to_string(), base, vars)?;
        env.file = Some(PathBuf::from(name));
        Ok(env)
    }

    /// How errors name this environment: its file, or "the built-in local lab".
    pub fn describe(&self) -> String {
        match &self.file {
            Some(file) => file.display().to_string(),
            None => "the built-in local lab".into(),
        }
    }

    pub fn server(&self, role: &str) -> Option<&ServerEnv> {
        self.servers.get(role)
    }

    pub fn database(&self, role: &str) -> Option<&DatabaseEnv> {
        self.databases.get(role)
    }

    /// The process-fault commands of the external databases, by database role and by node
    /// name (`kill database sql1` runs node sql1's command).
    pub fn database_commands(&self) -> BTreeMap<String, Commands> {
        let mut commands = BTreeMap::new();
        for (role, database) in self.databases.iter().filter(|(_, d)| !d.is_managed()) {
            commands.insert(role.clone(), database.commands.clone());
            for (node, env) in &database.nodes {
                commands.insert(node.clone(), env.commands.clone());
            }
        }
        commands
    }
}
