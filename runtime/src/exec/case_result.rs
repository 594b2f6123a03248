//! The values a case produces: its status from its blocks, the result of a case that did not
//! run (blocked, an error, not started), its TestRail reference, and the plain-English lines of
//! a block.

use std::time::Duration;

use jspec_lang::ast::{Block, Case, CaseEntryKind};
use jspec_lang::load::Program;
use jspec_lang::prose::{LineKind, Prose};

use crate::event::{BlockKind, CaseRef, CaseResult, Status, StepResult};
use crate::plan::PlannedCase;

/// The case's status from its blocks: an error beats failed beats blocked beats retest beats
/// passed (a harness error means the verdicts of the case cannot be trusted).
pub(super) fn case_status(steps: &[StepResult]) -> Status {
    let has = |status| steps.iter().any(|s| s.status == status);
    if has(Status::Error) {
        Status::Error
    } else if has(Status::Failed) {
        Status::Failed
    } else if has(Status::Blocked) {
        Status::Blocked
    } else if has(Status::Retest) {
        Status::Retest
    } else {
        Status::Passed
    }
}

pub(super) fn blocked(case: &Case, case_ref: CaseRef, reason: String) -> CaseResult {
    not_run(case, case_ref, Status::Blocked, reason)
}

/// A case the harness could not start (an error, exit 3).
pub(super) fn errored(case: &Case, case_ref: CaseRef, reason: String) -> CaseResult {
    not_run(case, case_ref, Status::Error, reason)
}

/// A case whose steps did not run, each with `status` and `reason`.
pub(crate) fn not_run(
    case: &Case,
    case_ref: CaseRef,
    status: Status,
    reason: String,
) -> CaseResult {
    let steps = case
        .entries
        .iter()
        .filter_map(|entry| match &entry.kind {
            CaseEntryKind::Step { title, .. } => Some(StepResult {
                kind: BlockKind::Step,
                title: title.display(),
                status,
                elapsed: Duration::ZERO,
                actions: Vec::new(),
                expected: Vec::new(),
                actual: reason.clone(),
                failure: None,
            }),
            _ => None,
        })
        .collect();
    CaseResult {
        case: case_ref,
        status,
        elapsed: Duration::ZERO,
        steps,
        reason: Some(reason),
    }
}

/// A block's actions and expectations in plain English (the same words as the TestRail case),
/// with procedure calls expanded.
pub(super) fn block_lines(
    program: &Program,
    file: jspec_lang::span::SourceId,
    case: &Case,
    block: &Block,
) -> (Vec<String>, Vec<String>) {
    let procedures = program.visible_procedures(file);
    let (expectations, actions): (Vec<_>, Vec<_>) = Prose::for_case(case, &procedures)
        .block(block)
        .into_iter()
        .partition(|line| line.kind == LineKind::Expectation);
    let text = |lines: Vec<jspec_lang::prose::Line>| lines.into_iter().map(|l| l.text).collect();
    (text(actions), text(expectations))
}

pub(crate) fn case_ref(program: &Program, planned: &PlannedCase<'_>) -> CaseRef {
    let source = program.sources.get(planned.file);
    let case = planned.case;
    let tags = case
        .entries
        .iter()
        .flat_map(|e| match &e.kind {
            CaseEntryKind::Tags(tags) => tags.iter().map(|t| t.text.clone()).collect(),
            _ => Vec::new(),
        })
        .collect();
    CaseRef {
        id: case.id.as_ref().map(|id| id.number),
        title: case.title.display(),
        file: source.name().to_string(),
        line: source.line_col(case.header.start).0,
        section: planned.section.clone(),
        suite: planned.suite.clone(),
        tags,
    }
}

/// The file name (without `.log`) of an actor's transcript: a session name's `/` would be a
/// folder, so `juliet/phone` writes `juliet@phone.log`.
pub(crate) fn transcript_stem(actor: &str) -> String {
    actor.replace('/', "@")
}

pub(crate) fn transcript_folder(case: &CaseRef) -> String {
    let label = case.label();
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
