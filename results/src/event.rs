//! The run as a typed stream of events. The executor emits them; reporters (console, events.jsonl,
//! junit.xml, TestRail) are small consumers. Results are values, decided in one place (the
//! executor): reporters never decide pass or fail.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where a case comes from, and how TestRail knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRef {
    /// TestRail case id number (C123 -> 123), if the case has one.
    pub id: Option<u64>,
    pub title: String,
    /// The file, as given on the command line.
    pub file: String,
    pub line: usize,
    /// Section path as written, e.g. "PKI > Server to server".
    pub section: Option<String>,
    pub suite: Option<String>,
    pub tags: Vec<String>,
}

impl CaseRef {
    /// `C123`, or the title when the case has no id.
    pub fn label(&self) -> String {
        match self.id {
            Some(id) => format!("C{id}"),
            None => self.title.clone(),
        }
    }
}

/// Which block of a case a step result belongs to. Only `Step` becomes a TestRail step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Setup,
    Step,
    Teardown,
}

/// The outcome of a case or step, with its TestRail status id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    /// A `requires` the environment lacks, or setup could not reach the lab.
    Blocked,
    /// Interrupted (Ctrl-C, run timeout): run it again.
    Retest,
    Failed,
    /// Not run: a step after one that did not pass, or a case the run never started.
    Skipped,
    /// jspec or the lab could not do its part (the lab did not start, an account is missing, a
    /// fault could not be applied): no verdict on the server. The run exits 3.
    Error,
}

impl Status {
    /// TestRail's result status id: passed 1, blocked 2, retest 4, failed 5. A skipped step is
    /// Retest too: Untested (3) is not allowed in results.
    pub fn testrail_id(self) -> u8 {
        match self {
            Status::Passed => 1,
            Status::Blocked => 2,
            Status::Retest | Status::Skipped | Status::Error => 4,
            Status::Failed => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Blocked => "blocked",
            Status::Retest => "retest",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

/// Who is at fault when a statement does not pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The server did not behave as the case expects (the case fails).
    #[default]
    Expectation,
    /// The server broke the protocol: a stream too deep or too large, an answer XMPP does not
    /// allow (the case fails).
    Protocol,
    /// jspec or the lab could not do its part: the step is an error, not a verdict on the
    /// server (exit 3).
    Harness,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Expectation => "expectation",
            FailureKind::Protocol => "protocol",
            FailureKind::Harness => "harness",
        }
    }
}

/// Why a statement failed, with the source line it failed on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// One line: "bob received nothing from ops within 5s".
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The statement as written.
    pub source_line: String,
    /// What was expected (text or XML pattern), when the statement is an expectation.
    pub expected: Option<String>,
    /// What was observed instead, when it is a value (`"2 messages: ..."`, `connected`).
    pub actual: Option<String>,
    /// The received stanza closest to what was expected, if any.
    pub closest: Option<String>,
}

/// The result of one setup, step or teardown block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    pub kind: BlockKind,
    pub title: String,
    pub status: Status,
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
    /// What the tester does in plain words (the step's other statements), for TestRail's step
    /// content after the title.
    pub actions: Vec<String>,
    /// The expected result in plain words (the step's expect lines), for TestRail.
    pub expected: Vec<String>,
    /// What happened, in plain words, for TestRail's "actual".
    pub actual: String,
    pub failure: Option<Failure>,
}

/// The result of one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    pub case: CaseRef,
    pub status: Status,
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
    pub steps: Vec<StepResult>,
    /// Why the case is blocked or was interrupted.
    pub reason: Option<String>,
}

/// Counts of a finished run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub blocked: usize,
    pub retest: usize,
    /// Cases the harness could not run (Status::Error).
    pub errors: usize,
    /// Cases never started (the run was interrupted or stopped by an error first).
    pub not_run: usize,
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
}

impl Summary {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Blocked => self.blocked += 1,
            Status::Retest => self.retest += 1,
            Status::Skipped => self.not_run += 1,
            Status::Error => self.errors += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed + self.blocked + self.retest + self.errors + self.not_run
    }
}

