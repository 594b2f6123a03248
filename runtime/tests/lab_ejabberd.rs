//! The managed ejabberd lab against real ejabberd 23.01 on a private PostgreSQL 15: a
//! two-node cluster routes a message across its nodes, notices a killed node, takes it back
//! after a restart, and leaves no process behind; two clusters run side by side. Needs root
//! (PostgreSQL runs as user postgres, ejabberd as root) and the Debian packages.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jspec_runtime::lab::ServerProcess;
use jspec_runtime::lab::ejabberd::{
    DbConn, EJABBERDCTL, EjabberdCluster, EjabberdNode, EjabberdSpec, SQL_SCHEMA_FILE, epmd,
};
use jspec_runtime::lab::pki::{CertificateKind, LabCa};
use jspec_runtime::lab::postgres::{DEFAULT_PORT, PG_BIN, Postgres, PostgresSpec};
use jspec_runtime::lab::prosody::ServerState;
use jspec_runtime::xmpp::{ConnectConfig, Session};
use rustls::RootCertStore;
use tokio_util::sync::CancellationToken;

use support::client::{body, expect_stanza};

/// The clusters load two cores fully: one test at a time keeps the measured times honest.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const DB_USER: &str = "ejabberd";
const DB_PASSWORD: &str = "ejabberd-pw";

/// Why these tests cannot run here, if they cannot.
fn skip_reason() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root (PostgreSQL must run as user postgres)".into());
    }
    for program in [EJABBERDCTL.to_string(), format!("{PG_BIN}/postgres")] {
        if !Path::new(&program).exists() {
            return Some(format!(
                "{program} is missing (apt-get install ejabberd postgresql-15)"
            ));
        }
    }
    None
}

/// 127.251-253.x.y: outside the 127.1-250.x.y blocks the lab picks for Prosody; x from the
/// pid so that parallel runs of this test do not meet.
fn address(first: u8, host: u8) -> Ipv4Addr {
    let block = (std::process::id() % 250 + 1) as u8;
    Ipv4Addr::new(127, first, block, host)
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.contains(") Z ") && !stat.contains(") X "))
}

/// A folder user postgres can enter (a temporary folder is private to root).
fn lab_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

async fn start_database(dir: &Path, address: Ipv4Addr, databases: &[&str]) -> Postgres {
    let spec = PostgresSpec {
        role: "db".into(),
        address,
        port: DEFAULT_PORT,
        netns: None,
    };
    let started = Instant::now();
    let postgres = Postgres::start(spec, &dir.join("db"))
        .await
        .expect("postgres starts");
    let up = started.elapsed();
    for name in databases {
        postgres
            .client()
            .create_database(name, DB_USER, DB_PASSWORD, Some(Path::new(SQL_SCHEMA_FILE)))
            .await
            .expect("database and schema");
    }
    eprintln!(
        "postgres up in {up:?}; with {} database(s) and schema in {:?}",
        databases.len(),
        started.elapsed()
    );
    postgres
}

/// The specs of a cluster `role` with one node per address.
fn cluster_specs(
    role: &str,
    addresses: &[Ipv4Addr],
    epmd_port: u16,
    database: &Postgres,
    db_name: &str,
    ca_file: &Path,
) -> Vec<EjabberdSpec> {
    let domain = format!("{role}.test");
    let muc_domain = format!("conference.{domain}");
    let hosts = vec![(
        addresses[0],
        vec![
            domain.clone(),
            muc_domain.clone(),
            format!("pubsub.{domain}"),
        ],
    )];
    addresses
        .iter()
        .enumerate()
        .map(|(i, &address)| EjabberdSpec {
            role: role.into(),
            node: format!("{role}{}", i + 1),
            domain: domain.clone(),
            muc_domain: muc_domain.clone(),
            address,
            epmd_port,
            cookie: format!("cookie-{role}-{}", std::process::id()),
            database: DbConn {
                host: database.spec.address.to_string(),
                port: database.spec.port,
                name: db_name.into(),
                user: DB_USER.into(),
                password: DB_PASSWORD.into(),
            },
            ca_file: ca_file.to_path_buf(),
            net_ticktime: 10,
            hosts: hosts.clone(),
            nameserver: None,
            netns: None,
            faketime: None,
            admins: Vec::new(),
        })
        .collect()
}

