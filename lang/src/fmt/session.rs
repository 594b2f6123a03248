//! Sessions, messages and certificates: connect, disconnect, join, leave, send, wait, set and
//! revoke certificate.

use super::printer::Printer;
use super::string::{duration, string};
use crate::ast::{
    AuthMechanism, CertificateState, ConnectOptions, Duration, Join, Name, Str, TicketState,
    TlsMode,
};

/// `connect alice to c2 with starttls auth scram`
pub(crate) fn connect(p: &mut Printer<'_>, user: &Name, options: &ConnectOptions) {
    p.text("connect ");
    p.text(&user.text);
    connect_options(p, options);
}

/// ` to c2 with starttls auth scram`, each part when present.
pub(crate) fn connect_options(p: &mut Printer<'_>, options: &ConnectOptions) {
    if let Some(node) = &options.node {
        p.text(" to ");
        p.text(&node.text);
    }
    if let Some((mode, _)) = options.tls {
        p.text(" with ");
        p.text(match mode {
            TlsMode::StartTls => "starttls",
            TlsMode::DirectTls => "direct-tls",
        });
    }
    if let Some((mechanism, _)) = options.auth {
        p.text(" auth ");
        p.text(match mechanism {
            AuthMechanism::Scram => "scram",
            AuthMechanism::Plain => "plain",
            AuthMechanism::External => "external",
            AuthMechanism::Gssapi => "gssapi",
        });
    }
    let features: Vec<&str> = [
        options.stream_management.map(|_| "stream-management"),
        options.carbons.map(|_| "carbons"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !features.is_empty() {
        p.text(" with ");
        p.text(&features.join(", "));
    }
    if options.without_presence.is_some() {
        p.text(" without presence");
    }
}

/// `disconnect alice abruptly`
pub(crate) fn disconnect(p: &mut Printer<'_>, user: &Name, abrupt: bool) {
    p.text("disconnect ");
    p.text(&user.text);
    if abrupt {
        p.text(" abruptly");
    }
}

/// `join alice to ops as "Alice" via b`
pub(crate) fn join(p: &mut Printer<'_>, join: &Join) {
    p.text("join ");
    p.text(&join.user.text);
    p.text(" to ");
    p.text(&join.room.text);
    if let Some(nick) = &join.nick {
        p.text(" as ");
        string(p, nick);
    }
    if let Some(via) = &join.via {
        p.text(" via ");
        p.text(&via.text);
    }
}

/// `leave alice from ops`
pub(crate) fn leave(p: &mut Printer<'_>, user: &Name, room: &Name) {
    p.text("leave ");
    p.text(&user.text);
    p.text(" from ");
    p.text(&room.text);
}

/// `send "hello" from alice to ops`
pub(crate) fn send(p: &mut Printer<'_>, body: &Str, from: &Name, to: &Name) {
    p.text("send ");
    string(p, body);
    p.text(" from ");
    p.text(&from.text);
    p.text(" to ");
    p.text(&to.text);
}

/// `send from alice """<iq .../>"""`
pub(crate) fn send_raw(p: &mut Printer<'_>, from: &Name, xml: &Str) {
    p.text("send from ");
    p.text(&from.text);
    p.text(" ");
    string(p, xml);
}

/// `wait 2s`
pub(crate) fn wait(p: &mut Printer<'_>, d: &Duration) {
    p.text("wait ");
    duration(p, d);
}

/// `set certificate of b to expired`
pub(crate) fn set_certificate(p: &mut Printer<'_>, target: &Name, state: CertificateState) {
    p.text("set certificate of ");
    p.text(&target.text);
    p.text(" to ");
    p.text(state.as_str());
}

/// `set ticket of alice to expired`
pub(crate) fn set_ticket(p: &mut Printer<'_>, user: &Name, state: TicketState) {
    p.text("set ticket of ");
    p.text(&user.text);
    p.text(" to ");
    p.text(match state {
        TicketState::Valid => "valid",
        TicketState::Expired => "expired",
        TicketState::None => "none",
    });
}

/// `revoke certificate of b`
pub(crate) fn revoke_certificate(p: &mut Printer<'_>, target: &Name) {
    p.text("revoke certificate of ");
    p.text(&target.text);
}
