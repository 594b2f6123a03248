//! `jspec check`: parse and check files, print every diagnostic and a one-line summary.

use std::path::PathBuf;

use jspec_lang::check::{CheckOptions, FaultPlane, check};
use jspec_lang::diagnostic::render_all;
use jspec_lang::load::Program;

use crate::exit;
use crate::output::Style;

pub(crate) fn run(paths: &[PathBuf], deny_warnings: bool, plane: FaultPlane, style: Style) -> u8 {
    let files = match crate::paths::expand(paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::SPEC_ERROR;
        }
    };
    let program = Program::load(&files);
    let options = CheckOptions { plane: Some(plane) };
    let report = check(&program, &options);
    let rendered = render_all(
        &report.diagnostics,
        &program.sources,
        style.render_options(),
    );
    eprint!("{rendered}");
    let (errors, warnings) = (report.errors(), report.warnings());
    println!(
        "checked {} file{}, {} case{}: {} error{}, {} warning{}",
        report.files,
        plural(report.files),
        report.cases,
        plural(report.cases),
        errors,
        plural(errors),
        warnings,
        plural(warnings)
    );
    // The process ends here: freeing a large suite's syntax trees would only cost time.
    std::mem::forget(program);
    if errors > 0 || (deny_warnings && warnings > 0) {
        exit::SPEC_ERROR
    } else {
        exit::OK
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
