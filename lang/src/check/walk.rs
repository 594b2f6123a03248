//! The statement walker: visits a case's statements in order, expanding procedure calls in
//! place (call.rs) so that a procedure's body is checked with the caller's names. Errors inside
//! a procedure are reported at the call site, with the procedure's line as related information.

use std::collections::{HashMap, HashSet};

use super::expand::{Budget, Call, Expansions, Found};
use super::names::{ROOM_FIELDS, SERVER_FIELDS, USER_FIELDS};
use super::procedures::Procedures;
use super::scope::{Entity, Scope};
use crate::ast::{Block, Interp, Name, Str, StrPart, session_parts};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::load::Program;
use crate::span::SourceId;

/// What a procedure parameter is bound to at a call.
#[derive(Clone, Debug)]
pub(crate) enum Bound {
    Name(Name),
    Str,
}

/// A call being expanded.
#[derive(Debug)]
pub(super) struct Frame<'p> {
    pub(super) call: Call<'p>,
    pub(super) params: HashMap<String, Bound>,
    /// What its body found so far.
    pub(super) found: Found<'p>,
}

#[derive(Debug)]
pub(crate) struct Walker<'a, 'p> {
    pub(crate) program: &'p Program,
    /// `None` while checking a procedure on its own, where the caller's names are unknown.
    pub(crate) scope: Option<&'a Scope>,
    pub(super) procedures: &'a mut Procedures<'p>,
    pub(super) out: &'a mut Vec<Diagnostic>,
    /// The file of the statements being walked.
    pub(crate) file: SourceId,
    /// The calls being expanded, outermost first.
    pub(super) frames: Vec<Frame<'p>>,
    /// Blocks being walked, through calls too (the walker's recursion).
    pub(super) nesting: usize,
    pub(crate) repeat_depth: usize,
    pub(super) captures: HashSet<String>,
    /// The calls of this case expanded so far, by what their findings depend on.
    pub(super) expansions: Expansions<'p>,
    /// The id of the next finding made in a procedure body.
    findings: usize,
    pub(super) budget: &'a mut Budget,
    /// Whether this case was told that the budget is spent.
    pub(super) budget_reported: bool,
}

impl<'a, 'p> Walker<'a, 'p> {
    pub(crate) fn new(
        program: &'p Program,
        scope: Option<&'a Scope>,
        procedures: &'a mut Procedures<'p>,
        budget: &'a mut Budget,
        out: &'a mut Vec<Diagnostic>,
        file: SourceId,
    ) -> Self {
        Walker {
            program,
            scope,
            procedures,
            out,
            file,
            frames: Vec::new(),
            nesting: 0,
            repeat_depth: 0,
            captures: HashSet::new(),
            expansions: HashMap::new(),
            findings: 0,
            budget,
            budget_reported: false,
        }
    }

