//! The lab's PKI against real Prosody servers, below the language: revocation seen by OCSP alone
//! (no CRL), the DNS that sends server-to-server links over Direct TLS, and links read from the
//! admin shell.

use std::sync::Arc;
use std::time::Duration;

use jspec_lang::ast::CertificateState;
use jspec_runtime::lab::{Lab, LabSpec, S2sAuth, ServerSettings};
use jspec_runtime::xmpp::{ConnectConfig, FailureReason, Session};
use tokio_util::sync::CancellationToken;

async fn lab(servers: &[&str]) -> (tempfile::TempDir, Lab) {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = LabSpec {
        servers: servers.iter().map(|s| s.to_string()).collect(),
        ..LabSpec::default()
    };
    let lab = Lab::start(&spec, dir.path()).await.expect("lab starts");
    (dir, lab)
}

fn config(lab: &Lab, role: &str, user: &str) -> ConnectConfig {
    let server = lab.server(role).expect("server");
    ConnectConfig::new(
        server.spec.c2s_addr(),
        server.spec.domain.clone(),
        user,
        "secret",
        Arc::new(lab.trust_store()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_learns_of_a_revocation_from_ocsp_alone() {
    let (_dir, lab) = lab(&["a"]).await;
    let a = lab.server("a").expect("a");
    a.register("alice", "secret").await.expect("register");

    // Without a CRL, only the OCSP answer can tell.
    let mut checked = config(&lab, "a", "alice");
    checked.ocsp = Some(lab.ocsp_check());
    let session = Session::connect(checked.clone(), CancellationToken::new())
        .await
        .expect("a good certificate passes the OCSP check");
    session.close().await;

    lab.revoke_server_certificate("a").await.expect("revoke");
    let error = Session::connect(checked, CancellationToken::new())
        .await
        .expect_err("the revoked certificate is refused");
    assert_eq!(error.reason(), Some(FailureReason::CertificateRevoked));
    assert!(error.to_string().contains("OCSP"), "{error}");

    // A client that checks nothing still gets in: the refusal above came from the check.
    let unchecked = config(&lab, "a", "alice");
    Session::connect(unchecked, CancellationToken::new())
        .await
        .expect("no revocation check, no refusal")
        .close()
        .await;
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_go_over_direct_tls_once_published_and_fall_back_to_dialback_when_allowed() {
    let (_dir, lab) = lab(&["a", "b"]).await;
    let (a, b) = (lab.server("a").expect("a"), lab.server("b").expect("b"));
    let roles = vec!["a".to_string(), "b".to_string()];

    // Defaults: certificates, STARTTLS on 5269.
    a.ping_remote("b.test").await;
    let link = outgoing(a, "b.test").await;
    assert_eq!((link.auth, link.port), (S2sAuth::Certificate, Some(5269)));

    let direct = ServerSettings {
        s2s_direct_tls: true,
        ..ServerSettings::default()
    };
    let changed = lab.configure(&roles, &direct).await.expect("configure");
    assert_eq!(changed.len(), 2, "{changed:?}");
    a.ping_remote("b.test").await;
    let link = outgoing(a, "b.test").await;
    assert_eq!((link.auth, link.port), (S2sAuth::Certificate, Some(5270)));

    // b's certificate expires; with dialback allowed, b proves itself by dialback.
    let dialback = ServerSettings {
        s2s_secure_auth: false,
        ..ServerSettings::default()
    };
    lab.configure(&roles, &dialback).await.expect("configure");
    lab.set_server_certificate("b", CertificateState::Expired)
        .await
        .expect("expired certificate");
    b.ping_remote("a.test").await;
    assert_eq!(outgoing(b, "a.test").await.auth, S2sAuth::Dialback);

    let restored = lab.restore_security().await.expect("restore");
    assert!(
        restored.iter().any(|r| r.contains("b: valid certificate")),
        "{restored:?}"
    );
    assert_eq!(a.settings(), ServerSettings::default());
    lab.stop().await;
}

/// The authenticated link `server` opened to `remote`, waiting a little for it.
async fn outgoing(
    server: &jspec_runtime::lab::prosody::Prosody,
    remote: &str,
) -> jspec_runtime::lab::S2sLink {
    for _ in 0..40 {
        let links = server.s2s_links().await.expect("admin shell");
        if let Some(link) = links
            .into_iter()
            .find(|l| l.outgoing && l.remote == remote && l.auth != S2sAuth::Pending)
        {
            return link;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no authenticated link to {remote}");
}
