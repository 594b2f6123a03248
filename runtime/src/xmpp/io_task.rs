//! The task that owns an established stream: it reads every stanza into the inbox, answers
//! pings, keeps the stream alive, and performs the writes the session asks for. One task owns
//! both directions because tokio-xmpp's `XmlStream` is a single Stream + Sink value; reading is
//! cancel-safe (its state lives in the stream), so a select between "next element" and "next
//! command" loses nothing.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use jid::Jid;
use minidom::Element;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_xmpp::xmlstream::ReadError;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ping::Ping;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use super::catch_up::Handled;
use super::error::SendError;
use super::inbox::{Inbox, StreamEnd};
use super::limits::limit_exceeded;
use super::reconnect::{Memory, Reconnecting, reconnect, recoverable};
use super::sm::{self, NS_SM, is_stanza};
use super::transcript::{Direction, Transcript};
use super::wire::{NS_CLIENT, NS_PING, NS_STREAM, NS_STREAM_ERRORS, Stream, describe_stream_error};
use crate::sync::lock;

const NS_ROSTER: &str = "jabber:iq:roster";

/// Ids of our own keepalive pings; their answers stay out of the inbox.
const KEEPALIVE_ID: &str = "jspec-keepalive-";

pub(crate) enum Command {
    Send {
        el: Element,
        done: oneshot::Sender<Result<(), SendError>>,
    },
    /// Send `</stream:stream>`, then read until the server closes too or `grace` passes.
    Close { grace: Duration },
}

/// What the task shares with its session.
pub(crate) struct Shared {
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) transcript: Arc<Transcript>,
    pub(crate) domain: String,
    /// Wrong deliveries for jspec's mutation test; `None` in real runs.
    pub(crate) mutator: Option<std::sync::Mutex<super::mutation::Mutator>>,
}

/// Runs until the stream ends; `finished` fires after the connection is dropped, so a caller
/// awaiting it knows the TCP socket is closed. With `reconnecting`, a lost connection is got
/// back (reconnect.rs) and the session goes on; the inbox records the loss and the return.
pub(crate) async fn run(
    mut stream: Stream,
    mut commands: mpsc::Receiver<Command>,
    abort: CancellationToken,
    shared: Shared,
    finished: CancellationToken,
    mut memory: Memory,
    reconnecting: Option<Reconnecting>,
) {
    // Fires even if the loop panics.
    let _finished = finished.drop_guard();
    let end = loop {
        let end = serve(&mut stream, &mut commands, &abort, &shared, &mut memory).await;
        let Some(how) = reconnecting.as_ref().filter(|_| recoverable(&end)) else {
            break end;
        };
        tracing::debug!(%end, "connection lost; reconnecting");
        shared.transcript.event(format!("{end}; reconnecting"));
        shared.inbox.push_lost(end);
        match reconnect(how, &mut memory, &mut commands, &abort, &shared).await {
            Ok(back) => stream = back,
            Err(end) => break end,
        }
    };
    tracing::debug!(%end, "session ended");
    shared.transcript.event(end.to_string());
    shared.inbox.push_end(end);
}

