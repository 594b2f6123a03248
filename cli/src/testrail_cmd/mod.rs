//! `jspec testrail ...`: TestRail's side of runs (docs/testrail.md).

mod export;
mod push;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum TestrailCommand {
    /// Bundle run folders into one zip: cases.xml (or cases.json), runs.csv and the API's JSON
    /// (get_run, get_tests, get_results_for_run) per run.
    Export(export::ExportArgs),
    /// Send a run folder's results to TestRail (API v2): a new or existing run, step results,
    /// transcripts as attachments.
    Push(push::PushArgs),
}

pub(crate) fn run(command: TestrailCommand) -> u8 {
    match command {
        TestrailCommand::Export(args) => export::run(&args),
        TestrailCommand::Push(args) => push::run(args),
    }
}
