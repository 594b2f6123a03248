//! The sample run behind scripts/trcli-check.sh and the export tests (tests/testrail/run-sample)
//! is what today's writers make of its own events: otherwise trcli's check would prove an old
//! junit.xml. Times are left out (the events keep whole milliseconds, the writers had the exact
//! durations); everything else must match. Regenerate the sample as tests/testrail/sample.jspec
//! says when this fails.

use std::path::PathBuf;

use jspec_runtime::event::{CaseResult, RunEvent};
use jspec_runtime::report::render_junit;
use jspec_testrail::results::{TestrailResults, testrail_result};

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/testrail/run-sample")
}

/// The finished cases and the jspec version, read back from events.jsonl.
fn recorded() -> (Vec<CaseResult>, String) {
    let text = std::fs::read_to_string(sample().join("events.jsonl")).expect("events.jsonl");
    let mut results = Vec::new();
    let mut version = String::new();
    for line in text.lines() {
        match serde_json::from_str::<RunEvent>(line).expect("an event") {
            RunEvent::RunStarted(start) => version = start.jspec_version,
            RunEvent::CaseFinished { result } => results.push(result),
            _ => {}
        }
    }
    assert!(!results.is_empty(), "the sample finished no case");
    (results, version)
}

/// The document without its `time="..."` attributes.
fn without_times(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(at) = rest.find(" time=\"") {
        out.push_str(&rest[..at]);
        let after = &rest[at + " time=\"".len()..];
        rest = after.split_once('"').map_or("", |(_, tail)| tail);
    }
    out.push_str(rest);
    out
}

#[test]
fn the_sample_junit_xml_is_what_the_writer_makes_of_its_events() {
    let (results, version) = recorded();
    let rendered = render_junit(&results, Some(&version)).expect("rendered");
    let checked_in = std::fs::read_to_string(sample().join("junit.xml")).expect("junit.xml");
    assert_eq!(without_times(&checked_in), without_times(&rendered));
}

#[test]
fn the_sample_testrail_results_are_what_the_writer_makes_of_its_events() {
    let (results, version) = recorded();
    let text =
        std::fs::read_to_string(sample().join("testrail-results.json")).expect("results file");
    let mut checked_in: TestrailResults = serde_json::from_str(&text).expect("results JSON");
    let mut made: Vec<_> = results
        .iter()
        .filter_map(|result| testrail_result(result, &version))
        .collect();
    for result in checked_in.results.iter_mut().chain(made.iter_mut()) {
        result.elapsed.clear();
    }
    assert_eq!(checked_in.results, made);
}
