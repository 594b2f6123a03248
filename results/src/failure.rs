//! Explaining a result in words: the failure with its source line, expected and closest
//! received stanza, and the one-line comment a case gets in TestRail and in summaries.

use crate::event::{CaseRef, CaseResult, Failure, Status, StepResult};

/// `C123 Title`, or the title alone when the case has no id.
pub fn case_name(case: &CaseRef) -> String {
    match case.id {
        Some(id) => format!("C{id} {}", case.title),
        None => case.title.clone(),
    }
}

/// A step as its case reads in TestRail: the title, then its actions, one per line. Both ways
/// into TestRail (testrail-results.json and junit.xml for trcli) send this text.
pub fn step_content(step: &StepResult) -> String {
    std::iter::once(step.title.as_str())
        .chain(step.actions.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The failure that decided a failed case: the first step (setup, step or teardown) that carries
/// one.
pub fn first_failure(result: &CaseResult) -> Option<&Failure> {
    result.steps.iter().find_map(|step| step.failure.as_ref())
}

/// One short line on why a case did not pass; `None` when it passed.
pub fn case_comment(result: &CaseResult) -> Option<String> {
    let with_reason = |what: &str| match result.reason.as_deref() {
        Some(reason) if !reason.is_empty() => format!("{what}: {reason}"),
        _ => what.to_owned(),
    };
    match result.status {
        Status::Passed => None,
        Status::Failed | Status::Error => Some(match first_failure(result) {
            Some(failure) => failure.message.clone(),
            None => result.reason.clone().unwrap_or_else(|| "failed".to_owned()),
        }),
        Status::Blocked => Some(with_reason("blocked")),
        Status::Retest => Some(with_reason("interrupted")),
        Status::Skipped => Some(with_reason("not run")),
    }
}

/// The lines that explain a failure after its message:
///
/// ```text
/// --> cases/muc.jspec:14:5
///    |
/// 14 |     bob receives from ops within 5s
/// expected:
///     <message type="groupchat"/>
/// closest received:
///     (nothing)
/// ```
pub fn failure_details(failure: &Failure) -> Vec<String> {
    let gutter = " ".repeat(failure.line.to_string().len());
    let mut lines = vec![
        format!("--> {}:{}:{}", failure.file, failure.line, failure.column),
        format!("{gutter} |"),
        format!("{} | {}", failure.line, failure.source_line.trim_end()),
    ];
    if let Some(expected) = &failure.expected {
        lines.push("expected:".to_owned());
        push_block(&mut lines, expected);
    }
    if let Some(actual) = &failure.actual {
        lines.push("actual:".to_owned());
        push_block(&mut lines, actual);
        return lines;
    }
    match &failure.closest {
        Some(closest) => {
            lines.push("closest received:".to_owned());
            push_block(&mut lines, closest);
        }
        None if failure.expected.is_some() => {
            lines.push("closest received:".to_owned());
            lines.push("    (nothing)".to_owned());
        }
        None => {}
    }
    lines
}

/// The message followed by [`failure_details`], as one text.
pub fn failure_text(failure: &Failure) -> String {
    let mut text = failure.message.clone();
    for line in failure_details(failure) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

fn push_block(lines: &mut Vec<String>, block: &str) {
    let block = block.trim_matches(['\n', '\r']);
    if block.is_empty() {
        lines.push("    (empty)".to_owned());
    }
    lines.extend(block.lines().map(|line| format!("    {}", line.trim_end())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_show_location_source_expected_and_closest() {
        let failure = Failure {
            kind: crate::event::FailureKind::Expectation,
            actual: None,
            message: "bob received nothing from ops within 5s".into(),
            file: "cases/muc.jspec".into(),
            line: 14,
            column: 5,
            source_line: "    bob receives from ops within 5s".into(),
            expected: Some("<message>\n  <body>hi</body>\n</message>".into()),
            closest: None,
        };
        assert_eq!(
            failure_text(&failure),
            "bob received nothing from ops within 5s\n\
             --> cases/muc.jspec:14:5\n   |\n14 |     bob receives from ops within 5s\n\
             expected:\n    <message>\n      <body>hi</body>\n    </message>\n\
             closest received:\n    (nothing)"
        );
    }
}
