//! A hostile XMPP server (issue 12, point 12): a fake server in this process speaks just enough
//! XMPP (STARTTLS, PLAIN, bind), then sends a stanza nested 20,000 deep, an endless text, or
//! endless attributes. jspec must end the session with a protocol violation, without aborting
//! on a stack overflow and without growing to gigabytes.
//!
//! Its own test binary so that peak RSS (VmHWM) measures these tests only; the tests also run
//! one at a time (a lock) so the peak is not the sum of three.

mod support;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jspec_runtime::xmpp::{Arrival, AuthMechanism, FailureReason, Session, StreamEnd};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use support::client::{DOMAIN, config};
use support::pki::{TestCa, Validity};

/// Peak RSS allowed for the whole test process.
const MAX_PEAK_MIB: u64 = 100;
/// A hostile payload stops after this much even if the client keeps reading.
const MAX_PAYLOAD: usize = 64 << 20;
const CHUNK: usize = 64 << 10;

/// Serialises the tests of this binary (each builds its own runtime).
static SERIAL: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, Debug)]
enum Payload {
    /// `<message>` and 20,000 nested `<a>`.
    Deep,
    /// `<message><body>` and text without end.
    Text,
    /// `<message` and attributes without end.
    Attributes,
    /// Not hostile: a stanza exactly as deep as allowed, then a small one.
    AtLimit,
}

/// Where the payload goes.
#[derive(Clone, Copy, Debug)]
enum When {
    /// After the bind result: the session's I/O task reads it.
    AfterBind,
    /// Inside the post-TLS stream features: the connect reads it.
    InFeatures,
}

#[test]
fn deeply_nested_stanza_is_a_violation() {
    let (end, served) = run_session(Payload::Deep);
    assert!(
        matches!(&end, StreamEnd::Violation(why) if why.contains("nested deeper than 256")),
        "{end}"
    );
    // The whole payload fits in the socket buffers, so the server reads our answer.
    assert!(
        served.answer.contains("policy-violation"),
        "client's answer: {:?}",
        served.answer
    );
}

#[test]
fn endless_text_is_a_violation() {
    let (end, _) = run_session(Payload::Text);
    assert!(
        matches!(&end, StreamEnd::Violation(why) if why.contains("larger than 1 MiB")),
        "{end}"
    );
}

#[test]
fn endless_attributes_are_a_violation() {
    let (end, _) = run_session(Payload::Attributes);
    assert!(
        matches!(&end, StreamEnd::Violation(why) if why.contains("larger than 1 MiB")),
        "{end}"
    );
}

/// Also shows that the scanner restarts with the stream after SASL: were the new header
/// counted inside the old stream, this stanza would be one level too deep.
#[test]
fn a_stanza_at_the_depth_limit_is_delivered() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let baseline = memory();
    runtime().block_on(async {
        let (addr, ca, server) = start_server(Payload::AtLimit, When::AfterBind).await;
        let mut cfg = config(addr, "alice", ca.root_store());
        cfg.auth = AuthMechanism::Plain;
        let session = Session::connect(cfg, CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("connect to the fake server: {e}"));
        let cancel = CancellationToken::new();
        let after = session.inbox().wait_for(
            0,
            |r| r.stanza().is_some_and(|el| el.attr("id") == Some("after")),
            std::time::Instant::now() + Duration::from_secs(30),
            &cancel,
        );
        assert!(
            after.await.is_some(),
            "no stanza after the deep one; ended: {:?}",
            session.inbox().end()
        );
        let ids: Vec<_> = session
            .inbox()
            .snapshot()
            .iter()
            .filter_map(|r| r.stanza().and_then(|el| el.attr("id")).map(str::to_owned))
            .collect();
        assert_eq!(ids, ["deep", "after"]);
        assert_eq!(session.close().await, StreamEnd::ClosedByClient);
        let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    });
    check_peak("at the limit", baseline);
}

