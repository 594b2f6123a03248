//! Benchmark: what the proxy fault plane costs and how faithfully it shapes a flow, on loopback,
//! each measurement through the plane beside the same one over a direct connection.
//!
//! ```sh
//! cargo run --release -p jspec-runtime --example proxy_bench -- [--bulk-mib N] [--rounds R]
//!     [--pings P] [--lag-samples S] [--limit-secs T] [--sink-port PORT] [--echo-port PORT]
//!     [--through NAME=SINK_ADDR,ECHO_ADDR[,PID]]... [--no-faults]
//! ```
//!
//! 1. Bulk throughput: N MiB (default 4096) to a sink that discards, direct and through the
//!    plane (no fault), alternating for R rounds (default 5); medians. Goal: plane >= 0.9 x
//!    direct.
//! 2. Added latency: P (default 10,000) ping-pongs of 64 bytes with TCP_NODELAY to an echo
//!    server, direct and through the plane in alternating blocks; p50/p90/p99. Goal: p50 added
//!    < 100 µs.
//! 3. Lag: 100 ms on the upstream flow, S (default 200) ping-pongs; p50 minus the unlagged p50
//!    through the plane. Goal: 100 ms ± 2 ms.
//! 4. Bandwidth: 8 and 1 Mbit/s on the upstream flow, a bulk transfer of T seconds (default 6)
//!    at the limit; the rate the sink receives. Goal: within ± 5 % of the limit.
//!
//! For reference, 1 and 2 also run through a plain proxy (`tokio::io::copy_bidirectional`, 64 KiB
//! buffers, same runtime): what any user-space proxy costs here, without the plane's rules.
//!
//! Other proxies can be measured beside them in the same run: `--sink-port`/`--echo-port` put
//! the sink and the echo server on fixed loopback ports, an external proxy (HAProxy, socat, ...)
//! started in front of them listens on SINK_ADDR and ECHO_ADDR, and each `--through` adds it as
//! a path to steps 1 and 2 (with PID, its CPU per GB: the process, its threads and its children,
//! e.g. socat's forks). `--no-faults` skips steps 3 and 4 (lag and bandwidth are the plane's
//! alone). scripts/bench-proxy-peers.sh runs HAProxy and socat this way.
//!
//! Clients and servers are blocking sockets on their own threads; the proxies run in a tokio
//! runtime like `jspec run`'s (two workers), its threads named `proxy-rt` so that their CPU time
//! can be told apart. It prints; it does not assert.

use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use jspec_runtime::fault::model::{Endpoint, Impairment, Link, TcpTimeouts};
use jspec_runtime::fault::proxy::ProxyPlane;

const USAGE: &str = "usage: proxy_bench [--bulk-mib N] [--rounds R] [--pings P] \
                     [--lag-samples S] [--limit-secs T] [--sink-port PORT] [--echo-port PORT] \
                     [--through NAME=SINK_ADDR,ECHO_ADDR[,PID]]... [--no-faults]";
/// Bytes per write of the bulk client and per read of the sink.
const BLOCK: usize = 256 * 1024;
/// Bytes per ping and per pong.
const PING: usize = 64;
/// Ping-pongs before measuring, per connection.
const WARM_UP: usize = 500;
/// Ping-pong blocks, alternating direct, plane and plain proxy.
const BLOCKS: usize = 10;
const LAG: Duration = Duration::from_millis(100);
const LIMITS: [f64; 2] = [8e6, 1e6];

struct Args {
    bulk_mib: u64,
    rounds: usize,
    pings: usize,
    lag_samples: usize,
    limit_secs: f64,
    sink_port: u16,
    echo_port: u16,
    through: Vec<External>,
    faults: bool,
}

/// A proxy this example does not run, listening in front of the sink and the echo server.
struct External {
    name: String,
    sink: SocketAddr,
    echo: SocketAddr,
    /// Its process, for CPU time.
    pid: Option<u32>,
}

