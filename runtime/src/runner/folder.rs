//! The run folder, claimed for one run: locked (two runs with the same `--out` would write into
//! each other's files) and empty (an earlier run's results are never overwritten).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// The lock file inside a run folder; it holds the PID of the run that owns the folder.
const LOCK_FILE: &str = ".jspec-run.lock";

/// A run folder this process owns until it is dropped.
#[derive(Debug)]
pub struct RunFolder {
    path: PathBuf,
    _lock: Flock<File>,
}

/// Why a folder cannot be a run folder.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("cannot create the run folder {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the run folder {path} is in use by another jspec run{}", owner.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Busy { path: PathBuf, owner: Option<u32> },
    #[error(
        "the run folder {path} is not empty (it holds {what}); jspec never overwrites results: choose another --out, or remove the folder first"
    )]
    NotEmpty { path: PathBuf, what: String },
}

impl RunFolder {
    /// Creates `path` (and its parents) if needed, locks it, and makes sure it is empty.
    pub fn claim(path: &Path) -> Result<RunFolder, FolderError> {
        let create = |source| FolderError::Create {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(path).map_err(create)?;
        let lock_path = path.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(create)?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err(_) => {
                let owner = std::fs::read_to_string(&lock_path)
                    .ok()
                    .and_then(|text| text.trim().parse().ok());
                return Err(FolderError::Busy {
                    path: path.to_path_buf(),
                    owner,
                });
            }
        };
        if let Some(what) = contents(path) {
            return Err(FolderError::NotEmpty {
                path: path.to_path_buf(),
                what,
            });
        }
        lock.set_len(0).map_err(create)?;
        writeln!(lock, "{}", std::process::id()).map_err(create)?;
        Ok(RunFolder {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What the folder holds besides the lock file ("events.jsonl and 3 more"), if anything.
fn contents(path: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(path)
        .ok()?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name != LOCK_FILE)
        .collect();
    names.sort();
    let first = names.first()?;
    Some(match names.len() {
        1 => first.clone(),
        n => format!("{first} and {} more", n - 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_claimed_once_and_never_reused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("run");
        let first = RunFolder::claim(&path).unwrap_or_else(|e| panic!("{e}"));
        match RunFolder::claim(&path) {
            Err(FolderError::Busy { owner, .. }) => assert_eq!(owner, Some(std::process::id())),
            other => panic!("a locked folder must be busy, got {other:?}"),
        }
        std::fs::write(path.join("events.jsonl"), "{}\n").unwrap_or_else(|e| panic!("{e}"));
        drop(first);
        match RunFolder::claim(&path) {
            Err(FolderError::NotEmpty { what, .. }) => assert_eq!(what, "events.jsonl"),
            other => panic!("a used folder must be refused, got {other:?}"),
        }
    }
}
