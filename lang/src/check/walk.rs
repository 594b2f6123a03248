//! The statement walker: visits a case's statements in order, expanding procedure calls in
//! place so that a procedure's body is checked with the caller's names. Errors inside a
//! procedure are reported at the call site, with the procedure's line as related information.

use std::collections::{HashMap, HashSet};

use super::names::{ROOM_FIELDS, SERVER_FIELDS, USER_FIELDS};
use super::procedures::Procedures;
use super::scope::{Entity, Scope};
use crate::ast::{Argument, Block, Interp, Name, Str, StrPart};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::load::Program;
use crate::span::{SourceId, Span};

/// Calls nested deeper than this are reported instead of expanded.
const MAX_CALL_DEPTH: usize = 32;

/// What a procedure parameter is bound to at a call.
#[derive(Clone, Debug)]
pub(crate) enum Bound {
    Name(Name),
    Str,
}

#[derive(Debug)]
struct Frame {
    procedure: String,
    call_file: SourceId,
    call_site: Span,
    params: HashMap<String, Bound>,
}

#[derive(Debug)]
pub(crate) struct Walker<'a, 'p> {
    pub(crate) program: &'p Program,
    /// `None` while checking a procedure on its own, where the caller's names are unknown.
    pub(crate) scope: Option<&'a Scope>,
    procedures: &'a mut Procedures<'p>,
    out: &'a mut Vec<Diagnostic>,
    /// The file of the statements being walked.
    pub(crate) file: SourceId,
    frames: Vec<Frame>,
    pub(crate) repeat_depth: usize,
    captures: HashSet<String>,
}

impl<'a, 'p> Walker<'a, 'p> {
    pub(crate) fn new(
        program: &'p Program,
        scope: Option<&'a Scope>,
        procedures: &'a mut Procedures<'p>,
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
            repeat_depth: 0,
            captures: HashSet::new(),
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

    /// Reports a diagnostic; inside a call it moves to the outermost call site.
    pub(crate) fn report(&mut self, diagnostic: Diagnostic) {
        let Some(outer) = self.frames.first() else {
            self.out.push(diagnostic);
            return;
        };
        let mut moved = Diagnostic {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: format!(
                "{} (in procedure `{}`)",
                diagnostic.message,
                self.frames.last().map_or("", |f| f.procedure.as_str())
            ),
            file: outer.call_file,
            labels: Vec::new(),
            help: diagnostic.help.clone(),
            related: Vec::new(),
            // The label moved to the call site, where the suggested name would not fit.
            suggestion: None,
        }
        .with_label(
            outer.call_site,
            format!("in this call of `{}`", outer.procedure),
        );
        for inner in &self.frames[1..] {
            moved = moved.with_related(
                Diagnostic {
                    severity: diagnostic.severity,
                    ..Diagnostic::error(
                        diagnostic.code,
                        inner.call_file,
                        format!("which calls `{}`", inner.procedure),
                    )
                }
                .with_label(inner.call_site, "called here"),
            );
        }
        let mut original = diagnostic;
        original.message = format!(
            "in procedure `{}`: {}",
            self.frames.last().map_or("", |f| f.procedure.as_str()),
            original.message
        );
        original.help = None;
        self.out.push(moved.with_related(original));
    }

    pub(crate) fn block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
    }

    /// Expands a procedure call: checks the name and arity, binds the arguments, and walks the
    /// body with them (only in a case; a procedure checked alone does not follow its calls).
    pub(crate) fn call(&mut self, name: &Name, args: &[Argument], call_span: Span) {
        for arg in args {
            if let Argument::Str(s) = arg {
                self.string(s);
            }
        }
        let visible = self.procedures.visible_from(self.file, self.out);
        let Some(target) = visible.get(name.text.as_str()).copied() else {
            let names: Vec<&str> = visible.keys().copied().collect();
            let help = match did_you_mean(&name.text, names.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "procedures come from this file and the files it `use`s, e.g. use \"stdlib/muc.jspec\"".to_string(),
            };
            let mut diagnostic = Diagnostic::error(
                Code::UndefinedProcedure,
                self.file,
                format!("no procedure named `{}`", name.text),
            )
            .with_label(name.span, "called here")
            .with_help(help);
            diagnostic.suggestion = did_you_mean(&name.text, names.iter().copied());
            self.report(diagnostic);
            return;
        };
        let params = &target.procedure.params;
        if params.len() != args.len() {
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            let signature: Vec<&str> = params.iter().map(|p| p.text.as_str()).collect();
            let diagnostic = Diagnostic::error(
                Code::WrongArity,
                self.file,
                format!(
                    "`{}` takes {} argument{}, {} given",
                    name.text,
                    params.len(),
                    plural(params.len()),
                    args.len()
                ),
            )
            .with_label(
                call_span,
                format!("{} argument{} given", args.len(), plural(args.len())),
            )
            .with_help(format!(
                "call it as {}({})",
                name.text,
                signature.join(", ")
            ))
            .with_related(
                Diagnostic::error(
                    Code::WrongArity,
                    target.file,
                    format!("`{}` is defined here", name.text),
                )
                .with_label(
                    target.procedure.name.span,
                    format!("{} parameter{}", params.len(), plural(params.len())),
                ),
            );
            self.report(diagnostic);
            return;
        }
        if self.scope.is_none() {
            return;
        }
        if self.frames.iter().any(|f| f.procedure == name.text)
            || self.frames.len() >= MAX_CALL_DEPTH
        {
            let diagnostic = Diagnostic::error(
                Code::RecursiveProcedure,
                self.file,
                format!("`{}` calls itself", name.text),
            )
            .with_label(name.span, "this call never ends")
            .with_help("procedures are expanded where they are called; use `repeat` for loops");
            self.report(diagnostic);
            return;
        }
        let mut bound = HashMap::new();
        for (param, arg) in params.iter().zip(args) {
            let value = match arg {
                Argument::Name(n) => match self.param(&n.text) {
                    Some(outer) => outer.clone(),
                    None => Bound::Name(n.clone()),
                },
                Argument::Str(_) => Bound::Str,
            };
            bound.insert(param.text.clone(), value);
        }
        let caller = self.file;
        self.frames.push(Frame {
            procedure: name.text.clone(),
            call_file: caller,
            call_site: call_span,
            params: bound,
        });
        self.file = target.file;
        self.block(&target.procedure.body);
        self.file = caller;
        self.frames.pop();
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
        self.captures.extend(names);
    }

    fn interpolation(&mut self, interp: &Interp) {
        let name = &interp.name.text;
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
            None => name.clone(),
        };
        let Some(scope) = self.scope else { return };
        if (name == "i" && self.repeat_depth > 0 && field.is_none()) || self.captures.contains(name)
        {
            return;
        }
        let fields = match scope.get(&entity) {
            Some(Entity::User { .. }) => USER_FIELDS,
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
