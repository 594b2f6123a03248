//! `report.html`: the run for people. A self-contained page (no network, no CDN) with a summary
//! by area, every case with its steps, failures (expected against received) and transcripts,
//! and a timeline per case of its steps, faults and stanzas, plus delivery latency. Rewritten
//! after each burst of events, so it shows the run as it goes and survives a crash.

mod model;
pub(crate) mod page;
mod timeline;

use std::io;
use std::path::{Path, PathBuf};

use crate::event::{Reporter, RunEvent};
use jspec_results::write_atomic;
use model::RunView;

pub const REPORT_FILE: &str = "report.html";

/// Writes `report.html` in the run folder.
#[derive(Debug)]
pub struct HtmlReporter {
    path: PathBuf,
    run: RunView,
    dirty: bool,
}

impl HtmlReporter {
    pub fn new(out_dir: &Path) -> HtmlReporter {
        HtmlReporter {
            path: out_dir.join(REPORT_FILE),
            run: RunView::default(),
            dirty: false,
        }
    }
}

impl Reporter for HtmlReporter {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        self.run.apply(event);
        // Stanzas come by the hundred: the page is rewritten when a step, fault, case or the
        // run moves on, not for each of them.
        if !matches!(
            event,
            RunEvent::Stanza { .. } | RunEvent::Action { .. } | RunEvent::ActionFinished { .. }
        ) {
            self.dirty = true;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        self.dirty = false;
        write_atomic(&self.path, page::render(&self.run).as_bytes())
    }
}

/// Text for HTML content and attribute values (`&`, `<`, `>` and both quotes as entities).
pub(crate) fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::event::{
        BlockKind, CaseRef, CaseResult, Direction, Failure, FailureKind, Status, StepResult,
        Summary,
    };

    fn case() -> CaseRef {
        CaseRef {
            id: Some(2101),
            title: "Messages <across> a cut".into(),
            file: "specs/network/s2s.jspec".into(),
            line: 4,
            section: Some("Network > Server to server".into()),
            suite: None,
            tags: vec!["partition".into()],
        }
    }

    fn events() -> Vec<RunEvent> {
        let fault = |at: u64, action: &str, target: &str| {
            RunEvent::Fault(crate::event::FaultEvent {
                case: case(),
                at: Duration::from_millis(at),
                action: action.into(),
                target: target.into(),
                origin: "line 9".into(),
            })
        };
        vec![
            RunEvent::RunStarted(crate::event::RunStart {
                run_id: "r1".into(),
                seed: 7,
                cases: 1,
                out_dir: "runs/r1".into(),
                jspec_version: "0.1.0".into(),
            }),
            RunEvent::CaseStarted { case: case() },
            RunEvent::StepStarted {
                case: case(),
                index: 1,
                kind: BlockKind::Step,
                title: "Cut a from b".into(),
                at: Duration::from_millis(5),
            },
            fault(10, "partition", "a | b"),
            RunEvent::Stanza {
                case: case(),
                actor: "alice".into(),
                direction: Direction::Sent,
                at: Duration::from_millis(15),
                xml: "<message type='chat'><body>during</body></message>".into(),
            },
            fault(20, "heal", "a | b"),
            RunEvent::CaseFinished {
                result: CaseResult {
                    case: case(),
                    status: Status::Failed,
                    elapsed: Duration::from_millis(30),
                    steps: vec![StepResult {
                        kind: BlockKind::Step,
                        title: "Cut a from b".into(),
                        status: Status::Failed,
                        elapsed: Duration::from_millis(30),
                        actions: vec![],
                        expected: vec![],
                        actual: String::new(),
                        failure: Some(Failure {
                            kind: FailureKind::Expectation,
                            message: "bob did not receive \"during\" from alice within 5s".into(),
                            file: "specs/network/s2s.jspec".into(),
                            line: 12,
                            column: 5,
                            source_line: "expect bob receives \"during\" from alice".into(),
                            expected: Some("a message with body \"during\"".into()),
                            actual: None,
                            closest: Some("<message><body>&</body></message>".into()),
                        }),
                    }],
                    reason: None,
                },
            },
            RunEvent::RunFinished {
                summary: Summary {
                    failed: 1,
                    ..Summary::default()
                },
                error: None,
            },
        ]
    }

    #[test]
    fn the_page_shows_the_case_its_failure_and_its_timeline() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut reporter = HtmlReporter::new(dir.path());
        for event in events() {
            reporter.on_event(&event).expect("event");
        }
        reporter.flush().expect("write");
        let page = std::fs::read_to_string(dir.path().join(REPORT_FILE)).expect("report.html");
        assert!(page.starts_with("<!doctype html>"), "{page}");
        assert!(
            page.contains("C2101 Messages &lt;across&gt; a cut"),
            "escaped title"
        );
        assert!(
            page.contains(r#"<details class="case failed" open"#),
            "failed cases open"
        );
        assert!(
            page.contains("bob did not receive &quot;during&quot;"),
            "the failure"
        );
        assert!(
            page.contains("&lt;message&gt;&lt;body&gt;&amp;&lt;/body&gt;"),
            "closest"
        );
        assert!(
            page.contains(r#"<rect x="#) && page.contains(r#"class="fault""#),
            "fault span"
        );
        assert!(
            page.contains("partition a | b (0.0s to 0.0s, line 9)"),
            "{page}"
        );
        assert!(page.contains(r#"class="sent""#), "a sent stanza");
        assert!(
            page.contains(r#"href="transcripts/C2101/alice.log""#),
            "transcript link"
        );
        assert!(page.contains("<td>Network</td>"), "summary by area");
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "self-contained"
        );
    }

    #[test]
    fn a_burst_of_stanzas_alone_does_not_rewrite_the_page() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut reporter = HtmlReporter::new(dir.path());
        for event in events().into_iter().take(2) {
            reporter.on_event(&event).expect("event");
        }
        reporter.flush().expect("write");
        std::fs::remove_file(dir.path().join(REPORT_FILE)).expect("written once");
        let stanza = &events()[4];
        reporter.on_event(stanza).expect("event");
        reporter.flush().expect("nothing to write");
        assert!(!dir.path().join(REPORT_FILE).exists());
    }
}
