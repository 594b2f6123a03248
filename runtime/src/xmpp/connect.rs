//! From an address to a bound resource: TCP, STARTTLS or Direct TLS, SASL, stream restart, bind.
//! Every network await goes through one [`Bound`] (connect deadline + cancel token).

use std::borrow::Cow;
use std::io;
use std::time::Duration;

use jid::FullJid;
use minidom::Element;
use tokio::io::{AsyncBufRead, AsyncWrite, BufStream};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_xmpp::xmlstream::{
    PendingFeaturesRecv, RecvFeaturesError, StreamHeader, Timeouts, XmlStream, initiate_stream,
};
use xmpp_parsers::bind::{BindQuery, BindResponse};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::sm::{Enabled, Resumed};
use xmpp_parsers::starttls::Request;
use xmpp_parsers::stream_features::StreamFeatures;

use super::config::{ConnectConfig, TlsMode, UseStreamManagement};
use super::error::{ConnectError, FailureReason};
use super::limits::{XmlLimits, limit_exceeded};
use super::ocsp;
use super::sasl::{self, Binding};
use super::sm::{self, NS_SM};
use super::tls;
use super::wire::{self, Bound, NS_CLIENT, NS_TLS, Stream};

/// tokio-xmpp reports a soft timeout after `read_timeout` of silence (the session answers it
/// with a keepalive ping) and a hard error after `response_timeout` more.
fn stream_timeouts(config: &ConnectConfig) -> Timeouts {
    Timeouts {
        read_timeout: config.keepalive,
        response_timeout: config.keepalive,
    }
}

/// A bound session, ready to be handed to the I/O task.
pub(crate) struct Established {
    pub(crate) stream: Stream,
    pub(crate) jid: FullJid,
    pub(crate) mechanism: String,
    pub(crate) tls_version: String,
    /// The bind exchange, for the transcript.
    pub(crate) bind: (Element, Element),
    /// From the start of the TCP connect to the bind result.
    pub(crate) elapsed: Duration,
    /// Stream management, when the config asks for it (XEP-0198 `<enabled/>`).
    pub(crate) enabled: Option<Enabled>,
}

/// A connection authenticated, up to the post-authentication features.
struct Authenticated {
    stream: Stream,
    features: StreamFeatures,
    mechanism: String,
    tls_version: String,
    started: Instant,
}

/// A lost connection got back: the session resumed (XEP-0198), or a new one.
pub(crate) enum Reestablished {
    // Boxed: a stream is large, and both variants carry one.
    Resumed {
        stream: Box<Stream>,
        /// How many of our stanzas the server had handled.
        h: u32,
        elapsed: Duration,
    },
    /// Resumption refused or impossible: a new session, with why.
    New(Box<Established>, String),
}

/// TCP, TLS, SASL, bind, and stream management when asked for.
pub(crate) async fn establish(
    config: &ConnectConfig,
    bound: &Bound,
) -> Result<Established, ConnectError> {
    let authenticated = authenticate(config, bound).await?;
    new_session(authenticated, config, bound).await
}

/// Connects again after a lost connection: resumes with `resume` (a `<resume/>` request) when
/// the server offers stream management, else (or when refused) binds a new session.
pub(crate) async fn reestablish(
    config: &ConnectConfig,
    bound: &Bound,
    resume: Option<Element>,
) -> Result<Reestablished, ConnectError> {
    let mut authenticated = authenticate(config, bound).await?;
    let why = match (resume, &authenticated.features.stream_management) {
        (None, _) => "the session could not be resumed (no resumption id)".to_string(),
        (Some(_), None) => "the server no longer offers stream management".to_string(),
        (Some(request), Some(_)) => {
            let stage = "resuming the session";
            wire::send(&mut authenticated.stream, &request, stage, bound).await?;
            loop {
                let answer = wire::next_element(&mut authenticated.stream, stage, bound).await?;
                if answer.is("resumed", NS_SM) {
                    let resumed = Resumed::try_from(answer).map_err(|e| {
                        ConnectError::new(
                            FailureReason::StreamError,
                            format!("malformed <resumed/>: {e}"),
                        )
                    })?;
                    return Ok(Reestablished::Resumed {
                        stream: Box::new(authenticated.stream),
                        h: resumed.h,
                        elapsed: authenticated.started.elapsed(),
                    });
                }
                if answer.is("failed", NS_SM) {
                    let condition = answer
                        .children()
                        .next()
                        .map_or("no reason".to_string(), |c| c.name().to_string());
                    break format!("the server refused to resume the session ({condition})");
                }
            }
        }
    };
    let established = new_session(authenticated, config, bound).await?;
    Ok(Reestablished::New(Box::new(established), why))
}

