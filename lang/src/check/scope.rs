//! A case's scope: its servers (and their nodes), databases, users and rooms, built from the
//! declarations, with the checks that concern the declarations and metadata themselves.

use std::collections::HashMap;

use super::names::{CAPABILITIES, one_of};
use super::values;
use crate::ast::{Case, CaseEntryKind, Name, Role};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::span::{SourceId, Span};

/// What a name in a case stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Entity {
    Server,
    /// A node of a clustered server role.
    Node {
        server: String,
    },
    Database,
    DatabaseNode {
        database: String,
    },
    /// A user, and the server role they are declared on.
    User {
        server: String,
    },
    Room {
        server: String,
    },
}

impl Entity {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Entity::Server => "a server",
            Entity::Node { .. } => "a node",
            Entity::Database => "a database",
            Entity::DatabaseNode { .. } => "a database node",
            Entity::User { .. } => "a user",
            Entity::Room { .. } => "a room",
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Scope {
    entities: HashMap<String, (Entity, Span)>,
    /// Declaration order, for suggestions and stable messages.
    order: Vec<String>,
    has_servers_line: bool,
}

impl Scope {
    pub(crate) fn get(&self, name: &str) -> Option<&Entity> {
        self.entities.get(name).map(|(entity, _)| entity)
    }

    /// Names of entities that satisfy `wanted`, in declaration order.
    pub(crate) fn names_where(&self, wanted: impl Fn(&Entity) -> bool) -> Vec<&str> {
        self.order
            .iter()
            .filter(|n| self.get(n).is_some_and(&wanted))
            .map(String::as_str)
            .collect()
    }

    pub(crate) fn all_names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }

    /// The nodes of a server role.
    pub(crate) fn nodes_of(&self, server: &str) -> Vec<&str> {
        self.names_where(|e| matches!(e, Entity::Node { server: s } if s == server))
    }

    fn declare(&mut self, file: SourceId, name: &Name, entity: Entity, out: &mut Vec<Diagnostic>) {
        if let Some((previous, span)) = self.entities.get(&name.text) {
            out.push(
                Diagnostic::error(
                    Code::DuplicateDeclaration,
                    file,
                    format!("`{}` is declared twice", name.text),
                )
                .with_label(
                    name.span,
                    format!("declared again as {}", entity.describe()),
                )
                .with_label(
                    *span,
                    format!("first declared here as {}", previous.describe()),
                )
                .with_help(
                    "every server, node, database, user and room of a case needs its own name",
                ),
            );
            return;
        }
        self.entities.insert(name.text.clone(), (entity, name.span));
        self.order.push(name.text.clone());
    }
}