    pub(crate) fn src(&self) -> &'p str {
        self.program.sources.get(self.file).text()
    }

    /// Whether checks that do not depend on the caller should run: they run where the
    /// statement is written (a case, or a procedure checked on its own), not at every call.
    pub(crate) fn context_free(&self) -> bool {
        self.frames.is_empty()
    }

    pub(crate) fn param(&self, name: &str) -> Option<&Bound> {
        self.frames.last().and_then(|frame| frame.params.get(name))
    }

    /// Reports a diagnostic; inside a call it is a finding of the call being expanded, moved to
    /// the call site in the case when the outermost call's expansion ends.
    pub(crate) fn report(&mut self, diagnostic: Diagnostic) {
        let Some(frame) = self.frames.last_mut() else {
            self.out.push(diagnostic);
            return;
        };
        frame
            .found
            .add(self.findings, diagnostic, frame.call.procedure);
        self.findings += 1;
    }

    pub(crate) fn block(&mut self, block: &Block) {
        if !self.frames.is_empty() {
            self.budget.spend(block.stmts.len());
        }
        self.nesting += 1;
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        self.nesting -= 1;
    }

    /// Checks the interpolations of a string.
    pub(crate) fn string(&mut self, string: &Str) {
        for part in &string.parts {
            if let StrPart::Interp(interp) = part {
                self.interpolation(interp);
            }
        }
    }

    pub(crate) fn add_captures(&mut self, names: Vec<String>) {
        for name in names {
            if self.captures.contains(&name) {
                continue;
            }
            // A procedure's expansion remembers what it captured, to capture it at every call.
            if let Some(frame) = self.frames.last_mut() {
                frame.found.captures.push(name.clone());
            }
            self.captures.insert(name);
        }
    }

    fn interpolation(&mut self, interp: &Interp) {
        let (name, resource) = session_parts(&interp.name.text);
        let field = interp.field.as_ref();
        let entity = match self.param(name) {
            Some(Bound::Str) => {
                if let Some(field) = field {
                    let diagnostic = Diagnostic::error(
                        Code::UnknownInterpolation,
                        self.file,
                        format!("`{name}` is a string; it has no field `{}`", field.text),
                    )
                    .with_label(field.span, "no such field")
                    .with_help(format!("write `${{{name}}}`"));
                    self.report(diagnostic);
                }
                return;
            }
            Some(Bound::Name(bound)) => bound.text.clone(),
            None => name.to_string(),
        };
        let Some(scope) = self.scope else { return };
        if (name == "i" && self.repeat_depth > 0 && field.is_none()) || self.captures.contains(name)
        {
            return;
        }
        // `${case.tag}`: what makes the case's names unique in a run.
        if name == "case" && field.is_some_and(|f| f.text == "tag") && scope.get("case").is_none() {
            return;
        }
        let fields = match scope.get(&entity) {
            Some(Entity::User { .. }) => USER_FIELDS,
            Some(_) if resource.is_some() => {
                let diagnostic = Diagnostic::error(
                    Code::UnknownInterpolation,
                    self.file,
                    format!("`{}` is not a user: it has no sessions", entity),
                )
                .with_label(
                    interp.name.span,
                    "only users have sessions (`${juliet/phone.full}`)",
                )
                .with_help(match field {
                    Some(field) => format!("write `${{{name}.{}}}`", field.text),
                    None => format!("write `${{{name}}}`"),
                });
                self.report(diagnostic);
                return;
            }
            Some(Entity::Room { .. }) => ROOM_FIELDS,
            Some(Entity::Server | Entity::Node { .. }) => SERVER_FIELDS,
            Some(Entity::Database | Entity::DatabaseNode { .. }) | None => {
                let mut candidates: Vec<&str> = scope.all_names().collect();
                if self.repeat_depth > 0 {
                    candidates.push("i");
                }
                let help = if name == "i" {
                    "`${i}` counts the rounds of a `repeat` block and exists only inside one"
                        .to_string()
                } else {
                    match did_you_mean(&entity, candidates.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => "interpolate a user, room or server of the case (`${alice.jid}`, `${ops.jid}`, `${a.domain}`), a procedure parameter, a capture or `${i}` in a repeat".to_string(),
                    }
                };
                let diagnostic = Diagnostic::error(
                    Code::UnknownInterpolation,
                    self.file,
                    format!("`${{{name}}}` names nothing in scope"),
                )
                .with_label(interp.name.span, "unknown name")
                .with_help(help);
                self.report(diagnostic);
                return;
            }
        };
        if let Some(field) = field
            && !fields.contains(&field.text.as_str())
        {
            let help = match did_you_mean(&field.text, fields.iter().copied()) {
                Some(near) => format!("did you mean `{near}`? fields: {}", fields.join(", ")),
                None => format!("fields: {}", fields.join(", ")),
            };
            let diagnostic = Diagnostic::error(
                Code::UnknownInterpolation,
                self.file,
                format!("`{entity}` has no field `{}`", field.text),
            )
            .with_label(field.span, "unknown field")
            .with_help(help);
            self.report(diagnostic);
        }
    }
}
