//! Expectations: what a user receives, a failing connection, an archive, a server link, and
//! the delivery check of a room.

use super::printer::Printer;
use super::session::connect_options;
use super::string::{count, duration, string, strings};
use crate::ast::{
    ClusterState, DatabaseState, DeliveryProperty, Duration, ExpectArchive, ExpectConnectFails,
    ExpectLink, ExpectReceives, Expected, LinkAuth, Name, SessionEvent, Transport,
};
use crate::span::Span;

/// `expect bob receives "m1", "m2" from ops in order within 30s`
pub(crate) fn receives(p: &mut Printer<'_>, expect: &ExpectReceives) {
    p.text("expect ");
    p.text(&expect.user.text);
    p.text(" receives ");
    if expect.next.is_some() {
        p.text("next ");
    }
    if expect.delayed {
        p.text("delayed ");
    }
    if expect.strict {
        p.text("strict ");
    }
    match &expect.expected {
        Expected::Nothing(_) => p.text("nothing"),
        Expected::NoStanzas(_) => p.text("no stanzas"),
        Expected::Messages(messages) => strings(p, messages),
    }
    if let Some(from) = &expect.from {
        p.text(" from ");
        p.text(&from.text);
    }
    if expect.in_order {
        p.text(" in order");
    }
    within(p, expect.within.as_ref());
}

/// `expect cluster c has nodes c1, c2 within 60s`, `expect cluster c split within 30s`
pub(crate) fn cluster(
    p: &mut Printer<'_>,
    cluster: &Name,
    expected: &ClusterState,
    deadline: Option<&Duration>,
) {
    p.text("expect cluster ");
    p.text(&cluster.text);
    match expected {
        ClusterState::Nodes(nodes) => {
            p.text(" has nodes ");
            let names: Vec<&str> = nodes.iter().map(|n| n.text.as_str()).collect();
            p.text(&names.join(", "));
        }
        ClusterState::Split(_) => p.text(" split"),
    }
    within(p, deadline);
}

/// `expect database pg primary is pg2 within 30s`, `expect database pg has replicas pg1`
pub(crate) fn database(
    p: &mut Printer<'_>,
    database: &Name,
    expected: &DatabaseState,
    deadline: Option<&Duration>,
) {
    p.text("expect database ");
    p.text(&database.text);
    match expected {
        DatabaseState::Primary(node) => {
            p.text(" primary is ");
            p.text(&node.text);
        }
        DatabaseState::Replicas(nodes) => {
            p.text(" has replicas ");
            let names: Vec<&str> = nodes.iter().map(|n| n.text.as_str()).collect();
            p.text(&names.join(", "));
        }
    }
    within(p, deadline);
}

/// `expect connect alice with direct-tls fails with "tls-failed" within 10s`
pub(crate) fn connect_fails(p: &mut Printer<'_>, fails: &ExpectConnectFails) {
    p.text("expect connect ");
    p.text(&fails.user.text);
    connect_options(p, &fails.options);
    p.text(" fails with ");
    string(p, &fails.reason);
    within(p, fails.within.as_ref());
}

/// `expect alice resumed within 30s`, `expect alice disconnected with "conflict"`.
pub(crate) fn session(
    p: &mut Printer<'_>,
    user: &Name,
    event: &SessionEvent,
    deadline: Option<&Duration>,
) {
    p.text("expect ");
    p.text(&user.text);
    match event {
        SessionEvent::Resumed => p.text(" resumed"),
        SessionEvent::Reconnected => p.text(" reconnected"),
        SessionEvent::Disconnected(condition) => {
            p.text(" disconnected");
            if let Some(condition) = condition {
                p.text(" with ");
                string(p, condition);
            }
        }
    }
    within(p, deadline);
}

/// `expect archive of ops as alice has 3 messages in order within 5s`. The tree does not keep
/// which of `message` / `messages` was written, so the word agrees with the count.
pub(crate) fn archive(p: &mut Printer<'_>, archive: &ExpectArchive) {
    p.text("expect archive of ");
    p.text(&archive.archive.text);
    p.text(" as ");
    p.text(&archive.reader.text);
    p.text(" has ");
    count(p, &archive.count);
    p.text(if archive.count.value == 1 {
        " message"
    } else {
        " messages"
    });
    if archive.in_order {
        p.text(" in order");
    }
    within(p, archive.within.as_ref());
}

/// `expect link a -> b authenticated by certificate over direct-tls`
pub(crate) fn link(p: &mut Printer<'_>, link: &ExpectLink) {
    p.text("expect link ");
    p.text(&link.from.text);
    p.text(" -> ");
    p.text(&link.to.text);
    if let Some((auth, _)) = link.auth {
        p.text(" authenticated by ");
        p.text(match auth {
            LinkAuth::Certificate => "certificate",
            LinkAuth::Dialback => "dialback",
        });
    }
    if let Some((transport, _)) = link.transport {
        p.text(" over ");
        p.text(match transport {
            Transport::DirectTls => "direct-tls",
            Transport::StartTls => "starttls",
        });
    }
    within(p, link.within.as_ref());
}

/// `check delivery in ops: no loss, no duplicates, in order`
pub(crate) fn check_delivery(
    p: &mut Printer<'_>,
    room: &Name,
    properties: &[(DeliveryProperty, Span)],
) {
    p.text("check delivery in ");
    p.text(&room.text);
    p.text(":");
    for (i, (property, _)) in properties.iter().enumerate() {
        p.text(if i == 0 { " " } else { ", " });
        p.text(match property {
            DeliveryProperty::NoLoss => "no loss",
            DeliveryProperty::NoDuplicates => "no duplicates",
            DeliveryProperty::InOrder => "in order",
        });
    }
}

/// ` within 5s`, when present.
fn within(p: &mut Printer<'_>, deadline: Option<&Duration>) {
    if let Some(d) = deadline {
        p.text(" within ");
        duration(p, d);
    }
}
