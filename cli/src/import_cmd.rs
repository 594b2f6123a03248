//! `jspec import scansion FILE.scs... -o DIR`: Prosody's scansion scripts as .jspec cases.

use std::path::{Path, PathBuf};

use jspec_lang::import::scansion;

use crate::exit;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum ImportCommand {
    /// Convert scansion scripts (.scs, Prosody's protocol tests) into .jspec files, one case
    /// per script, faithful to what each script checks (docs/scansion.md).
    #[command(
        after_help = "Example:\n  jspec import scansion prosody/spec/scansion/*.scs -o specs/scansion\n  jspec check specs/scansion\n  jspec run specs/scansion --env envs/scansion.toml\n\nExit status: 0 every script was converted; 2 a script could not be read or converted (the others are still written), or a file exists (--force replaces it)."
    )]
    Scansion {
        /// The scripts to convert.
        #[arg(required = true, value_name = "FILE.scs")]
        files: Vec<PathBuf>,
        /// The folder to write NAME.jspec files into (created if missing).
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
        /// Replace .jspec files that exist already.
        #[arg(long)]
        force: bool,
    },
}

pub(crate) fn run(command: ImportCommand) -> u8 {
    match command {
        ImportCommand::Scansion { files, out, force } => scansion_files(&files, &out, force),
    }
}

fn scansion_files(files: &[PathBuf], out: &Path, force: bool) -> u8 {
    if let Err(error) = std::fs::create_dir_all(out) {
        eprintln!("error: cannot create {}: {error}", out.display());
        return exit::SPEC_ERROR;
    }
    let mut failed = 0;
    let mut written = 0;
    for file in files {
        match convert(file, out, force) {
            Ok((target, notes)) => {
                written += 1;
                let notes = match notes {
                    0 => String::new(),
                    1 => " (1 note in the file)".into(),
                    n => format!(" ({n} notes in the file)"),
                };
                println!("{} -> {}{notes}", file.display(), target.display());
            }
            Err(message) => {
                failed += 1;
                eprintln!("{message}");
            }
        }
    }
    println!(
        "imported {written} of {} script(s) into {}",
        files.len(),
        out.display()
    );
    match failed {
        0 => exit::OK,
        _ => exit::SPEC_ERROR,
    }
}

/// One script: read, convert, write; the error says which file, where and what to do.
fn convert(file: &Path, out: &Path, force: bool) -> Result<(PathBuf, usize), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("error: cannot read {}: {e}", file.display()))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string());
    let imported = scansion::import(&text, &name).map_err(|e| {
        format!(
            "error: {}:{}:{}: {}\n  help: {}",
            file.display(),
            e.line,
            e.column,
            e.message,
            e.help
        )
    })?;
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script".into());
    let target = out.join(format!("{stem}.jspec"));
    if target.exists() && !force {
        return Err(format!(
            "error: {} exists; nothing written for {}\n  help: pass --force to replace it",
            target.display(),
            file.display()
        ));
    }
    std::fs::write(&target, &imported.jspec)
        .map_err(|e| format!("error: cannot write {}: {e}", target.display()))?;
    Ok((target, imported.notes.len()))
}
