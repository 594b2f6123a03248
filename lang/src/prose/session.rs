//! Sessions, rooms, messages, certificates and tickets in English.

use super::{Prose, words};
use crate::ast::{
    AuthMechanism, CertificateState, ConnectOptions, Join, Name, Str, TicketState, TlsMode,
};

impl Prose<'_> {
    /// `connect alice to c2 with direct-tls auth scram`: "Alice connects to node c2 with Direct
    /// TLS, authenticating with SCRAM".
    pub(super) fn connect(&self, user: &Name, options: &ConnectOptions) -> String {
        format!(
            "{} connects{}",
            self.user(user),
            self.connect_options(options)
        )
    }

    /// " to node c2 with Direct TLS, authenticating with SCRAM", each part when present.
    pub(super) fn connect_options(&self, options: &ConnectOptions) -> String {
        let mut out = String::new();
        if let Some(node) = &options.node {
            out.push_str(&format!(" to node {}", self.raw(node)));
        }
        if let Some((mode, _)) = options.tls {
            out.push_str(" with ");
            out.push_str(tls_mode(mode));
        }
        if let Some((mechanism, _)) = options.auth {
            out.push_str(", authenticating with ");
            out.push_str(match mechanism {
                AuthMechanism::Scram => "SCRAM",
                AuthMechanism::Plain => "PLAIN",
                AuthMechanism::External => "EXTERNAL (a client certificate)",
                AuthMechanism::Gssapi => "GSSAPI (Kerberos)",
            });
        }
        if options.stream_management.is_some() {
            out.push_str(", with stream management (it resumes or reconnects by itself)");
        }
        if options.carbons.is_some() {
            out.push_str(", with message carbons");
        }
        if options.without_presence.is_some() {
            out.push_str(", without sending presence");
        }
        out
    }

    /// `disconnect alice abruptly`: "Alice's connection drops abruptly".
    pub(super) fn disconnect(&self, user: &Name, abrupt: bool) -> String {
        if abrupt {
            format!("{}'s connection drops abruptly", self.user(user))
        } else {
            format!("{} disconnects", self.user(user))
        }
    }

    /// `join alice to ops as "Alice" via b`: "Alice joins room ops as "Alice" via server b".
    pub(super) fn join(&self, join: &Join) -> String {
        let mut out = format!(
            "{} joins room {}",
            self.user(&join.user),
            self.raw(&join.room)
        );
        if let Some(nick) = &join.nick {
            out.push_str(&format!(" as {}", words::quoted(&self.text(nick))));
        }
        if let Some(via) = &join.via {
            out.push_str(&format!(" via server {}", self.raw(via)));
        }
        out
    }

    /// `leave alice from ops`: "Alice leaves room ops".
    pub(super) fn leave(&self, user: &Name, room: &Name) -> String {
        format!("{} leaves room {}", self.user(user), self.raw(room))
    }

    /// `send "hi" from alice to ops`: "Alice sends "hi" to room ops".
    pub(super) fn send(&self, body: &Str, from: &Name, to: &Name) -> String {
        format!(
            "{} sends {} to {}",
            self.user(from),
            words::quoted(&self.text(body)),
            self.peer(to)
        )
    }

    /// `send from alice """<iq .../>"""`: "Alice sends the stanza" and the XML.
    pub(super) fn send_raw(&self, from: &Name, xml: &Str) -> String {
        format!(
            "{} sends the stanza{}",
            self.user(from),
            xml_text(&self.text(xml))
        )
    }

    /// `set certificate of b to expired`: "Give server b an expired certificate".
    pub(super) fn set_certificate(&self, target: &Name, state: CertificateState) -> String {
        let certificate = match state {
            CertificateState::Valid => "a valid certificate",
            CertificateState::Expired => "an expired certificate",
            CertificateState::NotYetValid => "a certificate that is not yet valid",
            CertificateState::Revoked => "a revoked certificate",
            CertificateState::WrongHost => "a certificate for another host name",
            CertificateState::SelfSigned => "a self-signed certificate",
        };
        format!("Give {} {certificate}", self.holder(target))
    }

    /// `revoke certificate of b`: "Revoke the certificate of server b (published by CRL and
    /// OCSP)".
    pub(super) fn revoke_certificate(&self, target: &Name) -> String {
        format!(
            "Revoke the certificate of {} (published by CRL and OCSP)",
            self.holder(target)
        )
    }

    /// `set ticket of alice to expired`: "Give Alice an expired Kerberos ticket".
    pub(super) fn set_ticket(&self, user: &Name, state: TicketState) -> String {
        let user = self.user(user);
        match state {
            TicketState::Valid => format!("Give {user} a valid Kerberos ticket"),
            TicketState::Expired => format!("Give {user} an expired Kerberos ticket"),
            TicketState::None => format!("Take {user}'s Kerberos ticket away"),
        }
    }
}

/// `Direct TLS`, `STARTTLS`.
pub(super) fn tls_mode(mode: TlsMode) -> &'static str {
    match mode {
        TlsMode::StartTls => "STARTTLS",
        TlsMode::DirectTls => "Direct TLS",
    }
}

/// XML shown as written, after what introduces it: " <iq/>" on the same line when it is one
/// line, else ":" and the XML below, indented.
pub(super) fn xml_text(xml: &str) -> String {
    let xml = xml.trim();
    if xml.contains('\n') {
        let indented: Vec<String> = xml.lines().map(|l| format!("    {l}")).collect();
        format!(":\n{}", indented.join("\n"))
    } else {
        format!(" {xml}")
    }
}
