//! The `jspec` command line.

mod check_cmd;
mod fmt_cmd;
mod import_cmd;
mod lab_cmd;
mod lsp;
mod output;
mod paths;
mod report_cmd;
mod run_cmd;
mod signals;
mod testrail_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Parsing a suite allocates many small nodes; mimalloc does that markedly faster than glibc
/// (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes of design.md section 5.
pub(crate) mod exit {
    /// No case failed; a check found no errors.
    pub(crate) const OK: u8 = 0;
    /// Some case failed; `fmt --check` found files to reformat.
    pub(crate) const FAILED: u8 = 1;
    /// Usage or spec errors: nothing was run.
    pub(crate) const SPEC_ERROR: u8 = 2;
    /// The lab or other infrastructure failed.
    pub(crate) const INFRASTRUCTURE: u8 = 3;
    /// Interrupted by Ctrl-C (128 + SIGINT).
    pub(crate) const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Parser)]
#[command(
    name = "jspec",
    version,
    about = "Readable XMPP resilience scenarios, run against real servers, reported to TestRail",
    after_help = "Examples:\n  jspec check specs/\n  jspec run specs/ -j 4\n  jspec run specs/ --env envs/examples/openfire-lab.toml --tag s2s\n  jspec fmt --check specs/ tests/examples/\n  jspec lab up --servers a,b --user alice@a:secret\n  jspec testrail cases specs/ -o cases.xml\n  jspec report runs/ -o resilience.html\n\nDocs: docs/language.md (the language), docs/stdlib.md (the standard library), docs/running.md (runs and the lab), docs/environment.md (--env files), docs/testrail.md (TestRail).\nRUST_LOG=debug shows what the lab and the sessions do."
)]
struct Cli {
    /// When to colour diagnostics (NO_COLOR in the environment means never).
    #[arg(long, global = true, value_enum, default_value_t = output::ColorChoice::Auto)]
    color: output::ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and check .jspec files; report every error with its file, line and column.
    #[command(
        after_help = "Exit status: 0 when there are no errors (warnings allowed), 2 when there are errors."
    )]
    Check {
        /// Files or folders (folders are searched recursively for *.jspec).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
        /// The fault plane the specs will run on: faults it can only approximate get a warning
        /// (`proxy` or `packet`; docs/faults.md).
        #[arg(long, default_value = "proxy", value_name = "PLANE")]
        plane: jspec_runtime::fault::model::Plane,
        /// Also check the cases against an environment file: roles, nodes and accounts it
        /// lacks are errors, faults its servers cannot take are warnings (docs/environment.md).
        #[arg(long, value_name = "FILE")]
        env: Option<PathBuf>,
    },
    /// Run cases on the built-in local lab (or --env FILE) and report (console, events.jsonl, junit.xml).
    #[command(
        after_help = "Exit status: 0 no case failed (blocked cases are listed; --fail-on-blocked makes them fail), 1 some case failed, 2 spec or usage errors (nothing was run), 3 the lab or other infrastructure failed, 130 interrupted (Ctrl-C; teardown ran, the lab was stopped)."
    )]
    Run(run_cmd::RunArgs),
    /// The resilience report across runs: per component and area, the faults survived and not,
    /// recovery times and trends (HTML, Markdown or PDF).
    #[command(
        after_help = "Examples:\n  jspec report                       every run under runs/ -> resilience-report.html\n  jspec report runs/ -o weekly.md    Markdown\n  jspec report runs/2026-12-06T09-00-00.000Z runs/2026-12-07T09-00-00.000Z --pdf -o report.pdf\n\nExit status: 0 written, 2 a run folder or the findings file could not be read, or Chromium could not print."
    )]
    Report(report_cmd::ReportArgs),
    /// Convert other tools' test scripts into .jspec cases (Prosody's scansion scripts).
    #[command(subcommand)]
    Import(import_cmd::ImportCommand),
    /// Start, stop or list lab servers by hand.
    #[command(subcommand)]
    Lab(lab_cmd::LabCommand),
    /// Rewrite .jspec files in the canonical format, keeping comments.
    #[command(
        after_help = "Exit status: 0 when done (or, with --check, when nothing would change); 1 when --check finds files to reformat; 2 on syntax errors."
    )]
    Fmt {
        /// Files or folders (folders are searched recursively for *.jspec).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that are not formatted and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// TestRail: cases as import files (XML, CSV, JSON), suite exports as .jspec skeletons,
    /// run folders exported or pushed as results (docs/testrail.md).
    #[command(subcommand)]
    Testrail(testrail_cmd::TestrailCommand),
    /// Serve the Language Server Protocol over stdin and stdout (editors start this).
    #[command(
        after_help = "Diagnostics as you type, completion, hover, go to definition, document symbols, formatting and did-you-mean quick fixes (editors/README.md)."
    )]
    Lsp {
        /// Accepted and ignored: stdio is the only transport, but vscode-languageclient adds
        /// `--stdio` when told to use it (as editors/vscode does).
        #[arg(long, hide = true)]
        stdio: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = output::Style::detect(cli.color);
    // RUST_LOG=debug (or jspec_runtime=trace, ...) shows what the lab and sessions do; warnings
    // (a server left behind, a report that could not be written) are shown by default.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(style.color)
        .without_time()
        .init();
    let code = match cli.command {
        Command::Check {
            paths,
            deny_warnings,
            plane,
            env,
        } => {
            let plane = match plane {
                jspec_runtime::fault::model::Plane::Proxy => jspec_lang::check::FaultPlane::Proxy,
                jspec_runtime::fault::model::Plane::Packet => jspec_lang::check::FaultPlane::Packet,
            };
            check_cmd::run(&paths, deny_warnings, plane, env.as_deref(), style)
        }
        Command::Fmt { paths, check } => fmt_cmd::run(&paths, check, style),
        Command::Run(args) => run_cmd::run(args, style),
        Command::Report(args) => report_cmd::run(args),
        Command::Lab(command) => lab_cmd::run(command),
        Command::Import(command) => import_cmd::run(command),
        Command::Testrail(command) => testrail_cmd::run(command, style),
        Command::Lsp { stdio: _ } => match lsp::run() {
            Ok(()) => exit::OK,
            Err(error) => {
                eprintln!("error: {error:#}");
                exit::INFRASTRUCTURE
            }
        },
    };
    ExitCode::from(code)
}
