//! The client-side OCSP check (RFC 6960) done right after a successful TLS handshake when the
//! connect asks for one: ask the responder about the server's certificate, accept the answer
//! only if the issuer (or a responder it delegated to) signed it, it is fresh and it is about
//! that certificate, then map revoked to `certificate-revoked` and anything else that is not
//! "good" to `tls-failed`, naming the responder.

pub(crate) mod cert;
pub(crate) mod codec;
pub(crate) mod http;

use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::cert::{CertFacts, verify_signature};
use self::codec::{CertId, CertStatus, OcspRequest, OcspResponse, ResponderId, SHA1};
use self::http::HttpError;
use super::error::{ConnectError, FailureReason};
use super::wire::Bound;

/// Where to find the OCSP responder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OcspSource {
    /// This URL (`http://host:port/path`), whatever the certificate says.
    Url(String),
    /// The first `http://` OCSP URL in the certificate's Authority Information Access.
    FromAia,
}

/// An OCSP check of the server's certificate after the handshake.
#[derive(Clone, Debug)]
pub struct OcspCheck {
    pub source: OcspSource,
    /// The CA that issued the server's certificate (the lab CA): its name and key identify the
    /// certificate to the responder, and its key must sign the answers (directly, or through a
    /// responder certificate it issued for OCSP signing).
    pub issuer: CertificateDer<'static>,
}

/// Tolerated clock difference with the responder on thisUpdate and nextUpdate.
const SKEW: time::Duration = time::Duration::minutes(5);

/// Runs `check` on the end-entity certificate of an established TLS session.
/// A certificate the case made bad on purpose (`accepted`) is not asked about: the case's own
/// clients reach such a server (see `ConnectConfig::accept_certificate`).
pub(crate) async fn check_session(
    check: &OcspCheck,
    tls: &tokio_rustls::client::TlsStream<TcpStream>,
    accepted: Option<&[u8]>,
    bound: &Bound,
) -> Result<(), ConnectError> {
    let end_entity = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| tls_failed("OCSP check: the server presented no certificate".to_owned()))?;
    if accepted == Some(end_entity.as_ref()) {
        return Ok(());
    }
    check_ocsp(check, end_entity, bound.deadline, &bound.cancel).await
}

/// Asks the responder about `end_entity` and judges the answer: `Ok` only for a verified,
/// fresh "good". Revoked is `certificate-revoked`; unknown, an unreachable responder or a bad
/// answer are `tls-failed`. The exchange stops at `deadline` or when `cancel` fires.
pub async fn check_ocsp(
    check: &OcspCheck,
    end_entity: &CertificateDer<'_>,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), ConnectError> {
    let cert = CertFacts::parse(end_entity)
        .map_err(|e| tls_failed(format!("OCSP check: server certificate: {e}")))?;
    let issuer = CertFacts::parse(&check.issuer)
        .map_err(|e| tls_failed(format!("OCSP check: issuer certificate: {e}")))?;
    if cert.issuer != issuer.subject {
        return Err(tls_failed(
            "OCSP check: the server certificate was not issued by the configured issuer".to_owned(),
        ));
    }
    let url = match &check.source {
        OcspSource::Url(url) => url.clone(),
        OcspSource::FromAia => cert
            .ocsp_urls
            .iter()
            .find(|u| u.starts_with("http://"))
            .cloned()
            .ok_or_else(|| {
                tls_failed(
                    "OCSP check: the server certificate names no http:// OCSP responder".to_owned(),
                )
            })?,
    };
    let serial = serial_text(&cert.serial);
    let target =
        http::responder_url(&url).map_err(|e| tls_failed(format!("OCSP responder {e}")))?;
    let id = CertId::new(SHA1, &cert.issuer, &issuer.key, &cert.serial)
        .ok_or_else(|| tls_failed("OCSP check: SHA-1 unavailable".to_owned()))?;
    let nonce = fresh_nonce().map(|n| codec::nonce_extension(&n));
    let request = OcspRequest {
        ids: vec![id.clone()],
        nonce: nonce.clone(),
    }
    .encode();
    let body = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Err(ConnectError::Cancelled),
        _ = tokio::time::sleep_until(deadline) => {
            return Err(unreachable(&url, &"no answer before the connect deadline"));
        }
        body = http::post(&target, request) => body.map_err(|e| match e {
            HttpError::Unreachable(e) => unreachable(&url, &e),
            HttpError::Protocol(why) => {
                tls_failed(format!("OCSP responder {url} answered badly: {why}"))
            }
        })?,
    };
    let status = judge(
        &body,
        &id,
        &issuer,
        nonce.as_deref(),
        OffsetDateTime::now_utc(),
    )
    .map_err(|why| tls_failed(format!("OCSP responder {url}: {why}")))?;
    let certificate = format!("the server certificate (serial {serial})");
    match status {
        CertStatus::Good => Ok(()),
        CertStatus::Revoked(at) => Err(ConnectError::new(
            FailureReason::CertificateRevoked,
            format!(
                "OCSP responder {url} reports {certificate} revoked at {}",
                rfc3339(at)
            ),
        )),
        CertStatus::Unknown => Err(tls_failed(format!(
            "OCSP responder {url} does not know {certificate}: status unknown"
        ))),
    }
}