/// Which way a stanza went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Sent,
    Received,
}

/// Everything that happens in a run, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    RunStarted(RunStart),
    LabStarting {
        servers: Vec<String>,
    },
    LabReady {
        servers: Vec<LabServer>,
        #[serde(rename = "elapsed_ms", with = "millis")]
        elapsed: Duration,
    },
    CaseStarted {
        case: CaseRef,
    },
    StepStarted {
        case: CaseRef,
        index: usize,
        kind: BlockKind,
        title: String,
        /// Since the case started.
        #[serde(rename = "at_ms", with = "millis")]
        at: Duration,
    },
    /// A statement of the case began (its source text and line). Statements inside procedure
    /// calls are not events: the call is.
    Action {
        case: CaseRef,
        line: usize,
        text: String,
        /// Since the case started (absent in runs written before jspec 0.1.0 recorded it).
        #[serde(rename = "at_ms", with = "millis", default)]
        at: Duration,
    },
    /// A statement of the case ended: whether it passed and when (so reports can tell when an
    /// expectation was met, e.g. how long a service took to recover after a fault was healed).
    ActionFinished {
        case: CaseRef,
        line: usize,
        /// Since the case started.
        #[serde(rename = "at_ms", with = "millis")]
        at: Duration,
        status: Status,
    },
    /// A stanza sent or received by an actor (also in the actor's transcript). Emitted when the
    /// case ends, from its sessions' transcripts, in time order.
    Stanza {
        case: CaseRef,
        actor: String,
        direction: Direction,
        /// Since the case started.
        #[serde(rename = "at_ms", with = "millis")]
        at: Duration,
        xml: String,
    },
    /// A fault applied or healed: the run's fault trace (also written to faults.jsonl).
    Fault(FaultEvent),
    /// The findings of a `check delivery`.
    Delivery {
        case: CaseRef,
        report: DeliveryReport,
    },
    StepFinished {
        case: CaseRef,
        index: usize,
        result: StepResult,
    },
    CaseFinished {
        result: CaseResult,
    },
    RunFinished {
        summary: Summary,
        /// Why the run ended early (the lab did not start, an interruption), if it did.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

/// What a run is, as it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStart {
    pub run_id: String,
    pub seed: u64,
    pub cases: usize,
    pub out_dir: String,
    pub jspec_version: String,
}

/// A fault applied or healed, in a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultEvent {
    pub case: CaseRef,
    /// Since the case started.
    #[serde(rename = "at_ms", with = "millis")]
    pub at: Duration,
    /// `partition`, `heal`, `kill`, `impair`, ...
    pub action: String,
    /// What it acts on: `a | b`, `alice -> a`, `c1`.
    pub target: String,
    /// Who did it: `line 27`, `chaos seed 7`, `heal before the case`, ...
    pub origin: String,
}

/// The findings of one check.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryReport {
    pub room: String,
    /// Messages sent to the room.
    pub sent: usize,
    /// Copies that should have arrived (messages × occupants present when each was sent).
    pub expected: usize,
    pub delivered: usize,
    /// Of the delivered: copies missed live that the user's session fetched from the room's
    /// archive when it came back.
    #[serde(default)]
    pub from_archive: usize,
    /// Of the delivered: copies missed live that came later with a delay stamp (XEP-0203): the
    /// room's history when the user's session rejoined, or a resumed stream sending again what
    /// it had not acknowledged.
    #[serde(default)]
    pub delayed: usize,
    /// `bob: "tick 7"`, one entry per copy missing.
    pub lost: Vec<String>,
    pub duplicated: Vec<String>,
    pub out_of_order: Vec<String>,
    /// Quantiles of send-to-receive time, in milliseconds: p50, p90, p99, max.
    pub latency_ms: Option<[f64; 4]>,
}

