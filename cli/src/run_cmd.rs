//! `jspec run`: check the specs, start the local lab, run the selected cases, report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jspec_lang::check::{FaultPlane, plane_warnings};
use jspec_runtime::env::{Environment, LocalRole};
use jspec_runtime::event::Status;
use jspec_runtime::exec::RunOptions;
use jspec_runtime::fault::model::{Plane, TcpTimeouts};
use jspec_runtime::plan::{Selection, plan};
use jspec_runtime::report::{
    ConsoleReporter, Fanout, FaultTraceReporter, HtmlReporter, JsonlReporter, JunitReporter,
    Verbosity,
};
use jspec_runtime::runner::{FolderError, RunControl, RunEnd, RunFolder, RunOutcome, Runner};
use jspec_runtime::xmpp::{Limits, Mutation};
use jspec_testrail::results::TestrailReporter;

use crate::exit;
use crate::output::Style;
use crate::signals::Signals;

/// The options of `jspec run` (see `jspec run --help`).
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Files or folders (folders are searched recursively for *.jspec).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Environment file binding the cases' server roles (docs/environment.md); default: the
    /// built-in local lab, one managed Prosody per role.
    #[arg(long, value_name = "FILE")]
    env: Option<PathBuf>,
    /// Run folder (events.jsonl, junit.xml, transcripts, server logs); default runs/<time>/.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Cases run at once.
    #[arg(short = 'j', long, default_value_t = 1, value_name = "N")]
    jobs: usize,
    /// Master seed for everything random (printed and stored with the run); default random.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Run only these cases (C123); may be repeated.
    #[arg(long = "case", value_name = "C123", value_parser = parse_case_id)]
    cases: Vec<u64>,
    /// Where network faults are injected: `proxy` (a TCP proxy per link, no privileges) or
    /// `packet` (network namespaces, nftables, NFQUEUE, tc; root). Default: the environment's,
    /// else proxy. See docs/faults.md.
    #[arg(long, value_name = "PLANE")]
    plane: Option<Plane>,
    /// A connection held by a cut longer than this is reset, as TCP gives up retransmitting
    /// (Linux: tcp_retries2 = 15, about 15m25s).
    #[arg(long, default_value = "924600ms", value_name = "DURATION", value_parser = jspec_runtime::env::parse_duration)]
    cut_timeout: Duration,
    /// Run only cases with this tag; may be repeated.
    #[arg(long = "tag", value_name = "NAME")]
    tags: Vec<String>,
    /// Do not run cases with this tag, whatever else selects them; may be repeated.
    #[arg(long = "skip-tag", value_name = "NAME")]
    skip_tags: Vec<String>,
    /// Deadline of an expectation without `within` (default: the environment's, 10s).
    #[arg(long, value_name = "DURATION", value_parser = jspec_runtime::env::parse_duration)]
    timeout: Option<Duration>,
    /// A case still running after this is stopped and counted as failed.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = jspec_runtime::env::parse_duration)]
    case_timeout: Duration,
    /// Exit 1 when a case is blocked (a requirement the lab lacks), not only when one fails.
    #[arg(long)]
    fail_on_blocked: bool,
    /// Print every statement as it runs.
    #[arg(short, long, conflicts_with = "quiet")]
    verbose: bool,
    /// Print only failures and the summary.
    #[arg(short, long)]
    quiet: bool,
    /// A server whose elements nest deeper than this ends the session with a protocol
    /// violation (the case fails): a hostile server cannot exhaust jspec's stack.
    #[arg(long, default_value_t = Limits::default().max_depth, value_name = "N")]
    max_depth: u32,
    /// A server stanza larger than this many bytes ends the session with a protocol violation:
    /// a hostile server cannot exhaust jspec's memory.
    #[arg(long, default_value_t = Limits::default().max_stanza_bytes, value_name = "BYTES")]
    max_stanza_bytes: usize,
    /// Test jspec itself: every session receives its first message wrongly (drop, duplicate,
    /// delay, alter, reorder, stamp), and cases that check it must fail (docs/mutation.md).
    #[arg(long, hide = true, value_name = "OPERATOR")]
    mutate: Option<Mutation>,
}

