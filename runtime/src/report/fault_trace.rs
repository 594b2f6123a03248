//! `faults.jsonl`: the run's fault trace, streamed as it happens. The first line holds the
//! master seed; each further line is one fault applied or healed: the case, the time since the
//! case started, the action, its target and who did it. The same seed gives the same faults.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde_json::json;

use crate::event::{Reporter, RunEvent};

/// The file name in the run folder.
pub const FAULTS_FILE: &str = "faults.jsonl";

#[derive(Debug)]
pub struct FaultTraceReporter<W: Write + Send = BufWriter<File>> {
    out: W,
}

impl FaultTraceReporter {
    pub fn create(run_dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(run_dir)?;
        Ok(Self::new(BufWriter::new(File::create(
            run_dir.join(FAULTS_FILE),
        )?)))
    }
}

impl<W: Write + Send> FaultTraceReporter<W> {
    pub fn new(out: W) -> Self {
        Self { out }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Reporter for FaultTraceReporter<W> {
    fn on_event(&mut self, event: &RunEvent) -> io::Result<()> {
        let line = match event {
            RunEvent::RunStarted(start) => json!({ "run": start.run_id, "seed": start.seed }),
            RunEvent::Fault(fault) => json!({
                "case": fault.case.id.map_or_else(|| fault.case.title.clone(), |id| format!("C{id}")),
                "at_ms": fault.at.as_millis() as u64,
                "action": fault.action,
                "target": fault.target,
                "origin": fault.origin,
            }),
            _ => return Ok(()),
        };
        let mut bytes = serde_json::to_vec(&line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.out.write_all(&bytes)?;
        self.out.flush()
    }
}