impl DeliveryReport {
    pub fn summary(&self) -> String {
        let latency = match self.latency_ms {
            Some([p50, p90, p99, max]) => {
                format!("; latency p50 {p50:.1}ms, p90 {p90:.1}ms, p99 {p99:.1}ms, max {max:.1}ms")
            }
            None => String::new(),
        };
        let late_ways: Vec<String> = [
            (self.from_archive, "from the archive after reconnecting"),
            (self.delayed, "replayed later with a delay stamp"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, how)| format!("{n} {how}"))
        .collect();
        let late_note = if late_ways.is_empty() {
            String::new()
        } else {
            format!(" ({})", late_ways.join(", "))
        };
        format!(
            "{} messages to {}, {} of {} copies delivered{late_note}, {} lost, {} duplicated, {} out of order{latency}",
            self.sent,
            self.room,
            self.delivered,
            self.expected,
            self.lost.len(),
            self.duplicated.len(),
            self.out_of_order.len()
        )
    }
}

/// A lab server as the run saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabServer {
    pub role: String,
    pub domain: String,
    pub address: String,
    pub software: String,
}

/// A consumer of the event stream.
pub trait Reporter: Send {
    /// Handles one event; an I/O error is reported once and the reporter is dropped, the run
    /// goes on.
    fn on_event(&mut self, event: &RunEvent) -> std::io::Result<()>;

    /// Writes what the events so far changed, for reporters that rewrite a whole file. Called
    /// after each burst of events, so a burst of results (an interrupted run reporting its
    /// remaining cases) costs one rewrite, not one per case.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        duration: &std::time::Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_millis() as u64)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<std::time::Duration, D::Error> {
        u64::deserialize(deserializer).map(std::time::Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events that carry a struct are written flat, as `events.jsonl` of earlier runs has them,
    /// so `jspec report` still reads old run folders.
    #[test]
    fn events_with_a_struct_keep_their_flat_json() {
        let started = RunEvent::RunStarted(RunStart {
            run_id: "r1".into(),
            seed: 7,
            cases: 2,
            out_dir: "runs/r1".into(),
            jspec_version: "0.1.0".into(),
        });
        let written = r#"{"event":"run_started","run_id":"r1","seed":7,"cases":2,"out_dir":"runs/r1","jspec_version":"0.1.0"}"#;
        assert_eq!(serde_json::to_string(&started).expect("json"), written);
        assert_eq!(
            serde_json::from_str::<RunEvent>(written).expect("read"),
            started
        );

        let fault = r#"{"event":"fault","case":{"id":1,"title":"t","file":"f","line":3,"section":null,"suite":null,"tags":[]},"at_ms":250,"action":"partition","target":"a | b","origin":"line 4"}"#;
        let RunEvent::Fault(read) = serde_json::from_str::<RunEvent>(fault).expect("read") else {
            panic!("not a fault event");
        };
        assert_eq!(
            (read.at, read.target.as_str()),
            (Duration::from_millis(250), "a | b")
        );
        assert_eq!(
            serde_json::to_string(&RunEvent::Fault(read)).expect("json"),
            fault
        );
    }

    /// A delivery report of an earlier version, before late copies were told apart, reads with
    /// none; the summary names each way late copies came.
    #[test]
    fn delivery_reports_say_how_late_copies_came() {
        let old = r#"{"room":"ops","sent":2,"expected":4,"delivered":3,"lost":["bob: \"b\""],"duplicated":[],"out_of_order":[],"latency_ms":null}"#;
        let mut report: DeliveryReport = serde_json::from_str(old).expect("read");
        assert_eq!((report.from_archive, report.delayed), (0, 0));
        assert_eq!(
            report.summary(),
            "2 messages to ops, 3 of 4 copies delivered, 1 lost, 0 duplicated, 0 out of order"
        );
        (report.from_archive, report.delayed) = (1, 1);
        assert!(report.summary().contains(
            "3 of 4 copies delivered (1 from the archive after reconnecting, 1 replayed later \
             with a delay stamp), 1 lost"
        ));
    }
}
