//! Rooms: `join` (XEP-0045: the own presence, then history, then the subject that ends the
//! join) and `leave`.

use minidom::Element;
use minidom::rxml::xml_ncname;

use super::context::CaseContext;
use super::interp::{NS_CLIENT, NS_MUC};
use super::outcome::{StmtError, StmtResult, fail};
use crate::xmpp::Jid;
use crate::xmpp::error_condition;

impl CaseContext<'_> {
    pub(crate) fn room_jid(&self, room: &str) -> Result<String, StmtError> {
        self.scope
            .rooms
            .get(room)
            .map(|r| r.jid.clone())
            .ok_or_else(|| fail(format!("no room `{room}` in this case")))
    }

    /// Joins a room (XEP-0045 7.2): the room answers with the user's own presence (or an
    /// error), then the history, then the subject, which ends the join. The own presence and the
    /// subject are consumed; the history stays for `expect ... receives delayed`.
    pub(crate) async fn join(&self, user: &str, room: &str, nick: &str) -> StmtResult {
        let session = self.connected(user)?;
        let occupant = format!("{}/{nick}", self.room_jid(room)?);
        let occupant_jid: Option<Jid> = occupant.parse().ok();
        let cursor = session.inbox().cursor();
        let presence = Element::builder("presence", NS_CLIENT)
            .attr(xml_ncname!("to").into(), occupant.as_str())
            .append(Element::builder("x", NS_MUC).build())
            .build();
        session
            .send(presence)
            .await
            .map_err(|e| fail(format!("{user} could not send the join: {e}")))?;
        let own = |s: &Element| {
            s.name() == "presence"
                && s.attr("from").and_then(|f| f.parse::<Jid>().ok()) == occupant_jid
        };
        let answer = self.take(&session, cursor, own).await?;
        match answer.as_ref().and_then(|r| r.stanza()) {
            Some(presence) if presence.attr("type") == Some("error") => {
                return Err(fail(format!(
                    "{user} could not join {room} as \"{nick}\": {}",
                    error_condition(presence)
                )));
            }
            Some(_) => {}
            None => {
                return Err(fail(format!(
                    "{user} got no answer from {room} within {} when joining",
                    crate::env::format_duration(self.default_timeout)
                )));
            }
        }
        let speaker = self.peer(room)?;
        let subject = |s: &Element| {
            s.name() == "message"
                && speaker.said(s)
                && s.get_child("subject", NS_CLIENT).is_some()
                && s.get_child("body", NS_CLIENT).is_none()
        };
        if self.take(&session, cursor, subject).await?.is_none() {
            return Err(fail(format!(
                "{user} joined {room}, but the room did not send its subject within {}; the subject ends the join (XEP-0045 7.2.15)",
                crate::env::format_duration(self.default_timeout)
            )));
        }
        self.record_join(room, user);
        Ok(())
    }

    pub(crate) async fn leave(&self, user: &str, room: &str) -> StmtResult {
        let session = self.connected(user)?;
        let presence = Element::builder("presence", NS_CLIENT)
            .attr(xml_ncname!("to").into(), self.room_jid(room)?.as_str())
            .attr(xml_ncname!("type").into(), "unavailable")
            .build();
        session
            .send(presence)
            .await
            .map_err(|e| fail(format!("{user} could not leave {room}: {e}")))?;
        self.record_leave(room, user);
        Ok(())
    }
}
