//! Getting a lost connection back, as a real client with stream management does: wait (with
//! backoff), connect again, resume the session (XEP-0198) or, refused, bind a new one, send the
//! presence again and rejoin the rooms; then send again what the server had not acknowledged,
//! and what the case sent while the connection was down, and (a new session) catch up with the
//! rooms' archives. Every attempt is bounded by the connect timeout and the case's cancellation.

use std::collections::BTreeMap;

use jid::Jid;
use minidom::Element;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::catch_up::{CatchUp, Handled};
use super::config::{ConnectConfig, Reconnect};
use super::connect::{self, Reestablished};
use super::inbox::StreamEnd;
use super::io_task::{Command, Shared};
use super::sm::{self, StreamManagement};
use super::wire::{Bound, NS_CLIENT, Stream};

const NS_MUC: &str = "http://jabber.org/protocol/muc";

/// What a client remembers to get its session back: stream management's counts and unacked
/// stanzas, its broadcast presence and the rooms it is in.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    pub(crate) sm: Option<StreamManagement>,
    /// The last presence sent to everyone (no `to`).
    presence: Option<Element>,
    /// Rooms joined, by bare room JID: the presence that joined.
    rooms: BTreeMap<String, Element>,
    /// Stanzas the case sent while the connection was down, oldest first.
    queued: Vec<Element>,
    /// Where the rooms' archives were left, to catch up after a new session.
    catch_up: CatchUp,
}

/// How to connect again, and for how long to try.
pub(crate) struct Reconnecting {
    pub(crate) config: ConnectConfig,
    pub(crate) policy: Reconnect,
    pub(crate) cancel: CancellationToken,
}

impl Memory {
    /// How many rooms the session is catching up with now.
    pub(crate) fn catching_up(&self) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
        self.catch_up.in_flight()
    }

    pub(crate) fn new(sm: Option<StreamManagement>) -> Memory {
        Memory {
            sm,
            ..Memory::default()
        }
    }

    /// Notes a received stanza; if it belongs to catching up with a room, how it is handled.
    pub(crate) fn received(&mut self, el: &Element) -> Handled {
        self.catch_up.saw(el, &self.rooms);
        self.catch_up.received(el)
    }

    /// Notes a stanza sent on the stream.
    pub(crate) fn sent(&mut self, el: &Element) {
        if let Some(sm) = self.sm.as_mut() {
            sm.sent(el);
        }
        if !el.is("presence", NS_CLIENT) {
            return;
        }
        let Some(to) = el.attr("to") else {
            self.presence = Some(el.clone());
            return;
        };
        let Ok(room) = to.parse::<Jid>().map(|j| j.to_bare().to_string()) else {
            return;
        };
        if el.attr("type") == Some("unavailable") {
            self.rooms.remove(&room);
        } else if el.get_child("x", NS_MUC).is_some() {
            self.rooms.insert(room, el.clone());
        }
    }
}

/// Whether a client gets this end back by reconnecting: a broken connection or a server that
/// went away, but not a server that replaced or refused the session, nor our own close.
pub(crate) fn recoverable(end: &StreamEnd) -> bool {
    match end {
        StreamEnd::Broken(_) | StreamEnd::ClosedByServer => true,
        StreamEnd::ServerError(condition) => !["conflict", "not-authorized", "policy-violation"]
            .iter()
            .any(|refusal| condition.starts_with(refusal)),
        StreamEnd::Violation(_) | StreamEnd::ClosedByClient | StreamEnd::Aborted => false,
    }
}

/// Tries to get the connection back; `Err` is how the session ends (given up, closed or aborted
/// meanwhile). Sends of the case while it tries are queued and sent once connected.
pub(crate) async fn reconnect(
    how: &Reconnecting,
    memory: &mut Memory,
    commands: &mut mpsc::Receiver<Command>,
    abort: &CancellationToken,
    shared: &Shared,
) -> Result<Stream, StreamEnd> {
    let mut last = String::from("no attempt made");
    for attempt in 0..how.policy.attempts {
        let delay = tokio::time::sleep(how.policy.delay(attempt));
        tokio::pin!(delay);
        loop {
            tokio::select! {
                biased;
                _ = abort.cancelled() => return Err(StreamEnd::Aborted),
                _ = how.cancel.cancelled() => return Err(StreamEnd::Aborted),
                command = commands.recv() => queue(command, memory, shared)?,
                _ = &mut delay => break,
            }
        }
        let bound = Bound::new(how.config.timeout, how.cancel.clone());
        let resume = memory
            .sm
            .as_ref()
            .and_then(StreamManagement::resume_request);
        let attempting = connect::reestablish(&how.config, &bound, resume);
        tokio::pin!(attempting);
        let outcome = loop {
            tokio::select! {
                biased;
                _ = abort.cancelled() => return Err(StreamEnd::Aborted),
                command = commands.recv() => queue(command, memory, shared)?,
                outcome = &mut attempting => break outcome,
            }
        };
        match outcome {
            Ok(back) => return restore(back, memory, abort, shared).await,
            Err(error) => {
                last = error.to_string();
                shared.transcript.event(format!(
                    "reconnection attempt {} failed: {last}",
                    attempt + 1
                ));
            }
        }
    }
    Err(StreamEnd::Broken(format!(
        "gave up after {} reconnection attempts; the last: {last}",
        how.policy.attempts
    )))
}

