//! Round trips of the OCSP messages through their encoders and parsers.

use super::*;

/// `serial` as INTEGER contents (a leading zero keeps 128 and up positive).
fn id(serial: u8) -> CertId {
    CertId::new(
        SHA1,
        b"name",
        b"key",
        &[0, serial][usize::from(serial < 0x80)..],
    )
    .expect("sha1")
}

#[test]
fn request_round_trips_with_and_without_nonce() {
    let plain = OcspRequest {
        ids: vec![id(7), id(9)],
        nonce: None,
    };
    assert_eq!(OcspRequest::parse(&plain.encode()).expect("parse"), plain);
    let nonced = OcspRequest {
        ids: vec![id(0x80)],
        nonce: Some(nonce_extension(&[1, 2, 3])),
    };
    let parsed = OcspRequest::parse(&nonced.encode()).expect("parse");
    assert_eq!(parsed, nonced);
    assert_eq!(parsed.ids[0].serial, vec![0, 0x80]);
    assert_eq!(parsed.ids[0].issuer_name_hash.len(), 20);
}

#[test]
fn response_round_trips_every_status() {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 ns");
    let data = ResponseData {
        responder: ResponderId::ByName(vec![0x30, 0]),
        produced_at: now,
        responses: vec![
            SingleResponse {
                id: id(2),
                status: CertStatus::Good,
                this_update: now,
                next_update: Some(now + time::Duration::minutes(10)),
            },
            SingleResponse {
                id: id(3),
                status: CertStatus::Revoked(now - time::Duration::hours(1)),
                this_update: now,
                next_update: None,
            },
            SingleResponse {
                id: id(4),
                status: CertStatus::Unknown,
                this_update: now,
                next_update: None,
            },
        ],
        nonce: Some(nonce_extension(b"n")),
    };
    let tbs = data.encode();
    let alg = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_oid(&ObjectIdentifier::from_slice(&[1, 2, 840, 10045, 4, 3, 2]));
        });
    });
    let der = OcspResponse::encode_basic(&tbs, &alg, b"sig", &[b"\x30\x00"]);
    let OcspResponse::Basic(basic) = OcspResponse::parse(&der).expect("parse") else {
        panic!("not a basic response");
    };
    assert_eq!(basic.data, data);
    assert_eq!(basic.tbs, tbs);
    assert_eq!(basic.signature, b"sig");
    assert_eq!(basic.certs, vec![b"\x30\x00".to_vec()]);
    let refused = OcspResponse::parse(&OcspResponse::encode_refusal(6)).expect("parse");
    assert!(matches!(refused, OcspResponse::Refused(6)));
}
