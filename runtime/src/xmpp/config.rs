//! What a connect needs: where to go, who to be, how to secure and authenticate.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::CertificateRevocationListDer;

use super::limits::Limits;
use super::ocsp::OcspCheck;

/// How the stream gets TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP, stream opened, `<starttls/>`, then TLS (RFC 6120).
    StartTls,
    /// TLS from the first byte (XEP-0368), ALPN `xmpp-client`.
    DirectTls,
}

/// Which SASL family the session must use; the connect fails with `mechanism-unavailable`
/// rather than silently using another one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMechanism {
    /// SCRAM-SHA-256 or SCRAM-SHA-1 (the -PLUS variant with tls-exporter when the server
    /// advertises that binding, XEP-0440).
    Scram,
    Plain,
    /// SASL EXTERNAL: the TLS client certificate is the credential (XEP-0178).
    External,
    /// GSSAPI with a Kerberos ticket (RFC 4752): single sign-on, the password is not used.
    Gssapi,
}

/// A client certificate and its key, PEM-encoded, presented in the TLS handshake.
#[derive(Clone)]
pub struct ClientCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of logs.
        f.debug_struct("ClientCertificate")
            .field("cert_pem", &self.cert_pem.len())
            .finish_non_exhaustive()
    }
}

/// Where a GSSAPI login finds its ticket and realm. Each login runs the `jspec-gssapi` helper
/// with these as KRB5CCNAME and KRB5_CONFIG (krb5 reads them only from the environment, which
/// a multi-threaded process cannot change safely per login).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KerberosConfig {
    /// The credential cache holding the user's tickets; `None`: the environment's default.
    pub ccache: Option<PathBuf>,
    /// The realm's krb5.conf; `None`: the environment's (normally /etc/krb5.conf).
    pub krb5_config: Option<PathBuf>,
    /// The helper program; `None`: `JSPEC_GSSAPI_HELPER`, else `jspec-gssapi` beside the
    /// running program, else on PATH.
    pub helper: Option<PathBuf>,
}

/// Everything [`Session::connect`](super::Session::connect) needs.
#[derive(Clone)]
pub struct ConnectConfig {
    /// Where to open TCP (no DNS: the environment resolves roles to addresses).
    pub addr: SocketAddr,
    /// The XMPP domain: stream `to`, the TLS server name that is verified, the JID's domain.
    pub domain: String,
    pub username: String,
    pub password: String,
    /// Requested resource; empty lets the server choose one.
    pub resource: String,
    pub tls: TlsMode,
    pub auth: AuthMechanism,
    /// Trust anchors (the lab CA). Verification is always on.
    pub trust: Arc<RootCertStore>,
    /// A server certificate (DER) accepted even though it does not verify: one the case made
    /// invalid on purpose, so that its own clients still reach the server. The refusal is
    /// still logged.
    pub accept_certificate: Option<Vec<u8>>,
    /// Presented when the server asks for one (needed by `AuthMechanism::External`).
    pub client_certificate: Option<ClientCertificate>,
    /// Certificate revocation lists; empty means no revocation checking.
    pub crls: Vec<CertificateRevocationListDer<'static>>,
    /// An OCSP check of the server's certificate right after the handshake; `None`: no check.
    pub ocsp: Option<OcspCheck>,
    /// Bound on the whole connect, on each send and on a clean close.
    pub timeout: Duration,
    /// After this much silence from the server the session pings it; after as much again
    /// without any data the connection counts as broken (like a real client's dead-link check).
    pub keepalive: Duration,
    /// The local address to connect from (the packet plane gives each user its own); `None`
    /// lets the system choose.
    pub bind: Option<std::net::IpAddr>,
    /// Where TCP really goes when a fault proxy stands in front of `addr` (messages still name
    /// `addr`, the server).
    pub route: Option<SocketAddr>,
    /// Tickets and realm for [`AuthMechanism::Gssapi`].
    pub kerberos: KerberosConfig,
    /// How deep and how large the server's stanzas may be; past them the session ends with a
    /// protocol violation (a hostile server must not exhaust our stack or memory).
    pub limits: Limits,
    /// Deliver the first live message wrongly, as a faulty server would (jspec's mutation
    /// test); `None` in real runs.
    pub mutation: Option<super::Mutation>,
}

impl ConnectConfig {
    /// A config for STARTTLS + SCRAM, no CRLs, no OCSP, no resource preference, a 10 s timeout
    /// (the design's default deadline), a 60 s keepalive and the default [`Limits`].
    pub fn new(
        addr: SocketAddr,
        domain: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
        trust: Arc<RootCertStore>,
    ) -> Self {
        Self {
            addr,
            domain: domain.into(),
            username: username.into(),
            password: password.into(),
            resource: String::new(),
            tls: TlsMode::StartTls,
            auth: AuthMechanism::Scram,
            trust,
            accept_certificate: None,
            client_certificate: None,
            crls: Vec::new(),
            ocsp: None,
            timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(60),
            bind: None,
            route: None,
            kerberos: KerberosConfig::default(),
            limits: Limits::default(),
            mutation: None,
        }
    }
}

// Hand-written so the password never reaches logs or reports.
impl fmt::Debug for ConnectConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectConfig")
            .field("addr", &self.addr)
            .field("domain", &self.domain)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("resource", &self.resource)
            .field("tls", &self.tls)
            .field("auth", &self.auth)
            .field("trust_anchors", &self.trust.len())
            .field("client_certificate", &self.client_certificate.is_some())
            .field("crls", &self.crls.len())
            .field("ocsp", &self.ocsp.as_ref().map(|c| &c.source))
            .field("timeout", &self.timeout)
            .field("keepalive", &self.keepalive)
            .field("kerberos", &self.kerberos)
            .field("limits", &self.limits)
            .finish()
    }
}