#[test]
fn deep_features_fail_the_connect() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let baseline = memory();
    let err = runtime().block_on(async {
        let (addr, ca, server) = start_server(Payload::Deep, When::InFeatures).await;
        let mut cfg = config(addr, "alice", ca.root_store());
        cfg.auth = AuthMechanism::Plain;
        let connect = Session::connect(cfg, CancellationToken::new());
        let err = match tokio::time::timeout(Duration::from_secs(60), connect).await {
            Err(_) => panic!("connect neither failed nor succeeded within 60 s"),
            Ok(Ok(session)) => panic!("connect unexpectedly succeeded as {}", session.jid()),
            Ok(Err(e)) => e,
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        err
    });
    eprintln!("connect: {err}");
    assert_eq!(err.reason(), Some(FailureReason::StreamError), "{err}");
    assert!(err.message().contains("broke the protocol"), "{err}");
    assert!(err.message().contains("nested deeper than 256"), "{err}");
    check_peak("deep features", baseline);
}

/// Connects to a fresh hostile server; how the session ended, and what the server saw.
fn run_session(payload: Payload) -> (StreamEnd, Served) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let baseline = memory();
    let end = runtime().block_on(async {
        let (addr, ca, server) = start_server(payload, When::AfterBind).await;
        let mut cfg = config(addr, "alice", ca.root_store());
        cfg.auth = AuthMechanism::Plain;
        let session = Session::connect(cfg, CancellationToken::new())
            .await
            .unwrap_or_else(|e| panic!("connect to the fake server: {e}"));
        assert_eq!(session.jid().to_string(), "alice@a.test/jspec");
        let cancel = CancellationToken::new();
        let ended = session.inbox().wait_for(
            0,
            |r| matches!(r.arrival, Arrival::Ended(_)),
            std::time::Instant::now() + Duration::from_secs(60),
            &cancel,
        );
        let end = match ended.await.map(|r| r.arrival) {
            Some(Arrival::Ended(end)) => end,
            _ => panic!("{payload:?}: the session did not end within 60 s"),
        };
        let served = tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        eprintln!(
            "{payload:?}: server wrote {} KiB of payload",
            served.written >> 10
        );
        if !served.answer.is_empty() {
            eprintln!("{payload:?}: the client answered {}", served.answer);
        }
        (end, served)
    });
    eprintln!("{payload:?}: {}", end.0);
    check_peak(&format!("{payload:?}"), baseline);
    end
}

fn runtime() -> tokio::runtime::Runtime {
    // Worker threads as in the real runtime (2 MiB stacks), where the overflow happened.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// (VmRSS, VmHWM) of this process in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn check_peak(what: &str, (rss, hwm): (u64, u64)) {
    let (now, peak) = memory();
    eprintln!(
        "{what}: RSS before {} MiB (peak so far {} MiB), after {} MiB, peak {} MiB",
        rss >> 10,
        hwm >> 10,
        now >> 10,
        peak >> 10
    );
    assert!(
        peak >> 10 < MAX_PEAK_MIB,
        "{what}: peak RSS {} MiB",
        peak >> 10
    );
}

/// A listener for one client; the task returns how many payload bytes it wrote.
async fn start_server(
    payload: Payload,
    when: When,
) -> (SocketAddr, TestCa, tokio::task::JoinHandle<Served>) {
    let ca = TestCa::new("jspec hostile test CA");
    let cert = ca.server_cert(&[DOMAIN], Validity::Current);
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("server key");
    let chain =
        vec![CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).expect("server cert")];
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return Served::default();
        };
        match serve(tcp, acceptor, payload, when).await {
            Ok(served) => served,
            Err(e) => {
                eprintln!("fake server: {e}");
                Served::default()
            }
        }
    });
    (addr, ca, task)
}

/// What the fake server did after the handshake.
#[derive(Debug, Default)]
struct Served {
    /// Payload bytes written.
    written: usize,
    /// What the client sent after the payload (when the whole payload got out).
    answer: String,
}

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='a.test' version='1.0'>";

