//! The file level: suite, section, use, procedure and case lines.

use super::printer::Printer;
use super::string::string;
use super::{case, stmt};
use crate::ast::{File, ItemKind, Procedure};

/// Every item on its own line(s), then the comments that end the file.
pub(crate) fn file(p: &mut Printer<'_>, file: &File) {
    for item in &file.items {
        p.line(&item.trivia, |p| item_kind(p, &item.kind));
    }
    p.dangling(&file.dangling);
}

fn item_kind(p: &mut Printer<'_>, kind: &ItemKind) {
    match kind {
        ItemKind::Suite(s) => {
            p.text("suite ");
            string(p, s);
        }
        ItemKind::Section(s) => {
            p.text("section ");
            string(p, s);
        }
        ItemKind::Use(s) => {
            p.text("use ");
            string(p, s);
        }
        ItemKind::Procedure(procedure_decl) => procedure(p, procedure_decl),
        ItemKind::Case(case_decl) => case::case(p, case_decl),
    }
}

/// `procedure join_both(room, nick) { ... }`
fn procedure(p: &mut Printer<'_>, procedure: &Procedure) {
    p.text("procedure ");
    p.text(&procedure.name.text);
    p.text("(");
    p.names(&procedure.params);
    p.text(") ");
    stmt::block(p, &procedure.body);
}
