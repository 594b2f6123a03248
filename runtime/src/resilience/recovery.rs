//! Recovery times, measured from a case's own events: from the moment a fault was repaired (a
//! cut healed, a link restored, a process started again) — or, for a fault never repaired in the
//! case (a node killed for good), from the fault itself — to the moment the first expectation
//! begun after it was met. The expectation is named, so a reader can judge what "recovered"
//! meant in that case.

use std::collections::BTreeSet;
use std::time::Duration;

use super::read::{CaseRecord, FaultRecord, StatementRecord};
use crate::event::Status;

/// What a case measured about one disruption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// `partition`, `kill`, `chaos`, ...
    pub action: String,
    /// What it acted on (both directions of a link are one disruption).
    pub targets: Vec<String>,
    /// Who applied it: `line 12`, `chaos seed 7`.
    pub origin: String,
    pub fault_at: Duration,
    /// The repair it is measured from (`heal a | b`), or `None` when it is measured from the
    /// fault itself (nothing repaired it in the case: failover).
    pub repair: Option<String>,
    pub outcome: Outcome,
}

impl Recovery {
    /// `partition a | b (line 12)`.
    pub fn fault(&self) -> String {
        format!(
            "{} {} ({})",
            self.action,
            self.targets.join("; "),
            self.origin
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The service was back: this long after the repair (or the fault), by this expectation.
    Recovered { after: Duration, by: String },
    /// The first expectation after it was not met.
    NotRecovered { by: String },
    /// Nothing was repaired after it, or nothing checked the service after the repair, but an
    /// expectation while it was in force was met: the service kept working through it.
    HeldUp { by: String },
    /// No expectation followed it in the case.
    Unmeasured,
    /// The run did not record when statements ended (written by an older jspec).
    NoTimes,
}

/// Actions that disrupt.
const DISRUPTIONS: [&str; 9] = [
    "partition",
    "isolate",
    "impair",
    "kill",
    "stop",
    "pause",
    "chaos",
    "skew clock",
    "switch database",
];
/// Actions that repair.
const REPAIRS: [&str; 6] = [
    "heal",
    "restore",
    "start",
    "resume",
    "restart",
    "restore clock",
];

/// Faults the harness applies around a case (healing leftovers, configuring for `requires`)
/// are not part of what the case tests.
fn by_the_case(fault: &FaultRecord) -> bool {
    !matches!(
        fault.origin.as_str(),
        "heal before the case"
            | "heal after the case"
            | "after the case"
            | "the case's requirements"
    )
}

/// An expectation that the service works (not one that a fault is in effect). `connect` and
/// `join` count: they fail the case when the login or the join does not succeed.
fn positive_expectation(statement: &StatementRecord) -> bool {
    let text = statement.text.trim_start();
    ["expect ", "check ", "connect ", "join "]
        .iter()
        .any(|start| text.starts_with(start))
        && !text.contains(" nothing")
        && !text.contains(" fails")
        && !text.starts_with("expect no ")
}

/// Every disruption in the case, with how the case measured its recovery. A restart counts as
/// both: the process went down and came back, so it is measured from itself. A chaos block is
/// one disruption, measured from its end; faults of one statement (both directions of a link)
/// are one.
pub(crate) fn recoveries(case: &CaseRecord) -> Vec<Recovery> {
    let faults: Vec<&FaultRecord> = case.faults.iter().filter(|f| by_the_case(f)).collect();
    let mut out: Vec<Recovery> = Vec::new();
    for (index, fault) in faults.iter().enumerate() {
        if fault.origin.starts_with("chaos") && fault.action != "chaos" {
            continue;
        }
        let restart = fault.action == "restart";
        if !restart && !DISRUPTIONS.contains(&fault.action.as_str()) {
            continue;
        }
        if let Some(same) = out.iter_mut().find(|r| {
            r.fault_at == fault.at && r.origin == fault.origin && r.action == fault.action
        }) {
            same.targets.push(fault.target.clone());
            continue;
        }
        let (repair, from): (Option<String>, Duration) = if restart {
            (None, fault.at)
        } else if fault.action == "chaos" {
            match chaos_end(&case.statements, fault.at) {
                Some(end) => (Some("the end of the chaos block".to_string()), end),
                None => (None, fault.at),
            }
        } else {
            match faults[index + 1..]
                .iter()
                .find(|later| repairs(fault, later))
            {
                Some(repair) => (Some(describe(repair)), repair.at),
                None => (None, fault.at),
            }
        };
        out.push(Recovery {
            action: fault.action.clone(),
            targets: vec![fault.target.clone()],
            origin: fault.origin.clone(),
            fault_at: fault.at,
            repair,
            outcome: measure(&case.statements, fault.at, from),
        });
    }
    out
}

/// When the chaos statement that began by `at` ended.
fn chaos_end(statements: &[StatementRecord], at: Duration) -> Option<Duration> {
    statements
        .iter()
        .rfind(|s| s.text.trim_start().starts_with("chaos") && s.started <= at)
        .and_then(|s| s.finished.map(|(end, _)| end))
}

/// Does `later` repair `fault`? A repair action on the same endpoints, or a heal of everything.
fn repairs(fault: &FaultRecord, later: &FaultRecord) -> bool {
    REPAIRS.contains(&later.action.as_str())
        && (later.target.starts_with("everything")
            || endpoints(&later.target) == endpoints(&fault.target))
}

/// The names a fault's target is about: `a -> bob lag 300ms` is {a, bob}, `database pg1` {pg1}.
fn endpoints(target: &str) -> BTreeSet<&str> {
    const OPERATORS: [&str; 7] = ["|", "->", "<->", "{", "}", ",", "database"];
    target
        .split(|c: char| c.is_whitespace() || c == ',' || c == '{' || c == '}')
        .take_while(|word| !IMPAIRMENTS.contains(word))
        .filter(|word| !word.is_empty() && !OPERATORS.contains(word))
        .collect()
}

/// Words that begin an impairment's settings in a target.
const IMPAIRMENTS: [&str; 9] = [
    "lag",
    "jitter",
    "drop",
    "duplicate",
    "reorder",
    "throttle",
    "bandwidth",
    "corrupt",
    "by",
];

fn describe(fault: &FaultRecord) -> String {
    format!("{} {} ({})", fault.action, fault.target, fault.origin)
}

/// The first positive expectation begun at or after `from` (the repair, or the fault when
/// nothing repaired it); failing that, the first one begun while the fault was in force.
fn measure(statements: &[StatementRecord], fault_at: Duration, from: Duration) -> Outcome {
    if !statements.is_empty() && statements.iter().all(|s| s.finished.is_none()) {
        return Outcome::NoTimes;
    }
    let first_from = |start: Duration, end: Duration| {
        statements
            .iter()
            .find(|s| s.started >= start && s.started < end && positive_expectation(s))
    };
    let by = |s: &StatementRecord| format!("line {}: {}", s.line, s.text.trim());
    if let Some(statement) = first_from(from, Duration::MAX) {
        return match statement.finished {
            Some((at, Status::Passed)) => Outcome::Recovered {
                after: at.saturating_sub(from),
                by: by(statement),
            },
            Some(_) => Outcome::NotRecovered { by: by(statement) },
            None => Outcome::Unmeasured,
        };
    }
    match first_from(fault_at, from) {
        Some(statement) => match statement.finished {
            Some((_, Status::Passed)) => Outcome::HeldUp { by: by(statement) },
            Some(_) => Outcome::NotRecovered { by: by(statement) },
            None => Outcome::Unmeasured,
        },
        None => Outcome::Unmeasured,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{CaseRef, CaseResult};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn fault(at: u64, action: &str, target: &str, origin: &str) -> FaultRecord {
        FaultRecord {
            at: ms(at),
            action: action.into(),
            target: target.into(),
            origin: origin.into(),
        }
    }

    fn statement(
        line: usize,
        text: &str,
        started: u64,
        finished: u64,
        status: Status,
    ) -> StatementRecord {
        StatementRecord {
            line,
            text: text.into(),
            started: ms(started),
            finished: Some((ms(finished), status)),
        }
    }

    fn case(faults: Vec<FaultRecord>, statements: Vec<StatementRecord>) -> CaseRecord {
        CaseRecord {
            result: CaseResult {
                case: CaseRef {
                    id: Some(1),
                    title: "t".into(),
                    file: "f".into(),
                    line: 1,
                    section: None,
                    suite: None,
                    tags: vec![],
                },
                status: Status::Passed,
                elapsed: ms(10_000),
                steps: vec![],
                reason: None,
            },
            faults,
            statements,
            deliveries: vec![],
        }
    }

    #[test]
    fn recovery_runs_from_the_heal_to_the_first_positive_expectation_met_after_it() {
        let case = case(
            vec![
                fault(0, "heal", "everything", "heal before the case"),
                fault(1000, "partition", "a | b", "line 5"),
                fault(4000, "heal", "a | b", "line 8"),
            ],
            vec![
                statement(
                    6,
                    "expect bob receives nothing within 2s",
                    1100,
                    3100,
                    Status::Passed,
                ),
                statement(8, "heal a | b", 4000, 4000, Status::Passed),
                statement(
                    9,
                    "expect bob receives message \"x\" within 30s",
                    4000,
                    6500,
                    Status::Passed,
                ),
            ],
        );
        let found = recoveries(&case);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].repair.as_deref(), Some("heal a | b (line 8)"));
        assert_eq!(
            found[0].outcome,
            Outcome::Recovered {
                after: ms(2500),
                by: "line 9: expect bob receives message \"x\" within 30s".into()
            }
        );
    }

    #[test]
    fn a_kill_never_repaired_is_measured_from_the_kill_and_can_fail() {
        let case = case(
            vec![fault(1000, "kill", "c1", "line 5")],
            vec![statement(
                6,
                "expect bob receives presence from alice within 15s",
                1000,
                16000,
                Status::Failed,
            )],
        );
        let found = recoveries(&case);
        assert_eq!(found[0].repair, None);
        assert!(
            matches!(found[0].outcome, Outcome::NotRecovered { .. }),
            "{found:?}"
        );
    }

    #[test]
    fn a_chaos_block_is_one_disruption_and_harness_faults_are_none() {
        let case = case(
            vec![
                fault(0, "configure", "a: tls", "the case's requirements"),
                fault(500, "chaos", "1 rule for 10s", "chaos seed 3"),
                fault(900, "kill", "c1", "chaos seed 3"),
                fault(2000, "start", "c1", "chaos seed 3"),
            ],
            vec![
                statement(7, "chaos seed 3 for 10s {", 500, 10_500, Status::Passed),
                statement(
                    9,
                    "check delivery in ops: no loss",
                    10_600,
                    11_000,
                    Status::Passed,
                ),
            ],
        );
        let found = recoveries(&case);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].action, "chaos");
        assert_eq!(
            found[0].outcome,
            Outcome::Recovered {
                after: ms(500),
                by: "line 9: check delivery in ops: no loss".into()
            }
        );
    }

    #[test]
    fn both_directions_of_a_link_are_one_disruption_repaired_by_restore() {
        let case = case(
            vec![
                fault(1000, "impair", "a -> bob drop 10%", "line 53"),
                fault(1000, "impair", "bob -> a drop 10%", "line 53"),
                fault(5000, "restore", "a <-> bob", "line 60"),
            ],
            vec![statement(
                61,
                "expect bob receives message \"y\" within 5s",
                5000,
                5200,
                Status::Passed,
            )],
        );
        let found = recoveries(&case);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].fault(),
            "impair a -> bob drop 10%; bob -> a drop 10% (line 53)"
        );
        assert_eq!(
            found[0].repair.as_deref(),
            Some("restore a <-> bob (line 60)")
        );
        assert!(matches!(found[0].outcome, Outcome::Recovered { after, .. } if after == ms(200)));
    }

    #[test]
    fn a_service_that_works_during_a_fault_checked_only_then_held_up() {
        let case = case(
            vec![
                fault(1000, "partition", "a -> b", "line 48"),
                fault(9000, "heal", "everything: cut a -> b (hold)", "line 54"),
            ],
            vec![
                statement(
                    50,
                    "expect alice receives \"from b\" from bob within 30s",
                    1100,
                    1300,
                    Status::Passed,
                ),
                statement(54, "heal", 9000, 9000, Status::Passed),
            ],
        );
        let found = recoveries(&case);
        assert_eq!(
            found[0].outcome,
            Outcome::HeldUp {
                by: "line 50: expect alice receives \"from b\" from bob within 30s".into()
            }
        );
    }

    #[test]
    fn a_login_after_a_restart_is_recovery() {
        let case = case(
            vec![
                fault(1000, "kill", "a", "line 139"),
                fault(3000, "start", "a", "line 144"),
            ],
            vec![
                statement(
                    140,
                    "expect connect alice fails with \"connection-refused\" within 5s",
                    1000,
                    1050,
                    Status::Passed,
                ),
                statement(145, "connect alice", 3000, 3400, Status::Passed),
            ],
        );
        assert!(matches!(
            recoveries(&case)[0].outcome,
            Outcome::Recovered { after, .. } if after == ms(400)
        ));
    }

    #[test]
    fn nothing_after_the_fault_is_unmeasured() {
        let case = case(vec![fault(1000, "pause", "a", "line 3")], vec![]);
        assert_eq!(recoveries(&case)[0].outcome, Outcome::Unmeasured);
    }
}
