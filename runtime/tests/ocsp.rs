//! OCSP on the wire: the lab responder over real HTTP on loopback, judged by jspec's client
//! check and by `openssl ocsp`, and the check failing STARTTLS and Direct TLS connects whose
//! server presents a revoked lab certificate.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jspec_runtime::lab::pki::ocsp::OcspResponder;
use jspec_runtime::lab::pki::{CertificateKind, IssuedCertificate, LabCa};
use jspec_runtime::xmpp::{
    ConnectConfig, ConnectError, FailureReason, OcspCheck, OcspSource, Session, TlsMode, check_ocsp,
};
use rustls::pki_types::CertificateDer;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A CA whose certificates name a running responder.
async fn lab() -> (Arc<LabCa>, OcspResponder) {
    let ca = Arc::new(LabCa::generate("jspec lab CA").expect("ca"));
    let responder = OcspResponder::start(Arc::clone(&ca), LOOPBACK)
        .await
        .expect("responder starts");
    ca.set_ocsp_url(Some(responder.url()));
    (ca, responder)
}

fn issue(ca: &LabCa) -> IssuedCertificate {
    ca.issue(&["a.test".to_owned()], CertificateKind::Valid)
        .expect("cert")
}

fn from_aia(ca: &LabCa) -> OcspCheck {
    OcspCheck {
        source: OcspSource::FromAia,
        issuer: CertificateDer::from(ca.cert_der()),
    }
}

async fn check(check: &OcspCheck, cert: &IssuedCertificate) -> Result<(), ConnectError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let cert = CertificateDer::from(cert.cert_der.clone());
    check_ocsp(check, &cert, deadline, &CancellationToken::new()).await
}

