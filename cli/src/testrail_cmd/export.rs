//! `jspec testrail export RUN... -o FILE`: run folders as one zip (docs/testrail.md, "Export").

use std::path::PathBuf;

use jspec_testrail::export::{read_runs, write_bundle};

use crate::exit;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 written, 2 a run folder cannot be read, 3 the zip cannot be written."
)]
pub(crate) struct ExportArgs {
    /// Run folders (runs/<time>/), each a run in the bundle (R1, R2, ... in this order).
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// The zip to write (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

pub(crate) fn run(args: &ExportArgs) -> u8 {
    let runs = match read_runs(&args.runs) {
        Ok(runs) => runs,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::SPEC_ERROR;
        }
    };
    match write_bundle(&runs, &args.output) {
        Ok(entries) => {
            let cases: usize = runs.iter().map(|r| r.recorded.cases.len()).sum();
            println!(
                "wrote {} ({} run(s), {cases} test(s)): {}",
                args.output.display(),
                runs.len(),
                entries.join(", ")
            );
            exit::OK
        }
        Err(error) => {
            eprintln!("error: {error}");
            exit::INFRASTRUCTURE
        }
    }
}