pub(crate) fn run(args: RunArgs, style: Style) -> u8 {
    let (program, report) = match crate::paths::load_checked(&args.paths) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if report.has_errors() {
        style.eprint_diagnostics(&report.diagnostics, &program.sources);
        eprintln!(
            "error: {} error(s) in the specs; nothing was run (see `jspec check`)",
            report.errors()
        );
        return exit::SPEC_ERROR;
    }
    let selection = Selection {
        case_ids: args.cases.clone(),
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
    };
    let planned = plan(&program, &selection);
    if planned.is_empty() {
        eprintln!("error: no case to run (check the paths, --case, --tag and --skip-tag)");
        return exit::SPEC_ERROR;
    }
    let environment = match &args.env {
        Some(path) => match Environment::load(path) {
            Ok(environment) => environment,
            Err(error) => {
                eprint!("{}", error.render(style.render_options()));
                return exit::SPEC_ERROR;
            }
        },
        None => Environment::local_with(&local_roles(&planned)),
    };
    let plane = args.plane.unwrap_or(environment.defaults.plane);
    let lang_plane = match plane {
        Plane::Proxy => FaultPlane::Proxy,
        Plane::Packet => FaultPlane::Packet,
    };
    let warnings = plane_warnings(&program, lang_plane);
    if !warnings.is_empty() && !args.quiet {
        style.eprint_diagnostics(&warnings, &program.sources);
    }
    let seed = args.seed.unwrap_or_else(random_seed);
    let out_dir = args.out.clone().unwrap_or_else(default_run_dir);
    let options = RunOptions {
        out_dir: out_dir.clone(),
        jobs: args.jobs.max(1),
        default_timeout: args.timeout.unwrap_or(environment.defaults.timeout),
        case_timeout: args.case_timeout,
        seed,
        run_tag: format!("{:04x}", seed % 0xffff),
        plane,
        tcp_timeouts: TcpTimeouts {
            established: args.cut_timeout,
            ..TcpTimeouts::default()
        },
        mutation: args.mutate,
        limits: Limits {
            max_depth: args.max_depth,
            max_stanza_bytes: args.max_stanza_bytes,
        },
    };
    let runner = Runner {
        program: &program,
        planned: &planned,
        environment: &environment,
        options,
    };
    // Errors stop the run; warnings (faults the environment cannot take) are shown unless
    // --quiet, and those cases end Blocked.
    let found = runner.check_environment();
    let lacking = found.iter().any(|d| d.is_error());
    if lacking || (!found.is_empty() && !args.quiet) {
        style.eprint_diagnostics(&found, &program.sources);
    }
    if lacking {
        eprintln!(
            "error: the environment lacks what the cases need; nothing was run (docs/environment.md)"
        );
        return exit::SPEC_ERROR;
    }
    // Held until the run ends: no other run writes into this folder meanwhile.
    let _folder = match RunFolder::claim(&out_dir) {
        Ok(folder) => folder,
        Err(error) => {
            eprintln!("error: {error}");
            return match error {
                FolderError::Create { .. } => exit::INFRASTRUCTURE,
                FolderError::Busy { .. } | FolderError::NotEmpty { .. } => exit::SPEC_ERROR,
            };
        }
    };
    let runtime = match crate::output::async_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let verbosity = if args.verbose {
        Verbosity::Verbose
    } else if args.quiet {
        Verbosity::Quiet
    } else {
        Verbosity::Normal
    };
    runtime.block_on(async {
        let reporters = match reporters(&out_dir, style, verbosity) {
            Ok(reporters) => reporters,
            Err(message) => {
                eprintln!("error: {message}");
                return exit::INFRASTRUCTURE;
            }
        };
        let control = RunControl::default();
        let signals = Signals::listen(control.clone());
        let outcome = runner.run(reporters, control).await;
        let signal = signals.received();
        exit_code(&outcome, signal, args.fail_on_blocked)
    })
}

