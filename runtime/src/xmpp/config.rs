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

/// How the stream gets TLS and which SASL family it must use: the language's own values.
pub use jspec_lang::ast::{AuthMechanism, TlsMode};

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
    /// Reconnection as a real client does it: when the connection is lost the session comes
    /// back by itself, resumed with stream management (or a new session that sends its presence
    /// and rejoins its rooms), and sends again what the server had not acknowledged. `None`: a
    /// lost connection ends the session.
    pub reconnect: Option<Reconnect>,
    /// Whether to use stream management (XEP-0198, with resumption).
    pub stream_management: UseStreamManagement,
}

/// When a session turns stream management on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UseStreamManagement {
    #[default]
    Never,
    /// When the server offers it, as clients do.
    IfOffered,
    /// The connect fails if the server does not offer it.
    Required,
}

/// How a session with stream management gets its connection back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reconnect {
    /// Attempts before the session gives up and ends.
    pub attempts: u32,
    /// Wait before the first attempt; doubled after each failure, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Reconnect {
    /// Ten attempts over about a minute (0.5 s, 1 s, 2 s, 4 s, then every 8 s), as clients do.
    fn default() -> Self {
        Reconnect {
            attempts: 10,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl Reconnect {
    /// The wait before attempt `n` (from 0).
    pub fn delay(&self, n: u32) -> Duration {
        self.first_delay
            .saturating_mul(1u32.checked_shl(n.min(16)).unwrap_or(u32::MAX))
            .min(self.max_delay)
    }
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
            reconnect: None,
            stream_management: UseStreamManagement::Never,
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
            .field("reconnect", &self.reconnect)
            .field("stream_management", &self.stream_management)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnection_backs_off_to_a_ceiling() {
        let policy = Reconnect::default();
        let delays: Vec<u64> = (0..6).map(|n| policy.delay(n).as_millis() as u64).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 8000]);
        assert_eq!(policy.delay(u32::MAX), policy.max_delay, "no overflow");
    }
}
