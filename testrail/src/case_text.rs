//! A `case` as TestRail fields ([`CaseText`]): metadata as labels, setup and teardown as
//! preconditions, each `step` as one separated step, all statements in plain English.

use jspec_lang::ast::{Case, CaseEntryKind, Duration, ItemKind, Priority};
use jspec_lang::load::Program;
use jspec_lang::prose::{Line, LineKind, Prose};

use crate::model::{CaseText, StepText};

/// Every case of the program's root files, in file order. Each file's `suite` and the `section`
/// above a case (sections apply to the cases below them) go with the case.
pub fn program_cases(program: &Program) -> Vec<CaseText> {
    let mut out = Vec::new();
    for &file in &program.roots {
        let Some(tree) = program.module(file).ast.as_ref() else {
            continue;
        };
        let procedures = program.visible_procedures(file);
        let suite = tree.items.iter().find_map(|item| match &item.kind {
            ItemKind::Suite(name) => Some(name.display()),
            _ => None,
        });
        let mut section = Vec::new();
        for item in &tree.items {
            match &item.kind {
                ItemKind::Section(path) => section = section_path(&path.display()),
                ItemKind::Case(case) => {
                    let prose = Prose::for_case(case, &procedures);
                    let mut text = case_text(case, &prose);
                    text.suite = suite.clone();
                    text.section = section.clone();
                    out.push(text);
                }
                _ => {}
            }
        }
    }
    out
}

/// `"PKI > Server to server"` -> `["PKI", "Server to server"]`.
pub fn section_path(path: &str) -> Vec<String> {
    path.split('>')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_string)
        .collect()
}

/// One case's fields (without suite and section, which belong to its file).
pub fn case_text(case: &Case, prose: &Prose<'_>) -> CaseText {
    let mut text = CaseText {
        id: case.id.as_ref().map(|id| id.number),
        title: case.title.display(),
        ..CaseText::default()
    };
    let (mut preconditions, mut setup, mut teardown) = (None, Vec::new(), Vec::new());
    for entry in &case.entries {
        match &entry.kind {
            CaseEntryKind::Priority(priority, _) => text.priority = Some(priority_label(*priority)),
            CaseEntryKind::Type(label) => text.case_type = Some(label.display()),
            CaseEntryKind::Refs(refs) => text.refs.extend(refs.iter().map(|r| r.display())),
            CaseEntryKind::Estimate(d) => text.estimate = Some(estimate(d)),
            CaseEntryKind::Preconditions(s) => preconditions = Some(s.display()),
            CaseEntryKind::Setup(body) => setup.extend(prose.block(body)),
            CaseEntryKind::Teardown(body) => teardown.extend(prose.block(body)),
            CaseEntryKind::Step { title, body } => {
                text.steps.push(step(&title.display(), &prose.block(body)));
            }
            _ => {}
        }
    }
    text.preconditions = preconditions_text(preconditions, &setup, &teardown);
    text
}

/// The step's title and its actions as content, its expectations as the expected result.
fn step(title: &str, lines: &[Line]) -> StepText {
    let of = |kind: LineKind| -> Vec<&str> {
        lines
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| l.text.as_str())
            .collect()
    };
    let mut content = vec![title];
    content.extend(of(LineKind::Action));
    StepText {
        content: content.join("\n"),
        expected: of(LineKind::Expectation).join("\n"),
    }
}

/// The written preconditions, then "Setup:" and "Teardown:" with what they do, one item a line.
fn preconditions_text(written: Option<String>, setup: &[Line], teardown: &[Line]) -> String {
    let mut parts = Vec::new();
    if let Some(written) = written {
        parts.push(written.trim().to_string());
    }
    for (label, lines) in [("Setup", setup), ("Teardown", teardown)] {
        if lines.is_empty() {
            continue;
        }
        let items: Vec<String> = lines
            .iter()
            .map(|l| format!("- {}", l.text.replace('\n', "\n  ")))
            .collect();
        parts.push(format!("{label}:\n{}", items.join("\n")));
    }
    parts.join("\n\n")
}

/// TestRail's priority labels.
pub fn priority_label(priority: Priority) -> String {
    match priority {
        Priority::Low => "Low",
        Priority::Medium => "Medium",
        Priority::High => "High",
        Priority::Critical => "Critical",
    }
    .to_string()
}

/// TestRail's timespan: `2m`, `1m 30s`, `1h 5m`; under a second rounds up to `1s`.
pub fn estimate(d: &Duration) -> String {
    let total = (d.millis / 1000.0).ceil().max(1.0) as u64;
    let (hours, minutes, seconds) = (total / 3600, total % 3600 / 60, total % 60);
    let parts: Vec<String> = [(hours, "h"), (minutes, "m"), (seconds, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jspec_lang::span::Span;

    fn secs(s: f64) -> Duration {
        Duration {
            millis: s * 1000.0,
            span: Span { start: 0, end: 0 },
        }
    }

    #[test]
    fn estimates_are_testrail_timespans() {
        assert_eq!(estimate(&secs(120.0)), "2m");
        assert_eq!(estimate(&secs(90.0)), "1m 30s");
        assert_eq!(estimate(&secs(3900.0)), "1h 5m");
        assert_eq!(estimate(&secs(0.25)), "1s");
    }

    #[test]
    fn a_case_becomes_fields_and_steps() {
        let program = Program::from_text(
            "t.jspec",
            r#"suite "S"
section "PKI > Server to server"
case C4101 "Expired peer" {
  priority critical
  type "Security"
  refs "RFC 6125", "XEP-0178"
  estimate 90s
  preconditions "Server b's certificate has expired."
  servers a, b
  user alice on a
  user bob on b
  setup { set certificate of b to expired }
  step "Alice writes to Bob" {
    connect alice
    send "hi" from alice to bob
    expect bob receives nothing from alice within 5s
  }
  teardown { heal }
}
"#,
        );
        let cases = program_cases(&program);
        assert_eq!(cases.len(), 1);
        let case = &cases[0];
        assert_eq!(case.id, Some(4101));
        assert_eq!(case.suite.as_deref(), Some("S"));
        assert_eq!(case.section, ["PKI", "Server to server"]);
        assert_eq!(case.priority.as_deref(), Some("Critical"));
        assert_eq!(case.case_type.as_deref(), Some("Security"));
        assert_eq!(case.estimate.as_deref(), Some("1m 30s"));
        assert_eq!(case.refs, ["RFC 6125", "XEP-0178"]);
        assert_eq!(
            case.preconditions,
            "Server b's certificate has expired.\n\nSetup:\n- Give server b an expired certificate\n\nTeardown:\n- Heal every network cut and lift every impairment"
        );
        assert_eq!(
            case.steps,
            [StepText {
                content: "Alice writes to Bob\nAlice connects\nAlice sends \"hi\" to Bob".into(),
                expected: "Bob receives nothing from Alice within 5 s".into(),
            }]
        );
    }
}
