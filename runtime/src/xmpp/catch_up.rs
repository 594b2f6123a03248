//! Catching up with a room after a new session, as modern clients do (Conversations, Dino,
//! Gajim): a new session rejoins its rooms live, and what the room said while the user was
//! gone is only in the room's archive (XEP-0313), since room history is short (ejabberd keeps
//! 20 messages). The session asks each room's archive for what came after the last archived
//! message it saw there, page by page; the results are filed in the inbox as the client's own
//! business (consumed: no expectation takes them) and `check delivery` counts them as copies
//! that came late, from the archive.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jid::Jid;
use minidom::Element;

use super::mam;
use super::wire::NS_CLIENT;

const NS_STANZA_ID: &str = "urn:xmpp:sid:0";

/// The id (and query id) of our catch-up queries: `jspec-catch-up-N`.
const QUERY_ID: &str = "jspec-catch-up-";
/// At most this many pages per room and reconnection: a bound, should a server never say
/// `complete`.
const MAX_PAGES: usize = 50;

/// What the session knows of its rooms' archives.
#[derive(Debug, Default)]
pub(crate) struct CatchUp {
    /// Per room (bare JID): the archive id of the last message seen from it.
    last_seen: BTreeMap<String, String>,
    /// Queries under way, by id.
    pending: BTreeMap<String, Pending>,
    next: u64,
    /// How many rooms are being caught up with, for those who wait for it (`check delivery`).
    in_flight: Arc<AtomicUsize>,
}

