//! Reading a run back from its folder: `events.jsonl`, line by line, into what the resilience
//! report needs. Runs that were interrupted (no `run_finished`) or written by another jspec
//! version are read as far as they go; lines this version does not understand are counted, not
//! fatal.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::event::DeliveryReport;
use crate::event::{CaseRef, CaseResult, LabServer, RunEvent, Status, Summary};
use crate::report::EVENTS_FILE;

/// Why a run folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: no {EVENTS_FILE} here (is it a run folder? `jspec run` writes one per run)")]
    NotARun { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: line {line} is not a run event ({reason}); the file is not events.jsonl from jspec"
    )]
    Garbage {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// One run as the report uses it.
#[derive(Clone, Debug)]
pub struct RunRecord {
    /// The run folder.
    pub dir: PathBuf,
    pub run_id: String,
    /// When the run started (RFC 3339, UTC), from its first event.
    pub started_at: String,
    pub version: String,
    pub seed: u64,
    pub lab: Vec<LabServer>,
    pub cases: Vec<CaseRecord>,
    pub summary: Option<Summary>,
    /// Why the run ended early, if it did.
    pub error: Option<String>,
    /// Lines this jspec did not understand (another version wrote them).
    pub skipped_lines: usize,
}

/// One finished case with what happened in it, on the case's clock.
#[derive(Clone, Debug)]
pub struct CaseRecord {
    pub result: CaseResult,
    pub faults: Vec<FaultRecord>,
    pub statements: Vec<StatementRecord>,
    pub deliveries: Vec<DeliveryReport>,
}

impl CaseRecord {
    pub fn case(&self) -> &CaseRef {
        &self.result.case
    }

    pub fn status(&self) -> Status {
        self.result.status
    }
}

/// A fault applied or healed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRecord {
    pub at: Duration,
    pub action: String,
    pub target: String,
    pub origin: String,
}

/// A statement of the case: when it began and ended, and whether it passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementRecord {
    pub line: usize,
    pub text: String,
    pub started: Duration,
    /// `None` when the run never recorded its end (older runs, an interruption).
    pub finished: Option<(Duration, Status)>,
}

#[derive(Deserialize)]
struct Line {
    at: String,
    #[serde(flatten)]
    event: RunEvent,
}

/// Reads the run in `dir` (a run folder, or its events.jsonl).
pub fn read_run(dir: &Path) -> Result<RunRecord, ReadError> {
    let (dir, path) = if dir.is_file() {
        let parent = dir.parent().unwrap_or(Path::new(".")).to_path_buf();
        (parent, dir.to_path_buf())
    } else {
        (dir.to_path_buf(), dir.join(EVENTS_FILE))
    };
    if !path.is_file() {
        return Err(ReadError::NotARun { path: dir });
    }
    let io = |source| ReadError::Io {
        path: path.clone(),
        source,
    };
    let reader = BufReader::new(File::open(&path).map_err(io)?);
    let mut builder = Builder::new(dir);
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(&line) {
            Ok(line) => builder.apply(line.event, &line.at),
            // A JSON object with an event this version does not know: another version's.
            Err(_) if is_event_object(&line) => builder.run.skipped_lines += 1,
            // The last line of a run that crashed mid-write is cut short: it is not garbage.
            Err(_) if builder.seen_any => builder.run.skipped_lines += 1,
            Err(reason) => {
                return Err(ReadError::Garbage {
                    path,
                    line: index + 1,
                    reason: reason.to_string(),
                });
            }
        }
    }
    if !builder.seen_any {
        return Err(ReadError::NotARun {
            path: dir_of(&path),
        });
    }
    Ok(builder.finish())
}

fn dir_of(path: &Path) -> PathBuf {
    path.parent().unwrap_or(Path::new(".")).to_path_buf()
}

fn is_event_object(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .is_some_and(|value| value.get("event").is_some_and(|e| e.is_string()))
}

/// Gathers events per case while the file is read.
struct Builder {
    run: RunRecord,
    seen_any: bool,
    /// Cases under way, by file and title (a case runs once per run).
    open: HashMap<(String, String), CaseRecord>,
}

impl Builder {
    fn new(dir: PathBuf) -> Builder {
        Builder {
            run: RunRecord {
                dir,
                run_id: String::new(),
                started_at: String::new(),
                version: String::new(),
                seed: 0,
                lab: Vec::new(),
                cases: Vec::new(),
                summary: None,
                error: None,
                skipped_lines: 0,
            },
            seen_any: false,
            open: HashMap::new(),
        }
    }

    fn case(&mut self, case: &CaseRef) -> &mut CaseRecord {
        self.open
            .entry((case.file.clone(), case.title.clone()))
            .or_insert_with(|| CaseRecord {
                result: CaseResult {
                    case: case.clone(),
                    status: Status::Retest,
                    elapsed: Duration::ZERO,
                    steps: Vec::new(),
                    reason: None,
                },
                faults: Vec::new(),
                statements: Vec::new(),
                deliveries: Vec::new(),
            })
    }

