//! Benchmark: how many concurrent XMPP sessions one jspec process holds against one managed
//! Prosody, what they cost (CPU, memory) on both sides, and whether all of them can exchange
//! messages at once.
//!
//! ```sh
//! cargo run --release -p jspec-runtime --example sessions -- [--sessions N] [--messages M]
//!     [--concurrency C] [--accounts K] [--deadline SECS] [--auth scram|plain] [--then CMD]
//! ```
//!
//! One lab server (`a.test`) is started in a temp folder. Sessions log in as `bench0..bench<K-1>`
//! (default K = 1: one account, N resources `r0..r<N-1>`), at most C connects at a time. Then
//! session i sends M chat messages to the full JID of session (i + 1) % N and every session waits
//! (until one shared deadline) for the M messages of its predecessor. No session sends initial
//! presence: with one account, each presence would go to every other resource (N² stanzas).
//! Finally all sessions are closed and the lab is stopped, also on errors and on Ctrl-C.
//!
//! `--auth plain` logs in with SASL PLAIN (over STARTTLS, as with SCRAM) instead of SCRAM, the
//! mechanism tools such as tsung use. `--then CMD` runs `sh -c CMD` after the sessions are
//! closed and before the lab stops, with the running server described in the environment
//! (`JSPEC_BENCH_ADDR`, `_HOST`, `_PORT`, `_DOMAIN`, `_PASSWORD`, `_ACCOUNTS`, `_PROSODY_PID`,
//! `_PROSODY_LOG`, `_DIR`): another tool can then be measured against the same Prosody and the
//! same accounts (scripts/bench-sessions-peers.sh). The last line printed is a `summary:` line
//! of `key=value` pairs for scripts.
//!
//! Measured from /proc: jspec's CPU time (user + sys, `/proc/self/stat`) and memory (VmRSS,
//! VmHWM from `/proc/self/status`), the same for the Prosody process, connect-time percentiles,
//! delivery latencies and wall times.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jspec_runtime::lab::ServerProcess;
use jspec_runtime::lab::{Lab, LabSpec};
use jspec_runtime::xmpp::{
    AuthMechanism, ConnectConfig, ConnectError, Received, Session, StreamEnd,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

const USAGE: &str = "usage: sessions [--sessions N] [--messages M] [--concurrency C] \
                     [--accounts K] [--deadline SECS] [--auth scram|plain] [--then CMD]";
const PASSWORD: &str = "bench-secret";
/// Bound on one connect (TCP, TLS, SASL, bind) while up to C others run.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// File descriptors beyond one per session (runtime, log files, lab start-up).
const FD_MARGIN: u64 = 256;
/// How many `prosodyctl register` run at once.
const REGISTER_CONCURRENCY: usize = 4;
/// How many closes run at once.
const CLOSE_CONCURRENCY: usize = 200;

#[derive(Debug)]
struct Args {
    sessions: usize,
    messages: usize,
    concurrency: usize,
    accounts: usize,
    deadline: Duration,
    auth: AuthMechanism,
    /// A shell command run against the still running lab after the benchmark.
    then: Option<String>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            sessions: 2000,
            messages: 2,
            concurrency: 50,
            accounts: 1,
            deadline: Duration::from_secs(60),
            auth: AuthMechanism::Scram,
            then: None,
        };
        let mut words = std::env::args().skip(1);
        while let Some(flag) = words.next() {
            if flag == "-h" || flag == "--help" {
                return Err(USAGE.to_owned());
            }
            let value = words
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            match flag.as_str() {
                "--auth" => {
                    args.auth = match value.as_str() {
                        "scram" => AuthMechanism::Scram,
                        "plain" => AuthMechanism::Plain,
                        _ => return Err(format!("--auth: scram or plain, not {value:?}\n{USAGE}")),
                    };
                    continue;
                }
                "--then" => {
                    args.then = Some(value);
                    continue;
                }
                _ => {}
            }
            let number: usize = value
                .parse()
                .map_err(|_| format!("{flag}: not a number: {value:?}\n{USAGE}"))?;
            match flag.as_str() {
                "--sessions" => args.sessions = number,
                "--messages" => args.messages = number,
                "--concurrency" => args.concurrency = number.max(1),
                "--accounts" => args.accounts = number.max(1),
                "--deadline" => args.deadline = Duration::from_secs(number as u64),
                _ => return Err(format!("unknown option {flag}\n{USAGE}")),
            }
        }
        if args.sessions == 0 {
            return Err("--sessions must be at least 1".to_owned());
        }
        args.accounts = args.accounts.min(args.sessions);
        Ok(args)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let limits = raise_open_files(args.sessions as u64 + FD_MARGIN);
    let dir = tempfile::Builder::new()
        .prefix("jspec-bench-sessions-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp folder: {e}"))?;
    let spec = LabSpec {
        servers: vec!["a".to_owned()],
        ..LabSpec::default()
    };
    let lab = Lab::start(&spec, dir.path())
        .await
        .map_err(|e| format!("cannot start the lab: {e}"))?;
    let lab_start = started.elapsed();
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: cancelling, closing sessions and stopping the lab");
            on_interrupt.cancel();
        }
    });
    // Sessions live inside `bench`: whatever it returns, they are closed or dropped (aborted)
    // before the lab stops.
    let result = bench(&lab, args, &cancel).await;
    interrupt.abort();
    let mut then = None;
    if let (Ok(_), Some(command), false) = (&result, &args.then, cancel.is_cancelled()) {
        then = Some(run_then(&lab, args, command, dir.path()).await);
    }
    let prosody = lab.server("a").map(|s| (s.pid(), s.log_path()));
    let log_bytes = prosody
        .as_ref()
        .and_then(|(_, log)| std::fs::metadata(log).ok())
        .map_or(0, |m| m.len());
    lab.stop().await;
    if let Some((pid, _)) = prosody
        && Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
    {
        eprintln!("warning: prosody (pid {pid}) still runs after lab.stop()");
    }
    let report = result?;
    print_report(
        args,
        &limits,
        &report,
        lab_start,
        log_bytes,
        started.elapsed(),
        then.as_ref(),
    );
    if cancel.is_cancelled() {
        return Err("interrupted: the numbers above are incomplete".to_owned());
    }
    match then {
        Some((Err(message), _)) => Err(message),
        Some((Ok(status), _)) if !status.success() => Err(format!("--then command: {status}")),
        _ => Ok(()),
    }
}