/// The server side of STARTTLS, PLAIN and bind, then the payload.
async fn serve(
    mut tcp: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    payload: Payload,
    when: When,
) -> io::Result<Served> {
    read_header(&mut tcp).await?;
    let features = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\
        <required/></starttls></stream:features>";
    tcp.write_all(format!("{HEADER}{features}").as_bytes())
        .await?;
    read_until(&mut tcp, |seen| seen.contains("<starttls")).await?;
    tcp.write_all(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        .await?;
    let mut tls = acceptor.accept(tcp).await?;

    read_header(&mut tls).await?;
    tls.write_all(HEADER.as_bytes()).await?;
    if let When::InFeatures = when {
        tls.write_all(b"<stream:features>").await?;
        return hostile(&mut tls, payload).await;
    }
    let features = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    tls.write_all(features.as_bytes()).await?;
    read_until(&mut tls, |seen| {
        seen.contains("</auth>") || (seen.contains("<auth") && seen.trim_end().ends_with("/>"))
    })
    .await?;
    tls.write_all(b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
        .await?;

    read_header(&mut tls).await?;
    let features = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
        </stream:features>";
    tls.write_all(format!("{HEADER}{features}").as_bytes())
        .await?;
    let bind = read_until(&mut tls, |seen| seen.contains("</iq>")).await?;
    let id = attr(&bind, "id").unwrap_or_else(|| "jspec-bind".to_owned());
    let result = format!(
        "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>alice@a.test/jspec</jid></bind></iq>"
    );
    tls.write_all(result.as_bytes()).await?;
    tls.flush().await?;
    hostile(&mut tls, payload).await
}

/// Writes the payload until the client hangs up (or `MAX_PAYLOAD`), then waits for its close.
async fn hostile<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    payload: Payload,
) -> io::Result<Served> {
    let mut written = 0usize;
    let outcome = async {
        match payload {
            Payload::Deep => {
                let mut xml = String::from("<message from='bob@a.test/x' type='chat'>");
                xml.push_str(&"<a>".repeat(20_000));
                io.write_all(xml.as_bytes()).await?;
                written += xml.len();
                // Closed too, so only the depth is wrong.
                let mut close = "</a>".repeat(20_000);
                close.push_str("</message>");
                io.write_all(close.as_bytes()).await?;
                written += close.len();
            }
            Payload::AtLimit => {
                // The stanza is depth 1, so 255 children reach 256.
                let xml = format!(
                    "<message id='deep'>{}{}</message>\
                     <message id='after'><body>still here</body></message>",
                    "<a>".repeat(255),
                    "</a>".repeat(255)
                );
                io.write_all(xml.as_bytes()).await?;
                written += xml.len();
            }
            Payload::Text => {
                let start = "<message from='bob@a.test/x' type='chat'><body>";
                io.write_all(start.as_bytes()).await?;
                let chunk = "x".repeat(CHUNK);
                while written < MAX_PAYLOAD {
                    io.write_all(chunk.as_bytes()).await?;
                    written += chunk.len();
                }
            }
            Payload::Attributes => {
                io.write_all(b"<message from='bob@a.test/x'").await?;
                let mut n = 0u64;
                while written < MAX_PAYLOAD {
                    let mut chunk = String::with_capacity(CHUNK + 32);
                    while chunk.len() < CHUNK {
                        chunk.push_str(&format!(" a{n}='v'"));
                        n += 1;
                    }
                    io.write_all(chunk.as_bytes()).await?;
                    written += chunk.len();
                }
            }
        }
        io.flush().await
    };
    if let Err(e) = outcome.await {
        // The client hanging up mid-payload is the expected way out.
        eprintln!(
            "fake server: payload stopped after {} KiB: {e}",
            written >> 10
        );
        return Ok(Served {
            written,
            answer: String::new(),
        });
    }
    // Everything written: keep what the client says until it closes (bounded).
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let drain = async {
        while let Ok(n @ 1..) = io.read(&mut chunk).await {
            answer.extend_from_slice(&chunk[..n]);
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(30), drain).await;
    Ok(Served {
        written,
        answer: String::from_utf8_lossy(&answer).into_owned(),
    })
}

/// Reads until a stream header (`<stream:stream ...>`) has arrived.
async fn read_header<S: AsyncRead + Unpin>(io: &mut S) -> io::Result<String> {
    read_until(io, |seen| {
        seen.find("<stream:stream")
            .is_some_and(|i| seen[i..].contains('>'))
    })
    .await
}

async fn read_until<S: AsyncRead + Unpin>(
    io: &mut S,
    done: impl Fn(&str) -> bool,
) -> io::Result<String> {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&seen);
        if done(&text) {
            return Ok(text.into_owned());
        }
        let n = tokio::time::timeout(Duration::from_secs(10), io.read(&mut chunk))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        seen.extend_from_slice(&chunk[..n]);
    }
}

/// The value of `name='...'` or `name="..."` in `xml` (first occurrence).
fn attr(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!(" {name}="))? + name.len() + 2;
    let quote = xml[start..].chars().next()?;
    let rest = &xml[start + 1..];
    rest.find(quote).map(|end| rest[..end].to_owned())
}
