//! What a run folder (`runs/<time>/`) holds for TestRail: `testrail-results.json`, the finished
//! cases in `events.jsonl`, and each case's transcripts (`transcripts/C123/*.log`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::results::{TESTRAIL_RESULTS_FILE, TestrailResults};
use jspec_results::EVENTS_FILE;
use serde::Deserialize;

/// Why a run folder cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RunFolderError {
    #[error("cannot read {path}: {source} (is it a run folder written by `jspec run`?)")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not what `jspec run` writes: {source}")]
    Parse {
        path: String,
        line: usize,
        source: serde_json::Error,
    },
}

/// `testrail-results.json` of the run folder.
pub fn read_results(run: &Path) -> Result<TestrailResults, RunFolderError> {
    let path = run.join(TESTRAIL_RESULTS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| RunFolderError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| RunFolderError::Parse {
        path: path.display().to_string(),
        line: source.line(),
        source,
    })
}

/// The transcript files of case `C<id>`, sorted by name (none when the case opened no session).
pub fn transcripts(run: &Path, case_id: u64) -> Vec<PathBuf> {
    let dir = run.join("transcripts").join(format!("C{case_id}"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// A run as `events.jsonl` recorded it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordedRun {
    /// The run folder's name (`2026-11-25T18-38-12.123Z`).
    pub name: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub jspec_version: Option<String>,
    pub cases: Vec<RecordedCase>,
}

/// A finished case (the `case_finished` event's `result`), with when it finished.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RecordedCase {
    pub case: RecordedRef,
    pub status: String,
    pub elapsed_ms: u64,
    pub steps: Vec<RecordedStep>,
    pub reason: Option<String>,
    #[serde(skip)]
    pub finished_at: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RecordedRef {
    pub id: Option<u64>,
    pub title: String,
    pub section: Option<String>,
    pub suite: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RecordedStep {
    pub kind: String,
    pub title: String,
    pub status: String,
    /// The step's actions in plain English (absent in runs of jspec before 0.1's TestRail
    /// support).
    #[serde(default)]
    pub actions: Vec<String>,
    pub expected: Vec<String>,
    pub actual: String,
}

#[derive(Deserialize)]
struct Line {
    event: String,
    at: String,
    jspec_version: Option<String>,
    /// A step's result in `step_finished`, a case's in `case_finished`: decoded by event.
    result: Option<serde_json::Value>,
}

/// Reads `events.jsonl` of a run folder. A last line cut short by a crash is ignored.
pub fn read_run(run: &Path) -> Result<RecordedRun, RunFolderError> {
    let path = run.join(EVENTS_FILE);
    let shown = path.display().to_string();
    let file = std::fs::File::open(&path).map_err(|source| RunFolderError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut recorded = RecordedRun {
        name: run.file_name().map_or_else(
            || run.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        ..RecordedRun::default()
    };
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|source| RunFolderError::Read {
            path: shown.clone(),
            source,
        })?;
    let last = lines.len();
    for (index, text) in lines.iter().enumerate() {
        let line: Line = match serde_json::from_str(text) {
            Ok(line) => line,
            Err(_) if index + 1 == last => break,
            Err(source) => {
                return Err(RunFolderError::Parse {
                    path: shown,
                    line: index + 1,
                    source,
                });
            }
        };
        match line.event.as_str() {
            "run_started" => {
                recorded.started_at = Some(line.at);
                recorded.jspec_version = line.jspec_version;
            }
            "case_finished" => {
                let value = line.result.unwrap_or_default();
                let mut case: RecordedCase =
                    serde_json::from_value(value).map_err(|source| RunFolderError::Parse {
                        path: shown.clone(),
                        line: index + 1,
                        source,
                    })?;
                case.finished_at = line.at;
                recorded.cases.push(case);
            }
            "run_finished" => recorded.finished_at = Some(line.at),
            _ => {}
        }
    }
    Ok(recorded)
}
