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
    /// The server broke the protocol (a stream nested too deep, a stanza too large) and the
    /// client dropped the connection.
    Violation(String),
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
            // rustls appends a link to its manual; the reason alone reads better in reports.
            Self::Broken(why) => write!(
                f,
                "connection lost: {}",
                why.split(": https://").next().unwrap_or(why)
            ),
            Self::Violation(why) => write!(f, "protocol violation by the server: {why}"),
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
    /// The connection was lost and the session is getting it back (stream management): how.
    Lost(StreamEnd),
    /// The connection is back and the session resumed (XEP-0198): nothing was lost.
    Resumed,
    /// The connection is back with a new session (resumption refused or impossible): why.
    Reconnected(String),
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
            _ => None,
        }
    }

    /// Whether the stanza was delivered late, as its sender or server says with an XEP-0203
    /// `<delay/>` (or the legacy XEP-0091 `jabber:x:delay`): room history replayed on join,
    /// offline messages, a stored presence. Live stanzas carry none.
    pub fn is_delayed(&self) -> bool {
        self.stanza().is_some_and(is_delayed)
    }
}

/// Whether `stanza` carries a delivery delay (XEP-0203, or XEP-0091 in old servers).
pub fn is_delayed(stanza: &Element) -> bool {
    stanza.get_child("delay", NS_DELAY).is_some()
        || stanza.get_child("x", NS_LEGACY_DELAY).is_some()
}

/// The `stamp` of `el`'s XEP-0203 `<delay/>` child, as written (`el` is a stanza, or the
/// `<forwarded/>` of an archive result).
pub fn delay_stamp_text(el: &Element) -> Option<&str> {
    el.get_child("delay", NS_DELAY)?.attr("stamp")
}

/// When the server says it first handled what `el` carries ([`delay_stamp_text`]); `None` when
/// there is no stamp or it is not a valid XEP-0082 date and time.
pub fn delay_stamp(el: &Element) -> Option<time::OffsetDateTime> {
    let stamp = delay_stamp_text(el)?;
    time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).ok()
}

const NS_DELAY: &str = "urn:xmpp:delay";
const NS_LEGACY_DELAY: &str = "jabber:x:delay";

/// What a waiter decides about one entry of the inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not what it waits for: look further.
    Skip,
    /// What it waits for: the entry is consumed (no later wait sees it) and returned.
    Take,
    /// Ends the wait without consuming the entry (an error answer, an unwanted stanza).
    Stop,
}

/// How a wait ended.
#[derive(Clone, Debug)]
pub enum Waited {
    /// The entry a waiter took (now consumed).
    Taken(Received),
    /// The entry a waiter stopped at (not consumed).
    Stopped(Received),
    /// The stream ended first: nothing more can arrive. Holds the end entry.
    Ended(Received),
    TimedOut,
    Cancelled,
}

