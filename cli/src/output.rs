//! Terminal output: colours on a terminal unless NO_COLOR says otherwise.

use std::io::IsTerminal;

use jspec_lang::diagnostic::{Diagnostic, RenderOptions, render_all};
use jspec_lang::span::SourceMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// How this invocation writes to the terminal.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    pub(crate) color: bool,
}

impl Style {
    pub(crate) fn detect(choice: ColorChoice) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stderr().is_terminal(),
        };
        Style { color }
    }

    pub(crate) fn render_options(self) -> RenderOptions {
        RenderOptions {
            color: self.color,
            ..RenderOptions::plain()
        }
    }

    /// Prints `diagnostics` to stderr, each pointing at its source line.
    pub(crate) fn eprint_diagnostics(self, diagnostics: &[Diagnostic], sources: &SourceMap) {
        eprint!(
            "{}",
            render_all(diagnostics, sources, self.render_options())
        );
    }
}

/// The async runtime of `run` and `lab`: two workers, like the machines jspec runs on; an error
/// is reported here and becomes the infrastructure exit status.
pub(crate) fn async_runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("error: cannot start the async runtime: {error}");
            crate::exit::INFRASTRUCTURE
        })
}
