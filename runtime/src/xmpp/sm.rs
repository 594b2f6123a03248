//! Stream management (XEP-0198) on the client side, with xmpp-parsers' elements: acknowledgements
//! both ways, the stanzas the server has not acknowledged yet (sent again after a reconnection),
//! and what a resumption needs (the session id and how many of the server's stanzas were
//! handled).

use std::collections::VecDeque;

use minidom::Element;
use xmpp_parsers::sm::{A, Enable, Enabled, R, Resume, StreamId};

use super::wire::NS_CLIENT;

pub(crate) const NS_SM: &str = "urn:xmpp:sm:3";

/// The client's side of a managed stream.
#[derive(Debug, Default)]
pub(crate) struct StreamManagement {
    /// The id to resume with, when the server allows resumption.
    resume_id: Option<StreamId>,
    /// Stanzas received from the server and handled (the `h` we report), modulo 2^32.
    inbound: u32,
    /// Stanzas the server has acknowledged, modulo 2^32.
    acked: u32,
    /// Sent and not acknowledged yet, oldest first.
    unacked: VecDeque<Element>,
}

/// Whether `el` counts as a stanza for acknowledgements (RFC 6120's three kinds).
pub(crate) fn is_stanza(el: &Element) -> bool {
    el.ns() == NS_CLIENT && matches!(el.name(), "message" | "presence" | "iq")
}

/// `<enable resume='true'/>`.
pub(crate) fn enable() -> Element {
    Enable::new().with_resume().into()
}

/// `<r/>`: asks the server how many of our stanzas it handled.
pub(crate) fn request() -> Element {
    R.into()
}

impl StreamManagement {
    /// After `<enabled/>`: counting starts at zero on a new session.
    pub(crate) fn enabled(enabled: &Enabled) -> StreamManagement {
        StreamManagement {
            resume_id: enabled.id.clone().filter(|_| enabled.resume),
            ..StreamManagement::default()
        }
    }

    /// `<resume previd='...' h='...'/>`, if the session can be resumed.
    pub(crate) fn resume_request(&self) -> Option<Element> {
        let previd = self.resume_id.clone()?;
        Some(
            Resume {
                h: self.inbound,
                previd,
            }
            .into(),
        )
    }

    /// A stanza from the server was handled.
    pub(crate) fn received(&mut self) {
        self.inbound = self.inbound.wrapping_add(1);
    }

    /// `<a h='...'/>`: the answer to the server's `<r/>`.
    pub(crate) fn answer(&self) -> Element {
        A::new(self.inbound).into()
    }

    /// A stanza we sent: kept until the server acknowledges it.
    pub(crate) fn sent(&mut self, el: &Element) {
        if is_stanza(el) {
            self.unacked.push_back(el.clone());
        }
    }

    /// The server handled `h` of our stanzas (from `<a/>` or `<resumed/>`): those are dropped.
    /// A count that goes backwards or past what we sent is ignored (a server bug is not a
    /// reason to forget stanzas).
    pub(crate) fn acknowledged(&mut self, h: u32) {
        let newly = h.wrapping_sub(self.acked) as usize;
        if newly <= self.unacked.len() {
            self.unacked.drain(..newly);
            self.acked = h;
        }
    }

    /// The stanzas to send again after a reconnection, oldest first (they count as unacked
    /// again once sent).
    pub(crate) fn take_unacked(&mut self) -> Vec<Element> {
        self.unacked.drain(..).collect()
    }

    /// A new session (resumption refused or impossible): counting starts again from `enabled`
    /// (or without stream management); the unacked stanzas stay, to be sent again.
    pub(crate) fn restart(&mut self, enabled: Option<&Enabled>) {
        let unacked = std::mem::take(&mut self.unacked);
        *self = enabled.map(StreamManagement::enabled).unwrap_or_default();
        self.unacked = unacked;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: u32) -> Element {
        format!("<message xmlns='{NS_CLIENT}' id='{n}'/>")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn enabled(resume: bool) -> Enabled {
        Enabled {
            id: Some(StreamId("s1".into())),
            location: None,
            max: None,
            resume,
        }
    }

    #[test]
    fn acknowledged_stanzas_are_dropped_and_the_rest_sent_again() {
        let mut sm = StreamManagement::enabled(&enabled(true));
        for n in 0..5 {
            sm.sent(&message(n));
        }
        sm.sent(&request());
        sm.acknowledged(3);
        sm.acknowledged(2);
        sm.acknowledged(9);
        let again: Vec<_> = sm
            .take_unacked()
            .iter()
            .map(|m| m.attr("id").map(str::to_owned))
            .collect();
        assert_eq!(
            again,
            [Some("3".into()), Some("4".into())],
            "acked ones dropped; nonzas, a count going back or past what was sent ignored"
        );
    }

    #[test]
    fn resumption_reports_what_was_handled() {
        let mut sm = StreamManagement::enabled(&enabled(true));
        sm.received();
        sm.received();
        let resume = sm.resume_request().expect("resumable");
        assert_eq!(resume.attr("previd"), Some("s1"));
        assert_eq!(resume.attr("h"), Some("2"));
        assert_eq!(sm.answer().attr("h"), Some("2"));
        assert!(
            StreamManagement::enabled(&enabled(false))
                .resume_request()
                .is_none()
        );
    }
}
