//! Checks of the statements on replicated databases: `expect database pg primary is pg2`,
//! `expect database pg has replicas pg1`, `switch database pg to pg2`, and `kill database pg1
//! process`. The database must be one with nodes, and the nodes named must be its own.

use super::resolve::Want;
use super::scope::Entity;
use super::walk::Walker;
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

impl Walker<'_, '_> {
    /// `expect database D ...` and `switch database D to N`: D has nodes, and every node
    /// named is one of them, once.
    pub(super) fn replicated_database(&mut self, database: &Name, named: &[&Name]) {
        let Some(resolved) = self.resolve(database, Want::Database) else {
            return;
        };
        if matches!(resolved.entity, Entity::DatabaseNode { .. }) {
            let diagnostic = Diagnostic::error(
                Code::NotReplicated,
                self.file,
                format!("`{}` is a node, not a database", resolved.text),
            )
            .with_label(database.span, "a node of a database")
            .with_help(
                "name the database whose nodes these are: `expect database pg primary is pg1`",
            );
            self.report(diagnostic);
            return;
        }
        let own = |entity: &Entity| matches!(entity, Entity::DatabaseNode { database } if *database == resolved.text);
        let nodes = self.names_in_scope(own);
        if nodes.is_empty() {
            let diagnostic = Diagnostic::error(
                Code::NotReplicated,
                self.file,
                format!("`{}` is not a replicated database", resolved.text),
            )
            .with_label(database.span, "a database without nodes")
            .with_help(format!(
                "declare its nodes in the case: `databases {0} with nodes {0}1, {0}2`",
                resolved.text
            ));
            self.report(diagnostic);
            return;
        }
        self.listed_nodes(
            named,
            &nodes,
            Code::NotReplicated,
            ("database", &resolved.text),
        );
    }

    /// `... process` is for databases: a server's process is the server.
    pub(super) fn only_process(&mut self, database: bool, only_process: Option<Span>) {
        let Some(span) = only_process.filter(|_| !database) else {
            return;
        };
        let diagnostic = Diagnostic::error(
            Code::NotReplicated,
            self.file,
            "`process` applies to a database node",
        )
        .with_label(span, "a server is its process")
        .with_help(
            "write `kill database pg1 process` to kill a database node's PostgreSQL but not its \
             HA agent; for a server, `kill a` already kills its process",
        );
        self.report(diagnostic);
    }
}