impl External {
    fn parse(value: &str) -> Result<External, String> {
        let bad = || format!("--through: NAME=SINK_ADDR,ECHO_ADDR[,PID], not {value:?}");
        let (name, rest) = value.split_once('=').ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split(',').collect();
        let addr = |i: usize| parts.get(i).and_then(|a| a.parse::<SocketAddr>().ok());
        let (Some(sink), Some(echo)) = (addr(0), addr(1)) else {
            return Err(bad());
        };
        let pid = match parts.get(2) {
            Some(pid) => Some(pid.parse().map_err(|_| bad())?),
            None => None,
        };
        if name.is_empty() || parts.len() > 3 {
            return Err(bad());
        }
        Ok(External {
            name: name.to_owned(),
            sink,
            echo,
            pid,
        })
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        bulk_mib: 4096,
        rounds: 5,
        pings: 10_000,
        lag_samples: 200,
        limit_secs: 6.0,
        sink_port: 0,
        echo_port: 0,
        through: Vec::new(),
        faults: true,
    };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        match flag.as_str() {
            "-h" | "--help" => return Err(USAGE.to_owned()),
            "--no-faults" => {
                args.faults = false;
                continue;
            }
            _ => {}
        }
        let Some(value) = words.next() else {
            return Err(format!("{flag} needs a value\n{USAGE}"));
        };
        match flag.as_str() {
            "--through" => {
                args.through.push(External::parse(&value)?);
                continue;
            }
            "--sink-port" | "--echo-port" => {
                let port: u16 = value
                    .parse()
                    .map_err(|_| format!("{flag}: not a port: {value:?}\n{USAGE}"))?;
                if flag == "--sink-port" {
                    args.sink_port = port;
                } else {
                    args.echo_port = port;
                }
                continue;
            }
            _ => {}
        }
        let n: f64 = (value.parse().ok())
            .filter(|n: &f64| *n >= 1.0)
            .ok_or_else(|| format!("{flag}: not a number >= 1: {value:?}\n{USAGE}"))?;
        match flag.as_str() {
            "--bulk-mib" => args.bulk_mib = n as u64,
            "--rounds" => args.rounds = n as usize,
            "--pings" => args.pings = n as usize,
            "--lag-samples" => args.lag_samples = n as usize,
            "--limit-secs" => args.limit_secs = n,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The final table: what was measured, the value, its goal and PASS/FAIL (blank: no goal).
#[derive(Default)]
struct Table(Vec<[String; 4]>);

impl Table {
    fn info(&mut self, what: &str, value: String) {
        self.0.push([what.into(), value, "-".into(), String::new()]);
    }

    fn goal(&mut self, what: &str, value: String, goal: &str, met: bool) {
        let result = if met { "PASS" } else { "FAIL" };
        self.0
            .push([what.into(), value, goal.into(), result.into()]);
    }
}

/// The plane, its links, and each path to the servers: direct, through the plane, through the
/// plain proxy, then through each external proxy.
struct Setup {
    plane: ProxyPlane,
    bulk_link: Link,
    ping_link: Link,
    received: mpsc::Receiver<Received>,
    paths: Vec<PathTo>,
}

/// One way to reach the sink and the echo server.
struct PathTo {
    name: String,
    sink: SocketAddr,
    echo: SocketAddr,
    /// An external proxy's process (CPU time from /proc); `None` for the paths in this process.
    pid: Option<u32>,
}

fn run(args: &Args) -> Result<(), String> {
    // As `jspec run` builds it (cli/src/output.rs): two workers.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("proxy-rt")
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let (sink, received) = sink(args.sink_port).map_err(|e| format!("sink: {e}"))?;
    let echo = echo(args.echo_port).map_err(|e| format!("echo server: {e}"))?;
    let user = |name: &str| Endpoint::User(name.into());
    let server = |name: &str| Endpoint::Server(name.into());
    let bulk_link = Link::new(user("bulk"), server("sink"));
    let ping_link = Link::new(user("ping"), server("echo"));
    let plane = ProxyPlane::new(TcpTimeouts::default());
    let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    let routed = runtime.block_on(async {
        let bulk = plane.route(&bulk_link, any, sink).await?;
        let ping = plane.route(&ping_link, any, echo).await?;
        let sinks = [sink, bulk, plain_proxy(sink).await?];
        Ok::<_, std::io::Error>((sinks, [echo, ping, plain_proxy(echo).await?]))
    });
    let (sink, echo) = routed.map_err(|e| format!("proxy route: {e}"))?;
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    println!("proxy_bench: {cpus} CPUs, loopback");
    let mut paths: Vec<PathTo> = ["direct", "plane", "plain proxy"]
        .iter()
        .zip(sink.iter().zip(echo))
        .map(|(name, (sink, echo))| PathTo {
            name: (*name).to_owned(),
            sink: *sink,
            echo,
            pid: None,
        })
        .collect();
    for external in &args.through {
        paths.push(PathTo {
            name: external.name.clone(),
            sink: external.sink,
            echo: external.echo,
            pid: external.pid,
        });
    }
    for path in &paths {
        println!("{}: sink {}, echo {}", path.name, path.sink, path.echo);
    }
    let setup = Setup {
        plane,
        bulk_link,
        ping_link,
        received,
        paths,
    };
    let mut table = Table::default();
    let mut peers = Peers::default();
    throughput(&setup, args, &mut table, &mut peers)?;
    let (unlagged, mut conn) = latency(&setup, args, &mut table, &mut peers)?;
    if args.faults {
        lag(&setup, args, unlagged, &mut conn, &mut table)?;
        bandwidth(&setup, args, &mut table)?;
    }
    if setup.paths.len() > 3 {
        peers.print(&setup);
    }
    println!();
    println!("| measurement | value | goal | result |");
    println!("| --- | --- | --- | --- |");
    for [what, value, goal, result] in &table.0 {
        println!("| {what} | {value} | {goal} | {result} |");
    }
    drop(setup);
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// Step 1: bulk throughput, the three paths in turn in each round.
fn throughput(
    setup: &Setup,
    args: &Args,
    table: &mut Table,
    peers: &mut Peers,
) -> Result<(), String> {
    let total = args.bulk_mib * 1024 * 1024;
    println!();
    println!(
        "1. bulk: {} MiB per transfer, {} rounds",
        args.bulk_mib, args.rounds
    );
    println!(
        "MB/s; CPU: cores busy (this process; for an external proxy, this process and the \
         proxy's); s/GB: the proxy's CPU s per GB (the plane and plain proxy: their threads)"
    );
    let mut header = "| round | direct | CPU |".to_owned();
    let mut rule = "| --- | --- | --- |".to_owned();
    for path in &setup.paths[1..] {
        header += &format!(" {} | CPU | s/GB |", path.name);
        rule += " --- | --- | --- |";
    }
    println!("{header}");
    println!("{rule}");
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); setup.paths.len()];
    let mut s_per_gb: Vec<Vec<f64>> = vec![Vec::new(); setup.paths.len()];
    for round in 1..=args.rounds {
        let mut line = format!("| {round} |");
        for (index, path) in setup.paths.iter().enumerate() {
            let t = bulk(path.sink, total, &setup.received, path.pid)?;
            line += &format!(" {:.0} | {:.2} |", t.mb_per_s, t.cores);
            if index > 0 {
                line += &format!(" {:.3} |", t.proxy_s_per_gb);
            }
            rates[index].push(t.mb_per_s);
            s_per_gb[index].push(t.proxy_s_per_gb);
        }
        println!("{line}");
    }
    peers.mb_per_s = rates.iter().map(|r| median(&mut r.clone())).collect();
    peers.s_per_gb = s_per_gb.iter().map(|r| median(&mut r.clone())).collect();
    let (d, p, r) = (peers.mb_per_s[0], peers.mb_per_s[1], peers.mb_per_s[2]);
    table.info("bulk direct, median", format!("{d:.0} MB/s"));
    table.info("bulk through the plane, median", format!("{p:.0} MB/s"));
    let plain = format!("{r:.0} MB/s ({:.2} x direct)", r / d);
    table.info("(reference) bulk through a plain proxy, median", plain);
    let ratio = format!("{:.2}", p / d);
    table.goal("bulk plane / direct", ratio, ">= 0.90", p / d >= 0.9);
    Ok(())
}

/// Step 2: ping-pong round trips on the three paths, in alternating blocks. Returns the plane's
/// p50 and its connection.
fn latency(
    setup: &Setup,
    args: &Args,
    table: &mut Table,
    peers: &mut Peers,
) -> Result<(Duration, TcpStream), String> {
    let mut conns = Vec::new();
    for path in &setup.paths {
        conns.push(ping_conn(path.echo)?);
    }
    let per_block = args.pings.div_ceil(BLOCKS);
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); setup.paths.len()];
    for _ in 0..BLOCKS {
        for (conn, samples) in conns.iter_mut().zip(&mut samples) {
            samples.extend(pings(conn, per_block)?);
        }
    }
    let count = samples[0].len();
    peers.round_trip = samples
        .iter_mut()
        .map(|samples| percentiles(samples))
        .collect();
    let (d, p, r) = (
        peers.round_trip[0],
        peers.round_trip[1],
        peers.round_trip[2],
    );
    println!();
    println!(
        "2. ping-pong: {count} x {PING} bytes each way, TCP_NODELAY, {BLOCKS} blocks per path"
    );
    println!("| path | min | p50 | p90 | p99 | max |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (path, q) in setup.paths.iter().zip(&peers.round_trip) {
        println!("| {} | {} |", path.name, q.map(us).join(" | "));
    }
    let triple = |q: [Duration; 5]| format!("{} / {} / {}", us(q[1]), us(q[2]), us(q[3]));
    table.info("round trip direct p50 / p90 / p99", triple(d));
    table.info("round trip through the plane p50 / p90 / p99", triple(p));
    let added = p[1].saturating_sub(d[1]);
    let met = added < Duration::from_micros(100);
    table.goal("added p50 (plane - direct)", us(added), "< 100 µs", met);
    table.info(
        "(reference) added p50, plain proxy",
        us(r[1].saturating_sub(d[1])),
    );
    Ok((p[1], conns.swap_remove(1)))
}