/// A command that came while disconnected: a send is queued (and reported written, as a client
/// with an outbox does), a close ends the session.
fn queue(command: Option<Command>, memory: &mut Memory, shared: &Shared) -> Result<(), StreamEnd> {
    match command {
        None => Err(StreamEnd::Aborted),
        Some(Command::Close { .. }) => Err(StreamEnd::ClosedByClient),
        Some(Command::Send { el, done }) => {
            shared
                .transcript
                .event(format!("queued while reconnecting: <{}/>", el.name()));
            memory.queued.push(el);
            let _ = done.send(Ok(()));
            Ok(())
        }
    }
}

/// Connected again: what the session sends to be where it was.
async fn restore(
    back: Reestablished,
    memory: &mut Memory,
    abort: &CancellationToken,
    shared: &Shared,
) -> Result<Stream, StreamEnd> {
    let queued = std::mem::take(&mut memory.queued);
    let resumed = matches!(back, Reestablished::Resumed { .. });
    let (mut stream, resend) = match back {
        Reestablished::Resumed { stream, h, elapsed } => {
            let sm = memory.sm.get_or_insert_with(StreamManagement::default);
            sm.acknowledged(h);
            shared.transcript.event(format!(
                "resumed the session in {} ms; the server had handled {h} of our stanzas",
                elapsed.as_millis()
            ));
            shared.inbox.push_back(Ok(()));
            (*stream, sm.take_unacked())
        }
        Reestablished::New(established, why) => {
            let established = *established;
            shared.transcript.event(format!(
                "new session {}: {why}",
                connect::describe(&established)
            ));
            shared.inbox.push_back(Err(why));
            let mut unacked = match memory.sm.as_mut() {
                Some(sm) => {
                    sm.restart(established.enabled.as_ref());
                    sm.take_unacked()
                }
                None => Vec::new(),
            };
            // A new session is offline and in no room: presence first, then the rooms, then
            // what was not acknowledged (its own presences are the ones just sent again).
            unacked.retain(|el| !el.is("presence", NS_CLIENT));
            let mut again: Vec<Element> = memory.presence.iter().cloned().collect();
            again.extend(memory.rooms.values().cloned());
            again.extend(unacked);
            (established.stream, again)
        }
    };
    for el in resend.into_iter().chain(queued) {
        super::io_task::send_stanza(&mut stream, &el, abort, shared, memory, "resend").await?;
    }
    // A new session missed what its rooms said meanwhile: ask their archives.
    if !resumed {
        for query in memory.catch_up.start(&memory.rooms) {
            super::io_task::send_stanza(&mut stream, &query, abort, shared, memory, "catch-up")
                .await?;
        }
    }
    if memory.sm.is_some() {
        super::io_task::send_nonza(&mut stream, &sm::request(), abort, shared).await?;
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(xml: &str) -> Element {
        xml.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_client_remembers_its_presence_and_rooms() {
        let mut memory = Memory::default();
        memory.sent(&el("<presence xmlns='jabber:client'/>"));
        memory.sent(&el(
            "<presence xmlns='jabber:client' to='ops@conference.a.test/Alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
        ));
        memory.sent(&el(
            "<presence xmlns='jabber:client' to='dev@conference.a.test/Alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
        ));
        memory.sent(&el(
            "<presence xmlns='jabber:client' to='dev@conference.a.test/Alice' type='unavailable'/>",
        ));
        assert!(memory.presence.is_some());
        assert_eq!(
            memory.rooms.keys().collect::<Vec<_>>(),
            ["ops@conference.a.test"]
        );
    }

    #[test]
    fn a_broken_link_is_recoverable_a_replaced_session_is_not() {
        assert!(recoverable(&StreamEnd::Broken("reset".into())));
        assert!(recoverable(&StreamEnd::ServerError(
            "system-shutdown".into()
        )));
        assert!(!recoverable(&StreamEnd::ServerError(
            "conflict: replaced".into()
        )));
        assert!(!recoverable(&StreamEnd::ClosedByClient));
    }
}
