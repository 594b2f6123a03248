//! `testrail-results.json`: the body of TestRail's `add_results_for_cases` for the run, written
//! like a journal. It is rewritten atomically after each finished case, so an interrupted run
//! keeps every result that finished; `jspec testrail push` sends it as is (docs/testrail.md).
//!
//! Statuses: passed 1, blocked 2, retest 4 (interrupted), failed 5. TestRail refuses Untested
//! (3) in results, so a step skipped after an earlier failure is sent as Retest (4) with the
//! actual "not run: ...": the step list keeps the case's shape and the step reads "run again".
//! Only `step` blocks are TestRail steps; setup and teardown show up in the comment when they
//! fail. Cases without an id cannot be results: they are left out and logged.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use jspec_results::event::{BlockKind, CaseResult, Reporter, RunEvent, Status};
use jspec_results::{case_comment, failure_text, step_content, testrail_elapsed, write_atomic};

/// The file name in the run folder.
pub const TESTRAIL_RESULTS_FILE: &str = "testrail-results.json";

/// The name TestRail gives the "Step Results" field by default; instances may differ (the push
/// looks the real one up and renames the key).
pub const DEFAULT_STEP_RESULTS_FIELD: &str = "custom_step_results";

/// The `add_results_for_cases` body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestrailResults {
    pub results: Vec<TestrailResult>,
}

/// One result, keyed by case id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestrailResult {
    pub case_id: u64,
    pub status_id: u8,
    pub comment: String,
    /// TestRail's timespan, whole seconds, at least "1s".
    pub elapsed: String,
    /// The jspec version that ran the case.
    pub version: String,
    pub custom_step_results: Vec<TestrailStepResult>,
}

/// One entry of the "Step Results" field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestrailStepResult {
    pub content: String,
    pub expected: String,
    pub actual: String,
    pub status_id: u8,
}

/// The TestRail result of a finished case, or `None` when the case has no id.
pub fn testrail_result(result: &CaseResult, version: &str) -> Option<TestrailResult> {
    let case_id = result.case.id?;
    Some(TestrailResult {
        case_id,
        status_id: result.status.testrail_id(),
        comment: comment(result),
        elapsed: testrail_elapsed(result.elapsed),
        version: version.to_owned(),
        custom_step_results: result
            .steps
            .iter()
            .filter(|step| step.kind == BlockKind::Step)
            .map(|step| TestrailStepResult {
                content: step_content(step),
                expected: step.expected.join("\n"),
                actual: match (step.status, step.actual.is_empty()) {
                    (Status::Skipped, true) => "not run: an earlier step did not pass".to_owned(),
                    _ => step.actual.clone(),
                },
                status_id: step.status.testrail_id(),
            })
            .collect(),
    })
}

/// Each failure with its source line, expected and closest stanza; else the one-line reason
/// (blocked, interrupted); empty for a pass.
fn comment(result: &CaseResult) -> String {
    let failures: Vec<String> = result
        .steps
        .iter()
        .filter_map(|step| step.failure.as_ref())
        .map(failure_text)
        .collect();
    if failures.is_empty() {
        case_comment(result).unwrap_or_default()
    } else {
        failures.join("\n\n")
    }
}

/// Streams `testrail-results.json` as cases finish.
#[derive(Debug)]
pub struct TestrailReporter {
    path: PathBuf,
    version: String,
    body: TestrailResults,
    /// Titles of finished cases without an id: logged when the run finishes.
    without_id: Vec<String>,
    /// Results not written yet.
    dirty: bool,
}

impl TestrailReporter {
    /// Writes `<run_dir>/testrail-results.json`.
    pub fn new(run_dir: &Path) -> Self {
        Self {
            path: run_dir.join(TESTRAIL_RESULTS_FILE),
            version: String::new(),
            body: TestrailResults::default(),
            without_id: Vec::new(),
            dirty: false,
        }
    }

    fn write(&self) -> io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(&self.body).map_err(io::Error::other)?;
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes)
    }
}