/// Step 3: lag on the upstream flow of the ping link.
fn lag(
    setup: &Setup,
    args: &Args,
    unlagged: Duration,
    conn: &mut TcpStream,
    table: &mut Table,
) -> Result<(), String> {
    let lag = Impairment {
        lag: Some((LAG, Duration::ZERO)),
        ..Impairment::default()
    };
    setup.plane.impair(&setup.ping_link.upstream(), &lag, 1);
    let lagged = pings(conn, args.lag_samples);
    setup.plane.restore(&setup.ping_link.upstream());
    let q = percentiles(&mut lagged?);
    let extra = q[1].as_secs_f64() - unlagged.as_secs_f64();
    println!();
    println!(
        "3. lag {LAG:?} upstream: {} ping-pongs through the plane",
        args.lag_samples
    );
    println!("| min | p50 | p90 | p99 | max |");
    println!("| --- | --- | --- | --- | --- |");
    println!("| {} |", q.map(ms).join(" | "));
    let met = (extra - LAG.as_secs_f64()).abs() <= 0.002;
    let value = format!("{:.3} ms", extra * 1e3);
    table.goal("lag 100 ms: p50 - unlagged p50", value, "100 ± 2 ms", met);
    Ok(())
}

/// Step 4: bandwidth limits on the upstream flow of the bulk link.
fn bandwidth(setup: &Setup, args: &Args, table: &mut Table) -> Result<(), String> {
    println!();
    println!(
        "4. bandwidth: about {} s per transfer at the limit",
        args.limit_secs
    );
    println!("| limit | bytes | sink: first to last byte | measured | measured / limit |");
    println!("| --- | --- | --- | --- | --- |");
    for limit in LIMITS {
        let impairment = Impairment {
            bandwidth: Some(limit),
            ..Impairment::default()
        };
        setup
            .plane
            .impair(&setup.bulk_link.upstream(), &impairment, 1);
        let bytes = (limit / 8.0 * args.limit_secs) as u64;
        let transfer = bulk(setup.paths[1].sink, bytes, &setup.received, None);
        setup.plane.restore(&setup.bulk_link.upstream());
        let transfer = transfer?;
        let ratio = transfer.sink_bits_per_s / limit;
        let limit = format!("{} Mbit/s", limit / 1e6);
        let measured = format!("{:.4} Mbit/s", transfer.sink_bits_per_s / 1e6);
        let span = transfer.sink_span.as_secs_f64();
        println!("| {limit} | {bytes} | {span:.3} s | {measured} | {ratio:.4} |");
        let value = format!("{measured} ({:+.2} %)", (ratio - 1.0) * 100.0);
        let met = (ratio - 1.0).abs() <= 0.05;
        table.goal(&format!("bandwidth {limit}: measured"), value, "± 5 %", met);
    }
    Ok(())
}

