//! Client-side helpers for tests against a private Prosody: configs, connects that panic with
//! context, and inbox waits that print the transcript when nothing matches.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jspec_runtime::xmpp::{ConnectConfig, ConnectError, Element, Received, Session};
use rustls::RootCertStore;
use tokio_util::sync::CancellationToken;

use super::pki::{TestCa, Validity};
use super::prosody::Prosody;

pub(crate) const DOMAIN: &str = "a.test";

/// A server for `a.test` with a valid certificate from `ca`, and users alice and bob.
pub(crate) fn server(ca: &TestCa) -> Prosody {
    let server = Prosody::start(DOMAIN, &ca.server_cert(&[DOMAIN], Validity::Current));
    server.register("alice", "alice-pw");
    server.register("bob", "bob-pw");
    server
}

pub(crate) fn config(addr: SocketAddr, user: &str, trust: Arc<RootCertStore>) -> ConnectConfig {
    let mut config = ConnectConfig::new(addr, DOMAIN, user, format!("{user}-pw"), trust);
    config.resource = "jspec".to_owned();
    config.timeout = Duration::from_secs(10);
    config
}

pub(crate) async fn connect(config: ConnectConfig) -> Session {
    let what = format!("{} via {:?}/{:?}", config.username, config.tls, config.auth);
    match Session::connect(config, CancellationToken::new()).await {
        Ok(session) => session,
        Err(e) => panic!("connect {what}: {e}"),
    }
}

pub(crate) async fn connect_err(config: ConnectConfig) -> ConnectError {
    match Session::connect(config, CancellationToken::new()).await {
        Ok(session) => panic!("connect unexpectedly succeeded as {}", session.jid()),
        Err(e) => e,
    }
}

pub(crate) fn in_secs(s: u64) -> Instant {
    Instant::now() + Duration::from_secs(s)
}

/// Waits up to 5 s for a stanza satisfying `pred` in `session`'s inbox (from the start).
pub(crate) async fn expect_stanza(
    session: &Session,
    what: &str,
    pred: impl Fn(&Element) -> bool,
) -> Received {
    let cancel = CancellationToken::new();
    let found = session
        .inbox()
        .wait_for(0, |r| r.stanza().is_some_and(&pred), in_secs(5), &cancel)
        .await;
    found.unwrap_or_else(|| {
        let seen: Vec<String> = session
            .transcript()
            .iter()
            .map(|r| format!("{:?} {}", r.direction, r.text()))
            .collect();
        panic!("{what}: not received; transcript:\n{}", seen.join("\n"))
    })
}

pub(crate) fn body(el: &Element) -> Option<String> {
    el.get_child("body", "jabber:client").map(Element::text)
}