#[derive(Default)]
struct State {
    items: Vec<Received>,
    /// Parallel to `items`: taken by a wait, or handled by the client itself.
    consumed: Vec<bool>,
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
        crate::sync::lock(&self.state)
    }

    pub(crate) fn push_stanza(&self, el: Element) {
        self.push(Arrival::Stanza(el), false);
    }

    /// Files a stanza the client answered itself (a ping): recorded, but already consumed.
    pub(crate) fn push_handled(&self, el: Element) {
        self.push(Arrival::Stanza(el), true);
    }

    /// Records a lost connection the session is getting back; not an end.
    pub(crate) fn push_lost(&self, how: StreamEnd) {
        self.push(Arrival::Lost(how), false);
    }

    /// Records the connection back: resumed, or a new session and why.
    pub(crate) fn push_back(&self, resumed: Result<(), String>) {
        match resumed {
            Ok(()) => self.push(Arrival::Resumed, false),
            Err(why) => self.push(Arrival::Reconnected(why), false),
        }
    }

    /// Records the end of the stream; only the first end counts.
    pub(crate) fn push_end(&self, end: StreamEnd) {
        if self.lock().end.is_none() {
            self.push(Arrival::Ended(end), false);
        }
    }

    fn push(&self, arrival: Arrival, consumed: bool) {
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
            state.consumed.push(consumed);
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

    /// The end entry (with its time), once the stream has ended.
    pub fn ended(&self) -> Option<Received> {
        let state = self.lock();
        state.end.as_ref()?;
        state.items.last().cloned()
    }

    /// Whether entry `seq` was taken by a wait or handled by the client.
    pub fn is_consumed(&self, seq: u64) -> bool {
        let state = self.lock();
        usize::try_from(seq)
            .ok()
            .and_then(|i| state.consumed.get(i).copied())
            .unwrap_or(false)
    }

    /// Marks entry `seq` consumed: no later wait sees it.
    pub fn consume(&self, seq: u64) {
        let mut state = self.lock();
        if let Some(flag) = usize::try_from(seq)
            .ok()
            .and_then(|i| state.consumed.get_mut(i))
        {
            *flag = true;
        }
    }

    /// Waits for the first entry at or after `from`, not consumed yet, that `decide` takes or
    /// stops at, until `deadline`. Deciding and consuming happen under one lock, so two waiters
    /// (parallel branches) never take the same stanza. The end of the stream is offered to
    /// `decide` too; if it skips it, the wait ends with [`Waited::Ended`].
    pub async fn next<D>(
        &self,
        from: u64,
        mut decide: D,
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> Waited
    where
        D: FnMut(&Received) -> Verdict,
    {
        let deadline = tokio::time::Instant::from_std(deadline);
        // Subscribing before each scan means a push during the scan still wakes us.
        let mut changes = self.changed.subscribe();
        let mut next = usize::try_from(from).unwrap_or(usize::MAX);
        loop {
            {
                let mut state = self.lock();
                let state = &mut *state;
                for index in next..state.items.len() {
                    if state.consumed[index] {
                        continue;
                    }
                    match decide(&state.items[index]) {
                        Verdict::Skip => {}
                        Verdict::Take => {
                            state.consumed[index] = true;
                            return Waited::Taken(state.items[index].clone());
                        }
                        Verdict::Stop => return Waited::Stopped(state.items[index].clone()),
                    }
                }
                next = next.max(state.items.len());
                if state.end.is_some() {
                    return match state.items.last() {
                        Some(last) => Waited::Ended(last.clone()),
                        None => Waited::TimedOut,
                    };
                }
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return Waited::Cancelled,
                _ = tokio::time::sleep_until(deadline) => return Waited::TimedOut,
                changed = changes.changed() => {
                    // The sender lives as long as `self`; an error cannot happen while we
                    // borrow it, but stop rather than spin if it ever does.
                    if changed.is_err() {
                        return Waited::Cancelled;
                    }
                }
            }
        }
    }

    /// The first entry at or after `from`, not consumed, that satisfies `predicate` (without
    /// consuming it), waiting until `deadline`. `None` at the deadline, on cancellation, or as
    /// soon as the stream has ended with no match.
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
        let decide = |r: &Received| match predicate(r) {
            true => Verdict::Stop,
            false => Verdict::Skip,
        };
        match self.next(from, decide, deadline, cancel).await {
            Waited::Stopped(found) => Some(found),
            _ => None,
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

    #[test]
    fn a_delay_stamp_is_read_as_xep_0082_date_and_time() {
        let delayed = |stamp: &str| {
            el(&format!(
                "<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay' stamp='{stamp}'/></message>"
            ))
        };
        let expected = time::macros::datetime!(2026-12-07 01:25:18 UTC);
        assert_eq!(
            delay_stamp(&delayed("2026-12-07T01:25:18Z")),
            Some(expected)
        );
        assert_eq!(
            delay_stamp(&delayed("2026-12-07T02:25:18.000+01:00")),
            Some(expected)
        );
        assert_eq!(delay_stamp(&delayed("yesterday")), None);
        assert_eq!(delay_stamp(&el("<message xmlns='jabber:client'/>")), None);
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_stanza_is_taken_by_one_waiter_only() {
        for _ in 0..50 {
            let inbox = Arc::new(Inbox::new());
            let cancel = CancellationToken::new();
            let soon = Instant::now() + Duration::from_millis(200);
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let (inbox, cancel) = (Arc::clone(&inbox), cancel.clone());
                    tokio::spawn(async move {
                        let take = |r: &Received| match is_message(r) {
                            true => Verdict::Take,
                            false => Verdict::Skip,
                        };
                        matches!(inbox.next(0, take, soon, &cancel).await, Waited::Taken(_))
                    })
                })
                .collect();
            inbox.push_stanza(el("<message xmlns='jabber:client'/>"));
            let mut taken = 0;
            for waiter in waiters {
                taken += usize::from(waiter.await.unwrap_or(false));
            }
            assert_eq!(taken, 1, "exactly one waiter takes the stanza");
        }
    }

    #[test]
    fn delay_marks_late_deliveries() {
        let live = el("<message xmlns='jabber:client'><body>x</body></message>");
        let delayed = el(
            "<message xmlns='jabber:client'><body>x</body><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/></message>",
        );
        let legacy = el(
            "<message xmlns='jabber:client'><x xmlns='jabber:x:delay' stamp='20200101T00:00:00'/></message>",
        );
        let nested = el(
            "<message xmlns='jabber:client'><result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/></forwarded></result></message>",
        );
        assert!(!is_delayed(&live));
        assert!(is_delayed(&delayed));
        assert!(is_delayed(&legacy));
        assert!(!is_delayed(&nested), "an archive result is a live answer");
    }

    #[tokio::test]
    async fn handled_stanzas_are_not_offered() {
        let inbox = Inbox::new();
        inbox.push_handled(el("<iq xmlns='jabber:client' type='get' id='ping'/>"));
        let cancel = CancellationToken::new();
        let soon = Instant::now() + Duration::from_millis(10);
        assert!(
            inbox
                .wait_for(0, |r| r.stanza().is_some(), soon, &cancel)
                .await
                .is_none()
        );
        assert_eq!(inbox.snapshot().len(), 1, "still recorded");
    }
}