/// The loop proper, until the stream ends.
async fn serve(
    stream: &mut Stream,
    commands: &mut mpsc::Receiver<Command>,
    abort: &CancellationToken,
    shared: &Shared,
    memory: &mut Memory,
) -> StreamEnd {
    let mut keepalives = 0u64;
    loop {
        tokio::select! {
            biased;
            _ = abort.cancelled() => return StreamEnd::Aborted,
            command = commands.recv() => match command {
                // The session was dropped without close: behave like a crash.
                None => return StreamEnd::Aborted,
                Some(Command::Send { el, done }) => {
                    if let Err(end) = send_stanza(stream, &el, abort, shared, memory, "write").await {
                        // With stream management the stanza is sent again after reconnecting.
                        let _ = match memory.sm {
                            Some(_) => done.send(Ok(())),
                            None => done.send(Err(SendError::Closed(end.to_string()))),
                        };
                        return end;
                    }
                    let _ = done.send(Ok(()));
                }
                Some(Command::Close { grace }) => {
                    return close(stream, grace, abort, shared).await;
                }
            },
            item = stream.next() => match item {
                Some(Ok(el)) if el.is("error", NS_STREAM) => {
                    shared.transcript.stanza(Direction::Received, &el);
                    let text = describe_stream_error(&el);
                    // The server closes right after; answer with our close, briefly.
                    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
                    return StreamEnd::ServerError(text);
                }
                Some(Ok(el)) => {
                    if let Err(end) = received(stream, el, abort, shared, memory).await {
                        return end;
                    }
                }
                Some(Err(ReadError::SoftTimeout)) => {
                    keepalives += 1;
                    let ping = keepalive(&shared.domain, keepalives);
                    memory.sent(&ping);
                    if let Err(end) = write(stream, &ping, abort, shared, "keepalive").await {
                        return end;
                    }
                }
                Some(Err(ReadError::ParseError(e))) => {
                    // The stream itself is still in sync; note it and keep reading.
                    shared.transcript.event(format!("unparseable element skipped: {e}"));
                }
                Some(Err(ReadError::StreamFooterReceived)) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
                    return StreamEnd::ClosedByServer;
                }
                Some(Err(ReadError::HardError(e))) => {
                    if let Some(end) = violation(stream, &e, true, shared).await {
                        return end;
                    }
                    return StreamEnd::Broken(e.to_string());
                }
                None => return StreamEnd::Broken("connection closed without a stream close".into()),
            },
        }
    }
}

/// Records a received stanza, files it in the inbox, and answers it if it is a request the
/// client must answer (RFC 6120 8.2.3: every iq get or set gets a result or an error).
async fn received(
    stream: &mut Stream,
    el: Element,
    abort: &CancellationToken,
    shared: &Shared,
    memory: &mut Memory,
) -> Result<(), StreamEnd> {
    // Stream management's acknowledgements are plumbing: they stay out of the transcript.
    if el.ns() == NS_SM {
        return acknowledgement(stream, &el, abort, shared, memory).await;
    }
    shared.transcript.stanza(Direction::Received, &el);
    if let Some(sm) = memory.sm.as_mut().filter(|_| is_stanza(&el)) {
        sm.received();
    }
    let own_keepalive =
        el.is("iq", NS_CLIENT) && el.attr("id").is_some_and(|id| id.starts_with(KEEPALIVE_ID));
    if own_keepalive {
        return Ok(());
    }
    // Catching up with a room is the client's own business: filed, but no expectation's.
    match memory.received(&el) {
        Handled::No => {}
        Handled::Filed(note) => {
            if let Some(note) = note {
                shared.transcript.event(note);
            }
            shared.inbox.push_handled(el);
            return Ok(());
        }
        Handled::Next(query) => {
            shared.inbox.push_handled(el);
            return send_stanza(stream, &query, abort, shared, memory, "catch-up").await;
        }
    }
    let answer = answer(&el);
    // Inbox first, so its receive time is not delayed by our answer. A ping is the client's
    // own business (consumed); other requests stay visible to expectations.
    match (&answer, &shared.mutator) {
        (Some(Answer::Pong(_)), _) => shared.inbox.push_handled(el),
        (_, Some(mutator)) => lock(mutator).deliver(el, &shared.inbox, &shared.transcript),
        (_, None) => shared.inbox.push_stanza(el),
    }
    let (reply, what) = match answer {
        None => return Ok(()),
        Some(Answer::Pong(reply)) => (reply, "ping reply"),
        Some(Answer::Acknowledge(reply)) => (reply, "roster push reply"),
        Some(Answer::Unsupported(reply)) => (reply, "service-unavailable reply"),
    };
    // Stream management counts every stanza, our answers too.
    memory.sent(&reply);
    write(stream, &reply, abort, shared, what).await
}