/// Everything up to the post-authentication stream features.
async fn authenticate(
    config: &ConnectConfig,
    bound: &Bound,
) -> Result<Authenticated, ConnectError> {
    let started = Instant::now();
    let setup = tls::setup(config)?;
    let tcp = tcp_connect(config, bound).await?;
    let tcp = match config.tls {
        TlsMode::DirectTls => tcp,
        TlsMode::StartTls => starttls(tcp, config, bound).await?,
    };
    let tls = bound
        .run(
            "in the TLS handshake",
            setup.connector.connect(setup.server_name.clone(), tcp),
        )
        .await?
        .map_err(|e| tls::classify_handshake_error(&setup.verifier, &e))?;
    // Both TLS modes meet here: revocation by OCSP is judged before anything is sent over TLS.
    if let Some(check) = &config.ocsp {
        ocsp::check_session(check, &tls, config.accept_certificate.as_deref(), bound).await?;
    }
    let (tls_version, binding) = tls_facts(&tls);

    // The authenticated JID is not known yet; the bare JID is what we claim (RFC 6120 4.7.1).
    let from = format!("{}@{}", config.username, config.domain);
    // Wrapped only now: the OCSP check and `tls_facts` need the bare TLS stream.
    let io = BufStream::new(XmlLimits::new(tls, config.limits));
    let pending = open(io, config, Some(&from), bound).await?;
    let (features, mut stream) =
        recv_features(pending, "waiting for stream features", bound).await?;
    let binding = Binding {
        server_has_exporter: features
            .sasl_cb
            .as_ref()
            .is_some_and(|cb| cb.types.contains(&xmpp_parsers::sasl_cb::Type::TlsExporter)),
        ..binding
    };
    let mechanism = sasl::authenticate(
        &mut stream,
        config,
        &features.sasl_mechanisms,
        &binding,
        bound,
    )
    .await?;

    let header = header(config, Some(&from));
    // The server's next header opens a new stream at depth 1, not one inside the old one.
    stream.get_stream().get_ref().expect_restart();
    let pending = bound
        .run(
            "restarting the stream",
            stream.initiate_reset().send_header(header),
        )
        .await?
        .map_err(|e| wire::lost("restarting the stream", &e))?;
    let (features, stream) =
        recv_features(pending, "waiting for post-auth features", bound).await?;
    Ok(Authenticated {
        stream,
        features,
        mechanism,
        tls_version,
        started,
    })
}

/// Binds a resource on an authenticated stream, and enables stream management when asked.
async fn new_session(
    authenticated: Authenticated,
    config: &ConnectConfig,
    bound: &Bound,
) -> Result<Established, ConnectError> {
    let Authenticated {
        mut stream,
        features,
        mechanism,
        tls_version,
        started,
    } = authenticated;
    if !features.can_bind() {
        return Err(ConnectError::new(
            FailureReason::StreamError,
            "server offers no resource binding after authentication",
        ));
    }
    let (jid, bind) = bind(&mut stream, config, bound).await?;
    let offered = features.stream_management.is_some();
    let enabled = match config.stream_management {
        UseStreamManagement::Required => {
            Some(enable_stream_management(&mut stream, &features, bound).await?)
        }
        UseStreamManagement::IfOffered if offered => {
            Some(enable_stream_management(&mut stream, &features, bound).await?)
        }
        UseStreamManagement::IfOffered | UseStreamManagement::Never => None,
    };
    let elapsed = started.elapsed();
    tracing::debug!(%jid, %mechanism, %tls_version, ?elapsed, "session bound");
    Ok(Established {
        stream,
        jid,
        mechanism,
        tls_version,
        bind,
        elapsed,
        enabled,
    })
}

