//! A per-session log of every stanza sent and received, plus session events (bound, closed),
//! kept in memory for the reporter to write into the run folder.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use minidom::Element;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
    /// Something the session itself observed (bound, stream ended).
    Event,
}

#[derive(Clone, Debug)]
pub enum Entry {
    Stanza(Element),
    Event(String),
}

#[derive(Clone, Debug)]
pub struct TranscriptRecord {
    /// Position in the transcript, from 0.
    pub seq: u64,
    pub at: Instant,
    pub wall: SystemTime,
    pub direction: Direction,
    pub entry: Entry,
}

impl TranscriptRecord {
    /// The stanza as XML text, or the event text.
    pub fn text(&self) -> String {
        match &self.entry {
            Entry::Stanza(el) => String::from(el),
            Entry::Event(text) => text.clone(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Transcript {
    records: Mutex<Vec<TranscriptRecord>>,
}

impl fmt::Debug for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transcript")
            .field("len", &self.lock().len())
            .finish()
    }
}

impl Transcript {
    // Pushes are single Vec::push calls, so a poisoned lock holds consistent data.
    fn lock(&self) -> MutexGuard<'_, Vec<TranscriptRecord>> {
        crate::sync::lock(&self.records)
    }

    pub(crate) fn stanza(&self, direction: Direction, el: &Element) {
        self.push(direction, Entry::Stanza(el.clone()));
    }

    pub(crate) fn event(&self, text: impl Into<String>) {
        self.push(Direction::Event, Entry::Event(text.into()));
    }

    fn push(&self, direction: Direction, entry: Entry) {
        let mut records = self.lock();
        let seq = records.len() as u64;
        records.push(TranscriptRecord {
            seq,
            at: Instant::now(),
            wall: SystemTime::now(),
            direction,
            entry,
        });
    }

    pub(crate) fn records(&self) -> Vec<TranscriptRecord> {
        self.lock().clone()
    }
}
