//! `junit.xml` in the shape TestRail's CLI accepts (`trcli parse_junit`): one `<testsuite>` per
//! section path (trcli maps a testsuite to a section), one `<testcase name="[C123] Title">` per
//! case, with the `test_id` property for `--case-matcher property` and one
//! `testrail_result_step` per TestRail step (its title and actions, as `testrail-results.json`
//! has them).
//!
//! Statuses: trcli maps a passing testcase to Passed (1), `<failure>` to Failed (5) and
//! `<skipped>` to Retest (4). JUnit has no "blocked", and trcli raises on a "blocked" step
//! status, so a blocked case is written as `<skipped message="blocked: reason"/>` with skipped
//! steps and reaches TestRail as Retest; TestRail's Blocked (2) only comes through our own
//! `testrail-results.json`. An interrupted case is `<skipped message="interrupted"/>` (Retest).
//!
//! The document is built with [quick-junit] (nextest's JUnit model and writer). Two things it
//! cannot do by itself are done here, both for trcli's XML parser:
//!
//! - Characters XML 1.0 cannot carry, even escaped (most C0 controls, U+FFFE, U+FFFF), become
//!   U+FFFD before quick-junit sees the text. Its `XmlString` drops C0 controls (an ESC with
//!   the terminal escape sequence behind it) but lets U+FFFE/U+FFFF through into a file no
//!   parser accepts; it also drops tabs, carriage returns and C1 controls, so a tab is turned
//!   into a space first to keep the words apart.
//! - quick-xml leaves a line break inside an attribute value as it is, and the parser turns it
//!   into a space (attribute value normalization), so a multi-line comment or failure message
//!   would reach TestRail on one line. The finished document is scanned once and each line
//!   break inside an attribute value is written `&#10;` (see [`attribute_line_breaks`]).
//!
//! [quick-junit]: https://docs.rs/quick-junit/0.8

use std::io;
use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite, XmlString};

use crate::event::{BlockKind, CaseResult, FailureKind, Reporter, RunEvent, Status};
use jspec_results::write_atomic;
use jspec_results::{case_comment, failure_text, first_failure, step_content};

/// The file name in the run folder.
pub const JUNIT_FILE: &str = "junit.xml";

/// Collects finished cases and writes `junit.xml` atomically when the run finishes.
#[derive(Debug)]
pub struct JunitReporter {
    path: PathBuf,
    version: Option<String>,
    results: Vec<CaseResult>,
    /// Results not written yet.
    dirty: bool,
}

impl JunitReporter {
    /// Writes `<run_dir>/junit.xml`.
    pub fn new(run_dir: &Path) -> Self {
        Self::at(run_dir.join(JUNIT_FILE))
    }

    /// Writes the given file.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            version: None,
            results: Vec::new(),
            dirty: false,
        }
    }
}

impl Reporter for JunitReporter {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        match event {
            RunEvent::RunStarted(start) => {
                self.version = Some(start.jspec_version.clone());
            }
            // Rewritten after every burst of results (see `flush`), so a run that dies keeps
            // what it finished.
            RunEvent::CaseFinished { result } => {
                self.results.push(result.clone());
                self.dirty = true;
            }
            RunEvent::RunFinished { .. } => {
                self.dirty = false;
                write_junit(&self.results, &self.path, self.version.as_deref())?;
            }
            _ => {}
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.dirty) {
            write_junit(&self.results, &self.path, self.version.as_deref())?;
        }
        Ok(())
    }
}

/// Writes `results` as JUnit XML to `path`, atomically (temporary file + rename). `version`, when
/// given, becomes the result field `version:<jspec version>`.
pub fn write_junit(results: &[CaseResult], path: &Path, version: Option<&str>) -> io::Result<()> {
    write_atomic(path, render_junit(results, version)?.as_bytes())
}

/// The JUnit XML document for `results`.
pub fn render_junit(results: &[CaseResult], version: Option<&str>) -> io::Result<String> {
    let mut groups: Vec<(Vec<&str>, Vec<&CaseResult>)> = Vec::new();
    for result in results {
        let levels = section_levels(result.case.section.as_deref());
        match groups.iter_mut().find(|(key, _)| *key == levels) {
            Some((_, members)) => members.push(result),
            None => groups.push((levels, vec![result])),
        }
    }

    // `add_test_suite` and `add_test_case` keep the tests/failures/errors/skipped counts.
    let mut report = Report::new("jspec");
    report.set_time(results.iter().map(|r| r.elapsed).sum());
    for (levels, members) in &groups {
        let name = if levels.is_empty() {
            "jspec".to_owned()
        } else {
            levels.join(" > ")
        };
        let mut suite = TestSuite::new(xml(&name));
        suite.set_time(members.iter().map(|r| r.elapsed).sum());
        suite.add_test_cases(members.iter().map(|r| test_case(r, levels, version)));
        report.add_test_suite(suite);
    }
    let rendered = report.to_string().map_err(io::Error::other)?;
    Ok(attribute_line_breaks(&rendered))
}