fn lab_ca(dir: &Path) -> (LabCa, PathBuf, Arc<RootCertStore>) {
    let ca = LabCa::generate("jspec ejabberd test CA").expect("CA");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.cert_pem()).expect("write CA");
    let mut store = RootCertStore::empty();
    store
        .add(ca.cert_der().into())
        .expect("CA into the trust store");
    (ca, ca_file, Arc::new(store))
}

async fn start_cluster(specs: Vec<EjabberdSpec>, ca: &LabCa, dir: &Path) -> EjabberdCluster {
    let names = specs[0].certificate_names();
    let certificate = ca
        .issue(&names, CertificateKind::Valid)
        .expect("certificate");
    let role = specs[0].role.clone();
    EjabberdCluster::start(
        specs,
        &dir.join(&role),
        &certificate.cert_pem,
        &certificate.key_pem,
    )
    .await
    .expect("cluster starts")
}

async fn connect(
    addr: SocketAddr,
    domain: &str,
    user: &str,
    trust: &Arc<RootCertStore>,
) -> Session {
    let mut config = ConnectConfig::new(addr, domain, user, format!("{user}-pw"), trust.clone());
    config.resource = "jspec".into();
    match Session::connect(config, CancellationToken::new()).await {
        Ok(session) => session,
        Err(error) => panic!("connect {user} to {addr}: {error}"),
    }
}

