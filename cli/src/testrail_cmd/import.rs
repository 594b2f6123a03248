//! `jspec testrail import FILE.xml -o DIR`: a TestRail suite XML export as .jspec skeletons,
//! one file per section path (`DIR/pki/server-to-server.jspec`); existing files are replaced.

use std::path::PathBuf;

use jspec_testrail::skeleton::skeletons;
use jspec_testrail::suite_xml;

use crate::exit;

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// A suite exported from TestRail as XML (or written by `jspec testrail cases`).
    #[arg(value_name = "FILE.xml")]
    file: PathBuf,
    /// The folder to write the .jspec files into (created if missing).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
}

pub(crate) fn run(args: ImportArgs) -> u8 {
    let suite = match std::fs::read_to_string(&args.file) {
        Ok(xml) => suite_xml::read(&xml),
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", args.file.display());
            return exit::SPEC_ERROR;
        }
    };
    let files = match suite.map(|suite| skeletons(&suite)) {
        Ok(Ok(files)) => files,
        Ok(Err(error)) => {
            eprintln!("error: {error}");
            return exit::INFRASTRUCTURE;
        }
        Err(error) => {
            eprintln!("error: {}: {error}", args.file.display());
            return exit::SPEC_ERROR;
        }
    };
    for file in &files {
        let path = args.output.join(&file.path);
        if let Err(error) = super::write_atomically(&path, &file.text) {
            eprintln!("error: {error:#}");
            return exit::INFRASTRUCTURE;
        }
        println!("wrote {}", path.display());
    }
    exit::OK
}
