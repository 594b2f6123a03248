//! Reporters: small consumers of the run's event stream ([`crate::event::RunEvent`]).
//!
//! - [`JunitReporter`]: `junit.xml` for TestRail's CLI, written when the run finishes.
//! - [`FaultTraceReporter`]: the fault trace, streamed to `faults.jsonl`.
//! - [`ConsoleReporter`]: live progress and the summary for the tester.
//! - [`HtmlReporter`]: `report.html`, the run for people, rewritten as the run goes.
//!
//! The event model, `events.jsonl` ([`JsonlReporter`]), [`Fanout`] and the words for results
//! live in `jspec_results`, which the TestRail crate (`testrail-results.json`) shares.
//! They are re-exported here so a runner needs one import.
//!
//! Reporters never decide pass or fail: they show the results the executor decided.

mod console;
mod fault_trace;
pub(crate) mod html;
mod junit;

pub use console::{ConsoleReporter, Verbosity};
pub use fault_trace::{FAULTS_FILE, FaultTraceReporter};
pub use html::{HtmlReporter, REPORT_FILE};
pub use jspec_results::{
    EVENTS_FILE, Fanout, JsonlReporter, case_comment, case_name, failure_details, failure_text,
    first_failure, format_elapsed, format_elapsed_tenths, rfc3339_millis, write_atomic,
};
pub use junit::{JUNIT_FILE, JunitReporter, render_junit, write_junit};
