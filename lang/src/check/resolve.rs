//! Name resolution inside a case: procedure parameters first, then the case's declarations,
//! with errors that say what the name is, what was wanted, and what is close.

use super::scope::{Entity, Scope};
use super::walk::{Bound, Walker};
use crate::ast::{Name, session_parts};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};

/// What kind of entity a position in a statement needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    User,
    Room,
    /// A message target or source: a user or a room.
    UserOrRoom,
    /// A server role or one of its nodes.
    Server,
    /// An end of a link: a user, a server or a node, a database or a database node.
    Endpoint,
    /// A certificate holder: a server, a node or a user.
    CertificateHolder,
    Database,
}

impl Want {
    fn accepts(self, entity: &Entity) -> bool {
        let server = matches!(entity, Entity::Server | Entity::Node { .. });
        let user = matches!(entity, Entity::User { .. });
        let database = matches!(entity, Entity::Database | Entity::DatabaseNode { .. });
        match self {
            Want::User => user,
            Want::Room => matches!(entity, Entity::Room { .. }),
            Want::UserOrRoom => user || matches!(entity, Entity::Room { .. }),
            Want::Server => server,
            Want::Endpoint => server || user || database,
            Want::CertificateHolder => server || user,
            Want::Database => database,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Want::User => "user",
            Want::Room => "room",
            Want::UserOrRoom => "user or room",
            Want::Server => "server",
            Want::Endpoint => "user, server or database",
            Want::CertificateHolder => "server or user",
            Want::Database => "database",
        }
    }

    fn code(self) -> Code {
        match self {
            Want::User => Code::UnknownActor,
            Want::Room => Code::UnknownRoom,
            Want::UserOrRoom => Code::UnknownTarget,
            Want::Server | Want::Endpoint | Want::CertificateHolder | Want::Database => {
                Code::UnknownServer
            }
        }
    }

    fn declaration_hint(self, name: &str) -> String {
        match self {
            Want::User | Want::UserOrRoom | Want::Endpoint | Want::CertificateHolder => {
                format!("declare it in the case: `user {name} on SERVER`")
            }
            Want::Room => format!("declare it in the case: `room {name} on SERVER`"),
            Want::Server => format!("list it in the case: `servers ..., {name}`"),
            Want::Database => format!("list it in the case: `databases {name}`"),
        }
    }
}

/// A resolved name: the text it stands for (after parameter substitution) and its entity.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) text: String,
    pub(crate) entity: Entity,
}

impl Walker<'_, '_> {
    /// The names of the case's scope that `wanted` accepts, in declaration order (none outside
    /// a case).
    pub(crate) fn names_in_scope(&self, wanted: impl Fn(&Entity) -> bool) -> Vec<String> {
        self.scope
            .map(|scope| {
                scope
                    .names_where(wanted)
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The text a name stands for: a parameter's argument, or itself.
    pub(crate) fn substitute(&mut self, name: &Name) -> Option<String> {
        match self.param(&name.text) {
            Some(Bound::Name(bound)) => Some(bound.text.clone()),
            Some(Bound::Str) => {
                let diagnostic = Diagnostic::error(
                    Code::ArgumentKind,
                    self.file,
                    format!("parameter `{}` holds a string here", name.text),
                )
                .with_label(name.span, "a name is needed here")
                .with_help(format!(
                    "pass a name without quotes for `{}`, such as `alice` or `ops`",
                    name.text
                ));
                self.report(diagnostic);
                None
            }
            None => Some(name.text.clone()),
        }
    }

    /// Resolves a name that must be of the wanted kind; reports and returns `None` otherwise.
    /// A session name (`juliet/phone`) resolves to its user where a user is wanted.
    pub(crate) fn resolve(&mut self, name: &Name, want: Want) -> Option<Resolved> {
        if let (user, Some(resource)) = session_parts(&name.text) {
            return self.resolve_session(name, user, resource, want);
        }
        let text = self.substitute(name)?;
        let scope: &Scope = self.scope?;
        match scope.get(&text) {
            Some(entity) if want.accepts(entity) => Some(Resolved {
                text,
                entity: entity.clone(),
            }),
            Some(entity) => {
                let entity = entity.describe();
                let mut diagnostic = Diagnostic::error(
                    want.code(),
                    self.file,
                    format!("`{text}` is {entity}, not a {}", want.noun()),
                )
                .with_label(name.span, format!("a {} is needed here", want.noun()));
                if want == Want::Server && entity == "a database" {
                    diagnostic = diagnostic.with_help(format!(
                        "to act on a database write `database`: e.g. `kill database {text}`"
                    ));
                } else if want == Want::Database && (entity == "a server" || entity == "a node") {
                    diagnostic = diagnostic.with_help(format!(
                        "`database` acts on databases; for a server write e.g. `kill {text}`"
                    ));
                } else {
                    let candidates = scope.names_where(|e| want.accepts(e));
                    let help = if candidates.is_empty() {
                        want.declaration_hint(&text)
                            .replace(&format!(" {text} "), " NAME ")
                    } else {
                        format!("the case's {}s: {}", want.noun(), candidates.join(", "))
                    };
                    diagnostic = diagnostic.with_help(help);
                }
                self.report(diagnostic);
                None
            }
            None => {
                let candidates = scope.names_where(|e| want.accepts(e));
                let mut diagnostic = Diagnostic::error(
                    want.code(),
                    self.file,
                    format!("unknown {} `{text}`", want.noun()),
                )
                .with_label(name.span, "not declared in this case")
                .with_help(suggestion(&text, &candidates, want));
                if let Some(near) = did_you_mean(&text, candidates.iter().copied()) {
                    diagnostic = diagnostic.with_suggestion(near);
                }
                self.report(diagnostic);
                None
            }
        }
    }
}

impl Walker<'_, '_> {
    /// `juliet/phone`: a further session of a user, where users are wanted.
    fn resolve_session(
        &mut self,
        name: &Name,
        user: &str,
        resource: &str,
        want: Want,
    ) -> Option<Resolved> {
        if !matches!(want, Want::User | Want::UserOrRoom | Want::Endpoint) {
            let diagnostic = Diagnostic::error(
                want.code(),
                self.file,
                format!(
                    "`{}` is a session of a user, not a {}",
                    name.text,
                    want.noun()
                ),
            )
            .with_label(name.span, format!("a {} is needed here", want.noun()))
            .with_help(format!("write the name alone: `{user}`"));
            self.report(diagnostic);
            return None;
        }
        let base = Name {
            text: user.to_string(),
            span: crate::span::Span {
                start: name.span.start,
                end: name.span.start + user.len() as u32,
            },
        };
        let resolved = self.resolve(&base, Want::User)?;
        Some(Resolved {
            text: format!("{}/{resource}", resolved.text),
            entity: resolved.entity,
        })
    }
}

fn suggestion(text: &str, candidates: &[&str], want: Want) -> String {
    match did_you_mean(text, candidates.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None if candidates.is_empty() => want.declaration_hint(text),
        None => format!(
            "the case has: {}; or {}",
            candidates.join(", "),
            want.declaration_hint(text)
        ),
    }
}
