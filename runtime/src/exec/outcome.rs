//! How a statement ends when it does not pass, and how that becomes a reported failure that
//! points at the source line.

use jspec_lang::span::{SourceId, Span};

use super::context::{CaseContext, Frame};
use crate::event::{Failure, FailureKind};

/// A statement that did not pass.
#[derive(Debug)]
pub(crate) enum StmtError {
    /// The system under test did not behave as the case says (boxed: results stay small).
    Failed(Box<Failed>),
    /// The case cannot run here (a capability or lab feature is missing).
    Blocked(String),
    /// The run was cancelled (Ctrl-C, case timeout) while the statement ran.
    Interrupted,
}

#[derive(Debug, Default)]
pub(crate) struct Failed {
    pub(crate) kind: FailureKind,
    pub(crate) message: String,
    pub(crate) expected: Option<String>,
    /// What was observed instead, as a value.
    pub(crate) actual: Option<String>,
    /// The received stanza closest to the expected one.
    pub(crate) closest: Option<String>,
    /// Where to report it: set by the statement that failed (see [`location`]).
    pub(crate) at: Option<(SourceId, Span, Option<String>)>,
}

pub(crate) type StmtResult = Result<(), StmtError>;

/// The server did not behave as the case says.
pub(crate) fn fail(message: impl Into<String>) -> StmtError {
    StmtError::Failed(Box::new(Failed {
        message: message.into(),
        ..Failed::default()
    }))
}

/// An expectation that did not hold, with the stanza received closest to the expected one.
pub(crate) fn fail_expected(
    message: impl Into<String>,
    expected: String,
    closest: Option<String>,
) -> StmtError {
    StmtError::Failed(Box::new(Failed {
        message: message.into(),
        expected: Some(expected),
        closest,
        ..Failed::default()
    }))
}

/// An expectation that did not hold, with the value observed instead.
pub(crate) fn fail_observed(
    message: impl Into<String>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> StmtError {
    StmtError::Failed(Box::new(Failed {
        message: message.into(),
        expected: Some(expected.into()),
        actual: Some(actual.into()),
        ..Failed::default()
    }))
}

/// jspec or the lab could not do its part: an error of the run, not a verdict on the server.
pub(crate) fn harness(message: impl Into<String>) -> StmtError {
    StmtError::Failed(Box::new(Failed {
        kind: FailureKind::Harness,
        message: message.into(),
        ..Failed::default()
    }))
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
            kind: failed.kind,
            message,
            file: source.name().to_string(),
            line,
            column,
            source_line,
            expected: failed.expected,
            actual: failed.actual,
            closest: failed.closest,
        }
    }
}