/// `<enable resume='true'/>`, answered by `<enabled/>`; a server without XEP-0198 fails the
/// connect (the case asked for stream management).
async fn enable_stream_management(
    stream: &mut Stream,
    features: &StreamFeatures,
    bound: &Bound,
) -> Result<Enabled, ConnectError> {
    let refused = |why: String| ConnectError::new(FailureReason::StreamError, why);
    if features.stream_management.is_none() {
        return Err(refused(
            "the server offers no stream management (XEP-0198) after binding".into(),
        ));
    }
    let stage = "enabling stream management";
    wire::send(stream, &sm::enable(), stage, bound).await?;
    loop {
        let answer = wire::next_element(stream, stage, bound).await?;
        if answer.is("enabled", NS_SM) {
            return Enabled::try_from(answer)
                .map_err(|e| refused(format!("malformed <enabled/>: {e}")));
        }
        if answer.is("failed", NS_SM) {
            return Err(refused(format!(
                "the server refused stream management: {}",
                String::from(&answer)
            )));
        }
    }
}

async fn tcp_connect(config: &ConnectConfig, bound: &Bound) -> Result<TcpStream, ConnectError> {
    let tcp = bound
        .run(
            "connecting TCP",
            open_tcp(config.route.unwrap_or(config.addr), config.bind),
        )
        .await?
        .map_err(|e| {
            // Refused, unreachable, reset: all mean nobody accepted us at that address.
            ConnectError::new(
                FailureReason::ConnectionRefused,
                format!("TCP connect to {} failed: {e}", config.addr),
            )
        })?;
    // Stanzas are small and latency is what tests measure.
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// A TCP connection to `addr`, from `bind` when given.
async fn open_tcp(
    addr: std::net::SocketAddr,
    bind: Option<std::net::IpAddr>,
) -> std::io::Result<TcpStream> {
    let Some(local) = bind else {
        return TcpStream::connect(addr).await;
    };
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.bind(std::net::SocketAddr::new(local, 0))?;
    socket.connect(addr).await
}

/// Plain stream, `<starttls/>`, `<proceed/>`; returns the TCP stream ready for the handshake.
async fn starttls(
    tcp: TcpStream,
    config: &ConnectConfig,
    bound: &Bound,
) -> Result<TcpStream, ConnectError> {
    // Limited too: a hostile server could nest its pre-TLS features as deep as any stanza.
    let io = BufStream::new(XmlLimits::new(tcp, config.limits));
    let pending = open(io, config, None, bound).await?;
    let (features, mut stream) =
        recv_features(pending, "waiting for pre-TLS features", bound).await?;
    if !features.can_starttls() {
        return Err(ConnectError::new(
            FailureReason::TlsFailed,
            "server does not offer STARTTLS",
        ));
    }
    let request = Element::from(Request);
    wire::send(&mut stream, &request, "requesting STARTTLS", bound).await?;
    let answer = wire::next_element(&mut stream, "waiting for STARTTLS proceed", bound).await?;
    if !answer.is("proceed", NS_TLS) {
        return Err(ConnectError::new(
            FailureReason::TlsFailed,
            format!("server answered STARTTLS with <{}/>", answer.name()),
        ));
    }
    // Nothing is buffered past <proceed/>: the server waits for our ClientHello.
    Ok(stream.into_inner().into_inner().into_inner())
}

fn header<'a>(config: &'a ConnectConfig, from: Option<&'a str>) -> StreamHeader<'a> {
    StreamHeader {
        to: Some(Cow::Borrowed(config.domain.as_str())),
        from: from.map(Cow::Borrowed),
        id: None,
    }
}

async fn open<Io: AsyncBufRead + AsyncWrite + Unpin>(
    io: Io,
    config: &ConnectConfig,
    from: Option<&str>,
    bound: &Bound,
) -> Result<PendingFeaturesRecv<Io>, ConnectError> {
    let stage = "opening the stream";
    bound
        .run(
            stage,
            initiate_stream(io, NS_CLIENT, header(config, from), stream_timeouts(config)),
        )
        .await?
        .map_err(|e| opening_failed(stage, &e))
}

/// The server closing right after our header (e.g. Prosody on a bad `to`) shows up as an
/// io error here; it is a stream-level refusal, not a network fault.
fn opening_failed(stage: &str, e: &io::Error) -> ConnectError {
    match e.kind() {
        // A limit is InvalidData too, but a known fault of the server's: `lost` names it.
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            if limit_exceeded(e).is_none() =>
        {
            ConnectError::new(
                FailureReason::StreamError,
                format!("server refused the stream while {stage}: {e}"),
            )
        }
        _ => wire::lost(stage, e),
    }
}

async fn recv_features<Io: AsyncBufRead + AsyncWrite + Unpin>(
    pending: PendingFeaturesRecv<Io>,
    stage: &str,
    bound: &Bound,
) -> Result<(StreamFeatures, XmlStream<Io, Element>), ConnectError> {
    match bound.run(stage, pending.recv_features::<Element>()).await? {
        Ok(ok) => Ok(ok),
        Err(RecvFeaturesError::StreamError(e)) => Err(ConnectError::new(
            FailureReason::StreamError,
            format!("stream error while {stage}: {}", e.0),
        )),
        Err(RecvFeaturesError::Io(e)) => Err(opening_failed(stage, &e)),
    }
}

/// TLS version for reports, and tls-exporter data for SCRAM-PLUS (RFC 9266: TLS 1.3 only).
fn tls_facts(tls: &tokio_rustls::client::TlsStream<TcpStream>) -> (String, Binding) {
    let conn = tls.get_ref().1;
    let version = conn.protocol_version();
    let exporter = (version == Some(rustls::ProtocolVersion::TLSv1_3))
        .then(|| {
            conn.export_keying_material(vec![0u8; 32], b"EXPORTER-Channel-Binding", None)
                .ok()
        })
        .flatten();
    let version = version.map_or_else(|| "unknown".to_owned(), |v| format!("{v:?}"));
    (
        version,
        Binding {
            exporter,
            server_has_exporter: false,
        },
    )
}

async fn bind(
    stream: &mut Stream,
    config: &ConnectConfig,
    bound: &Bound,
) -> Result<(FullJid, (Element, Element)), ConnectError> {
    let stage = "binding a resource";
    let resource = (!config.resource.is_empty()).then(|| config.resource.clone());
    let request = Element::from(Iq::from_set("jspec-bind", BindQuery::new(resource)));
    wire::send(stream, &request, stage, bound).await?;
    loop {
        let el = wire::next_element(stream, stage, bound).await?;
        // Only our bind answer matters; anything else this early is ignored.
        if !el.is("iq", NS_CLIENT) || el.attr("id") != Some("jspec-bind") {
            continue;
        }
        let refused = |why: String| ConnectError::new(FailureReason::StreamError, why);
        let iq =
            Iq::try_from(el.clone()).map_err(|e| refused(format!("malformed bind answer: {e}")))?;
        return match iq {
            Iq::Result {
                payload: Some(payload),
                ..
            } => {
                let answer = BindResponse::try_from(payload)
                    .map_err(|e| refused(format!("malformed bind result: {e}")))?;
                Ok((answer.into(), (request, el)))
            }
            Iq::Error { error, .. } => Err(refused(format!("bind refused: {error:?}"))),
            _ => Err(refused("bind answer without a JID".to_owned())),
        };
    }
}

/// Connect to online, for reports: how long the steps above took.
pub(crate) fn describe(e: &Established) -> String {
    format!(
        "bound {} over {} with {} in {} ms",
        e.jid,
        e.tls_version,
        e.mechanism,
        e.elapsed.as_millis()
    )
}
