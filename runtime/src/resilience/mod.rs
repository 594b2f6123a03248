//! The resilience report across runs (`jspec report`): per architecture component and per area
//! of the statement of work, which faults the servers survived and which they did not, the
//! recovery times the cases measured, and how each case went run after run. Read back from the
//! runs' `events.jsonl`; rendered as one self-contained HTML page or as Markdown.

mod component;
mod findings;
mod html;
mod markdown;
mod model;
mod read;
mod recovery;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use component::Component;
pub use findings::{Known, parse_findings};
pub use html::render_html;
pub use markdown::render_markdown;
pub use model::{CaseHistory, Explanation, Report};
pub use read::{ReadError, RunRecord, read_run};
pub use recovery::{Outcome, Recovery};

use crate::event::Status;
use crate::report::{EVENTS_FILE, format_elapsed_tenths};

/// What the report is called and when it was made.
#[derive(Clone, Debug)]
pub struct Meta {
    pub title: String,
    pub version: String,
    /// RFC 3339, UTC.
    pub generated_at: String,
}

impl Meta {
    fn subtitle(&self, report: &Report) -> String {
        let span = match (report.runs.first(), report.runs.last()) {
            (Some(first), Some(last)) if report.runs.len() > 1 => {
                format!(" from {} to {}", first.started_at, last.started_at)
            }
            (Some(only), _) => format!(" started {}", only.started_at),
            _ => String::new(),
        };
        format!(
            "{} run{}{span}; written by jspec {} on {}.",
            report.runs.len(),
            if report.runs.len() == 1 { "" } else { "s" },
            self.version,
            self.generated_at
        )
    }
}

/// How the numbers are measured, for the reader.
/// A rendering of the report (HTML, Markdown): one method per section, written in the order
/// both renderings show them.
trait Render {
    fn summary(&self, out: &mut String, report: &model::Report);
    fn components(&self, out: &mut String, report: &model::Report);
    fn findings(&self, out: &mut String, report: &model::Report);
    fn areas(&self, out: &mut String, report: &model::Report);
    fn trends(&self, out: &mut String, report: &model::Report);
    fn runs(&self, out: &mut String, report: &model::Report);

    /// Every section, in order.
    fn sections(&self, out: &mut String, report: &model::Report) {
        self.summary(out, report);
        self.components(out, report);
        self.findings(out, report);
        self.areas(out, report);
        self.trends(out, report);
        self.runs(out, report);
    }
}

const METHOD: &str = "Each case is one TestRail case run against real servers. A case *survives* a fault when \
every expectation after it is met; it does *not survive* it when one is not (a finding about the \
server, listed in docs/findings.md, unless the failure is known not to be the server's). \
*Recovery time* is measured from the moment a fault was repaired (a cut healed, a link restored, \
a process started again, the end of a chaos block) — or, for a fault never repaired in the case \
(a node killed for good: failover), from the fault itself — to the moment the first expectation \
begun after it was met; the expectation is named, so it says what \"recovered\" meant there. \
Expectations of an absence (`receives nothing`, `fails`) are not recovery. Components come from \
each case's section, tags and the faults it applied. The latest run of each case decides its \
row; the trends table shows every run.";

/// The run folders under `paths`: each path is a run folder, an events.jsonl, or a folder of
/// run folders (such as `runs/`), whose runs are taken in name order.
pub fn find_runs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReadError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_file() || path.join(EVENTS_FILE).is_file() {
            found.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|source| ReadError::Io {
            path: path.clone(),
            source,
        })?;
        let mut runs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|child| child.join(EVENTS_FILE).is_file())
            .collect();
        if runs.is_empty() {
            return Err(ReadError::NotARun { path: path.clone() });
        }
        runs.sort();
        found.extend(runs);
    }
    Ok(found)
}

/// Reads every run under `paths` (see [`find_runs`]).
pub fn read_runs(paths: &[PathBuf]) -> Result<Vec<RunRecord>, ReadError> {
    find_runs(paths)?.iter().map(|p| read_run(p)).collect()
}

/// Builds the report from run folders and an optional findings file.
pub fn build_report(paths: &[PathBuf], findings: Option<&Path>) -> Result<Report, ReadError> {
    let runs = read_runs(paths)?;
    let known = match findings {
        Some(path) => Some(parse_findings(&std::fs::read_to_string(path).map_err(
            |source| ReadError::Io {
                path: path.to_path_buf(),
                source,
            },
        )?)),
        None => None,
    };
    Ok(Report::build(runs, known.as_ref()))
}

