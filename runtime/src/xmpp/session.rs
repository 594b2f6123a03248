//! A connected, bound XMPP client session: the handle the executor drives.

use std::sync::Arc;
use std::time::Duration;

use jid::{BareJid, FullJid};
use minidom::{Element, Node};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::config::ConnectConfig;
use super::connect::{self, Established};
use super::error::{ConnectError, SendError};
use super::inbox::{Inbox, StreamEnd};
use super::io_task::{self, Command, Shared};
use super::reconnect::{Memory, Reconnecting};
use super::sm::StreamManagement;
use super::transcript::{Direction, Transcript, TranscriptRecord};
use super::wire::{Bound, NS_CLIENT};

/// Facts about how the session was established, for reports and `expect` lines.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    /// SASL mechanism actually used, e.g. `SCRAM-SHA-1`.
    pub mechanism: String,
    /// e.g. `TLSv1_3`.
    pub tls_version: String,
    /// TCP connect start to resource bound.
    pub connect_time: Duration,
}

/// One client session. Dropping it aborts the connection (no stream close).
#[derive(Debug)]
pub struct Session {
    jid: FullJid,
    info: SessionInfo,
    timeout: Duration,
    cancel: CancellationToken,
    commands: mpsc::Sender<Command>,
    /// Tells the I/O task to drop the connection now.
    abort: CancellationToken,
    /// Fired by the I/O task once the connection is gone.
    finished: CancellationToken,
    inbox: Arc<Inbox>,
    transcript: Arc<Transcript>,
    /// Stream management is on: a lost connection can be resumed.
    stream_managed: bool,
    /// Rooms a new session is catching up with (xmpp/catch_up.rs), kept by the I/O task.
    catching_up: Arc<std::sync::atomic::AtomicUsize>,
}

impl Session {
    /// Connects, secures, authenticates and binds. Bounded by `config.timeout` as a whole and by
    /// `cancel`; `cancel` also bounds later sends and closes of this session.
    pub async fn connect(
        config: ConnectConfig,
        cancel: CancellationToken,
    ) -> Result<Session, ConnectError> {
        let bound = Bound::new(config.timeout, cancel.clone());
        let established = connect::establish(&config, &bound).await?;
        Ok(Self::start(established, &config, cancel))
    }

    fn start(established: Established, config: &ConnectConfig, cancel: CancellationToken) -> Self {
        let transcript = Arc::new(Transcript::default());
        let (bind_request, bind_result) = &established.bind;
        transcript.stanza(Direction::Sent, bind_request);
        transcript.stanza(Direction::Received, bind_result);
        transcript.event(connect::describe(&established));
        let inbox = Arc::new(Inbox::new());
        let (commands, receiver) = mpsc::channel(64);
        let abort = CancellationToken::new();
        let finished = CancellationToken::new();
        let shared = Shared {
            inbox: Arc::clone(&inbox),
            transcript: Arc::clone(&transcript),
            domain: config.domain.clone(),
            mutator: config
                .mutation
                .map(|m| std::sync::Mutex::new(super::mutation::Mutator::new(m))),
        };
        let stream_managed = established.enabled.is_some();
        let memory = Memory::new(established.enabled.as_ref().map(StreamManagement::enabled));
        let catching_up = memory.catching_up();
        if let Some(enabled) = &established.enabled {
            transcript.event(format!(
                "stream management enabled{}",
                if enabled.resume {
                    ", resumable"
                } else {
                    ", not resumable"
                }
            ));
        }
        // Reconnecting needs a fresh deadline per attempt, and the same credentials.
        let reconnecting = config.reconnect.map(|policy| Reconnecting {
            config: config.clone(),
            policy,
            cancel: cancel.clone(),
        });
        tokio::spawn(io_task::run(
            established.stream,
            receiver,
            abort.clone(),
            shared,
            finished.clone(),
            memory,
            reconnecting,
        ));
        Self {
            jid: established.jid,
            info: SessionInfo {
                mechanism: established.mechanism,
                tls_version: established.tls_version,
                connect_time: established.elapsed,
            },
            timeout: config.timeout,
            cancel,
            commands,
            abort,
            finished,
            inbox,
            transcript,
            stream_managed,
            catching_up,
        }
    }

    /// Whether stream management is on (the server enabled it): a lost connection can be
    /// resumed.
    pub fn stream_managed(&self) -> bool {
        self.stream_managed
    }

    /// The full JID the server bound.
    pub fn jid(&self) -> &FullJid {
        &self.jid
    }

    pub fn bare_jid(&self) -> BareJid {
        self.jid.to_bare()
    }

    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// Whether a new session is still fetching what its rooms said while it was gone (the
    /// catch-up queries are under way).
    pub fn catching_up(&self) -> bool {
        self.catching_up.load(std::sync::atomic::Ordering::Relaxed) > 0
    }

    pub fn inbox(&self) -> &Arc<Inbox> {
        &self.inbox
    }

