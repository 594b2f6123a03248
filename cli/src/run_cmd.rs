//! `jspec run`: check the specs, start the local lab, run the selected cases, report.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jspec_lang::check::{CheckOptions, FaultPlane, check, plane_warnings};
use jspec_lang::diagnostic::render_all;
use jspec_lang::load::Program;
use jspec_runtime::env::Environment;
use jspec_runtime::event::{RunEvent, Status};
use jspec_runtime::exec::binding::{bind, roles_of};
use jspec_runtime::exec::{RunOptions, run_cases};
use jspec_runtime::fault::control::FaultControl;
use jspec_runtime::fault::model::{Plane, TcpTimeouts};
use jspec_runtime::fault::proxy::ProxyPlane;
use jspec_runtime::lab::Lab;
use jspec_runtime::plan::{Selection, plan};
use jspec_runtime::report::{
    ConsoleReporter, Fanout, FaultTraceReporter, JsonlReporter, JunitReporter, TestrailReporter,
    Verbosity,
};
use tokio_util::sync::CancellationToken;

use crate::exit;
use crate::output::Style;

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
}

pub(crate) fn run(args: RunArgs, style: Style) -> u8 {
    let files = match crate::paths::expand(&args.paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::SPEC_ERROR;
        }
    };
    let program = Program::load(&files);
    let report = check(&program, &CheckOptions::default());
    if report.has_errors() {
        eprint!(
            "{}",
            render_all(
                &report.diagnostics,
                &program.sources,
                style.render_options()
            )
        );
        eprintln!(
            "error: {} error(s) in the specs; nothing was run (see `jspec check`)",
            report.errors()
        );
        return exit::SPEC_ERROR;
    }
    let selection = Selection {
        case_ids: args.cases.clone(),
        tags: args.tags.clone(),
    };
    let planned = plan(&program, &selection);
    if planned.is_empty() {
        eprintln!("error: no case to run (check the paths, --case and --tag)");
        return exit::SPEC_ERROR;
    }
    let roles = roles_of(&planned);
    let environment = match &args.env {
        Some(path) => match Environment::load(path) {
            Ok(environment) => environment,
            Err(error) => {
                eprint!("{}", error.render(style.render_options()));
                return exit::SPEC_ERROR;
            }
        },
        None => {
            let single: Vec<&str> = single_roles(&planned);
            Environment::local(&single)
        }
    };
    let plane = args.plane.unwrap_or(environment.defaults.plane);
    let lang_plane = match plane {
        Plane::Proxy => FaultPlane::Proxy,
        Plane::Packet => FaultPlane::Packet,
    };
    let warnings = plane_warnings(&program, lang_plane);
    if !warnings.is_empty() && !args.quiet {
        eprint!(
            "{}",
            render_all(&warnings, &program.sources, style.render_options())
        );
    }
    let seed = args.seed.unwrap_or_else(random_seed);
    let out_dir = args.out.clone().unwrap_or_else(default_run_dir);
    if let Err(error) = std::fs::create_dir_all(&out_dir) {
        eprintln!(
            "error: cannot create the run folder {}: {error}",
            out_dir.display()
        );
        return exit::INFRASTRUCTURE;
    }
    let runtime = match crate::output::async_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
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
    };
    let verbosity = if args.verbose {
        Verbosity::Verbose
    } else if args.quiet {
        Verbosity::Quiet
    } else {
        Verbosity::Normal
    };
    runtime.block_on(run_async(
        &program,
        &planned,
        &environment,
        &roles,
        options,
        style,
        verbosity,
        args.fail_on_blocked,
    ))
}

