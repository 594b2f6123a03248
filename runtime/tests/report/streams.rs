//! events.jsonl, and the fanout that keeps the run going when a reporter fails.

use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use jspec_runtime::event::{Reporter, RunEvent};
use jspec_runtime::report::{Fanout, JsonlReporter, Verbosity};

use crate::fixture::{NASTY_TITLE, events, run};

#[test]
fn events_jsonl_has_one_json_line_per_event_with_seq_and_time() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), Verbosity::Normal);
    let text = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), events(dir.path()).len());
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], i as u64 + 1, "seq increases by one");
        let at = line["at"].as_str().expect("at");
        assert_eq!(at.len(), "2025-03-04T05:06:07.089Z".len(), "{at}");
        assert!(at.ends_with('Z') && at.as_bytes()[10] == b'T' && at.as_bytes()[19] == b'.');
    }
    let tags: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(
        &tags[..6],
        [
            "run_started",
            "lab_starting",
            "lab_ready",
            "case_started",
            "step_started",
            "action"
        ]
    );
    assert!(tags.contains(&"stanza") && tags.contains(&"step_finished"));
    assert_eq!(tags.iter().filter(|t| **t == "case_finished").count(), 4);
    assert_eq!(tags.last(), Some(&"run_finished"));
    let failed = lines
        .iter()
        .find(|l| l["event"] == "case_finished" && l["result"]["status"] == "failed")
        .expect("failed case");
    assert_eq!(failed["result"]["case"]["title"], NASTY_TITLE);
    assert_eq!(failed["result"]["elapsed_ms"], 6_100);
    assert_eq!(failed["result"]["steps"][1]["failure"]["line"], 27);
}

/// Fails on every event.
struct Broken;

impl Reporter for Broken {
    fn on_event(&mut self, _: &RunEvent) -> io::Result<()> {
        Err(io::Error::other("disk full"))
    }
}

/// A writer that accepts `left` bytes, then fails.
struct FailsAfter {
    left: usize,
}

impl Write for FailsAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "no space"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Records the event tags it sees.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<&'static str>>>);

impl Reporter for Seen {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        let tag = match event {
            RunEvent::RunStarted(_) => "run_started",
            RunEvent::RunFinished { .. } => "run_finished",
            _ => "other",
        };
        self.0.lock().unwrap().push(tag);
        Ok(())
    }
}

#[test]
fn a_failing_reporter_is_dropped_and_the_others_go_on() {
    let seen = Seen::default();
    let mut fanout = Fanout::new()
        .with("broken", Broken)
        .with("seen", seen.clone())
        .with("jsonl", JsonlReporter::new(FailsAfter { left: 600 }));
    let all = events(Path::new("runs/x"));
    for (i, event) in all.iter().enumerate() {
        fanout.on_event(event).expect("fanout never fails");
        if i == 0 {
            assert_eq!(fanout.names().collect::<Vec<_>>(), ["seen", "jsonl"]);
        }
    }
    assert_eq!(fanout.names().collect::<Vec<_>>(), ["seen"]);
    let seen = seen.0.lock().unwrap();
    assert_eq!(
        seen.len(),
        all.len(),
        "every event reached the healthy reporter"
    );
    assert_eq!(seen.last(), Some(&"run_finished"));
}
