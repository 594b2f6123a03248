//! `events.jsonl`: every event as one JSON line, written and flushed as it happens, so a crash
//! loses nothing already written. Each line is the event's own JSON (tagged by `"event"`) with a
//! `"seq"` number (1, 2, ...) and an `"at"` time (RFC 3339, UTC, milliseconds) in front.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use crate::event::{Reporter, RunEvent};

/// The file name in the run folder.
pub const EVENTS_FILE: &str = "events.jsonl";

/// Streams events as JSON lines to a writer (by default `<run dir>/events.jsonl`).
#[derive(Debug)]
pub struct JsonlReporter<W: Write + Send = BufWriter<File>> {
    out: W,
    seq: u64,
}

#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    at: &'a str,
    #[serde(flatten)]
    event: &'a RunEvent,
}

impl JsonlReporter {
    /// Creates (or truncates) `<run_dir>/events.jsonl`, creating the run folder if needed.
    pub fn create(run_dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(run_dir)?;
        let file = File::create(run_dir.join(EVENTS_FILE))?;
        Ok(Self::new(BufWriter::new(file)))
    }
}

impl<W: Write + Send> JsonlReporter<W> {
    pub fn new(out: W) -> Self {
        Self { out, seq: 0 }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Reporter for JsonlReporter<W> {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        self.seq += 1;
        let at = rfc3339_millis(OffsetDateTime::now_utc());
        let line = Line {
            seq: self.seq,
            at: &at,
            event,
        };
        let mut bytes = serde_json::to_vec(&line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.out.write_all(&bytes)?;
        self.out.flush()
    }
}

/// `2025-03-04T05:06:07.089Z`.
pub fn rfc3339_millis(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_741_064_767_089_000_000)
            .expect("valid time")
            .to_offset(time::UtcOffset::from_hms(2, 0, 0).expect("offset"));
        assert_eq!(rfc3339_millis(at), "2025-03-04T05:06:07.089Z");
    }
}