/// Runs `sh -c command` against the running lab, the server described in the environment.
async fn run_then(
    lab: &Lab,
    args: &Args,
    command: &str,
    dir: &Path,
) -> (Result<std::process::ExitStatus, String>, Duration) {
    let started = Instant::now();
    let Some(server) = lab.server("a") else {
        return (Err("the lab has no server a".to_owned()), Duration::ZERO);
    };
    let addr = server.spec.c2s_addr();
    eprintln!(
        "then: running `{command}` against {addr} ({})",
        server.spec.domain
    );
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("JSPEC_BENCH_ADDR", addr.to_string())
        .env("JSPEC_BENCH_HOST", addr.ip().to_string())
        .env("JSPEC_BENCH_PORT", addr.port().to_string())
        .env("JSPEC_BENCH_DOMAIN", &server.spec.domain)
        .env("JSPEC_BENCH_PASSWORD", PASSWORD)
        .env("JSPEC_BENCH_ACCOUNTS", args.accounts.to_string())
        .env("JSPEC_BENCH_PROSODY_PID", server.pid().to_string())
        .env("JSPEC_BENCH_PROSODY_LOG", server.log_path())
        .env("JSPEC_BENCH_DIR", dir)
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| format!("cannot run --then command: {e}"));
    (status, started.elapsed())
}

/// Resource use of this process and of Prosody at one moment.
#[derive(Clone, Copy, Debug, Default)]
struct Snapshot {
    at: Option<Instant>,
    cpu: Cpu,
    rss_kib: u64,
    hwm_kib: u64,
    prosody_cpu: Cpu,
    prosody_rss_kib: u64,
    prosody_hwm_kib: u64,
}

