//! The XMPP client layer against a real Prosody (apt-get install prosody). Each test starts
//! its own server with its own certificates on free loopback ports.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use jspec_runtime::xmpp::{
    AuthMechanism, ConnectError, Direction, Element, FailureReason, SendError, Session, StreamEnd,
    TlsMode,
};
use tokio_util::sync::CancellationToken;

use support::client::{DOMAIN, body, config, connect, connect_err, expect_stanza, in_secs, server};
use support::pki::{TestCa, Validity};
use support::prosody::Prosody;

#[tokio::test]
async fn starttls_scram_login_and_chat_message() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    let started = Instant::now();
    let alice = connect(config(server.c2s, "alice", ca.root_store())).await;
    alice.send_initial_presence().await.expect("alice presence");
    let online = started.elapsed();
    let bob = connect(config(server.c2s, "bob", ca.root_store())).await;
    bob.send_initial_presence().await.expect("bob presence");

    assert_eq!(alice.jid().to_string(), "alice@a.test/jspec");
    // Prosody 0.12 offers SCRAM-SHA-1 (no -PLUS over TLS 1.3): SCRAM must be what ran.
    assert_eq!(alice.info().mechanism, "SCRAM-SHA-1");
    assert_eq!(alice.info().tls_version, "TLSv1_3");
    eprintln!(
        "prosody ready in {:?}; alice STARTTLS+SCRAM bound in {:?}, online (presence sent) in {:?}",
        server.started_in,
        alice.info().connect_time,
        online
    );

    let to = bob.jid().to_string();
    alice
        .send_raw(&format!(
            "<message to='{to}' type='chat' id='m1'><body>hello bob</body></message>"
        ))
        .await
        .expect("send message");
    let got = expect_stanza(&bob, "message from alice", |el| {
        el.name() == "message" && body(el).as_deref() == Some("hello bob")
    })
    .await;
    let el = got.stanza().expect("a stanza");
    assert_eq!(el.attr("from"), Some("alice@a.test/jspec"));
    assert_eq!(el.attr("id"), Some("m1"));

    // Transcripts: alice's shows it sent, bob's shows it received.
    let sent = alice.transcript();
    assert!(
        sent.iter()
            .any(|r| r.direction == Direction::Sent && r.text().contains("hello bob"))
    );
    let received = bob.transcript();
    assert!(
        received
            .iter()
            .any(|r| r.direction == Direction::Received && r.text().contains("hello bob"))
    );
    assert!(
        received
            .first()
            .is_some_and(|r| r.text().contains("urn:ietf:params:xml:ns:xmpp-bind"))
    );

    assert_eq!(alice.close().await, StreamEnd::ClosedByClient);
    assert_eq!(bob.close().await, StreamEnd::ClosedByClient);
}

#[tokio::test]
async fn direct_tls_login() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    let mut cfg = config(server.direct_tls, "alice", ca.root_store());
    cfg.tls = TlsMode::DirectTls;
    let alice = connect(cfg).await;
    assert_eq!(alice.info().mechanism, "SCRAM-SHA-1");
    eprintln!(
        "alice Direct TLS+SCRAM bound in {:?}",
        alice.info().connect_time
    );
    alice.close().await;
}

#[tokio::test]
async fn plain_login() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    let mut cfg = config(server.c2s, "bob", ca.root_store());
    cfg.auth = AuthMechanism::Plain;
    let bob = connect(cfg).await;
    assert_eq!(bob.info().mechanism, "PLAIN");
    bob.close().await;
}

#[tokio::test]
async fn wrong_password_is_auth_failed() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    for auth in [AuthMechanism::Scram, AuthMechanism::Plain] {
        let mut cfg = config(server.c2s, "alice", ca.root_store());
        cfg.password = "wrong".to_owned();
        cfg.auth = auth;
        let err = connect_err(cfg).await;
        assert_eq!(
            err.reason(),
            Some(FailureReason::AuthFailed),
            "{auth:?}: {err}"
        );
        eprintln!("{auth:?} wrong password: {err}");
    }
}

