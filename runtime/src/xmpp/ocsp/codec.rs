//! OCSP messages (RFC 6960 section 4) in DER. The client encodes requests and parses responses,
//! the lab responder parses requests and encodes responses; only the fields either side uses.
//!
//! DER itself is yasna's (rcgen's encoder, already built); this module is the OCSP schema over
//! it. Not x509-ocsp/x509-cert (RustCrypto's `der` family): their builders sign through the
//! RustCrypto `signature` traits and keys, while the lab CA's keys are rcgen/ring keys and the
//! client verifies with rustls's webpki algorithms, so using them would add a second DER
//! stack and a second set of signature crates next to ring for the same messages.

use time::OffsetDateTime;
use yasna::models::{GeneralizedTime, ObjectIdentifier};
use yasna::{ASN1Result, BERReader, BERReaderSeq, DERWriter, Tag};

pub(crate) const SHA1: &[u64] = &[1, 3, 14, 3, 2, 26];
pub(crate) const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const OCSP_BASIC: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 1];
const OCSP_NONCE: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 2];

/// DER that does not parse as the OCSP structure it should be.
#[derive(Debug, thiserror::Error)]
#[error("malformed OCSP {what}: {source}")]
pub(crate) struct CodecError {
    what: &'static str,
    #[source]
    source: yasna::ASN1Error,
}

impl CodecError {
    pub(crate) fn new(what: &'static str, source: yasna::ASN1Error) -> Self {
        Self { what, source }
    }
}

/// SHA-1 or SHA-256 of `data`; `None` for another algorithm.
pub(crate) fn digest(alg: &[u64], data: &[u8]) -> Option<Vec<u8>> {
    let alg = if alg == SHA1 {
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY
    } else if alg == SHA256 {
        &ring::digest::SHA256
    } else {
        return None;
    };
    Some(ring::digest::digest(alg, data).as_ref().to_vec())
}

/// One certificate, named by hashes of its issuer's name and key plus its serial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertId {
    pub(crate) hash: ObjectIdentifier,
    pub(crate) issuer_name_hash: Vec<u8>,
    pub(crate) issuer_key_hash: Vec<u8>,
    /// INTEGER contents (big-endian, two's complement).
    pub(crate) serial: Vec<u8>,
}

impl CertId {
    /// `issuer_name` is the Name's DER, `issuer_key` the subjectPublicKey bits.
    pub(crate) fn new(
        hash: &[u64],
        issuer_name: &[u8],
        issuer_key: &[u8],
        serial: &[u8],
    ) -> Option<CertId> {
        Some(CertId {
            hash: ObjectIdentifier::from_slice(hash),
            issuer_name_hash: digest(hash, issuer_name)?,
            issuer_key_hash: digest(hash, issuer_key)?,
            serial: serial.to_vec(),
        })
    }

    fn write(&self, w: DERWriter<'_>) {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                w.next().write_oid(&self.hash);
                w.next().write_null();
            });
            w.next().write_bytes(&self.issuer_name_hash);
            w.next().write_bytes(&self.issuer_key_hash);
            w.next().write_bigint_bytes(&self.serial, true);
        });
    }

    fn read(r: BERReader<'_, '_>) -> ASN1Result<CertId> {
        r.read_sequence(|r| {
            let hash = r.next().read_sequence(|r| {
                let oid = r.next().read_oid()?;
                r.read_optional(|r| r.read_null())?;
                Ok(oid)
            })?;
            Ok(CertId {
                hash,
                issuer_name_hash: r.next().read_bytes()?,
                issuer_key_hash: r.next().read_bytes()?,
                serial: r.next().read_bigint_bytes()?.0,
            })
        })
    }
}

/// The request: which certificates, and the nonce extension when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OcspRequest {
    pub(crate) ids: Vec<CertId>,
    /// The whole nonce Extension's DER, so a responder can echo it byte for byte (RFC 8954).
    pub(crate) nonce: Option<Vec<u8>>,
}