impl Drop for CatchUp {
    /// A session that has ended catches up with nothing any more.
    fn drop(&mut self) {
        self.in_flight.store(0, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Pending {
    room: String,
    pages: usize,
    messages: usize,
}

/// What a received stanza means for catching up.
pub(crate) enum Handled {
    /// Not about catching up.
    No,
    /// A message of the archive, or the end of a page with nothing more to ask.
    Filed(Option<String>),
    /// The end of a page: this query asks for the next one.
    Next(Element),
}

impl CatchUp {
    /// Notes the archive id of a message from one of `rooms`, so that a catch-up starts after it.
    pub(crate) fn saw(&mut self, el: &Element, rooms: &BTreeMap<String, Element>) {
        if !el.is("message", NS_CLIENT) {
            return;
        }
        let (message, id) = match archived_result(el) {
            Some((result, message)) => (message, result.attr("id")),
            None => (el, None),
        };
        let Some(room) = bare_from(message).filter(|room| rooms.contains_key(room)) else {
            return;
        };
        if let Some(id) = id.or_else(|| stanza_id(message, &room)) {
            self.last_seen.insert(room, id.to_string());
        }
    }

    /// How many rooms the session is catching up with now, kept current.
    pub(crate) fn in_flight(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.in_flight)
    }

    fn pending_changed(&self) {
        self.in_flight.store(self.pending.len(), Ordering::Relaxed);
    }

    /// The first query of a catch-up with each room, after the last message seen from it (the
    /// whole archive if none was seen: copies already received are not counted twice). Queries
    /// of an earlier stream are forgotten: it ended, and no answer comes on the new one.
    pub(crate) fn start(&mut self, rooms: &BTreeMap<String, Element>) -> Vec<Element> {
        self.pending.clear();
        let mut queries = Vec::new();
        for room in rooms.keys() {
            let id = format!("{QUERY_ID}{}", self.next);
            self.next += 1;
            let after = self.last_seen.get(room).cloned();
            queries.push(mam::query(&id, room, after.as_deref()));
            self.pending.insert(
                id,
                Pending {
                    room: room.clone(),
                    pages: 1,
                    messages: 0,
                },
            );
        }
        self.pending_changed();
        queries
    }

    /// Handles a received stanza if it belongs to a catch-up: a result message, or the iq that
    /// ends a page.
    pub(crate) fn received(&mut self, el: &Element) -> Handled {
        let handled = self.handle(el);
        self.pending_changed();
        handled
    }

    fn handle(&mut self, el: &Element) -> Handled {
        if let Some((result, _)) = archived_result(el) {
            let query = result.attr("queryid").unwrap_or_default();
            if let Some(pending) = self.pending.get_mut(query) {
                pending.messages += 1;
                return Handled::Filed(None);
            }
            return Handled::No;
        }
        if !el.is("iq", NS_CLIENT) {
            return Handled::No;
        }
        let Some((id, mut pending)) = el.attr("id").and_then(|id| self.pending.remove_entry(id))
        else {
            return Handled::No;
        };
        let mam::PageEnd { complete, last } = mam::page_end(el);
        match (el.attr("type"), last) {
            (Some("result"), Some(last)) if !complete && pending.pages < MAX_PAGES => {
                pending.pages += 1;
                let next = mam::query(&id, &pending.room, Some(&last));
                self.pending.insert(id, pending);
                Handled::Next(next)
            }
            (Some("result"), _) => Handled::Filed(Some(format!(
                "caught up with {}'s archive: {} messages in {} pages{}",
                pending.room,
                pending.messages,
                pending.pages,
                match complete {
                    true => "",
                    false => " (the server did not say it was complete)",
                }
            ))),
            _ => Handled::Filed(Some(format!(
                "{}'s archive refused the catch-up: {}",
                pending.room,
                super::wire::error_condition(el)
            ))),
        }
    }
}

/// A result of one of our catch-up queries: the `<result/>`, the archived message in it, and
/// the `<forwarded/>` around the message.
fn ours(el: &Element) -> Option<(&Element, &Element, &Element)> {
    let (result, forwarded) = mam::result(el, |query| query.starts_with(QUERY_ID))?;
    Some((
        result,
        forwarded.get_child("message", NS_CLIENT)?,
        forwarded,
    ))
}

/// A result of one of our catch-up queries: the `<result/>` and the archived message in it.
pub(crate) fn archived_result(el: &Element) -> Option<(&Element, &Element)> {
    ours(el).map(|(result, message, _)| (result, message))
}

/// A catch-up result's message and the time the archive dated it.
pub(crate) fn archived_copy(el: &Element) -> Option<(&Element, Option<time::OffsetDateTime>)> {
    ours(el).map(|(_, message, forwarded)| (message, super::delay_stamp(forwarded)))
}

/// The bare JID a stanza comes from.
fn bare_from(el: &Element) -> Option<String> {
    let from: Jid = el.attr("from")?.parse().ok()?;
    Some(from.to_bare().to_string())
}

/// The id the room's archive gave a live message (XEP-0359, by the room).
fn stanza_id<'a>(message: &'a Element, room: &str) -> Option<&'a str> {
    message
        .children()
        .filter(|c| c.is("stanza-id", NS_STANZA_ID))
        .find(|c| c.attr("by") == Some(room))?
        .attr("id")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: &str = "ops@conference.a.test";