    fn apply(&mut self, event: RunEvent, at: &str) {
        self.seen_any = true;
        match event {
            RunEvent::RunStarted(start) => {
                self.run.run_id = start.run_id;
                self.run.seed = start.seed;
                self.run.version = start.jspec_version;
                self.run.started_at = at.to_string();
            }
            RunEvent::LabReady { servers, .. } => self.run.lab = servers,
            RunEvent::CaseStarted { case } => {
                self.case(&case);
            }
            RunEvent::Fault(fault) => self.case(&fault.case).faults.push(FaultRecord {
                at: fault.at,
                action: fault.action,
                target: fault.target,
                origin: fault.origin,
            }),
            RunEvent::Action {
                case,
                line,
                text,
                at,
            } => self.case(&case).statements.push(StatementRecord {
                line,
                text,
                started: at,
                finished: None,
            }),
            RunEvent::ActionFinished {
                case,
                line,
                at,
                status,
            } => {
                let record = self.case(&case);
                // Statements nest (a repeat's body): the latest open one on that line ended.
                if let Some(statement) = record
                    .statements
                    .iter_mut()
                    .rev()
                    .find(|s| s.line == line && s.finished.is_none())
                {
                    statement.finished = Some((at, status));
                }
            }
            RunEvent::Delivery { case, report } => self.case(&case).deliveries.push(report),
            RunEvent::CaseFinished { result } => {
                let key = (result.case.file.clone(), result.case.title.clone());
                let mut record = self.open.remove(&key).unwrap_or_else(|| CaseRecord {
                    result: result.clone(),
                    faults: Vec::new(),
                    statements: Vec::new(),
                    deliveries: Vec::new(),
                });
                record.result = result;
                self.run.cases.push(record);
            }
            RunEvent::RunFinished { summary, error } => {
                self.run.summary = Some(summary);
                self.run.error = error;
            }
            RunEvent::LabStarting { .. }
            | RunEvent::StepStarted { .. }
            | RunEvent::StepFinished { .. }
            | RunEvent::Stanza { .. } => {}
        }
    }

    /// Cases still open when the file ends were cut off by a crash: they count as Retest.
    fn finish(mut self) -> RunRecord {
        let mut open: Vec<CaseRecord> = self.open.into_values().collect();
        open.sort_by(|a, b| {
            a.case()
                .file
                .cmp(&b.case().file)
                .then(a.case().line.cmp(&b.case().line))
        });
        for mut record in open {
            record.result.reason = Some("the run ended before this case finished".into());
            self.run.cases.push(record);
        }
        self.run
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) {
        std::fs::write(dir.join(EVENTS_FILE), text).expect("write events");
    }

    fn temp() -> tempfile::TempDir {
        tempfile::tempdir().expect("temp dir")
    }

    const CASE: &str = r#""case":{"id":7,"title":"T","file":"f.jspec","line":3,"section":"Network","suite":null,"tags":[]}"#;

    #[test]
    fn a_run_is_read_with_its_cases_faults_and_statements() {
        let dir = temp();
        let lines = [
            r#"{"seq":1,"at":"2026-01-02T03:04:05.000Z","event":"run_started","run_id":"ab12","seed":9,"cases":1,"out_dir":"x","jspec_version":"0.1.0"}"#.to_string(),
            format!(r#"{{"seq":2,"at":"t","event":"case_started",{CASE}}}"#),
            format!(r#"{{"seq":3,"at":"t","event":"fault",{CASE},"at_ms":1000,"action":"partition","target":"a | b","origin":"line 5"}}"#),
            format!(r#"{{"seq":4,"at":"t","event":"action",{CASE},"line":6,"text":"heal a | b","at_ms":2000}}"#),
            format!(r#"{{"seq":5,"at":"t","event":"action_finished",{CASE},"line":6,"at_ms":2100,"status":"passed"}}"#),
            format!(r#"{{"seq":6,"at":"t","event":"some_future_event",{CASE}}}"#),
            format!(r#"{{"seq":7,"at":"t","event":"case_finished","result":{{{CASE},"status":"passed","elapsed_ms":3000,"steps":[],"reason":null}}}}"#),
        ];
        write(dir.path(), &lines.join("\n"));
        let run = read_run(dir.path()).expect("read");
        assert_eq!(run.run_id, "ab12");
        assert_eq!(run.started_at, "2026-01-02T03:04:05.000Z");
        assert_eq!(run.skipped_lines, 1);
        assert!(run.summary.is_none(), "the run did not finish");
        let case = &run.cases[0];
        assert_eq!(case.status(), Status::Passed);
        assert_eq!(case.faults[0].action, "partition");
        assert_eq!(
            case.statements[0].finished,
            Some((Duration::from_millis(2100), Status::Passed))
        );
    }

    #[test]
    fn a_case_cut_off_by_a_crash_is_retest() {
        let dir = temp();
        write(
            dir.path(),
            &format!(
                "{}\n{}\n{{\"seq\":3,\"at\"",
                r#"{"seq":1,"at":"t0","event":"run_started","run_id":"r","seed":1,"cases":1,"out_dir":"x","jspec_version":"0.1.0"}"#,
                format_args!(r#"{{"seq":2,"at":"t","event":"case_started",{CASE}}}"#)
            ),
        );
        let run = read_run(dir.path()).expect("read");
        assert_eq!(run.cases.len(), 1);
        assert_eq!(run.cases[0].status(), Status::Retest);
        assert_eq!(run.skipped_lines, 1, "the torn last line");
    }

    #[test]
    fn a_folder_without_events_and_a_foreign_file_are_errors() {
        let dir = temp();
        assert!(matches!(
            read_run(dir.path()),
            Err(ReadError::NotARun { .. })
        ));
        write(dir.path(), "name,status\nC1,passed\n");
        let error = read_run(dir.path()).expect_err("garbage");
        assert!(error.to_string().contains("line 1"), "{error}");
    }
}