#[tokio::test]
async fn disabled_mechanism_is_mechanism_unavailable() {
    let ca = TestCa::new("jspec test CA");
    let cert = ca.server_cert(&[DOMAIN], Validity::Current);
    let server = Prosody::start_with(DOMAIN, &cert, r#"disable_sasl_mechanisms = { "PLAIN" }"#);
    server.register("alice", "alice-pw");
    let mut cfg = config(server.c2s, "alice", ca.root_store());
    cfg.auth = AuthMechanism::Plain;
    let err = connect_err(cfg).await;
    assert_eq!(
        err.reason(),
        Some(FailureReason::MechanismUnavailable),
        "{err}"
    );
    eprintln!("PLAIN disabled: {err}");
}

#[tokio::test]
async fn nothing_listening_is_connection_refused() {
    let ca = TestCa::new("jspec test CA");
    // A port that was free a moment ago and has no listener now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let err = connect_err(config(addr, "alice", ca.root_store())).await;
    assert_eq!(
        err.reason(),
        Some(FailureReason::ConnectionRefused),
        "{err}"
    );
}

#[tokio::test]
async fn silent_server_is_connection_timeout_and_cancel_is_cancelled() {
    let ca = TestCa::new("jspec test CA");
    // The kernel completes the handshake (backlog) but nobody ever speaks.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut cfg = config(addr, "alice", ca.root_store());
    cfg.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = connect_err(cfg.clone()).await;
    assert_eq!(
        err.reason(),
        Some(FailureReason::ConnectionTimeout),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    cfg.timeout = Duration::from_secs(30);
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        canceller.cancel();
    });
    let started = Instant::now();
    let result = Session::connect(cfg, cancel).await;
    assert!(matches!(result, Err(ConnectError::Cancelled)), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Server certificate problems, each with its own server, in both TLS modes.
async fn certificate_failure(
    cert_ca: &TestCa,
    trusted: &TestCa,
    names: &[&str],
    validity: Validity,
    crl: bool,
) -> Vec<ConnectError> {
    let cert = cert_ca.server_cert(names, validity);
    let serial = cert.serial;
    let server = Prosody::start(DOMAIN, &cert);
    let mut errors = Vec::new();
    for (mode, addr) in [
        (TlsMode::StartTls, server.c2s),
        (TlsMode::DirectTls, server.direct_tls),
    ] {
        let mut cfg = config(addr, "alice", trusted.root_store());
        cfg.tls = mode;
        if crl {
            cfg.crls = vec![trusted.crl(&[serial])];
        }
        errors.push(connect_err(cfg).await);
    }
    errors
}

#[tokio::test]
async fn unknown_issuer() {
    let trusted = TestCa::new("jspec test CA");
    let other = TestCa::new("some other CA");
    for err in certificate_failure(&other, &trusted, &[DOMAIN], Validity::Current, false).await {
        assert_eq!(
            err.reason(),
            Some(FailureReason::CertificateUnknownIssuer),
            "{err}"
        );
        eprintln!("unknown issuer: {err}");
    }
}

#[tokio::test]
async fn expired_certificate() {
    let ca = TestCa::new("jspec test CA");
    for err in certificate_failure(&ca, &ca, &[DOMAIN], Validity::Expired, false).await {
        assert_eq!(
            err.reason(),
            Some(FailureReason::CertificateExpired),
            "{err}"
        );
        eprintln!("expired: {err}");
    }
}

#[tokio::test]
async fn wrong_host_certificate() {
    let ca = TestCa::new("jspec test CA");
    for err in certificate_failure(&ca, &ca, &["b.test"], Validity::Current, false).await {
        assert_eq!(
            err.reason(),
            Some(FailureReason::CertificateWrongHost),
            "{err}"
        );
        eprintln!("wrong host: {err}");
    }
}

#[tokio::test]
async fn revoked_certificate() {
    let ca = TestCa::new("jspec test CA");
    for err in certificate_failure(&ca, &ca, &[DOMAIN], Validity::Current, true).await {
        assert_eq!(
            err.reason(),
            Some(FailureReason::CertificateRevoked),
            "{err}"
        );
        eprintln!("revoked: {err}");
    }
}

#[tokio::test]
async fn ping_is_answered_by_the_other_client() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    let alice = connect(config(server.c2s, "alice", ca.root_store())).await;
    let bob = connect(config(server.c2s, "bob", ca.root_store())).await;
    let to = bob.jid().to_string();
    alice
        .send_raw(&format!(
            "<iq type='get' id='ping-1' to='{to}'><ping xmlns='urn:xmpp:ping'/></iq>"
        ))
        .await
        .expect("send ping");
    let reply = expect_stanza(&alice, "ping result from bob", |el| {
        el.name() == "iq" && el.attr("id") == Some("ping-1")
    })
    .await;
    let reply = reply.stanza().expect("stanza");
    assert_eq!(
        reply.attr("type"),
        Some("result"),
        "{}",
        String::from(reply)
    );
    assert_eq!(reply.attr("from"), Some(to.as_str()));
    // Bob's inbox records the ping, already consumed (the client answered it, no expectation
    // sees it), and his transcript shows the answer.
    let ping = bob
        .inbox()
        .snapshot()
        .into_iter()
        .find(|r| r.stanza().is_some_and(|el| el.attr("id") == Some("ping-1")))
        .expect("the ping is recorded in bob's inbox");
    assert!(
        bob.inbox().is_consumed(ping.seq),
        "an answered ping is consumed"
    );
    assert!(
        bob.transcript()
            .iter()
            .any(|r| r.direction == Direction::Sent
                && r.text().contains("ping-1")
                && r.text().contains("result"))
    );
}

#[tokio::test]
async fn raw_send_errors_are_values() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    let alice = connect(config(server.c2s, "alice", ca.root_store())).await;
    let err = alice.send_raw("<message><body>unclosed</message>").await;
    assert!(matches!(err, Err(SendError::InvalidXml(_))), "{err:?}");
    // The session is still usable.
    alice
        .send_raw("<iq type='get' id='own-ping'><ping xmlns='urn:xmpp:ping'/></iq>")
        .await
        .expect("send after a rejected raw stanza");
    expect_stanza(&alice, "server ping result", |el| {
        el.attr("id") == Some("own-ping")
    })
    .await;
    assert_eq!(alice.close().await, StreamEnd::ClosedByClient);
    let err = alice.send_raw("<presence/>").await;
    assert!(matches!(err, Err(SendError::Closed(_))), "{err:?}");
}

