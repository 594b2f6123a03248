//! Deliberately wrong deliveries, for checking jspec itself: with `jspec run --mutate OPERATOR`
//! (hidden, for the project's mutation test) every session alters the first live message with
//! a body it receives, as a faulty server would: drops it, delivers it twice, late, changed,
//! out of order, or marked as delayed. A suite whose cases still pass under a mutation does not
//! check what it claims to (docs/mutation.md).

use std::sync::Arc;
use std::time::Duration;

use minidom::Element;

use super::inbox::{Inbox, is_delayed};
use super::transcript::Transcript;
use super::wire::NS_CLIENT;

/// How long a `delay` mutation holds the message: past any deadline of the tests.
const HOLD: Duration = Duration::from_secs(30);

/// What a faulty server does to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// The message never arrives.
    Drop,
    /// It arrives twice.
    Duplicate,
    /// It arrives 30 s late.
    Delay,
    /// Its body is changed.
    Alter,
    /// It arrives after the next message.
    Reorder,
    /// It arrives marked as delayed (XEP-0203), as if replayed from storage.
    Stamp,
}

impl Mutation {
    pub const ALL: [Mutation; 6] = [
        Mutation::Drop,
        Mutation::Duplicate,
        Mutation::Delay,
        Mutation::Alter,
        Mutation::Reorder,
        Mutation::Stamp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mutation::Drop => "drop",
            Mutation::Duplicate => "duplicate",
            Mutation::Delay => "delay",
            Mutation::Alter => "alter",
            Mutation::Reorder => "reorder",
            Mutation::Stamp => "stamp",
        }
    }
}

impl std::str::FromStr for Mutation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Mutation::ALL
            .into_iter()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Mutation::ALL.iter().map(|m| m.as_str()).collect();
                format!("`{text}` is not a mutation: {}", names.join(", "))
            })
    }
}

/// One session's mutator: it mutates the first live message with a body, once.
#[derive(Debug)]
pub(crate) struct Mutator {
    mutation: Mutation,
    done: bool,
    /// A message held back by `reorder` until the next one.
    held: Option<Element>,
}

impl Mutator {
    pub(crate) fn new(mutation: Mutation) -> Mutator {
        Mutator {
            mutation,
            done: false,
            held: None,
        }
    }

    /// Files `el` in the inbox as the faulty server would deliver it.
    pub(crate) fn deliver(&mut self, el: Element, inbox: &Arc<Inbox>, transcript: &Transcript) {
        if let Some(held) = self.held.take() {
            inbox.push_stanza(el);
            transcript.event("mutation: the held message arrives after the next one");
            inbox.push_stanza(held);
            return;
        }
        if self.done || !is_target(&el) {
            inbox.push_stanza(el);
            return;
        }
        self.done = true;
        transcript.event(format!("mutation: {}", self.mutation.as_str()));
        match self.mutation {
            Mutation::Drop => {}
            Mutation::Duplicate => {
                inbox.push_stanza(el.clone());
                inbox.push_stanza(el);
            }
            Mutation::Delay => {
                let inbox = Arc::clone(inbox);
                tokio::spawn(async move {
                    tokio::time::sleep(HOLD).await;
                    inbox.push_stanza(el);
                });
            }
            Mutation::Alter => inbox.push_stanza(altered(el)),
            Mutation::Reorder => self.held = Some(el),
            Mutation::Stamp => inbox.push_stanza(stamped(el)),
        }
    }
}

/// A live message with a body (what expectations and delivery checks look at).
fn is_target(el: &Element) -> bool {
    el.is("message", NS_CLIENT)
        && el.attr("type") != Some("error")
        && el.get_child("body", NS_CLIENT).is_some()
        && !is_delayed(el)
}

fn altered(mut el: Element) -> Element {
    if let Some(body) = el.get_child_mut("body", NS_CLIENT) {
        let text = body.text();
        *body = Element::builder("body", NS_CLIENT)
            .append(format!("{text} (altered)"))
            .build();
    }
    el
}

fn stamped(mut el: Element) -> Element {
    el.append_child(
        Element::builder("delay", "urn:xmpp:delay")
            .attr(
                minidom::rxml::xml_ncname!("stamp").into(),
                "2000-01-01T00:00:00Z",
            )
            .build(),
    );
    el
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> Element {
        format!("<message xmlns='jabber:client' type='chat'><body>{body}</body></message>")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn bodies(inbox: &Inbox) -> Vec<String> {
        inbox
            .snapshot()
            .iter()
            .filter_map(|r| r.stanza())
            .map(|s| {
                let body = s
                    .get_child("body", NS_CLIENT)
                    .map(Element::text)
                    .unwrap_or_default();
                match is_delayed(s) {
                    true => format!("{body} (delayed)"),
                    false => body,
                }
            })
            .collect()
    }

    fn run(mutation: Mutation) -> Vec<String> {
        let inbox = Arc::new(Inbox::new());
        let transcript = Transcript::default();
        let mut mutator = Mutator::new(mutation);
        for body in ["m1", "m2", "m3"] {
            mutator.deliver(message(body), &inbox, &transcript);
        }
        bodies(&inbox)
    }

    #[tokio::test]
    async fn each_mutation_changes_the_first_message_only() {
        assert_eq!(run(Mutation::Drop), ["m2", "m3"]);
        assert_eq!(run(Mutation::Duplicate), ["m1", "m1", "m2", "m3"]);
        assert_eq!(run(Mutation::Delay), ["m2", "m3"]);
        assert_eq!(run(Mutation::Alter), ["m1 (altered)", "m2", "m3"]);
        assert_eq!(run(Mutation::Reorder), ["m2", "m1", "m3"]);
        assert_eq!(run(Mutation::Stamp), ["m1 (delayed)", "m2", "m3"]);
    }
}
