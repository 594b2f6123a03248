//! `jspec fmt`: rewrite files in the canonical format, or with `--check` list those that differ.

use std::path::PathBuf;

use jspec_lang::load::Program;
use jspec_lang::spec_file::{read_error_help, read_spec_file};
use jspec_runtime::report::write_atomic;

use crate::exit;
use crate::output::Style;

pub(crate) fn run(paths: &[PathBuf], check_only: bool, style: Style) -> u8 {
    let files = match crate::paths::files(paths) {
        Ok(files) => files,
        Err(code) => return code,
    };
    let mut unformatted = 0;
    let mut changed = 0;
    let mut broken = 0;
    for file in &files {
        // Regular files of at most 16 MiB only: a FIFO named *.jspec must not block the run.
        let text = match read_spec_file(file) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("error: cannot read {}: {error}", file.display());
                eprintln!("  help: {}", read_error_help(&error));
                broken += 1;
                continue;
            }
        };
        let Some(formatted) = jspec_lang::fmt::format_text(&text) else {
            // Show the syntax error the way `jspec check` would.
            let program = Program::from_text(&file.display().to_string(), &text);
            style.eprint_diagnostics(&program.diagnostics, &program.sources);
            broken += 1;
            continue;
        };
        if formatted == text {
            continue;
        }
        unformatted += 1;
        if check_only {
            println!("would reformat {}", file.display());
        } else if let Err(error) = write_atomic(file, formatted.as_bytes()) {
            eprintln!("error: cannot write {}: {error}", file.display());
            broken += 1;
        } else {
            changed += 1;
            println!("formatted {}", file.display());
        }
    }
    let verb = if check_only {
        "would reformat"
    } else {
        "reformatted"
    };
    let count = if check_only { unformatted } else { changed };
    println!(
        "{} file{} checked, {verb} {count}",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    if broken > 0 {
        exit::SPEC_ERROR
    } else if check_only && unformatted > 0 {
        exit::FAILED
    } else {
        exit::OK
    }
}
