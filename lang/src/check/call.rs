//! Procedure calls in the walker: the callee must exist and take the arguments given; in a case
//! its body is then walked with the parameters bound to the caller's names, once per distinct
//! binding: later such calls give again what the first walk found (expand.rs).

use std::collections::HashMap;
use std::rc::Rc;

use super::expand::{self, Call, Found, Key};
use super::procedures::ProcRef;
use super::walk::{Bound, Frame, Walker};
use crate::ast::{Argument, Name};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::span::{SourceId, Span};

/// Calls nested deeper than this are reported instead of expanded: far deeper than any real
/// chain of procedures.
pub(crate) const MAX_CALL_DEPTH: usize = 256;

/// Blocks nested deeper than this through calls (a file nests at most 64) are reported instead
/// of expanded: the walker recurses once per block and per call, and with both limits its
/// deepest walk takes less than 4 MiB of stack even in a debug build (a main thread has 8).
pub(crate) const MAX_EXPANDED_NESTING: usize = 1024;

impl<'p> Walker<'_, 'p> {
    /// A procedure call: checks the name and arity, then (only in a case; a procedure checked
    /// alone does not follow its calls) expands the body with the arguments bound.
    pub(crate) fn call(&mut self, name: &Name, args: &[Argument], call_span: Span) {
        for arg in args {
            if let Argument::Str(s) = arg {
                self.string(s);
            }
        }
        let Some(target) = self.callee(name, args.len(), call_span) else {
            return;
        };
        if self.scope.is_none() {
            return;
        }
        let call = Call {
            procedure: target.procedure.name.text.as_str(),
            file: self.file,
            site: call_span,
        };
        if let Some(refused) = self.refuse(call.procedure, name) {
            self.report(refused);
            return;
        }
        let bound = self.bind(args);
        let arguments = bound.iter().map(Bound::name).collect();
        let in_repeat = self.repeat_depth > 0;
        let key = Key::new(
            target.file,
            target.procedure,
            arguments,
            in_repeat,
            self.captures.len(),
        );
        let found = match self.expansions.get(&key) {
            Some(found) => Rc::clone(found),
            None if self.budget.is_spent() => {
                if !self.budget_reported {
                    self.budget_reported = true;
                    let spent = expand::budget_spent(self.file, call.procedure, name.span);
                    self.report(spent);
                }
                return;
            }
            // Kept even when recursion (reported) cut the walk short: the program is wrong
            // either way, and walking again per call stack would bring the exponential back.
            None => {
                let params = target.procedure.params.iter().map(|p| p.text.clone());
                let found = Rc::new(self.expand(call, target, params.zip(bound).collect()));
                self.expansions.insert(key, Rc::clone(&found));
                found
            }
        };
        self.deliver(call, &found);
    }

    /// The procedure a call names, if it exists and takes `given` arguments (else reported).
    fn callee(&mut self, name: &Name, given: usize, call_span: Span) -> Option<ProcRef<'p>> {
        let visible = self.procedures.visible_from(self.file, self.out);
        let Some(target) = visible.get(name.text.as_str()).copied() else {
            let names: Vec<&str> = visible.keys().copied().collect();
            let diagnostic = undefined_procedure(self.file, name, &names);
            self.report(diagnostic);
            return None;
        };
        if target.procedure.params.len() != given {
            let diagnostic = wrong_arity(self.file, name, given, call_span, target);
            self.report(diagnostic);
            return None;
        }
        Some(target)
    }

    /// Why a call must not be expanded: it would never end, or nest too deep.
    fn refuse(&self, procedure: &str, name: &Name) -> Option<Diagnostic> {
        if self.frames.iter().any(|f| f.call.procedure == procedure) {
            return Some(recursion(self.file, name));
        }
        if self.frames.len() >= MAX_CALL_DEPTH {
            let message = format!("procedure calls are nested more than {MAX_CALL_DEPTH} deep");
            return Some(too_deep(self.file, name, message));
        }
        if self.nesting >= MAX_EXPANDED_NESTING {
            let message = format!(
                "blocks are nested more than {MAX_EXPANDED_NESTING} deep through procedure calls"
            );
            return Some(too_deep(self.file, name, message));
        }
        None
    }

    /// What each parameter stands for: a caller's parameter passes on what it stands for.
    fn bind(&self, args: &[Argument]) -> Vec<Bound> {
        args.iter()
            .map(|arg| match arg {
                Argument::Name(n) => match self.param(&n.text) {
                    Some(outer) => outer.clone(),
                    None => Bound::Name(n.clone()),
                },
                Argument::Str(_) => Bound::Str,
            })
            .collect()
    }

    /// Walks the body of a call with its parameters bound; what it found.
    fn expand(
        &mut self,
        call: Call<'p>,
        target: ProcRef<'p>,
        params: HashMap<String, Bound>,
    ) -> Found<'p> {
        let caller = self.file;
        self.frames.push(Frame {
            call,
            params,
            found: Found::default(),
        });
        self.file = target.file;
        self.block(&target.procedure.body);
        self.file = caller;
        self.frames
            .pop()
            .map(|frame| frame.found)
            .unwrap_or_default()
    }

    /// Hands what a call found to the call being expanded around it or, for a call written in
    /// the case, reports it at the call site.
    fn deliver(&mut self, call: Call<'p>, found: &Rc<Found<'p>>) {
        // Again, when the expansion was already known: later statements may use them.
        self.captures.extend(found.captures.iter().cloned());
        match self.frames.last_mut() {
            Some(caller) => caller.found.add_call(call, found),
            None => self.out.extend(found.at_call_site(call)),
        }
    }
}