async fn expect_chat(from: &Session, to: &Session, text: &str) {
    let id = format!("m-{}", text.len());
    from.send_raw(&format!(
        "<message to='{}' type='chat' id='{id}'><body>{text}</body></message>",
        to.jid()
    ))
    .await
    .expect("send message");
    let got = expect_stanza(to, text, |el| {
        el.name() == "message" && body(el).as_deref() == Some(text)
    })
    .await;
    let stanza = got.stanza().expect("a stanza");
    assert_eq!(stanza.attr("from"), Some(from.jid().to_string().as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_node_cluster_routes_across_nodes_and_survives_a_killed_node() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(Duration::from_secs(300), cluster_scenario())
        .await
        .expect("the scenario finishes within 300 s");
}

async fn cluster_scenario() {
    let dir = lab_dir();
    let from_nothing = Instant::now();
    let database = start_database(dir.path(), address(251, 100), &["ejabberd_c"]).await;
    let (ca, ca_file, trust) = lab_ca(dir.path());
    let addresses = [address(251, 1), address(251, 2)];
    let port = epmd::free_port(&addresses).expect("a free epmd port");
    let specs = cluster_specs("c", &addresses, port, &database, "ejabberd_c", &ca_file);
    let cluster = start_cluster(specs, &ca, dir.path()).await;
    eprintln!(
        "2-node cluster ready in {:?} (nodes + joins); {:?} from nothing (database included)",
        cluster.ready_in(),
        from_nothing.elapsed()
    );
    let (c1, c2) = (&cluster.nodes()[0], &cluster.nodes()[1]);
    let both = cluster.erlang_nodes();
    assert_eq!(both, [c1.erlang_node(), c2.erlang_node()]);
    for node in cluster.nodes() {
        assert_eq!(node.cluster_view().await.expect("view"), both);
        assert_eq!(node.state(), ServerState::Running);
        assert!(alive(node.pid()), "{} has a live beam", node.erlang_node());
    }

    // Accounts live in SQL: registered on one node, usable on every node.
    c1.register("alice", "alice-pw")
        .await
        .expect("register alice");
    c1.register("bob", "bob-pw").await.expect("register bob");
    let alice = connect(c1.spec.c2s_addr(), "c.test", "alice", &trust).await;
    let bob = connect(c2.spec.c2s_addr(), "c.test", "bob", &trust).await;
    eprintln!(
        "alice on c1: {} over {}; bob on c2",
        alice.info().mechanism,
        alice.info().tls_version
    );
    alice.send_initial_presence().await.expect("alice presence");
    bob.send_initial_presence().await.expect("bob presence");
    expect_chat(&alice, &bob, "across the cluster").await;

    // A crash of c1: c2 sees it alone at once (the connection closes) or within net_ticktime.
    let killed_pid = c1.pid();
    let killed = Instant::now();
    c1.kill_process().await;
    assert!(!alive(killed_pid));
    assert_eq!(c1.state(), ServerState::Down);
    c2.wait_for_view(&[c2.erlang_node()], Duration::from_secs(15))
        .await
        .expect("c2 sees itself alone");
    eprintln!("c2 saw c1 gone {:?} after the kill", killed.elapsed());
    alice.abort().await;

    // Restarted from its spool, c1 rejoins by itself (Mnesia reconnects while it starts).
    let restarted = Instant::now();
    c1.start_process().await.expect("c1 starts again");
    let up = restarted.elapsed();
    cluster
        .wait_formed(Duration::from_secs(30))
        .await
        .expect("c1 back in the cluster");
    eprintln!(
        "c1 restarted in {up:?}; both views whole {:?} after its start began",
        restarted.elapsed()
    );
    let alice = connect(c1.spec.c2s_addr(), "c.test", "alice", &trust).await;
    alice.send_initial_presence().await.expect("alice presence");
    expect_chat(&alice, &bob, "after the rejoin").await;
    alice.close().await;
    bob.close().await;

    // A clean restart (ejabberdctl stop, the name leaves epmd, start) of c2.
    let restarting = Instant::now();
    c2.restart_process().await.expect("c2 restarts");
    cluster
        .wait_formed(Duration::from_secs(30))
        .await
        .expect("c2 back in the cluster");
    eprintln!(
        "c2 stopped, started and back in the cluster in {:?}",
        restarting.elapsed()
    );

    let mut pids: Vec<u32> = cluster.nodes().iter().map(|node| node.pid()).collect();
    pids.extend(cluster.epmd_pids());
    pids.push(database.pid());
    assert!(pids.iter().all(|&pid| pid != 0 && alive(pid)), "{pids:?}");
    let stopping = Instant::now();
    cluster.stop().await;
    let cluster_stopped = stopping.elapsed();
    database.stop().await;
    eprintln!(
        "cluster stopped in {cluster_stopped:?}, database {:?} later",
        stopping.elapsed() - cluster_stopped
    );
    assert!(
        pids.iter().all(|&pid| !alive(pid)),
        "no beam, epmd or postgres of the test is left: {pids:?}"
    );
    // No epmd of ours (or a stray one started by a late admin call) on the cluster's port.
    assert!(
        std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "nothing listens on the epmd port {port} any more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clusters_run_side_by_side_and_each_sees_only_itself() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(Duration::from_secs(300), two_clusters_scenario())
        .await
        .expect("the scenario finishes within 300 s");
}

async fn two_clusters_scenario() {
    let dir = lab_dir();
    let database =
        start_database(dir.path(), address(252, 100), &["ejabberd_a", "ejabberd_b"]).await;
    let (ca, ca_file, _trust) = lab_ca(dir.path());
    let a_addresses = [address(252, 1), address(252, 2)];
    let b_addresses = [address(253, 1), address(253, 2)];
    let a_port = epmd::free_port(&a_addresses).expect("a free epmd port");
    // Held while the second port is chosen, so that it is another one.
    let hold = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, a_port)).expect("hold a port");
    let b_port = epmd::free_port(&b_addresses).expect("a second free epmd port");
    drop(hold);
    assert_ne!(a_port, b_port);
    let a_specs = cluster_specs("a", &a_addresses, a_port, &database, "ejabberd_a", &ca_file);
    let b_specs = cluster_specs("b", &b_addresses, b_port, &database, "ejabberd_b", &ca_file);
    let started = Instant::now();
    let (a, b) = tokio::join!(
        start_cluster(a_specs, &ca, dir.path()),
        start_cluster(b_specs, &ca, dir.path())
    );
    eprintln!(
        "two 2-node clusters ready side by side in {:?} (a {:?}, b {:?})",
        started.elapsed(),
        a.ready_in(),
        b.ready_in()
    );
    for cluster in [&a, &b] {
        let own = cluster.erlang_nodes();
        assert_eq!(own.len(), 2);
        for node in cluster.nodes() {
            assert_eq!(
                node.cluster_view().await.expect("view"),
                own,
                "{} sees only its own cluster",
                node.erlang_node()
            );
        }
    }
    // The other cluster's cookie keeps a node out even when asked by name.
    let a1 = &a.nodes()[0];
    let b1 = &b.nodes()[0];
    let refused = a1
        .join_cluster(b1)
        .await
        .expect_err("a node cannot join a cluster with another cookie and epmd");
    eprintln!("cross-cluster join refused: {refused}");
    assert_eq!(a1.cluster_view().await.expect("view"), a.erlang_nodes());
    let mut pids: Vec<u32> = a.nodes().iter().chain(b.nodes()).map(|n| n.pid()).collect();
    pids.extend(a.epmd_pids());
    pids.extend(b.epmd_pids());
    pids.push(database.pid());
    tokio::join!(a.stop(), b.stop());
    database.stop().await;
    assert!(pids.iter().all(|&pid| !alive(pid)), "{pids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_survives_kill_stop_and_pause() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(Duration::from_secs(120), database_scenario())
        .await
        .expect("the scenario finishes within 120 s");
}

async fn database_scenario() {
    let dir = lab_dir();
    let database = start_database(dir.path(), address(254, 100), &["ejabberd_p"]).await;
    let count_tables = || async {
        database
            .client()
            .psql(
                "ejabberd_p",
                DB_USER,
                DB_PASSWORD,
                &[
                    "-c",
                    "SELECT count(*) FROM pg_tables WHERE tablename = 'users'",
                ],
            )
            .await
    };
    assert_eq!(count_tables().await.expect("query").trim(), "1");
    let postmaster = database.pid();
    let backends_of = |pid: u32| {
        std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|child| {
                std::fs::read_to_string(format!("/proc/{child}/stat")).is_ok_and(|stat| {
                    stat.rsplit(')')
                        .next()
                        .and_then(|rest| rest.split_whitespace().nth(1))
                        == Some(pid.to_string().as_str())
                })
            })
            .collect::<Vec<u32>>()
    };
    let backends = backends_of(postmaster);
    assert!(!backends.is_empty(), "a postmaster has helper processes");

    // A crash takes the backends along, and the data survives it.
    let killed = Instant::now();
    database.kill_process().await;
    assert_eq!(database.state(), ServerState::Down);
    assert!(!alive(postmaster));
    assert!(backends.iter().all(|&pid| !alive(pid)), "{backends:?}");
    database.start_process().await.expect("starts after a kill");
    eprintln!("postgres killed and up again in {:?}", killed.elapsed());
    assert_eq!(count_tables().await.expect("query after kill").trim(), "1");

    // Paused, it holds connections without answering; resumed, it answers.
    database.pause_process(true).await.expect("pause");
    assert_eq!(database.state(), ServerState::Paused);
    assert!(
        count_tables().await.is_err(),
        "a paused database answers nothing"
    );
    database.pause_process(false).await.expect("resume");
    assert_eq!(
        count_tables().await.expect("query after resume").trim(),
        "1"
    );

    let stopping = Instant::now();
    let postmaster = database.pid();
    let backends = backends_of(postmaster);
    database.stop_process().await;
    eprintln!("postgres fast shutdown in {:?}", stopping.elapsed());
    assert!(!alive(postmaster) && backends.iter().all(|&pid| !alive(pid)));
    database.start_process().await.expect("starts after a stop");
    assert_eq!(count_tables().await.expect("query after stop").trim(), "1");
    let postmaster = database.pid();
    database.stop().await;
    assert!(!alive(postmaster));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_a_faked_clock_answers_with_its_time() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let _one = ONE_AT_A_TIME.lock().await;
    tokio::time::timeout(Duration::from_secs(120), faked_clock_scenario())
        .await
        .expect("the scenario finishes within 120 s");
}

/// `2026-12-06T05:40:12.123456Z` (the `time` crate here is built without its parser).
fn parse_utc(text: &str) -> Option<time::OffsetDateTime> {
    let (date, clock) = text.strip_suffix('Z')?.split_once('T')?;
    let numbers = |part: &str, separator: char| -> Option<Vec<u32>> {
        part.split(separator)
            .map(|n| n.split('.').next()?.parse().ok())
            .collect()
    };
    let (date, clock) = (numbers(date, '-')?, numbers(clock, ':')?);
    let month = time::Month::try_from(u8::try_from(*date.get(1)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(*date.first()?).ok()?,
        month,
        u8::try_from(*date.get(2)?).ok()?,
    )
    .ok()?;
    let [h, m, s] = [clock.first()?, clock.get(1)?, clock.get(2)?].map(|&n| n as u8);
    let clock = time::Time::from_hms(h, m, s).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
}

async fn faked_clock_scenario() {
    let dir = lab_dir();
    let database = start_database(dir.path(), address(255, 100), &["ejabberd_t"]).await;
    let (ca, ca_file, trust) = lab_ca(dir.path());
    let addresses = [address(255, 1)];
    let port = epmd::free_port(&addresses).expect("a free epmd port");
    let clock = dir.path().join("faketime");
    std::fs::write(&clock, "+3600\n").expect("clock file");
    let mut specs = cluster_specs("t", &addresses, port, &database, "ejabberd_t", &ca_file);
    specs[0].faketime = Some(clock);
    let cluster = start_cluster(specs, &ca, dir.path()).await;
    let node = &cluster.nodes()[0];
    let environ = |pid: u32| std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let has_preload = |pid: u32| {
        environ(pid)
            .split(|&b| b == 0)
            .any(|var| var.starts_with(b"LD_PRELOAD="))
    };
    assert!(has_preload(node.pid()), "the beam runs with libfaketime");
    assert!(
        cluster.epmd_pids().iter().all(|&pid| !has_preload(pid)),
        "epmd runs on the real clock"
    );

    node.register("alice", "alice-pw").await.expect("register");
    let alice = connect(node.spec.c2s_addr(), "t.test", "alice", &trust).await;
    alice
        .send_raw("<iq type='get' to='t.test' id='time1'><time xmlns='urn:xmpp:time'/></iq>")
        .await
        .expect("send time query");
    let answer = expect_stanza(&alice, "XEP-0202 time", |el| {
        el.name() == "iq" && el.attr("id") == Some("time1")
    })
    .await;
    let utc = answer
        .stanza()
        .and_then(|iq| iq.get_child("time", "urn:xmpp:time"))
        .and_then(|time| time.get_child("utc", "urn:xmpp:time"))
        .map(|utc| utc.text())
        .expect("a <utc> in the answer");
    let server_time = parse_utc(&utc).expect("a time like 2026-12-06T05:40:12.123Z");
    let ahead = server_time - time::OffsetDateTime::now_utc();
    eprintln!("the faked node's clock is {ahead} ahead");
    assert!(
        (ahead.whole_seconds() - 3600).abs() < 60,
        "the node's clock is an hour ahead: {utc}"
    );
    alice.close().await;
    cluster.stop().await;
    database.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_its_epmd_is_refused_and_starts_no_epmd() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    tokio::time::timeout(Duration::from_secs(60), epmd_missing_scenario())
        .await
        .expect("the scenario finishes within 60 s");
}

async fn epmd_missing_scenario() {
    let dir = lab_dir();
    let addresses = [address(251, 200)];
    let port = epmd::free_port(&addresses).expect("a free epmd port");
    let ca_file = dir.path().join("ca.pem");
    let spec = EjabberdSpec {
        role: "x".into(),
        node: "x1".into(),
        domain: "x.test".into(),
        muc_domain: "conference.x.test".into(),
        address: addresses[0],
        epmd_port: port,
        cookie: "cookie-x".into(),
        database: DbConn {
            host: "127.0.0.1".into(),
            port: 1,
            name: "none".into(),
            user: "none".into(),
            password: "none".into(),
        },
        ca_file,
        net_ticktime: 10,
        hosts: Vec::new(),
        nameserver: None,
        netns: None,
        faketime: None,
        admins: Vec::new(),
    };
    let error = EjabberdNode::start(spec, &dir.path().join("x1"), "cert", "key")
        .await
        .expect_err("no epmd, no node");
    let message = error.to_string();
    assert!(
        message.contains("x1@") && message.contains("epmd"),
        "{message}"
    );
    assert!(
        std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "no epmd appeared on port {port}"
    );
}