impl Snapshot {
    fn take(prosody_pid: u32) -> Snapshot {
        let pid = prosody_pid.to_string();
        Snapshot {
            at: Some(Instant::now()),
            cpu: Cpu::of("self"),
            rss_kib: status_kib("self", "VmRSS"),
            hwm_kib: status_kib("self", "VmHWM"),
            prosody_cpu: Cpu::of(&pid),
            prosody_rss_kib: status_kib(&pid, "VmRSS"),
            prosody_hwm_kib: status_kib(&pid, "VmHWM"),
        }
    }

    /// Wall time from `earlier` to this snapshot.
    fn since(&self, earlier: &Snapshot) -> Duration {
        match (self.at, earlier.at) {
            (Some(a), Some(b)) => a.saturating_duration_since(b),
            _ => Duration::ZERO,
        }
    }
}

/// User and system CPU time of a process.
#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    user: Duration,
    sys: Duration,
}

impl Cpu {
    /// From `/proc/<pid>/stat` (fields 14 and 15, in clock ticks).
    fn of(pid: &str) -> Cpu {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The command name (field 2) may contain spaces; fields after it are plain numbers.
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        let hz = clock_ticks_per_second();
        let to_duration = |t: u64| Duration::from_nanos(t.saturating_mul(1_000_000_000) / hz);
        // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        Cpu {
            user: ticks(11).map_or(Duration::ZERO, to_duration),
            sys: ticks(12).map_or(Duration::ZERO, to_duration),
        }
    }

    fn total(&self) -> Duration {
        self.user + self.sys
    }

    fn minus(&self, earlier: &Cpu) -> Cpu {
        Cpu {
            user: self.user.saturating_sub(earlier.user),
            sys: self.sys.saturating_sub(earlier.sys),
        }
    }
}

fn clock_ticks_per_second() -> u64 {
    use nix::unistd::{SysconfVar, sysconf};
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(hz)) if hz > 0 => hz as u64,
        _ => 100,
    }
}

/// A `kB` line of `/proc/<pid>/status`, e.g. `VmRSS`; 0 if unreadable.
fn status_kib(pid: &str, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Soft and hard open-files limits of a process, from `/proc/<pid>/limits`.
fn open_files_limit(pid: &str) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut values = line.trim_start_matches("Max open files").split_whitespace();
    Some((values.next()?.to_owned(), values.next()?.to_owned()))
}

/// What happened to the open-files limit.
#[derive(Debug, Default)]
struct Limits {
    before: Option<(String, String)>,
    after: Option<(String, String)>,
    note: String,
}

/// Raises the soft open-files limit (up to the hard limit) when `needed` exceeds it. Prosody is
/// spawned by this process and inherits the result.
fn raise_open_files(needed: u64) -> Limits {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let before = open_files_limit("self");
    let mut limits = Limits {
        before: before.clone(),
        after: before,
        note: String::new(),
    };
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        limits.note = "cannot read the open-files limit".to_owned();
        return limits;
    };
    if soft >= needed {
        limits.note = format!("soft limit {soft} >= {needed} needed: not raised");
        return limits;
    }
    let target = needed.min(hard);
    if target <= soft {
        limits.note = format!(
            "soft limit {soft} < {needed} needed and the hard limit is {hard}: only root can \
             raise it (`ulimit -Hn`, /etc/security/limits.conf)"
        );
        return limits;
    }
    limits.note = match setrlimit(Resource::RLIMIT_NOFILE, target, hard) {
        Ok(()) => format!("raised the soft limit {soft} -> {target}"),
        Err(e) => {
            format!("cannot raise the soft limit to {target} ({e}); run `ulimit -n {target}` first")
        }
    };
    limits.after = open_files_limit("self");
    limits
}

/// Everything measured.
#[derive(Debug, Default)]
struct Report {
    prosody_limits: Option<(String, String)>,
    register: Duration,
    baseline: Snapshot,
    connected_at: Snapshot,
    messaged_at: Snapshot,
    closed_at: Snapshot,
    connected: usize,
    connect_failures: BTreeMap<String, usize>,
    connect_times: Vec<Duration>,
    wrong_resource: usize,
    sent: usize,
    send_errors: BTreeMap<String, usize>,
    received: usize,
    latencies: Vec<Duration>,
    closes: BTreeMap<String, usize>,
}

