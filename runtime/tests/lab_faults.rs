//! Faults on a real lab: the proxy plane routes each server's s2s through a proxy of the pair
//! (its own view of the lab), the process plane kills, starts, pauses and resumes a Prosody, and
//! a lag on a client's link shows on an XMPP ping round trip.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jspec_lang::ast::ProcessAction;
use jspec_runtime::fault::model::{Endpoint, Impairment, Link, TcpTimeouts};
use jspec_runtime::fault::proxy::ProxyPlane;
use jspec_runtime::lab::ServerProcess;
use jspec_runtime::lab::prosody::ServerState;
use jspec_runtime::lab::{Lab, LabSpec};
use jspec_runtime::xmpp::{ConnectConfig, Session};
use tokio_util::sync::CancellationToken;

async fn proxied_lab(dir: &std::path::Path, roles: &[&str]) -> (Lab, Arc<ProxyPlane>) {
    let proxy = Arc::new(ProxyPlane::new(TcpTimeouts::default()));
    let spec = LabSpec {
        servers: roles.iter().map(|r| r.to_string()).collect(),
        proxy: Some(proxy.clone()),
        ..LabSpec::default()
    };
    (Lab::start(&spec, dir).await.expect("lab starts"), proxy)
}

fn alive(pid: u32) -> bool {
    !std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default()
        .is_empty()
}

async fn session(lab: &Lab, user: &str, route: Option<SocketAddr>) -> Session {
    let server = lab.server("a").expect("a");
    server.register(user, "secret").await.expect("register");
    let mut config = ConnectConfig::new(
        server.spec.c2s_addr(),
        "a.test",
        user,
        "secret",
        Arc::new(lab.trust_store()),
    );
    config.route = route;
    Session::connect(config, CancellationToken::new())
        .await
        .expect("connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_server_sees_the_others_through_its_own_proxies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lab, _proxy) = proxied_lab(dir.path(), &["a", "b"]).await;
    let a = lab.server("a").expect("a");
    let b = lab.server("b").expect("b");
    let a_view = std::fs::read_to_string(dir.path().join("a/hosts")).expect("a's hosts");
    let b_view = std::fs::read_to_string(dir.path().join("b/hosts")).expect("b's hosts");
    let seen = |view: &str, domain: &str| {
        view.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(domain))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_string)
            .expect("domain listed")
    };
    assert_eq!(seen(&a_view, "a.test"), a.spec.address.to_string());
    let a_to_b = seen(&a_view, "b.test");
    let b_to_a = seen(&b_view, "a.test");
    assert_ne!(
        a_to_b,
        b.spec.address.to_string(),
        "a reaches b through a proxy"
    );
    assert_ne!(a_to_b, b_to_a, "a -> b and b -> a are different links");
    // The proxy of a -> b leads to b's s2s port.
    tokio::net::TcpStream::connect((a_to_b.as_str(), 5269))
        .await
        .expect("the proxy of a -> b accepts");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_start_pause_and_resume_a_managed_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lab, proxy) = proxied_lab(dir.path(), &["a"]).await;
    let server = lab.server("a").expect("a");
    let c2s = server.spec.c2s_addr();
    let route = proxy
        .route(
            &Link::new(Endpoint::User("alice".into()), Endpoint::Server("a".into())),
            "127.0.0.1:0".parse().unwrap(),
            c2s,
        )
        .await
        .expect("route");
    let first = server.pid();

    lab.process("a", ProcessAction::Kill).await.expect("kill");
    assert!(!alive(first), "SIGKILL ended the process");
    assert_eq!(server.state(), ServerState::Down);
    for addr in [c2s, route] {
        let refused = match tokio::net::TcpStream::connect(addr).await {
            Err(refused) => refused,
            Ok(stream) => {
                // Who accepted it: the sockets of the machine, for the failure message.
                let sockets = std::process::Command::new("ss").arg("-tanp").output();
                let sockets = sockets.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
                panic!("{addr} accepts while a is down: {stream:?}\n{sockets:?}");
            }
        };
        assert_eq!(
            refused.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "{addr}"
        );
    }

    lab.process("a", ProcessAction::Start).await.expect("start");
    assert_ne!(server.pid(), first, "a new process");
    tokio::net::TcpStream::connect(route)
        .await
        .expect("the proxy listens again");
    let record = std::fs::read_to_string(dir.path().join("lab.json")).expect("record");
    assert!(
        record.contains(&server.pid().to_string()),
        "the record has the new PID"
    );

    lab.process("a", ProcessAction::Pause).await.expect("pause");
    assert_eq!(server.state(), ServerState::Paused);
    // The kernel stops the process when the signal is delivered, a moment after it is sent.
    let stopped_by = Instant::now() + Duration::from_secs(2);
    let mut stat = String::new();
    while Instant::now() < stopped_by {
        stat = std::fs::read_to_string(format!("/proc/{}/stat", server.pid())).unwrap();
        if stat.contains(") T ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stat.contains(") T "), "stopped by SIGSTOP: {stat}");
    lab.process("a", ProcessAction::Resume)
        .await
        .expect("resume");
    assert_eq!(server.state(), ServerState::Running);
    session(&lab, "alice", Some(route)).await;
    lab.stop().await;
}

/// Sends an XMPP ping to the server and returns the round-trip time.
async fn ping(session: &Session, id: &str) -> Duration {
    let cursor = session.inbox().cursor();
    let started = Instant::now();
    session
        .send_raw(&format!(
            "<iq type='get' id='{id}' to='a.test'><ping xmlns='urn:xmpp:ping'/></iq>"
        ))
        .await
        .expect("ping sent");
    let answer = session
        .inbox()
        .wait_for(
            cursor,
            |r| r.stanza().is_some_and(|s| s.attr("id") == Some(id)),
            Instant::now() + Duration::from_secs(10),
            &CancellationToken::new(),
        )
        .await;
    assert!(answer.is_some(), "the server answered the ping");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_on_a_client_link_shows_on_a_ping_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lab, proxy) = proxied_lab(dir.path(), &["a"]).await;
    let link = Link::new(Endpoint::User("alice".into()), Endpoint::Server("a".into()));
    let route = proxy
        .route(
            &link,
            "127.0.0.1:0".parse().unwrap(),
            lab.server("a").unwrap().spec.c2s_addr(),
        )
        .await
        .expect("route");
    let alice = session(&lab, "alice", Some(route)).await;
    let before = ping(&alice, "p1").await;
    let lag = Impairment {
        lag: Some((Duration::from_millis(200), Duration::ZERO)),
        ..Impairment::default()
    };
    proxy.impair(&link.upstream(), &lag, 1);
    let lagged = ping(&alice, "p2").await;
    // The lag alone adds 200 ms; the unlagged round trip is only printed (it varies with load).
    assert!(
        lagged >= Duration::from_millis(200),
        "ping {before:?} without lag, {lagged:?} with 200ms on the uplink"
    );
    proxy.restore(&link.upstream());
    let after = ping(&alice, "p3").await;
    assert!(after < Duration::from_millis(200), "restored: {after:?}");
    lab.stop().await;
}
