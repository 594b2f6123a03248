//! Expectations in English: what a user receives, a failing connection, an archive, a server
//! link, the delivery check of a room.

use super::session::{tls_mode, xml_text};
use super::{Prose, words};
use crate::ast::{
    ClusterState, DatabaseState, DeliveryProperty, Duration, ExpectArchive, ExpectConnectFails,
    ExpectLink, ExpectReceives, Expected, LinkAuth, Name, SessionEvent, Str, Transport,
};
use crate::span::Span;

impl Prose<'_> {
    /// `expect bob receives "hello" from ops within 5s`: "Bob receives "hello" from room ops
    /// within 5 s"; an XML pattern reads "a stanza matching <presence .../>".
    pub(super) fn receives(&self, expect: &ExpectReceives) -> String {
        let mut out = format!("{} receives", self.user(&expect.user));
        if expect.next.is_some() {
            out.push_str(" next, after what the previous such expectation took,");
        }
        if expect.delayed {
            out.push_str(" (delayed, from history or offline storage)");
        }
        let mut xml_tail = None;
        match &expect.expected {
            Expected::Nothing(_) => out.push_str(" nothing"),
            Expected::NoStanzas(_) => out.push_str(" no stanza of any kind"),
            Expected::Messages(messages) if messages.iter().any(|m| self.multi_line(m)) => {
                // Patterns that span lines go last, below the conditions.
                out.push_str(&stanzas_matching(messages.len(), expect.strict));
                let patterns: Vec<String> = messages.iter().map(|m| self.message(m)).collect();
                xml_tail = Some(patterns.join("\n"));
            }
            Expected::Messages(messages) => {
                let bodies: Vec<String> = messages.iter().map(|m| self.message(m)).collect();
                if messages.iter().any(Str::is_xml) {
                    out.push_str(&stanzas_matching(messages.len(), expect.strict));
                }
                out.push(' ');
                out.push_str(&bodies.join(", "));
            }
        }
        if expect.in_order {
            out.push_str(" in order");
        }
        if let Some(from) = &expect.from {
            out.push_str(&format!(" from {}", self.peer(from)));
        }
        out.push_str(&words::within(expect.within.as_ref()));
        if let Some(xml) = xml_tail {
            out.push_str(&xml_text(&xml));
        }
        out
    }

    fn multi_line(&self, message: &Str) -> bool {
        self.text(message).trim().contains('\n')
    }

    /// A message body in quotes, or an XML pattern as written.
    fn message(&self, message: &Str) -> String {
        let text = self.text(message);
        if message.is_xml() {
            text.trim().to_string()
        } else {
            words::quoted(&text)
        }
    }

    /// `expect cluster c has nodes c1, c2`: "Cluster c has exactly the nodes c1, c2 running and
    /// joined"; `split`: "Cluster c is split: its nodes do not all see each other".
    pub(super) fn cluster(
        &self,
        cluster: &Name,
        expected: &ClusterState,
        deadline: Option<&Duration>,
    ) -> String {
        let cluster = self.raw(cluster);
        let what = match expected {
            ClusterState::Nodes(nodes) => {
                let names: Vec<String> = nodes.iter().map(|n| self.raw(n)).collect();
                format!(
                    "Cluster {cluster} has exactly the nodes {}, each seeing the others",
                    names.join(", ")
                )
            }
            ClusterState::Split(_) => {
                format!("Cluster {cluster} is split: its nodes do not all see each other")
            }
        };
        format!("{what}{}", words::within(deadline))
    }

    /// `expect database pg primary is pg2`: "Database pg has pg2 as its primary".
    pub(super) fn database(
        &self,
        database: &Name,
        expected: &DatabaseState,
        deadline: Option<&Duration>,
    ) -> String {
        let database = self.raw(database);
        let what = match expected {
            DatabaseState::Primary(node) => {
                format!(
                    "Database {database} has {} as its primary, taking writes",
                    self.raw(node)
                )
            }
            DatabaseState::Replicas(nodes) => {
                let names: Vec<String> = nodes.iter().map(|n| self.raw(n)).collect();
                format!(
                    "Database {database} has {} as replicas, streaming from the primary",
                    names.join(", ")
                )
            }
        };
        format!("{what}{}", words::within(deadline))
    }

    /// `expect connect alice fails with "certificate-expired"`: "Alice's connection fails:
    /// certificate-expired".
    pub(super) fn connect_fails(&self, fails: &ExpectConnectFails) -> String {
        format!(
            "{}'s connection{} fails{}: {}",
            self.user(&fails.user),
            self.connect_options(&fails.options),
            words::within(fails.within.as_ref()),
            self.text(&fails.reason)
        )
    }

    /// `expect alice resumed within 30s`: "Alice's session resumes within 30 s".
    pub(super) fn session_event(
        &self,
        user: &Name,
        event: &SessionEvent,
        deadline: Option<&Duration>,
    ) -> String {
        let what = match event {
            SessionEvent::Resumed => "'s session resumes after losing its connection".to_string(),
            SessionEvent::Reconnected => {
                " reconnects with a new session (the old one cannot be resumed)".to_string()
            }
            SessionEvent::Disconnected(None) => " is disconnected".to_string(),
            SessionEvent::Disconnected(Some(condition)) => {
                format!(
                    " is disconnected with the stream error {}",
                    self.text(condition)
                )
            }
        };
        format!("{}{what}{}", self.user(user), words::within(deadline))
    }

    /// `expect archive of ops as bob has 3 messages in order`: "The archive of room ops, read by
    /// Bob, has 3 messages, in order".
    pub(super) fn archive(&self, archive: &ExpectArchive) -> String {
        let count = archive.count.value;
        let noun = if count == 1 { "message" } else { "messages" };
        let order = if archive.in_order { ", in order" } else { "" };
        format!(
            "The archive of {}, read by {}, has {count} {noun}{order}{}",
            self.peer(&archive.archive),
            self.user(&archive.reader),
            words::within(archive.within.as_ref())
        )
    }

    /// `expect link a -> b authenticated by certificate over direct-tls`: "The link from a to b
    /// is authenticated by certificate over Direct TLS".
    pub(super) fn link(&self, link: &ExpectLink) -> String {
        let (from, to) = (self.raw(&link.from), self.raw(&link.to));
        let mut out = format!("The link from {from} to {to} is");
        match link.auth.map(|(auth, _)| auth) {
            Some(LinkAuth::Certificate) => out.push_str(" authenticated by certificate"),
            Some(LinkAuth::Dialback) => out.push_str(" authenticated by dialback"),
            None => out.push_str(" up"),
        }
        if let Some((transport, _)) = link.transport {
            out.push_str(" over ");
            out.push_str(match transport {
                Transport::DirectTls => tls_mode(crate::ast::TlsMode::DirectTls),
                Transport::StartTls => tls_mode(crate::ast::TlsMode::StartTls),
            });
        }
        out.push_str(&words::within(link.within.as_ref()));
        out
    }

    /// `check delivery in ops: no loss, no duplicates, in order`: "Every message sent to room ops
    /// was delivered: no loss, no duplicates, in order".
    pub(super) fn check_delivery(
        &self,
        room: &Name,
        properties: &[(DeliveryProperty, Span)],
    ) -> String {
        let properties: Vec<&str> = properties
            .iter()
            .map(|(property, _)| match property {
                DeliveryProperty::NoLoss => "no loss",
                DeliveryProperty::NoDuplicates => "no duplicates",
                DeliveryProperty::InOrder => "in order",
            })
            .collect();
        format!(
            "Messages sent to {} were delivered with {}",
            self.peer(room),
            properties.join(", ")
        )
    }
}

/// " a stanza matching" or " stanzas matching", and what `strict` adds.
fn stanzas_matching(patterns: usize, strict: bool) -> String {
    let noun = if patterns == 1 { "a stanza" } else { "stanzas" };
    let strict = match strict {
        true => " (exactly these children, in this order)",
        false => "",
    };
    format!(" {noun} matching{strict}")
}
