//! Cases: the header, metadata, declarations and the setup / step / teardown blocks.

use super::printer::Printer;
use super::stmt::block;
use super::string::{duration, string, strings};
use crate::ast::{Case, CaseEntry, CaseEntryKind, Role};

/// `case C1201 "Title" {`, one entry per line, `}`.
pub(crate) fn case(p: &mut Printer<'_>, case: &Case) {
    p.text("case ");
    if let Some(id) = &case.id {
        p.token(id.span, || format!("C{}", id.number));
        p.text(" ");
    }
    string(p, &case.title);
    p.text(" ");
    p.lines_block(
        case.open_comment.as_ref(),
        &case.entries,
        &case.dangling,
        entry,
    );
}

/// An entry on its own line, with its comments.
fn entry(p: &mut Printer<'_>, entry: &CaseEntry) {
    p.line(&entry.trivia, |p| entry_kind(p, &entry.kind));
}

fn entry_kind(p: &mut Printer<'_>, kind: &CaseEntryKind) {
    p.text(kind.keyword());
    p.text(" ");
    match kind {
        CaseEntryKind::Priority(priority, _) => p.text(priority.as_str()),
        CaseEntryKind::Type(s) | CaseEntryKind::Preconditions(s) => string(p, s),
        CaseEntryKind::Refs(list) => strings(p, list),
        CaseEntryKind::Tags(names) | CaseEntryKind::Requires(names) => p.names(names),
        CaseEntryKind::Estimate(d) => duration(p, d),
        CaseEntryKind::Servers(list) | CaseEntryKind::Databases(list) => roles(p, list),
        CaseEntryKind::User {
            name,
            server,
            admin,
        } => {
            p.text(&name.text);
            p.text(" on ");
            p.text(&server.text);
            if admin.is_some() {
                p.text(" as admin");
            }
        }
        CaseEntryKind::Room { name, server } => {
            p.text(&name.text);
            p.text(" on ");
            p.text(&server.text);
        }
        CaseEntryKind::Setup(body) | CaseEntryKind::Teardown(body) => block(p, body),
        CaseEntryKind::Step { title, body } => {
            string(p, title);
            p.text(" ");
            block(p, body);
        }
    }
}

/// `a, c with nodes c1, c2`
fn roles(p: &mut Printer<'_>, roles: &[Role]) {
    p.separated(roles, ", ", role);
}

fn role(p: &mut Printer<'_>, role: &Role) {
    p.text(&role.name.text);
    if !role.nodes.is_empty() {
        p.text(" with nodes ");
        p.names(&role.nodes);
    }
}