async fn bench(lab: &Lab, args: &Args, cancel: &CancellationToken) -> Result<Report, String> {
    let server = lab.server("a").ok_or("the lab has no server a")?;
    let pid = server.pid();
    let mut report = Report {
        prosody_limits: open_files_limit(&pid.to_string()),
        ..Report::default()
    };

    // One `prosodyctl register` per account, a few at a time (each is a Lua start-up).
    let registering = Instant::now();
    let mut registrations = futures_util::stream::iter(0..args.accounts)
        .map(|account| async move {
            server
                .register(&format!("bench{account}"), PASSWORD)
                .await
                .map_err(|e| format!("cannot register bench{account}: {e}"))
        })
        .buffer_unordered(REGISTER_CONCURRENCY);
    while let Some(registered) = registrations.next().await {
        registered?;
    }
    drop(registrations);
    report.register = registering.elapsed();

    // Connect, at most `concurrency` at a time.
    report.baseline = Snapshot::take(pid);
    let trust = Arc::new(lab.trust_store());
    let permits = Arc::new(Semaphore::new(args.concurrency));
    let mut connects = JoinSet::new();
    for i in 0..args.sessions {
        let user = format!("bench{}", i % args.accounts);
        let mut config = ConnectConfig::new(
            server.spec.c2s_addr(),
            server.spec.domain.clone(),
            user,
            PASSWORD,
            Arc::clone(&trust),
        );
        config.resource = format!("r{i}");
        config.auth = args.auth;
        config.timeout = CONNECT_TIMEOUT;
        let permits = Arc::clone(&permits);
        let cancel = cancel.clone();
        connects.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let started = Instant::now();
            let result = Session::connect(config, cancel).await;
            (i, started.elapsed(), result)
        });
    }
    let mut sessions: Vec<(usize, Session)> = Vec::with_capacity(args.sessions);
    let mut done = 0;
    while let Some(joined) = connects.join_next().await {
        let (i, elapsed, result) = joined.map_err(|e| format!("a connect task failed: {e}"))?;
        if !matches!(result, Err(ConnectError::Cancelled)) {
            report.connect_times.push(elapsed);
        }
        match result {
            Ok(session) => {
                if session.jid().resource().as_str() != format!("r{i}") {
                    report.wrong_resource += 1;
                }
                sessions.push((i, session));
            }
            Err(error) => {
                let key = error.to_string().chars().take(160).collect::<String>();
                *report.connect_failures.entry(key).or_default() += 1;
            }
        }
        done += 1;
        if done % 500 == 0 || done == args.sessions {
            eprintln!(
                "connect: {done}/{} done, {} bound, {:.1} s",
                args.sessions,
                sessions.len(),
                report
                    .baseline
                    .at
                    .map_or(0.0, |t| t.elapsed().as_secs_f64())
            );
        }
    }
    report.connected_at = Snapshot::take(pid);
    report.connected = sessions.len();
    sessions.sort_by_key(|(i, _)| *i);
    let sessions: Vec<Arc<Session>> = sessions.into_iter().map(|(_, s)| Arc::new(s)).collect();

    if !cancel.is_cancelled() {
        exchange(&sessions, args, cancel, &mut report).await?;
    }
    report.messaged_at = Snapshot::take(pid);
    eprintln!(
        "messages: {} sent, {} received, {:.1} s",
        report.sent,
        report.received,
        report.messaged_at.since(&report.connected_at).as_secs_f64()
    );

    // Close every session (stream close, wait for the server's).
    let permits = Arc::new(Semaphore::new(CLOSE_CONCURRENCY));
    let mut closes = JoinSet::new();
    for session in sessions {
        let permits = Arc::clone(&permits);
        closes.spawn(async move {
            let _permit = permits.acquire_owned().await;
            session.close().await
        });
    }
    while let Some(joined) = closes.join_next().await {
        let key = match joined {
            Ok(StreamEnd::ClosedByClient) => "closed cleanly".to_owned(),
            Ok(end) => end.to_string(),
            Err(e) => format!("close task failed: {e}"),
        };
        *report.closes.entry(key).or_default() += 1;
    }
    report.closed_at = Snapshot::take(pid);
    Ok(report)
}

