//! The values TestRail formats are made from: a case as TestRail fields, and result statuses.

use serde::Serialize;

/// The template every jspec case uses: steps with an expected result each.
pub const STEPS_TEMPLATE: &str = "Test Case (Steps)";

/// A case as TestRail fields (the TestRail case editor's view of one `case`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CaseText {
    /// `C123` -> 123.
    pub id: Option<u64>,
    pub title: String,
    /// The suite name (`suite "..."`), if the file names one.
    pub suite: Option<String>,
    /// `section "PKI > Server to server"` -> ["PKI", "Server to server"].
    pub section: Vec<String>,
    /// The type label (`type "Security"`), as TestRail lists it.
    pub case_type: Option<String>,
    /// The priority label: `Low`, `Medium`, `High`, `Critical`.
    pub priority: Option<String>,
    /// TestRail's timespan form: `1m 30s`.
    pub estimate: Option<String>,
    pub refs: Vec<String>,
    /// `preconditions`, then what `setup` and `teardown` do, in plain English.
    pub preconditions: String,
    pub steps: Vec<StepText>,
}

/// One separated step: what the tester does and what must be seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StepText {
    /// The step's title, then its actions in plain English, one per line.
    pub content: String,
    /// Its expectations in plain English, one per line.
    pub expected: String,
}

/// TestRail's built-in result statuses (`status_id`). Untested (3) is not a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StatusId {
    Passed = 1,
    /// A `requires` the environment lacks, or setup could not reach the lab.
    Blocked = 2,
    /// Interrupted: to be run again.
    Retest = 4,
    Failed = 5,
}

impl StatusId {
    pub fn id(self) -> u8 {
        self as u8
    }
}
