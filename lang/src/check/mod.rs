//! Semantic checks over a whole program, collecting every error before reporting: names,
//! declarations, procedures, values, raw XML, and case ids across all files.

mod call;
mod database;
mod expand;
mod names;
mod plane;
mod procedures;
mod resolve;
mod scope;
mod stmt;
mod values;
mod walk;
mod xml;

pub use names::{CAPABILITIES, FAILURE_REASONS, ROOM_FIELDS, SERVER_FIELDS, USER_FIELDS};
pub use xml::PATTERN_NS;

use std::collections::HashMap;

use crate::ast::{CaseEntryKind, ItemKind};
use crate::diagnostic::{Code, Diagnostic};
use crate::load::Program;
use crate::span::{SourceId, Span};
use expand::Budget;
use procedures::Procedures;
use walk::Walker;

pub use plane::FaultPlane;

/// Warnings for the faults of the program that `plane` can only approximate.
pub fn plane_warnings(program: &Program, plane: FaultPlane) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    plane::check_plane(program, plane, &mut out);
    out
}

/// What the checker should know beyond the source.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The plane faults will run on: faults it cannot reproduce faithfully get a warning.
    /// `None`: no such warnings (see [`plane_warnings`]).
    pub plane: Option<FaultPlane>,
}

/// The outcome of checking a program.
#[derive(Debug, Default)]
pub struct Report {
    /// Syntax and semantic findings, errors and warnings, by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Files checked (the roots, not the files they use).
    pub files: usize,
    /// Cases found in those files.
    pub cases: usize,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks every root file of the program.
pub fn check(program: &Program, options: &CheckOptions) -> Report {
    let mut out = program.diagnostics.clone();
    if let Some(plane) = options.plane {
        plane::check_plane(program, plane, &mut out);
    }
    let mut procedures = Procedures::new(program);
    let mut budget = Budget::for_program(program);
    let mut case_ids: HashMap<u64, (SourceId, Span)> = HashMap::new();
    let mut cases = 0;
    for &root in &program.roots {
        let Some(ast) = &program.module(root).ast else {
            continue;
        };
        let mut suite: Option<Span> = None;
        for item in &ast.items {
            match &item.kind {
                ItemKind::Suite(name) => {
                    if let Some(first) = suite.replace(name.span) {
                        out.push(
                            Diagnostic::error(
                                Code::DuplicateSuite,
                                root,
                                "a file names its suite once",
                            )
                            .with_label(item.span, "second `suite` line")
                            .with_label(first, "first named here")
                            .with_help("keep one `suite` line per file"),
                        );
                    }
                }
                ItemKind::Procedure(procedure) => {
                    // On its own: values and XML here, names at each call.
                    let mut walker =
                        Walker::new(program, None, &mut procedures, &mut budget, &mut out, root);
                    walker.block(&procedure.body);
                }
                ItemKind::Case(case) => {
                    cases += 1;
                    if let Some(id) = &case.id {
                        if let Some(&(first_file, first_span)) = case_ids.get(&id.number) {
                            out.push(
                                Diagnostic::error(Code::DuplicateCaseId, root, format!("case id C{} is used twice", id.number))
                                    .with_label(id.span, "used again here")
                                    .with_help("every case needs its own TestRail id; give this case a new one")
                                    .with_related(
                                        Diagnostic::error(Code::DuplicateCaseId, first_file, format!("C{} is first used here", id.number))
                                            .with_label(first_span, "first use"),
                                    ),
                            );
                        } else {
                            case_ids.insert(id.number, (root, id.span));
                        }
                    }
                    let scope = scope::build(root, case, &mut out);
                    let mut walker = Walker::new(
                        program,
                        Some(&scope),
                        &mut procedures,
                        &mut budget,
                        &mut out,
                        root,
                    );
                    for entry in &case.entries {
                        match &entry.kind {
                            CaseEntryKind::Setup(block) | CaseEntryKind::Teardown(block) => {
                                walker.block(block)
                            }
                            CaseEntryKind::Step { title, body } => {
                                walker.string(title);
                                walker.block(body);
                            }
                            _ => {}
                        }
                    }
                }
                ItemKind::Section(_) | ItemKind::Use(_) => {}
            }
        }
    }
    out.sort_by_key(|d| (d.file, d.primary_span().map_or(0, |s| s.start)));
    out.dedup();
    Report {
        diagnostics: out,
        files: program.roots.len(),
        cases,
    }
}