/// Each session sends `messages` chat messages to the next one (by full JID) and waits for the
/// messages of the previous one, all at once. Bodies carry the send time (ns since `start`) so
/// the receiver can compute the delivery latency.
async fn exchange(
    sessions: &[Arc<Session>],
    args: &Args,
    cancel: &CancellationToken,
    report: &mut Report,
) -> Result<(), String> {
    let n = sessions.len();
    if n == 0 || args.messages == 0 {
        return Ok(());
    }
    let start = Instant::now();
    let deadline = start + args.deadline;
    let mut tasks = JoinSet::new();
    for k in 0..n {
        let me = Arc::clone(&sessions[k]);
        let to = sessions[(k + 1) % n].jid().to_string();
        let from = sessions[(k + n - 1) % n].jid().to_string();
        let (messages, cancel) = (args.messages, cancel.clone());
        tasks.spawn(async move {
            let mut sent = 0;
            let mut errors: Vec<String> = Vec::new();
            for j in 0..messages {
                let nanos = start.elapsed().as_nanos();
                let xml = format!(
                    "<message to='{to}' type='chat' id='b{k}-{j}'><body>{nanos}</body></message>"
                );
                match me.send_raw(&xml).await {
                    Ok(()) => sent += 1,
                    Err(e) => errors.push(e.to_string()),
                }
            }
            let mut latencies = Vec::with_capacity(messages);
            let mut cursor = 0;
            for _ in 0..messages {
                let is_ours = |r: &Received| {
                    r.stanza().is_some_and(|el| {
                        el.name() == "message"
                            && el.attr("from") == Some(from.as_str())
                            && el.attr("type") == Some("chat")
                    })
                };
                let Some(got) = me
                    .inbox()
                    .wait_for(cursor, is_ours, deadline, &cancel)
                    .await
                else {
                    break;
                };
                cursor = got.seq + 1;
                let sent_at = got
                    .stanza()
                    .and_then(|el| el.get_child("body", "jabber:client"))
                    .and_then(|body| body.text().parse::<u64>().ok())
                    .map(|ns| start + Duration::from_nanos(ns));
                if let Some(sent_at) = sent_at {
                    latencies.push(got.at.saturating_duration_since(sent_at));
                }
            }
            (sent, errors, latencies)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (sent, errors, latencies) =
            joined.map_err(|e| format!("a message task failed: {e}"))?;
        report.sent += sent;
        report.received += latencies.len();
        report.latencies.extend(latencies);
        for error in errors {
            *report.send_errors.entry(error).or_default() += 1;
        }
    }
    Ok(())
}

/// The `p`-th percentile (nearest rank) of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if d.is_zero() {
        "0 ms".to_owned()
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn per(kib: u64, count: usize) -> String {
    if count == 0 {
        return "-".to_owned();
    }
    format!("{:.1} KiB", kib as f64 / count as f64)
}

fn limit(pair: &Option<(String, String)>) -> String {
    pair.as_ref().map_or("?".to_owned(), |(soft, hard)| {
        format!("{soft} soft / {hard} hard")
    })
}

fn print_report(
    args: &Args,
    limits: &Limits,
    r: &Report,
    lab_start: Duration,
    log_bytes: u64,
    total: Duration,
    then: Option<&(Result<std::process::ExitStatus, String>, Duration)>,
) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut connect_times = r.connect_times.clone();
    connect_times.sort();
    let mut latencies = r.latencies.clone();
    latencies.sort();
    let accounts = if args.accounts == 1 {
        "1 account, one resource per session".to_owned()
    } else {
        format!("{} accounts", args.accounts)
    };
    println!();
    println!(
        "## jspec sessions benchmark: {} sessions ({accounts}), {} messages per session, \
         {} connects at a time",
        args.sessions, args.messages, args.concurrency
    );
    println!();
    println!(
        "CPU times from /proc/<pid>/stat ({} ticks/s); memory from /proc/<pid>/status.",
        clock_ticks_per_second()
    );
    println!();
    println!(
        "| phase | wall | jspec CPU (user + sys) | jspec RSS | Prosody CPU (user + sys) | Prosody RSS |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let phases = [
        ("before connect", &r.baseline, &Snapshot::default()),
        ("connect", &r.connected_at, &r.baseline),
        ("messages", &r.messaged_at, &r.connected_at),
        ("close", &r.closed_at, &r.messaged_at),
    ];
    for (name, now, before) in phases {
        let cpu = now.cpu.minus(&before.cpu);
        let prosody_cpu = now.prosody_cpu.minus(&before.prosody_cpu);
        let wall = if before.at.is_some() {
            ms(now.since(before))
        } else {
            "-".to_owned()
        };
        println!(
            "| {name} | {wall} | {} ({} + {}) | {} | {} ({} + {}) | {} |",
            ms(cpu.total()),
            ms(cpu.user),
            ms(cpu.sys),
            mib(now.rss_kib),
            ms(prosody_cpu.total()),
            ms(prosody_cpu.user),
            ms(prosody_cpu.sys),
            mib(now.prosody_rss_kib),
        );
    }
    println!();
    let n = r.connected;
    let jspec_rss = r.connected_at.rss_kib.saturating_sub(r.baseline.rss_kib);
    let prosody_rss = r
        .connected_at
        .prosody_rss_kib
        .saturating_sub(r.baseline.prosody_rss_kib);
    let connect_cpu = r.connected_at.cpu.minus(&r.baseline.cpu);
    let prosody_connect_cpu = r.connected_at.prosody_cpu.minus(&r.baseline.prosody_cpu);
    let per_session_cpu = |cpu: Duration| {
        if n == 0 {
            "-".to_owned()
        } else {
            ms(cpu / n as u32)
        }
    };
    let failures: usize = r.connect_failures.values().sum();
    let send_errors: usize = r.send_errors.values().sum();
    let expected = n * args.messages;
    let rows: Vec<(&str, String)> = vec![
        (
            "sessions connected / requested",
            format!(
                "**{n} / {}** ({failures} failed, {} with another resource)",
                args.sessions, r.wrong_resource
            ),
        ),
        (
            "connect time p50 / p95 / max",
            format!(
                "{} / {} / {}",
                ms(percentile(&connect_times, 50.0)),
                ms(percentile(&connect_times, 95.0)),
                ms(connect_times.last().copied().unwrap_or_default())
            ),
        ),
        (
            "connect phase wall / rate",
            format!(
                "{} / {:.0} sessions/s",
                ms(r.connected_at.since(&r.baseline)),
                n as f64 / r.connected_at.since(&r.baseline).as_secs_f64().max(1e-9)
            ),
        ),
        (
            "messages sent / received / lost",
            format!(
                "{} / {} / **{}** (expected {expected}, {send_errors} send errors)",
                r.sent,
                r.received,
                expected.saturating_sub(r.received)
            ),
        ),
        (
            "delivery latency p50 / p95 / max",
            format!(
                "{} / {} / {}",
                ms(percentile(&latencies, 50.0)),
                ms(percentile(&latencies, 95.0)),
                ms(latencies.last().copied().unwrap_or_default())
            ),
        ),
        (
            "message phase wall / rate",
            format!(
                "{} / {:.0} messages/s",
                ms(r.messaged_at.since(&r.connected_at)),
                r.received as f64 / r.messaged_at.since(&r.connected_at).as_secs_f64().max(1e-9)
            ),
        ),
        (
            "jspec CPU per session (connect)",
            per_session_cpu(connect_cpu.total()),
        ),
        (
            "jspec CPU total (whole process)",
            format!(
                "{} ({} user + {} sys)",
                ms(r.closed_at.cpu.total()),
                ms(r.closed_at.cpu.user),
                ms(r.closed_at.cpu.sys)
            ),
        ),
        ("jspec RSS per session (after connect)", per(jspec_rss, n)),
        (
            "jspec RSS after connect / after messages / end",
            format!(
                "{} / {} / {}",
                mib(r.connected_at.rss_kib),
                mib(r.messaged_at.rss_kib),
                mib(r.closed_at.rss_kib)
            ),
        ),
        ("jspec peak RSS (VmHWM)", mib(r.closed_at.hwm_kib)),
        (
            "Prosody CPU per session (connect)",
            per_session_cpu(prosody_connect_cpu.total()),
        ),
        (
            "Prosody RSS per session (after connect)",
            per(prosody_rss, n),
        ),
        (
            "Prosody RSS before / after connect / after messages",
            format!(
                "{} / {} / {}",
                mib(r.baseline.prosody_rss_kib),
                mib(r.connected_at.prosody_rss_kib),
                mib(r.messaged_at.prosody_rss_kib)
            ),
        ),
        (
            "Prosody peak RSS (VmHWM)",
            mib(r.messaged_at.prosody_hwm_kib),
        ),
        (
            "Prosody log (debug level)",
            format!("{:.1} MiB", log_bytes as f64 / 1_048_576.0),
        ),
        (
            "open files jspec (before -> after)",
            format!("{} -> {}", limit(&limits.before), limit(&limits.after)),
        ),
        ("open files note", limits.note.clone()),
        ("open files Prosody", limit(&r.prosody_limits)),
        ("lab start", ms(lab_start)),
        (
            "register accounts",
            format!("{} for {} account(s)", ms(r.register), args.accounts),
        ),
        ("total wall (lab start to lab stop)", ms(total)),
        ("CPUs", cpus.to_string()),
    ];
    let mut rows = rows;
    rows.insert(
        0,
        (
            "SASL mechanism (over STARTTLS)",
            match args.auth {
                AuthMechanism::Plain => "PLAIN",
                _ => "SCRAM",
            }
            .to_owned(),
        ),
    );
    if let Some((status, wall)) = then {
        let status = match status {
            Ok(status) => status.to_string(),
            Err(e) => e.clone(),
        };
        rows.push((
            "--then command (in the total wall)",
            format!("{} ({status})", ms(*wall)),
        ));
    }
    println!("| metric | value |");
    println!("| --- | --- |");
    for (name, value) in rows {
        println!("| {name} | {value} |");
    }
    let summary_counts = (failures, send_errors);
    for (title, counts) in [
        ("connect failures", &r.connect_failures),
        ("send errors", &r.send_errors),
        ("session ends at close", &r.closes),
    ] {
        if counts.is_empty() {
            continue;
        }
        println!();
        println!("{title}:");
        for (what, count) in counts {
            println!("  {count:>6}  {what}");
        }
    }
    // One line for scripts (scripts/bench-sessions-peers.sh): seconds and KiB.
    let prosody_cpu = r.closed_at.prosody_cpu.minus(&r.baseline.prosody_cpu);
    println!();
    println!(
        "summary: requested={} connected={n} connect_failures={} expected={expected} sent={} \
         received={} send_errors={} latency_p50_s={:.6} latency_max_s={:.6} \
         connect_phase_s={:.6} message_phase_s={:.6} cpu_s={:.3} cpu_user_s={:.3} \
         cpu_sys_s={:.3} hwm_kib={} prosody_cpu_s={:.3} prosody_hwm_kib={}",
        args.sessions,
        summary_counts.0,
        r.sent,
        r.received,
        summary_counts.1,
        percentile(&latencies, 50.0).as_secs_f64(),
        latencies.last().copied().unwrap_or_default().as_secs_f64(),
        r.connected_at.since(&r.baseline).as_secs_f64(),
        r.messaged_at.since(&r.connected_at).as_secs_f64(),
        r.closed_at.cpu.total().as_secs_f64(),
        r.closed_at.cpu.user.as_secs_f64(),
        r.closed_at.cpu.sys.as_secs_f64(),
        r.closed_at.hwm_kib,
        prosody_cpu.total().as_secs_f64(),
        r.messaged_at.prosody_hwm_kib,
    );
}