impl OcspRequest {
    pub(crate) fn encode(&self) -> Vec<u8> {
        yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_sequence_of(|w| {
                        for id in &self.ids {
                            w.next().write_sequence(|w| id.write(w.next()));
                        }
                    });
                    write_extensions(w, 2, self.nonce.as_deref());
                });
            });
        })
    }

    /// Unsigned and signed requests alike (a signature is ignored: the lab answers anyone).
    pub(crate) fn parse(der: &[u8]) -> Result<OcspRequest, CodecError> {
        yasna::parse_der(der, |r| {
            r.read_sequence(|r| {
                let request = r.next().read_sequence(read_tbs_request)?;
                r.read_optional(|r| r.read_der())?;
                Ok(request)
            })
        })
        .map_err(|e| CodecError::new("request", e))
    }
}

fn read_tbs_request(r: &mut BERReaderSeq<'_, '_>) -> ASN1Result<OcspRequest> {
    r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_i64()))?;
    r.read_optional(|r| r.read_tagged(Tag::context(1), |r| r.read_der()))?;
    let mut ids = Vec::new();
    r.next().read_sequence_of(|r| {
        r.read_sequence(|r| {
            ids.push(CertId::read(r.next())?);
            r.read_optional(|r| r.read_der())?; // singleRequestExtensions
            Ok(())
        })
    })?;
    let nonce = read_nonce(r, 2)?;
    Ok(OcspRequest { ids, nonce })
}

/// A nonce Extension carrying `value` (DER of an OCTET STRING inside extnValue, as openssl does).
pub(crate) fn nonce_extension(value: &[u8]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_oid(&ObjectIdentifier::from_slice(OCSP_NONCE));
            w.next()
                .write_bytes(&yasna::construct_der(|w| w.write_bytes(value)));
        });
    })
}

/// `[tag] EXPLICIT Extensions` holding only the nonce, when there is one.
fn write_extensions(w: &mut yasna::DERWriterSeq<'_>, tag: u64, nonce: Option<&[u8]>) {
    if let Some(nonce) = nonce {
        w.next().write_tagged(Tag::context(tag), |w| {
            w.write_sequence(|w| w.next().write_der(nonce));
        });
    }
}