fn test_case(result: &CaseResult, levels: &[&str], version: Option<&str>) -> TestCase {
    let case = &result.case;
    let name = match case.id {
        Some(id) => format!("[C{id}] {}", case.title),
        None => case.title.clone(),
    };
    let prefix = case.suite.clone().unwrap_or_else(|| {
        Path::new(&case.file)
            .file_stem()
            .map_or_else(|| "jspec".to_owned(), |s| s.to_string_lossy().into_owned())
    });
    let classname = std::iter::once(prefix.as_str())
        .chain(levels.iter().copied())
        .collect::<Vec<_>>()
        .join(".");

    let comment = case_comment(result);
    let mut test_case = TestCase::new(xml(&name), status(result, comment.as_deref()));
    test_case.set_classname(xml(&classname));
    test_case.set_time(result.elapsed);

    let property = |name: &str, value: &str| (XmlString::new(name), xml(value));
    if let Some(id) = case.id {
        test_case.add_property(property("test_id", &format!("C{id}")));
    }
    for step in result.steps.iter().filter(|s| s.kind == BlockKind::Step) {
        // trcli accepts passed|failed|skipped|untested and raises on "blocked".
        let status = match step.status {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Blocked | Status::Retest | Status::Skipped => "skipped",
            Status::Error => "untested",
        };
        let value = format!("{status}:{}", step_content(step));
        test_case.add_property(property("testrail_result_step", &value));
    }
    if let Some(comment) = &comment {
        test_case.add_property(property("testrail_result_comment", comment));
    }
    if let Some(version) = version {
        let value = format!("version:{version}");
        test_case.add_property(property("testrail_result_field", &value));
    }
    test_case
}

/// `<failure>` (Failed), `<error>` (harness error) or `<skipped>` (blocked, interrupted, not run),
/// each with its message; nothing for a passed case.
fn status(result: &CaseResult, comment: Option<&str>) -> TestCaseStatus {
    let comment = comment.unwrap_or_default();
    match result.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Failed | Status::Error => {
            let text = result
                .steps
                .iter()
                .filter_map(|step| step.failure.as_ref())
                .map(failure_text)
                .collect::<Vec<_>>()
                .join("\n\n");
            let first = first_failure(result);
            let message = first.map_or(comment, |f| &f.message);
            let kind = match (first, result.status) {
                (Some(failure), _) => failure.kind,
                (None, Status::Error) => FailureKind::Harness,
                (None, _) => FailureKind::Expectation,
            };
            let mut status = TestCaseStatus::non_success(match result.status {
                Status::Error => NonSuccessKind::Error,
                _ => NonSuccessKind::Failure,
            });
            status
                .set_type(kind.as_str())
                .set_message(xml(message))
                .set_description(xml(if text.is_empty() { comment } else { &text }));
            status
        }
        Status::Blocked | Status::Retest | Status::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(xml(comment));
            status
        }
    }
}

