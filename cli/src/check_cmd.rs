//! `jspec check`: parse and check files (and, with `--env`, bind them to an environment),
//! print every diagnostic and a one-line summary.

use std::path::{Path, PathBuf};

use jspec_lang::ast::ItemKind;
use jspec_lang::check::{CheckOptions, FaultPlane, check};
use jspec_lang::diagnostic::{Diagnostic, render_all};
use jspec_lang::load::Program;
use jspec_runtime::env::Environment;

use crate::exit;
use crate::output::Style;

pub(crate) fn run(
    paths: &[PathBuf],
    deny_warnings: bool,
    plane: FaultPlane,
    env: Option<&Path>,
    style: Style,
) -> u8 {
    let files = match crate::paths::files(paths) {
        Ok(files) => files,
        Err(code) => return code,
    };
    let program = Program::load(&files);
    let options = CheckOptions { plane: Some(plane) };
    let mut report = check(&program, &options);
    if let Some(path) = env {
        match Environment::load(path) {
            Ok(environment) => report
                .diagnostics
                .extend(environment_diagnostics(&program, &environment)),
            Err(error) => {
                eprint!("{}", error.render(style.render_options()));
                return exit::SPEC_ERROR;
            }
        }
    }
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

/// What `jspec run --env` would refuse or block, for every case of the files given.
fn environment_diagnostics(program: &Program, environment: &Environment) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for &root in &program.roots {
        let Some(ast) = &program.module(root).ast else {
            continue;
        };
        for item in &ast.items {
            if let ItemKind::Case(case) = &item.kind {
                found.extend(environment.check_case(root, case));
                found.extend(environment.unsupported_faults(root, case));
            }
        }
    }
    found
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
