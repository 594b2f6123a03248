//! Shared plumbing for the negotiation phase: the stream type, the deadline + cancellation bound
//! every network await goes through, and reading one element with errors already classified.

use std::future::Future;
use std::io;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use minidom::Element;
use tokio::io::{AsyncBufRead, AsyncWrite, BufStream};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_util::sync::CancellationToken;
use tokio_xmpp::xmlstream::{ReadError, XmlStream};

use super::error::{ConnectError, FailureReason};
use super::limits::{LimitExceeded, XmlLimits, limit_exceeded};

pub(crate) const NS_CLIENT: &str = "jabber:client";
pub(crate) const NS_STREAM: &str = "http://etherx.jabber.org/streams";
pub(crate) const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
pub(crate) const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
pub(crate) const NS_PING: &str = "urn:xmpp:ping";
pub(crate) const NS_STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";

/// Every established session runs over TLS (both modes end in the same stream type). The
/// limits sit above TLS (they must see plaintext) and below tokio-xmpp's buffer.
pub(crate) type TlsIo = BufStream<XmlLimits<TlsStream<TcpStream>>>;
pub(crate) type Stream = XmlStream<TlsIo, Element>;

/// One connect's budget: a single deadline for the whole connect, and the run's cancel token.
pub(crate) struct Bound {
    pub(crate) deadline: Instant,
    pub(crate) timeout: Duration,
    pub(crate) cancel: CancellationToken,
}

impl Bound {
    pub(crate) fn new(timeout: Duration, cancel: CancellationToken) -> Self {
        Self {
            deadline: Instant::now() + timeout,
            timeout,
            cancel,
        }
    }

    /// Runs `fut` unless the deadline passes or the token fires first.
    pub(crate) async fn run<F: Future>(
        &self,
        stage: &str,
        fut: F,
    ) -> Result<F::Output, ConnectError> {
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(ConnectError::Cancelled),
            _ = tokio::time::sleep_until(self.deadline) => Err(ConnectError::new(
                FailureReason::ConnectionTimeout,
                format!("no progress within {:?} while {stage}", self.timeout),
            )),
            out = fut => Ok(out),
        }
    }
}

/// Sends one element (stanza or nonza) during negotiation.
pub(crate) async fn send<Io: AsyncBufRead + AsyncWrite + Unpin>(
    stream: &mut XmlStream<Io, Element>,
    item: &Element,
    stage: &str,
    bound: &Bound,
) -> Result<(), ConnectError> {
    bound
        .run(stage, stream.send(item))
        .await?
        .map_err(|e| lost(stage, &e))
}

/// Reads the next element during negotiation; a `<stream:error/>` or the end of the stream
/// becomes a classified error so callers only see the elements they asked about.
pub(crate) async fn next_element<Io: AsyncBufRead + AsyncWrite + Unpin>(
    stream: &mut XmlStream<Io, Element>,
    stage: &str,
    bound: &Bound,
) -> Result<Element, ConnectError> {
    loop {
        match bound.run(stage, stream.next()).await? {
            Some(Ok(el)) if el.is("error", NS_STREAM) => {
                return Err(ConnectError::new(
                    FailureReason::StreamError,
                    format!("stream error while {stage}: {}", describe_stream_error(&el)),
                ));
            }
            Some(Ok(el)) => return Ok(el),
            // Soft timeouts are tokio-xmpp's keepalive hint; the connect deadline governs here.
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(ReadError::HardError(e))) => return Err(lost(stage, &e)),
            Some(Err(ReadError::ParseError(e))) => {
                return Err(ConnectError::new(
                    FailureReason::StreamError,
                    format!("unparseable data while {stage}: {e}"),
                ));
            }
            Some(Err(ReadError::StreamFooterReceived)) | None => {
                return Err(ConnectError::new(
                    FailureReason::StreamError,
                    format!("server closed the stream while {stage}"),
                ));
            }
        }
    }
}

/// An I/O error after TCP is up: a TLS alert is `tls-failed`, anything else ended the stream.
pub(crate) fn lost(stage: &str, e: &io::Error) -> ConnectError {
    if let Some(limit) = limit_exceeded(e) {
        return broke_protocol(stage, limit);
    }
    let is_tls = e
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
    let reason = if is_tls {
        FailureReason::TlsFailed
    } else {
        FailureReason::StreamError
    };
    ConnectError::new(reason, format!("connection lost while {stage}: {e}"))
}

/// The server exceeded our [`Limits`](super::Limits): its fault, not the network's.
fn broke_protocol(stage: &str, limit: &LimitExceeded) -> ConnectError {
    ConnectError::new(
        FailureReason::StreamError,
        format!("the server broke the protocol while {stage}: {limit}"),
    )
}

/// `condition` or `condition: text` of a `<stream:error/>` element.
pub(crate) fn describe_stream_error(el: &Element) -> String {
    let condition = el
        .children()
        .find(|c| c.ns() == NS_STREAM_ERRORS && c.name() != "text")
        .map(|c| c.name().to_owned())
        .unwrap_or_else(|| "undefined-condition".to_owned());
    match el.get_child("text", NS_STREAM_ERRORS).map(Element::text) {
        Some(text) if !text.is_empty() => format!("{condition}: {text}"),
        _ => condition,
    }
}

/// `item-not-found: text` from an error stanza.
pub(crate) fn error_condition(stanza: &Element) -> String {
    let Some(error) = stanza.children().find(|c| c.name() == "error") else {
        return "error".to_string();
    };
    let condition = error
        .children()
        .find(|c| c.name() != "text")
        .map_or("error".to_string(), |c| c.name().to_string());
    match error
        .children()
        .find(|c| c.name() == "text")
        .map(Element::text)
    {
        Some(text) if !text.is_empty() => format!("{condition}: {text}"),
        _ => condition,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_error_text() {
        let el: Element = "<error xmlns='http://etherx.jabber.org/streams'>\
            <conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
            <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text>\
            </error>"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            describe_stream_error(&el),
            "conflict: Replaced by new connection"
        );
    }
}