/// alice and bob online; bob sees alice's presence. The first call also makes bob subscribe
/// to alice (alice approves); later calls find the subscription in the roster.
async fn online_pair(server: &Prosody, ca: &TestCa, subscribe: bool) -> (Session, Session) {
    let alice = connect(config(server.c2s, "alice", ca.root_store())).await;
    let bob = connect(config(server.c2s, "bob", ca.root_store())).await;
    alice.send_initial_presence().await.expect("presence");
    bob.send_initial_presence().await.expect("presence");
    if subscribe {
        bob.send_raw("<presence to='alice@a.test' type='subscribe'/>")
            .await
            .expect("subscribe");
        expect_stanza(&alice, "subscription request", |el| {
            el.attr("type") == Some("subscribe")
        })
        .await;
        alice
            .send_raw("<presence to='bob@a.test' type='subscribed'/>")
            .await
            .expect("approve");
    }
    expect_stanza(&bob, "alice available", |el| {
        el.name() == "presence"
            && el.attr("from") == Some("alice@a.test/jspec")
            && el.attr("type").is_none()
    })
    .await;
    (alice, bob)
}

fn alice_unavailable(el: &Element) -> bool {
    el.name() == "presence"
        && el.attr("from") == Some("alice@a.test/jspec")
        && el.attr("type") == Some("unavailable")
}

