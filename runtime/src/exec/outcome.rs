//! How a statement ends when it does not pass, and how that becomes a reported failure that
//! points at the source line.

use jspec_lang::span::{SourceId, Span};

use super::context::{CaseContext, Frame};
use crate::event::Failure;

/// A statement that did not pass.
#[derive(Debug)]
pub(crate) enum StmtError {
    /// The system under test did not behave as the case says.
    Failed(Failed),
    /// The case cannot run here (a capability or lab feature is missing).
    Blocked(String),
    /// The run was cancelled (Ctrl-C, case timeout) while the statement ran.
    Interrupted,
}

#[derive(Debug, Default)]
pub(crate) struct Failed {
    pub(crate) message: String,
    pub(crate) expected: Option<String>,
    pub(crate) closest: Option<String>,
    /// Where to report it: set by the statement that failed (see [`location`]).
    pub(crate) at: Option<(SourceId, Span, Option<String>)>,
}

pub(crate) type StmtResult = Result<(), StmtError>;

pub(crate) fn fail(message: impl Into<String>) -> StmtError {
    StmtError::Failed(Failed {
        message: message.into(),
        ..Failed::default()
    })
}

pub(crate) fn fail_expected(
    message: impl Into<String>,
    expected: String,
    closest: Option<String>,
) -> StmtError {
    StmtError::Failed(Failed {
        message: message.into(),
        expected: Some(expected),
        closest,
        at: None,
    })
}

/// The place to report: the statement itself, or the outermost call of the procedure it is in.
pub(crate) fn location(frame: &Frame, span: Span) -> (SourceId, Span, Option<String>) {
    match frame.calls.first() {
        Some((file, call, name)) => (*file, *call, Some(format!("in procedure `{name}`"))),
        None => (frame.file, span, None),
    }
}

impl CaseContext<'_> {
    /// The reported failure; `fallback` is used when no statement recorded where it failed.
    pub(crate) fn failure(&self, fallback: (SourceId, Span), failed: Failed) -> Failure {
        let (file, span, context) = failed.at.clone().unwrap_or((fallback.0, fallback.1, None));
        let source = self.program.sources.get(file);
        let (line, column) = source.line_col(span.start);
        let line_start = source.text()[..span.start as usize]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let source_line = source.text()[line_start..]
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let message = match context {
            Some(context) => format!("{} ({context})", failed.message),
            None => failed.message,
        };
        Failure {
            message,
            file: source.name().to_string(),
            line,
            column,
            source_line,
            expected: failed.expected,
            closest: failed.closest,
        }
    }
}