/// The nonce Extension among optional `[tag] EXPLICIT Extensions`, as raw DER.
fn read_nonce(r: &mut BERReaderSeq<'_, '_>, tag: u64) -> ASN1Result<Option<Vec<u8>>> {
    let mut nonce = None;
    r.read_optional(|r| {
        r.read_tagged(Tag::context(tag), |r| {
            r.read_sequence_of(|r| {
                let ext = r.read_der()?;
                let oid = yasna::parse_der(&ext, |r| {
                    r.read_sequence(|r| {
                        let oid = r.next().read_oid()?;
                        r.read_optional(|r| r.read_bool())?;
                        r.next().read_bytes()?;
                        Ok(oid)
                    })
                })?;
                if oid.components().as_slice() == OCSP_NONCE {
                    nonce = Some(ext);
                }
                Ok(())
            })
        })
    })?;
    Ok(nonce)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CertStatus {
    Good,
    Revoked(OffsetDateTime),
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SingleResponse {
    pub(crate) id: CertId,
    pub(crate) status: CertStatus,
    pub(crate) this_update: OffsetDateTime,
    pub(crate) next_update: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ResponderId {
    /// The signer's subject Name, as DER.
    ByName(Vec<u8>),
    /// SHA-1 of the signer's subjectPublicKey bits.
    ByKey(Vec<u8>),
}

/// ResponseData: what the responder signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResponseData {
    pub(crate) responder: ResponderId,
    pub(crate) produced_at: OffsetDateTime,
    pub(crate) responses: Vec<SingleResponse>,
    pub(crate) nonce: Option<Vec<u8>>,
}

impl ResponseData {
    pub(crate) fn encode(&self) -> Vec<u8> {
        yasna::construct_der(|w| {
            w.write_sequence(|w| {
                match &self.responder {
                    ResponderId::ByName(name) => w
                        .next()
                        .write_tagged(Tag::context(1), |w| w.write_der(name)),
                    ResponderId::ByKey(hash) => w
                        .next()
                        .write_tagged(Tag::context(2), |w| w.write_bytes(hash)),
                }
                write_time(w.next(), self.produced_at);
                w.next().write_sequence_of(|w| {
                    for single in &self.responses {
                        w.next().write_sequence(|w| write_single(w, single));
                    }
                });
                write_extensions(w, 1, self.nonce.as_deref());
            });
        })
    }

    fn read(r: &mut BERReaderSeq<'_, '_>) -> ASN1Result<ResponseData> {
        r.read_optional(|r| r.read_tagged(Tag::context(0), |r| r.read_i64()))?;
        let id = r.next().read_tagged_der()?;
        let responder = if id.tag() == Tag::context(1) {
            ResponderId::ByName(id.value().to_vec())
        } else {
            ResponderId::ByKey(yasna::parse_der(id.value(), |r| r.read_bytes())?)
        };
        let produced_at = *r.next().read_generalized_time()?.datetime();
        let mut responses = Vec::new();
        r.next().read_sequence_of(|r| {
            responses.push(r.read_sequence(read_single)?);
            Ok(())
        })?;
        let nonce = read_nonce(r, 1)?;
        Ok(ResponseData {
            responder,
            produced_at,
            responses,
            nonce,
        })
    }
}

fn write_time(w: DERWriter<'_>, t: OffsetDateTime) {
    // Whole seconds: DER times carry no fraction here (as in RFC 5280 certificates).
    let t = t.replace_nanosecond(0).unwrap_or(t);
    w.write_generalized_time(&GeneralizedTime::from_datetime(t));
}

fn write_single(w: &mut yasna::DERWriterSeq<'_>, single: &SingleResponse) {
    single.id.write(w.next());
    match single.status {
        CertStatus::Good => w
            .next()
            .write_tagged_implicit(Tag::context(0), |w| w.write_null()),
        CertStatus::Revoked(at) => w.next().write_tagged_implicit(Tag::context(1), |w| {
            w.write_sequence(|w| write_time(w.next(), at))
        }),
        CertStatus::Unknown => w
            .next()
            .write_tagged_implicit(Tag::context(2), |w| w.write_null()),
    }
    write_time(w.next(), single.this_update);
    if let Some(next) = single.next_update {
        w.next()
            .write_tagged(Tag::context(0), |w| write_time(w, next));
    }
}

fn read_single(r: &mut BERReaderSeq<'_, '_>) -> ASN1Result<SingleResponse> {
    let id = CertId::read(r.next())?;
    let status = r.next().read_tagged_der()?;
    let status = match status.tag().tag_number {
        0 => CertStatus::Good,
        1 => CertStatus::Revoked(revocation_time(status.value())?),
        _ => CertStatus::Unknown,
    };
    let this_update = *r.next().read_generalized_time()?.datetime();
    let next_update = r.read_optional(|r| {
        r.read_tagged(Tag::context(0), |r| {
            Ok(*r.read_generalized_time()?.datetime())
        })
    })?;
    r.read_optional(|r| r.read_der())?; // singleExtensions
    Ok(SingleResponse {
        id,
        status,
        this_update,
        next_update,
    })
}

/// The time in RevokedInfo's contents (IMPLICIT, so no SEQUENCE header; a revocationReason
/// may follow). yasna parses one element per buffer, so the contents are re-wrapped first.
fn revocation_time(contents: &[u8]) -> ASN1Result<OffsetDateTime> {
    let wrapped = yasna::construct_der(|w| w.write_sequence(|w| w.next().write_der(contents)));
    yasna::parse_der(&wrapped, |r| {
        r.read_sequence(|r| {
            let at = *r.next().read_generalized_time()?.datetime();
            r.read_optional(|r| r.read_der())?;
            Ok(at)
        })
    })
}

/// A BasicOCSPResponse: the signed data, its raw DER (what the signature covers), the
/// signature and the certificates the responder sent along.
#[derive(Clone, Debug)]
pub(crate) struct BasicResponse {
    pub(crate) tbs: Vec<u8>,
    pub(crate) data: ResponseData,
    pub(crate) signature_alg: Vec<u8>,
    pub(crate) signature: Vec<u8>,
    pub(crate) certs: Vec<Vec<u8>>,
}

/// An OCSPResponse: a basic response, or the responder's refusal status (RFC 6960 4.2.1).
#[derive(Clone, Debug)]
pub(crate) enum OcspResponse {
    Basic(Box<BasicResponse>),
    Refused(i64),
}

/// The words of RFC 6960 for a refusal status.
pub(crate) fn refusal_name(status: i64) -> &'static str {
    match status {
        1 => "malformedRequest",
        2 => "internalError",
        3 => "tryLater",
        5 => "sigRequired",
        6 => "unauthorized",
        _ => "an unknown status",
    }
}

impl OcspResponse {
    pub(crate) fn parse(der: &[u8]) -> Result<OcspResponse, CodecError> {
        yasna::parse_der(der, |r| {
            r.read_sequence(|r| {
                let status = r.next().read_enum()?;
                let bytes = r.read_optional(|r| {
                    r.read_tagged(Tag::context(0), |r| {
                        r.read_sequence(|r| {
                            let kind = r.next().read_oid()?;
                            Ok((kind, r.next().read_bytes()?))
                        })
                    })
                })?;
                match bytes {
                    Some((kind, body))
                        if status == 0 && kind.components().as_slice() == OCSP_BASIC =>
                    {
                        Ok(OcspResponse::Basic(Box::new(yasna::parse_der(
                            &body, read_basic,
                        )?)))
                    }
                    _ if status == 0 => Err(yasna::ASN1Error::new(yasna::ASN1ErrorKind::Invalid)),
                    _ => Ok(OcspResponse::Refused(status)),
                }
            })
        })
        .map_err(|e| CodecError::new("response", e))
    }

    /// A successful response around a signed ResponseData.
    pub(crate) fn encode_basic(
        tbs: &[u8],
        signature_alg: &[u8],
        signature: &[u8],
        certs: &[&[u8]],
    ) -> Vec<u8> {
        let basic = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_der(tbs);
                w.next().write_der(signature_alg);
                w.next().write_bitvec_bytes(signature, signature.len() * 8);
                if !certs.is_empty() {
                    w.next().write_tagged(Tag::context(0), |w| {
                        w.write_sequence_of(|w| {
                            for cert in certs {
                                w.next().write_der(cert);
                            }
                        });
                    });
                }
            });
        });
        yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_enum(0);
                w.next().write_tagged(Tag::context(0), |w| {
                    w.write_sequence(|w| {
                        w.next()
                            .write_oid(&ObjectIdentifier::from_slice(OCSP_BASIC));
                        w.next().write_bytes(&basic);
                    });
                });
            });
        })
    }

    /// A response that only carries a refusal status (no responseBytes).
    pub(crate) fn encode_refusal(status: i64) -> Vec<u8> {
        yasna::construct_der(|w| w.write_sequence(|w| w.next().write_enum(status)))
    }
}

fn read_basic(r: BERReader<'_, '_>) -> ASN1Result<BasicResponse> {
    r.read_sequence(|r| {
        let tbs = r.next().read_der()?;
        let data = yasna::parse_der(&tbs, |r| r.read_sequence(ResponseData::read))?;
        let signature_alg = r.next().read_der()?;
        let (signature, _) = r.next().read_bitvec_bytes()?;
        let mut certs = Vec::new();
        r.read_optional(|r| {
            r.read_tagged(Tag::context(0), |r| {
                r.read_sequence_of(|r| {
                    certs.push(r.read_der()?);
                    Ok(())
                })
            })
        })?;
        Ok(BasicResponse {
            tbs,
            data,
            signature_alg,
            signature,
            certs,
        })
    })
}

#[cfg(test)]
mod tests;
