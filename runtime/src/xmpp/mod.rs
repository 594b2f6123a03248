//! XMPP client sessions, built on tokio-xmpp's `xmlstream` layer (not its high-level `Client`,
//! which retries forever, hides failures and rewrites stanzas).
//!
//! [`Session::connect`] does TCP, STARTTLS or Direct TLS with the project's own rustls config,
//! SASL (SCRAM, PLAIN or Kerberos GSSAPI, as asked) and resource binding, classifying any failure
//! into one [`FailureReason`]. A connected session has one I/O task that files every received
//! stanza in the [`Inbox`], answers pings, and records a transcript.

mod catch_up;
mod config;
mod connect;
mod error;
mod gssapi;
mod hex;
mod inbox;
mod io_task;
mod limits;
pub(crate) mod mam;
mod mutation;
pub(crate) mod ocsp;
mod reconnect;
mod sasl;
mod session;
mod sm;
mod tls;
mod transcript;
mod wire;

pub(crate) use catch_up::archived_copy;
pub use config::{
    AuthMechanism, ClientCertificate, ConnectConfig, KerberosConfig, Reconnect, TlsMode,
    UseStreamManagement,
};
pub use error::{ConnectError, FailureReason, SendError, UnknownReason};
pub use inbox::{
    Arrival, Inbox, Received, StreamEnd, Verdict, Waited, delay_stamp, delay_stamp_text, is_delayed,
};
pub use limits::Limits;
pub use mutation::Mutation;
pub use ocsp::{OcspCheck, OcspSource, check_ocsp};
pub use session::{Session, SessionInfo};
pub use transcript::{Direction, Entry, TranscriptRecord};
pub(crate) use wire::error_condition;

/// Re-exported so callers name the same types the API uses.
pub use jid::{BareJid, FullJid, Jid};
pub use minidom::Element;
