//! Semantic checks over a whole program, collecting every error before reporting.

use crate::diagnostic::Diagnostic;
use crate::load::Program;

/// What the checker should know beyond the source.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {}

/// The outcome of checking a program.
#[derive(Debug, Default)]
pub struct Report {
    /// Syntax and semantic findings, errors and warnings, in file order.
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
}

/// Checks every root file of the program.
pub fn check(program: &Program, _options: &CheckOptions) -> Report {
    Report { diagnostics: program.diagnostics.clone(), files: program.roots.len(), cases: 0 }
}
