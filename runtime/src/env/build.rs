//! From the file as written to a checked [`Environment`]: the rules that involve several keys,
//! names that .jspec files must be able to use, files relative to the environment file, and
//! environment variables. Every problem is collected, not just the first.

use std::collections::BTreeMap;
use std::path::Path;

use jspec_lang::ast::ProcessAction;
use jspec_lang::diagnostic::{Code, Diagnostic};
use jspec_lang::span::{SourceId, Span};

use super::Environment;
use super::database::{DatabaseEnv, build_database};
use super::hints::key_hint;
use super::load::Variables;
use super::model::ServerEnv;
use super::node::{Commands, NodeEnv};
use super::raw::RawEnvironment;
use super::secret::Secret;
use super::spans::{SpanIndex, display_path};
use super::value::is_identifier;

/// What building needs, and the diagnostics found so far.
pub(super) struct Context<'a> {
    pub(super) file: SourceId,
    pub(super) index: &'a SpanIndex,
    /// Folder that relative paths start from.
    pub(super) base: &'a Path,
    pub(super) file_name: &'a str,
    pub(super) vars: Variables<'a>,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Context<'_> {
    pub(super) fn key_span(&self, path: &[&str]) -> Span {
        self.index.key(path).unwrap_or_default()
    }

    pub(super) fn value_span(&self, path: &[&str]) -> Span {
        self.index.value_span(path).unwrap_or_default()
    }

    pub(super) fn report(
        &mut self,
        code: Code,
        span: Span,
        message: String,
        label: &str,
        help: String,
    ) {
        self.diagnostics.push(
            Diagnostic::error(code, self.file, message)
                .with_label(span, label)
                .with_help(help),
        );
    }

    /// Checks that the last key of `path`, a role, node or user name, can be written in a
    /// .jspec file.
    pub(super) fn name(&mut self, path: &[&str], what: &str) -> bool {
        let name = path.last().copied().unwrap_or_default();
        let span = self.key_span(path);
        self.check_name(name, span, &display_path(path), what)
    }

    pub(super) fn check_name(&mut self, name: &str, span: Span, key: &str, what: &str) -> bool {
        if is_identifier(name) {
            return true;
        }
        self.report(
            Code::EnvBadValue,
            span,
            format!("`{key}`: `{name}` cannot be a {what} name"),
            "not a name a .jspec file can use",
            format!(
                "{what} names are written in .jspec files: a letter or `_`, then letters, \
                 digits, `_` or `-` (like `a`, `site-b`, `of1`)"
            ),
        );
        false
    }

    /// Reads the variable named at `path` (a `*_env` key).
    pub(super) fn variable(&mut self, path: &[&str], variable: &str) -> Option<String> {
        let span = self.value_span(path);
        let key = display_path(path);
        let well_formed = !variable.is_empty()
            && variable
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            self.report(
                Code::EnvBadValue,
                span,
                format!("`{key}` must name an environment variable"),
                "not a variable name",
                "write the variable's name, like `OF_ALICE_PASSWORD`, not its value".into(),
            );
            return None;
        }
        match (self.vars)(variable) {
            Some(value) if !value.is_empty() => Some(value),
            found => {
                let state = if found.is_some() {
                    "is empty"
                } else {
                    "is not set"
                };
                self.report(
                    Code::EnvMissingVariable,
                    span,
                    format!("environment variable `{variable}` {state} (named by `{key}`)"),
                    "named here",
                    format!(
                        "set it before running jspec, e.g. `export {variable}=...` (in CI: a \
                         secret variable)"
                    ),
                );
                None
            }
        }
    }

    pub(super) fn secret(&mut self, path: &[&str], variable: &str) -> Option<Secret> {
        self.variable(path, variable)
            .map(|value| Secret::new(variable, value))
    }

    /// Checks that no command is empty.
    pub(super) fn commands(&mut self, path: &[&str], commands: Option<Commands>) -> Commands {
        let commands = commands.unwrap_or_default();
        for action in ProcessAction::ALL {
            if commands.get(action).is_some_and(|c| c.trim().is_empty()) {
                let mut full = path.to_vec();
                full.extend(["commands", action.as_str()]);
                let span = self.value_span(&full);
                self.report(
                    Code::EnvBadValue,
                    span,
                    format!("`{}` is empty", display_path(&full)),
                    "an empty command",
                    key_hint(action.as_str()),
                );
            }
        }
        commands
    }

    /// Checks node names and node commands of an external cluster.
    pub(super) fn nodes(
        &mut self,
        path: &[&str],
        nodes: BTreeMap<String, NodeEnv>,
    ) -> BTreeMap<String, NodeEnv> {
        let mut checked = BTreeMap::new();
        for (name, mut node) in nodes {
            let mut full = path.to_vec();
            full.extend(["nodes", name.as_str()]);
            self.name(&full, "node");
            node.commands = self.commands(&full, Some(node.commands));
            checked.insert(name, node);
        }
        checked
    }
}

