//! Database roles (`databases pg`): the back ends of clusters, only ever targets of faults.

use std::collections::BTreeMap;

use jspec_lang::diagnostic::Code;
use serde::Deserialize;

use super::build::Context;
use super::hints::key_hint;
use super::node::{Commands, NodeEnv};
use super::raw::{RawDatabase, RawNodes};
use super::value::Address;

/// The `software` of a database role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatabaseSoftware {
    Postgresql,
    PostgresqlExternal,
    /// Microsoft SQL Server (which cannot run on the lab's machines): faults through the
    /// environment's commands.
    MssqlExternal,
    Other,
}

impl DatabaseSoftware {
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseSoftware::Postgresql => "postgresql",
            DatabaseSoftware::PostgresqlExternal => "postgresql-external",
            DatabaseSoftware::MssqlExternal => "mssql-external",
            DatabaseSoftware::Other => "other",
        }
    }

    pub fn is_managed(self) -> bool {
        self == DatabaseSoftware::Postgresql
    }
}

/// What a database role stands for; databases are only targets of faults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseEnv {
    pub software: DatabaseSoftware,
    /// `None` for a managed database (jspec picks it) or one described by its nodes.
    pub address: Option<Address>,
    pub commands: Commands,
    /// An external database's nodes with their commands.
    pub nodes: BTreeMap<String, NodeEnv>,
    /// Its node names in order: a managed one's (`nodes = ["pg1", "pg2"]`, the first is the
    /// initial primary: a replicated database under Patroni), or an external one's.
    pub node_names: Vec<String>,
}

impl DatabaseEnv {
    pub fn is_managed(&self) -> bool {
        self.software.is_managed()
    }
}

pub(super) fn build_database(
    cx: &mut Context<'_>,
    role: &str,
    raw: RawDatabase,
) -> Option<DatabaseEnv> {
    let path = ["databases", role];
    let named = cx.name(&path, "database role");
    let managed = raw.software.is_managed();
    if managed {
        for (key, set) in [
            ("address", raw.address.is_some()),
            ("commands", raw.commands.is_some()),
            ("nodes", matches!(raw.nodes, Some(RawNodes::Table(_)))),
        ] {
            if set {
                let span = cx.key_span(&["databases", role, key]);
                cx.report(
                    Code::EnvUnknownKey,
                    span,
                    format!("`databases.{role}.{key}` does not apply to a managed database"),
                    "jspec sets this for the databases it starts",
                    "remove it (a managed database's nodes are a list of names: `nodes = \
                     [\"pg1\", \"pg2\"]`), or describe a database that already runs: \
                     `software = \"postgresql-external\"` with its address"
                        .into(),
                );
            }
        }
    } else if raw.address.is_none()
        && raw.nodes.as_ref().is_none_or(|nodes| match nodes {
            RawNodes::Table(table) => table.is_empty(),
            RawNodes::Names(names) => names.is_empty(),
        })
    {
        let span = cx.value_span(&path);
        cx.report(
            Code::EnvMissingKey,
            span,
            format!("missing key `databases.{role}.address`"),
            "an external database needs `address` (or `nodes`)",
            key_hint("address"),
        );
    }
    let commands = cx.commands(&path, raw.commands);
    let (nodes, node_names) = match raw.nodes {
        Some(RawNodes::Names(names)) if managed => {
            for (i, name) in names.iter().enumerate() {
                let item = format!("[{i}]");
                let span = cx.value_span(&["databases", role, "nodes", &item]);
                cx.check_name(name, span, &format!("databases.{role}.nodes{item}"), "node");
            }
            (BTreeMap::new(), names)
        }
        Some(RawNodes::Names(_)) => {
            let span = cx.key_span(&["databases", role, "nodes"]);
            cx.report(
                Code::EnvBadValue,
                span,
                format!("`databases.{role}.nodes` of an external database is a table"),
                "jspec needs each node's commands to fault it",
                format!(
                    "write `[databases.{role}.nodes.NAME]` with `commands = {{ kill = \"...\" }}`"
                ),
            );
            (BTreeMap::new(), Vec::new())
        }
        Some(RawNodes::Table(table)) if !managed => {
            let nodes = cx.nodes(&path, table);
            let names = nodes.keys().cloned().collect();
            (nodes, names)
        }
        _ => (BTreeMap::new(), Vec::new()),
    };
    named.then_some(DatabaseEnv {
        software: raw.software,
        address: raw.address,
        commands,
        nodes,
        node_names,
    })
}
