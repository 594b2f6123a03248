//! The hand-built run, and a writer the tests read back.

use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jspec_runtime::event::{
    BlockKind, CaseRef, CaseResult, Direction, Failure, FailureKind, LabServer, Reporter, RunEvent,
    RunStart, Status, StepResult, Summary,
};
use jspec_runtime::report::{ConsoleReporter, Fanout, JsonlReporter, JunitReporter, Verbosity};

pub(crate) const NASTY_TITLE: &str = r#"Bob reads <&"'> history"#;

fn case(id: Option<u64>, title: &str, section: Option<&str>, suite: Option<&str>) -> CaseRef {
    CaseRef {
        id,
        title: title.into(),
        file: "cases/messaging.jspec".into(),
        line: 10,
        section: section.map(Into::into),
        suite: suite.map(Into::into),
        tags: vec!["smoke".into()],
    }
}

fn step(kind: BlockKind, title: &str, status: Status, millis: u64) -> StepResult {
    StepResult {
        kind,
        title: title.into(),
        status,
        elapsed: Duration::from_millis(millis),
        actions: vec![],
        expected: vec![],
        actual: String::new(),
        failure: None,
    }
}

fn failure() -> Failure {
    Failure {
        kind: FailureKind::Expectation,
        message: "bob received nothing like it from ops within 5s".into(),
        file: "cases/messaging.jspec".into(),
        line: 27,
        column: 5,
        source_line: "    bob receives from ops within 5s".into(),
        expected: Some("<message type=\"chat\">\n  <body>hi &amp; bye</body>\n</message>".into()),
        actual: None,
        closest: Some("<message type=\"error\"/>".into()),
    }
}

pub(crate) fn results() -> Vec<CaseResult> {
    let mut failed_step = step(BlockKind::Step, "Bob receives", Status::Failed, 5_000);
    failed_step.failure = Some(failure());
    let pki = Some("PKI > Server to server");
    vec![
        CaseResult {
            case: case(
                Some(101),
                "Alice writes to Bob",
                Some("Messaging"),
                Some("core"),
            ),
            status: Status::Passed,
            elapsed: Duration::from_millis(1_900),
            steps: vec![
                step(BlockKind::Setup, "setup", Status::Passed, 300),
                step(BlockKind::Step, "Alice connects", Status::Passed, 1_200),
                StepResult {
                    actions: vec![
                        "Alice sends \"hi\" to Bob".into(),
                        "Alice sends \"bye\" to Bob".into(),
                    ],
                    ..step(BlockKind::Step, "Alice writes to Bob", Status::Passed, 400)
                },
            ],
            reason: None,
        },
        CaseResult {
            case: case(Some(102), NASTY_TITLE, pki, None),
            status: Status::Failed,
            elapsed: Duration::from_millis(6_100),
            steps: vec![
                step(BlockKind::Step, "Bob connects", Status::Passed, 1_100),
                failed_step,
                step(BlockKind::Step, "Bob replies", Status::Skipped, 0),
                step(BlockKind::Teardown, "teardown", Status::Passed, 50),
            ],
            reason: None,
        },
        CaseResult {
            case: case(Some(103), "Servers federate", pki, None),
            status: Status::Blocked,
            elapsed: Duration::from_millis(2),
            steps: vec![step(
                BlockKind::Step,
                "Alice writes over s2s",
                Status::Blocked,
                0,
            )],
            reason: Some("requires s2s: the environment has one server".into()),
        },
        CaseResult {
            case: case(None, "Server answers ping", None, None),
            status: Status::Passed,
            elapsed: Duration::from_millis(250),
            steps: vec![step(BlockKind::Step, "Ping", Status::Passed, 250)],
            reason: None,
        },
    ]
}

pub(crate) fn events(out_dir: &Path) -> Vec<RunEvent> {
    let results = results();
    let mut events = vec![
        RunEvent::RunStarted(RunStart {
            run_id: "r1".into(),
            seed: 42,
            cases: results.len(),
            out_dir: out_dir.display().to_string(),
            jspec_version: "0.1.0".into(),
        }),
        RunEvent::LabStarting {
            servers: vec!["a".into()],
        },
        RunEvent::LabReady {
            servers: vec![LabServer {
                role: "a".into(),
                domain: "a.test".into(),
                address: "127.0.0.2".into(),
                software: "prosody 13".into(),
            }],
            elapsed: Duration::from_millis(1_500),
        },
    ];
    let mut summary = Summary::default();
    for result in results {
        let case = result.case.clone();
        events.push(RunEvent::CaseStarted { case: case.clone() });
        for (index, step) in result.steps.iter().enumerate() {
            events.push(RunEvent::StepStarted {
                case: case.clone(),
                index,
                kind: step.kind,
                title: step.title.clone(),
                at: std::time::Duration::from_millis(10 * index as u64),
            });
            events.push(RunEvent::Action {
                case: case.clone(),
                line: 14 + index,
                text: "send \"hi\" from alice to ops".into(),
                at: std::time::Duration::from_millis(10 * index as u64),
            });
            events.push(RunEvent::ActionFinished {
                case: case.clone(),
                line: 14 + index,
                at: std::time::Duration::from_millis(10 * index as u64 + 1),
                status: Status::Passed,
            });
            events.push(RunEvent::Stanza {
                case: case.clone(),
                actor: "alice".into(),
                direction: Direction::Sent,
                at: std::time::Duration::from_millis(10 * index as u64),
                xml: "<message to='ops@a.test'><body>hi</body></message>".into(),
            });
            events.push(RunEvent::StepFinished {
                case: case.clone(),
                index,
                result: step.clone(),
            });
        }
        summary.add(result.status);
        summary.elapsed += result.elapsed;
        events.push(RunEvent::CaseFinished { result });
    }
    summary.elapsed = Duration::from_secs(125);
    events.push(RunEvent::RunFinished {
        summary,
        error: None,
    });
    events
}

/// A writer the test can read back.
#[derive(Clone, Default)]
pub(crate) struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shared {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("utf-8")
    }
}

/// Runs the events through a fanout of the three reporters; returns the console output.
pub(crate) fn run(dir: &Path, verbosity: Verbosity) -> String {
    let console = Shared::default();
    let mut fanout = Fanout::new()
        .with(
            "events.jsonl",
            JsonlReporter::create(dir).expect("events.jsonl"),
        )
        .with("junit.xml", JunitReporter::new(dir))
        .with(
            "console",
            ConsoleReporter::new(Box::new(console.clone()), false, verbosity),
        );
    for event in events(dir) {
        fanout.on_event(&event).expect("fanout never fails");
    }
    assert_eq!(fanout.len(), 3, "no reporter failed");
    console.text()
}