/// One line on the latest results: counts and what is unexplained.
fn headline(report: &Report) -> String {
    let mut counts = crate::event::Summary::default();
    let (mut findings, mut known, mut unexplained) = (0, 0, 0);
    for case in &report.cases {
        if let Some(latest) = case.latest() {
            counts.add(latest.status);
        }
        match case.explanation {
            Explanation::Finding(_) => findings += 1,
            Explanation::KnownNotFinding(_) => known += 1,
            Explanation::Unexplained => unexplained += 1,
            Explanation::None => {}
        }
    }
    format!(
        "{} in {}. In their latest runs: {} passed, {} failed ({}, {} that {} not the server's, {unexplained} unexplained), {} blocked{}.",
        plural(report.cases.len(), "case"),
        plural(report.areas.len(), "area"),
        counts.passed,
        counts.failed + counts.errors,
        plural(findings, "finding"),
        plural(known, "known failure"),
        if known == 1 { "is" } else { "are" },
        counts.blocked,
        if report.findings_given {
            ""
        } else {
            "; no findings file was given (--findings), so only cases tagged `finding` count as findings"
        }
    )
}

/// `1 case`, `2 cases`.
fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

fn seconds(duration: Duration) -> String {
    format_elapsed_tenths(duration)
}

fn status_symbol(status: Status) -> &'static str {
    match status {
        Status::Passed => "✓",
        Status::Failed => "✗",
        Status::Blocked => "⊘",
        Status::Retest | Status::Skipped => "↻",
        Status::Error => "!",
    }
}