pub(super) fn build(
    raw: RawEnvironment,
    mut cx: Context<'_>,
) -> Result<Environment, Vec<Diagnostic>> {
    let name = raw.name.clone().unwrap_or_else(|| {
        Path::new(cx.file_name).file_stem().map_or_else(
            || "environment".into(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    let mut databases = BTreeMap::new();
    for (role, database) in raw.databases {
        if let Some(database) = build_database(&mut cx, &role, database) {
            databases.insert(role, database);
        }
    }
    let mut servers = BTreeMap::new();
    for (role, server) in raw.servers {
        if let Some(server) = super::server::build_server(&mut cx, &role, server, &databases) {
            servers.insert(role, server);
        }
    }
    unique_node_names(&mut cx, &servers, &databases);
    if !cx.diagnostics.is_empty() {
        cx.diagnostics.sort_by_key(|d| d.primary_span());
        return Err(cx.diagnostics);
    }
    Ok(Environment {
        name,
        file: None,
        defaults: raw.defaults,
        servers,
        databases,
    })
}

/// Statements name nodes directly (`kill c1`), so a node name must mean one thing: no other
/// node and no role may have it.
fn unique_node_names(
    cx: &mut Context<'_>,
    servers: &BTreeMap<String, ServerEnv>,
    databases: &BTreeMap<String, DatabaseEnv>,
) {
    let mut owners: BTreeMap<String, String> = servers
        .keys()
        .chain(databases.keys())
        .map(|role| (role.clone(), format!("the role `{role}`")))
        .collect();
    let mut nodes: Vec<(&str, &str, String, Vec<String>)> = Vec::new();
    for (role, server) in servers {
        for (i, node) in server.node_names().into_iter().enumerate() {
            let last = match server {
                ServerEnv::Managed(_) => format!("[{i}]"),
                ServerEnv::External(_) => node.to_string(),
            };
            nodes.push((
                "servers",
                role,
                node.to_string(),
                vec!["nodes".into(), last],
            ));
        }
    }
    for (role, database) in databases {
        for (i, node) in database.node_names.iter().enumerate() {
            let last = match database.is_managed() {
                true => format!("[{i}]"),
                false => node.clone(),
            };
            nodes.push(("databases", role, node.clone(), vec!["nodes".into(), last]));
        }
    }
    for (table, role, node, rest) in nodes {
        let owner = format!("a node of `{table}.{role}`");
        if let Some(previous) = owners.insert(node.clone(), owner.clone()) {
            let path = [table, role, rest[0].as_str(), rest[1].as_str()];
            let span = cx.key_span(&path);
            let message = if previous == owner {
                format!("`{table}.{role}.nodes` names `{node}` twice")
            } else {
                format!("node `{node}` of `{table}.{role}` has the name of {previous}")
            };
            cx.report(
                Code::EnvBadValue,
                span,
                message,
                "a second use of this name",
                "statements name nodes directly (`kill c1`): give every node and role its own \
                 name"
                    .into(),
            );
        }
    }
}