    fn el(xml: &str) -> Element {
        xml.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn rooms() -> BTreeMap<String, Element> {
        let join = el("<presence xmlns='jabber:client' to='ops@conference.a.test/Bob'/>");
        BTreeMap::from([(ROOM.to_string(), join)])
    }

    fn live(id: &str) -> Element {
        el(&format!(
            "<message xmlns='jabber:client' from='{ROOM}/Alice' type='groupchat'><body>x</body>\
             <stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='{id}'/></message>"
        ))
    }

    fn after(query: &Element) -> Option<String> {
        let rsm = "http://jabber.org/protocol/rsm";
        query
            .get_child("query", mam::NS_MAM)?
            .get_child("set", rsm)?
            .get_child("after", rsm)
            .map(Element::text)
    }

    fn fin(id: &str, complete: bool, last: &str) -> Element {
        el(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}'><fin xmlns='urn:xmpp:mam:2' complete='{complete}'>\
             <set xmlns='http://jabber.org/protocol/rsm'><last>{last}</last></set></fin></iq>"
        ))
    }

    #[test]
    fn a_catch_up_starts_after_the_last_archived_message_seen() {
        let mut catch_up = CatchUp::default();
        catch_up.saw(&live("17"), &rooms());
        catch_up.saw(&live("18"), &rooms());
        // A message from a room the session is not in does not count.
        catch_up.saw(
            &el(
                "<message xmlns='jabber:client' from='dev@conference.a.test/X'>\
                 <stanza-id xmlns='urn:xmpp:sid:0' by='dev@conference.a.test' id='99'/></message>",
            ),
            &rooms(),
        );
        let queries = catch_up.start(&rooms());
        assert_eq!(queries.len(), 1);
        assert_eq!(queries[0].attr("to"), Some(ROOM));
        assert_eq!(after(&queries[0]).as_deref(), Some("18"));
        // Never seen anything: the whole archive.
        assert_eq!(after(&CatchUp::default().start(&rooms())[0]), None);
    }

    #[test]
    fn pages_are_followed_until_the_archive_says_complete() {
        let mut catch_up = CatchUp::default();
        let id = catch_up.start(&rooms())[0].attr("id").unwrap().to_string();
        let result = el(&format!(
            "<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' queryid='{id}' id='20'>\
             <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='{ROOM}/Alice' type='groupchat'>\
             <body>tick</body></message></forwarded></result></message>"
        ));
        assert!(matches!(catch_up.received(&result), Handled::Filed(None)));
        catch_up.saw(&result, &rooms());
        let Handled::Next(next) = catch_up.received(&fin(&id, false, "20")) else {
            panic!("an incomplete page asks for the next");
        };
        assert_eq!(after(&next).as_deref(), Some("20"));
        let Handled::Filed(Some(done)) = catch_up.received(&fin(&id, true, "21")) else {
            panic!("a complete page ends the catch-up");
        };
        assert_eq!(
            done,
            format!("caught up with {ROOM}'s archive: 1 messages in 2 pages")
        );
        // Over: a late answer with the same id is not ours any more.
        assert!(matches!(
            catch_up.received(&fin(&id, true, "21")),
            Handled::No
        ));
        assert_eq!(catch_up.last_seen.get(ROOM).map(String::as_str), Some("20"));
    }

    #[test]
    fn the_rooms_in_flight_are_counted_until_their_archives_are_done() {
        let two_rooms = {
            let mut rooms = rooms();
            let join = el("<presence xmlns='jabber:client' to='dev@conference.a.test/Bob'/>");
            rooms.insert("dev@conference.a.test".into(), join);
            rooms
        };
        let mut catch_up = CatchUp::default();
        let in_flight = catch_up.in_flight();
        let ids: Vec<String> = catch_up
            .start(&two_rooms)
            .iter()
            .map(|query| query.attr("id").unwrap().to_string())
            .collect();
        assert_eq!(in_flight.load(Ordering::Relaxed), 2);
        // One page more for the first room: still in flight.
        catch_up.received(&fin(&ids[0], false, "20"));
        assert_eq!(in_flight.load(Ordering::Relaxed), 2);
        catch_up.received(&fin(&ids[0], true, "21"));
        assert_eq!(in_flight.load(Ordering::Relaxed), 1);
        // A new stream starts over: what the old one asked is not answered any more.
        catch_up.start(&rooms());
        assert_eq!(in_flight.load(Ordering::Relaxed), 1);
        // The session ended: nothing to wait for.
        drop(catch_up);
        assert_eq!(in_flight.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn results_of_queries_that_are_not_ours_are_left_alone() {
        let mut catch_up = CatchUp::default();
        let theirs = el(
            "<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='1'>\
             <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/></forwarded></result></message>",
        );
        assert!(archived_result(&theirs).is_none());
        assert!(matches!(catch_up.received(&theirs), Handled::No));
        assert!(matches!(
            catch_up.received(&fin("other", true, "1")),
            Handled::No
        ));
    }
}