/// A plain proxy to `upstream` (no rules): `copy_bidirectional` with 64 KiB buffers, TCP_NODELAY
/// on both sides as the plane sets it.
async fn plain_proxy(upstream: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let size = 64 * 1024;
                let copy = tokio::io::copy_bidirectional_with_sizes;
                let _ = copy(&mut client, &mut server, size, size).await;
            });
        }
    });
    Ok(addr)
}

/// What the sink saw of one connection: bytes, when the first read returned and with how many
/// bytes, when the last one did.
struct Received {
    bytes: u64,
    first: (Instant, usize),
    last: Instant,
}

/// A server that reads each connection to its end, discards the bytes, answers one byte (all
/// received) and reports what it saw. Connections without data (the plane's probe) are ignored.
fn sink(port: u16) -> std::io::Result<(SocketAddr, mpsc::Receiver<Received>)> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut buffer = vec![0u8; BLOCK];
                let (mut bytes, mut first, mut last) = (0u64, None, Instant::now());
                while let Ok(n @ 1..) = stream.read(&mut buffer) {
                    last = Instant::now();
                    first.get_or_insert((last, n));
                    bytes += n as u64;
                }
                if let (Ok(()), Some(first)) = (stream.write_all(&[1]), first) {
                    let _ = tx.send(Received { bytes, first, last });
                }
            });
        }
    });
    Ok((addr, rx))
}