/// `recovered 2.5s after heal a | b (line 31), by line 33: expect ...`.
fn outcome_text(recovery: &Recovery) -> String {
    let from = match &recovery.repair {
        Some(repair) => format!("after {repair}"),
        None => "after the fault".to_string(),
    };
    match &recovery.outcome {
        Outcome::Recovered { after, by } => {
            format!("recovered {} {from} ({by})", seconds(*after))
        }
        Outcome::NotRecovered { by } => format!("not recovered {from}: not met: {by}"),
        Outcome::HeldUp { by } => format!("kept working while it was in force ({by})"),
        Outcome::Unmeasured => "no expectation after it".to_string(),
        Outcome::NoTimes => "not measured (the run did not record statement times)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = r#"{"seq":1,"at":"STARTED","event":"run_started","run_id":"ID","seed":1,"cases":2,"out_dir":"x","jspec_version":"0.1.0"}"#;

    fn case(id: u64, section: &str, tags: &str) -> String {
        format!(
            r#""case":{{"id":{id},"title":"Case {id}","file":"f.jspec","line":{id},"section":"{section}","suite":null,"tags":[{tags}]}}"#
        )
    }

    fn finished(case: &str, status: &str, message: &str) -> String {
        let steps = if status == "failed" {
            format!(
                r#"[{{"kind":"step","title":"s","status":"failed","elapsed_ms":1,"actions":[],"expected":[],"actual":"","failure":{{"kind":"expectation","message":"{message}","file":"f.jspec","line":9,"column":3,"source_line":"expect","expected":null,"actual":null,"closest":null}}}}]"#
            )
        } else {
            "[]".into()
        };
        format!(
            r#"{{"seq":9,"at":"t","event":"case_finished","result":{{{case},"status":"{status}","elapsed_ms":9000,"steps":{steps},"reason":null}}}}"#
        )
    }

    /// A run where case 1 (network) has a partition healed at 4 s and a delivery met at 6.5 s,
    /// and case 2 (cluster, killed node) has the given status.
    fn write_run(dir: &Path, started: &str, second: &str) {
        let net = case(1, "Network > Partitions", "");
        let cluster = case(2, "Clustering", r#""cluster""#);
        let lines = [
            RUN.replace("STARTED", started).replace("ID", started),
            format!(r#"{{"seq":2,"at":"t","event":"case_started",{net}}}"#),
            format!(r#"{{"seq":3,"at":"t","event":"fault",{net},"at_ms":1000,"action":"partition","target":"a | b","origin":"line 5"}}"#),
            format!(r#"{{"seq":4,"at":"t","event":"fault",{net},"at_ms":4000,"action":"heal","target":"a | b","origin":"line 8"}}"#),
            format!(r#"{{"seq":5,"at":"t","event":"action",{net},"line":9,"text":"expect bob receives \"x\" from alice within 30s","at_ms":4000}}"#),
            format!(r#"{{"seq":6,"at":"t","event":"action_finished",{net},"line":9,"at_ms":6500,"status":"passed"}}"#),
            finished(&net, "passed", ""),
            format!(r#"{{"seq":7,"at":"t","event":"case_started",{cluster}}}"#),
            finished(&cluster, second, "bob received nothing within 15s"),
            r#"{"seq":10,"at":"t","event":"run_finished","summary":{"passed":1,"failed":1,"blocked":0,"retest":0,"errors":0,"not_run":0,"elapsed_ms":20000}}"#.to_string(),
        ];
        std::fs::create_dir_all(dir).expect("dir");
        std::fs::write(dir.join(EVENTS_FILE), lines.join("\n")).expect("write");
    }

    #[test]
    fn runs_are_ordered_and_recovery_findings_and_trends_are_reported() {
        let temp = tempfile::tempdir().expect("temp");
        // Named against their start time on purpose: the report orders by start.
        write_run(&temp.path().join("b"), "2026-01-01T00:00:00.000Z", "passed");
        write_run(&temp.path().join("a"), "2026-01-02T00:00:00.000Z", "failed");
        let report = build_report(&[temp.path().to_path_buf()], None).expect("report");
        assert_eq!(report.runs.len(), 2);
        assert_eq!(report.runs[0].started_at, "2026-01-01T00:00:00.000Z");
        let cluster = report
            .cases
            .iter()
            .find(|c| c.id == Some(2))
            .expect("case 2");
        assert!(cluster.is_flaky());
        assert_eq!(
            cluster.explanation,
            Explanation::Unexplained,
            "failed in the latest run, no finding"
        );
        let meta = Meta {
            title: "T".into(),
            version: "0".into(),
            generated_at: "now".into(),
        };
        let md = render_markdown(&report, &meta);
        assert!(
            md.contains(r"recovered 2.5s after heal a \| b (line 8)"),
            "{md}"
        );
        assert!(
            md.contains("| C2 Case 2 | ✓ | ✗ | 1 of 2 (flaky) |"),
            "{md}"
        );
        assert!(md.contains("### Unexplained failures"), "{md}");
        assert!(md.contains("bob received nothing within 15s"), "{md}");
        let html = render_html(&report, &meta);
        assert!(html.contains(r#"<span class="tag unexplained">unexplained</span>"#));
        assert!(
            !html.contains("<script"),
            "the resilience report needs no script"
        );

        // With a findings file that lists case 2, it is a finding, not unexplained.
        let findings = temp.path().join("findings.md");
        std::fs::write(&findings, "## Server\n\n### C2 — nodes do not tell\n").expect("write");
        let report = build_report(
            &[temp.path().join("a"), temp.path().join("b")],
            Some(&findings),
        )
        .expect("report");
        let cluster = report
            .cases
            .iter()
            .find(|c| c.id == Some(2))
            .expect("case 2");
        assert_eq!(
            cluster.explanation,
            Explanation::Finding("nodes do not tell".into())
        );
        assert_eq!(report.unexplained().count(), 0);
    }

    #[test]
    fn a_case_is_followed_by_its_id_when_its_file_moves() {
        let temp = tempfile::tempdir().expect("temp");
        write_run(&temp.path().join("a"), "2026-01-01T00:00:00.000Z", "passed");
        write_run(&temp.path().join("b"), "2026-01-02T00:00:00.000Z", "passed");
        let moved = temp.path().join("b").join(EVENTS_FILE);
        let text = std::fs::read_to_string(&moved).expect("read");
        std::fs::write(&moved, text.replace("f.jspec", "moved/f.jspec")).expect("write");
        let report = build_report(&[temp.path().to_path_buf()], None).expect("report");
        assert_eq!(report.cases.len(), 2, "one history per case id");
        let case = report
            .cases
            .iter()
            .find(|c| c.id == Some(1))
            .expect("case 1");
        assert_eq!(case.file, "moved/f.jspec", "the latest file");
        assert_eq!(case.pass_rate(), (2, 2));
    }

    #[test]
    fn a_folder_without_runs_is_an_error_that_names_it() {
        let temp = tempfile::tempdir().expect("temp");
        let error = build_report(&[temp.path().to_path_buf()], None).expect_err("no runs");
        assert!(
            error
                .to_string()
                .contains(&temp.path().display().to_string()),
            "{error}"
        );
    }
}
