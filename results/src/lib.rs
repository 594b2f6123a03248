//! jspec-results: what a run produced, as values and files, without the machinery that ran it.
//!
//! The runtime emits [`event::RunEvent`]s; reporters (here, in the runtime and in the TestRail
//! crate) consume them. This crate holds what both sides share and nothing heavier than serde:
//!
//! - [`event`]: the event stream, case and step results, statuses, the [`event::Reporter`] trait.
//! - [`Fanout`]: forwards each event to several reporters; one that fails is dropped.
//! - [`JsonlReporter`]: every event, streamed to `events.jsonl` (the run's record).
//! - Words for results: [`case_comment`], [`failure_text`], elapsed times as people and TestRail
//!   write them.
//! - [`write_atomic`]: how every report file is rewritten.

pub mod event;

mod atomic;
mod elapsed;
mod failure;
mod fanout;
mod jsonl;

pub use atomic::write_atomic;
pub use elapsed::{format_elapsed, format_elapsed_tenths, testrail_elapsed};
pub use failure::{
    case_comment, case_name, failure_details, failure_text, first_failure, step_content,
};
pub use fanout::Fanout;
pub use jsonl::{EVENTS_FILE, JsonlReporter, rfc3339_millis};