/// Builds the scope of a case and checks its declarations and metadata.
pub(crate) fn build(file: SourceId, case: &Case, out: &mut Vec<Diagnostic>) -> Scope {
    let mut scope = Scope::default();
    let declare_roles =
        |scope: &mut Scope, roles: &[Role], database: bool, out: &mut Vec<Diagnostic>| {
            for role in roles {
                let entity = if database {
                    Entity::Database
                } else {
                    Entity::Server
                };
                scope.declare(file, &role.name, entity, out);
                for node in &role.nodes {
                    let entity = if database {
                        Entity::DatabaseNode {
                            database: role.name.text.clone(),
                        }
                    } else {
                        Entity::Node {
                            server: role.name.text.clone(),
                        }
                    };
                    scope.declare(file, node, entity, out);
                }
            }
        };
    // Roles first: users and rooms refer to them wherever they are written.
    for entry in &case.entries {
        match &entry.kind {
            CaseEntryKind::Servers(roles) => {
                scope.has_servers_line = true;
                declare_roles(&mut scope, roles, false, out);
            }
            CaseEntryKind::Databases(roles) => declare_roles(&mut scope, roles, true, out),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    for entry in &case.entries {
        match &entry.kind {
            CaseEntryKind::User { name, server, .. } => {
                pending.push((
                    name,
                    Entity::User {
                        server: server.text.clone(),
                    },
                    server,
                    "user",
                ));
            }
            CaseEntryKind::Room { name, server } => {
                pending.push((
                    name,
                    Entity::Room {
                        server: server.text.clone(),
                    },
                    server,
                    "room",
                ));
            }
            _ => {}
        }
    }
    for (name, entity, server, what) in pending {
        check_home_server(file, &scope, name, server, what, out);
        scope.declare(file, name, entity, out);
    }
    check_metadata(file, case, out);
    scope
}

/// A user or room must live on a server role the case lists.
fn check_home_server(
    file: SourceId,
    scope: &Scope,
    name: &Name,
    server: &Name,
    what: &str,
    out: &mut Vec<Diagnostic>,
) {
    match scope.get(&server.text) {
        Some(Entity::Server) => {}
        Some(Entity::Node { server: role }) => out.push(
            Diagnostic::error(Code::UndeclaredServer, file, format!("{what} `{}` is declared on a node", name.text))
                .with_label(server.span, format!("`{}` is a node of `{role}`", server.text))
                .with_help(format!(
                    "declare the {what} on the server role and pick the node when connecting: `{what} {} on {role}` and `connect USER to {}`",
                    name.text, server.text
                )),
        ),
        Some(other) => out.push(
            Diagnostic::error(Code::UndeclaredServer, file, format!("{what} `{}` is declared on {}", name.text, other.describe()))
                .with_label(server.span, format!("`{}` is not a server", server.text))
                .with_help(format!("a {what} lives on a server named in the case's `servers` line")),
        ),
        None => {
            let servers = scope.names_where(|e| *e == Entity::Server);
            let help = match did_you_mean(&server.text, servers.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None if scope.has_servers_line => format!("add `{}` to the case's `servers` line", server.text),
                None => format!("list the case's servers first: `servers {}`", server.text),
            };
            let mut diagnostic = Diagnostic::error(
                Code::UndeclaredServer,
                file,
                format!("{what} `{}` is on server `{}`, which the case does not list", name.text, server.text),
            )
            .with_label(server.span, "not in the case's `servers` line")
            .with_help(help);
            diagnostic.suggestion = did_you_mean(&server.text, servers.iter().copied());
            out.push(diagnostic);
        }
    }
}

/// Metadata appears once, `requires` names known capabilities, a case has an id and steps.
fn check_metadata(file: SourceId, case: &Case, out: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&'static str, Span> = HashMap::new();
    let mut steps = 0;
    for entry in &case.entries {
        let keyword = entry.kind.keyword();
        match &entry.kind {
            CaseEntryKind::Priority(..)
            | CaseEntryKind::Type(_)
            | CaseEntryKind::Estimate(_)
            | CaseEntryKind::Preconditions(_) => {
                if let Some(first) = seen.insert(keyword, entry.span) {
                    out.push(
                        Diagnostic::error(
                            Code::DuplicateMetadata,
                            file,
                            format!("`{keyword}` is given twice"),
                        )
                        .with_label(entry.span, "given again here")
                        .with_label(first, "first given here")
                        .with_help(format!(
                            "a case has one `{keyword}`; remove one of the lines"
                        )),
                    );
                }
            }
            _ => {}
        }
        match &entry.kind {
            CaseEntryKind::Estimate(d) => {
                out.extend(values::duration(file, d, "estimate", values::DAY))
            }
            CaseEntryKind::Requires(capabilities) => {
                for capability in capabilities {
                    if !CAPABILITIES.contains(&capability.text.as_str()) {
                        let near = did_you_mean(&capability.text, CAPABILITIES.iter().copied());
                        let help = match &near {
                            Some(near) => format!(
                                "did you mean `{near}`? known capabilities: {}",
                                one_of(CAPABILITIES)
                            ),
                            None => format!("known capabilities: {}", one_of(CAPABILITIES)),
                        };
                        let mut diagnostic = Diagnostic::warning(
                            Code::UnknownCapability,
                            file,
                            format!("unknown capability `{}`", capability.text),
                        )
                        .with_label(capability.span, "no server advertises this")
                        .with_help(help);
                        diagnostic.suggestion = near;
                        out.push(diagnostic);
                    }
                }
            }
            CaseEntryKind::Step { .. } => steps += 1,
            _ => {}
        }
    }
    if case.id.is_none() {
        out.push(
            Diagnostic::warning(Code::MissingCaseId, file, format!("case \"{}\" has no TestRail case id", case.title.display()))
                .with_label(case.header, "no id such as C123 before the title")
                .with_help("write the TestRail id before the title, e.g. `case C1234 \"...\"`, so results reach the right case"),
        );
    }
    if steps == 0 {
        out.push(
            Diagnostic::warning(Code::NoSteps, file, format!("case \"{}\" has no steps", case.title.display()))
                .with_label(case.header, "no `step` block in this case")
                .with_help("TestRail shows one step per `step \"...\" { }` block; setup and teardown are not steps"),
        );
    }
}
