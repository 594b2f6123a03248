//! The client's judgement of responses made by the lab responder's own answering code (no
//! network here; tests/ocsp.rs runs both over HTTP and against openssl).

use std::sync::Arc;

use super::*;
use crate::lab::pki::ocsp::Answerer;
use crate::lab::pki::{CertificateKind, IssuedCertificate, LabCa};

struct Lab {
    ca: Arc<LabCa>,
    issuer: CertFacts,
    answerer: Answerer,
}

fn lab() -> Lab {
    lab_named("jspec lab CA")
}

fn lab_named(name: &str) -> Lab {
    let ca = Arc::new(LabCa::generate(name).expect("ca"));
    let issuer = CertFacts::parse(&ca.cert_der()).expect("ca cert");
    let answerer = Answerer::new(Arc::clone(&ca)).expect("answerer");
    Lab {
        ca,
        issuer,
        answerer,
    }
}

fn issue(ca: &LabCa) -> IssuedCertificate {
    ca.issue(&["a.test".to_owned()], CertificateKind::Valid)
        .expect("cert")
}

fn id_of(cert: &IssuedCertificate, issuer: &CertFacts) -> CertId {
    let cert = CertFacts::parse(&cert.cert_der).expect("cert");
    CertId::new(SHA1, &cert.issuer, &issuer.key, &cert.serial).expect("id")
}

/// The responder's answer to a request for `id`, and the nonce sent.
fn ask(lab: &Lab, id: &CertId) -> (Vec<u8>, Vec<u8>) {
    let nonce = codec::nonce_extension(b"0123456789abcdef");
    let request = OcspRequest {
        ids: vec![id.clone()],
        nonce: Some(nonce.clone()),
    };
    let body = lab
        .answerer
        .answer(&request.encode(), OffsetDateTime::now_utc());
    (body, nonce)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[test]
fn good_then_revoked_with_its_time() {
    let lab = lab();
    let cert = issue(&lab.ca);
    let id = id_of(&cert, &lab.issuer);
    let (body, nonce) = ask(&lab, &id);
    assert_eq!(
        judge(&body, &id, &lab.issuer, Some(&nonce), now()),
        Ok(CertStatus::Good)
    );
    lab.ca.revoke(cert.serial);
    let at = lab.ca.revoked_at(cert.serial).expect("revoked");
    // OCSP carries whole seconds.
    let at = at.replace_nanosecond(0).expect("0 ns");
    let (body, nonce) = ask(&lab, &id);
    assert_eq!(
        judge(&body, &id, &lab.issuer, Some(&nonce), now()),
        Ok(CertStatus::Revoked(at))
    );
}

#[test]
fn a_serial_the_ca_never_issued_is_unknown() {
    let lab = lab();
    let cert = issue(&lab.ca);
    let mut id = id_of(&cert, &lab.issuer);
    id.serial = vec![0x7f, 0, 0, 0, 0, 0, 0, 1];
    let (body, nonce) = ask(&lab, &id);
    assert_eq!(
        judge(&body, &id, &lab.issuer, Some(&nonce), now()),
        Ok(CertStatus::Unknown)
    );
}

#[test]
fn a_tampered_response_is_rejected() {
    let lab = lab();
    let cert = issue(&lab.ca);
    let id = id_of(&cert, &lab.issuer);
    lab.ca.revoke(cert.serial);
    let (body, nonce) = ask(&lab, &id);
    let OcspResponse::Basic(basic) = OcspResponse::parse(&body).expect("parse") else {
        panic!("refused");
    };
    // The forgery that matters: "revoked" rewritten to "good", signature kept.
    let mut data = basic.data.clone();
    data.responses[0].status = CertStatus::Good;
    let certs: Vec<&[u8]> = basic.certs.iter().map(Vec::as_slice).collect();
    let forged = OcspResponse::encode_basic(
        &data.encode(),
        &basic.signature_alg,
        &basic.signature,
        &certs,
    );
    let err = judge(&forged, &id, &lab.issuer, Some(&nonce), now()).expect_err("forged");
    assert!(err.contains("signature does not verify"), "{err}");
    // And a flipped bit in the signature itself.
    let mut flipped = body.clone();
    let last = flipped.len() - basic.certs[0].len() - 10;
    flipped[last] ^= 1;
    assert!(judge(&flipped, &id, &lab.issuer, Some(&nonce), now()).is_err());
}

#[test]
fn another_cas_answer_is_rejected() {
    let lab = lab();
    let other = lab_named("another CA");
    let cert = issue(&lab.ca);
    let id = id_of(&cert, &lab.issuer);
    let (body, nonce) = ask(&other, &id);
    let err = judge(&body, &id, &lab.issuer, Some(&nonce), now()).expect_err("foreign");
    // It carries its own certificate, which the issuer never made an OCSP signer.
    assert!(err.contains("not an OCSP signer of the issuer"), "{err}");
}

#[test]
fn stale_replayed_and_unrelated_answers_are_rejected() {
    let lab = lab();
    let cert = issue(&lab.ca);
    let id = id_of(&cert, &lab.issuer);
    let (body, nonce) = ask(&lab, &id);
    let later = now() + time::Duration::hours(1);
    let err = judge(&body, &id, &lab.issuer, Some(&nonce), later).expect_err("stale");
    assert!(err.contains("stale"), "{err}");
    let err = judge(&body, &id, &lab.issuer, Some(b"other"), now()).expect_err("replay");
    assert!(err.contains("nonce"), "{err}");
    let mut other = id.clone();
    other.serial = vec![99];
    let err = judge(&body, &other, &lab.issuer, Some(&nonce), now()).expect_err("other id");
    assert!(err.contains("does not cover"), "{err}");
}

#[test]
fn malformed_requests_are_refused() {
    let lab = lab();
    let body = lab.answerer.answer(b"\x30\x00", now());
    let id = id_of(&issue(&lab.ca), &lab.issuer);
    let err = judge(&body, &id, &lab.issuer, None, now()).expect_err("refused");
    assert_eq!(err, "refused: malformedRequest");
}

#[test]
fn serials_and_times_read_well_in_messages() {
    assert_eq!(serial_text(&[0, 0x80]), "128");
    assert_eq!(serial_text(&[1; 9]), "010101010101010101");
    let t = OffsetDateTime::from_unix_timestamp(1_795_000_000).expect("time");
    assert_eq!(rfc3339(t), "2026-11-18T11:06:40Z");
}