#[tokio::test]
async fn close_and_abort_are_seen_as_unavailable() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);

    let (alice, bob) = online_pair(&server, &ca, true).await;
    let t = Instant::now();
    assert_eq!(alice.close().await, StreamEnd::ClosedByClient);
    let closed = expect_stanza(&bob, "unavailable after close", alice_unavailable).await;
    eprintln!(
        "close: took {:?}, bob saw {}",
        t.elapsed(),
        closed.stanza().map(String::from).unwrap_or_default()
    );
    bob.close().await;

    let (alice, bob) = online_pair(&server, &ca, false).await;
    let t = Instant::now();
    alice.abort().await;
    assert_eq!(alice.inbox().end(), Some(StreamEnd::Aborted));
    let aborted = expect_stanza(&bob, "unavailable after abort", alice_unavailable).await;
    eprintln!(
        "abort: bob saw unavailable after {:?}: {}",
        t.elapsed(),
        aborted.stanza().map(String::from).unwrap_or_default()
    );
    bob.close().await;
}

#[tokio::test]
async fn replaced_session_records_stream_error() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    let first = connect(config(server.c2s, "alice", ca.root_store())).await;
    let _second = connect(config(server.c2s, "alice", ca.root_store())).await;
    let cancel = CancellationToken::new();
    let end = first
        .inbox()
        .wait_for(0, |r| r.stanza().is_none(), in_secs(5), &cancel)
        .await;
    let end = first
        .inbox()
        .end()
        .unwrap_or_else(|| panic!("no end recorded ({end:?})"));
    assert!(
        matches!(&end, StreamEnd::ServerError(text) if text.starts_with("conflict")),
        "{end}"
    );
    eprintln!("first session: {end}");
}

#[tokio::test]
async fn keepalive_pings_stay_out_of_the_inbox_and_detect_a_frozen_server() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    let mut cfg = config(server.c2s, "alice", ca.root_store());
    cfg.keepalive = Duration::from_millis(300);
    let alice = connect(cfg).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let keepalive_answers = alice
        .transcript()
        .iter()
        .filter(|r| r.direction == Direction::Received && r.text().contains("jspec-keepalive-"))
        .count();
    assert!(
        keepalive_answers >= 2,
        "expected keepalive answers in the transcript"
    );
    assert!(
        alice.inbox().snapshot().is_empty(),
        "keepalive answers must not reach the inbox"
    );
    assert!(!alice.is_closed());

    // A frozen server (SIGSTOP) keeps TCP up but answers nothing: after one keepalive period
    // of silence and one more without an answer, the session records a broken connection.
    server.pause();
    let paused = Instant::now();
    let cancel = CancellationToken::new();
    alice
        .inbox()
        .wait_for(0, |r| r.stanza().is_none(), in_secs(5), &cancel)
        .await;
    server.resume();
    let end = alice.inbox().end();
    assert!(matches!(end, Some(StreamEnd::Broken(_))), "{end:?}");
    eprintln!(
        "frozen server detected after {:?}: {:?}",
        paused.elapsed(),
        end
    );
}

/// Connect-to-online timings (TCP connect to initial presence written), sequential, for the
/// report. Debug builds are dominated by the client's unoptimised PBKDF2 for SCRAM.
#[tokio::test]
async fn connect_timings() {
    let ca = TestCa::new("jspec test CA");
    let server = server(&ca);
    let variants = [
        (TlsMode::StartTls, AuthMechanism::Scram, server.c2s),
        (TlsMode::DirectTls, AuthMechanism::Scram, server.direct_tls),
        (TlsMode::StartTls, AuthMechanism::Plain, server.c2s),
        (TlsMode::DirectTls, AuthMechanism::Plain, server.direct_tls),
    ];
    for (mode, auth, addr) in variants {
        let mut times = Vec::new();
        for _ in 0..10 {
            let mut cfg = config(addr, "alice", ca.root_store());
            cfg.tls = mode;
            cfg.auth = auth;
            let started = Instant::now();
            let session = connect(cfg).await;
            session.send_initial_presence().await.expect("presence");
            times.push(started.elapsed());
            session.close().await;
        }
        times.sort();
        eprintln!(
            "{mode:?}+{auth:?} connect-to-online, 10 runs: min {:?} median {:?} max {:?}",
            times[0], times[5], times[9]
        );
    }
    eprintln!(
        "prosody pid {} ready in {:?}",
        server.pid(),
        server.started_in
    );
}
