//! Expanding the PATH arguments: files as given, folders searched for *.jspec.

use std::path::{Path, PathBuf};

use jspec_lang::check::{CheckOptions, Report, check};
use jspec_lang::load::Program;

use crate::exit;

/// The files the PATH arguments name, as [`expand`] finds them; where a path does not exist,
/// the error is printed and the exit code returned.
pub(crate) fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, u8> {
    expand(paths).map_err(|message| {
        eprintln!("error: {message}");
        exit::SPEC_ERROR
    })
}

/// The files the PATH arguments name, loaded and checked with the default options (see
/// [`files`] for a path that does not exist).
pub(crate) fn load_checked(paths: &[PathBuf]) -> Result<(Program, Report), u8> {
    let program = Program::load(&files(paths)?);
    let report = check(&program, &CheckOptions::default());
    Ok((program, report))
}

/// The files to work on, in a stable order, or the first path that does not exist. Nothing is
/// opened here: a FIFO or device named `*.jspec` is kept, and the reader (`read_spec_file`,
/// which looks at what a path is before opening it) reports it instead of blocking on it.
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect(path, &mut files)
                .map_err(|e| format!("cannot read folder {}: {e}", path.display()))?;
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    Ok(files)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if entry.file_type()?.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "jspec") {
            files.push(path);
        }
    }
    Ok(())
}