/// Stream management's nonzas: the server asks how much we handled, or says how much it did.
async fn acknowledgement(
    stream: &mut Stream,
    el: &Element,
    abort: &CancellationToken,
    shared: &Shared,
    memory: &mut Memory,
) -> Result<(), StreamEnd> {
    let Some(sm) = memory.sm.as_mut() else {
        return Ok(());
    };
    match el.name() {
        "r" => {
            let answer = sm.answer();
            send_nonza(stream, &answer, abort, shared).await
        }
        "a" => {
            if let Some(h) = el.attr("h").and_then(|h| h.parse().ok()) {
                sm.acknowledged(h);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Sends a stanza of the case, notes it (stream management, presence, rooms) and, with stream
/// management, asks the server to acknowledge it.
pub(crate) async fn send_stanza(
    stream: &mut Stream,
    el: &Element,
    abort: &CancellationToken,
    shared: &Shared,
    memory: &mut Memory,
    what: &str,
) -> Result<(), StreamEnd> {
    // Noted before the write: a stanza lost with the connection is still unacknowledged.
    memory.sent(el);
    write(stream, el, abort, shared, what).await?;
    if memory.sm.is_some() {
        send_nonza(stream, &sm::request(), abort, shared).await?;
    }
    Ok(())
}

/// Sends a nonza (stream management's `<r/>` and `<a/>`), kept out of the transcript.
pub(crate) async fn send_nonza(
    stream: &mut Stream,
    el: &Element,
    abort: &CancellationToken,
    _shared: &Shared,
) -> Result<(), StreamEnd> {
    tokio::select! {
        biased;
        _ = abort.cancelled() => Err(StreamEnd::Aborted),
        r = stream.send(el) => r.map_err(|e| StreamEnd::Broken(format!("acknowledgement failed: {e}"))),
    }
}

/// How the client answers a request by itself.
enum Answer {
    /// An XEP-0199 ping: a result.
    Pong(Element),
    /// A roster push (RFC 6121 2.1.6): an empty result.
    Acknowledge(Element),
    /// Any other iq get or set: `service-unavailable` (RFC 6120 8.2.3, 8.4), as a client that
    /// does not implement the payload must answer, so the sender does not wait forever.
    Unsupported(Element),
}

fn answer(el: &Element) -> Option<Answer> {
    if !el.is("iq", NS_CLIENT) || !matches!(el.attr("type"), Some("get" | "set")) {
        return None;
    }
    if let Some(reply) = ping_reply(el) {
        return Some(Answer::Pong(reply));
    }
    let to = el.attr("from").and_then(|f| f.parse::<Jid>().ok());
    let id = el.attr("id").unwrap_or_default().to_owned();
    if el.attr("type") == Some("set") && el.get_child("query", NS_ROSTER).is_some() {
        return Some(Answer::Acknowledge(Element::from(Iq::Result {
            from: None,
            to,
            id,
            payload: None,
        })));
    }
    let error = StanzaError::new(
        ErrorType::Cancel,
        DefinedCondition::ServiceUnavailable,
        "en",
        "jspec's client does not handle this request",
    );
    Some(Answer::Unsupported(Element::from(Iq::Error {
        from: None,
        to,
        id,
        error,
        payload: None,
    })))
}

/// Writes (and flushes) one element, recording it first so the transcript shows the attempt.
async fn write(
    stream: &mut Stream,
    el: &Element,
    abort: &CancellationToken,
    shared: &Shared,
    what: &str,
) -> Result<(), StreamEnd> {
    shared.transcript.stanza(Direction::Sent, el);
    tokio::select! {
        biased;
        _ = abort.cancelled() => Err(StreamEnd::Aborted),
        r = stream.send(el) => r.map_err(|e| StreamEnd::Broken(format!("{what} failed: {e}"))),
    }
}

/// A read that failed on our [`Limits`](super::Limits) is the server's protocol violation:
/// tell it so (briefly: it may not be reading), close, and end with the reason. `None` for
/// any other error.
async fn violation(
    stream: &mut Stream,
    e: &io::Error,
    send_error: bool,
    shared: &Shared,
) -> Option<StreamEnd> {
    let limit = limit_exceeded(e)?.to_string();
    if send_error {
        let condition = Element::builder("policy-violation", NS_STREAM_ERRORS).build();
        let error = Element::builder("error", NS_STREAM)
            .append(condition)
            .build();
        shared.transcript.stanza(Direction::Sent, &error);
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            stream.send(&error).await?;
            stream.shutdown().await
        })
        .await;
    }
    Some(StreamEnd::Violation(limit))
}

/// The `<iq type='result'/>` answering an XEP-0199 ping, if `el` is one.
fn ping_reply(el: &Element) -> Option<Element> {
    let is_ping = el.is("iq", NS_CLIENT)
        && el.attr("type") == Some("get")
        && el.get_child("ping", NS_PING).is_some();
    if !is_ping {
        return None;
    }
    let to = el.attr("from").and_then(|f| f.parse::<Jid>().ok());
    let id = el.attr("id").unwrap_or_default().to_owned();
    Some(Element::from(Iq::Result {
        from: None,
        to,
        id,
        payload: None,
    }))
}

fn keepalive(domain: &str, n: u64) -> Element {
    let mut iq = Iq::from_get(format!("{KEEPALIVE_ID}{n}"), Ping);
    if let Ok(to) = domain.parse::<Jid>() {
        iq = iq.with_to(to);
    }
    Element::from(iq)
}

/// Clean close: our footer (plus TLS close_notify), then whatever the server still sends,
/// until its footer or the grace period ends.
async fn close(
    stream: &mut Stream,
    grace: Duration,
    abort: &CancellationToken,
    shared: &Shared,
) -> StreamEnd {
    let deadline = tokio::time::Instant::now() + grace;
    let shut = tokio::select! {
        biased;
        _ = abort.cancelled() => return StreamEnd::Aborted,
        _ = tokio::time::sleep_until(deadline) => return StreamEnd::ClosedByClient,
        r = stream.shutdown() => r,
    };
    if let Err(e) = shut {
        return StreamEnd::Broken(format!("close failed: {e}"));
    }
    loop {
        let item = tokio::select! {
            biased;
            _ = abort.cancelled() => return StreamEnd::Aborted,
            _ = tokio::time::sleep_until(deadline) => {
                shared.transcript.event("server did not close its stream within the grace period");
                return StreamEnd::ClosedByClient;
            }
            item = stream.next() => item,
        };
        match item {
            // Late stanzas still arrived; expectations may look for them.
            Some(Ok(el)) if !el.is("error", NS_STREAM) => {
                shared.transcript.stanza(Direction::Received, &el);
                shared.inbox.push_stanza(el);
            }
            Some(Err(ReadError::SoftTimeout | ReadError::ParseError(_))) => {}
            Some(Err(ReadError::StreamFooterReceived)) => {
                shared.transcript.event("server closed its stream");
                return StreamEnd::ClosedByClient;
            }
            Some(Ok(el)) => {
                shared.transcript.stanza(Direction::Received, &el);
                return StreamEnd::ClosedByClient;
            }
            Some(Err(ReadError::HardError(e))) => {
                // Our footer is out already: no stream error can follow it.
                if let Some(end) = violation(stream, &e, false, shared).await {
                    return end;
                }
                shared
                    .transcript
                    .event(format!("connection ended during close: {e}"));
                return StreamEnd::ClosedByClient;
            }
            None => {
                shared
                    .transcript
                    .event("connection ended during close without the server's close");
                return StreamEnd::ClosedByClient;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_pings_only() {
        let ping: Element = "<iq xmlns='jabber:client' type='get' id='p1' from='bob@a.test/r'>\
            <ping xmlns='urn:xmpp:ping'/></iq>"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let reply = ping_reply(&ping).unwrap_or_else(|| panic!("no reply"));
        assert_eq!(reply.attr("type"), Some("result"));
        assert_eq!(reply.attr("id"), Some("p1"));
        assert_eq!(reply.attr("to"), Some("bob@a.test/r"));
        let version: Element = "<iq xmlns='jabber:client' type='get' id='v'>\
            <query xmlns='jabber:iq:version'/></iq>"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ping_reply(&version).is_none());
    }
}