fn tls_failed(message: String) -> ConnectError {
    ConnectError::new(FailureReason::TlsFailed, message)
}

fn unreachable(url: &str, why: &dyn std::fmt::Display) -> ConnectError {
    tls_failed(format!("OCSP responder {url} unreachable: {why}"))
}

/// The status of `id` in a response body, if the body is a verified, fresh answer about it.
fn judge(
    body: &[u8],
    id: &CertId,
    issuer: &CertFacts,
    nonce: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<CertStatus, String> {
    let basic = match OcspResponse::parse(body).map_err(|e| e.to_string())? {
        OcspResponse::Basic(basic) => basic,
        OcspResponse::Refused(status) => {
            return Err(format!("refused: {}", codec::refusal_name(status)));
        }
    };
    let signer = signer(&basic, issuer)?;
    verify_signature(&signer, &basic.signature_alg, &basic.tbs, &basic.signature)
        .map_err(|e| format!("response signature does not verify: {e}"))?;
    // A responder may ignore nonces (RFC 8954); one that answers must answer ours.
    if let (Some(sent), Some(got)) = (nonce, &basic.data.nonce)
        && sent != got.as_slice()
    {
        return Err("the response's nonce is not ours (replayed?)".to_owned());
    }
    let single = basic
        .data
        .responses
        .iter()
        .find(|s| s.id == *id)
        .ok_or_else(|| "the response does not cover the server certificate".to_owned())?;
    if single.this_update > now + SKEW {
        return Err(format!(
            "thisUpdate {} is in the future",
            rfc3339(single.this_update)
        ));
    }
    if let Some(next) = single.next_update
        && next < now - SKEW
    {
        return Err(format!(
            "stale answer: nextUpdate {} has passed",
            rfc3339(next)
        ));
    }
    Ok(single.status.clone())
}

/// Who signed: the issuer itself, or a certificate in the response that the issuer signed
/// for OCSP signing (RFC 6960 4.2.2.2).
fn signer(basic: &codec::BasicResponse, issuer: &CertFacts) -> Result<CertFacts, String> {
    let is = |cert: &CertFacts| match &basic.data.responder {
        ResponderId::ByName(name) => *name == cert.subject,
        ResponderId::ByKey(hash) => Some(hash) == codec::digest(SHA1, &cert.key).as_ref(),
    };
    if is(issuer) {
        return Ok(issuer.clone());
    }
    let delegate = basic
        .certs
        .iter()
        .filter_map(|der| CertFacts::parse(der).ok())
        .find(|c| is(c))
        .ok_or_else(|| {
            "the response is signed neither by the issuer nor by a certificate it carries"
                .to_owned()
        })?;
    if delegate.issuer != issuer.subject || !delegate.ocsp_signing {
        return Err("the responder's certificate is not an OCSP signer of the issuer".to_owned());
    }
    verify_signature(
        issuer,
        &delegate.signature_alg,
        &delegate.tbs,
        &delegate.signature,
    )
    .map_err(|e| format!("the responder's certificate does not verify against the issuer: {e}"))?;
    Ok(delegate)
}

fn fresh_nonce() -> Option<[u8; 16]> {
    use ring::rand::SecureRandom;
    let mut nonce = [0u8; 16];
    ring::rand::SystemRandom::new().fill(&mut nonce).ok()?;
    Some(nonce)
}

/// Decimal for serials that fit 64 bits (the lab's), hex otherwise (as openssl prints them).
pub(crate) fn serial_text(serial: &[u8]) -> String {
    let digits: Vec<u8> = serial.iter().copied().skip_while(|b| *b == 0).collect();
    if digits.len() <= 8 {
        let value = digits.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
        return value.to_string();
    }
    digits.iter().map(|b| format!("{b:02X}")).collect()
}

/// `2026-11-26T01:23:45Z` (the time crate's formatting feature is not enabled here).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests;