/// The console, events.jsonl, faults.jsonl, junit.xml, testrail-results.json and report.html
/// reporters.
fn reporters(out_dir: &Path, style: Style, verbosity: Verbosity) -> Result<Fanout, String> {
    let mut reporters = Fanout::new().with(
        "console",
        ConsoleReporter::new(Box::new(std::io::stdout()), style.color, verbosity),
    );
    let jsonl = JsonlReporter::create(out_dir)
        .map_err(|e| format!("cannot write events.jsonl in {}: {e}", out_dir.display()))?;
    reporters.push("events.jsonl", jsonl);
    let trace = FaultTraceReporter::create(out_dir)
        .map_err(|e| format!("cannot write faults.jsonl in {}: {e}", out_dir.display()))?;
    reporters.push("faults.jsonl", trace);
    reporters.push("junit.xml", JunitReporter::new(out_dir));
    reporters.push("testrail-results.json", TestrailReporter::new(out_dir));
    reporters.push("report.html", HtmlReporter::new(out_dir));
    Ok(reporters)
}

/// The exit status of a run: a signal's conventional 128 + N, 3 when the lab or jspec failed
/// (also for one case), 1 when a case failed (or was blocked, with `--fail-on-blocked`).
fn exit_code(outcome: &RunOutcome, signal: Option<i32>, fail_on_blocked: bool) -> u8 {
    if outcome.end == RunEnd::Interrupted {
        return signal.map_or(exit::INTERRUPTED, |n| (128 + n) as u8);
    }
    if matches!(outcome.end, RunEnd::LabFailed(_)) || outcome.any(Status::Error) {
        return exit::INFRASTRUCTURE;
    }
    if outcome.any(Status::Failed) || (fail_on_blocked && outcome.any(Status::Blocked)) {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// The server roles the cases name, for the built-in local lab: single servers, and clusters
/// with their nodes and the database the case names beside them.
fn local_roles(planned: &[jspec_runtime::plan::PlannedCase<'_>]) -> Vec<LocalRole> {
    use jspec_lang::ast::CaseEntryKind;
    let mut roles: std::collections::BTreeMap<String, LocalRole> = Default::default();
    for planned in planned {
        let database = planned
            .case
            .entries
            .iter()
            .find_map(|entry| match &entry.kind {
                CaseEntryKind::Databases(list) => list.first(),
                _ => None,
            });
        for entry in &planned.case.entries {
            let CaseEntryKind::Servers(list) = &entry.kind else {
                continue;
            };
            for role in list {
                let local = roles
                    .entry(role.name.text.clone())
                    .or_insert_with(|| LocalRole {
                        role: role.name.text.clone(),
                        nodes: Vec::new(),
                        database: None,
                        database_nodes: Vec::new(),
                    });
                // The most nodes any case names: a case may use fewer of them.
                if role.nodes.len() > local.nodes.len() {
                    local.nodes = role.nodes.iter().map(|n| n.text.clone()).collect();
                }
                if let Some(database) = database.filter(|_| !role.nodes.is_empty()) {
                    if local.database.is_none() {
                        local.database = Some(database.name.text.clone());
                    }
                    // The most nodes any case names, as for the servers.
                    if database.nodes.len() > local.database_nodes.len() {
                        local.database_nodes =
                            database.nodes.iter().map(|n| n.text.clone()).collect();
                    }
                }
            }
        }
    }
    roles.into_values().collect()
}

fn parse_case_id(text: &str) -> Result<u64, String> {
    text.trim_start_matches(['C', 'c'])
        .parse()
        .map_err(|_| format!("`{text}` is not a case id such as C123"))
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

/// `runs/2026-11-25T18-38-12.123Z`: sortable, and safe in any file system.
fn default_run_dir() -> PathBuf {
    let now = jspec_runtime::report::rfc3339_millis(time::OffsetDateTime::now_utc());
    PathBuf::from("runs").join(now.replace(':', "-"))
}