/// An echo server for `PING`-byte messages, with TCP_NODELAY.
fn echo(port: u16) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let addr = listener.local_addr()?;
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut message = [0u8; PING];
                while stream.read_exact(&mut message).is_ok() {
                    if stream.write_all(&message).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(addr)
}

/// One bulk transfer as the client and the sink saw it.
struct Transfer {
    /// Connect to the sink's answer.
    mb_per_s: f64,
    /// CPU time of the whole process (client, sink, proxies) over the wall time.
    cores: f64,
    /// CPU time of the proxy threads per GB.
    proxy_s_per_gb: f64,
    /// Bits per second from the sink's first read to its last, not counting the first read's
    /// bytes (they arrived at the start of the span); and the span.
    sink_bits_per_s: f64,
    sink_span: Duration,
}

fn bulk(
    addr: SocketAddr,
    total: u64,
    sink: &mpsc::Receiver<Received>,
    external: Option<u32>,
) -> Result<Transfer, String> {
    let block = vec![0x5au8; BLOCK];
    let external_before = external.map(process_tree_cpu);
    let cpu_before = cpu_times();
    let started = Instant::now();
    let io = |e: std::io::Error| format!("bulk transfer to {addr}: {e}");
    let mut stream = TcpStream::connect(addr).map_err(io)?;
    let mut left = total;
    while left > 0 {
        let n = left.min(BLOCK as u64) as usize;
        stream.write_all(&block[..n]).map_err(io)?;
        left -= n as u64;
    }
    stream.shutdown(Shutdown::Write).map_err(io)?;
    stream.read_exact(&mut [0u8; 1]).map_err(io)?;
    let wall = started.elapsed().as_secs_f64();
    let mut cpu_after = cpu_times();
    drop(stream);
    if let (Some(pid), Some(before)) = (external, external_before) {
        // Let a forking proxy's child see the end of the connection and be reaped: its CPU
        // time then moves to the parent's children's times.
        thread::sleep(Duration::from_millis(50));
        let spent = process_tree_cpu(pid) - before;
        cpu_after.0 += spent;
        cpu_after.1 = cpu_before.1 + spent;
    }
    let received = (sink.recv_timeout(Duration::from_secs(10)))
        .map_err(|e| format!("no report from the sink: {e}"))?;
    if received.bytes != total {
        return Err(format!(
            "sent {total} bytes, the sink got {}",
            received.bytes
        ));
    }
    let (start, first_bytes) = received.first;
    let span = received.last.saturating_duration_since(start);
    let sink_bits = (total - first_bytes as u64) as f64 * 8.0;
    Ok(Transfer {
        mb_per_s: total as f64 / wall / 1e6,
        cores: (cpu_after.0 - cpu_before.0) / wall,
        proxy_s_per_gb: (cpu_after.1 - cpu_before.1) / (total as f64 / 1e9),
        sink_bits_per_s: sink_bits / span.as_secs_f64().max(1e-9),
        sink_span: span,
    })
}

fn ping_conn(addr: SocketAddr) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect to {addr}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY: {e}"))?;
    pings(&mut stream, WARM_UP)?;
    Ok(stream)
}

/// `count` round trips of `PING` bytes, each timed.
fn pings(stream: &mut TcpStream, count: usize) -> Result<Vec<Duration>, String> {
    let io = |e: std::io::Error| format!("ping-pong: {e}");
    let mut message = [0x42u8; PING];
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        stream.write_all(&message).map_err(io)?;
        stream.read_exact(&mut message).map_err(io)?;
        times.push(started.elapsed());
    }
    Ok(times)
}