async fn run_async(
    program: &Program,
    planned: &[jspec_runtime::plan::PlannedCase<'_>],
    environment: &Environment,
    roles: &[String],
    options: RunOptions,
    style: Style,
    verbosity: Verbosity,
    fail_on_blocked: bool,
) -> u8 {
    let mut reporters = Fanout::new().with(
        "console",
        ConsoleReporter::new(Box::new(std::io::stdout()), style.color, verbosity),
    );
    match JsonlReporter::create(&options.out_dir) {
        Ok(jsonl) => reporters.push("events.jsonl", jsonl),
        Err(error) => {
            eprintln!(
                "error: cannot write events.jsonl in {}: {error}",
                options.out_dir.display()
            );
            return exit::INFRASTRUCTURE;
        }
    }
    match FaultTraceReporter::create(&options.out_dir) {
        Ok(trace) => reporters.push("faults.jsonl", trace),
        Err(error) => {
            eprintln!(
                "error: cannot write faults.jsonl in {}: {error}",
                options.out_dir.display()
            );
            return exit::INFRASTRUCTURE;
        }
    }
    reporters.push("junit.xml", JunitReporter::new(&options.out_dir));
    reporters.push(
        "testrail-results.json",
        TestrailReporter::new(&options.out_dir),
    );
    let (events, mut receiver) = tokio::sync::mpsc::unbounded_channel::<RunEvent>();
    let reporting = tokio::spawn(async move {
        while let Some(event) = receiver.recv().await {
            reporters.send(&event);
        }
    });
    let _ = events.send(RunEvent::RunStarted {
        run_id: options.run_tag.clone(),
        seed: options.seed,
        cases: planned.len(),
        out_dir: options.out_dir.display().to_string(),
        jspec_version: env!("CARGO_PKG_VERSION").to_string(),
    });

    let cancel = CancellationToken::new();
    let interrupt = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\ninterrupted: stopping the cases (teardown still runs), then the lab");
                cancel.cancel();
            }
        })
    };

    // The roles the environment has; cases naming others are blocked with the reason.
    let known: Vec<&str> = roles
        .iter()
        .map(String::as_str)
        .filter(|r| environment.server(r).is_some())
        .collect();
    let proxy = match options.plane {
        Plane::Proxy => Some(Arc::new(ProxyPlane::new(options.tcp_timeouts))),
        Plane::Packet => None,
    };
    let spec = match environment.lab_spec(&known) {
        Ok(mut spec) => {
            spec.proxy = proxy.clone();
            spec.packet = options.plane == Plane::Packet;
            spec
        }
        Err(error) => {
            eprint!("{}", error.render(style.render_options()));
            drop(events);
            let _ = reporting.await;
            return exit::SPEC_ERROR;
        }
    };
    let started = std::time::Instant::now();
    let lab = if spec.servers.is_empty() {
        None
    } else {
        let _ = events.send(RunEvent::LabStarting {
            servers: spec.servers.clone(),
        });
        match Lab::start(&spec, &options.out_dir.join("lab")).await {
            Ok(lab) => Some(Arc::new(lab)),
            Err(error) => {
                eprintln!("error: the local lab did not start: {error}");
                drop(events);
                let _ = reporting.await;
                return exit::INFRASTRUCTURE;
            }
        }
    };
    let known: Vec<String> = known.iter().map(|r| r.to_string()).collect();
    let (view, trust) = match bind(environment, lab.clone(), &known).await {
        Ok(bound) => bound,
        Err(error) => {
            eprintln!("error: {error}");
            drop(events);
            let _ = reporting.await;
            if let Some(lab) = lab.and_then(|lab| Arc::try_unwrap(lab).ok()) {
                lab.stop().await;
            }
            return exit::INFRASTRUCTURE;
        }
    };
    let (mut view, trust) = (view, trust);
    let commands = known
        .iter()
        .filter_map(|role| match environment.server(role) {
            Some(jspec_runtime::env::ServerEnv::External(server)) => {
                Some((role.clone(), server.commands.clone()))
            }
            _ => None,
        })
        .collect();
    view.faults = Some(Arc::new(FaultControl::new(
        options.plane,
        lab.clone(),
        proxy.clone(),
        commands,
    )));
    let _ = events.send(RunEvent::LabReady {
        servers: view.lab_servers(),
        elapsed: started.elapsed(),
    });
    let trust = Arc::new(trust);

    let (results, summary) = run_cases(
        program,
        planned,
        &view,
        trust,
        &options,
        events.clone(),
        cancel.clone(),
    )
    .await;
    let _ = events.send(RunEvent::RunFinished {
        summary: summary.clone(),
    });
    drop(events);
    let _ = reporting.await;
    interrupt.abort();
    drop(view);
    if let Some(lab) = lab {
        match Arc::try_unwrap(lab) {
            Ok(lab) => lab.stop().await,
            Err(_) => tracing::warn!("the lab is still in use; its servers stop when jspec exits"),
        }
    }
    if cancel.is_cancelled() {
        // Interrupted by Ctrl-C: the conventional status of a process ended by SIGINT.
        return exit::INTERRUPTED;
    }
    let failed = results.iter().any(|r| r.status == Status::Failed);
    let blocked = results.iter().any(|r| r.status == Status::Blocked);
    if failed || (fail_on_blocked && blocked) {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// The single-server roles the cases name: what the built-in local lab can run.
fn single_roles<'p>(planned: &'p [jspec_runtime::plan::PlannedCase<'_>]) -> Vec<&'p str> {
    let mut roles = std::collections::BTreeSet::new();
    for planned in planned {
        for entry in &planned.case.entries {
            if let jspec_lang::ast::CaseEntryKind::Servers(list) = &entry.kind {
                roles.extend(
                    list.iter()
                        .filter(|r| r.nodes.is_empty())
                        .map(|r| r.name.text.as_str()),
                );
            }
        }
    }
    roles.into_iter().collect()
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