impl Reporter for TestrailReporter {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        match event {
            RunEvent::RunStarted(start) => {
                self.version.clone_from(&start.jspec_version);
                // The file exists from the start: an empty body until a case finishes.
                self.write()?;
            }
            RunEvent::CaseFinished { result } => match testrail_result(result, &self.version) {
                Some(entry) => {
                    self.body.results.push(entry);
                    self.dirty = true;
                }
                None => self.without_id.push(result.case.title.clone()),
            },
            RunEvent::RunFinished { .. } => {
                self.flush()?;
                if self.without_id.is_empty() {
                    return Ok(());
                }
                tracing::warn!(
                    cases = %self.without_id.join("; "),
                    "{} case(s) without a TestRail id are not in {TESTRAIL_RESULTS_FILE}",
                    self.without_id.len()
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.dirty) {
            self.write()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use jspec_results::event::{CaseRef, Failure, StepResult};

    fn step(title: &str, status: Status, failure: Option<Failure>) -> StepResult {
        StepResult {
            kind: BlockKind::Step,
            title: title.into(),
            status,
            elapsed: Duration::from_millis(10),
            actions: vec!["Alice sends \"hi\" to Bob".into()],
            expected: vec!["bob receives \"hi\"".into()],
            actual: if status == Status::Skipped {
                String::new()
            } else {
                "as expected".into()
            },
            failure,
        }
    }

    fn case(id: Option<u64>, status: Status, steps: Vec<StepResult>) -> CaseResult {
        CaseResult {
            case: CaseRef {
                id,
                title: "Hello".into(),
                file: "a.jspec".into(),
                line: 1,
                section: None,
                suite: None,
                tags: vec![],
            },
            status,
            elapsed: Duration::from_millis(65_200),
            steps,
            reason: None,
        }
    }

    #[test]
    fn a_failed_case_maps_statuses_and_explains_the_failure() {
        let failure = Failure {
            kind: jspec_results::event::FailureKind::Expectation,
            actual: None,
            message: "bob received nothing".into(),
            file: "a.jspec".into(),
            line: 4,
            column: 3,
            source_line: "expect bob receives \"hi\"".into(),
            expected: None,
            closest: None,
        };
        let mut setup = step("setup", Status::Passed, None);
        setup.kind = BlockKind::Setup;
        let result = case(
            Some(7),
            Status::Failed,
            vec![
                setup,
                step("One", Status::Passed, None),
                step("Two", Status::Failed, Some(failure)),
                step("Three", Status::Skipped, None),
            ],
        );
        let entry = testrail_result(&result, "0.1.0").expect("has an id");
        assert_eq!(entry.case_id, 7);
        assert_eq!(entry.status_id, 5);
        assert_eq!(entry.elapsed, "1m 5s");
        assert_eq!(entry.version, "0.1.0");
        assert!(
            entry
                .comment
                .starts_with("bob received nothing\n--> a.jspec:4:3")
        );
        let steps: Vec<(&str, u8)> = entry
            .custom_step_results
            .iter()
            .map(|s| (s.content.as_str(), s.status_id))
            .collect();
        let sends = "\nAlice sends \"hi\" to Bob";
        assert_eq!(
            steps,
            [
                (format!("One{sends}").as_str(), 1),
                (format!("Two{sends}").as_str(), 5),
                (format!("Three{sends}").as_str(), 4)
            ]
        );
        assert!(entry.custom_step_results[2].actual.starts_with("not run"));
    }

    #[test]
    fn the_file_is_rewritten_after_each_case_and_skips_cases_without_id() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut reporter = TestrailReporter::new(dir.path());
        let read = || -> TestrailResults {
            let text = std::fs::read_to_string(dir.path().join(TESTRAIL_RESULTS_FILE))
                .expect("file written");
            serde_json::from_str(&text).expect("valid JSON")
        };
        reporter
            .on_event(&RunEvent::RunStarted(jspec_results::event::RunStart {
                run_id: "1".into(),
                seed: 1,
                cases: 2,
                out_dir: String::new(),
                jspec_version: "9.9.9".into(),
            }))
            .expect("written");
        assert!(read().results.is_empty());
        let passed = case(
            Some(1),
            Status::Passed,
            vec![step("One", Status::Passed, None)],
        );
        reporter
            .on_event(&RunEvent::CaseFinished { result: passed })
            .expect("written");
        reporter.flush().expect("flushed");
        assert_eq!(
            read().results.len(),
            1,
            "written at the flush after the case"
        );
        let no_id = case(None, Status::Blocked, vec![]);
        reporter
            .on_event(&RunEvent::CaseFinished { result: no_id })
            .expect("written");
        reporter.flush().expect("flushed");
        let body = read();
        assert_eq!(body.results.len(), 1);
        assert_eq!(body.results[0].status_id, 1);
        assert_eq!(body.results[0].version, "9.9.9");
        assert_eq!(body.results[0].comment, "");
    }
}