    /// Every stanza sent and received so far, with session events, in order.
    pub fn transcript(&self) -> Vec<TranscriptRecord> {
        self.transcript.records()
    }

    /// Sends a stanza; returns once it is written to the connection.
    pub async fn send(&self, el: Element) -> Result<(), SendError> {
        let (done, written) = oneshot::channel();
        let command = Command::Send { el, done };
        let work = async {
            if self.commands.send(command).await.is_err() {
                return Err(self.closed());
            }
            // A dropped ack means the task ended before writing.
            written.await.unwrap_or_else(|_| Err(self.closed()))
        };
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(SendError::Cancelled),
            r = tokio::time::timeout(self.timeout, work) => {
                r.unwrap_or(Err(SendError::Timeout(self.timeout)))
            }
        }
    }

    /// Parses `xml` (one element; default namespace `jabber:client`) and sends it.
    pub async fn send_raw(&self, xml: &str) -> Result<(), SendError> {
        self.send(parse_stanza(xml)?).await
    }

    /// Sends the initial `<presence/>` (the session is not "available" before).
    pub async fn send_initial_presence(&self) -> Result<(), SendError> {
        self.send(Element::bare("presence", NS_CLIENT)).await
    }

    /// Clean close: `</stream:stream>`, then wait (bounded by the timeout) for the server's
    /// close. Returns how the stream ended (it may already have ended another way). If the close
    /// cannot make progress in time, or the run is cancelled, the connection is aborted instead.
    pub async fn close(&self) -> StreamEnd {
        let grace = self.timeout;
        let orderly = async {
            // An error means the task already ended; its end is in the inbox.
            let _ = self.commands.send(Command::Close { grace }).await;
            self.finished.cancelled().await;
        };
        let done = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => false,
            r = tokio::time::timeout(grace + Duration::from_secs(1), orderly) => r.is_ok(),
        };
        if !done {
            self.abort().await;
        }
        self.inbox.end().unwrap_or(StreamEnd::ClosedByClient)
    }

    /// Drops the TCP connection without a stream close, like a crashed client.
    pub async fn abort(&self) {
        self.abort.cancel();
        self.wait_finished(self.timeout).await;
    }

    /// Whether the stream has ended (by either side).
    pub fn is_closed(&self) -> bool {
        self.inbox.end().is_some()
    }

    async fn wait_finished(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.finished.cancelled()).await;
    }

    fn closed(&self) -> SendError {
        let why = self
            .inbox
            .end()
            .map_or_else(|| "stream ended".to_owned(), |end| end.to_string());
        SendError::Closed(why)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The task owns the socket; telling it to stop is enough (no stream close: a crash).
        self.abort.cancel();
    }
}

/// One element from `xml`, in the `jabber:client` default namespace. Text around it may only be
/// whitespace; a second element or anything malformed is an error, never a panic.
pub(crate) fn parse_stanza(xml: &str) -> Result<Element, SendError> {
    let wrapped = format!("<jspec-raw xmlns='{NS_CLIENT}'>{xml}</jspec-raw>");
    let mut wrapper: Element = wrapped
        .parse()
        .map_err(|e: minidom::Error| SendError::InvalidXml(e.to_string()))?;
    let mut found = None;
    for node in wrapper.take_nodes() {
        match node {
            Node::Element(el) if found.is_none() => found = Some(el),
            Node::Element(el) => {
                return Err(SendError::InvalidXml(format!(
                    "more than one element (second is <{}/>)",
                    el.name()
                )));
            }
            Node::Text(text) if text.trim().is_empty() => {}
            Node::Text(text) => {
                return Err(SendError::InvalidXml(format!(
                    "text outside the element: {:?}",
                    text.trim()
                )));
            }
        }
    }
    found.ok_or_else(|| SendError::InvalidXml("no element".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The executor spawns connects and shares sessions between parallel branches.
    #[test]
    fn connect_future_is_send_and_session_is_sync() {
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<Session>();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let trust = Arc::new(rustls::RootCertStore::empty());
        let config = ConnectConfig::new(addr, "a.test", "u", "p", trust);
        let fut = Session::connect(config, CancellationToken::new());
        assert_send(&fut);
    }

    #[test]
    fn raw_stanza_gets_client_namespace() {
        let el = parse_stanza(
            "  <iq type='get' id='v1' to='bob@a.test'><vCard xmlns='vcard-temp'/></iq>\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(el.is("iq", NS_CLIENT));
        assert_eq!(el.attr("id"), Some("v1"));
        assert!(el.get_child("vCard", "vcard-temp").is_some());
    }

    #[test]
    fn raw_errors_are_values() {
        for bad in ["", "<iq>", "<a/><b/>", "junk <a/>", "<a></b>", "<x:y/>"] {
            assert!(
                matches!(parse_stanza(bad), Err(SendError::InvalidXml(_))),
                "{bad:?} should be rejected"
            );
        }
    }
}
