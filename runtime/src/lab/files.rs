//! Writing the lab's files (configurations, keys, keytabs): an error names the file.

use std::io;
use std::path::PathBuf;

/// A lab file or folder that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl WriteError {
    /// For `map_err`: the error of writing `path`.
    pub(crate) fn at(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> WriteError {
        let path = path.into();
        move |source| WriteError { path, source }
    }
}

/// Writes `contents` to `path`.
pub(crate) fn write_file(path: PathBuf, contents: impl AsRef<[u8]>) -> Result<(), WriteError> {
    std::fs::write(&path, contents).map_err(WriteError::at(path))
}

/// Creates the folder `path` and its parents.
pub(crate) fn create_dir(path: PathBuf) -> Result<(), WriteError> {
    std::fs::create_dir_all(&path).map_err(WriteError::at(path))
}