/// Min, p50, p90, p99 and max (nearest rank).
fn percentiles(samples: &mut [Duration]) -> [Duration; 5] {
    samples.sort_unstable();
    [0.0, 50.0, 90.0, 99.0, 100.0].map(|p: f64| {
        let rank = (p / 100.0 * samples.len() as f64).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1]
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// CPU seconds (user + sys) of the whole process (`/proc/self/stat` keeps the time of threads
/// that ended) and of the proxy runtime's threads (`/proc/self/task/*/stat`), from fields 14 and
/// 15 (clock ticks).
fn cpu_times() -> (f64, f64) {
    // The name, in parentheses, may hold spaces: fields are counted after it.
    let ticks = |stat: &str| -> u64 {
        let fields = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields = fields.split_whitespace().skip(11).take(2);
        fields.filter_map(|f| f.parse::<u64>().ok()).sum()
    };
    let process = fs::read_to_string("/proc/self/stat").map_or(0, |stat| ticks(&stat));
    let tasks = fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten();
    let proxy: u64 = (tasks.filter_map(|task| fs::read_to_string(task.path().join("stat")).ok()))
        .filter(|stat| stat.contains("(proxy-rt)"))
        .map(|stat| ticks(&stat))
        .sum();
    let hz = match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(hz)) if hz > 0 => hz as f64,
        _ => 100.0,
    };
    (process as f64 / hz, proxy as f64 / hz)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// CPU seconds of an external proxy: the process (all its threads), the children it has reaped,
/// and the children still alive (a forking proxy's connection handlers), from /proc.
fn process_tree_cpu(pid: u32) -> f64 {
    let fields = |stat: &str| -> Vec<u64> {
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        rest.split_whitespace()
            .map(|f| f.parse::<u64>().unwrap_or(0))
            .collect()
    };
    let hz = match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(hz)) if hz > 0 => hz as f64,
        _ => 100.0,
    };
    // Children first: one reaped between the two reads is then counted twice rather than not at
    // all (a 50 ms pause before the read makes this rare).
    let mut ticks = 0u64;
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let f = fields(&stat);
        // After the name: ppid is field 4 (index 1), utime and stime 14 and 15 (11 and 12).
        if f.get(1) == Some(&(pid as u64)) {
            ticks += f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
        }
    }
    if let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) {
        // utime, stime, cutime, cstime: fields 14 to 17.
        ticks += fields(&stat).iter().skip(11).take(4).sum::<u64>();
    }
    ticks as f64 / hz
}

/// Per path (in `Setup::paths` order): what the peers table shows.
#[derive(Default)]
struct Peers {
    mb_per_s: Vec<f64>,
    s_per_gb: Vec<f64>,
    round_trip: Vec<[Duration; 5]>,
}

impl Peers {
    /// One table, every path side by side: throughput, round trip and what each proxy adds.
    fn print(&self, setup: &Setup) {
        let direct_rate = self.mb_per_s.first().copied().unwrap_or(0.0);
        let direct = self.round_trip.first().copied().unwrap_or_default();
        println!();
        println!("peers: bulk medians and round trips, every path measured in this run");
        println!(
            "| path | bulk MB/s (median) | x direct | proxy CPU s/GB (median) | round trip p50 | \
             p99 | added p50 | added p99 |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
        for (index, path) in setup.paths.iter().enumerate() {
            let (Some(rate), Some(q)) = (self.mb_per_s.get(index), self.round_trip.get(index))
            else {
                continue;
            };
            let (cpu, added50, added99) = if index == 0 {
                ("-".to_owned(), "-".to_owned(), "-".to_owned())
            } else {
                let gap = |a: Duration, b: Duration| {
                    let us = (a.as_secs_f64() - b.as_secs_f64()) * 1e6;
                    format!("{us:.1} µs")
                };
                let cpu = match (index, path.pid, self.s_per_gb.get(index)) {
                    (1 | 2, _, Some(c)) | (_, Some(_), Some(c)) => format!("{c:.3}"),
                    _ => "-".to_owned(),
                };
                (cpu, gap(q[1], direct[1]), gap(q[3], direct[3]))
            };
            println!(
                "| {} | {rate:.0} | {:.2} | {cpu} | {} | {} | {added50} | {added99} |",
                path.name,
                rate / direct_rate.max(1e-9),
                us(q[1]),
                us(q[3]),
            );
        }
    }
}