fn failure(result: Result<(), ConnectError>) -> (FailureReason, String) {
    let err = result.expect_err("the check fails");
    (err.reason().expect("a reason"), err.message().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_then_revoked_and_unknown_for_a_foreign_serial() {
    let (ca, responder) = lab().await;
    let url = responder.url();
    let cert = issue(&ca);
    let started = std::time::Instant::now();
    check(&from_aia(&ca), &cert).await.expect("good");
    eprintln!("OCSP check (good) took {:?}", started.elapsed());

    ca.revoke(cert.serial);
    let at = ca.revoked_at(cert.serial).expect("revoked");
    let (reason, message) = failure(check(&from_aia(&ca), &cert).await);
    assert_eq!(reason, FailureReason::CertificateRevoked, "{message}");
    let when = at.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(
        message.contains(&format!("serial {}", cert.serial)),
        "{message}"
    );
    assert!(message.contains(&when[..10]), "{message} names {when}");

    // Same issuer name, but a serial the lab CA never issued (another CA's third one).
    let other = LabCa::generate("jspec lab CA").expect("other ca");
    other.set_ocsp_url(Some(url.clone()));
    let foreign = (0..3).map(|_| issue(&other)).last().expect("three");
    assert!(!(2..=cert.serial).contains(&foreign.serial));
    let (reason, message) = failure(check(&from_aia(&ca), &foreign).await);
    assert_eq!(reason, FailureReason::TlsFailed, "{message}");
    assert!(
        message.contains("does not know") && message.contains(&url),
        "{message}"
    );
    responder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_responder_is_tls_failed_naming_the_url() {
    let (ca, responder) = lab().await;
    let url = responder.url();
    let cert = issue(&ca);
    responder.shutdown().await;
    let (reason, message) = failure(check(&from_aia(&ca), &cert).await);
    assert_eq!(reason, FailureReason::TlsFailed);
    assert!(
        message.starts_with(&format!("OCSP responder {url} unreachable: ")),
        "{message}"
    );

    // A listener that accepts and never answers: the deadline ends the check.
    let silent = tokio::net::TcpListener::bind((LOOPBACK, 0))
        .await
        .expect("bind");
    let url = format!("http://{}/", silent.local_addr().expect("addr"));
    let explicit = OcspCheck {
        source: OcspSource::Url(url.clone()),
        ..from_aia(&ca)
    };
    let deadline = Instant::now() + Duration::from_millis(300);
    let der = CertificateDer::from(cert.cert_der.clone());
    let result = check_ocsp(&explicit, &der, deadline, &CancellationToken::new()).await;
    let (reason, message) = failure(result);
    assert_eq!(reason, FailureReason::TlsFailed);
    assert!(
        message.contains(&url) && message.contains("unreachable"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_responder_listens_on_its_address_only_and_stops_on_drop() {
    let (_ca, responder) = lab().await;
    let addr = responder.addr();
    assert_eq!(addr.ip(), LOOPBACK);
    // Another loopback address, same port: nothing there.
    let elsewhere = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), addr.port());
    assert!(tokio::net::TcpStream::connect(elsewhere).await.is_err());
    drop(responder);
    // Dropping aborts the server task; the listener closes as the runtime cancels it.
    let deadline = Instant::now() + Duration::from_secs(2);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still listening after drop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_ocsp_agrees_with_the_responder() {
    let (ca, responder) = lab().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = issue(&ca);
    std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).expect("write");
    std::fs::write(dir.path().join("cert.pem"), &cert.cert_pem).expect("write");

    // The AIA extension as openssl reads it.
    let text = openssl(dir.path(), &["x509", "-in", "cert.pem", "-noout", "-text"]).await;
    assert!(
        text.stdout
            .contains(&format!("OCSP - URI:{}", responder.url())),
        "{}",
        text.stdout
    );

    let url = responder.url();
    let ask = [
        "ocsp",
        "-issuer",
        "ca.pem",
        "-cert",
        "cert.pem",
        "-url",
        &url,
        "-CAfile",
        "ca.pem",
        "-resp_text",
    ];
    let good = openssl(dir.path(), &ask).await;
    assert!(good.stdout.contains("cert.pem: good"), "{good:?}");
    assert!(good.stderr.contains("Response verify OK"), "{good:?}");
    assert!(
        good.stdout.contains("OCSP Nonce"),
        "the nonce is echoed: {good:?}"
    );

    ca.revoke(cert.serial);
    let revoked = openssl(dir.path(), &ask).await;
    assert!(revoked.stdout.contains("cert.pem: revoked"), "{revoked:?}");
    assert!(revoked.stdout.contains("Revocation Time"), "{revoked:?}");
    assert!(revoked.stderr.contains("Response verify OK"), "{revoked:?}");
    // A SHA-256 CertID is answered in kind.
    let sha256 = openssl(dir.path(), &[&["ocsp", "-sha256"], &ask[1..]].concat()).await;
    assert!(sha256.stdout.contains("cert.pem: revoked"), "{sha256:?}");
    assert!(
        sha256.stdout.contains("Hash Algorithm: sha256"),
        "{sha256:?}"
    );

    // The CRL says the same, signed by the CA.
    std::fs::write(dir.path().join("crl.pem"), ca.crl_pem().expect("crl")).expect("write");
    let crl = openssl(
        dir.path(),
        &[
            "crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout", "-text",
        ],
    )
    .await;
    assert!(crl.stderr.contains("verify OK"), "{crl:?}");
    assert!(
        crl.stdout
            .contains(&format!("Serial Number: {:02X}", cert.serial)),
        "{crl:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_to_a_revoked_server_fails_certificate_revoked_in_both_tls_modes() {
    let (ca, responder) = lab().await;
    let cert = issue(&ca);
    ca.revoke(cert.serial);
    for mode in [TlsMode::DirectTls, TlsMode::StartTls] {
        let err = connect_err(&ca, tls_server(&cert, mode).await, mode).await;
        assert_eq!(
            err.reason(),
            Some(FailureReason::CertificateRevoked),
            "{mode:?}: {err}"
        );
        assert!(err.message().contains(&responder.url()), "{mode:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_to_a_good_server_goes_past_the_check() {
    let (ca, _responder) = lab().await;
    let cert = issue(&ca);
    // The server hangs up after TLS: the connect fails later, on the stream, not on OCSP.
    let err = connect_err(
        &ca,
        tls_server(&cert, TlsMode::DirectTls).await,
        TlsMode::DirectTls,
    )
    .await;
    assert!(!err.message().contains("OCSP"), "{err}");
    assert_ne!(
        err.reason(),
        Some(FailureReason::CertificateRevoked),
        "{err}"
    );
}

async fn connect_err(ca: &LabCa, server: SocketAddr, mode: TlsMode) -> ConnectError {
    let mut trust = rustls::RootCertStore::empty();
    trust
        .add(CertificateDer::from(ca.cert_der()))
        .expect("trust the CA");
    let mut config = ConnectConfig::new(server, "a.test", "alice", "pw", Arc::new(trust));
    config.tls = mode;
    config.timeout = Duration::from_secs(5);
    config.ocsp = Some(from_aia(ca));
    match Session::connect(config, CancellationToken::new()).await {
        Ok(session) => panic!("connect unexpectedly succeeded as {}", session.jid()),
        Err(e) => e,
    }
}

/// Accepts connections presenting `cert`: for STARTTLS it speaks just enough XMPP to reach
/// `<proceed/>`. After the handshake it hangs up (the OCSP verdict comes before any XMPP over
/// TLS).
async fn tls_server(cert: &IssuedCertificate, mode: TlsMode) -> SocketAddr {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert.cert_der.clone())], key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind((LOOPBACK, 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let exchange = async {
                    if mode == TlsMode::StartTls {
                        starttls(&mut tcp).await?;
                    }
                    acceptor.accept(tcp).await.map(drop)
                };
                let _ = tokio::time::timeout(Duration::from_secs(5), exchange).await;
            });
        }
    });
    addr
}

/// The server side of RFC 6120 5.4 up to `<proceed/>`.
async fn starttls(tcp: &mut tokio::net::TcpStream) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    read_until(tcp, |seen| {
        seen.find("<stream:stream")
            .is_some_and(|i| seen[i..].contains('>'))
    })
    .await?;
    tcp.write_all(
        b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
          xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='a.test' version='1.0'>\
          <stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>\
          </starttls></stream:features>",
    )
    .await?;
    read_until(tcp, |seen| seen.contains("<starttls")).await?;
    tcp.write_all(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        .await
}

async fn read_until(
    tcp: &mut tokio::net::TcpStream,
    done: impl Fn(&str) -> bool,
) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut chunk = [0u8; 1024];
    while !done(&String::from_utf8_lossy(&seen)) {
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        seen.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

#[derive(Debug)]
struct Output {
    stdout: String,
    stderr: String,
}

async fn openssl(dir: &Path, args: &[&str]) -> Output {
    let run = tokio::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("openssl finishes")
        .expect("openssl runs");
    Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
