//! What a session received, in order, with timestamps, and a way to wait for a match without
//! polling. Expectations search from a cursor so stanzas that arrived early still count.

use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use minidom::Element;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How a stream ended. Recorded once, as the last inbox entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The server sent `<stream:error/>`; `condition` or `condition: text`.
    ServerError(String),
    /// The server closed the stream (`</stream:stream>`) without an error.
    ClosedByServer,
    /// The connection broke without a stream close (reset, EOF, read timeout, TLS alert).
    Broken(String),
    /// We closed the stream cleanly ([`Session::close`](super::Session::close)).
    ClosedByClient,
    /// We dropped the connection ([`Session::abort`](super::Session::abort) or drop).
    Aborted,
}

impl fmt::Display for StreamEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerError(text) => write!(f, "stream closed by server: {text}"),
            Self::ClosedByServer => f.write_str("stream closed by server"),
            Self::Broken(why) => write!(f, "connection lost: {why}"),
            Self::ClosedByClient => f.write_str("stream closed by client"),
            Self::Aborted => f.write_str("connection aborted by client"),
        }
    }
}

/// One inbox entry.
#[derive(Clone, Debug)]
pub enum Arrival {
    Stanza(Element),
    Ended(StreamEnd),
}

/// An inbox entry with its position and receive time.
#[derive(Clone, Debug)]
pub struct Received {
    /// Position in the inbox, from 0; also a cursor (`seq + 1` resumes after this entry).
    pub seq: u64,
    pub at: Instant,
    pub wall: SystemTime,
    pub arrival: Arrival,
}

impl Received {
    pub fn stanza(&self) -> Option<&Element> {
        match &self.arrival {
            Arrival::Stanza(el) => Some(el),
            Arrival::Ended(_) => None,
        }
    }
}

#[derive(Default)]
struct State {
    items: Vec<Received>,
    end: Option<StreamEnd>,
}

/// A session's inbox. Shared between the I/O task (writer) and any number of waiters.
pub struct Inbox {
    state: Mutex<State>,
    /// Bumped on every push; waiters sleep on it instead of polling.
    changed: watch::Sender<u64>,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Inbox")
            .field("len", &state.items.len())
            .field("end", &state.end)
            .finish()
    }
}

impl Inbox {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            changed: watch::channel(0).0,
        }
    }

    // A panic while holding the lock cannot leave State half-written (pushes are single
    // Vec::push calls), so a poisoned lock is still safe to use.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push_stanza(&self, el: Element) {
        self.push(Arrival::Stanza(el));
    }

    /// Records the end of the stream; only the first end counts.
    pub(crate) fn push_end(&self, end: StreamEnd) {
        if self.lock().end.is_none() {
            self.push(Arrival::Ended(end));
        }
    }

    fn push(&self, arrival: Arrival) {
        let len = {
            let mut state = self.lock();
            if state.end.is_some() {
                return;
            }
            if let Arrival::Ended(end) = &arrival {
                state.end = Some(end.clone());
            }
            let seq = state.items.len() as u64;
            state.items.push(Received {
                seq,
                at: Instant::now(),
                wall: SystemTime::now(),
                arrival,
            });
            seq + 1
        };
        self.changed.send_replace(len);
    }

    /// The cursor just past everything received so far ("from now on").
    pub fn cursor(&self) -> u64 {
        self.lock().items.len() as u64
    }

    /// A copy of every entry, in order.
    pub fn snapshot(&self) -> Vec<Received> {
        self.lock().items.clone()
    }

    /// How the stream ended, once it has.
    pub fn end(&self) -> Option<StreamEnd> {
        self.lock().end.clone()
    }

    /// The first entry at or after `from` that satisfies `predicate`, waiting for new entries
    /// until `deadline`. Returns `None` at the deadline, on cancellation, or as soon as the
    /// stream has ended with no match (nothing more can arrive).
    pub async fn wait_for<P>(
        &self,
        from: u64,
        mut predicate: P,
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> Option<Received>
    where
        P: FnMut(&Received) -> bool,
    {
        let deadline = tokio::time::Instant::from_std(deadline);
        // Subscribing before each scan means a push during the scan still wakes us.
        let mut changes = self.changed.subscribe();
        let mut next = usize::try_from(from).unwrap_or(usize::MAX);
        loop {
            {
                let state = self.lock();
                if let Some(found) = state.items.iter().skip(next).find(|r| predicate(r)) {
                    return Some(found.clone());
                }
                next = state.items.len();
                if state.end.is_some() {
                    return None;
                }
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return None,
                _ = tokio::time::sleep_until(deadline) => return None,
                changed = changes.changed() => {
                    // The sender lives as long as `self`; an error cannot happen while we
                    // borrow it, but stop rather than spin if it ever does.
                    if changed.is_err() {
                        return None;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn el(xml: &str) -> Element {
        xml.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn is_message(r: &Received) -> bool {
        r.stanza().is_some_and(|e| e.name() == "message")
    }

    #[tokio::test]
    async fn finds_earlier_stanza_from_cursor() {
        let inbox = Inbox::new();
        inbox.push_stanza(el("<message xmlns='jabber:client' id='1'/>"));
        inbox.push_stanza(el("<presence xmlns='jabber:client'/>"));
        inbox.push_stanza(el("<message xmlns='jabber:client' id='2'/>"));
        let cancel = CancellationToken::new();
        let soon = Instant::now() + Duration::from_millis(10);
        let first = inbox.wait_for(0, is_message, soon, &cancel).await;
        assert_eq!(first.map(|r| r.seq), Some(0));
        let second = inbox.wait_for(1, is_message, soon, &cancel).await;
        assert_eq!(second.map(|r| r.seq), Some(2));
        assert!(inbox.wait_for(3, is_message, soon, &cancel).await.is_none());
    }

    #[tokio::test]
    async fn wakes_on_new_stanza_and_stops_at_end() {
        let inbox = Arc::new(Inbox::new());
        let cancel = CancellationToken::new();
        let writer = Arc::clone(&inbox);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.push_stanza(el("<message xmlns='jabber:client'/>"));
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.push_end(StreamEnd::ClosedByServer);
        });
        let far = Instant::now() + Duration::from_secs(5);
        let got = inbox.wait_for(0, is_message, far, &cancel).await;
        assert_eq!(got.map(|r| r.seq), Some(0));
        let started = Instant::now();
        assert!(inbox.wait_for(1, is_message, far, &cancel).await.is_none());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "end must stop the wait"
        );
        assert_eq!(inbox.end(), Some(StreamEnd::ClosedByServer));
        inbox.push_stanza(el("<message xmlns='jabber:client'/>"));
        assert_eq!(inbox.cursor(), 2, "nothing is recorded after the end");
    }

    #[tokio::test]
    async fn cancel_stops_the_wait() {
        let inbox = Inbox::new();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let far = Instant::now() + Duration::from_secs(5);
        assert!(inbox.wait_for(0, is_message, far, &cancel).await.is_none());
    }
}
