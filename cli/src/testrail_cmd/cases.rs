//! `jspec testrail cases PATH... --format xml|csv|json -o FILE`: check the files like `jspec
//! check`, then write their cases in one of TestRail's forms.

use std::path::PathBuf;

use jspec_testrail::case_text::program_cases;
use jspec_testrail::model::CaseText;
use jspec_testrail::{case_csv, case_json, suite_xml};

use crate::exit;
use crate::output::Style;

#[derive(Debug, clap::Args)]
pub(crate) struct CasesArgs {
    /// Files or folders (folders are searched recursively for *.jspec).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// xml: TestRail's suite XML import file; csv: its multi-row case CSV (one row per step);
    /// json: add_case request bodies with their section paths.
    #[arg(long, value_enum, default_value_t = Format::Xml)]
    format: Format,
    /// Where to write; `-` is standard output.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The suite name of the XML file (default: the files' `suite`, else "jspec").
    #[arg(long, value_name = "NAME")]
    suite: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Xml,
    Csv,
    Json,
}

pub(crate) fn run(args: CasesArgs, style: Style) -> u8 {
    let (program, report) = match crate::paths::load_checked(&args.paths) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    style.eprint_diagnostics(&report.diagnostics, &program.sources);
    if report.errors() > 0 {
        eprintln!(
            "error: {} error{} in the files: nothing written",
            report.errors(),
            if report.errors() == 1 { "" } else { "s" }
        );
        return exit::SPEC_ERROR;
    }
    let cases = program_cases(&program);
    let text = match render(&cases, &args) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("error: {error:#}");
            return exit::INFRASTRUCTURE;
        }
    };
    if let Err(error) = super::write_atomically(&args.output, &text) {
        eprintln!("error: {error:#}");
        return exit::INFRASTRUCTURE;
    }
    if args.output != std::path::Path::new("-") {
        eprintln!(
            "wrote {} case{} to {}",
            cases.len(),
            if cases.len() == 1 { "" } else { "s" },
            args.output.display()
        );
    }
    exit::OK
}

fn render(cases: &[CaseText], args: &CasesArgs) -> anyhow::Result<String> {
    Ok(match args.format {
        Format::Xml => {
            let name = args
                .suite
                .clone()
                .or_else(|| cases.iter().find_map(|c| c.suite.clone()))
                .unwrap_or_else(|| "jspec".to_string());
            suite_xml::write(&suite_xml::Suite::from_cases(&name, cases))
        }
        Format::Csv => case_csv::write(cases)?,
        Format::Json => case_json::write(cases)?,
    })
}
