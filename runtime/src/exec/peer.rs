//! Who sent a stanza. An expectation's `from ops` or `from alice` names a peer; whether a
//! received stanza comes from it is decided on parsed JIDs (the `jid` crate), so resources and
//! the letter case of domains are handled as XMPP says, not by splitting strings.

use jid::{BareJid, FullJid, Jid};
use minidom::Element;

use super::context::CaseContext;
use super::outcome::{StmtError, fail};

/// A user or room of the case, as a sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Peer {
    /// A room: its own JID, or one of its occupants (`room@service/nick`).
    Room(BareJid),
    User(BareJid),
    /// One session of a user (`juliet/phone`): that full JID only.
    Session(FullJid),
}

impl Peer {
    /// The bare JID of the room or user.
    pub(crate) fn jid(&self) -> BareJid {
        match self {
            Peer::Room(jid) | Peer::User(jid) => jid.clone(),
            Peer::Session(full) => full.to_bare(),
        }
    }

    /// Whether `stanza` comes from this peer: its bare JID, whatever the resource (a session:
    /// exactly its full JID), whatever the type.
    pub(crate) fn sent(&self, stanza: &Element) -> bool {
        match self {
            Peer::Room(jid) | Peer::User(jid) => sender(stanza).is_some_and(|from| &from == jid),
            Peer::Session(full) => stanza
                .attr("from")
                .and_then(|f| f.parse::<Jid>().ok())
                .is_some_and(|from| from == *full),
        }
    }

    /// Whether `stanza` is something this peer sent, in the sense of an expectation that it
    /// arrives: a room's message must be a `groupchat` one (a private message through the room,
    /// or an error bounced by it, is not the room speaking).
    pub(crate) fn said(&self, stanza: &Element) -> bool {
        let room_message = matches!(self, Peer::Room(_)) && stanza.name() == "message";
        self.sent(stanza) && (!room_message || stanza.attr("type") == Some("groupchat"))
    }
}

/// The bare JID a stanza says it comes from, if it has a valid `from`.
pub(crate) fn sender(stanza: &Element) -> Option<BareJid> {
    let from: Jid = stanza.attr("from")?.parse().ok()?;
    Some(from.to_bare())
}

impl CaseContext<'_> {
    /// The peer a user or room of the case stands for.
    pub(crate) fn peer(&self, name: &str) -> Result<Peer, StmtError> {
        if name.contains('/') {
            let full: FullJid = self
                .full_jid(name)?
                .parse()
                .map_err(|e| fail(format!("`{name}` has no valid JID: {e}")))?;
            return Ok(Peer::Session(full));
        }
        let (jid, room) = match (self.scope.rooms.get(name), self.scope.users.get(name)) {
            (Some(room), _) => (room.jid.clone(), true),
            (None, Some(user)) => (user.jid(), false),
            (None, None) => return Err(fail(format!("no user or room `{name}` in this case"))),
        };
        let jid: BareJid = jid
            .parse()
            .map_err(|e| fail(format!("`{name}` has no valid JID ({jid}): {e}")))?;
        Ok(if room {
            Peer::Room(jid)
        } else {
            Peer::User(jid)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(xml: &str) -> Element {
        xml.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn room() -> Peer {
        Peer::Room(
            "ops@conference.a.test"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    #[test]
    fn a_room_speaks_only_in_groupchat_messages() {
        let groupchat = stanza(
            "<message xmlns='jabber:client' type='groupchat' from='ops@conference.a.test/Alice'/>",
        );
        let private = stanza(
            "<message xmlns='jabber:client' type='chat' from='ops@conference.a.test/Alice'/>",
        );
        let error =
            stanza("<message xmlns='jabber:client' type='error' from='ops@conference.a.test'/>");
        let presence =
            stanza("<presence xmlns='jabber:client' from='ops@conference.a.test/Alice'/>");
        assert!(room().said(&groupchat));
        assert!(!room().said(&private));
        assert!(!room().said(&error));
        assert!(room().said(&presence), "presence has no groupchat type");
        assert!(room().sent(&private) && room().sent(&error));
    }

    #[test]
    fn senders_compare_as_jids_not_as_strings() {
        let user = Peer::User("alice@a.test".parse().unwrap_or_else(|e| panic!("{e}")));
        let from_resource = stanza("<message xmlns='jabber:client' from='alice@a.test/phone'/>");
        let other = stanza("<message xmlns='jabber:client' from='alice@a.test.evil/x'/>");
        let prefix = stanza("<message xmlns='jabber:client' from='alice@a.tes'/>");
        let garbage = stanza("<message xmlns='jabber:client' from='@@'/>");
        assert!(user.said(&from_resource));
        assert!(!user.said(&other));
        assert!(!user.said(&prefix));
        assert!(!user.said(&garbage));
    }
}