impl Bound {
    /// The name a parameter stands for; `None` for a string.
    fn name(&self) -> Option<String> {
        match self {
            Bound::Name(name) => Some(name.text.clone()),
            Bound::Str => None,
        }
    }
}

fn undefined_procedure(file: SourceId, name: &Name, visible: &[&str]) -> Diagnostic {
    let near = did_you_mean(&name.text, visible.iter().copied());
    let help = match &near {
        Some(near) => format!("did you mean `{near}`?"),
        None => {
            "procedures come from this file and the files it `use`s, e.g. use \"stdlib/muc.jspec\""
                .to_string()
        }
    };
    let mut diagnostic = Diagnostic::error(
        Code::UndefinedProcedure,
        file,
        format!("no procedure named `{}`", name.text),
    )
    .with_label(name.span, "called here")
    .with_help(help);
    diagnostic.suggestion = near;
    diagnostic
}

fn wrong_arity(
    file: SourceId,
    name: &Name,
    given: usize,
    call_span: Span,
    target: ProcRef<'_>,
) -> Diagnostic {
    let params = &target.procedure.params;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let signature: Vec<&str> = params.iter().map(|p| p.text.as_str()).collect();
    Diagnostic::error(
        Code::WrongArity,
        file,
        format!(
            "`{}` takes {} argument{}, {} given",
            name.text,
            params.len(),
            plural(params.len()),
            given
        ),
    )
    .with_label(
        call_span,
        format!("{given} argument{} given", plural(given)),
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
    )
}

fn recursion(file: SourceId, name: &Name) -> Diagnostic {
    Diagnostic::error(
        Code::RecursiveProcedure,
        file,
        format!("`{}` calls itself", name.text),
    )
    .with_label(name.span, "this call never ends")
    .with_help("procedures are expanded where they are called; use `repeat` for loops")
}

fn too_deep(file: SourceId, name: &Name, message: String) -> Diagnostic {
    Diagnostic::error(Code::TooDeep, file, message)
        .with_label(name.span, "one call too deep")
        .with_help("shorten the chain of procedures calling procedures, or nest fewer blocks")
}
