//! `jspec testrail ...`: TestRail's files made from .jspec cases and the way back, and runs
//! sent to TestRail or bundled (docs/testrail.md).

mod cases;
mod export;
mod import;
mod push;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::Subcommand;

use crate::output::Style;

#[derive(Debug, Subcommand)]
pub(crate) enum TestrailCommand {
    /// Write the cases of .jspec files as a TestRail import file (suite XML, multi-row CSV) or
    /// as add_case JSON bodies.
    #[command(
        after_help = "Examples:\n  jspec testrail cases specs/ -o cases.xml\n  jspec testrail cases specs/pki --format csv -o pki.csv\n  jspec testrail cases smoke.jspec --format json -o -\n\nExit status: 0 when written, 2 when the files have errors (nothing is written), 3 when the output cannot be written."
    )]
    Cases(cases::CasesArgs),
    /// Turn a TestRail suite XML export into .jspec skeletons, one file per section.
    #[command(
        after_help = "Example:\n  jspec testrail import suite.xml -o specs/imported\n\nExit status: 0 when written, 2 when the XML cannot be read, 3 when a file cannot be written."
    )]
    Import(import::ImportArgs),
    /// Bundle run folders into one zip: cases.xml, runs.csv and the API's JSON (get_run,
    /// get_tests, get_results_for_run) per run.
    Export(export::ExportArgs),
    /// Send a run folder's results to TestRail (API v2): a new or existing run, step results,
    /// transcripts as attachments.
    Push(push::PushArgs),
}

pub(crate) fn run(command: TestrailCommand, style: Style) -> u8 {
    match command {
        TestrailCommand::Cases(args) => cases::run(args, style),
        TestrailCommand::Import(args) => import::run(args),
        TestrailCommand::Export(args) => export::run(&args),
        TestrailCommand::Push(args) => push::run(args),
    }
}

/// Writes `text` to `path` whole or not at all: into a temporary file beside it, then renamed
/// over it (a reader never sees half a file). `-` is standard output.
pub(crate) fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    if path == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        return Ok(stdout.flush()?);
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