/// A section path split into its levels: "PKI > Server to server" -> ["PKI", "Server to server"].
fn section_levels(section: Option<&str>) -> Vec<&str> {
    section
        .map(|s| {
            s.split('>')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Text for quick-junit. XML 1.0 cannot carry most control characters, even escaped: they become
/// U+FFFD here, because `XmlString` would let U+FFFE and U+FFFF through and silently drop the
/// C0 controls. It also drops tabs, so a tab becomes a space.
fn xml(text: &str) -> XmlString {
    let text: String = text
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            _ => c,
        })
        .collect();
    XmlString::new(text)
}

/// `xml` with each line break inside an attribute value written `&#10;`, so that it survives
/// attribute value normalization. quick-xml escapes `<` everywhere and `"` inside attribute
/// values, so a `<` starts a tag and a `"` inside a tag opens or closes a value.
fn attribute_line_breaks(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let (mut in_tag, mut in_value) = (false, false);
    for c in xml.chars() {
        match c {
            '<' => in_tag = true,
            '>' if !in_value => in_tag = false,
            '"' if in_tag => in_value = !in_value,
            '\n' if in_value => {
                out.push_str("&#10;");
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::event::{CaseRef, Failure, StepResult};
    use quick_xml::Reader;
    use quick_xml::events::Event;

    fn result(status: Status, reason: Option<&str>, failure: Option<Failure>) -> CaseResult {
        CaseResult {
            case: CaseRef {
                id: Some(7),
                title: "Tab\there, bell\u{7}, \u{1b}[31mred, \u{fffe}\u{ffff}".into(),
                file: "cases/x.jspec".into(),
                line: 1,
                section: Some("A > B".into()),
                suite: None,
                tags: vec![],
            },
            status,
            elapsed: Duration::from_millis(1_500),
            steps: vec![StepResult {
                kind: BlockKind::Step,
                title: "Step".into(),
                status,
                elapsed: Duration::from_millis(1_500),
                actions: vec![],
                expected: vec![],
                actual: String::new(),
                failure,
            }],
            reason: reason.map(Into::into),
        }
    }

    /// Every start and empty tag, raw (attributes still escaped), checking well-formedness.
    fn tags(xml: &str) -> Vec<String> {
        let mut reader = Reader::from_str(xml);
        let mut tags = Vec::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => {
                    tags.push(String::from_utf8(e.to_vec()).unwrap());
                }
                Event::Eof => break,
                _ => {}
            }
        }
        tags
    }

    #[test]
    fn harness_error_keeps_line_breaks_in_attributes() {
        let xml = render_junit(
            &[result(Status::Error, Some("lab down\nat boot"), None)],
            None,
        )
        .unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
        assert!(xml.ends_with("</testsuites>\n"), "{xml}");
        let tags = tags(&xml);
        assert!(tags.iter().all(|t| !t.contains('\n')), "{tags:#?}");
        assert!(tags[0].contains(r#"tests="1""#) && tags[0].contains(r#"errors="1""#));
        assert!(
            tags[1].starts_with(r#"testsuite name="A &gt; B""#),
            "{}",
            tags[1]
        );
        assert!(tags[1].contains(r#"time="1.500""#));
        assert!(
            xml.contains(
                r#"<property name="testrail_result_comment" value="lab down&#10;at boot"/>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<error message="lab down&#10;at boot" type="harness">lab down"#),
            "{xml}"
        );
        assert!(
            xml.contains("lab down\nat boot</error>"),
            "text keeps the line break: {xml}"
        );
        assert!(xml.contains(r#"value="untested:Step""#));
    }

    #[test]
    fn characters_xml_cannot_carry_become_replacement_characters() {
        let failure = Failure {
            kind: FailureKind::Expectation,
            message: "got \u{0}".into(),
            file: "cases/x.jspec".into(),
            line: 3,
            column: 1,
            source_line: "expect".into(),
            expected: None,
            actual: None,
            closest: None,
        };
        let xml = render_junit(&[result(Status::Failed, None, Some(failure))], None).unwrap();
        tags(&xml);
        let name = "[C7] Tab here, bell\u{fffd}, \u{fffd}[31mred, \u{fffd}\u{fffd}";
        assert!(xml.contains(&format!("name=\"{name}\"")), "{xml}");
        assert!(
            xml.contains("<failure message=\"got \u{fffd}\" type=\"expectation\">got \u{fffd}")
        );
        assert!(!xml.chars().any(|c| c.is_control() && c != '\n'), "{xml:?}");
    }

    #[test]
    fn blocked_interrupted_and_not_run_are_skipped() {
        let results = [
            result(Status::Blocked, Some("needs s2s"), None),
            result(Status::Retest, None, None),
            result(Status::Skipped, None, None),
        ];
        let xml = render_junit(&results, Some("1.2")).unwrap();
        for message in ["blocked: needs s2s", "interrupted", "not run"] {
            assert!(
                xml.contains(&format!("<skipped message=\"{message}\"/>")),
                "{xml}"
            );
        }
        assert!(
            xml.contains(r#"tests="3" skipped="3" failures="0" errors="0""#),
            "{xml}"
        );
        assert_eq!(xml.matches(r#"value="skipped:Step""#).count(), 3);
        assert_eq!(xml.matches(r#"value="version:1.2""#).count(), 3);
    }
}
