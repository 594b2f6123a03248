//! What expanding procedure calls finds, kept per distinct call: a body walked with the same
//! arguments, in the same context, finds the same problems, so the walker walks it once and gives
//! the findings again at every later such call. Without that, procedures that call the next one
//! twice took 2^24 walks for 24 levels.
//!
//! A finding is kept relative to the call whose body found it; each caller puts its own call in
//! front, and the caller in the case moves it to its call site (where the case's author looks),
//! with the calls in between and the procedure's own line as related information.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::ast::Procedure;
use crate::diagnostic::{Code, Diagnostic};
use crate::load::Program;
use crate::span::{SourceId, Span};

/// Statements the walkers of one check may walk inside procedure bodies, at least. Real suites
/// stay far below: expanding the stdlib's procedures costs a few statements a call.
const MIN_EXPANDED_STATEMENTS: usize = 200_000;

/// How many more statements the walkers of one check may walk inside procedure bodies. The
/// memo makes real programs cheap, but crafted ones (arguments permuted at every level, so that
/// no two calls are alike) could keep the checker busy for hours; the budget grows with the
/// program's size (a statement per byte of source), so checking stays linear in it.
#[derive(Debug)]
pub(crate) struct Budget {
    left: usize,
}

impl Budget {
    pub(crate) fn for_program(program: &Program) -> Budget {
        let size: usize = program
            .sources
            .ids()
            .map(|id| program.sources.get(id).text().len())
            .sum();
        Budget {
            left: size.max(MIN_EXPANDED_STATEMENTS),
        }
    }

    pub(crate) fn spend(&mut self, statements: usize) {
        self.left = self.left.saturating_sub(statements);
    }

    pub(crate) fn is_spent(&self) -> bool {
        self.left == 0
    }
}

/// One call: which procedure, written where.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'p> {
    pub(crate) procedure: &'p str,
    pub(crate) file: SourceId,
    pub(crate) site: Span,
}

/// Calls, outermost first, shared between findings: each caller only adds its call in front.
#[derive(Debug)]
struct Chain<'p> {
    call: Call<'p>,
    rest: Option<Rc<Chain<'p>>>,
}

/// A problem in a procedure's body, relative to the call whose expansion reached it.
#[derive(Clone, Debug)]
struct Finding<'p> {
    /// Which problem: reached again through another call it is kept once.
    id: usize,
    /// As found: in the procedure's file, at the statement.
    diagnostic: Rc<Diagnostic>,
    /// The procedure whose body has the problem.
    procedure: &'p str,
    /// The calls from the expanded body down to that procedure.
    chain: Option<Rc<Chain<'p>>>,
}

/// What walking the body of one call found.
#[derive(Debug, Default)]
pub(crate) struct Found<'p> {
    findings: Vec<Finding<'p>>,
    ids: HashSet<usize>,
    /// The expansions of calls in the body added so far, by address (the case's memo keeps
    /// them alive, so no two share one): a call repeated with the same arguments costs nothing.
    added: HashSet<*const Found<'p>>,
    /// Captures first named in the body (XML expectations' `{name}`); later statements of the
    /// case may interpolate them.
    pub(crate) captures: Vec<String>,
}

impl<'p> Found<'p> {
    /// A problem in the body of `procedure` itself.
    pub(crate) fn add(&mut self, id: usize, diagnostic: Diagnostic, procedure: &'p str) {
        self.ids.insert(id);
        self.findings.push(Finding {
            id,
            diagnostic: Rc::new(diagnostic),
            procedure,
            chain: None,
        });
    }

    /// What a call in the body found, each problem once however many calls lead to it.
    pub(crate) fn add_call(&mut self, call: Call<'p>, found: &Rc<Found<'p>>) {
        if !self.added.insert(Rc::as_ptr(found)) {
            return;
        }
        for finding in &found.findings {
            if self.ids.insert(finding.id) {
                self.findings.push(Finding {
                    chain: Some(Rc::new(Chain {
                        call,
                        rest: finding.chain.clone(),
                    })),
                    ..finding.clone()
                });
            }
        }
        self.captures.extend(found.captures.iter().cloned());
    }

    /// The findings of `call`, a call written in a case, as diagnostics at its call site.
    pub(crate) fn at_call_site(&self, call: Call<'p>) -> impl Iterator<Item = Diagnostic> + '_ {
        self.findings
            .iter()
            .map(move |finding| at_call_site(call, finding))
    }
}

/// The diagnostic the case's author sees: the problem, at the call in the case, with the calls
/// in between and the problem's own line as related information.
fn at_call_site(outer: Call<'_>, finding: &Finding<'_>) -> Diagnostic {
    let found = &*finding.diagnostic;
    let mut moved = Diagnostic {
        code: found.code,
        severity: found.severity,
        message: format!("{} (in procedure `{}`)", found.message, finding.procedure),
        file: outer.file,
        labels: Vec::new(),
        help: found.help.clone(),
        related: Vec::new(),
        // The label moved to the call site, where the suggested name would not fit.
        suggestion: None,
    }
    .with_label(outer.site, format!("in this call of `{}`", outer.procedure));
    let mut link = finding.chain.as_deref();
    while let Some(chain) = link {
        let inner = chain.call;
        moved = moved.with_related(
            Diagnostic {
                severity: found.severity,
                ..Diagnostic::error(
                    found.code,
                    inner.file,
                    format!("which calls `{}`", inner.procedure),
                )
            }
            .with_label(inner.site, "called here"),
        );
        link = chain.rest.as_deref();
    }
    let mut original = found.clone();
    original.message = format!("in procedure `{}`: {}", finding.procedure, found.message);
    original.help = None;
    moved.with_related(original)
}

/// What the findings of a body depend on besides the case: the procedure, what its parameters
/// stand for, whether `${i}` exists (inside a `repeat`), and the captures named so far (a set
/// that only grows during a case, so its size tells which it is).
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    file: SourceId,
    procedure: Span,
    /// The name each parameter stands for, in order; `None` for a string.
    arguments: Vec<Option<String>>,
    in_repeat: bool,
    captures: usize,
}

impl Key {
    pub(crate) fn new(
        file: SourceId,
        procedure: &Procedure,
        arguments: Vec<Option<String>>,
        in_repeat: bool,
        captures: usize,
    ) -> Key {
        Key {
            file,
            procedure: procedure.name.span,
            arguments,
            in_repeat,
            captures,
        }
    }
}

/// The expansions of one case's calls, by what their findings depend on.
pub(crate) type Expansions<'p> = HashMap<Key, Rc<Found<'p>>>;

/// The error for a call left unexpanded because the check's budget is spent.
pub(crate) fn budget_spent(file: SourceId, procedure: &str, site: Span) -> Diagnostic {
    Diagnostic::error(
        Code::ExpansionTooLarge,
        file,
        format!(
            "procedure calls expand to too many statements to check; this call of `{procedure}` and the later ones are not checked"
        ),
    )
    .with_label(site, "not expanded")
    .with_help("call procedures with fewer different arguments, or split the case")
}
