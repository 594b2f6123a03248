//! `jspec testrail export RUN... -o FILE`: one zip for TestRail users.

use std::path::PathBuf;

use crate::exit;

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// Run folders (runs/<time>/), each a TestRail run in the bundle.
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// The zip to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

pub(crate) fn run(args: &ExportArgs) -> u8 {
    let _ = (&args.runs, &args.output);
    exit::SPEC_ERROR
}
