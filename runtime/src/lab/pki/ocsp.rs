//! The lab's OCSP responder (RFC 6960): HTTP POST of `application/ocsp-request` (appendix A;
//! GET is not served) on one lab address, answering good / revoked / unknown from the CA's live
//! revocation list. The CA signs the answers itself (responderID byName = the CA's subject) and
//! its certificate rides along in `certs`, so a client that trusts only the CA (`openssl ocsp
//! -CAfile ca.pem`) finds the signer. Answers are made per request: thisUpdate is now,
//! nextUpdate ten minutes later, and a request's nonce is echoed.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::LabCa;
use crate::xmpp::ocsp::cert::CertFacts;
use crate::xmpp::ocsp::codec::{
    self, CertId, CertStatus, OcspRequest, OcspResponse, ResponderId, ResponseData, SingleResponse,
};
use crate::xmpp::ocsp::http;

/// One client's whole exchange (read the request, answer) must fit in this.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// thisUpdate to nextUpdate of every answer.
const VALIDITY: time::Duration = time::Duration::minutes(10);
/// RFC 6960 4.2.1 statuses the responder uses.
const MALFORMED_REQUEST: i64 = 1;
const INTERNAL_ERROR: i64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum OcspResponderError {
    #[error("cannot listen for OCSP on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the lab CA certificate: {0}")]
    Ca(String),
}

/// A running responder. It stops on [`OcspResponder::shutdown`] or when dropped.
#[derive(Debug)]
pub struct OcspResponder {
    addr: SocketAddr,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl OcspResponder {
    /// Listens on `ip` (a lab loopback address; nothing else) at a free port, answering for
    /// `ca`. Call [`LabCa::set_ocsp_url`] with [`OcspResponder::url`] for issued certificates
    /// to name it.
    pub async fn start(ca: Arc<LabCa>, ip: IpAddr) -> Result<OcspResponder, OcspResponderError> {
        let bind_error = |source| OcspResponderError::Bind {
            addr: SocketAddr::new(ip, 0),
            source,
        };
        let listener = TcpListener::bind((ip, 0)).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let answerer = Arc::new(Answerer::new(ca)?);
        let cancel = CancellationToken::new();
        let task = tokio::spawn(serve(listener, answerer, cancel.clone()));
        tracing::debug!(%addr, "OCSP responder listening");
        Ok(OcspResponder {
            addr,
            cancel,
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR:PORT/`, the URL for AIA and for clients.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops listening and waits until the listener is closed (open exchanges are dropped).
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        self.cancel.cancel();
        // Abort too: the listener closes at once, not when the task is next polled.
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn serve(listener: TcpListener, answerer: Arc<Answerer>, cancel: CancellationToken) {
    // Dropping the set when the loop ends aborts exchanges still in flight.
    let mut exchanges = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            Some(_) = exchanges.join_next(), if !exchanges.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    exchanges.spawn(exchange(stream, Arc::clone(&answerer)));
                }
                Err(e) => {
                    // E.g. out of descriptors: back off instead of spinning.
                    tracing::debug!(%e, "OCSP responder accept failed");
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                }
            },
        }
    }
}

async fn exchange(stream: TcpStream, answerer: Arc<Answerer>) {
    let answer = move |request: Bytes| {
        let answerer = Arc::clone(&answerer);
        async move { answerer.answer(&request, OffsetDateTime::now_utc()) }
    };
    match tokio::time::timeout(EXCHANGE_TIMEOUT, http::serve_connection(stream, answer)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(%e, "OCSP exchange failed"),
        Err(_) => tracing::debug!("OCSP exchange timed out"),
    }
}

/// The CA and what answering needs of its certificate, computed once.
pub(crate) struct Answerer {
    ca: Arc<LabCa>,
    cert: CertFacts,
    cert_der: Vec<u8>,
}

impl Answerer {
    pub(crate) fn new(ca: Arc<LabCa>) -> Result<Answerer, OcspResponderError> {
        let cert_der = ca.cert_der();
        let cert =
            CertFacts::parse(&cert_der).map_err(|e| OcspResponderError::Ca(e.to_string()))?;
        Ok(Answerer { ca, cert, cert_der })
    }

    /// The DER response to a DER request: signed statuses, or a malformedRequest /
    /// internalError refusal.
    pub(crate) fn answer(&self, request: &[u8], now: OffsetDateTime) -> Vec<u8> {
        let request = match OcspRequest::parse(request) {
            Ok(request) if !request.ids.is_empty() => request,
            _ => return OcspResponse::encode_refusal(MALFORMED_REQUEST),
        };
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let data = ResponseData {
            responder: ResponderId::ByName(self.cert.subject.clone()),
            produced_at: now,
            responses: request
                .ids
                .iter()
                .map(|id| SingleResponse {
                    id: id.clone(),
                    status: self.status(id),
                    this_update: now,
                    next_update: Some(now + VALIDITY),
                })
                .collect(),
            nonce: request.nonce,
        };
        let tbs = data.encode();
        match self.ca.sign_ocsp_response(&tbs) {
            Ok(signature) => OcspResponse::encode_basic(
                &tbs,
                &self.cert.signature_alg,
                &signature,
                &[&self.cert_der],
            ),
            Err(e) => {
                tracing::warn!(%e, "OCSP responder cannot sign");
                OcspResponse::encode_refusal(INTERNAL_ERROR)
            }
        }
    }

    /// Unknown unless the CertID names this CA (by its name and key hashes) and a serial it
    /// issued; then revoked or good from the live list.
    fn status(&self, id: &CertId) -> CertStatus {
        let hash = id.hash.components();
        let ours = codec::digest(hash, &self.cert.subject) == Some(id.issuer_name_hash.clone())
            && codec::digest(hash, &self.cert.key) == Some(id.issuer_key_hash.clone());
        let Some(serial) = serial_u64(&id.serial).filter(|_| ours) else {
            return CertStatus::Unknown;
        };
        match self.ca.revoked_at(serial) {
            Some(at) => CertStatus::Revoked(at),
            None if self.ca.issued(serial) => CertStatus::Good,
            None => CertStatus::Unknown,
        }
    }
}

/// The serial as the lab numbers them; `None` for negative or longer ones.
fn serial_u64(serial: &[u8]) -> Option<u64> {
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let digits: Vec<u8> = serial.iter().copied().skip_while(|b| *b == 0).collect();
    (digits.len() <= 8).then(|| digits.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_read_as_the_lab_numbers_them() {
        assert_eq!(serial_u64(&[0]), Some(0));
        assert_eq!(serial_u64(&[0, 0x80]), Some(128));
        assert_eq!(serial_u64(&[0x80]), None);
        assert_eq!(serial_u64(&[1; 9]), None);
    }
}
