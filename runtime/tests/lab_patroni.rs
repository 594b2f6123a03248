//! The replicated lab database against real Patroni, etcd, HAProxy and PostgreSQL 15 (Debian):
//! it forms with pg1 primary and pg2 streaming; a write survives the primary node's crash and
//! the failover; the old primary comes back as a replica; killing only the database process
//! does not fail over; a switchover hands the primary back; nothing is left running. Prints the
//! times it measures (docs/benchmarks-cluster.md). Needs root and the Debian packages.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use jspec_runtime::lab::ServerProcess;
use jspec_runtime::lab::patroni::{HaTiming, ReplicatedDatabase, ReplicatedSpec, rest};
use jspec_runtime::lab::postgres::PG_BIN;

fn skip_reason() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root (PostgreSQL must run as user postgres)".into());
    }
    for program in [
        format!("{PG_BIN}/postgres"),
        "/usr/bin/patroni".into(),
        "/usr/bin/etcd".into(),
        "/usr/sbin/haproxy".into(),
    ] {
        if !Path::new(&program).exists() {
            return Some(format!(
                "{program} is missing (scripts/deps.sh installs patroni, etcd-server, haproxy)"
            ));
        }
    }
    None
}

/// 127.249.x.y: outside the blocks the lab picks; x from the pid.
fn address(host: u8) -> Ipv4Addr {
    let block = (std::process::id() % 250 + 1) as u8;
    Ipv4Addr::new(127, 249, block, host)
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.contains(") Z ") && !stat.contains(") X "))
}

/// Every process below `pid`, found through /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            let ppid = stat
                .rfind(')')
                .and_then(|end| stat[end + 1..].split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(parent) {
                found.push(child);
                parents.push(child);
            }
        }
    }
    found
}

async fn sql(database: &ReplicatedDatabase, statement: &str) -> Result<String, String> {
    database
        .client()
        .psql("postgres", "postgres", "", &["-c", statement])
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicated_database_fails_over_and_takes_the_old_primary_back() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipping: {reason}");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let timing = HaTiming::default();
    let spec = ReplicatedSpec::on_loopback(
        "pg",
        &[("pg1", address(1)), ("pg2", address(2))],
        address(3),
        timing,
    );
    let started = Instant::now();
    let database = ReplicatedDatabase::start(spec, &dir.path().join("pg"))
        .await
        .expect("the replicated database forms");
    eprintln!(
        "ready: pg1 writable primary behind HAProxy, pg2 streaming, in {:.1}s (ttl {}s, loop_wait {}s)",
        started.elapsed().as_secs_f64(),
        timing.ttl_seconds,
        timing.loop_wait_seconds
    );
    let members = database.members().await;
    assert_eq!(
        database.primary().await.as_deref(),
        Some("pg1"),
        "{}",
        rest::table(&members)
    );

    sql(&database, "CREATE TABLE acked (body text)")
        .await
        .expect("create");
    sql(&database, "INSERT INTO acked VALUES ('before the crash')")
        .await
        .expect("insert");

    // The primary's machine dies: Patroni and PostgreSQL together.
    let pg1 = database.node("pg1").expect("pg1");
    let pg1_processes = pg1.pids();
    assert!(
        pg1_processes.len() > 2,
        "patroni, a postmaster and its helpers: {pg1_processes:?}"
    );
    let killed = Instant::now();
    pg1.kill_process().await;
    assert!(
        pg1_processes.iter().all(|&pid| !alive(pid)),
        "the node's PostgreSQL died with its Patroni"
    );
    let mut first_write = None;
    while killed.elapsed() < Duration::from_secs(60) {
        if sql(&database, "INSERT INTO acked VALUES ('after the failover')")
            .await
            .is_ok()
        {
            first_write = Some(killed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first_write = first_write
        .unwrap_or_else(|| panic!("no write through HAProxy within 60 s of the primary's crash"));
    eprintln!(
        "failover: first write through HAProxy {:.1}s after the kill (ttl {}s)",
        first_write.as_secs_f64(),
        timing.ttl_seconds
    );
    assert_eq!(database.primary().await.as_deref(), Some("pg2"));
    let rows = sql(&database, "SELECT body FROM acked ORDER BY body")
        .await
        .expect("select");
    assert_eq!(
        rows.lines().collect::<Vec<_>>(),
        ["after the failover", "before the crash"]
    );

    // The old primary comes back as a replica of the new one.
    let back = Instant::now();
    pg1.start_process().await.expect("pg1 starts again");
    database
        .wait_for_replicas(&["pg1"], Duration::from_secs(90))
        .await
        .expect("pg1 rejoins as a replica");
    eprintln!(
        "rejoin: pg1 streams again {:.1}s after its start",
        back.elapsed().as_secs_f64()
    );

    // Only the database process of the primary dies: Patroni restarts it in place.
    let pg2 = database.node("pg2").expect("pg2");
    let patroni_pid = pg2.pid();
    assert!(pg2.kill_postgres().await, "pg2 runs a PostgreSQL");
    database
        .wait_for_primary("pg2", Duration::from_secs(30))
        .await
        .expect("pg2 is the primary again, without a failover");
    assert_eq!(pg2.pid(), patroni_pid, "its Patroni kept running");

    // A planned switchover back to pg1.
    let switched = Instant::now();
    database
        .switch_to("pg1", Duration::from_secs(30))
        .await
        .expect("switchover to pg1");
    eprintln!(
        "switchover: pg1 writable {:.1}s after the request",
        switched.elapsed().as_secs_f64()
    );

    let mut pids: Vec<u32> = database
        .processes()
        .iter()
        .map(|(_, pid, _)| *pid)
        .collect();
    for node in database.nodes() {
        pids.extend(node.pids());
    }
    for pid in pids.clone() {
        pids.extend(descendants(pid));
    }
    database.shut_down(false).await;
    let left: Vec<u32> = pids.into_iter().filter(|&pid| alive(pid)).collect();
    assert!(left.is_empty(), "still running after the stop: {left:?}");
}
