//! `jspec testrail push RUN`: the run folder's `testrail-results.json` into a TestRail run.

use std::path::PathBuf;
use std::time::Duration;

use jspec_testrail::api::{Credentials, DryRun, HttpTransport};
use jspec_testrail::push::{Project, PushPlan, PushReport, Target, push};
use jspec_testrail::run_folder::read_results;

use crate::exit;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Credentials: TESTRAIL_USER and TESTRAIL_API_KEY (or TESTRAIL_PASSWORD); never printed.\nExit status: 0 pushed (or printed with --dry-run), 2 usage errors or an unreadable run folder, 3 TestRail refused or failed."
)]
pub(crate) struct PushArgs {
    /// The run folder (runs/<time>/) holding testrail-results.json.
    #[arg(value_name = "RUN")]
    run: PathBuf,
    /// The TestRail instance, e.g. https://example.testrail.io
    #[arg(long, value_name = "URL")]
    url: String,
    /// The project: its name, or its id (12 or P12).
    #[arg(long, value_name = "NAME|ID")]
    project: String,
    /// The suite the cases belong to (S3 or 3).
    #[arg(long, value_name = "ID", value_parser = parse_suite)]
    suite: u64,
    /// Name of the new run (default: "jspec <run folder name>").
    #[arg(long, value_name = "NAME", conflicts_with = "run_id")]
    run_name: Option<String>,
    /// Add the results to this existing run (R7 or 7); missing cases are added to it.
    #[arg(long, value_name = "ID", value_parser = parse_run)]
    run_id: Option<u64>,
    /// Close the run once the results are in.
    #[arg(long)]
    close: bool,
    /// Print the requests (method, URL, JSON body) instead of sending them.
    #[arg(long)]
    dry_run: bool,
    /// Give up when the whole push, retries included, takes longer than this.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = jspec_runtime::env::parse_duration)]
    deadline: Duration,
}

pub(crate) fn run(args: PushArgs) -> u8 {
    let body = match read_results(&args.run) {
        Ok(body) => body,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::SPEC_ERROR;
        }
    };
    let plan = PushPlan {
        run_folder: args.run.clone(),
        project: Project::parse(&args.project),
        suite_id: args.suite,
        target: match (args.run_id, &args.run_name) {
            (Some(id), _) => Target::Run(id),
            (None, Some(name)) => Target::NewRun(name.clone()),
            (None, None) => Target::NewRun(default_run_name(&args.run)),
        },
        close: args.close,
    };
    if args.dry_run {
        let mut api = DryRun::new(&args.url, &args.project, std::io::stdout());
        return finish(push(&mut api, &plan, &body), true);
    }
    let credentials = match credentials() {
        Ok(credentials) => credentials,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::SPEC_ERROR;
        }
    };
    let mut api = HttpTransport::new(&args.url, credentials, args.deadline);
    finish(push(&mut api, &plan, &body), false)
}

fn finish(outcome: Result<PushReport, jspec_testrail::push::PushError>, dry: bool) -> u8 {
    match outcome {
        Ok(report) if dry => {
            println!(
                "dry run: {} result(s), {} attachment(s); nothing was sent",
                report.results, report.attachments
            );
            exit::OK
        }
        Ok(report) => {
            println!(
                "pushed {} result(s) and {} attachment(s) to run R{}",
                report.results, report.attachments, report.run_id
            );
            exit::OK
        }
        Err(error) => {
            eprintln!("error: {error}");
            exit::INFRASTRUCTURE
        }
    }
}

/// TESTRAIL_USER with TESTRAIL_API_KEY, else TESTRAIL_PASSWORD.
fn credentials() -> Result<Credentials, String> {
    let user = std::env::var("TESTRAIL_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .ok_or("set TESTRAIL_USER (and TESTRAIL_API_KEY or TESTRAIL_PASSWORD)")?;
    let secret = ["TESTRAIL_API_KEY", "TESTRAIL_PASSWORD"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|s| !s.is_empty()))
        .ok_or("set TESTRAIL_API_KEY (or TESTRAIL_PASSWORD) for TESTRAIL_USER")?;
    Ok(Credentials { user, secret })
}

fn default_run_name(run: &std::path::Path) -> String {
    let folder = run
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| run.display().to_string());
    format!("jspec {folder}")
}

fn parse_suite(text: &str) -> Result<u64, String> {
    parse_id(text, 'S', "a suite id such as S3")
}

fn parse_run(text: &str) -> Result<u64, String> {
    parse_id(text, 'R', "a run id such as R7")
}

fn parse_id(text: &str, prefix: char, what: &str) -> Result<u64, String> {
    text.strip_prefix(prefix)
        .unwrap_or(text)
        .parse()
        .map_err(|_| format!("`{text}` is not {what}"))
}
